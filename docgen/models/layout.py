"""Tensor layout while a forward runs: the strides a view operator leaves, so that a kernel's
`input.is_contiguous()` can be decided (`linear` on a transposed input takes `matmul`).

A SymTensor's `strides` is None for a freshly allocated, row-major tensor. The view
operators that reorder or drop dimensions (transpose, permute, expand, select, narrowing
slices, unsqueeze/squeeze) compute the strides of their result from their input's, as
TensorShape.cpp does; view/reshape keep a contiguous input contiguous (a reshape of a
non-contiguous one copies, which is contiguous too). Every other operator is taken to
allocate a contiguous result (TensorIterator's outputs of element-wise operators follow the
input's memory format, which this reader does not model).
"""

from __future__ import annotations

from typing import Any

from docgen.models.values import SymTensor


def row_major(shape: tuple[int, ...]) -> tuple[int, ...]:
    out: list[int] = []
    step = 1
    for size in reversed(shape):
        out.append(step)
        step *= max(size, 1)
    return tuple(reversed(out))


def strides_of(tensor: SymTensor) -> tuple[int, ...]:
    return tensor.strides if tensor.strides is not None else row_major(tensor.shape)


def is_contiguous(tensor: SymTensor) -> bool:
    """c10's rule: dimensions of size 1 do not count; the others are row-major."""
    if tensor.strides is None:
        return True
    expected = 1
    for size, stride in zip(reversed(tensor.shape), reversed(tensor.strides), strict=True):
        if size == 1:
            continue
        if stride != expected:
            return False
        expected *= size
    return True


def _dim(value: Any, rank: int) -> int | None:
    if not isinstance(value, int) or isinstance(value, bool):
        return None
    return value + rank if value < 0 else value


def _arg(args: tuple[Any, ...], kwargs: dict[str, Any], index: int, *names: str) -> Any:
    if len(args) > index:
        return args[index]
    for name in names:
        if name in kwargs:
            return kwargs[name]
    return None


def view_strides(op: str, args: tuple[Any, ...], kwargs: dict[str, Any],
                 result: SymTensor) -> tuple[int, ...] | None:
    """The strides of `result` of ATen operator `op` (`aten::transpose`), None when it is
    contiguous (a fresh tensor, or a view that keeps row-major order)."""
    source = args[0] if args and isinstance(args[0], SymTensor) else None
    name = op.removeprefix("aten::")
    if source is None or (source.strides is None and name not in _REORDERING):
        return None
    strides = list(strides_of(source))
    rank = len(strides)
    out: list[int] | None = None
    if name in ("transpose", "swapaxes", "swapdims"):
        i = _dim(_arg(args, kwargs, 1, "dim0", "axis0"), rank)
        j = _dim(_arg(args, kwargs, 2, "dim1", "axis1"), rank)
        if i is not None and j is not None and max(i, j) < rank:
            strides[i], strides[j] = strides[j], strides[i]
            out = strides
    elif name == "t" and rank == 2:
        out = strides[::-1]
    elif name == "permute":
        dims = args[1:] if len(args) > 2 else _arg(args, kwargs, 1, "dims")
        dims = list(dims) if isinstance(dims, (tuple, list)) else [dims]
        picked = [_dim(d, rank) for d in dims]
        if all(d is not None and d < rank for d in picked) and len(picked) == rank:
            out = [strides[d] for d in picked]  # type: ignore[index]
    elif name == "expand":
        out = [0 if i >= len(source.shape) or size != source.shape[i] else stride
               for i, (size, stride) in enumerate(zip(result.shape[len(result.shape) - rank:],
                                                      strides, strict=False))]
        out = [0] * (len(result.shape) - rank) + out
    elif name == "select":
        d = _dim(_arg(args, kwargs, 1, "dim"), rank)
        if d is not None and d < rank:
            out = strides[:d] + strides[d + 1:]
    elif name in ("slice", "narrow"):
        out = strides  # same strides; a narrowed dimension breaks row-major order itself
    elif name == "unsqueeze":
        d = _dim(_arg(args, kwargs, 1, "dim"), rank + 1)
        if d is not None and d <= rank:
            below = strides[d] * source.shape[d] if d < rank else 1
            out = [*strides[:d], below, *strides[d:]]
    elif name == "squeeze":
        if len(result.shape) == rank:
            out = strides
        else:
            d = _dim(_arg(args, kwargs, 1, "dim"), rank)
            keep = [i for i, size in enumerate(source.shape)
                    if not (size == 1 and (d is None or i == d))]
            if len(keep) == len(result.shape):
                out = [strides[i] for i in keep]
    if out is None or len(out) != len(result.shape):
        return None  # view/reshape/flatten and the rest: row-major (a reshape copies)
    return None if is_contiguous(SymTensor(result.shape, strides=tuple(out))) else tuple(out)


# Views whose result can be non-contiguous even from a contiguous input.
_REORDERING = frozenset({"transpose", "swapaxes", "swapdims", "t", "permute", "expand",
                         "select", "slice", "narrow"})


def index_strides(source: SymTensor, key: Any, result: SymTensor) -> tuple[int, ...] | None:
    """The strides of `source[key]` for basic indexing (ints drop a dimension, slices keep
    it with its stride times the step, None inserts a dimension)."""
    items = list(key) if isinstance(key, tuple) else [key]
    if any(isinstance(k, SymTensor) for k in items):
        return None  # advanced indexing copies: a fresh tensor
    if Ellipsis in items:
        at = items.index(Ellipsis)
        used = sum(1 for k in items if k is not None and k is not Ellipsis)
        items[at:at + 1] = [slice(None)] * (len(source.shape) - used)
    strides = list(strides_of(source))
    out: list[int] = []
    dim = 0
    for k in items:
        if k is None:
            out.append(out[-1] if out else 1)
            continue
        if dim >= len(strides):
            return None
        if isinstance(k, slice):
            out.append(strides[dim] * k.indices(source.shape[dim])[2])
        dim += 1
    out.extend(strides[dim:])
    if len(out) != len(result.shape):
        return None
    return None if is_contiguous(SymTensor(result.shape, strides=tuple(out))) else tuple(out)
