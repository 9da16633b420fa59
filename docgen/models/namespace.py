"""Names as the evaluated code sees them: source modules (parsed once, via classes/parse.py),
module globals, imports, classes read from source and their attributes along the MRO.

Names are resolved with the classes' Resolver; the MRO is classes/hierarchy.py's C3.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from docgen.classes.hierarchy import linearize
from docgen.classes.parse import parse_python
from docgen.core.errors import SourceError
from docgen.core.records import Location
from docgen.models.frames import (
    EvaluatorCore,
    Frame,
    FunctionRef,
    ModelRaise,
    SourceModule,
)
from docgen.models.syntax import (
    bound_names,
    class_member,
    top_level,
)
from docgen.models.values import (
    AtenOp,
    CannotEvaluate,
    ClassRef,
    External,
    ModuleRef,
    Unknown,
    as_unknown,
)


class Namespace(EvaluatorCore):
    """Modules, globals, imports and classes of the evaluated code."""

    def source_module(self, name: str) -> SourceModule | None:
        if name not in self.modules:
            loaded = self.modules[name] = self._load_module(name)
            if loaded is not None:
                self._run_registrations(loaded)
        return self.modules[name]

    def _run_registrations(self, module: SourceModule) -> None:
        """Top-level calls of a plain name (`register_block('mobilevit', MobileVitBlock)`): what
        importing the module does to registries elsewhere. Globals are evaluated lazily, so
        these side effects run once, when the module is first needed; one that cannot be
        evaluated leaves the registry as it was (a later lookup reports what is missing), and
        what went wrong inside them is no warning of the model."""
        with self.import_time():
            for stmt in module.tree.body:
                if isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Call) \
                        and isinstance(stmt.value.func, ast.Name):
                    try:
                        self.expr(stmt.value, Frame(module))
                    except (CannotEvaluate, ModelRaise):
                        continue

    @contextmanager
    def import_time(self) -> Iterator[None]:
        """Code that runs when a module is imported: no layer is being built or run, whatever
        the caller was doing, and its diagnostics are not the model's."""
        reported = len(self.diagnostics)
        stack, building = self.module_stack, self.building
        self.module_stack, self.building = [], []
        try:
            yield
        finally:
            self.module_stack, self.building = stack, building
            del self.diagnostics[reported:]

    def _run_decorators(self, module: SourceModule, stmt: ast.FunctionDef | ast.AsyncFunctionDef,
                        function: FunctionRef) -> None:
        """What a top-level function's decorators do when its module is imported
        (`@register_model` puts the model's default pretrained cfg into timm's registry), run
        when the function is first looked up, as the other globals are. Only decorators read
        from source run; their result is not used (the function stays the one written), and
        what goes wrong inside them is no warning of the model."""
        decorators = []
        for node in stmt.decorator_list:
            head = node.func if isinstance(node, ast.Call) else node
            try:
                if isinstance(self.expr(head, Frame(module)), FunctionRef):
                    decorators.append(node)
            except CannotEvaluate:
                continue
        if not decorators:
            return
        with self.import_time():
            for node in reversed(decorators):  # the innermost decorator runs first
                try:
                    self.call(self.expr(node, Frame(module)), (function,), {})
                except (CannotEvaluate, ModelRaise):
                    continue

    def _load_module(self, name: str) -> SourceModule | None:
        found = self.resolver.index.sources.find_module(name)
        if found is None:
            return None
        try:
            text, tree = parse_python(found.tree.read_bytes(found.path), found.path)
        except OSError as exc:
            self.report(Location(found.path, 1), f"cannot read for evaluation: {exc}")
            return None
        except SourceError as exc:
            self.report(Location(exc.path, exc.line),
                        f"cannot read for evaluation: {exc.message}")
            self.load_errors[name] = exc
            return None
        module = SourceModule(name, found.path, text, tree)
        for stmt in top_level(tree.body):
            for target in bound_names(stmt):
                module.defs[target] = stmt
                module.bindings.setdefault(target, []).append(stmt)
            if isinstance(stmt, ast.ImportFrom):
                module.imports.update(a.asname or a.name for a in stmt.names if a.name != "*")
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
        if isinstance(stmt, ast.ClassDef):
            return self.class_ref(f"{module.name}.{name}")
        if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)):
            function = FunctionRef(self, module, stmt, None, None)
            self._run_decorators(module, stmt, function)
            return function
        if isinstance(stmt, (ast.Assign, ast.AnnAssign)) and stmt.value is not None:
            return self._assigned(module, name, len(module.bindings.get(name, [stmt])) - 1)
        if name in self.builtins and stmt is None:
            return self.builtins[name]
        return self.imported(module.name, name)

    def _assigned(self, module: SourceModule, name: str, index: int) -> Any:
        """The value the `index`-th top-level binding of `name` gives it; when that statement
        reads the name itself (`x = f(x)`), the binding before it runs first."""
        stmt = module.bindings[name][index]
        if not isinstance(stmt, (ast.Assign, ast.AnnAssign)) or stmt.value is None:
            return Unknown(f"{module.name}.{name} is bound by a {type(stmt).__name__}")
        if index > 0 and any(isinstance(n, ast.Name) and n.id == name
                             for n in ast.walk(stmt.value)):
            module.values[name] = self._assigned(module, name, index - 1)
        frame = Frame(module)
        try:
            value = self.expr(stmt.value, frame)
        except CannotEvaluate as exc:
            return as_unknown(exc, self.location(frame, stmt))
        targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
        scratch = Frame(module)
        for target in targets:
            self.assign(target, value, scratch)
        return scratch.names.get(name, Unknown(f"{name} not bound"))

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
        if target.kind == "module":
            package, _, name = target.qualname.rpartition(".")
            parent = self.source_module(package) if package else None
            if parent is not None and name in parent.imports and package != module:
                # `from pkg import name` where pkg/__init__ rebinds the submodule's name
                return self.module_attribute(ModuleRef(package), name)
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
        if module is not None and (name in module.defs or name in module.imports):
            # An import in a package's __init__ rebinds the name even where a submodule of
            # that name exists (`from .create_conv2d import create_conv2d`).
            return self.module_global(module, name)
        if self.resolver.index.has_module(path):
            return ModuleRef(path)
        target = self.resolver.resolve_in(ref.name, name)
        if target is not None:
            return self.target_value(target.kind, target.qualname)
        return native if native is not None else External(path)

    def import_value(self, dotted: str) -> Any:
        if self.resolver.index.has_module(dotted):
            return ModuleRef(dotted)
        target = self.resolver.resolve_absolute(dotted)
        if target is not None:
            return self.target_value(target.kind, target.qualname)
        return self.native(dotted) or External(dotted)

    def global_name(self, frame: Frame, name: str) -> Any:
        """A name no enclosing function binds: class cell, module global, import, builtin."""
        if name == "__class__" and frame.owner is not None:
            return frame.owner
        if name in frame.module.defs or name not in self.builtins:
            return self.module_global(frame.module, name)
        return self.builtins[name]

    def make_function(self, node: ast.FunctionDef | ast.Lambda, frame: Frame) -> Any:
        return FunctionRef(self, frame.module, node, frame, None)

    def class_ref(self, qualname: str) -> ClassRef:
        if qualname in self.classes:
            return self.classes[qualname]
        module_name, node = self._class_node(qualname)
        if node is None or module_name is None:
            raise CannotEvaluate(f"no source for class {qualname}")
        ref = ClassRef(qualname, module_name, node.name, node, ())
        self.classes[qualname] = ref
        bases, external = [], []
        for base in node.bases:
            text = ast.unparse(base).split("[", 1)[0]
            target = self.resolver.resolve_in(module_name, text)
            if target is not None and target.kind == "class" and target.qualname != qualname:
                try:
                    bases.append(self.class_ref(target.qualname))
                except CannotEvaluate:
                    external.append(target.qualname)
            else:
                external.append(self.resolver.expand(module_name, text))
        ref.bases = tuple(bases)
        ref.external_bases = tuple(external)
        ref.mro = linearize(ref, lambda c: c.bases, lambda c: c.mro)
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
                node = next((s for s in top_level(body)
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
            if owner.qualname == self.module_root:
                break
            stmt = class_member(owner.node, name)
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
                value = as_unknown(exc, Location(module.path, stmt.lineno))
            return True, value, owner
        return False, None, None
