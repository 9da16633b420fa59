"""Static evaluation of model-building Python code, read from source and never imported.

This module is the object model (names, imports, classes, instances, calls, attributes,
builtins); interpret.py evaluates the statements and expressions themselves.

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
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

from docgen.classes.resolve import Resolver
from docgen.core.config import DEFAULT_MODULE_ROOT as MODULE_ROOT
from docgen.core.records import Location, Severity
from docgen.models.interpret import (
    Frame,
    Interpreter,
    ModelRaise,
    ReturnSignal,
    SourceModule,
    _bound_names,
    _class_member,
    _decorated,
    _is_dataclass,
    _one_line,
    _top_level,
)
from docgen.models.natives import TENSOR_CLASSES, builtin_names, lookup_native
from docgen.models.shapes import apply_op, index_shape
from docgen.models.values import (
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
    as_unknown,
    module_native,
)
from docgen.sources.locate import decode_source

__all__ = ["Evaluator", "FunctionRef", "ModelRaise"]

MAX_DEPTH = 80

# Symbolic tensors are taken to be dense float32 CPU tensors (a stated assumption: the
# summary is about shapes; the branches that test these flags pick the eager CPU path).
TENSOR_FLAGS: dict[str, Any] = {
    "dtype": "torch.float32", "device": SimpleNamespace(type="cpu", index=None), "is_nested": False,
    "is_sparse": False, "is_cuda": False, "is_quantized": False, "is_meta": False,
    "is_mkldnn": False, "layout": "torch.strided",
}
TENSOR_METHODS = ("is_contiguous", "is_floating_point", "is_complex")


@dataclass(eq=False)
class SuperProxy:
    owner: ClassRef
    instance: Any

class Evaluator(Interpreter):
    """The object model: modules, names, classes, instances, calls, attributes, builtins."""

    def __init__(self, resolver: Resolver) -> None:
        super().__init__()
        self.resolver = resolver
        self.modules: dict[str, SourceModule | None] = {}
        self.classes: dict[str, ClassRef] = {}
        self.depth = 0
        self.module_stack: list[ModuleInstance] = []
        self.builtins = builtin_names()
        self.builtins.update({name: getattr(self, f"builtin_{name}") for name in _WRAPPED})
        self.builtins.update({"isinstance": self.isinstance, "issubclass": self.issubclass,
                              "getattr": self.builtin_getattr, "hasattr": self.builtin_hasattr,
                              "setattr": self.builtin_setattr, "type": self.builtin_type})

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
                return as_unknown(exc, self.location(frame, stmt))
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
                value = as_unknown(exc, Location(module.path, stmt.lineno))
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
            return as_unknown(exc, reason=f"{op}: {exc.reason}")
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
            result = as_unknown(exc)
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
        if name in TENSOR_FLAGS:
            return TENSOR_FLAGS[name]
        if name == "data":
            return tensor
        if name.startswith("__") or (name.startswith("is_") and name not in TENSOR_METHODS):
            raise CannotEvaluate(f"tensor attribute {name} is not modelled")
        op = AtenOp(f"aten::{name}")
        return lambda *args, **kwargs: self.call_op(op.name, (tensor, *args), kwargs)

    def expr_Call(self, node: ast.Call, frame: Frame) -> Any:
        return self.evaluate_call(node, frame, discarded=False)

    def evaluate_call(self, node: ast.Call, frame: Frame, discarded: bool) -> Any:
        """A call expression; `discarded` when its value is thrown away (a statement)."""
        func = self.expr(node.func, frame)
        if func is super or (isinstance(node.func, ast.Name) and node.func.id == "super"):
            return self.make_super(self.call_arguments(node, frame)[0], frame)
        args, kwargs = self.call_arguments(node, frame)
        if discarded and not self.has_effect(func, args, kwargs):
            self.report(self.location(frame, node), "skipped call for side effects on values "
                        f"it does not receive: {ast.unparse(node.func)}()", Severity.INFO)
            return None
        result = self.call(func, tuple(args), kwargs)
        if isinstance(result, ModuleInstance) and result.call_site is None:
            text = _one_line(ast.get_source_segment(frame.module.text, node) or "")
            result.call_site = CallSite(text, self.location(frame, node))
        if isinstance(result, SymTensor) and result.origin is None:
            result.origin = self.location(frame, node)
        return result

    def call_arguments(self, node: ast.Call, frame: Frame) -> tuple[list[Any], dict[str, Any]]:
        args: list[Any] = []
        for arg in node.args:
            if isinstance(arg, ast.Starred):
                args.extend(self.iterate(self.expr(arg.value, frame)))
            else:
                args.append(self.argument(arg, frame))
        kwargs: dict[str, Any] = {}
        for kw in node.keywords:
            if kw.arg is not None:
                kwargs[kw.arg] = self.argument(kw.value, frame)
                continue
            value = self.expr(kw.value, frame)
            if not isinstance(value, dict):
                raise CannotEvaluate(f"** of a value that is not a dict: {value!r}")
            kwargs.update(value)
        return args, kwargs

    def has_effect(self, func: Any, args: list[Any], kwargs: dict[str, Any]) -> bool:
        """Whether a call whose result is discarded can change what is being evaluated.

        It can only act through what it receives: a function with no Python source, or one
        that receives no list, dict or object (nn.init.* get tensors), is skipped.
        """
        if isinstance(func, External):
            return False
        if isinstance(func, FunctionRef) and func.owner is None and func.closure is None:
            return any(isinstance(v, (list, dict, set, Instance))
                       for v in (*args, *kwargs.values()))
        return True

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

    def get_item(self, container: Any, key: Any) -> Any:
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
            return SymTensor(index_shape(container.shape, key))
        try:
            return container[key]
        except Exception as exc:
            raise CannotEvaluate(f"subscript {key!r} of {type(container).__name__}: "
                                 f"{exc}") from exc

    def global_name(self, frame: Frame, name: str) -> Any:
        """A name no enclosing function binds: class cell, module global, import, builtin."""
        if name == "__class__" and frame.owner is not None:
            return frame.owner
        if name in frame.module.defs or name not in self.builtins:
            return self.module_global(frame.module, name)
        return self.builtins[name]

    def make_function(self, node: ast.FunctionDef | ast.Lambda, frame: Frame) -> Any:
        return FunctionRef(self, frame.module, node, frame, None)

    def import_value(self, dotted: str) -> Any:
        if self.resolver.index.has_module(dotted):
            return ModuleRef(dotted)
        target = self.resolver.resolve_absolute(dotted)
        if target is not None:
            return self.target_value(target.kind, target.qualname)
        return self.native(dotted) or External(dotted)


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


