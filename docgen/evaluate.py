"""Static evaluation of model-building Python code, read from source and never imported.

Runs the statements of a model's builder, `__init__` chain and `forward` over the values of
values.py: literals, arithmetic, locals, `if`/`for`/`while`, list building, comprehensions,
helper functions and methods, `functools.partial`, class attributes, `super().__init__`,
closures. torch.nn.Module's registries are emulated (values.ModuleInstance); tensors are
shapes (values.SymTensor); C operators go to the shape table (shapes.py).

It reads the source with the standard library's `ast`, not astroid: the evaluator needs the
plain syntax of a function body and nothing of astroid's inference, and parse.py stays the
only builder of astroid trees. Names are resolved with the core Resolver.

Whatever cannot be computed becomes `Unknown` with its reason and location; a problem is
reported (`Diagnostic`) only when it can change the module tree, a shape or a count.
Decorators are ignored (a decorated builder is assumed to call the function it wraps), except
staticmethod/classmethod/property, which change binding.
"""

from __future__ import annotations

import ast
import functools
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from docgen.model import Diagnostic, Location, Severity
from docgen.natives import TENSOR_CLASSES, builtin_names, lookup_native
from docgen.parse import decode_source
from docgen.resolve import MODULE_ROOT, Resolver
from docgen.shapes import apply_op
from docgen.values import (
    AtenOp,
    CallSite,
    CannotEvaluate,
    ClassRef,
    External,
    Instance,
    ModuleInstance,
    ModuleRef,
    SymTensor,
    Unknown,
    module_native,
)

MAX_DEPTH = 80
MAX_LOOP = 10_000
STRUCTURAL_CALLS = {"add_module", "register_module", "register_buffer", "register_parameter",
                    "append", "extend", "insert", "update", "setattr", "__setitem__"}


@dataclass
class SourceModule:
    """One module's syntax tree and its top-level definitions by name."""

    name: str
    path: str
    text: str
    tree: ast.Module
    defs: dict[str, ast.stmt] = field(default_factory=dict)
    values: dict[str, Any] = field(default_factory=dict)


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


class Evaluator:
    """Evaluates calls into source code found through a Resolver; collects diagnostics."""

    def __init__(self, resolver: Resolver) -> None:
        self.resolver = resolver
        self.modules: dict[str, SourceModule | None] = {}
        self.classes: dict[str, ClassRef] = {}
        self.diagnostics: list[Diagnostic] = []
        self.depth = 0
        self.module_stack: list[ModuleInstance] = []
        self.builtins = builtin_names()
        self.builtins.update({name: getattr(self, f"builtin_{name}") for name in _WRAPPED})
        self.builtins.update({"isinstance": self.isinstance, "issubclass": self.issubclass,
                              "getattr": self.builtin_getattr, "hasattr": self.builtin_hasattr,
                              "setattr": self.builtin_setattr, "type": self.builtin_type})

    # ----------------------------------------------------------------- reporting

    def report(self, location: Location | None, message: str,
               severity: Severity = Severity.WARNING) -> None:
        loc = location or Location("<unknown>", 0)
        diag = Diagnostic(loc.path, loc.line, message, severity)
        if diag not in self.diagnostics:
            self.diagnostics.append(diag)

    def location(self, frame: Frame, node: ast.AST) -> Location:
        return Location(frame.module.path, getattr(node, "lineno", 0))

    # ----------------------------------------------------------------- modules and names

    def native(self, path: str) -> Any:
        if path == "functools.partial":
            return lambda func, *args, **kwargs: Partial(self, func, *args, **kwargs)
        return lookup_native(path)

    def source_module(self, name: str) -> SourceModule | None:
        if name not in self.modules:
            self.modules[name] = self._load_module(name)
        return self.modules[name]

    def _load_module(self, name: str) -> SourceModule | None:
        found = self.resolver.index.sources.find_module(name)
        if found is None:
            return None
        try:
            text = decode_source(found.tree.read_bytes(found.path), found.path)
            tree = ast.parse(text, found.path)
        except (OSError, SyntaxError, ValueError) as exc:
            self.report(Location(found.path, getattr(exc, "lineno", 1) or 1),
                        f"cannot read for evaluation: {exc}")
            return None
        module = SourceModule(name, found.path, text, tree)
        for stmt in _top_level(tree.body):
            for target in _bound_names(stmt):
                module.defs[target] = stmt
        return module

    def module_global(self, module: SourceModule, name: str) -> Any:
        """What `name` means at the top level of `module` (definitions, imports, builtins)."""
        if name in module.values:
            return module.values[name]
        module.values[name] = Unknown(f"{module.name}.{name} refers to itself")
        value = self._module_global(module, name)
        module.values[name] = value
        return value

    def _module_global(self, module: SourceModule, name: str) -> Any:
        if name == "__name__":
            return module.name
        stmt = module.defs.get(name)
        frame = Frame(module)
        if isinstance(stmt, ast.ClassDef):
            return self.class_ref(f"{module.name}.{name}")
        if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)):
            return FunctionRef(self, module, stmt, None, None)
        if isinstance(stmt, (ast.Assign, ast.AnnAssign)) and stmt.value is not None:
            try:
                value = self.expr(stmt.value, frame)
            except CannotEvaluate as exc:
                return exc.cause or Unknown(exc.reason, self.location(frame, stmt))
            targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
            scratch = Frame(module)
            for target in targets:
                self.assign(target, value, scratch)
            return scratch.names.get(name, Unknown(f"{name} not bound"))
        if name in self.builtins and stmt is None:
            return self.builtins[name]
        return self.imported(module.name, name)

    def imported(self, module: str, dotted: str) -> Any:
        """A name bound by an import (or a star import) in `module`."""
        target = self.resolver.resolve_in(module, dotted)
        if target is None:
            path = self.resolver.expand(module, dotted)
            native = self.native(path)
            if native is not None:
                return native
            if self.resolver.index.has_module(path):
                return ModuleRef(path)
            return External(path)
        return self.target_value(target.kind, target.qualname)

    def target_value(self, kind: str, qualname: str) -> Any:
        if kind == "class":
            try:
                return self.class_ref(qualname)
            except CannotEvaluate:
                return self.native(qualname) or External(qualname)
        native = self.native(qualname) if kind != "module" else None
        if native is not None and not isinstance(native, AtenOp):
            return native
        if kind == "module":
            return ModuleRef(qualname)
        if kind == "class":
            return self.class_ref(qualname)
        module_name, _, attr = qualname.rpartition(".")
        module = self.source_module(module_name)
        if module is None:
            return External(qualname)
        return self.module_global(module, attr)

    def module_attribute(self, ref: ModuleRef, name: str) -> Any:
        path = f"{ref.name}.{name}"
        native = self.native(path)
        if native is not None and not isinstance(native, AtenOp):
            return native
        module = self.source_module(ref.name)
        if module is not None and name in module.defs:
            return self.module_global(module, name)
        if self.resolver.index.has_module(path):
            return ModuleRef(path)
        target = self.resolver.resolve_in(ref.name, name)
        if target is not None:
            return self.target_value(target.kind, target.qualname)
        return native if native is not None else External(path)

    # ----------------------------------------------------------------- classes

    def class_ref(self, qualname: str) -> ClassRef:
        if qualname in self.classes:
            return self.classes[qualname]
        module_name, node = self._class_node(qualname)
        if node is None or module_name is None:
            raise CannotEvaluate(f"no source for class {qualname}")
        ref = ClassRef(qualname, module_name, node.name, node, ())
        self.classes[qualname] = ref
        bases = []
        for base in node.bases:
            text = ast.unparse(base).split("[", 1)[0]
            target = self.resolver.resolve_in(module_name, text)
            if target is not None and target.kind == "class" and target.qualname != qualname:
                try:
                    bases.append(self.class_ref(target.qualname))
                except CannotEvaluate:
                    continue
        ref.bases = tuple(bases)
        ref.mro = _c3(ref)
        return ref

    def _class_node(self, qualname: str) -> tuple[str | None, ast.ClassDef | None]:
        parts = qualname.split(".")
        for i in range(len(parts) - 1, 0, -1):
            module = self.source_module(".".join(parts[:i]))
            if module is None:
                continue
            body: list[ast.stmt] = module.tree.body
            node = None
            for name in parts[i:]:
                node = next((s for s in _top_level(body)
                             if isinstance(s, ast.ClassDef) and s.name == name), None)
                if node is None:
                    break
                body = node.body
            return module.name, node
        return None, None

    def class_attribute(self, cls: ClassRef, name: str, start: int = 0
                        ) -> tuple[bool, Any, ClassRef | None]:
        """Look `name` up along the MRO from index `start`: (found, raw value, owner)."""
        for owner in cls.mro[start:]:
            if owner.qualname == MODULE_ROOT:
                break
            stmt = _class_member(owner.node, name)
            if stmt is None:
                continue
            module = self.source_module(owner.module)
            assert module is not None
            if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)):
                return True, FunctionRef(self, module, stmt, None, owner), owner
            if isinstance(stmt, ast.ClassDef):
                return True, self.class_ref(f"{owner.qualname}.{name}"), owner
            value_node = stmt.value if isinstance(stmt, (ast.Assign, ast.AnnAssign)) else None
            if value_node is None:
                continue
            try:
                value = self.expr(value_node, Frame(module, owner=owner))
            except CannotEvaluate as exc:
                value = exc.cause or Unknown(exc.reason, Location(module.path, stmt.lineno))
            return True, value, owner
        return False, None, None

    def instantiate(self, cls: ClassRef, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        is_module = any(c.qualname == MODULE_ROOT for c in cls.mro)
        native = self.native(cls.qualname)
        if native is not None:  # Tensor, Parameter, Buffer: shapes, not source
            return self.call(native, args, kwargs)
        instance: Instance = ModuleInstance(cls) if is_module else Instance(cls)
        found, init, _ = self.class_attribute(cls, "__init__")
        if found and isinstance(init, FunctionRef):
            self.call_function(init, (instance, *args), kwargs)
        elif _is_dataclass(cls.node):
            self.dataclass_init(cls)(instance, *args, **kwargs)
        elif not is_module and (args or kwargs) and not found:
            if _is_dataclass(cls.node):
                raise CannotEvaluate(f"dataclass {cls.qualname} is not evaluated")
            raise CannotEvaluate(f"{cls.qualname}() takes arguments but has no __init__ source")
        return instance

    def dataclass_init(self, cls: ClassRef) -> Any:
        """The `__init__` @dataclass generates: fields in MRO order, defaults from source."""
        fields: dict[str, ast.AnnAssign] = {}
        for owner in reversed(cls.mro):
            if _is_dataclass(owner.node):
                for stmt in owner.node.body:
                    if isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name) \
                            and "ClassVar" not in ast.unparse(stmt.annotation):
                        fields[stmt.target.id] = stmt
        module = self.source_module(cls.module)
        assert module is not None

        def init(instance: Instance, *args: Any, **kwargs: Any) -> None:
            for i, (name, stmt) in enumerate(fields.items()):
                if i < len(args):
                    value = args[i]
                elif name in kwargs:
                    value = kwargs[name]
                elif stmt.value is not None:
                    value = self.expr(stmt.value, Frame(module))
                else:
                    raise CannotEvaluate(f"{cls.name}() missing field {name!r}")
                self.set_attribute(instance, name, value)
        return init

    # ----------------------------------------------------------------- calls

    def call(self, func: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        if isinstance(func, Unknown):
            return func
        if isinstance(func, FunctionRef):
            return self.call_function(func, args, kwargs)
        if isinstance(func, BoundMethod):
            return self.call(func.func, (func.instance, *args), kwargs)
        if isinstance(func, ClassRef):
            return self.instantiate(func, args, kwargs)
        if isinstance(func, ModuleInstance):
            return self.call_module(func, args, kwargs)
        if isinstance(func, AtenOp):
            return self.call_op(func.name, args, kwargs)
        if isinstance(func, External):
            raise CannotEvaluate(f"{func.path} has no Python source to evaluate")
        if isinstance(func, Instance):
            found, method, _ = self.class_attribute(func.cls, "__call__")
            if found:
                return self.call(method, (func, *args), kwargs)
            raise CannotEvaluate(f"{func.cls.qualname} object is not callable")
        if callable(func):
            try:
                return func(*args, **kwargs)
            except CannotEvaluate:
                raise
            except Exception as exc:  # a native raised: the arguments were not what it takes
                raise CannotEvaluate(f"{getattr(func, '__name__', func)}: "
                                     f"{type(exc).__name__}: {exc}") from exc
        raise CannotEvaluate(f"{func!r} is not callable")

    def call_op(self, op: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        owner = self.module_stack[-1] if self.module_stack else None
        try:
            result, macs = apply_op(op, args, kwargs)
        except CannotEvaluate as exc:
            if owner is not None:
                owner.ops.append(op)
                owner.macs_unknown.append((op, exc.reason))
            # Pass an unknown input on as it is: the row shows the first cause, not a chain.
            return exc.cause or Unknown(f"{op}: {exc.reason}")
        if owner is not None:
            owner.ops.append(op)
            owner.macs += macs
        return result

    def call_module(self, module: ModuleInstance, args: tuple[Any, ...],
                    kwargs: dict[str, Any]) -> Any:
        """Module.__call__ -> forward, recording what the call returned."""
        found, forward, _ = self.class_attribute(module.cls, "forward")
        if not found:
            raise CannotEvaluate(f"{module.cls.qualname} has no forward in source")
        self.module_stack.append(module)
        try:
            result = self.call(forward, (module, *args), kwargs)
        except CannotEvaluate as exc:
            result = exc.cause or Unknown(exc.reason)
        except ModelRaise as exc:
            self.report(exc.location, f"forward of {module.cls.name} raises: {exc.message}")
            result = Unknown(f"raises: {exc.message}", exc.location)
        finally:
            self.module_stack.pop()
        module.outputs.append(result)
        return result

    def call_function(self, func: FunctionRef, args: tuple[Any, ...],
                      kwargs: dict[str, Any]) -> Any:
        if self.depth > MAX_DEPTH:
            raise CannotEvaluate("calls nested too deeply")
        frame = Frame(func.module, parent=func.closure, owner=func.owner)
        self.bind_arguments(func, args, kwargs, frame)
        self.depth += 1
        try:
            if isinstance(func.node, ast.Lambda):
                return self.expr(func.node.body, frame)
            self.block(func.node.body, frame)
        except ReturnSignal as ret:
            return ret.value
        finally:
            self.depth -= 1
        return None

    def bind_arguments(self, func: FunctionRef, args: tuple[Any, ...],
                       kwargs: dict[str, Any], frame: Frame) -> None:
        spec = func.node.args
        defining = Frame(func.module, parent=func.closure, owner=func.owner)
        positional = [*spec.posonlyargs, *spec.args]
        defaults = spec.defaults
        first_default = len(positional) - len(defaults)
        kwargs = dict(kwargs)
        names = frame.names
        for i, arg in enumerate(positional):
            if i < len(args):
                names[arg.arg] = args[i]
            elif arg.arg in kwargs and arg not in spec.posonlyargs:
                names[arg.arg] = kwargs.pop(arg.arg)
            elif i >= first_default:
                names[arg.arg] = self.expr(defaults[i - first_default], defining)
            else:
                raise CannotEvaluate(f"{func.name}() missing argument {arg.arg!r}")
        extra = tuple(args[len(positional):])
        if spec.vararg is not None:
            names[spec.vararg.arg] = extra
        elif extra:
            raise CannotEvaluate(f"{func.name}() takes {len(positional)} positional arguments")
        for arg, default in zip(spec.kwonlyargs, spec.kw_defaults, strict=True):
            if arg.arg in kwargs:
                names[arg.arg] = kwargs.pop(arg.arg)
            elif default is not None:
                names[arg.arg] = self.expr(default, defining)
            else:
                raise CannotEvaluate(f"{func.name}() missing keyword argument {arg.arg!r}")
        if spec.kwarg is not None:
            names[spec.kwarg.arg] = kwargs
        elif kwargs:
            raise CannotEvaluate(f"{func.name}() got unexpected arguments {sorted(kwargs)}")

    # ----------------------------------------------------------------- statements

    def block(self, body: list[ast.stmt], frame: Frame) -> None:
        for stmt in body:
            self.statement(stmt, frame)

    def statement(self, stmt: ast.stmt, frame: Frame) -> None:
        handler = getattr(self, f"stmt_{type(stmt).__name__}", None)
        if handler is None:
            self.report(self.location(frame, stmt),
                        f"statement not evaluated: {type(stmt).__name__}", Severity.INFO)
            return
        try:
            handler(stmt, frame)
        except CannotEvaluate as exc:
            self.undecided(stmt, frame, exc.reason)

    def undecided(self, stmt: ast.stmt, frame: Frame, reason: str) -> None:
        """A statement that could not be evaluated: a warning if it can change the model."""
        text = _first_line(ast.get_source_segment(frame.module.text, stmt) or "")
        severity = Severity.WARNING if _is_structural(stmt) else Severity.INFO
        self.report(self.location(frame, stmt), f"cannot evaluate `{text}`: {reason}",
                    severity)

    def stmt_Expr(self, stmt: ast.Expr, frame: Frame) -> None:
        value = stmt.value
        if isinstance(value, ast.Constant):
            return  # docstring
        if isinstance(value, ast.Call) and not self.has_effect(value, frame):
            return
        self.expr(value, frame)

    def has_effect(self, call: ast.Call, frame: Frame) -> bool:
        """Whether a call whose result is discarded can change the module tree.

        Functions of other modules called for their side effects (logging, nn.init) cannot
        add layers to the objects evaluated here; they are skipped with a note.
        """
        try:
            func = self.expr(call.func, frame)
        except CannotEvaluate:
            return True
        if isinstance(func, FunctionRef) and func.owner is None \
                and func.module.name != frame.module.name and func.closure is None:
            self.report(self.location(frame, call),
                        f"skipped call for side effects: {ast.unparse(call.func)}()",
                        Severity.INFO)
            return False
        if isinstance(func, External):
            self.report(self.location(frame, call),
                        f"skipped call without source: {func.path}()", Severity.INFO)
            return False
        return True

    def stmt_Assign(self, stmt: ast.Assign, frame: Frame) -> None:
        try:
            value = self.expr(stmt.value, frame)
        except CannotEvaluate as exc:
            if _is_structural(stmt):
                self.undecided(stmt, frame, exc.reason)
            value = exc.cause or Unknown(exc.reason, self.location(frame, stmt))
        for target in stmt.targets:
            self.assign(target, value, frame)

    def stmt_AnnAssign(self, stmt: ast.AnnAssign, frame: Frame) -> None:
        if stmt.value is not None:
            self.stmt_Assign(ast.Assign([stmt.target], stmt.value, lineno=stmt.lineno), frame)

    def stmt_AugAssign(self, stmt: ast.AugAssign, frame: Frame) -> None:
        current = self.expr(_load(stmt.target), frame)
        value = self.expr(stmt.value, frame)
        result = self.binary(stmt.op, current, value, in_place=True)
        if isinstance(current, list) and isinstance(result, list):
            current[:] = result  # list += keeps identity
            result = current
        self.assign(stmt.target, result, frame)

    def stmt_If(self, stmt: ast.If, frame: Frame) -> None:
        test = self.expr(stmt.test, frame)
        self.block(stmt.body if self.truth(test) else stmt.orelse, frame)

    def stmt_For(self, stmt: ast.For, frame: Frame) -> None:
        items = self.iterate(self.expr(stmt.iter, frame))
        for count, item in enumerate(items):
            if count > MAX_LOOP:
                raise CannotEvaluate("loop runs too long")
            self.assign(stmt.target, item, frame)
            try:
                self.block(stmt.body, frame)
            except BreakSignal:
                return
            except ContinueSignal:
                continue
        self.block(stmt.orelse, frame)

    def stmt_While(self, stmt: ast.While, frame: Frame) -> None:
        count = 0
        while self.truth(self.expr(stmt.test, frame)):
            count += 1
            if count > MAX_LOOP:
                raise CannotEvaluate("loop runs too long")
            try:
                self.block(stmt.body, frame)
            except BreakSignal:
                return
            except ContinueSignal:
                continue
        self.block(stmt.orelse, frame)

    def stmt_Return(self, stmt: ast.Return, frame: Frame) -> None:
        if stmt.value is None:
            raise ReturnSignal(None)
        try:
            value = self.expr(stmt.value, frame)
        except CannotEvaluate as exc:
            value = exc.cause or Unknown(exc.reason, self.location(frame, stmt))
        raise ReturnSignal(value)

    def stmt_Raise(self, stmt: ast.Raise, frame: Frame) -> None:
        text = ast.get_source_segment(frame.module.text, stmt) or "raise"
        raise ModelRaise(_first_line(text), self.location(frame, stmt))

    def stmt_Try(self, stmt: ast.Try, frame: Frame) -> None:
        try:
            self.block(stmt.body, frame)
        except ModelRaise:
            if not stmt.handlers:
                raise
            self.block(stmt.handlers[0].body, frame)
        else:
            self.block(stmt.orelse, frame)
        finally:
            self.block(stmt.finalbody, frame)

    def stmt_With(self, stmt: ast.With, frame: Frame) -> None:
        self.block(stmt.body, frame)  # context managers (no_grad, ...) do not build layers

    def stmt_Assert(self, stmt: ast.Assert, frame: Frame) -> None:
        if not self.truth(self.expr(stmt.test, frame)):
            raise ModelRaise(f"assertion failed: {ast.unparse(stmt.test)}",
                             self.location(frame, stmt))

    def stmt_FunctionDef(self, stmt: ast.FunctionDef, frame: Frame) -> None:
        frame.names[stmt.name] = FunctionRef(self, frame.module, stmt, frame, None)

    def stmt_Import(self, stmt: ast.Import, frame: Frame) -> None:
        for alias in stmt.names:
            if alias.asname:
                frame.names[alias.asname] = self._absolute(alias.name)
            else:
                head = alias.name.split(".")[0]
                frame.names[head] = self._absolute(head)

    def stmt_ImportFrom(self, stmt: ast.ImportFrom, frame: Frame) -> None:
        base = stmt.module or ""
        if stmt.level:
            package = frame.module.name.split(".")
            base = ".".join([*package[:len(package) - stmt.level], *filter(None, [base])])
        for alias in stmt.names:
            frame.names[alias.asname or alias.name] = self._absolute(f"{base}.{alias.name}")

    def _absolute(self, dotted: str) -> Any:
        if self.resolver.index.has_module(dotted):
            return ModuleRef(dotted)
        target = self.resolver.resolve_absolute(dotted)
        if target is not None:
            return self.target_value(target.kind, target.qualname)
        return self.native(dotted) or External(dotted)

    def stmt_Pass(self, stmt: ast.Pass, frame: Frame) -> None:
        return

    def stmt_Break(self, stmt: ast.Break, frame: Frame) -> None:
        raise BreakSignal

    def stmt_Continue(self, stmt: ast.Continue, frame: Frame) -> None:
        raise ContinueSignal

    def stmt_Delete(self, stmt: ast.Delete, frame: Frame) -> None:
        for target in stmt.targets:
            if isinstance(target, ast.Name):
                frame.names.pop(target.id, None)

    def stmt_Global(self, stmt: ast.Global, frame: Frame) -> None:
        return

    def stmt_Nonlocal(self, stmt: ast.Nonlocal, frame: Frame) -> None:
        return

    # ----------------------------------------------------------------- assignment

    def assign(self, target: ast.expr, value: Any, frame: Frame) -> None:
        if isinstance(target, ast.Name):
            frame.names[target.id] = value
        elif isinstance(target, ast.Attribute):
            self.set_attribute(self.expr(target.value, frame), target.attr, value)
        elif isinstance(target, ast.Subscript):
            container = self.expr(target.value, frame)
            key = self.expr(target.slice, frame)
            self.set_item(container, key, value)
        elif isinstance(target, (ast.Tuple, ast.List)):
            self.unpack(target.elts, value, frame)
        elif isinstance(target, ast.Starred):
            self.assign(target.value, list(value), frame)
        else:
            raise CannotEvaluate(f"assignment to {type(target).__name__}")

    def unpack(self, targets: list[ast.expr], value: Any, frame: Frame) -> None:
        if isinstance(value, Unknown):
            for t in targets:
                self.assign(t.value if isinstance(t, ast.Starred) else t, value, frame)
            return
        items = list(self.iterate(value))
        star = next((i for i, t in enumerate(targets) if isinstance(t, ast.Starred)), None)
        if star is None:
            if len(items) != len(targets):
                raise CannotEvaluate(f"cannot unpack {len(items)} values into {len(targets)}")
            for t, item in zip(targets, items, strict=True):
                self.assign(t, item, frame)
            return
        after = len(targets) - star - 1
        for t, item in zip(targets[:star], items[:star], strict=False):
            self.assign(t, item, frame)
        self.assign(targets[star], items[star:len(items) - after], frame)
        for t, item in zip(targets[star + 1:], items[len(items) - after:], strict=False):
            self.assign(t, item, frame)

    def set_attribute(self, obj: Any, name: str, value: Any) -> None:
        if isinstance(obj, ModuleInstance):
            obj.set_attribute(name, value)
        elif isinstance(obj, (Instance, FunctionRef)):
            obj.attrs[name] = value
        elif isinstance(obj, Unknown):
            return  # nothing known can change through an unknown object
        else:
            raise CannotEvaluate(f"sets attribute {name} on {type(obj).__name__}")

    def set_item(self, container: Any, key: Any, value: Any) -> None:
        if isinstance(container, Unknown):
            return  # nothing known can change through an unknown container
        if isinstance(container, Instance):
            found, method, _ = self.class_attribute(container.cls, "__setitem__")
            if not found:
                raise CannotEvaluate(f"{container.cls.qualname} has no __setitem__")
            self.call(method, (container, key, value), {})
        elif isinstance(container, (list, dict)):
            try:
                container[key] = value
            except (TypeError, IndexError, KeyError) as exc:
                raise CannotEvaluate(f"item assignment: {exc}") from exc
        else:
            raise CannotEvaluate(f"item assignment on {type(container).__name__}")

    # ----------------------------------------------------------------- expressions

    def expr(self, node: ast.expr, frame: Frame) -> Any:
        handler = getattr(self, f"expr_{type(node).__name__}", None)
        if handler is None:
            raise CannotEvaluate(f"expression {type(node).__name__} is not evaluated")
        return handler(node, frame)

    def expr_Constant(self, node: ast.Constant, frame: Frame) -> Any:
        return node.value

    def expr_Name(self, node: ast.Name, frame: Frame) -> Any:
        scope: Frame | None = frame
        while scope is not None:
            if node.id in scope.names:
                return scope.names[node.id]
            scope = scope.parent
        if node.id == "__class__" and frame.owner is not None:
            return frame.owner
        if node.id in frame.module.defs or node.id not in self.builtins:
            return self.module_global(frame.module, node.id)
        return self.builtins[node.id]

    def expr_Attribute(self, node: ast.Attribute, frame: Frame) -> Any:
        return self.get_attribute(self.expr(node.value, frame), node.attr)

    def get_attribute(self, obj: Any, name: str) -> Any:
        if isinstance(obj, Unknown):
            return obj
        if isinstance(obj, ModuleRef):
            return self.module_attribute(obj, name)
        if isinstance(obj, External):
            path = f"{obj.path}.{name}"
            return self.native(path) or External(path)
        if isinstance(obj, SuperProxy):
            return self.super_attribute(obj, name)
        if isinstance(obj, Instance):
            return self.instance_attribute(obj, name)
        if isinstance(obj, ClassRef):
            return self.class_level(obj, name)
        if isinstance(obj, SymTensor):
            return self.tensor_attribute(obj, name)
        if isinstance(obj, FunctionRef):
            if name in obj.attrs:
                return obj.attrs[name]
            if name == "__name__":
                return obj.name
            if name == "__doc__":
                return ast.get_docstring(obj.node) if not isinstance(obj.node, ast.Lambda) \
                    else None
            return Unknown(f"attribute {name} of function {obj.name}")
        if isinstance(obj, (list, dict, tuple, str, int, float, set)) or obj is None:
            try:
                return getattr(obj, name)
            except AttributeError as exc:
                raise CannotEvaluate(str(exc)) from exc
        if isinstance(obj, AtenOp):
            return Unknown(f"attribute {name} of {obj.name}")
        try:
            return getattr(obj, name)
        except AttributeError as exc:
            raise CannotEvaluate(str(exc)) from exc

    def class_level(self, cls: ClassRef, name: str) -> Any:
        if name in ("__name__", "__qualname__"):
            return cls.name
        if name == "__module__":
            return cls.module
        found, value, _ = self.class_attribute(cls, name)
        if not found:
            raise CannotEvaluate(f"class {cls.qualname} has no attribute {name!r} in source")
        if isinstance(value, FunctionRef) and _decorated(value.node, "classmethod"):
            return BoundMethod(value, cls)
        return value

    def instance_attribute(self, obj: Instance, name: str, start: int = 0) -> Any:
        if name == "__class__":
            return obj.cls
        if isinstance(obj, ModuleInstance) and start == 0:
            found, value = obj.find_attribute(name)
            if found:
                return value
        elif start == 0 and name in obj.attrs:
            return obj.attrs[name]
        found, value, _ = self.class_attribute(obj.cls, name, start)
        if found:
            return self.bind(value, obj)
        if isinstance(obj, ModuleInstance):
            native = module_native(obj, name)
            if native is not None:
                return native
        raise CannotEvaluate(f"{obj.cls.name} object has no attribute {name!r}")

    def bind(self, value: Any, obj: Instance) -> Any:
        if not isinstance(value, FunctionRef):
            return value
        if _decorated(value.node, "staticmethod"):
            return value
        if _decorated(value.node, "classmethod"):
            return BoundMethod(value, obj.cls)
        if _decorated(value.node, "property"):
            return self.call_function(value, (obj,), {})
        return BoundMethod(value, obj)

    def super_attribute(self, proxy: SuperProxy, name: str) -> Any:
        instance = proxy.instance
        cls = instance.cls if isinstance(instance, Instance) else instance
        index = next((i for i, c in enumerate(cls.mro) if c.qualname == proxy.owner.qualname),
                     len(cls.mro))
        found, value, _ = self.class_attribute(cls, name, index + 1)
        if found:
            return self.bind(value, instance) if isinstance(instance, Instance) else value
        dataclass = next((c for c in cls.mro[index + 1:] if _is_dataclass(c.node)), None)
        if name == "__init__" and dataclass is not None:
            return functools.partial(self.dataclass_init(dataclass), instance)
        if name == "__init__":
            return lambda *args, **kwargs: None  # Module.__init__ / object.__init__
        if isinstance(instance, ModuleInstance):
            native = module_native(instance, name)
            if native is not None:
                return native
        raise CannotEvaluate(f"super() of {proxy.owner.qualname} has no {name!r} in source")

    def tensor_attribute(self, tensor: SymTensor, name: str) -> Any:
        if name in ("shape",):
            return tuple(tensor.shape)
        if name == "ndim":
            return len(tensor.shape)
        if name == "size":
            return lambda dim=None: tuple(tensor.shape) if dim is None else tensor.shape[dim]
        if name in ("dim", "ndimension"):
            return lambda: len(tensor.shape)
        if name in ("numel", "nelement"):
            return tensor.numel
        if name == "requires_grad":
            return tensor.requires_grad
        if name in ("device", "dtype", "data"):
            return Unknown(f"tensor {name} is not modelled") if name != "data" else tensor
        if name.startswith("__"):
            raise CannotEvaluate(f"tensor attribute {name}")
        op = AtenOp(f"aten::{name}")
        return lambda *args, **kwargs: self.call_op(op.name, (tensor, *args), kwargs)

    def expr_Call(self, node: ast.Call, frame: Frame) -> Any:
        func = self.expr(node.func, frame)
        args: list[Any] = []
        for arg in node.args:
            if isinstance(arg, ast.Starred):
                args.extend(self.iterate(self.expr(arg.value, frame)))
            else:
                args.append(self.argument(arg, frame))
        kwargs: dict[str, Any] = {}
        for kw in node.keywords:
            value = self.expr(kw.value, frame) if kw.arg is None else self.argument(kw.value,
                                                                                    frame)
            if kw.arg is None:
                if not isinstance(value, dict):
                    raise CannotEvaluate(f"** of a value that is not a dict: {value!r}")
                kwargs.update(value)
            else:
                kwargs[kw.arg] = value
        if isinstance(func, ast.AST):
            raise CannotEvaluate("unexpected syntax value")
        if func is super or (isinstance(node.func, ast.Name) and node.func.id == "super"):
            return self.make_super(args, frame)
        try:
            result = self.call(func, tuple(args), kwargs)
        except ModelRaise:
            raise
        if isinstance(result, ModuleInstance) and result.call_site is None:
            text = _one_line(ast.get_source_segment(frame.module.text, node) or "")
            result.call_site = CallSite(text, self.location(frame, node))
        if isinstance(result, SymTensor) and result.origin is None:
            result.origin = self.location(frame, node)
        return result

    def argument(self, node: ast.expr, frame: Frame) -> Any:
        """An argument value; one that cannot be computed is passed on as Unknown, so the
        callee still runs and reports exactly what the unknown prevents."""
        try:
            return self.expr(node, frame)
        except CannotEvaluate as exc:
            location = self.location(frame, node)
            text = _first_line(ast.get_source_segment(frame.module.text, node) or "")
            self.report(location, f"cannot evaluate argument `{text}`: {exc.reason}",
                        Severity.INFO)
            return exc.cause or Unknown(f"`{text}`: {exc.reason}", location)

    def make_super(self, args: list[Any], frame: Frame) -> SuperProxy:
        if len(args) == 2 and isinstance(args[0], ClassRef):
            return SuperProxy(args[0], args[1])
        owner = frame.owner
        scope: Frame | None = frame
        while owner is None and scope is not None:
            owner, scope = scope.owner, scope.parent
        if owner is None or not frame.names:
            raise CannotEvaluate("super() outside a method")
        first = next(iter(frame.names.values()))
        return SuperProxy(owner, first)

    def expr_BinOp(self, node: ast.BinOp, frame: Frame) -> Any:
        return self.binary(node.op, self.expr(node.left, frame), self.expr(node.right, frame))

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
            if not isinstance(left, SymTensor):
                left, right = right, left
            return self.call_op(f"aten::{aten}{'_' if in_place else ''}", (left, right), {})
        try:
            return _PY_OPERATORS[name](left, right)
        except Exception as exc:
            raise CannotEvaluate(f"{name} of {left!r} and {right!r}: {exc}") from exc

    def expr_UnaryOp(self, node: ast.UnaryOp, frame: Frame) -> Any:
        value = self.expr(node.operand, frame)
        if isinstance(node.op, ast.Not):
            return not self.truth(value)
        if isinstance(value, (Unknown, SymTensor)):
            return value
        ops = {ast.USub: lambda v: -v, ast.UAdd: lambda v: +v, ast.Invert: lambda v: ~v}
        try:
            return ops[type(node.op)](value)
        except Exception as exc:
            raise CannotEvaluate(f"unary operator on {value!r}: {exc}") from exc

    def expr_BoolOp(self, node: ast.BoolOp, frame: Frame) -> Any:
        is_and = isinstance(node.op, ast.And)
        value: Any = None
        for operand in node.values:
            value = self.expr(operand, frame)
            if self.truth(value) != is_and:
                return value
        return value

    def expr_Compare(self, node: ast.Compare, frame: Frame) -> Any:
        left = self.expr(node.left, frame)
        for op, right_node in zip(node.ops, node.comparators, strict=True):
            right = self.expr(right_node, frame)
            if isinstance(op, (ast.Is, ast.IsNot)):
                result = (left is right) == isinstance(op, ast.Is)
            elif isinstance(left, Unknown) or isinstance(right, Unknown):
                return left if isinstance(left, Unknown) else right
            else:
                try:
                    result = _COMPARE[type(op)](left, right)
                except Exception as exc:
                    raise CannotEvaluate(f"comparison of {left!r} and {right!r}") from exc
            if not result:
                return False
            left = right
        return True

    def expr_IfExp(self, node: ast.IfExp, frame: Frame) -> Any:
        return self.expr(node.body if self.truth(self.expr(node.test, frame)) else node.orelse,
                         frame)

    def expr_Tuple(self, node: ast.Tuple, frame: Frame) -> Any:
        return tuple(self.sequence(node.elts, frame))

    def expr_List(self, node: ast.List, frame: Frame) -> Any:
        return self.sequence(node.elts, frame)

    def expr_Set(self, node: ast.Set, frame: Frame) -> Any:
        return set(self.sequence(node.elts, frame))

    def sequence(self, elts: list[ast.expr], frame: Frame) -> list[Any]:
        out: list[Any] = []
        for elt in elts:
            if isinstance(elt, ast.Starred):
                out.extend(self.iterate(self.expr(elt.value, frame)))
            else:
                out.append(self.expr(elt, frame))
        return out

    def expr_Dict(self, node: ast.Dict, frame: Frame) -> Any:
        out: dict[Any, Any] = {}
        for key, value in zip(node.keys, node.values, strict=True):
            if key is None:
                out.update(self.expr(value, frame))
            else:
                out[self.hashable(self.expr(key, frame))] = self.expr(value, frame)
        return out

    def expr_Subscript(self, node: ast.Subscript, frame: Frame) -> Any:
        container = self.expr(node.value, frame)
        key = self.expr(node.slice, frame)
        if isinstance(container, Unknown):
            return container
        if isinstance(container, Instance):
            found, method, _ = self.class_attribute(container.cls, "__getitem__")
            if found:
                return self.call(method, (container, key), {})
            raise CannotEvaluate(f"{container.cls.qualname} is not subscriptable in source")
        if isinstance(container, (ClassRef, External)) or container in (list, dict, tuple):
            return container  # a type annotation such as list[int]
        if isinstance(container, SymTensor):
            return Unknown("tensor indexing is not modelled")
        try:
            return container[key]
        except Exception as exc:
            raise CannotEvaluate(f"subscript {key!r} of {type(container).__name__}: "
                                 f"{exc}") from exc

    def expr_Slice(self, node: ast.Slice, frame: Frame) -> Any:
        parts = [None if p is None else self.expr(p, frame)
                 for p in (node.lower, node.upper, node.step)]
        return slice(*parts)

    def expr_Starred(self, node: ast.Starred, frame: Frame) -> Any:
        raise CannotEvaluate("starred expression out of place")

    def expr_JoinedStr(self, node: ast.JoinedStr, frame: Frame) -> Any:
        parts = []
        for value in node.values:
            if isinstance(value, ast.FormattedValue):
                item = self.expr(value.value, frame)
                if isinstance(item, Unknown):
                    return item
                spec = self.expr(value.format_spec, frame) if value.format_spec else ""
                parts.append(format(item, spec))
            else:
                parts.append(str(self.expr(value, frame)))
        return "".join(parts)

    def expr_Lambda(self, node: ast.Lambda, frame: Frame) -> Any:
        return FunctionRef(self, frame.module, node, frame, None)

    def expr_NamedExpr(self, node: ast.NamedExpr, frame: Frame) -> Any:
        value = self.expr(node.value, frame)
        self.assign(node.target, value, frame)
        return value

    def comprehension(self, generators: list[ast.comprehension], frame: Frame,
                      ) -> Iterator[Frame]:
        inner = Frame(frame.module, parent=frame, owner=frame.owner)

        def loop(index: int) -> Iterator[Frame]:
            if index == len(generators):
                yield inner
                return
            gen = generators[index]
            source = frame if index == 0 else inner
            for count, item in enumerate(self.iterate(self.expr(gen.iter, source))):
                if count > MAX_LOOP:
                    raise CannotEvaluate("comprehension runs too long")
                self.assign(gen.target, item, inner)
                if all(self.truth(self.expr(cond, inner)) for cond in gen.ifs):
                    yield from loop(index + 1)

        return loop(0)

    def expr_ListComp(self, node: ast.ListComp, frame: Frame) -> Any:
        return [self.expr(node.elt, f) for f in self.comprehension(node.generators, frame)]

    def expr_GeneratorExp(self, node: ast.GeneratorExp, frame: Frame) -> Any:
        return [self.expr(node.elt, f) for f in self.comprehension(node.generators, frame)]

    def expr_SetComp(self, node: ast.SetComp, frame: Frame) -> Any:
        return {self.expr(node.elt, f) for f in self.comprehension(node.generators, frame)}

    def expr_DictComp(self, node: ast.DictComp, frame: Frame) -> Any:
        return {self.hashable(self.expr(node.key, f)): self.expr(node.value, f)
                for f in self.comprehension(node.generators, frame)}

    # ----------------------------------------------------------------- helpers

    def truth(self, value: Any) -> bool:
        if isinstance(value, Unknown):
            raise CannotEvaluate(f"condition depends on an unknown value: {value.describe()}",
                                 cause=value)
        if isinstance(value, SymTensor):
            raise CannotEvaluate("condition depends on tensor values")
        if isinstance(value, Instance):
            return True
        return bool(value)

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

    def hashable(self, value: Any) -> Any:
        if isinstance(value, Unknown):
            raise CannotEvaluate(f"key is unknown: {value.describe()}")
        return value

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


class FunctionRef:
    """A function read from source (def or lambda); Python-callable through its evaluator."""

    def __init__(self, evaluator: Evaluator, module: SourceModule, node: Any,
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

    def __init__(self, evaluator: Evaluator, func: Any, *args: Any, **kwargs: Any) -> None:
        self.evaluator, self.func, self.args, self.kwargs = evaluator, func, args, kwargs

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.evaluator.call(self.func, (*self.args, *args), {**self.kwargs, **kwargs})


# ----------------------------------------------------------------- syntax helpers

_WRAPPED = ("len", "iter", "list", "tuple", "enumerate", "zip", "reversed")
_OPERATORS: dict[type, str] = {
    ast.Add: "add", ast.Sub: "sub", ast.Mult: "mul", ast.Div: "truediv",
    ast.FloorDiv: "floordiv", ast.Mod: "mod", ast.Pow: "pow", ast.MatMult: "matmul",
    ast.BitAnd: "and", ast.BitOr: "or", ast.BitXor: "xor", ast.LShift: "lshift",
    ast.RShift: "rshift",
}
_ATEN_BINARY = {"add": "add", "sub": "sub", "mul": "mul", "truediv": "div", "matmul": "matmul"}


def _py(name: str) -> Any:
    import operator
    return getattr(operator, f"{name}_" if name in ("and", "or") else name)


_PY_OPERATORS = {name: _py(name) for name in _OPERATORS.values()}


def _cmp() -> dict[type, Any]:
    import operator
    return {ast.Eq: operator.eq, ast.NotEq: operator.ne, ast.Lt: operator.lt,
            ast.LtE: operator.le, ast.Gt: operator.gt, ast.GtE: operator.ge,
            ast.In: lambda a, b: a in b, ast.NotIn: lambda a, b: a not in b}


_COMPARE = _cmp()


def _top_level(body: list[ast.stmt]) -> Iterator[ast.stmt]:
    """Statements of a module or class body, looking inside if/try blocks (last one wins)."""
    for stmt in body:
        if isinstance(stmt, ast.If):
            yield from _top_level(stmt.body)
            yield from _top_level(stmt.orelse)
        elif isinstance(stmt, ast.Try):
            yield from _top_level(stmt.body)
            for handler in stmt.handlers:
                yield from _top_level(handler.body)
        else:
            yield stmt


def _bound_names(stmt: ast.stmt) -> list[str]:
    if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return [stmt.name]
    if isinstance(stmt, ast.Assign):
        return [n.id for t in stmt.targets for n in ast.walk(t) if isinstance(n, ast.Name)]
    if isinstance(stmt, ast.AnnAssign) and stmt.value is not None \
            and isinstance(stmt.target, ast.Name):
        return [stmt.target.id]
    return []


def _class_member(node: ast.ClassDef, name: str) -> ast.stmt | None:
    found = None
    for stmt in _top_level(node.body):
        if name in _bound_names(stmt):
            found = stmt
    return found


def _decorated(node: Any, name: str) -> bool:
    return any(ast.unparse(d).split("(")[0].rsplit(".", 1)[-1] == name
               for d in getattr(node, "decorator_list", ()))


def _is_dataclass(node: ast.ClassDef) -> bool:
    return _decorated(node, "dataclass")


def _is_structural(stmt: ast.stmt) -> bool:
    """Could this statement change the module tree (attributes, registries, returns)?"""
    for node in ast.walk(stmt):
        if isinstance(node, (ast.Assign, ast.AugAssign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            if any(isinstance(t, (ast.Attribute, ast.Subscript)) for t in targets):
                return True
        if isinstance(node, ast.Return) and node.value is not None:
            return True
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) \
                and node.func.attr in STRUCTURAL_CALLS:
            return True
    return False


def _load(target: ast.expr) -> ast.expr:
    return target


def _one_line(text: str) -> str:
    """A call written over several lines, as one line: `f(\n  a,\n)` -> `f(a)`."""
    text = " ".join(text.split())
    for before, after in (("( ", "("), (" )", ")"), (",)", ")"), ("[ ", "["), (" ]", "]")):
        text = text.replace(before, after)
    return text


def _first_line(text: str) -> str:
    line = text.strip().splitlines()[0] if text.strip() else ""
    return line if len(line) <= 100 else line[:97] + "..."


def _c3(cls: ClassRef) -> tuple[ClassRef, ...]:
    """The C3 linearisation over the bases that resolved to source classes."""
    seqs = [list(b.mro) for b in cls.bases] + [list(cls.bases)]
    out = [cls]
    while True:
        seqs = [s for s in seqs if s]
        if not seqs:
            return tuple(out)
        for seq in seqs:
            head = seq[0]
            if not any(head in s[1:] for s in seqs):
                break
        else:  # inconsistent hierarchy: fall back to depth-first order
            rest = [c for s in seqs for c in s]
            return tuple(out + list(dict.fromkeys(rest)))
        out.append(head)
        seqs = [s[1:] if s[0] is head else s for s in seqs]


