"""The values the static evaluator computes with: symbolic tensors, layer instances, unknowns.

Plain Python values (int, str, tuple, list, dict, None) stand for themselves. What cannot be a
plain value gets a class here: `SymTensor` (a tensor known only by its shape), `Instance` and
`ModuleInstance` (an object of a class read from source, with torch.nn.Module's registries),
`Unknown` (a value the evaluator could not compute, carrying why and where). This module
holds data and the semantics of torch.nn.Module's registries; evaluate.py runs the code.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from docgen.core.records import Location


class CannotEvaluate(Exception):
    """The evaluator met something it cannot compute without guessing."""

    def __init__(self, reason: str, location: Location | None = None,
                 cause: Unknown | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.location = location
        self.cause = cause  # the unknown input this failure merely passes on


class TooLarge(CannotEvaluate):
    """A value or a loop docgen refuses to make or run (models/limits.py, MAX_LOOP): the
    model is evaluated only in part, always a warning."""


class InputRejected(CannotEvaluate):
    """Shapes known for certain that the operator itself rejects (torch raises a RuntimeError
    there): the model's input does not fit it. Reported as an error, not as a gap."""


class ArgumentMismatch(CannotEvaluate):
    """A call whose arguments do not fit the function's signature: Python's TypeError, which
    evaluated code may catch (`try: act(inplace=True) except TypeError: act()`)."""


class Unknown:
    """A value that could not be computed; any use that matters reports `reason`."""

    def __init__(self, reason: str, location: Location | None = None) -> None:
        self.reason = reason
        self.location = location

    def describe(self) -> str:
        return f"{self.reason} ({self.location})" if self.location else self.reason

    def __bool__(self) -> bool:
        raise CannotEvaluate(f"condition depends on an unknown value: {self.describe()}")

    def __iter__(self) -> Any:
        raise CannotEvaluate(f"iterates over an unknown value: {self.describe()}")

    def __len__(self) -> int:
        raise CannotEvaluate(f"length of an unknown value: {self.describe()}")

    def __index__(self) -> int:
        raise CannotEvaluate(f"uses an unknown value as a number: {self.describe()}")

    def __repr__(self) -> str:
        return f"<unknown: {self.describe()}>"


@dataclass(eq=False)
class SymTensor:
    """A tensor known by its shape; parameters and buffers remember where they were created."""

    shape: tuple[int, ...]
    origin: Location | None = None
    is_parameter: bool = False
    requires_grad: bool = True
    # The elements of a small 1-d tensor whose values are known (torch.arange(4) * 8 + 32,
    # torch.tensor([1, 2])): configuration arithmetic done with tensors. None otherwise.
    values: list[Any] | None = None
    # Element strides when a view left it non-contiguous (models/layout.py); None: row-major.
    strides: tuple[int, ...] | None = None

    def numel(self) -> int:
        count = 1
        for dim in self.shape:
            count *= dim
        return count


@dataclass(eq=False)
class ClassRef:
    """A class read from source: its qualified name, defining module and resolved bases."""

    qualname: str
    module: str
    name: str
    node: Any  # ast.ClassDef
    bases: tuple[ClassRef, ...]
    mro: tuple[ClassRef, ...] = ()
    external_bases: tuple[str, ...] = ()  # bases with no source, by dotted name ("enum.Enum")

    def is_subclass_of(self, other: ClassRef) -> bool:
        return any(c.qualname == other.qualname for c in self.mro)

    @property
    def is_enum(self) -> bool:
        return any(base.startswith("enum.") for c in self.mro for base in c.external_bases)

    def __repr__(self) -> str:
        return f"<class {self.qualname}>"


@dataclass(eq=False)
class ModuleRef:
    """A Python module of the sources read, as a value (`torch`, `nn`, `F`)."""

    name: str


@dataclass(eq=False)
class External:
    """A dotted name with no Python source to read (`torch.conv2d`, `math.pi` are resolved
    elsewhere); any call or use of it is reported."""

    path: str


@dataclass(eq=False)
class AtenOp:
    """A callable that is one ATen operator (`torch.conv2d` -> aten::conv2d)."""

    name: str
    path: str = ""  # the Python name it was reached by, "torch.conv2d"


@dataclass(eq=False)
class Instance:
    """An object of a source class that is not a torch.nn.Module."""

    cls: ClassRef
    attrs: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class FieldSpec:
    """`dataclasses.field(default=..., default_factory=...)` as a class-body value."""

    default: Any = None
    default_factory: Any = None
    has_default: bool = False


@dataclass(frozen=True)
class CallSite:
    """Where a layer was constructed, and the call as written there."""

    text: str
    location: Location


@dataclass(eq=False)
class ModuleInstance(Instance):
    """A torch.nn.Module object: the three registries of Module.__init__ plus what forward did."""

    modules: OrderedDict[str, Any] = field(default_factory=OrderedDict)
    parameters: OrderedDict[str, Any] = field(default_factory=OrderedDict)
    buffers: OrderedDict[str, Any] = field(default_factory=OrderedDict)
    call_site: CallSite | None = None
    outputs: list[Any] = field(default_factory=list)
    ops: list[str] = field(default_factory=list)
    macs: int = 0
    macs_unknown: list[tuple[str, str]] = field(default_factory=list)  # (op, why)
    training: bool = True
    unknown: dict[str, Unknown] = field(default_factory=dict)
    # The outermost __init__'s arguments by parameter name (defaults included).
    init_arguments: tuple[tuple[str, Any], ...] | None = None
    # Operators of its forward that failed on known inputs: (op, why, where, whether the
    # operator rejects its input, as torch would at run time).
    failures: list[tuple[str, str, Location | None, bool]] = field(default_factory=list)

    def set_attribute(self, name: str, value: Any) -> None:
        """Module.__setattr__: parameters, submodules and buffers go to their registries."""
        if isinstance(value, Unknown):
            self.unknown[name] = value
        if isinstance(value, SymTensor) and value.is_parameter:
            self._drop(name)
            self.parameters[name] = value
        elif isinstance(value, ModuleInstance):
            self._drop(name)
            self.modules[name] = value
        elif name in self.parameters and value is None:
            self.parameters[name] = None
        elif name in self.buffers and (value is None or isinstance(value, SymTensor)):
            self.buffers[name] = value
        elif name in self.modules and value is None:
            self.modules[name] = None
        else:
            self._drop(name)
            self.attrs[name] = value

    def forget(self, name: str) -> None:
        """Module.__delattr__: the name leaves whichever registry holds it."""
        self._drop(name)
        self.unknown.pop(name, None)

    def _drop(self, name: str) -> None:
        for table in (self.attrs, self.parameters, self.buffers, self.modules):
            table.pop(name, None)

    def find_attribute(self, name: str) -> tuple[bool, Any]:
        """Module.__getattr__ order: instance dict, then parameters, buffers, submodules."""
        special = {"_modules": self.modules, "_parameters": self.parameters,
                   "_buffers": self.buffers, "training": self.training}
        if name in special:
            return True, special[name]
        for table in (self.attrs, self.parameters, self.buffers, self.modules):
            if name in table:
                return True, table[name]
        return False, None

    def walk(self, prefix: str = "") -> list[tuple[str, ModuleInstance]]:
        """(path, module) for this module and every submodule, depth first, each once."""
        seen: set[int] = set()
        out: list[tuple[str, ModuleInstance]] = []

        def visit(path: str, module: ModuleInstance) -> None:
            if id(module) in seen:
                return
            seen.add(id(module))
            out.append((path, module))
            for name, child in module.modules.items():
                if isinstance(child, ModuleInstance):
                    visit(f"{path}.{name}" if path else name, child)

        visit(prefix, self)
        return out


def module_native(module: ModuleInstance, name: str) -> Callable[..., Any] | None:
    """torch.nn.Module's own methods that shape the module tree, done natively.

    Module's source manipulates `__dict__` and hooks; the evaluator needs only the effect.
    """
    def add_module(key: str, child: Any) -> None:
        module.modules[key] = child

    def register_buffer(key: str, tensor: Any, persistent: bool = True) -> None:
        module.buffers[key] = tensor

    def register_parameter(key: str, param: Any) -> None:
        module.parameters[key] = param

    def modules() -> list[ModuleInstance]:
        return [m for _, m in module.walk()]

    def named_modules() -> list[tuple[str, ModuleInstance]]:
        return module.walk()

    def children() -> list[Any]:
        return [m for m in module.modules.values() if m is not None]

    def named_children() -> list[tuple[str, Any]]:
        return [(k, m) for k, m in module.modules.items() if m is not None]

    def parameters(recurse: bool = True) -> list[SymTensor]:
        owners = [m for _, m in module.walk()] if recurse else [module]
        return [p for m in owners for p in m.parameters.values() if p is not None]

    def train(mode: bool = True) -> ModuleInstance:
        module.training = mode
        return module

    table: dict[str, Callable[..., Any]] = {
        "add_module": add_module, "register_module": add_module,
        "register_buffer": register_buffer, "register_parameter": register_parameter,
        "modules": modules, "named_modules": named_modules, "children": children,
        "named_children": named_children, "parameters": parameters, "train": train,
        "eval": lambda: train(False),
    }
    return table.get(name)


def as_unknown(exc: CannotEvaluate, location: Location | None = None,
               reason: str | None = None) -> Unknown:
    """The Unknown a failed evaluation stands for: the unknown input it passes on, if any.

    (Never `exc.cause or ...`: an Unknown refuses to be used as a truth value.)
    """
    if exc.cause is not None:
        return exc.cause
    return Unknown(reason or exc.reason, location)
