"""What the evaluator knows without reading source: builtins, a few stdlib and torch callables.

Everything here is a fact about a callable that has no Python source in the wheels (C
functions, builtins) or whose source only serves the `__torch_function__` override side path
and TorchScript. Keyed by the dotted path the name resolves to; `lookup_native` returns None
for anything not listed, and the evaluator then reads the source or reports the name.
"""

from __future__ import annotations

import builtins
import collections
import collections.abc
import functools
import itertools
import math
import numbers
import operator
import re
import types
from collections.abc import Callable
from typing import Any

from docgen.models.valued import KnownNumber, KnownValues, arange, valued
from docgen.models.values import AtenOp, CannotEvaluate, SymTensor

# Pure builtins that behave the same on the evaluator's plain values.
PURE_BUILTINS = (
    "abs", "all", "any", "bool", "dict", "divmod", "enumerate", "filter", "float", "int",
    "iter", "len", "list", "map", "max", "min", "next", "range", "reversed", "round", "set",
    "slice", "sorted", "str", "sum", "tuple", "zip", "frozenset", "repr", "hash", "ord",
    "chr", "format", "callable",
)
EXCEPTIONS = (
    "ValueError", "TypeError", "RuntimeError", "NotImplementedError", "KeyError",
    "IndexError", "AssertionError", "AttributeError", "Exception", "ImportError",
    "StopIteration", "ZeroDivisionError",
)

TENSOR_FACTORIES = ("empty", "zeros", "ones", "randn", "rand", "full")

# Prefixes under which a name with no Python source is one ATen operator of that name.
ATEN_PREFIXES = ("torch._C._nn.", "torch._C._VariableFunctions.", "torch._VF.",
                 "torch.ops.aten.", "torch._C._special.", "torch.")


def tensor_shape(args: tuple[Any, ...], what: str) -> tuple[int, ...]:
    """The size of `torch.empty(2, 3)` or `torch.empty((2, 3))`; ints only."""
    sizes = args[0] if len(args) == 1 and isinstance(args[0], (tuple, list)) else args
    if not all(isinstance(s, int) and not isinstance(s, bool) for s in sizes):
        raise CannotEvaluate(f"{what}{tuple(sizes)!r}: size is not integers")
    return tuple(sizes)


def make_factory(name: str) -> Callable[..., SymTensor]:
    def factory(*args: Any, **kwargs: Any) -> SymTensor:
        # device/dtype/requires_grad (factory_kwargs) do not change the shape.
        sizes = args[:1] if name == "full" else args
        return SymTensor(tensor_shape(sizes, f"torch.{name}"))
    return factory


def _tensor_from_data(data: Any, *args: Any, **kwargs: Any) -> SymTensor:
    """torch.tensor / torch.as_tensor: numbers keep their values; a tensor its shape."""
    if isinstance(data, SymTensor):
        return SymTensor(data.shape, values=data.values, requires_grad=data.requires_grad)
    if isinstance(data, (int, float)) and not isinstance(data, bool):
        return SymTensor((), values=[data])
    if isinstance(data, (list, tuple)) and data and all(
            isinstance(v, (int, float)) and not isinstance(v, bool) for v in data):
        return valued(list(data))
    shape: list[int] = []
    while isinstance(data, (list, tuple)):
        shape.append(len(data))
        data = data[0] if data else None
    return SymTensor(tuple(shape))


def _parameter(data: Any = None, requires_grad: bool = True) -> SymTensor:
    if data is None:
        return SymTensor((0,), is_parameter=True, requires_grad=requires_grad)
    if not isinstance(data, SymTensor):
        raise CannotEvaluate(f"Parameter of a value that is not a tensor: {data!r}")
    return SymTensor(data.shape, data.origin, is_parameter=True, requires_grad=requires_grad)


def _buffer(data: Any, persistent: bool = True) -> SymTensor:
    if not isinstance(data, SymTensor):
        raise CannotEvaluate(f"Buffer of a value that is not a tensor: {data!r}")
    return SymTensor(data.shape, data.origin)


def _linspace(start: float, stop: float, num: int = 50, *args: Any, **kwargs: Any) -> KnownValues:
    """numpy.linspace and torch.linspace (a 1-d tensor of known values: drop-path rates)."""
    if not isinstance(num, int) or isinstance(num, bool) or num < 0:
        raise CannotEvaluate(f"linspace with {num!r} points")
    if num == 1:
        return KnownValues([KnownNumber(start)])
    step = (stop - start) / (num - 1)
    return KnownValues([KnownNumber(start + i * step) for i in range(num)])


def _device(kind: Any = "cpu", index: Any = None) -> Any:
    """torch.device("cuda:0") as the evaluator needs it: its type and index."""
    if isinstance(kind, types.SimpleNamespace):
        return kind
    text = str(kind)
    name, _, number = text.partition(":")
    return types.SimpleNamespace(type=name, index=int(number) if number.isdigit() else index)


def _empty_state_dict(*args: Any, **kwargs: Any) -> dict[str, Any]:
    return {}


def _false(*args: Any, **kwargs: Any) -> bool:
    return False


def _first(value: Any, *args: Any, **kwargs: Any) -> Any:
    return value


def _copy_containers(value: Any, deep: bool) -> Any:
    """`copy.copy`/`copy.deepcopy` of plain containers: a fresh dict or list, so that a later
    `pop` or item assignment on the copy leaves the original alone. Objects the evaluator
    models (modules, tensors, instances) stay shared: their copies would be indistinguishable."""
    def inner(item: Any) -> Any:
        return _copy_containers(item, deep) if deep else item
    if isinstance(value, dict):
        copied = type(value)() if type(value) in (dict, collections.OrderedDict) else {}
        for key, item in value.items():
            copied[key] = inner(item)
        return copied
    if isinstance(value, list):
        return [inner(item) for item in value]
    if isinstance(value, set):
        return set(value)
    if type(value) is tuple:
        return tuple(inner(item) for item in value)
    return value


def _deepcopy(value: Any, *args: Any, **kwargs: Any) -> Any:
    return _copy_containers(value, deep=True)


def _shallow_copy(value: Any) -> Any:
    return _copy_containers(value, deep=False)


def _second(kind: Any, value: Any, *args: Any, **kwargs: Any) -> Any:
    return value


def _nothing(*args: Any, **kwargs: Any) -> None:
    return None


NATIVES: dict[str, Any] = {
    "collections.OrderedDict": collections.OrderedDict,
    "collections.deque": collections.deque,
    "typing.OrderedDict": collections.OrderedDict,
    "collections.abc.Iterable": collections.abc.Iterable,
    "collections.abc.Sequence": collections.abc.Sequence,
    "collections.abc.Mapping": collections.abc.Mapping,
    "typing.Iterable": collections.abc.Iterable,
    "typing.Sequence": collections.abc.Sequence,
    "numbers.Integral": numbers.Integral,
    "numbers.Real": numbers.Real,
    "numbers.Number": numbers.Number,
    "collections.abc.Callable": collections.abc.Callable,
    "types.FunctionType": types.FunctionType,
    "types.LambdaType": types.FunctionType,
    "types.MethodType": types.MethodType,
    "typing.Callable": collections.abc.Callable,
    **{f"re.{name}": getattr(re, name) for name in (
        "split", "match", "fullmatch", "search", "sub", "findall", "compile", "escape")},
    "torch._unique2": AtenOp("aten::_unique2", "torch._unique2"),
    "itertools.repeat": itertools.repeat,
    "itertools.islice": itertools.islice,
    "itertools.chain": itertools.chain,
    "itertools.product": itertools.product,
    "operator.index": operator.index,
    **{f"operator.{name}": getattr(operator, name) for name in (
        "add", "sub", "mul", "truediv", "floordiv", "mod", "pow", "neg", "and_", "or_",
        "xor", "not_", "eq", "ne", "lt", "le", "gt", "ge", "getitem", "itemgetter",
        "attrgetter")},
    "functools.reduce": functools.reduce,
    "typing.cast": _second,
    "warnings.warn": _nothing,
    "copy.deepcopy": _deepcopy,
    "copy.copy": _shallow_copy,
    # A weak reference to an object the model keeps alive: calling it gives the object.
    "weakref.ref": lambda obj, callback=None: (lambda: obj),
    # The __torch_function__ override route: a side path, never taken for plain tensors.
    "torch.overrides.has_torch_function": _false,
    "torch.overrides.has_torch_function_unary": _false,
    "torch.overrides.has_torch_function_variadic": _false,
    "torch._C._has_torch_function": _false,
    "torch._C._has_torch_function_unary": _false,
    "torch._C._has_torch_function_variadic": _false,
    # No __torch_dispatch__ mode (make_fx, FakeTensorMode) is active in a plain eager call.
    "torch._C._len_torch_dispatch_stack": lambda: 0,
    # TorchScript and tracing switches: docgen evaluates eager Python.
    "torch.jit.annotate": _second,
    "torch.jit._script.annotate": _second,
    "torch._jit_internal.is_scripting": _false,
    "torch.jit.is_scripting": _false,
    "torch.jit.is_tracing": _false,
    "torch._C._get_tracing_state": _nothing,
    "torch.compiler.is_compiling": _false,
    "torch._dynamo.is_compiling": _false,
    "torch._C._log_api_usage_once": _nothing,
    # Autograd is on by default in eager mode (no torch.no_grad() around the call).
    "torch.is_grad_enabled": lambda: True,
    "torch._C.is_grad_enabled": lambda: True,
    "torch.is_autocast_enabled": _false,
    # Deterministic-algorithm checks pick an error path only when the user turned them on.
    "torch.are_deterministic_algorithms_enabled": _false,
    "torch._C._get_deterministic_algorithms": _false,
    "torch.is_deterministic_algorithms_warn_only_enabled": _false,
    "numpy.linspace": _linspace,
    "torch.linspace": _linspace,
    "torch.arange": arange,
    # A device names where tensors live: shapes do not depend on it.
    "torch.device": _device,
    "torch.backends.mha.get_fastpath_enabled": lambda: True,
    # Pretrained weights are downloaded at run time: the state dict is taken as empty (it sets
    # values, never the module tree), so loading code changes nothing that is counted.
    "torch.hub.load_state_dict_from_url": _empty_state_dict,
    "torchvision._internally_replaced_utils.load_state_dict_from_url": _empty_state_dict,
    "torch.utils.model_zoo.load_url": _empty_state_dict,
    # `name = _add_docstr(op, doc)` binds `op`.
    "torch._C._add_docstr": _first,
    "torch._tensor.Tensor": make_factory("Tensor"),
    "torch.tensor": _tensor_from_data,
    "torch.as_tensor": _tensor_from_data,
    "torch.nn.parameter.Parameter": _parameter,
    "torch.nn.parameter.Buffer": _buffer,
    "torch.nn.parameter.UninitializedParameter": _parameter,
    **{f"torch.{name}": make_factory(name) for name in TENSOR_FACTORIES},
    **{f"math.{name}": getattr(math, name) for name in (
        "ceil", "floor", "sqrt", "prod", "pi", "e", "inf", "log", "log2", "exp", "gcd",
        "isqrt", "fabs", "trunc")},
    **{f"builtins.{name}": getattr(builtins, name) for name in PURE_BUILTINS},
}

# Classes whose instances the evaluator represents natively, for isinstance checks.
TENSOR_CLASSES = ("torch._tensor.Tensor", "torch.Tensor", "torch.nn.parameter.Parameter")


def lookup_native(path: str) -> Any | None:
    """The native stand-in for dotted `path`, an AtenOp for a C operator, or None."""
    if path in NATIVES:
        return NATIVES[path]
    for prefix in ATEN_PREFIXES:
        rest = path[len(prefix):] if path.startswith(prefix) else ""
        if rest.isidentifier() and not rest.startswith("_") and rest[:1].islower():
            return AtenOp(f"aten::{rest}", path)
    return None


def builtin_names() -> dict[str, Any]:
    """The builtins visible in every module; isinstance/getattr/super are the evaluator's."""
    names: dict[str, Any] = {n: getattr(builtins, n) for n in PURE_BUILTINS}
    names.update({n: getattr(builtins, n) for n in EXCEPTIONS})
    names.update({"None": None, "True": True, "False": False, "object": object,
                  "NotImplemented": NotImplemented, "Ellipsis": Ellipsis})
    return names
