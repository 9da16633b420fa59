"""The evaluator's frames, the callables it makes from source (functions, bound methods,
partials, super()), control-flow signals, and the contract between its parts.

A `Frame` holds the local names of one call; `EvaluatorCore` declares the state and the hooks
that the evaluator's parts (statements.py, expressions.py, calls.py, attributes.py,
pybuiltins.py, namespace.py) use to reach each other."""

from __future__ import annotations

import ast
from dataclasses import dataclass, field
from typing import Any

from docgen.classes.resolve import Resolver
from docgen.core.errors import SourceError
from docgen.core.records import Diagnostic, Location, Severity
from docgen.models.steps import StepRecorder
from docgen.models.values import (
    ArgumentMismatch,
    CannotEvaluate,
    ClassRef,
    Instance,
    ModuleInstance,
    ModuleRef,
    Unknown,
)

MAX_LOOP = 10_000


@dataclass
class SourceModule:
    """One module's syntax tree and its top-level definitions by name."""

    name: str
    path: str
    text: str
    tree: ast.Module
    defs: dict[str, ast.stmt] = field(default_factory=dict)
    # Every top-level statement binding a name, in order (defs holds the last one): a later
    # `default_cfgs = generate_default_cfgs(default_cfgs)` reads the earlier value.
    bindings: dict[str, list[ast.stmt]] = field(default_factory=dict)
    values: dict[str, Any] = field(default_factory=dict)
    imports: set[str] = field(default_factory=set)  # names bound by `from ... import`
    _lines: list[str] | None = None

    def segment(self, node: ast.AST) -> str | None:
        """The source text of `node` (ast.get_source_segment, with the lines split once)."""
        if self._lines is None:
            self._lines = self.text.splitlines(keepends=True)
        start, end = getattr(node, "lineno", None), getattr(node, "end_lineno", None)
        col, end_col = getattr(node, "col_offset", None), getattr(node, "end_col_offset", None)
        if start is None or end is None or col is None or end_col is None:
            return None
        lines = self._lines[start - 1:end]
        if not lines:
            return None
        if len(lines) == 1:
            return lines[0].encode()[col:end_col].decode(errors="replace")
        first = lines[0].encode()[col:].decode(errors="replace")
        last = lines[-1].encode()[:end_col].decode(errors="replace")
        return "".join([first, *lines[1:-1], last])


@dataclass(eq=False)
class Frame:
    """Local names of one call; `parent` is the enclosing function's frame (closures)."""

    module: SourceModule
    names: dict[str, Any] = field(default_factory=dict)
    parent: Frame | None = None
    owner: ClassRef | None = None  # class whose method runs (zero-argument super())


class ReturnSignal(Exception):
    def __init__(self, value: Any) -> None:
        self.value = value


class BreakSignal(Exception):
    pass


class ContinueSignal(Exception):
    pass


class ModelRaise(Exception):
    """A `raise` the evaluated code reached: the real model would fail here too."""

    def __init__(self, message: str, location: Location) -> None:
        super().__init__(message)
        self.message = message
        self.location = location


@dataclass(eq=False)
class SuperProxy:
    owner: ClassRef
    instance: Any


class FunctionRef:
    """A function read from source (def or lambda); Python-callable through its evaluator."""

    def __init__(self, evaluator: EvaluatorCore, module: SourceModule, node: Any,
                 closure: Frame | None, owner: ClassRef | None) -> None:
        self.evaluator = evaluator
        self.module = module
        self.node = node
        self.closure = closure
        self.owner = owner
        self.attrs: dict[str, Any] = {}
        self.name = getattr(node, "name", "<lambda>")

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.evaluator.call_function(self, args, kwargs)

    def __repr__(self) -> str:
        return f"<function {self.module.name}.{self.name}>"


@dataclass(eq=False)
class BoundMethod:
    func: Any
    instance: Any

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        evaluator = self.func.evaluator
        return evaluator.call(self.func, (self.instance, *args), kwargs)


class Partial:
    """functools.partial over any callable the evaluator knows."""

    def __init__(self, evaluator: EvaluatorCore, func: Any, *args: Any, **kwargs: Any) -> None:
        self.evaluator, self.func, self.args, self.kwargs = evaluator, func, args, kwargs

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.evaluator.call(self.func, (*self.args, *args), {**self.kwargs, **kwargs})

    @property
    def keywords(self) -> dict[str, Any]:  # functools.partial's name for them
        return self.kwargs


class EvaluatorCore:
    """What the parts of the evaluator share: its state, its diagnostics, and the hooks
    by which one concern (statements, expressions, calls, attributes, builtins, names)
    reaches another. evaluate.Evaluator combines the parts; each part implements its own
    hooks and calls the others only through the names declared here."""

    resolver: Resolver
    module_root: str  # the class that stands for torch.nn.Module
    modules: dict[str, SourceModule | None]
    load_errors: dict[str, SourceError]  # modules that could not be parsed, and why
    classes: dict[str, ClassRef]
    depth: int
    module_stack: list[ModuleInstance]
    builtins: dict[str, Any]
    recorder: StepRecorder
    enum_members: dict[str, Instance]
    grad_enabled: bool  # what torch.is_grad_enabled() answers (False under torch.no_grad())
    building: list[ModuleInstance]  # modules whose __init__ runs, innermost last

    def __init__(self) -> None:
        self.diagnostics: list[Diagnostic] = []
        self.load_errors = {}
        # `try` blocks running now whose handlers catch TypeError: a call with unfitting
        # arguments inside them propagates to the handler instead of being skipped.
        self.type_error_handlers = 0

    def is_caught(self, exc: CannotEvaluate) -> bool:
        """Whether a failure must propagate to an enclosing `except TypeError`."""
        return isinstance(exc, ArgumentMismatch) and self.type_error_handlers > 0

    def report(self, location: Location | None, message: str,
               severity: Severity = Severity.WARNING) -> None:
        loc = location or Location("<unknown>", 0)
        diag = Diagnostic(loc.path, loc.line, message, severity)
        if diag not in self.diagnostics:
            self.diagnostics.append(diag)

    def location(self, frame: Frame, node: ast.AST) -> Location:
        return Location(frame.module.path, getattr(node, "lineno", 0))

    def native(self, path: str) -> Any:
        raise NotImplementedError

    def instantiate(self, cls: ClassRef, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        raise NotImplementedError

    def get_attribute(self, obj: Any, name: str) -> Any:
        raise NotImplementedError

    def get_item(self, container: Any, key: Any) -> Any:
        raise NotImplementedError

    def set_attribute(self, obj: Any, name: str, value: Any) -> None:
        raise NotImplementedError

    def set_item(self, container: Any, key: Any, value: Any) -> None:
        raise NotImplementedError

    def delete_item(self, container: Any, key: Any) -> None:
        raise NotImplementedError

    def delete_attribute(self, obj: Any, name: str) -> None:
        raise NotImplementedError

    def call(self, func: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        raise NotImplementedError

    def call_function(self, func: FunctionRef, args: tuple[Any, ...],
                      kwargs: dict[str, Any]) -> Any:
        raise NotImplementedError

    def call_op(self, op: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        raise NotImplementedError

    def dataclass_init(self, cls: ClassRef) -> Any:
        raise NotImplementedError

    def evaluate_call(self, node: ast.Call, frame: Frame, discarded: bool) -> Any:
        raise NotImplementedError

    def argument(self, node: ast.expr, frame: Frame) -> Any:
        raise NotImplementedError

    def expr(self, node: ast.expr, frame: Frame) -> Any:
        raise NotImplementedError

    def truth(self, value: Any) -> bool:
        raise NotImplementedError

    def class_attribute(self, cls: ClassRef, name: str, start: int = 0
                        ) -> tuple[bool, Any, ClassRef | None]:
        raise NotImplementedError

    def global_name(self, frame: Frame, name: str) -> Any:
        raise NotImplementedError

    def import_value(self, dotted: str) -> Any:
        raise NotImplementedError

    def make_function(self, node: ast.FunctionDef | ast.Lambda, frame: Frame) -> Any:
        raise NotImplementedError

    def module_attribute(self, ref: ModuleRef, name: str) -> Any:
        raise NotImplementedError

    def source_module(self, name: str) -> SourceModule | None:
        raise NotImplementedError

    def binary(self, op: ast.operator, left: Any, right: Any, in_place: bool = False) -> Any:
        raise NotImplementedError

    def compare_tensor(self, op: ast.cmpop, left: Any, right: Any) -> Any:
        raise NotImplementedError

    def iterate(self, value: Any) -> list[Any]:
        raise NotImplementedError

    def assign(self, target: ast.expr, value: Any, frame: Frame) -> None:
        raise NotImplementedError

    def block(self, body: list[ast.stmt], frame: Frame) -> None:
        raise NotImplementedError

    def mark_unknown(self, what: str, unknown: Unknown) -> None:
        raise NotImplementedError
