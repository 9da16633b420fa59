"""A module's functional steps as the calls that reach C++: the evaluated route of each step.

The model reader runs every forward over symbolic tensors and records, for a library function
(`F.multi_head_attention_forward`, `torch.cat`, `x.permute`, `x + y`, `x[:, 0]`), the calls it
made while it ran with the values they got: its branches are decided by the values really
passed (`need_weights=False`, `q is k`), not by the defaults of its signature. This module
flattens such a step into its leaves: the calls that leave Python (a binding of
`torch._C._VariableFunctions` / `torch._C._nn` / a Tensor method, a Python operator on
tensors, tensor indexing), each with the inputs it got (shape, contiguity, argument values),
so each one's C++ branches can be decided for its own input.

Tensor indexing is mapped to the operators CPython's `Tensor.__getitem__` calls
(THPVariable_getitem in torch/csrc/autograd/python_variable_indexing.cpp, read at
cyyever/pytorch@9d7bcec11396, and at::indexing's get_item / handleDimInMultiDimIndexing /
applySlice in aten/src/ATen/TensorIndexing.h, read at cyyever/pytorch@d1b8e70a2252): a lone
integer is `select(0, i)`, a lone slice always `slice(0, ...)`, a lone None `unsqueeze(0)`, a
lone Ellipsis `alias`; in a tuple each integer is a `select`, each slice a `slice` unless it
covers the whole dimension with step 1 (then nothing runs), each None an `unsqueeze`, an
Ellipsis nothing, a tensor an `index` of the result; a tuple that leaves the tensor unchanged
gives `alias`.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass

from docgen.core.records import Location
from docgen.walk.inputs import FunctionalStep, TensorAttr

# Python operators on tensors as the reader names them -> the Tensor method they call.
OPERATOR_METHODS = {"operator.add": "add", "operator.iadd": "add_", "operator.sub": "sub",
                    "operator.isub": "sub_", "operator.mul": "mul", "operator.imul": "mul_",
                    "operator.truediv": "div", "operator.itruediv": "div_",
                    "operator.matmul": "matmul", "operator.neg": "neg",
                    **{f"operator.{op}": op for op in ("eq", "ne", "lt", "le", "gt", "ge")}}
GETITEM = "operator.getitem"
TENSOR_METHOD = "torch.Tensor."
INDEXING_SOURCE = ("torch/csrc/autograd/python_variable_indexing.cpp (THPVariable_getitem) "
                   "and aten/src/ATen/TensorIndexing.h (get_item, applySlicing)")
_TENSOR_TEXT = re.compile(r"Tensor\[([\d, ]*)\]")


@dataclass(frozen=True)
class Leaf:
    """One call that leaves Python: a binding `name` in `namespace` (`torch._C.TensorBase`
    for Tensor methods), with the first tensor input's shape and contiguity and the values
    passed by parameter position / keyword."""

    name: str
    namespace: str
    text: str
    location: Location | None
    shape: tuple[int, ...] | None
    contiguous: bool | None
    arguments: tuple[tuple[str, object], ...]
    via: str = ""  # how Python reached it (the library functions on the way)
    layouts: tuple[bool, ...] = ()  # per tensor input, in order: row-major or not
    strides: tuple[tuple[int, ...], ...] = ()  # per tensor input, in order
    output_shape: tuple[int, ...] | None = None  # the first tensor it returns
    needs_grad: bool = True  # False: every tensor it reads requires no grad


def argument_value(text: str) -> object:
    """A recorded argument (`'False'`, `'(3, 768)'`, `'Tensor[2, 5] float32'`) as a value:
    tensors as TensorAttr, literals as Python values, anything else as its text."""
    found = _TENSOR_TEXT.match(text)
    if found is not None:
        dims = tuple(int(d) for d in found.group(1).split(",") if d.strip())
        return TensorAttr(dims, False)
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError, MemoryError, RecursionError):
        return text


def leaves(step: FunctionalStep, via: str = "") -> list[Leaf]:
    """The calls of `step` that leave Python, in call order."""
    if step.inner:
        out: list[Leaf] = []
        where = f"{via} -> {step.target}" if via else step.target
        for inner in step.inner:
            out.extend(leaves(inner, where))
        return out
    shape = step.input_shapes[0] if step.input_shapes else None
    output = step.output_shapes[0] if step.output_shapes else None
    contiguous = step.contiguous[0] if step.contiguous else None
    args = tuple((k, argument_value(v)) for k, v in step.arguments)
    grad = step.needs_grad
    if step.target == GETITEM:
        return [Leaf(name, "torch._C.TensorBase", step.text, step.location, shape, contiguous,
                     args, via or INDEXING_SOURCE, step.contiguous, step.strides, output, grad)
                for name in indexing_operators(step.arguments[1][1] if len(
                    step.arguments) > 1 else "", shape)]
    method = OPERATOR_METHODS.get(step.target)
    if step.target.startswith(TENSOR_METHOD):
        method = step.target.removeprefix(TENSOR_METHOD)
    if method is not None:
        return [Leaf(method, "torch._C.TensorBase", step.text, step.location, shape,
                     contiguous, args, via, step.contiguous, step.strides, output, grad)]
    namespace, _, name = step.target.rpartition(".")
    return [Leaf(name, namespace, step.text, step.location, shape, contiguous, args, via,
                 step.contiguous, step.strides, output, grad)]


def indexing_operators(key: str, shape: tuple[int, ...] | None) -> list[str]:
    """The operators `x[key]` runs (see the module docstring); `key` as the reader writes
    it: `0`, `(:, 0)`, `1:3`, `(None, ..., 2)`."""
    text = key.strip()
    is_tuple = text.startswith("(") and text.endswith(")") and (
        "," in text or text == "()")
    items = [i.strip() for i in _split(text[1:-1])] if is_tuple else [text]
    items = [i for i in items if i]
    if not is_tuple:
        kind = _kind(items[0] if items else "")
        return {"int": ["select"], "slice": ["slice"], "none": ["unsqueeze"],
                "ellipsis": ["alias"], "tensor": ["index"]}.get(kind, [])
    out: list[str] = []
    dim = 0
    tensor = False
    for item in items:
        kind = _kind(item)
        if kind == "int":
            out.append("select")
        elif kind == "slice":
            size = shape[dim] if shape is not None and dim < len(shape) else None
            if not _is_full(item, size):
                out.append("slice")
            dim += 1
        elif kind == "none":
            out.append("unsqueeze")
            dim += 1
        elif kind == "ellipsis":
            used = sum(1 for i in items if _kind(i) in ("int", "slice", "tensor"))
            dim += (len(shape) - used) if shape is not None else 0
        elif kind == "tensor":
            tensor = True
            dim += 1
    if tensor:
        out.append("index")
    return out or ["alias"]


def _split(text: str) -> list[str]:
    parts, depth, start = [], 0, 0
    for i, ch in enumerate(text):
        depth += {"(": 1, "[": 1, ")": -1, "]": -1}.get(ch, 0)
        if ch == "," and depth == 0:
            parts.append(text[start:i])
            start = i + 1
    parts.append(text[start:])
    return parts


def _kind(item: str) -> str:
    if item == "None":
        return "none"
    if item in ("...", "Ellipsis", "ellipsis"):
        return "ellipsis"
    if item.startswith("Tensor[") or item.startswith("["):
        return "tensor"
    if ":" in item:
        return "slice"
    if re.fullmatch(r"-?\d+", item):
        return "int"
    return "unknown"


def _is_full(item: str, size: int | None) -> bool:
    parts = [p.strip() for p in item.split(":")]
    start, stop = parts[0], parts[1] if len(parts) > 1 else ""
    step = parts[2] if len(parts) > 2 else ""
    if step not in ("", "1") or start not in ("", "0"):
        return False
    return stop == "" or (size is not None and stop == str(size))
