"""Each layer's evaluated values, input shape and the arguments its caller passes, from the
one reader of a model (docgen.models.reader.read_model)."""

from __future__ import annotations

import ast
from dataclasses import dataclass

from docgen.classes.resolve import Resolver
from docgen.core.errors import DocgenError
from docgen.core.records import Location
from docgen.models.reader import read_model


@dataclass(frozen=True)
class TensorAttr:
    """A parameter or buffer of a layer: a tensor (not None), known by its shape."""

    shape: tuple[int, ...] | None
    is_buffer: bool


@dataclass(frozen=True)
class LayerInput:
    path: str
    qualname: str
    attrs: tuple[tuple[str, object], ...]  # evaluated constructor values, tensors as TensorAttr
    input_shape: tuple[int, ...] | None
    has_children: bool
    call: str = ""  # the constructor call as written
    location: Location | None = None  # where it is written
    passed: tuple[tuple[str, str], ...] = ()  # what its caller passes (`need_weights`, "False")
    called: bool = True  # whether any forward calls it (MHA's out_proj is only read from)


@dataclass(frozen=True)
class FunctionalStep:
    """A library function a module's forward calls on tensors (`torch.flatten`, `out += x`
    as `operator.iadd`), with the shapes it gets."""

    caller: str  # path of the module whose forward makes the call ("" for the model)
    target: str  # torch.flatten, operator.iadd, torch.Tensor.view
    text: str
    location: Location | None
    input_shapes: tuple[tuple[int, ...], ...] | None


def _value(text: str) -> object:
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError, MemoryError, RecursionError):
        return text


def read_layer_inputs(resolver: Resolver, model: str, input_shape: tuple[int, ...],
                      training: bool) -> tuple[dict[str, LayerInput], list[FunctionalStep]]:
    """path -> LayerInput for every module of `model`, and the functional steps of the
    forwards; ({}, []) when it cannot be read (the walk then keeps its literal reading of
    the model's `__init__`)."""
    del training  # shapes do not depend on the mode for the layers read here
    try:
        reading = read_model(resolver, model, tuple(input_shape))
    except (DocgenError, RecursionError):
        return {}, []
    steps = [FunctionalStep(s.caller, s.target, s.text, s.location, s.input_shapes)
             for s in reading.steps if s.kind == "function"]
    inputs: dict[str, tuple[int, ...] | None] = {}
    passed: dict[str, tuple[tuple[str, str], ...]] = {}
    for step in reading.steps:
        if step.kind == "module" and step.target not in inputs:
            inputs[step.target] = step.input_shapes[0] if step.input_shapes else None
            passed[step.target] = step.arguments
    out: dict[str, LayerInput] = {}
    for node in reading.layers:
        attrs: dict[str, object] = {name: _value(text) for name, text in node.values}
        attrs.update((name, _value(text)) for name, text in node.arguments)
        for tensor in node.tensors:
            attrs[tensor.name] = TensorAttr(tensor.shape, tensor.is_buffer)
        if any(t.name == "bias" for t in node.tensors):
            attrs["bias"] = True
        elif "bias" in attrs and not isinstance(attrs["bias"], bool):
            attrs["bias"] = bool(attrs["bias"]) and attrs["bias"] != "None"
        out[node.path] = LayerInput(node.path, node.qualname, tuple(attrs.items()),
                                    inputs.get(node.path), bool(node.children), node.call,
                                    node.location, passed.get(node.path, ()),
                                    node.path in inputs)
    return out, steps
