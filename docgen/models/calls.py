"""Calls: dispatch on what is called (source function, class, layer, ATen operator, native),
argument binding, instantiation (with @dataclass's generated __init__), layer calls that
record their outputs, and call expressions with the call site they record.
"""

from __future__ import annotations

import ast
from typing import Any

from docgen.core.records import Severity
from docgen.models.frames import (
    BoundMethod,
    EvaluatorCore,
    Frame,
    FunctionRef,
    ModelRaise,
    Partial,
    ReturnSignal,
    SuperProxy,
)
from docgen.models.layout import view_strides
from docgen.models.limits import check_arguments
from docgen.models.shapes import apply_op
from docgen.models.steps import (
    FUNCTION,
    LIBRARY_ROOTS,
    MODULE,
    TensorMethod,
    has_tensor,
)
from docgen.models.syntax import (
    is_dataclass,
    one_line,
)
from docgen.models.valued import apply_value_op, is_missing
from docgen.models.values import (
    ArgumentMismatch,
    AtenOp,
    CallSite,
    CannotEvaluate,
    ClassRef,
    External,
    FieldSpec,
    InputRejected,
    Instance,
    ModuleInstance,
    SymTensor,
    TooLarge,
    Unknown,
    as_unknown,
)

MAX_DEPTH = 80


class Calls(EvaluatorCore):
    """Calling things the evaluator knows."""

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
            check_arguments(func, args, kwargs)
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
        known = apply_value_op(op, args, kwargs)
        if not is_missing(known):
            return known
        try:
            result, macs = apply_op(op, args, kwargs)
        except CannotEvaluate as exc:
            if owner is not None:
                owner.ops.append(op)
                owner.macs_unknown.append((op, exc.reason))
                if exc.cause is None:  # this operator failed, not one before it
                    owner.failures.append((op, exc.reason, self.recorder.location,
                                           isinstance(exc, InputRejected)))
            # Pass an unknown input on as it is: the row shows the first cause, not a chain.
            return as_unknown(exc, reason=f"{op}: {exc.reason}")
        if owner is not None:
            owner.ops.append(op)
            owner.macs += macs
        if isinstance(result, SymTensor) and all(result is not a for a in args):
            result.strides = view_strides(op, args, kwargs, result)
        elif isinstance(result, tuple) and op == "aten::unbind":
            for i, part in enumerate(result):  # each part is select(dim, i)
                if isinstance(part, SymTensor):
                    part.strides = view_strides("aten::select", (args[0], *args[1:2], i),
                                                kwargs, part)
        return result

    def call_module(self, module: ModuleInstance, args: tuple[Any, ...],
                    kwargs: dict[str, Any]) -> Any:
        """Module.__call__ -> forward, recording what the call returned."""
        found, forward, _ = self.class_attribute(module.cls, "forward")
        if "forward" in module.attrs:  # `self.forward = self.forward_slicing` in __init__
            found, forward = True, module.attrs["forward"]
        recorder = self.recorder
        if not found:
            where = recorder.call_site[1] if recorder.call_site else recorder.location \
                or (module.call_site.location if module.call_site else None)
            self.report(where, f"{module.cls.qualname} has no forward in source: "
                        "its output is unknown")
            recorder.call_site = None
            result = Unknown(f"{module.cls.name} has no forward in source", where)
            module.outputs.append(result)
            return result
        text, location = recorder.call_site or ("", None)
        recorder.call_site = None
        record = recorder.begin(self.module_stack[-1] if self.module_stack else None, MODULE,
                                "", module, args, kwargs, text, location)
        self.module_stack.append(module)
        opaque, recorder.opaque = recorder.opaque, 0
        try:
            bound = forward if "forward" in module.attrs else BoundMethod(forward, module)
            result = self.call(bound, args, kwargs)
        except CannotEvaluate as exc:
            if exc.cause is None:  # not an unknown input passed on: the call itself failed
                where = location or (module.call_site.location if module.call_site else None)
                self.report(where, f"forward of {module.cls.name} cannot be evaluated: "
                            f"{exc.reason}")
            result = as_unknown(exc)
        except ModelRaise as exc:
            self.report(exc.location, f"forward of {module.cls.name} raises: {exc.message}")
            result = Unknown(f"raises: {exc.message}", exc.location)
        finally:
            self.module_stack.pop()
            recorder.opaque = opaque
        module.outputs.append(result)
        recorder.end(record, result)
        return result

    def call_function(self, func: FunctionRef, args: tuple[Any, ...],
                      kwargs: dict[str, Any]) -> Any:
        if self.depth > MAX_DEPTH:
            raise TooLarge(f"calls nested more than {MAX_DEPTH} deep")
        frame = Frame(func.module, parent=func.closure, owner=func.owner)
        self.bind_arguments(func, args, kwargs, frame)
        building = func.name == "__init__" and bool(args) and isinstance(args[0], ModuleInstance)
        if building:
            if args[0].init_arguments is None:
                args[0].init_arguments = tuple(list(frame.names.items())[1:])
            self.building.append(args[0])
        self.depth += 1
        try:
            if isinstance(func.node, ast.Lambda):
                return self.expr(func.node.body, frame)
            self.block(func.node.body, frame)
        except ReturnSignal as ret:
            return ret.value
        finally:
            self.depth -= 1
            if building:
                self.building.pop()
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
                raise ArgumentMismatch(f"{func.name}() missing argument {arg.arg!r}")
        extra = tuple(args[len(positional):])
        if spec.vararg is not None:
            names[spec.vararg.arg] = extra
        elif extra:
            raise ArgumentMismatch(f"{func.name}() takes {len(positional)} positional arguments")
        for arg, default in zip(spec.kwonlyargs, spec.kw_defaults, strict=True):
            if arg.arg in kwargs:
                names[arg.arg] = kwargs.pop(arg.arg)
            elif default is not None:
                names[arg.arg] = self.expr(default, defining)
            else:
                raise ArgumentMismatch(f"{func.name}() missing keyword argument {arg.arg!r}")
        if spec.kwarg is not None:
            names[spec.kwarg.arg] = kwargs
        elif kwargs:
            raise ArgumentMismatch(f"{func.name}() got unexpected arguments {sorted(kwargs)}")

    def instantiate(self, cls: ClassRef, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        is_module = any(c.qualname == self.module_root for c in cls.mro)
        native = self.native(cls.qualname)
        if native is not None:  # Tensor, Parameter, Buffer: shapes, not source
            return self.call(native, args, kwargs)
        if cls.is_enum and len(args) == 1 and not kwargs:
            return self.enum_by_value(cls, args[0])
        instance: Instance = ModuleInstance(cls) if is_module else Instance(cls)
        found, init, _ = self.class_attribute(cls, "__init__")
        if found and isinstance(init, FunctionRef):
            self.call_function(init, (instance, *args), kwargs)
        elif is_dataclass(cls.node):
            self.dataclass_init(cls)(instance, *args, **kwargs)
        elif not is_module and (args or kwargs) and not found:
            if is_dataclass(cls.node):
                raise CannotEvaluate(f"dataclass {cls.qualname} is not evaluated")
            raise CannotEvaluate(f"{cls.qualname}() takes arguments but has no __init__ source")
        return instance

    def dataclass_init(self, cls: ClassRef) -> Any:
        """The `__init__` @dataclass generates: fields in MRO order, defaults from source
        (`field(default=...)` and `field(default_factory=...)` included)."""
        fields = dataclass_fields(cls)

        def init(instance: Instance, *args: Any, **kwargs: Any) -> None:
            for i, (name, (owner, stmt)) in enumerate(fields.items()):
                if i < len(args):
                    value = args[i]
                elif name in kwargs:
                    value = kwargs[name]
                elif stmt.value is not None:
                    module = self.source_module(owner.module)
                    assert module is not None
                    value = self.field_default(self.expr(stmt.value, Frame(module)), cls, name)
                else:
                    raise CannotEvaluate(f"{cls.name}() missing field {name!r}")
                self.set_attribute(instance, name, value)
            found, post_init, _ = self.class_attribute(cls, "__post_init__")
            if found:
                self.call(post_init, (instance,), {})
        return init

    def enum_by_value(self, cls: ClassRef, value: Any) -> Instance:
        """`Format("NCHW")`: the member of an enum whose value (or which itself) is `value`."""
        if isinstance(value, Instance) and value.cls.is_subclass_of(cls):
            return value
        for stmt in cls.node.body:
            if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 \
                    and isinstance(stmt.targets[0], ast.Name) \
                    and not stmt.targets[0].id.startswith("_"):
                member = self.get_attribute(cls, stmt.targets[0].id)
                if isinstance(member, Instance) and member.attrs.get("value") == value:
                    return member
        raise CannotEvaluate(f"{cls.name}({value!r}): no member has that value")

    def field_default(self, value: Any, cls: ClassRef, name: str) -> Any:
        if not isinstance(value, FieldSpec):
            return value
        if value.has_default:
            return value.default
        if value.default_factory is not None:
            return self.call(value.default_factory, (), {})
        raise CannotEvaluate(f"{cls.name}() missing field {name!r}")

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
        if not self.module_stack:
            result = self.call(func, tuple(args), kwargs)
        else:
            result = self.forward_call(node, frame, func, tuple(args), kwargs)
        if isinstance(result, ModuleInstance) and result.call_site is None:
            text = one_line(frame.module.segment(node) or "")
            result.call_site = CallSite(text, self.location(frame, node))
        if isinstance(result, SymTensor) and result.origin is None:
            result.origin = self.location(frame, node)
        return result

    def forward_call(self, node: ast.Call, frame: Frame, func: Any, args: tuple[Any, ...],
                     kwargs: dict[str, Any]) -> Any:
        """A call made while a forward runs: a layer call or a library function is a step."""
        recorder = self.recorder
        if isinstance(func, ModuleInstance):
            text = one_line(frame.module.segment(node) or "")
            recorder.call_site = (text, self.location(frame, node))
            return self.call(func, args, kwargs)
        target = function_target(func)
        if target is None:
            return self.call(func, args, kwargs)
        received = (func.tensor, *args) if isinstance(func, TensorMethod) else args
        if not (has_tensor(received) or has_tensor(kwargs)):
            return self.call(func, args, kwargs)
        text = one_line(frame.module.segment(node) or "")
        record = recorder.begin(self.module_stack[-1], FUNCTION, target, None, received, kwargs,
                                text, self.location(frame, node))
        call_args = args
        recorder.opaque += 1
        try:
            result = self.call(func, call_args, kwargs)
        except CannotEvaluate as exc:
            recorder.end(record, None, exc.reason)
            raise
        finally:
            recorder.opaque -= 1
        recorder.end(record, result)
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


def function_target(func: Any) -> str | None:
    """The qualified name of `func` when it is a library function (an opaque step), else None.

    Functions of the model's own code (torchvision, timm, the user's file) are not steps:
    the evaluator goes inside them and records what they call.
    """
    if isinstance(func, TensorMethod):
        return f"torch.Tensor.{func.name}"
    if isinstance(func, AtenOp):
        return func.path or func.name
    if isinstance(func, FunctionRef) and func.owner is None \
            and func.module.name.split(".")[0] in LIBRARY_ROOTS:
        return f"{func.module.name}.{func.name}"
    if isinstance(func, Partial):
        return function_target(func.func)
    if isinstance(func, External) and func.path.split(".")[0] in LIBRARY_ROOTS:
        # a binding no shape rule knows (`torch._native_multi_head_attention`): a step that
        # fails, so the call that was made is on record
        return func.path
    return None


def dataclass_fields(cls: ClassRef) -> dict[str, tuple[ClassRef, ast.AnnAssign]]:
    """The fields @dataclass collects, in MRO order: name -> (defining class, statement)."""
    fields: dict[str, tuple[ClassRef, ast.AnnAssign]] = {}
    for owner in reversed(cls.mro):
        if is_dataclass(owner.node):
            for stmt in owner.node.body:
                if isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name) \
                        and "ClassVar" not in ast.unparse(stmt.annotation):
                    fields[stmt.target.id] = (owner, stmt)
    return fields
