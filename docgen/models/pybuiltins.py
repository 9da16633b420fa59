"""Operators and the builtins whose meaning depends on the evaluator's own values: binary
operators (Python or ATen), iteration, isinstance/issubclass, len/list/zip/getattr/type...
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from typing import Any

from docgen.models.frames import (
    BoundMethod,
    EvaluatorCore,
    FunctionRef,
)
from docgen.models.natives import TENSOR_CLASSES
from docgen.models.steps import FUNCTION
from docgen.models.values import (
    CannotEvaluate,
    ClassRef,
    External,
    Instance,
    SymTensor,
    Unknown,
)


class Builtins(EvaluatorCore):
    """Operators, iteration and builtins over source objects, tensors and unknowns."""

    def binary(self, op: ast.operator, left: Any, right: Any, in_place: bool = False) -> Any:
        name = _OPERATORS.get(type(op))
        if name is None:
            raise CannotEvaluate(f"operator {type(op).__name__}")
        for value in (left, right):
            if isinstance(value, Unknown):
                return value
        if isinstance(left, Instance):
            dunder = f"__i{name}__" if in_place else f"__{name}__"
            found, method, _ = self.class_attribute(left.cls, dunder)
            if not found and in_place:
                found, method, _ = self.class_attribute(left.cls, f"__{name}__")
            if found:
                return self.call(method, (left, right), {})
        if isinstance(left, SymTensor) or isinstance(right, SymTensor):
            aten = _ATEN_BINARY.get(name)
            if aten is None:
                raise CannotEvaluate(f"tensor operator {name}")
            record = self.recorder.begin(
                self.module_stack[-1] if self.module_stack else None, FUNCTION,
                f"operator.{'i' if in_place else ''}{name}", None, (left, right), {},
                _SYMBOLS.get(name, name) + ("=" if in_place else ""), None)
            if not isinstance(left, SymTensor):
                left, right = right, left
            result = self.call_op(f"aten::{aten}{'_' if in_place else ''}", (left, right), {})
            self.recorder.end(record, result)
            return result
        try:
            return _PY_OPERATORS[name](left, right)
        except Exception as exc:
            raise CannotEvaluate(f"{name} of {left!r} and {right!r}: {exc}") from exc

    def iterate(self, value: Any) -> list[Any]:
        if isinstance(value, Unknown):
            raise CannotEvaluate(f"iterates over an unknown value: {value.describe()}",
                                 cause=value)
        if isinstance(value, Instance):
            found, method, _ = self.class_attribute(value.cls, "__iter__")
            if not found:
                raise CannotEvaluate(f"{value.cls.qualname} is not iterable in source")
            return list(self.call(method, (value,), {}))
        if isinstance(value, SymTensor):
            raise CannotEvaluate("iteration over a tensor is not modelled")
        try:
            return list(value)
        except TypeError as exc:
            raise CannotEvaluate(f"cannot iterate over {value!r}") from exc

    def isinstance(self, obj: Any, classes: Any) -> bool:
        if isinstance(classes, (tuple, list)):
            return any(self.isinstance(obj, c) for c in classes)
        if isinstance(obj, Unknown):
            raise CannotEvaluate(f"isinstance of an unknown value: {obj.describe()}", cause=obj)
        if isinstance(classes, ClassRef):
            if isinstance(obj, SymTensor):
                return classes.qualname in TENSOR_CLASSES and (
                    classes.qualname != "torch.nn.parameter.Parameter" or obj.is_parameter)
            return isinstance(obj, Instance) and obj.cls.is_subclass_of(classes)
        if isinstance(classes, External):
            if isinstance(obj, (SymTensor, Instance)):
                return False
            raise CannotEvaluate(f"isinstance against {classes.path}, which has no source")
        if isinstance(classes, type):
            if isinstance(obj, (Instance, SymTensor)):
                return False
            if isinstance(obj, (FunctionRef, BoundMethod)):
                return False
            return isinstance(obj, classes)
        raise CannotEvaluate(f"isinstance against {classes!r}")

    def issubclass(self, cls: Any, classes: Any) -> bool:
        if isinstance(classes, (tuple, list)):
            return any(self.issubclass(cls, c) for c in classes)
        if isinstance(cls, ClassRef) and isinstance(classes, ClassRef):
            return cls.is_subclass_of(classes)
        raise CannotEvaluate(f"issubclass({cls!r}, {classes!r})")

    def builtin_len(self, obj: Any) -> int:
        if isinstance(obj, Instance):
            found, method, _ = self.class_attribute(obj.cls, "__len__")
            if not found:
                raise CannotEvaluate(f"{obj.cls.qualname} has no __len__ in source")
            return int(self.call(method, (obj,), {}))
        if isinstance(obj, (Unknown, SymTensor)):
            raise CannotEvaluate(f"len() of {obj!r}")
        return len(obj)

    def builtin_iter(self, obj: Any) -> Iterator[Any]:
        return iter(self.iterate(obj)) if isinstance(obj, (Instance, Unknown)) else iter(obj)

    def builtin_list(self, obj: Any = ()) -> list[Any]:
        return self.iterate(obj)

    def builtin_tuple(self, obj: Any = ()) -> tuple[Any, ...]:
        return tuple(self.iterate(obj))

    def builtin_enumerate(self, obj: Any, start: int = 0) -> list[tuple[int, Any]]:
        return list(enumerate(self.iterate(obj), start))

    def builtin_zip(self, *objs: Any, strict: bool = False) -> list[tuple[Any, ...]]:
        return list(zip(*(self.iterate(o) for o in objs), strict=strict))

    def builtin_reversed(self, obj: Any) -> list[Any]:
        return list(reversed(self.iterate(obj)))

    def builtin_getattr(self, obj: Any, name: str, *default: Any) -> Any:
        try:
            return self.get_attribute(obj, name)
        except CannotEvaluate:
            if default:
                return default[0]
            raise

    def builtin_hasattr(self, obj: Any, name: str) -> bool:
        try:
            value = self.get_attribute(obj, name)
        except CannotEvaluate:
            return False
        return not isinstance(value, Unknown)

    def builtin_setattr(self, obj: Any, name: str, value: Any) -> None:
        self.set_attribute(obj, name, value)

    def builtin_type(self, obj: Any) -> Any:
        if isinstance(obj, Instance):
            return obj.cls
        if isinstance(obj, (Unknown, SymTensor)):
            raise CannotEvaluate(f"type() of {obj!r}")
        return type(obj)


WRAPPED_BUILTINS = ("len", "iter", "list", "tuple", "enumerate", "zip", "reversed")


_OPERATORS: dict[type, str] = {
    ast.Add: "add", ast.Sub: "sub", ast.Mult: "mul", ast.Div: "truediv",
    ast.FloorDiv: "floordiv", ast.Mod: "mod", ast.Pow: "pow", ast.MatMult: "matmul",
    ast.BitAnd: "and", ast.BitOr: "or", ast.BitXor: "xor", ast.LShift: "lshift",
    ast.RShift: "rshift",
}


_SYMBOLS = {"add": "+", "sub": "-", "mul": "*", "truediv": "/", "matmul": "@"}
_ATEN_BINARY = {"add": "add", "sub": "sub", "mul": "mul", "truediv": "div", "matmul": "matmul"}


def _py(name: str) -> Any:
    import operator
    return getattr(operator, f"{name}_" if name in ("and", "or") else name)


_PY_OPERATORS = {name: _py(name) for name in _OPERATORS.values()}

