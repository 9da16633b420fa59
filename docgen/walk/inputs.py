"""Each layer's evaluated attributes and input shape, from the one static evaluator of the
model (docgen.models.evaluate): the model is built with its default arguments and called on
a symbolic input; every module call records the shapes of the tensors it is given.

To be replaced by models.reader.read_model (one reader of a model) once it lands.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from docgen.classes.resolve import Resolver
from docgen.core.records import Location
from docgen.models.evaluate import Evaluator
from docgen.models.interpret import ModelRaise
from docgen.models.values import CannotEvaluate, ModuleInstance, SymTensor


@dataclass(frozen=True)
class TensorAttr:
    """A parameter or buffer of a layer: a tensor (not None), known by its shape."""

    shape: tuple[int, ...]
    is_buffer: bool


@dataclass(frozen=True)
class LayerInput:
    path: str
    qualname: str
    attrs: tuple[tuple[str, object], ...]  # plain evaluated attributes (ints, floats, ...)
    input_shape: tuple[int, ...] | None
    has_children: bool
    call: str = ""  # the constructor call as written
    location: Location | None = None  # where it is written


class _Recorder(Evaluator):
    def __init__(self, resolver: Resolver) -> None:
        super().__init__(resolver)
        self.inputs: dict[int, tuple[int, ...]] = {}

    def call_module(self, module: ModuleInstance, args: tuple[Any, ...],
                    kwargs: dict[str, Any]) -> Any:
        first = next((a for a in args if isinstance(a, SymTensor)), None)
        if first is not None:
            self.inputs.setdefault(id(module), first.shape)
        return super().call_module(module, args, kwargs)


def _plain(value: object) -> bool:
    if isinstance(value, (bool, int, float, str)) or value is None:
        return True
    return isinstance(value, (tuple, list)) and all(
        isinstance(v, (bool, int, float)) for v in value)


def read_layer_inputs(resolver: Resolver, model: str, input_shape: tuple[int, ...],
                      training: bool) -> dict[str, LayerInput]:
    """path -> LayerInput for every module of `model`; {} when it cannot be evaluated."""
    module_name, _, name = model.partition(":")
    evaluator = _Recorder(resolver)
    module = evaluator.source_module(module_name)
    if module is None or not name:
        return {}
    try:
        root = evaluator.call(evaluator.module_global(module, name), (), {})
        if not isinstance(root, ModuleInstance):
            return {}
        for _, sub in root.walk():
            sub.training = training
        evaluator.call_module(root, (SymTensor(tuple(input_shape)),), {})
    except (CannotEvaluate, ModelRaise, RecursionError):
        return {}
    out: dict[str, LayerInput] = {}
    for path, sub in root.walk():
        attrs: dict[str, object] = {k: v for k, v in sub.attrs.items() if _plain(v)}
        for table, is_buffer in ((sub.parameters, False), (sub.buffers, True)):
            for k, v in table.items():
                attrs[k] = TensorAttr(v.shape, is_buffer) if isinstance(v, SymTensor) \
                    else None
        attrs["bias"] = sub.parameters.get("bias") is not None if "bias" in sub.parameters \
            else attrs.get("bias", False)
        site = sub.call_site
        out[path] = LayerInput(path, sub.cls.qualname, tuple(attrs.items()),
                               evaluator.inputs.get(id(sub)), bool(sub.modules),
                               site.text if site else "", site.location if site else None)
    return out
