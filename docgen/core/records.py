"""The frozen data model every stage exchanges; it imports nothing from docgen and holds no logic.

Objects refer to each other by dotted path, never by reference, so the model has no cycles,
compares structurally and turns into JSON without special cases.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class MemberKind(StrEnum):
    """What a class member is, as a student would classify it."""

    INSTANCE_ATTRIBUTE = "instance_attribute"
    CLASS_ATTRIBUTE = "class_attribute"
    ANNOTATION = "annotation"
    PARAMETER = "parameter"
    BUFFER = "buffer"
    SUBMODULE = "submodule"
    PROPERTY = "property"
    CONSTANT = "constant"


class MethodKind(StrEnum):
    """How a method is bound."""

    METHOD = "method"
    STATICMETHOD = "staticmethod"
    CLASSMETHOD = "classmethod"
    ALIAS = "alias"


class Severity(StrEnum):
    ERROR = "error"  # the input is wrong: the running program would raise here
    WARNING = "warning"  # something that matters was not evaluated
    INFO = "info"  # explains a figure; nothing is missing

    @property
    def matters(self) -> bool:
        """An error or a warning: a figure it touches is wrong or missing."""
        return self is not Severity.INFO


@dataclass(frozen=True, order=True)
class Location:
    """A POSIX path relative to the source root of its distribution, and a 1-based line."""

    path: str
    line: int

    def __str__(self) -> str:
        return f"{self.path}:{self.line}"


@dataclass(frozen=True)
class Diagnostic:
    """A problem found in the input; it never stops the rest of the work."""

    path: str
    line: int
    message: str
    severity: Severity = Severity.WARNING

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.message}"


@dataclass(frozen=True)
class DistributionInfo:
    """A distribution that was read, and how it was found."""

    name: str
    version: str
    origin: str  # "env", "wheel", "folder"
    spec: str  # what the user asked for, without absolute paths


@dataclass(frozen=True)
class BaseCall:
    """A base written as a call (`namedtuple("Row", "a b")`, `Base.from_queryset(QuerySet)`):
    the callee and the positional arguments as dotted text ("" for anything else), and the
    first argument when it is a string literal (the class name namedtuple and type take)."""

    callee: str
    args: tuple[str, ...]
    name: str | None = None


@dataclass(frozen=True)
class ClassFactory:
    """A function or method that returns `type(name, (bases...), namespace)`.

    `params` are its positional parameter names (`cls` first for a classmethod), `bases` the
    tuple's items as dotted text, `name_param` the parameter passed as the name, if any."""

    params: tuple[str, ...]
    bases: tuple[str, ...]
    is_classmethod: bool = False
    name_param: str | None = None


@dataclass(frozen=True)
class BaseRef:
    """A base class as written, and the qualified class it resolved to (None: external).

    `path` is the dotted name the text points at once imports are expanded
    (`torch._C.TensorBase`, `typing.Generic`), known even when no source defines it.
    `call` describes a base written as a call until resolution replaces it by the class
    the call makes.
    """

    text: str
    target: str | None
    path: str | None = None
    call: BaseCall | None = None


@dataclass(frozen=True)
class AssignmentDoc:
    """One place where a class gives a member a value, as written.

    `scope` is "class" for the class body, else the method holding the statement
    (`__init__`, `compile`); `condition` the `if` tests it sits under, innermost last
    (`not transposed` for an `else` branch); `via` the call that set it when it is not a
    plain `self.x = ...` (`super().__setattr__`, `object.__setattr__`, `setattr`,
    `register_buffer`, ...).
    """

    value_text: str | None
    location: Location
    scope: str
    condition: str | None = None
    via: str | None = None


@dataclass(frozen=True)
class MemberDoc:
    """A member and the sighting that decided its kind; `assignments` holds every sighting
    in the class, in source order (class-level defaults, each branch of an `if`)."""

    name: str
    kind: MemberKind
    type_text: str | None
    defined_in: str
    location: Location
    value_text: str | None = None
    constructor: str | None = None  # dotted callee as written, when the value is a call
    assignments: tuple[AssignmentDoc, ...] = ()


@dataclass(frozen=True)
class MethodDoc:
    name: str
    signature: str
    kind: MethodKind
    decorators: tuple[str, ...]
    summary: str
    defined_in: str
    location: Location
    group: str
    alias_of: str | None = None
    overloads: tuple[str, ...] = ()
    is_abstract: bool = False


@dataclass(frozen=True)
class DocstringDoc:
    """The summary (first sentence) and the known text of a docstring, dedented.

    `is_dynamic` when it is built at run time from non-literals; `text` then holds the part
    known statically (up to the first unknown piece) and `is_partial` says so.
    """

    summary: str
    is_dynamic: bool = False
    text: str = ""
    is_partial: bool = False


@dataclass(frozen=True)
class ClassDoc:
    qualname: str
    module: str
    name: str
    location: Location
    bases: tuple[BaseRef, ...]
    docstring: DocstringDoc
    members: tuple[MemberDoc, ...]
    methods: tuple[MethodDoc, ...]
    is_selected: bool = True
    # For a nested class: what the enclosing class body bound before it, where its bases
    # are looked up first (then the module).
    scope: tuple[tuple[str, Binding], ...] = ()


@dataclass(frozen=True)
class Binding:
    """What a module-level name is bound to.

    kind: "class" / "function" / "value" (defined here, target is its qualified name),
    "import" (target is the absolute dotted path imported), "alias" (`X = a.b`, target is
    the dotted text as written, resolved in this module).
    """

    kind: str
    target: str
    line: int


@dataclass(frozen=True)
class SymbolTable:
    """The names a module binds, as data, so resolution never needs its syntax tree."""

    name: str
    is_package: bool
    bindings: tuple[tuple[str, Binding], ...]
    star_imports: tuple[str, ...]
    exports: tuple[str, ...] | None  # __all__, when it is a literal
    # Functions and methods (by qualified name) that return a class made by `type(...)`.
    factories: tuple[tuple[str, ClassFactory], ...] = ()
    # Names bound to values known statically (literals), as the module leaves them.
    constants: tuple[tuple[str, Any], ...] = ()
    # Module-level `if`s whose test reads names bound elsewhere: decided by resolve.py.
    choices: tuple[BranchChoice, ...] = ()


@dataclass(frozen=True)
class BranchChoice:
    """An `if` (or a `try` whose body imports from the sources read) one module cannot
    decide alone: its test (classes/branches.py's data form) and the bindings its branches
    make (`otherwise`: the else branch, or the first `except` handler)."""

    test: tuple[Any, ...]
    then: tuple[tuple[str, Binding], ...]
    otherwise: tuple[tuple[str, Binding], ...]
    # The statically known values each branch leaves its names with.
    then_constants: tuple[tuple[str, Any], ...] = ()
    otherwise_constants: tuple[tuple[str, Any], ...] = ()


@dataclass(frozen=True)
class ModuleDoc:
    name: str
    path: str
    distribution: str
    classes: tuple[ClassDoc, ...]
    is_package: bool = False


@dataclass(frozen=True)
class ModuleAnalysis:
    """What one file yields: its classes, its names, and what went wrong in it."""

    module: ModuleDoc
    symbols: SymbolTable
    diagnostics: tuple[Diagnostic, ...]


@dataclass(frozen=True)
class InheritedMember:
    """A member as seen from a class: where it was defined and whether it came from a base."""

    member: MemberDoc
    is_inherited: bool


@dataclass(frozen=True)
class ResolvedMethod:
    method: MethodDoc
    is_inherited: bool
    overrides: str | None  # qualified name of the base class whose method this one overrides


@dataclass(frozen=True)
class ClassView:
    """Derived facts about one class, computed once in hierarchy.py."""

    qualname: str
    resolution_order: tuple[str, ...]  # the MRO; `mro` would shadow type.mro in dataclasses
    mro_error: str | None
    members: tuple[InheritedMember, ...]
    methods: tuple[ResolvedMethod, ...]
    subclasses: tuple[str, ...]
    public_paths: tuple[str, ...]


@dataclass(frozen=True)
class Project:
    """Everything analysed: distributions read, classes found, problems met."""

    distributions: tuple[DistributionInfo, ...]
    packages: tuple[str, ...]
    model: str | None
    modules: tuple[ModuleDoc, ...]
    views: tuple[ClassView, ...] = ()
    aliases: tuple[tuple[str, str], ...] = ()  # (public path, qualified name)
    diagnostics: tuple[Diagnostic, ...] = field(default=())

    def classes(self) -> tuple[ClassDoc, ...]:
        return tuple(c for m in self.modules for c in m.classes)


@dataclass(frozen=True)
class LayerDoc:
    """One layer of a model's composition, as written in `__init__`.

    `path` is the attribute path (`features.0`), `callee` the constructor as written
    (`nn.Conv2d`), `arguments` its arguments exactly as written (`3, 64, kernel_size=11`;
    for a container, the arguments that are not layers), `target` the qualified class it
    builds (None when no source defines it). Containers hold their `children`.
    """

    path: str
    name: str
    arguments: str
    callee: str
    target: str | None
    location: Location
    children: tuple[LayerDoc, ...] = ()
    # the evaluated constructor arguments by parameter name, in signature order, defaults
    # included (the model reader's LayerNode.arguments); () when not evaluated
    values: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class ForwardStepDoc:
    """One statement of `forward`, and the layer attribute it calls (None: a function)."""

    text: str
    layer: str | None
    location: Location


@dataclass(frozen=True)
class ModelDoc:
    """A model's static composition: its layer tree and the data flow of `forward`."""

    qualname: str
    location: Location
    layers: tuple[LayerDoc, ...]
    forward: tuple[ForwardStepDoc, ...]


@dataclass(frozen=True)
class TensorDoc:
    """A parameter or buffer of a layer: its shape and the line that created it."""

    name: str
    shape: tuple[int, ...] | None
    location: Location | None
    is_buffer: bool = False
    is_trainable: bool = True
    note: str | None = None  # why the shape is unknown


@dataclass(frozen=True)
class LayerRow:
    """One module of a model as `docgen summary` lists it (depth-first, parents first).

    `params` counts the parameters registered on this module itself (not its children);
    `macs` the multiply-accumulates of the ATen operators its own forward called. A None
    means "not derived"; `notes` then says why.
    """

    path: str  # "features.0"; "" for the model itself
    depth: int
    qualname: str  # the layer class, "torch.nn.modules.conv.Conv2d"
    call: str  # the constructor call as written, "nn.Conv2d(3, 64, kernel_size=11, ...)"
    location: Location | None  # where that call is written
    output_shapes: tuple[tuple[int, ...], ...] | None
    params: int | None
    trainable: int | None
    macs: int | None
    ops: tuple[str, ...]
    tensors: tuple[TensorDoc, ...]
    notes: tuple[str, ...] = ()
    kind: str = "layer"  # or "function": a functional step of its parent's forward


@dataclass(frozen=True)
class ModelSummary:
    """A model's layers, shapes, parameter counts and MACs, evaluated from source."""

    model: str  # "torchvision.models.alexnet:AlexNet"
    input_shape: tuple[int, ...]
    rows: tuple[LayerRow, ...]
    output_shapes: tuple[tuple[int, ...], ...] | None
    total_params: int | None
    trainable_params: int | None
    total_buffers: int | None
    total_macs: int | None
    param_bytes: int | None  # at float32
    diagnostics: tuple[Diagnostic, ...]
    distributions: tuple[DistributionInfo, ...] = ()
    # Sums over the rows whose figure is known, and how many rows lack one: an incomplete
    # summary shows "at least <known> (<k> layers unknown)", never a partial figure as total.
    known_params: int = 0
    known_macs: int = 0
    rows_without_params: int = 0
    rows_without_macs: int = 0
    more_inputs: tuple[tuple[int, ...], ...] = ()  # forward's further inputs (RAFT's image2)

    @property
    def is_complete(self) -> bool:
        """No statement that could change the module tree was left unevaluated."""
        return not any(d.severity == Severity.WARNING for d in self.diagnostics)
