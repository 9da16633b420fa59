"""Small 1-d tensors whose values are known: the configuration arithmetic some models do with
tensors (RegNet's `torch.round(torch.log(torch.arange(d) * w_a + w_0) ...).int().tolist()`).

`apply_value_op(op, args, kwargs)` computes the result elementwise when every tensor operand
carries its values (SymTensor.values) and the operator is one listed here; otherwise it returns
None and the shape rule alone applies. Values are Python numbers, as torch would hold them in a
float32 or int64 tensor (float32 rounding is not modelled: widths are rounded to integers).
"""

from __future__ import annotations

import itertools
import math
import operator
from collections.abc import Callable
from typing import Any

from docgen.models.values import CannotEvaluate, SymTensor

_MISSING = object()


class KnownValues(list[Any]):
    """A 1-d array of plain numbers (numpy.linspace): `.tolist()` and `.item()` of elements."""

    def tolist(self) -> list[Any]:
        return list(self)

    def split(self, sizes: Any, dim: int = 0) -> list[KnownValues]:
        """torch.split of a 1-d tensor: pieces of `sizes` (one int, or a list of ints)."""
        if isinstance(sizes, int):
            sizes = [min(sizes, len(self) - i) for i in range(0, len(self), sizes)]
        if sum(sizes) != len(self):
            raise CannotEvaluate(f"split sizes {sizes} of {len(self)} values")
        out, start = [], 0
        for size in sizes:
            out.append(KnownValues(self[start:start + size]))
            start += size
        return out


class KnownNumber(float):
    """An element of a linspace: a float that also answers `.item()`."""

    def item(self) -> float:
        return float(self)


_BINARY: dict[str, Callable[[Any, Any], Any]] = {
    "add": operator.add, "sub": operator.sub, "mul": operator.mul, "div": operator.truediv,
    "divide": operator.truediv, "true_divide": operator.truediv, "pow": operator.pow,
    "floor_divide": operator.floordiv, "remainder": operator.mod, "maximum": max,
    "minimum": min,
}
_UNARY: dict[str, Callable[[Any], Any]] = {
    "round": lambda v: float(round(v)), "log": math.log, "exp": math.exp, "sqrt": math.sqrt,
    "floor": lambda v: float(math.floor(v)), "ceil": lambda v: float(math.ceil(v)),
    "int": int, "long": int, "float": float, "abs": abs, "neg": operator.neg,
    "clone": lambda v: v, "detach": lambda v: v, "contiguous": lambda v: v,
}

_REDUCTIONS: dict[str, Callable[[list[Any]], Any]] = {
    "max": max, "min": min, "amax": max, "amin": min, "sum": sum,
}


def valued(values: list[Any]) -> SymTensor:
    return SymTensor((len(values),), values=list(values))


def arange(*args: Any, **kwargs: Any) -> SymTensor:
    """torch.arange(end) / (start, end[, step]); keyword forms too."""
    numbers = [a for a in args if isinstance(a, (int, float)) and not isinstance(a, bool)]
    start: Any = 0
    end: Any = None
    step: Any = 1
    if len(numbers) == 1:
        end = numbers[0]
    elif len(numbers) >= 2:
        start, end = numbers[0], numbers[1]
        step = numbers[2] if len(numbers) > 2 else kwargs.get("step", 1)
    end = kwargs.get("end", end)
    start, step = kwargs.get("start", start), kwargs.get("step", step)
    if not all(isinstance(v, (int, float)) for v in (start, end, step)) or step == 0:
        raise CannotEvaluate(f"arange({start!r}, {end!r}, {step!r})")
    count = max(math.ceil((end - start) / step), 0)
    if count > 1_000_000:
        return SymTensor((count,))
    return valued([start + i * step for i in range(count)])


def apply_value_op(op: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    """The result of `op` on value-carrying tensors, or _MISSING when it cannot be computed."""
    name = op.removeprefix("aten::").rstrip("_")
    operands = [a for a in args if isinstance(a, SymTensor)]
    if not operands or any(t.values is None for t in operands):
        return _MISSING
    first = operands[0].values
    assert first is not None
    if name == "tolist":
        return list(first)
    if name == "item" and len(first) == 1:
        return first[0]
    if name in ("_unique2", "unique"):
        distinct = sorted(set(first))
        counts = [first.count(v) for v in distinct]
        inverse = [distinct.index(v) for v in first]
        return valued(distinct), valued(inverse), valued(counts)
    if name in _REDUCTIONS and len(args) == 1 and first:
        return SymTensor((), values=[_REDUCTIONS[name](first)])
    if name == "flip" and len(operands[0].shape) == 1:
        return valued(list(reversed(first)))
    if name == "diff":
        return valued([b - a for a, b in itertools.pairwise(first)])
    if name in _UNARY and len(args) == 1:
        return valued([_UNARY[name](v) for v in first])
    if name in _BINARY and len(args) >= 2:
        left, right = args[0], args[1]
        return valued(_elementwise(_BINARY[name], left, right))
    return _MISSING


def _elementwise(fn: Callable[[Any, Any], Any], left: Any, right: Any) -> list[Any]:
    def items(value: Any, n: int) -> list[Any]:
        if isinstance(value, SymTensor):
            assert value.values is not None
            return value.values if len(value.values) == n else value.values * n
        return [value] * n

    n = max(len(v.values or ()) for v in (left, right) if isinstance(v, SymTensor))
    return [fn(a, b) for a, b in zip(items(left, n), items(right, n), strict=True)]


def is_missing(value: Any) -> bool:
    return value is _MISSING
