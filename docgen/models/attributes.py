"""Attribute and item access: modules, classes, instances (torch.nn.Module's registries
first), super(), functions and symbolic tensors.
"""

from __future__ import annotations

import ast
import functools
from types import SimpleNamespace
from typing import Any

from docgen.models.frames import (
    BoundMethod,
    EvaluatorCore,
    FunctionRef,
    SuperProxy,
)
from docgen.models.layout import index_strides
from docgen.models.shapes import index_shape
from docgen.models.steps import INDEX, TensorMethod
from docgen.models.syntax import (
    is_dataclass,
    is_decorated,
)
from docgen.models.values import (
    AtenOp,
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

# Symbolic tensors are taken to be dense float32 CPU tensors (a stated assumption: the
# summary is about shapes; the branches that test these flags pick the eager CPU path).
TENSOR_FLAGS: dict[str, Any] = {
    "dtype": "torch.float32", "device": SimpleNamespace(type="cpu", index=None), "is_nested": False,
    "is_sparse": False, "is_cuda": False, "is_quantized": False, "is_meta": False,
    "is_mkldnn": False, "layout": "torch.strided", "is_cpu": True,
}

TENSOR_METHODS = ("is_contiguous", "is_floating_point", "is_complex")



class Attributes(EvaluatorCore):
    """Getting and setting attributes and items."""

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
            if name in ("__name__", "__qualname__"):
                return obj.name
            if name == "__module__":
                return obj.module.name
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

    def set_attribute(self, obj: Any, name: str, value: Any) -> None:
        if isinstance(obj, ModuleInstance):
            obj.set_attribute(name, value)
        elif isinstance(obj, (Instance, FunctionRef)):
            obj.attrs[name] = value
        elif isinstance(obj, Unknown):
            return  # nothing known can change through an unknown object
        elif isinstance(obj, SymTensor) and name == "data":
            # `w.data *= s`, `w.data = t`: new values in place; the shape must stay.
            if isinstance(value, SymTensor) and value.shape != obj.shape:
                raise CannotEvaluate(f"sets data of shape {value.shape} on {obj.shape}")
            obj.values = value.values if isinstance(value, SymTensor) else None
        elif isinstance(obj, SymTensor) and name == "requires_grad" and isinstance(value, bool):
            obj.requires_grad = value
        else:
            raise CannotEvaluate(f"sets attribute {name} on {type(obj).__name__}")

    def set_item(self, container: Any, key: Any, value: Any) -> None:
        if isinstance(container, Unknown):
            return  # nothing known can change through an unknown container
        if isinstance(container, SymTensor):
            container.values = None  # `x[..., 0] += 1`: same shape, values no longer known
            return
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

    def delete_item(self, container: Any, key: Any) -> None:
        """`del container[key]`: a dict or list entry, or an object's `__delitem__`."""
        if isinstance(container, Unknown):
            return  # nothing known can change through an unknown container
        if isinstance(container, Instance):
            found, method, _ = self.class_attribute(container.cls, "__delitem__")
            if not found:
                raise CannotEvaluate(f"{container.cls.qualname} has no __delitem__")
            self.call(method, (container, key), {})
        elif isinstance(container, (list, dict)):
            try:
                del container[key]
            except (TypeError, IndexError, KeyError) as exc:
                raise CannotEvaluate(f"item deletion: {exc!r}") from exc
        else:
            raise CannotEvaluate(f"item deletion on {type(container).__name__}")

    def delete_attribute(self, obj: Any, name: str) -> None:
        """`del obj.name`: Module.__delattr__ looks in its registries, then the instance."""
        if isinstance(obj, ModuleInstance):
            found, _ = obj.find_attribute(name)
            if not found:
                raise CannotEvaluate(f"{obj.cls.name} object has no attribute {name!r}")
            obj.forget(name)
        elif isinstance(obj, (Instance, FunctionRef)) and name in obj.attrs:
            del obj.attrs[name]
        elif not isinstance(obj, Unknown):
            raise CannotEvaluate(f"deletes attribute {name} of {type(obj).__name__}")

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
            result = SymTensor(index_shape(container.shape, key))
            result.strides = index_strides(container, key, result)
            record = self.recorder.begin(self.module_stack[-1] if self.module_stack else None,
                                         INDEX, "operator.getitem", None, (container, key), {},
                                         "[]", None)
            self.recorder.end(record, result)
            return result
        try:
            return container[key]
        except Exception as exc:
            raise CannotEvaluate(f"subscript {key!r} of {type(container).__name__}: "
                                 f"{exc}") from exc

    def class_level(self, cls: ClassRef, name: str) -> Any:
        if name in ("__name__", "__qualname__"):
            return cls.name
        if name == "__module__":
            return cls.module
        found, value, owner = self.class_attribute(cls, name)
        if not found:
            raise CannotEvaluate(f"class {cls.qualname} has no attribute {name!r} in source")
        if isinstance(value, FunctionRef) and is_decorated(value.node, "classmethod"):
            return BoundMethod(value, cls)
        if owner is not None and owner.is_enum and not name.startswith("_") \
                and not isinstance(value, (FunctionRef, ClassRef)):
            return self.enum_member(owner, name, value)
        return value

    def enum_member(self, cls: ClassRef, name: str, value: Any) -> Instance:
        """`Color.RED` of `class Color(Enum)`: one member object per name, holding its value."""
        key = f"{cls.qualname}.{name}"
        if key not in self.enum_members:
            self.enum_members[key] = Instance(cls, {"value": value, "_value_": value,
                                                    "name": name, "_name_": name})
        return self.enum_members[key]

    def instance_attribute(self, obj: Instance, name: str, start: int = 0) -> Any:
        if name == "__class__":
            return obj.cls
        if name == "__module__":  # a class attribute every class has, through the instance
            return obj.cls.module
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
        if is_decorated(value.node, "staticmethod"):
            return value
        if is_decorated(value.node, "classmethod"):
            return BoundMethod(value, obj.cls)
        if is_decorated(value.node, "property"):
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
        dataclass = next((c for c in cls.mro[index + 1:] if is_dataclass(c.node)), None)
        if name == "__init__" and dataclass is not None:
            return functools.partial(self.dataclass_init(dataclass), instance)
        if name == "__init__":
            return lambda *args, **kwargs: None  # Module.__init__ / object.__init__
        if name == "__setattr__" and isinstance(instance, Instance):
            return functools.partial(_object_setattr, instance)
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
        op = f"aten::{name}"
        return TensorMethod(name, tensor,
                            lambda args, kwargs: self.call_op(op, (tensor, *args), kwargs))


# What Module.__init__ creates before any `super().__setattr__` can name it: the evaluator
# models these registries itself.
_MODULE_STATE = frozenset({"_modules", "_parameters", "_buffers", "training"})


def _object_setattr(instance: Instance, name: str, value: Any) -> None:
    """`object.__setattr__` reached through `super()`: the instance dict, no registration
    (what torch's Module.__init__ uses to create its own state)."""
    if isinstance(instance, ModuleInstance) and name in _MODULE_STATE:
        return
    instance.attrs[name] = value
