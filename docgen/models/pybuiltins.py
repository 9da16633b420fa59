"""Operators and the builtins whose meaning depends on the evaluator's own values: binary
operators (Python or ATen), iteration, isinstance/issubclass, len/list/zip/getattr/type...
"""

from __future__ import annotations

import ast
import collections.abc
import dataclasses
import types
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

from docgen.core.records import Severity
from docgen.models.calls import dataclass_fields
from docgen.models.frames import (
    BoundMethod,
    EvaluatorCore,
    FunctionRef,
    Partial,
)
from docgen.models.limits import bounded, check_binary
from docgen.models.natives import TENSOR_CLASSES
from docgen.models.steps import FUNCTION
from docgen.models.syntax import is_dataclass
from docgen.models.values import (
    AtenOp,
    CannotEvaluate,
    ClassRef,
    External,
    FieldSpec,
    Instance,
    ModuleInstance,
    ModuleRef,
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
            reflected = not isinstance(left, SymTensor)
            if reflected:  # `2 ** t`: the shape is the tensor's; values computed in order
                left, right = right, left
            result = self.call_op(f"aten::{aten}{'_' if in_place else ''}", (left, right), {})
            if reflected and isinstance(result, SymTensor) and result.values is not None:
                assert isinstance(left, SymTensor) and left.values is not None
                py_op = _PY_OPERATORS[name]
                result = dataclasses.replace(result, values=[py_op(right, v) for v in left.values])
            self.recorder.end(record, result)
            return result
        check_binary(name, left, right)
        try:
            return _PY_OPERATORS[name](left, right)
        except Exception as exc:
            raise CannotEvaluate(f"{name} of {left!r} and {right!r}: {exc}") from exc

    def compare_tensor(self, op: ast.cmpop, left: Any, right: Any) -> Any:
        """`t != 0`, `a < b` with a tensor operand: the element-wise comparison it runs
        (`aten::ne`, ...), recorded as a step like `t + 1` is; a bool tensor of the
        broadcast shape (its values are not followed)."""
        name = _COMPARISONS[type(op)]
        for value in (left, right):
            if isinstance(value, Unknown):
                return value
        record = self.recorder.begin(
            self.module_stack[-1] if self.module_stack else None, FUNCTION,
            f"operator.{name}", None, (left, right), {}, _COMPARISON_SYMBOLS[name], None)
        if not isinstance(left, SymTensor):  # `0 < t` is `t > 0`
            left, right, name = right, left, _MIRRORED.get(name, name)
        result = self.call_op(f"aten::{name}", (left, right), {})
        self.recorder.end(record, result)
        return result

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
            return iterate_tensor(value)
        try:
            return bounded(value)
        except TypeError as exc:
            raise CannotEvaluate(f"cannot iterate over {value!r}") from exc

    def isinstance(self, obj: Any, classes: Any) -> bool:
        if isinstance(classes, (tuple, list)):
            return any(self.isinstance(obj, c) for c in classes)
        if isinstance(classes, PartialFactory):
            return isinstance(obj, Partial)
        if classes is types.FunctionType:
            return isinstance(obj, FunctionRef)
        if classes is types.MethodType:
            return isinstance(obj, BoundMethod)
        if classes is collections.abc.Callable:
            return isinstance(obj, (FunctionRef, BoundMethod, Partial, ClassRef, AtenOp)) or (
                isinstance(obj, Instance) and self.class_attribute(obj.cls, "__call__")[0]) \
                or (not isinstance(obj, (Instance, SymTensor, Unknown)) and callable(obj))
        for name, real in WRAPPED_TYPES.items():
            if classes == self.builtins.get(name):
                classes = real  # `tuple` is the evaluator's tuple(); the type is Python's
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
        if classes is type:  # a class read from source is a type too
            return isinstance(obj, (ClassRef, type))
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
        if isinstance(obj, SymTensor) and obj.shape:
            return int(obj.shape[0])  # a tensor's len() is its first dimension
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

    def builtin_dir(self, obj: Any) -> list[str]:
        """dir() of a module read from source: the names it defines or imports."""
        if isinstance(obj, ModuleRef):
            module = self.source_module(obj.name)
            if module is not None:
                return sorted({*module.defs, *module.imports})
        raise CannotEvaluate(f"dir() of {obj!r}")

    def builtin_type(self, obj: Any) -> Any:
        if isinstance(obj, Instance):
            return obj.cls
        if isinstance(obj, (Unknown, SymTensor)):
            raise CannotEvaluate(f"type() of {obj!r}")
        return type(obj)


    # ------------------------------------------------------------- library stand-ins

    def library_native(self, path: str) -> Any:
        """Library callables whose meaning depends on the evaluator's values (dataclasses,
        functools.partial, os.environ); None for any other path."""
        table: dict[str, Any] = {
            "functools.partial": PartialFactory(self),
            "dataclasses.field": _field,
            "dataclasses.fields": self.dataclass_fields_of,
            "dataclasses.replace": self.dataclass_replace,
            "dataclasses.asdict": self.dataclass_asdict,
            "dataclasses.is_dataclass": lambda obj: isinstance(obj, (Instance, ClassRef)) and
            is_dataclass((obj.cls if isinstance(obj, Instance) else obj).node),
            "os.environ.get": self.environment_get,
            "os.getenv": self.environment_get,
            "os.environ": SimpleNamespace(get=self.environment_get),
            "sys.modules": SourceModules(self),
            "collections.defaultdict": lambda factory=None, *args: EvaluatedDefaultDict(
                self, factory, *args),
        }
        return table.get(path)

    def dataclass_fields_of(self, obj: Any) -> tuple[SimpleNamespace, ...]:
        cls = obj.cls if isinstance(obj, Instance) else obj
        if not isinstance(cls, ClassRef):
            raise CannotEvaluate(f"fields() of {obj!r}")
        return tuple(SimpleNamespace(name=name) for name in dataclass_fields(cls))

    def dataclass_replace(self, obj: Any, **changes: Any) -> Instance:
        if not isinstance(obj, Instance) or isinstance(obj, ModuleInstance):
            raise CannotEvaluate(f"replace() of {obj!r}")
        names = dataclass_fields(obj.cls)
        values = {name: obj.attrs.get(name) for name in names}
        unknown = set(changes) - set(names)
        if unknown:
            raise CannotEvaluate(f"replace(): {obj.cls.name} has no fields {sorted(unknown)}")
        return self.instantiate(obj.cls, (), {**values, **changes})

    def dataclass_asdict(self, obj: Any) -> Any:
        if isinstance(obj, Instance) and not isinstance(obj, ModuleInstance) \
                and is_dataclass(obj.cls.node):
            return {name: self.dataclass_asdict(obj.attrs.get(name))
                    for name in dataclass_fields(obj.cls)}
        if isinstance(obj, (list, tuple)):
            return type(obj)(self.dataclass_asdict(v) for v in obj)
        if isinstance(obj, dict):
            return {k: self.dataclass_asdict(v) for k, v in obj.items()}
        return obj

    def environment_get(self, key: Any, default: Any = None) -> Any:
        """os.environ.get(KEY, default): the environment is taken to be unset, and said so."""
        self.report(self.recorder.location, f"assumes the environment variable {key!r} is not "
                    f"set (os.environ.get returns its default {default!r})", Severity.INFO)
        return default

MAX_TENSOR_ITERATION = 4096


def iterate_tensor(tensor: SymTensor) -> list[SymTensor]:
    """`for image in batch`: one tensor per index of the first dim, each of the remaining
    shape (a 1-d tensor of known values gives 0-d tensors of those values)."""
    if not tensor.shape:
        raise CannotEvaluate("iteration over a 0-d tensor")
    count, rest = tensor.shape[0], tensor.shape[1:]
    if count > MAX_TENSOR_ITERATION:
        raise CannotEvaluate(f"iteration over {count} slices of a tensor is not followed")
    if tensor.values is not None and not rest and len(tensor.values) == count:
        return [SymTensor((), values=[v], requires_grad=tensor.requires_grad)
                for v in tensor.values]
    return [SymTensor(rest, requires_grad=tensor.requires_grad) for _ in range(count)]


_MISSING = object()
WRAPPED_TYPES: dict[str, type] = {"list": list, "tuple": tuple, "type": type}
WRAPPED_BUILTINS = ("len", "iter", "list", "tuple", "enumerate", "zip", "reversed")


_OPERATORS: dict[type, str] = {
    ast.Add: "add", ast.Sub: "sub", ast.Mult: "mul", ast.Div: "truediv",
    ast.FloorDiv: "floordiv", ast.Mod: "mod", ast.Pow: "pow", ast.MatMult: "matmul",
    ast.BitAnd: "and", ast.BitOr: "or", ast.BitXor: "xor", ast.LShift: "lshift",
    ast.RShift: "rshift",
}


_COMPARISONS: dict[type, str] = {ast.Eq: "eq", ast.NotEq: "ne", ast.Lt: "lt", ast.LtE: "le",
                                  ast.Gt: "gt", ast.GtE: "ge"}
_COMPARISON_SYMBOLS = {"eq": "==", "ne": "!=", "lt": "<", "le": "<=", "gt": ">", "ge": ">="}
_MIRRORED = {"lt": "gt", "gt": "lt", "le": "ge", "ge": "le"}
_SYMBOLS = {"add": "+", "sub": "-", "mul": "*", "truediv": "/", "matmul": "@", "pow": "**"}
_ATEN_BINARY = {"add": "add", "sub": "sub", "mul": "mul", "truediv": "div", "matmul": "matmul",
                "pow": "pow"}


def _py(name: str) -> Any:
    import operator
    return getattr(operator, f"{name}_" if name in ("and", "or") else name)


_PY_OPERATORS = {name: _py(name) for name in _OPERATORS.values()}



class SourceModules:
    """`sys.modules` as the evaluated code sees it: the modules of the sources read (a
    registry decorator's `sys.modules[fn.__module__]`)."""

    def __init__(self, evaluator: Any) -> None:
        self.evaluator = evaluator

    def __getitem__(self, name: Any) -> ModuleRef:
        if not isinstance(name, str) or self.evaluator.source_module(name) is None:
            raise CannotEvaluate(f"sys.modules[{name!r}]: not a module of the sources read")
        return ModuleRef(name)

    def __contains__(self, name: Any) -> bool:
        return isinstance(name, str) and self.evaluator.source_module(name) is not None

    def get(self, name: Any, default: Any = None) -> Any:
        try:
            return self[name]
        except CannotEvaluate:
            return default


class EvaluatedDefaultDict(dict[Any, Any]):
    """collections.defaultdict whose factory may be a class or function read from source."""

    def __init__(self, evaluator: Any, factory: Any, *args: Any) -> None:
        super().__init__(*args)
        self.evaluator, self.default_factory = evaluator, factory

    def __missing__(self, key: Any) -> Any:
        if self.default_factory is None:
            raise KeyError(key)
        value = self.evaluator.call(self.default_factory, (), {})
        self[key] = value
        return value


class PartialFactory:
    """functools.partial as the evaluator sees it: calling it makes a Partial, and it is the
    class `isinstance(norm_layer, functools.partial)` tests against."""

    def __init__(self, evaluator: Any) -> None:
        self.evaluator = evaluator

    def __call__(self, func: Any, *args: Any, **kwargs: Any) -> Partial:
        if isinstance(func, Partial):  # as functools does: one partial over the inner callable
            return Partial(self.evaluator, func.func, *func.args, *args,
                           **{**func.kwargs, **kwargs})
        return Partial(self.evaluator, func, *args, **kwargs)


def _field(*, default: Any = _MISSING, default_factory: Any = None, **options: Any) -> FieldSpec:
    if default is _MISSING:
        return FieldSpec(None, default_factory, False)
    return FieldSpec(default, None, True)
