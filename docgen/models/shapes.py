"""Output-shape and MAC rules of tensor operations, in one table keyed by ATen operator name.

`SHAPE_RULES["aten::conv2d"]` says what shape `torch.conv2d(input, weight, ...)` returns and
how many multiply-accumulates it performs. Arguments arrive as the Python call passed them
(positional or keyword, in the order of the ATen schema). Convolutions, linear layers, matrix
products and attention count MACs (the convention of torchvision's `_ops` figures, which
torch.utils.flop_counter gives); every other op counts zero.
A rule that cannot derive a shape raises CannotEvaluate with the reason: never a guess.
Nothing here knows about layers or source code.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from docgen.models.valued import KnownValues
from docgen.models.values import CannotEvaluate, InputRejected, SymTensor, Unknown

Args = tuple[Any, ...]
Kwargs = dict[str, Any]
RuleResult = tuple[Any, int]


@dataclass(frozen=True)
class ShapeRule:
    """One operator: its shape function, the parameter names of its schema, and a note."""

    apply: Callable[[dict[str, Any]], RuleResult]
    params: tuple[str, ...]
    doc: str


def _bind(rule: ShapeRule, op: str, args: Args, kwargs: Kwargs) -> dict[str, Any]:
    names = rule.params
    bound: dict[str, Any] = {}
    if names and names[-1].startswith("*"):
        star = names[-1][1:]
        fixed = names[:-1]
        bound.update(zip(fixed, args[:len(fixed)], strict=False))
        bound[star] = tuple(args[len(fixed):])
    else:
        if len(args) > len(names):
            raise CannotEvaluate(f"{op}: {len(args)} arguments, schema has {len(names)}")
        bound.update(zip(names, args, strict=False))
    for key, value in kwargs.items():
        if key in names:
            bound[key] = value
    return bound


def apply_op(op: str, args: Args, kwargs: Kwargs) -> RuleResult:
    """(result, MACs) of calling ATen operator `op`; CannotEvaluate when no rule applies."""
    rule = SHAPE_RULES.get(op)
    if rule is None and op.endswith("_") and not op.endswith("__"):
        rule = SHAPE_RULES.get(op[:-1])  # in-place variant: same shape as its functional op
    if rule is None:
        raise CannotEvaluate(f"no shape rule for {op}")
    try:
        return rule.apply(_bind(rule, op, args, kwargs))
    except (TypeError, ValueError, IndexError, KeyError, AttributeError) as exc:
        raise CannotEvaluate(f"{op}: arguments not understood: {exc}") from exc


def _tensor(value: Any, what: str) -> SymTensor:
    if isinstance(value, Unknown):
        raise CannotEvaluate(f"{what} is unknown", cause=value)
    if isinstance(value, KnownValues):  # torch.linspace(...): a 1-d tensor of known values
        return SymTensor((len(value),), values=list(value))
    if not isinstance(value, SymTensor):
        raise CannotEvaluate(f"{what} is not a tensor of known shape: {value!r}")
    return value


def _ints(value: Any, n: int, what: str) -> tuple[int, ...]:
    """An int or a sequence of ints, broadcast to n (PyTorch's _single/_pair/_triple)."""
    if isinstance(value, bool) or value is None:
        raise CannotEvaluate(f"{what} is {value!r}, not a size")
    if isinstance(value, int):
        return (value,) * n
    if isinstance(value, Sequence) and all(isinstance(v, int) for v in value):
        items = tuple(value)
        if len(items) == 1:
            return items * n
        if len(items) == n:
            return items
    raise CannotEvaluate(f"{what} = {value!r} is not {n} integer(s)")


def _dim(dim: int, ndim: int) -> int:
    return dim + ndim if dim < 0 else dim


def _numel(shape: Sequence[int]) -> int:
    return math.prod(shape)


def _conv(transposed: bool) -> Callable[[dict[str, Any]], RuleResult]:
    def rule(a: dict[str, Any]) -> RuleResult:
        x = _tensor(a["input"], "input")
        w = _tensor(a["weight"], "weight")
        n = len(w.shape) - 2
        if len(x.shape) not in (n + 1, n + 2):
            raise InputRejected(f"input of rank {len(x.shape)} for a {n}-d convolution")
        stride = _ints(a.get("stride", 1), n, "stride")
        dilation = _ints(a.get("dilation", 1), n, "dilation")
        groups = a.get("groups", 1)
        kernel = w.shape[2:]
        expected = w.shape[0] if transposed else w.shape[1] * groups
        if (len(x.shape) == n + 2 and x.shape[1] != expected) or \
                (len(x.shape) == n + 1 and x.shape[0] != expected):
            raise InputRejected(f"input of shape {x.shape} has {x.shape[-n - 1]} channels; "
                                 f"the convolution expects {expected}")
        spatial = x.shape[-n:]
        padding = a.get("padding", 0)
        if padding == "same":
            out = tuple(spatial)
        else:
            pad = (0,) * n if padding == "valid" else _ints(padding, n, "padding")
            if transposed:
                extra = _ints(a.get("output_padding", 0), n, "output_padding")
                out = tuple((size - 1) * s - 2 * p + d * (k - 1) + e + 1 for size, s, p, d, k, e
                            in zip(spatial, stride, pad, dilation, kernel, extra, strict=True))
            else:
                out = tuple((size + 2 * p - d * (k - 1) - 1) // s + 1 for size, s, p, d, k
                            in zip(spatial, stride, pad, dilation, kernel, strict=True))
        channels = w.shape[1] * groups if transposed else w.shape[0]
        shape = (*x.shape[:-n - 1], channels, *out)
        if any(d <= 0 for d in out):
            raise InputRejected(f"convolution output would be empty: {shape}")
        # Each output element of a direct convolution sums (C_in/groups) * prod(kernel)
        # products; a transposed one scatters each input element over the same count.
        if transposed:
            macs = _numel(x.shape) * w.shape[1] * _numel(kernel)
        else:
            macs = _numel(shape) * w.shape[1] * _numel(kernel)
        return SymTensor(shape), macs
    return rule


def _linear(a: dict[str, Any]) -> RuleResult:
    x = _tensor(a["input"], "input")
    w = _tensor(a["weight"], "weight")
    if len(w.shape) != 2 or not x.shape or x.shape[-1] != w.shape[1]:
        raise InputRejected(f"linear: input {x.shape} does not match weight {w.shape}")
    shape = (*x.shape[:-1], w.shape[0])
    return SymTensor(shape), _numel(shape) * w.shape[1]


def _pool(n: int, has_dilation: bool) -> Callable[[dict[str, Any]], RuleResult]:
    def rule(a: dict[str, Any]) -> RuleResult:
        x = _tensor(a["input"], "input")
        kernel = _ints(a["kernel_size"], n, "kernel_size")
        stride_arg = a.get("stride")
        stride = kernel if stride_arg in (None, [], ()) else _ints(stride_arg, n, "stride")
        pad = _ints(a.get("padding", 0), n, "padding")
        dilation = _ints(a.get("dilation", 1), n, "dilation") if has_dilation else (1,) * n
        ceil_mode = bool(a.get("ceil_mode", False))
        out = tuple(_pool_size(size, k, s, p, d, ceil_mode) for size, k, s, p, d
                    in zip(x.shape[-n:], kernel, stride, pad, dilation, strict=True))
        return SymTensor((*x.shape[:-n], *out)), 0
    return rule


def _pool_size(size: int, k: int, s: int, p: int, d: int, ceil_mode: bool) -> int:
    span = size + 2 * p - d * (k - 1) - 1
    out = (span + (s - 1 if ceil_mode else 0)) // s + 1
    # PyTorch drops a last window that would start inside the right padding.
    if ceil_mode and (out - 1) * s >= size + p:
        out -= 1
    if out <= 0:
        raise InputRejected(f"pooling output would be empty (input {size}, kernel {k})")
    return out


def _with_indices(rule: Callable[[dict[str, Any]], RuleResult]
                  ) -> Callable[[dict[str, Any]], RuleResult]:
    def wrapped(a: dict[str, Any]) -> RuleResult:
        out, macs = rule(a)
        return (out, SymTensor(out.shape)), macs
    return wrapped


def _adaptive(n: int) -> Callable[[dict[str, Any]], RuleResult]:
    def rule(a: dict[str, Any]) -> RuleResult:
        x = _tensor(a["input"], "input")
        size = a["output_size"]
        items = (size,) * n if isinstance(size, int) else tuple(size)
        if len(items) == 1:
            items = items * n
        if len(items) != n:
            raise CannotEvaluate(f"output_size {size!r} is not {n} sizes")
        out = tuple(x.shape[len(x.shape) - n + i] if v is None else v
                    for i, v in enumerate(items))
        if not all(isinstance(v, int) for v in out):
            raise CannotEvaluate(f"output_size {size!r} is not integers")
        return SymTensor((*x.shape[:-n], *out)), 0
    return rule


def _same(a: dict[str, Any]) -> RuleResult:
    return SymTensor(_tensor(a["input"], "input").shape), 0


def _broadcast(a: dict[str, Any]) -> RuleResult:
    shapes = [v.shape for v in (a.get("input"), a.get("other")) if isinstance(v, SymTensor)]
    if not shapes:
        raise CannotEvaluate("no tensor operand")
    for v in (a.get("input"), a.get("other")):
        if isinstance(v, Unknown):
            raise CannotEvaluate("operand is unknown", cause=v)
        if not isinstance(v, (SymTensor, int, float, bool)):
            raise CannotEvaluate(f"operand is not a tensor or a number: {v!r}")
    return SymTensor(broadcast_shapes(shapes)), 0


def broadcast_shapes(shapes: Sequence[tuple[int, ...]]) -> tuple[int, ...]:
    rank = max(len(s) for s in shapes)
    out = []
    for i in range(rank):
        dims = {s[i - rank + len(s)] for s in shapes if i - rank + len(s) >= 0} - {1}
        if len(dims) > 1:
            raise InputRejected(f"shapes {list(shapes)} do not broadcast")
        out.append(dims.pop() if dims else 1)
    return tuple(out)


def _flatten(a: dict[str, Any]) -> RuleResult:
    x = _tensor(a["input"], "input")
    rank = len(x.shape)
    if rank == 0:
        return SymTensor((1,)), 0
    start, end = _dim(a.get("start_dim", 0), rank), _dim(a.get("end_dim", -1), rank)
    if not 0 <= start <= end < rank:
        raise CannotEvaluate(f"flatten dims {start}..{end} out of range for rank {rank}")
    merged = _numel(x.shape[start:end + 1])
    return SymTensor((*x.shape[:start], merged, *x.shape[end + 1:])), 0


def _cat(a: dict[str, Any]) -> RuleResult:
    tensors = [_tensor(t, "tensors[i]") for t in a["tensors"]]
    if not tensors:
        raise CannotEvaluate("cat of no tensors")
    rank = len(tensors[0].shape)
    dim = _dim(a.get("dim", 0), rank)
    shape = list(tensors[0].shape)
    for t in tensors[1:]:
        if len(t.shape) != rank or any(i != dim and t.shape[i] != shape[i]
                                       for i in range(rank)):
            raise InputRejected(f"cat of shapes {[t.shape for t in tensors]} along {dim}")
        shape[dim] += t.shape[dim]
    return SymTensor(tuple(shape)), 0


def _varargs(values: Any) -> Any:
    """`x.view(2, 3)` and `x.view((2, 3))` alike: a single tuple or list argument unpacked."""
    if len(values) == 1 and isinstance(values[0], (tuple, list)):
        return tuple(values[0])
    return values


def _view(a: dict[str, Any]) -> RuleResult:
    x = _tensor(a["input"], "input")
    sizes = _varargs(a["size"])
    if not all(isinstance(s, int) for s in sizes) or list(sizes).count(-1) > 1:
        raise CannotEvaluate(f"view/reshape sizes {sizes!r} are not integers")
    known = _numel([s for s in sizes if s != -1])
    total = _numel(x.shape)
    shape = tuple(total // known if s == -1 else s for s in sizes)
    if _numel(shape) != total:
        raise InputRejected(f"cannot view {x.shape} as {sizes}")
    return SymTensor(shape), 0


def _reduce(a: dict[str, Any]) -> RuleResult:
    x = _tensor(a["input"], "input")
    dims = a.get("dim")
    keep = bool(a.get("keepdim", False))
    rank = len(x.shape)
    chosen = set(range(rank)) if dims is None else {
        _dim(d, rank) for d in ((dims,) if isinstance(dims, int) else dims)}
    shape = tuple(1 if i in chosen else s for i, s in enumerate(x.shape) if keep or i not in chosen)
    return SymTensor(shape), 0


def _max_min(a: dict[str, Any]) -> RuleResult:
    """`x.max()` (all elements), `x.max(dim)` (values and indices) or `x.max(other)`."""
    other = a.get("dim")
    if isinstance(other, SymTensor):
        return _broadcast({"input": a["input"], "other": other})
    reduced, _ = _reduce(a)
    if other is None:
        return reduced, 0
    return (reduced, SymTensor(reduced.shape, requires_grad=False)), 0


def _transpose(a: dict[str, Any]) -> RuleResult:
    x = _tensor(a["input"], "input")
    shape = list(x.shape)
    i, j = _dim(a["dim0"], len(shape)), _dim(a["dim1"], len(shape))
    shape[i], shape[j] = shape[j], shape[i]
    return SymTensor(tuple(shape)), 0


def _permute(a: dict[str, Any]) -> RuleResult:
    x = _tensor(a["input"], "input")
    dims = _varargs(a["dims"])
    return SymTensor(tuple(x.shape[_dim(d, len(x.shape))] for d in dims)), 0


def _unsqueeze(a: dict[str, Any]) -> RuleResult:
    x = _tensor(a["input"], "input")
    shape = list(x.shape)
    shape.insert(_dim(a["dim"], len(shape) + 1), 1)
    return SymTensor(tuple(shape)), 0


def _squeeze(a: dict[str, Any]) -> RuleResult:
    x = _tensor(a["input"], "input")
    dim = a.get("dim")
    if dim is None:
        return SymTensor(tuple(s for s in x.shape if s != 1)), 0
    i = _dim(dim, len(x.shape))
    return SymTensor(tuple(s for k, s in enumerate(x.shape) if k != i or s != 1)), 0


def _pad(a: dict[str, Any]) -> RuleResult:
    x = _tensor(a["input"], "input")
    pad = list(a["pad"])
    shape = list(x.shape)
    for k in range(len(pad) // 2):
        shape[-1 - k] += pad[2 * k] + pad[2 * k + 1]
    return SymTensor(tuple(shape)), 0


def _chunk(a: dict[str, Any]) -> RuleResult:
    x = _tensor(a["input"], "input")
    dim = _dim(a.get("dim", 0), len(x.shape))
    size = x.shape[dim]
    step = -(-size // a["chunks"])
    return _pieces(x, dim, [min(step, size - start) for start in range(0, size, step)])


def _split(a: dict[str, Any]) -> RuleResult:
    x = _tensor(a["input"], "input")
    dim = _dim(a.get("dim", 0), len(x.shape))
    size, sizes = x.shape[dim], a["split_size"]
    if isinstance(sizes, int):
        sizes = [min(sizes, size - start) for start in range(0, size, sizes)]
    if sum(sizes) != size:
        raise CannotEvaluate(f"split sizes {sizes} do not add up to {size}")
    return _pieces(x, dim, list(sizes))


def _stack(a: dict[str, Any]) -> RuleResult:
    tensors = [_tensor(t, "tensors[i]") for t in a["tensors"]]
    if not tensors or any(t.shape != tensors[0].shape for t in tensors):
        raise CannotEvaluate(f"stack of shapes {[t.shape for t in tensors]}")
    rank = len(tensors[0].shape) + 1
    dim = _dim(a.get("dim", 0), rank)
    shape = list(tensors[0].shape)
    shape.insert(dim, len(tensors))
    return SymTensor(tuple(shape)), 0


def _tensor_split(a: dict[str, Any]) -> RuleResult:
    x = _tensor(a["input"], "input")
    dim = _dim(a.get("dim", 0), len(x.shape))
    spec = next((a[k] for k in ("indices_or_sections", "sections", "indices") if k in a), None)
    if spec is None:
        raise CannotEvaluate("tensor_split without sections or indices")
    size = x.shape[dim]
    if isinstance(spec, int) and not isinstance(spec, bool):
        # torch.tensor_split: the first size % n pieces get one element more
        base, extra = divmod(size, spec)
        return _pieces(x, dim, [base + (1 if i < extra else 0) for i in range(spec)])
    bounds = [0, *(min(max(int(i), 0), size) for i in spec), size]
    return _pieces(x, dim, [max(b - a_, 0) for a_, b in itertools.pairwise(bounds)])


def _meshgrid(a: dict[str, Any]) -> RuleResult:
    tensors = a["tensors"]
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tensors[0]
    sizes = tuple(_numel(_tensor(t, "tensors[i]").shape) for t in tensors)
    if a.get("indexing") == "xy" and len(sizes) >= 2:
        sizes = (sizes[1], sizes[0], *sizes[2:])
    return tuple(SymTensor(sizes) for _ in tensors), 0


def _new_factory(a: dict[str, Any]) -> RuleResult:
    _tensor(a["input"], "input")
    size = _varargs(a["size"])
    if not all(isinstance(s, int) and not isinstance(s, bool) for s in size):
        raise CannotEvaluate(f"size {size!r} is not integers")
    return SymTensor(tuple(size)), 0


def _new_full(a: dict[str, Any]) -> RuleResult:
    _tensor(a["input"], "input")
    size = _varargs((a["size"],))
    if not all(isinstance(v, int) and not isinstance(v, bool) for v in size):
        raise CannotEvaluate(f"size {size!r} is not integers")
    return SymTensor(tuple(size)), 0


def _expand_as(a: dict[str, Any]) -> RuleResult:
    _tensor(a["input"], "input")
    return SymTensor(_tensor(a["other"], "other").shape), 0


def _einsum(a: dict[str, Any]) -> RuleResult:
    """Explicit `->` equations without ellipsis; a two-operand contraction multiplies over
    every index once (as torch.utils.flop_counter counts the bmm it becomes)."""
    equation = str(a["equation"]).replace(" ", "")
    operands = a["tensors"]
    if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        operands = operands[0]
    tensors = [_tensor(t, "operand") for t in operands]
    inputs, arrow, output = equation.partition("->")
    terms = inputs.split(",")
    if not arrow or "." in equation or len(terms) != len(tensors):
        raise CannotEvaluate(f"einsum {equation!r} is not modelled (explicit output only)")
    sizes: dict[str, int] = {}
    for term, t in zip(terms, tensors, strict=True):
        if len(term) != len(t.shape):
            raise CannotEvaluate(f"einsum {equation!r}: {term} does not fit shape {t.shape}")
        for index, size in zip(term, t.shape, strict=True):
            if sizes.setdefault(index, size) != size and 1 not in (size, sizes[index]):
                raise CannotEvaluate(f"einsum {equation!r}: {index} is {sizes[index]} and {size}")
            sizes[index] = max(sizes[index], size)
    shape = tuple(sizes[i] for i in output)
    return SymTensor(shape), _numel(tuple(sizes.values())) if len(tensors) == 2 else 0


def _unbind(a: dict[str, Any]) -> RuleResult:
    x = _tensor(a["input"], "input")
    dim = _dim(a.get("dim", 0), len(x.shape))
    rest = (*x.shape[:dim], *x.shape[dim + 1:])
    return tuple(SymTensor(rest) for _ in range(x.shape[dim])), 0


def _upsample(n: int) -> Callable[[dict[str, Any]], RuleResult]:
    def rule(a: dict[str, Any]) -> RuleResult:
        x = _tensor(a["input"], "input")
        size, scales = a.get("output_size"), a.get("scale_factors")
        if size is not None:
            out = _ints(size, n, "output_size")
        elif scales is not None:
            factors = (scales,) * n if isinstance(scales, (int, float)) else tuple(scales)
            out = tuple(math.floor(s * f) for s, f in zip(x.shape[-n:], factors, strict=True))
        else:
            raise CannotEvaluate("upsampling with neither a size nor a scale")
        return SymTensor((*x.shape[:-n], *out)), 0
    return rule


def _addcmul(a: dict[str, Any]) -> RuleResult:
    shapes = [_tensor(a[k], k).shape for k in ("input", "tensor1", "tensor2")]
    return SymTensor(broadcast_shapes(shapes)), 0


def _pieces(x: SymTensor, dim: int, sizes: list[int]) -> RuleResult:
    return tuple(SymTensor((*x.shape[:dim], n, *x.shape[dim + 1:])) for n in sizes), 0


def _expand(a: dict[str, Any]) -> RuleResult:
    x = _tensor(a["input"], "input")
    sizes = _varargs(a["size"])
    lead = len(sizes) - len(x.shape)
    if lead < 0 or not all(isinstance(v, int) for v in sizes):
        raise CannotEvaluate(f"expand of {x.shape} to {sizes!r}")
    return SymTensor(tuple(x.shape[i - lead] if v == -1 else v
                           for i, v in enumerate(sizes))), 0


def _unflatten(a: dict[str, Any]) -> RuleResult:
    x = _tensor(a["input"], "input")
    dim = _dim(a["dim"], len(x.shape))
    sizes = list(a["sizes"])
    if sizes.count(-1) == 1:
        sizes[sizes.index(-1)] = x.shape[dim] // -_numel(sizes)
    if _numel(sizes) != x.shape[dim]:
        raise CannotEvaluate(f"unflatten {x.shape[dim]} into {a['sizes']!r}")
    return SymTensor((*x.shape[:dim], *sizes, *x.shape[dim + 1:])), 0


def _matmul(a: dict[str, Any]) -> RuleResult:
    x, y = _tensor(a["input"], "input"), _tensor(a["other"], "other")
    x_shape = x.shape if len(x.shape) > 1 else (1, *x.shape)
    y_shape = y.shape if len(y.shape) > 1 else (*y.shape, 1)
    if not x.shape or not y.shape or x_shape[-1] != y_shape[-2]:
        raise InputRejected(f"matmul of {x.shape} and {y.shape}")
    batch = broadcast_shapes([x_shape[:-2], y_shape[:-2]])
    shape = (*batch, x_shape[-2], y_shape[-1])
    macs = _numel(shape) * x_shape[-1]
    # A 1-d operand's added dimension is removed again, as torch.matmul does.
    out = shape[:-2] + (shape[-2:-1] if len(x.shape) > 1 else ()) \
        + (shape[-1:] if len(y.shape) > 1 else ())
    return SymTensor(out), macs


def _baddbmm(a: dict[str, Any]) -> RuleResult:
    return _matmul({"input": a["batch1"], "other": a["batch2"]})


def _addmm(a: dict[str, Any]) -> RuleResult:
    return _matmul({"input": a["mat1"], "other": a["mat2"]})


def _attention(a: dict[str, Any]) -> RuleResult:
    q, k = _tensor(a["query"], "query"), _tensor(a["key"], "key")
    v = _tensor(a["value"], "value")
    if len(q.shape) < 2 or len(k.shape) < 2 or q.shape[-1] != k.shape[-1] \
            or k.shape[-2] != v.shape[-2]:
        raise CannotEvaluate(f"attention over query {q.shape}, key {k.shape}, value {v.shape}")
    out = (*broadcast_shapes([q.shape[:-2], v.shape[:-2]]), q.shape[-2], v.shape[-1])
    # Two batched products: q @ k^T (L x S, summing E) and softmax(...) @ v (L x Ev, summing S).
    rows = _numel(out[:-1])
    return SymTensor(out), rows * k.shape[-2] * (q.shape[-1] + v.shape[-1])


def _repeat(a: dict[str, Any]) -> RuleResult:
    """`x.repeat(2, 1, 1)`: each dim times its count; leading counts add dims."""
    x = _tensor(a["input"], "input")
    counts = _varargs(a["repeats"])
    if not all(isinstance(c, int) and not isinstance(c, bool) for c in counts) \
            or len(counts) < len(x.shape):
        raise CannotEvaluate(f"repeat {counts!r} of shape {x.shape}")
    shape = (1,) * (len(counts) - len(x.shape)) + x.shape
    return SymTensor(tuple(s * c for s, c in zip(shape, counts, strict=True))), 0


def _repeat_interleave(a: dict[str, Any]) -> RuleResult:
    """Each element repeated `repeats` times along dim (flattened when dim is None)."""
    x = _tensor(a["input"], "input")
    repeats, dim = a.get("repeats"), a.get("dim")
    length = x.numel() if dim is None else x.shape[_dim(dim, len(x.shape))]
    if isinstance(repeats, SymTensor):
        if repeats.values is None:
            raise CannotEvaluate("repeat_interleave by a tensor of unknown values")
        total = int(sum(repeats.values)) if len(repeats.values) > 1 \
            else int(repeats.values[0]) * length
    elif isinstance(repeats, int) and not isinstance(repeats, bool):
        total = repeats * length
    else:
        raise CannotEvaluate(f"repeat_interleave by {repeats!r}")
    if dim is None:
        return SymTensor((total,)), 0
    shape = list(x.shape)
    shape[_dim(dim, len(shape))] = total
    return SymTensor(tuple(shape)), 0


def _grid_sampler(a: dict[str, Any]) -> RuleResult:
    """(N, C, *in) sampled at a grid (N, *out, n): (N, C, *out)."""
    x, grid = _tensor(a["input"], "input"), _tensor(a["grid"], "grid")
    n = len(x.shape) - 2
    if n not in (2, 3) or len(grid.shape) != n + 2 or grid.shape[-1] != n \
            or grid.shape[0] != x.shape[0]:
        raise CannotEvaluate(f"grid_sampler of input {x.shape} at a grid {grid.shape}")
    return SymTensor((*x.shape[:2], *grid.shape[1:-1])), 0


def _im2col(a: dict[str, Any]) -> RuleResult:
    """F.unfold: (N, C, H, W) -> (N, C * kh * kw, L), L the number of sliding blocks."""
    x = _tensor(a["input"], "input")
    kernel = _ints(a["kernel_size"], 2, "kernel_size")
    dilation = _ints(a["dilation"], 2, "dilation")
    pad = _ints(a["padding"], 2, "padding")
    stride = _ints(a["stride"], 2, "stride")
    if len(x.shape) not in (3, 4):
        raise CannotEvaluate(f"im2col of a rank-{len(x.shape)} input")
    blocks = 1
    for size, k, d, p, s in zip(x.shape[-2:], kernel, dilation, pad, stride, strict=True):
        count = (size + 2 * p - d * (k - 1) - 1) // s + 1
        if count <= 0:
            raise CannotEvaluate(f"im2col: no block fits in {x.shape}")
        blocks *= count
    return SymTensor((*x.shape[:-3], x.shape[-3] * _numel(kernel), blocks)), 0


def _unfold(a: dict[str, Any]) -> RuleResult:
    """`x.unfold(dim, size, step)`: dim becomes the number of windows, a last dim of size."""
    x = _tensor(a["input"], "input")
    dim = _dim(a["dimension"], len(x.shape))
    size, step = a["size"], a["step"]
    windows = (x.shape[dim] - size) // step + 1
    if windows <= 0 or step <= 0:
        raise CannotEvaluate(f"unfold of size {size} along a dim of {x.shape[dim]}")
    shape = list(x.shape)
    shape[dim] = windows
    return SymTensor((*shape, size)), 0


def _col2im(a: dict[str, Any]) -> RuleResult:
    """F.fold: (N, C * kh * kw, L) -> (N, C, *output_size); L must match the block count."""
    x = _tensor(a["input"], "input")
    out = _ints(a["output_size"], 2, "output_size")
    kernel = _ints(a["kernel_size"], 2, "kernel_size")
    dilation = _ints(a["dilation"], 2, "dilation")
    pad = _ints(a["padding"], 2, "padding")
    stride = _ints(a["stride"], 2, "stride")
    blocks = 1
    for size, k, d, p, s in zip(out, kernel, dilation, pad, stride, strict=True):
        blocks *= (size + 2 * p - d * (k - 1) - 1) // s + 1
    cells = _numel(kernel)
    if len(x.shape) not in (2, 3) or x.shape[-2] % cells or x.shape[-1] != blocks:
        raise CannotEvaluate(f"col2im of {x.shape} into {out} with kernel {kernel}")
    return SymTensor((*x.shape[:-2], x.shape[-2] // cells, *out)), 0


def _recurrent(gates: int, cell_state: bool) -> Callable[[dict[str, Any]], RuleResult]:
    """`_VF.lstm / gru / rnn_tanh(input, hx, flat_weights, ...)`: (output, h_n[, c_n]). The
    hidden size comes from weight_ih_l0 (gates * hidden rows), the output size from
    weight_hh_l0's columns (the projection size when there is one). flop_counter counts none
    of these operators' products, so neither does docgen (the convention of `_ops`)."""
    def rule(a: dict[str, Any]) -> RuleResult:
        x = _tensor(a["input"], "input")
        weights = [_tensor(w, "weight") for w in a["params"]]
        layers, bidirectional = a["num_layers"], bool(a["bidirectional"])
        if not weights or len(weights[0].shape) != 2 or len(weights[1].shape) != 2 \
                or len(x.shape) not in (2, 3) or x.shape[-1] != weights[0].shape[1]:
            raise CannotEvaluate(f"recurrent layer over {x.shape} with weights "
                                 f"{[w.shape for w in weights[:2]]}")
        hidden, out = weights[0].shape[0] // gates, weights[1].shape[1]
        directions = 2 if bidirectional else 1
        if len(x.shape) == 2:
            seq_first: tuple[int, ...] = (x.shape[0],)
            states: tuple[int, ...] = (directions * layers,)
            batch: tuple[int, ...] = ()
        else:
            first = not a.get("batch_first", False)
            length, n = (x.shape[0], x.shape[1]) if first else (x.shape[1], x.shape[0])
            seq_first = (length, n) if first else (n, length)
            states, batch = (directions * layers, n), (n,)
        output = SymTensor((*seq_first, directions * out))
        h_n = SymTensor((*states[:1], *batch, out))
        if cell_state:
            return (output, h_n, SymTensor((*states[:1], *batch, hidden))), 0
        return (output, h_n), 0
    return rule


_RNN_PARAMS = ("input", "hx", "params", "has_biases", "num_layers", "dropout", "train",
               "bidirectional", "batch_first")


def _flag(value: bool) -> Callable[[dict[str, Any]], RuleResult]:
    """A layout or dtype predicate of a symbolic tensor: dense, contiguous, float32 (the
    same stated assumption as the tensor flags the evaluator answers)."""
    def rule(a: dict[str, Any]) -> RuleResult:
        _tensor(a["input"], "input")
        return value, 0
    return rule


_UNARY = ("input",)
_ELEMENTWISE = (
    "relu", "relu6", "sigmoid", "tanh", "gelu", "silu", "mish", "elu", "selu", "celu",
    "leaky_relu", "hardtanh", "hardswish", "hardsigmoid", "softplus", "softmax", "log_softmax",
    "dropout", "feature_dropout", "alpha_dropout", "feature_alpha_dropout", "batch_norm",
    "instance_norm", "layer_norm", "group_norm", "clone", "contiguous", "neg", "abs", "exp",
    "sqrt", "rsqrt", "clamp", "clamp_min", "prelu", "threshold", "local_response_norm",
    "normal", "uniform", "zero", "fill", "copy", "detach", "trunc_normal", "masked_fill",
    "float", "int", "long", "half", "to", "type_as", "log", "round", "floor", "ceil", "sign",
    "erf", "sin", "cos", "reciprocal", "square", "logical_not", "bitwise_not", "log2",
    "log1p", "log10", "exp2", "sigmoid_", "logit", "bernoulli",
)

SHAPE_RULES: dict[str, ShapeRule] = {
    **{f"aten::conv{n}d": ShapeRule(_conv(False), ("input", "weight", "bias", "stride",
                                                    "padding", "dilation", "groups"),
                                    f"{n}-d convolution; MACs = numel(out) * C_in/groups "
                                    "* prod(kernel)") for n in (1, 2, 3)},
    **{f"aten::conv_transpose{n}d": ShapeRule(
        _conv(True), ("input", "weight", "bias", "stride", "padding", "output_padding",
                      "groups", "dilation"),
        f"{n}-d transposed convolution; MACs = numel(in) * C_out/groups * prod(kernel)")
       for n in (1, 2, 3)},
    "aten::linear": ShapeRule(_linear, ("input", "weight", "bias"),
                              "(*, in) -> (*, out); MACs = numel(out) * in"),
    **{f"aten::max_pool{n}d": ShapeRule(_pool(n, True), (
        "input", "kernel_size", "stride", "padding", "dilation", "ceil_mode"),
        "floor (or ceil with ceil_mode) of (L + 2p - d(k-1) - 1)/s + 1") for n in (1, 2, 3)},
    **{f"aten::max_pool{n}d_with_indices": ShapeRule(_with_indices(_pool(n, True)), (
        "input", "kernel_size", "stride", "padding", "dilation", "ceil_mode"),
        "as max_pool, plus indices of the same shape") for n in (1, 2, 3)},
    **{f"aten::avg_pool{n}d": ShapeRule(_pool(n, False), (
        "input", "kernel_size", "stride", "padding", "ceil_mode", "count_include_pad",
        "divisor_override"),
        "as max_pool without dilation") for n in (1, 2, 3)},
    **{f"aten::adaptive_{kind}_pool{n}d": ShapeRule(
        _adaptive(n) if kind == "avg" else _with_indices(_adaptive(n)),
        ("input", "output_size"), "last n dims become output_size (None keeps the input's)")
       for n in (1, 2, 3) for kind in ("avg", "max")},
    "aten::flatten": ShapeRule(_flatten, ("input", "start_dim", "end_dim"),
                               "dims start..end merged into one"),
    "aten::cat": ShapeRule(_cat, ("tensors", "dim"), "sizes along dim add up"),
    "aten::concat": ShapeRule(_cat, ("tensors", "dim"), "alias of aten::cat"),
    **{f"aten::{op}": ShapeRule(_broadcast, ("input", "other", "alpha"),
                                "element-wise, shapes broadcast")
       for op in ("add", "sub", "mul", "div", "maximum", "minimum", "pow")},
    **{f"aten::{op}": ShapeRule(_view, ("input", "*size"), "same elements, new shape (-1 inferred)")
       for op in ("view", "reshape")},
    **{f"aten::{op}": ShapeRule(_reduce, ("input", "dim", "keepdim"),
                                "reduced dims dropped (kept as 1 with keepdim)")
       for op in ("mean", "sum", "amax", "amin")},
    **{f"aten::{op}": ShapeRule(_max_min, ("input", "dim", "keepdim"),
                                "all elements, (values, indices) along dim, or element-wise")
       for op in ("max", "min")},
    **{f"aten::{op}": ShapeRule(_same, ("input", "dim", "*rest"), "running totals: same shape")
       for op in ("cumsum", "cumprod")},
    "aten::chunk": ShapeRule(_chunk, ("input", "chunks", "dim"), "equal pieces along dim"),
    "aten::stack": ShapeRule(_stack, ("tensors", "dim"), "equal shapes joined along a new dim"),
    "aten::tensor_split": ShapeRule(_tensor_split, ("input", "indices_or_sections", "dim",
                                                    "sections", "indices"),
                                    "n nearly equal pieces, or pieces between indices"),
    **{f"aten::{op}": ShapeRule(_new_factory, ("input", "*size"), "a new tensor of the given size")
       for op in ("new_zeros", "new_ones", "new_empty")},
    "aten::new_full": ShapeRule(_new_full, ("input", "size", "fill_value"),
                                "a new tensor of the given size"),
    "aten::unbind": ShapeRule(_unbind, ("input", "dim"), "one tensor per index of dim"),
    **{f"aten::upsample_{mode}{n}d": ShapeRule(
        _upsample(n), ("input", "output_size", "scale_factors") if mode == "nearest" else
        ("input", "output_size", "align_corners", "scale_factors"),
        "last n dims become output_size, or floor(size * scale)")
       for n in (1, 2, 3) for mode in ("nearest", "linear", "bilinear", "bicubic", "trilinear")},
    **{f"aten::{op}": ShapeRule(_addcmul, ("input", "tensor1", "tensor2", "value"),
                                "input + value * t1 op t2, broadcast")
       for op in ("addcmul", "addcdiv")},
    **{f"aten::{op}": ShapeRule(_expand_as, ("input", "other"), "the shape of other")
       for op in ("expand_as", "reshape_as", "view_as")},
    "aten::einsum": ShapeRule(_einsum, ("equation", "*tensors"),
                              "explicit equations; MACs = product of all index sizes"),
    "aten::meshgrid": ShapeRule(_meshgrid, ("*tensors",), "one grid per input, sizes of all"),
    **{f"aten::{op}": ShapeRule(_broadcast, ("input", "other"),
                                "element-wise comparison: a bool tensor, operands broadcast")
       for op in ("eq", "ne", "lt", "le", "gt", "ge")},
    "aten::roll": ShapeRule(_same, ("input", "shifts", "dims"), "elements shifted: same shape"),
    "aten::split": ShapeRule(_split, ("input", "split_size", "dim"),
                             "pieces of split_size (or of each given size) along dim"),
    "aten::expand": ShapeRule(_expand, ("input", "*size"), "size-1 dims broadcast; -1 keeps"),
    "aten::unflatten": ShapeRule(_unflatten, ("input", "dim", "sizes"), "one dim split in several"),
    **{f"aten::{op}": ShapeRule(_matmul, ("input", "other"),
                                "(*, n, k) @ (*, k, m) -> (*, n, m); MACs = numel(out) * k")
       for op in ("matmul", "bmm", "mm")},
    "aten::baddbmm": ShapeRule(_baddbmm, ("input", "batch1", "batch2", "beta", "alpha"),
                               "as bmm of batch1 and batch2"),
    "aten::addmm": ShapeRule(_addmm, ("input", "mat1", "mat2", "beta", "alpha"),
                             "as mm of mat1 and mat2"),
    "aten::scaled_dot_product_attention": ShapeRule(
        _attention, ("query", "key", "value", "*rest"),
        "(*, L, E) x (*, S, Ev) -> (*, L, Ev); MACs = L * S * (E + Ev) per batch and head"),
    **{f"aten::{op}": ShapeRule(_transpose, ("input", "dim0", "dim1"), "two dims swapped")
       for op in ("transpose", "swapaxes", "swapdims")},
    "aten::norm": ShapeRule(_reduce, ("input", "p", "dim", "keepdim"),
                            "a p-norm over dim (all dims by default)"),
    "aten::permute": ShapeRule(_permute, ("input", "*dims"), "dims reordered"),
    "aten::unsqueeze": ShapeRule(_unsqueeze, ("input", "dim"), "a size-1 dim inserted"),
    "aten::squeeze": ShapeRule(_squeeze, ("input", "dim"), "size-1 dims removed"),
    "aten::pad": ShapeRule(_pad, ("input", "pad", "mode", "value"),
                           "last dims grow by (left, right) pairs"),
    "aten::constant_pad_nd": ShapeRule(_pad, ("input", "pad", "value"), "as aten::pad"),
    **{f"aten::{op}": ShapeRule(_same, ("input", "*rest"), "element-wise: shape unchanged")
       for op in _ELEMENTWISE},
    **{f"aten::{op}": ShapeRule(_recurrent(gates, op == "lstm"), _RNN_PARAMS,
                                "(output, h_n[, c_n]); sizes from weight_ih_l0 and weight_hh_l0")
       for op, gates in (("lstm", 4), ("gru", 3), ("rnn_tanh", 1), ("rnn_relu", 1))},
    "aten::unfold": ShapeRule(_unfold, ("input", "dimension", "size", "step"),
                              "windows of size along a dim: (..., windows, ..., size)"),
    "aten::col2im": ShapeRule(_col2im, ("input", "output_size", "kernel_size", "dilation",
                                        "padding", "stride"),
                              "F.fold: (N, C * kh * kw, L) -> (N, C, *output_size)"),
    "aten::flip": ShapeRule(_same, ("input", "*dims"), "elements reversed: same shape"),
    "aten::repeat": ShapeRule(_repeat, ("input", "*repeats"),
                              "each dim times its count; more counts add leading dims"),
    "aten::repeat_interleave": ShapeRule(
        _repeat_interleave, ("input", "repeats", "dim", "output_size"),
        "elements repeated along dim (flattened without dim)"),
    "aten::grid_sampler": ShapeRule(
        _grid_sampler, ("input", "grid", "interpolation_mode", "padding_mode", "align_corners"),
        "(N, C, *in) at a grid (N, *out, n) -> (N, C, *out)"),
    "aten::im2col": ShapeRule(_im2col, ("input", "kernel_size", "dilation", "padding", "stride"),
                              "F.unfold: (N, C, H, W) -> (N, C * kh * kw, blocks)"),
    **{f"aten::{op}": ShapeRule(_flag(value), ("input", "*rest"),
                                f"{value}: a dense, contiguous float32 tensor is assumed")
       for op, value in (("is_contiguous", True), ("is_floating_point", True),
                         ("is_complex", False))},
}


# The operators whose multiply-accumulates count, as torchvision's `_ops` figures count them
# (torch.utils.flop_counter: convolutions, linear/addmm, mm/bmm/matmul, attention).
MAC_OPS = frozenset({"aten::linear", "aten::matmul", "aten::mm", "aten::bmm", "aten::baddbmm",
                     "aten::addmm", "aten::scaled_dot_product_attention", "aten::einsum"})


def describe_rules() -> list[tuple[str, str]]:
    """(operator, rule) for documentation pages and `--help` texts."""
    return sorted((op, rule.doc) for op, rule in SHAPE_RULES.items())


def counts_macs(op: str) -> bool:
    """Whether `op` is one of the operators whose multiply-accumulates are counted."""
    base = op.removesuffix("_")
    return base in MAC_OPS or base.startswith(("aten::conv", "aten::convolution"))


def index_shape(shape: tuple[int, ...], key: Any) -> tuple[int, ...]:
    """Shape of `x[key]` for basic indexing: ints, slices, None and one Ellipsis."""
    if isinstance(key, SymTensor):  # advanced indexing of the first dim by a tensor
        if not shape:
            raise CannotEvaluate("indexing a 0-d tensor with a tensor")
        return (*key.shape, *shape[1:])
    items = list(key) if isinstance(key, tuple) else [key]
    tensors = [i for i, k in enumerate(items) if isinstance(k, SymTensor)]
    if len(tensors) == 1 and all(k == slice(None) for k in items[:tensors[0]]):
        # Full slices, then one index tensor: that dim is replaced by the index's shape.
        at = tensors[0]
        if len(shape) <= at:
            raise CannotEvaluate(f"too many indices {key!r} for shape {shape}")
        rest = index_shape(shape[at + 1:], tuple(items[at + 1:]))
        return (*shape[:at], *items[at].shape, *rest)
    if any(not (isinstance(k, (int, slice)) or k is None or k is Ellipsis)
           or isinstance(k, bool) for k in items):
        raise CannotEvaluate(f"indexing with {key!r} is not modelled (basic indexing only)")
    used = sum(1 for k in items if k is not None and k is not Ellipsis)
    if Ellipsis in items:
        at = items.index(Ellipsis)
        items[at:at + 1] = [slice(None)] * (len(shape) - used)
    items += [slice(None)] * (len(shape) - sum(1 for k in items if k is not None))
    out: list[int] = []
    dims = iter(shape)
    for k in items:
        if k is None:
            out.append(1)
            continue
        size = next(dims, None)
        if size is None:
            raise CannotEvaluate(f"too many indices {key!r} for shape {shape}")
        if isinstance(k, slice):
            out.append(len(range(*k.indices(size))))
        elif not -size <= k < size:
            raise CannotEvaluate(f"index {k} out of range for size {size}")
    return tuple(out)
