"""Each layer's evaluated values, input shape and the arguments its caller passes, from the
one reader of a model (docgen.models.reader.read_model)."""

from __future__ import annotations

import ast
from dataclasses import dataclass

from docgen.classes.resolve import Resolver
from docgen.core.errors import ConfigError, DocgenError, SourceError
from docgen.core.records import Diagnostic, Location, Severity
from docgen.models.reader import ForwardStep, NotAModule, read_model
from docgen.models.steps import FUNCTION, INDEX
from docgen.walk.engine import GradFlow, grad_values, read_grad_flows


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
    grad_flow: GradFlow | None = None  # what the autograd engine adds to its backward


@dataclass(frozen=True)
class FunctionalStep:
    """A library function a module's forward calls on tensors (`torch.flatten`, `out += x`
    as `operator.iadd`, `x[:, 0]` as `operator.getitem`), with the shapes it gets, the values
    it is passed and, for a Python library function, the calls it made while it ran."""

    caller: str  # path of the module whose forward makes the call ("" for the model)
    target: str  # torch.flatten, operator.iadd, torch.Tensor.view
    text: str
    location: Location | None
    input_shapes: tuple[tuple[int, ...], ...] | None
    arguments: tuple[tuple[str, str], ...] = ()  # "#0" or keyword -> value as text
    contiguous: tuple[bool, ...] = ()  # per tensor input
    strides: tuple[tuple[int, ...], ...] = ()  # per tensor input
    inner: tuple[FunctionalStep, ...] = ()
    grad_flow: GradFlow | None = None  # what the autograd engine adds to its backward
    output_shapes: tuple[tuple[int, ...], ...] | None = None
    # False when every tensor it reads requires no grad (a mask made by `x.new_zeros(...)`):
    # autograd records no node for it
    needs_grad: bool = True


def _value(text: str) -> object:
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError, MemoryError, RecursionError):
        return text


def _functional(step: ForwardStep, flow: GradFlow | None = None,
                needs: set[int] | None = None) -> FunctionalStep:
    return FunctionalStep(step.caller, step.target, step.text, step.location,
                          step.input_shapes, step.arguments, step.contiguous,
                          step.strides, tuple(_functional(s, None, needs) for s in step.inner),
                          flow, step.output_shapes,
                          needs is None or not step.reads or any(v in needs for v in step.reads))


def read_layer_inputs(resolver: Resolver, model: str, input_shape: tuple[int, ...],
                      training: bool, grad: bool = True, input_grad: bool = False,
                      diagnostics: list[Diagnostic] | None = None,
                      ) -> tuple[dict[str, LayerInput], list[FunctionalStep]]:
    """path -> LayerInput for every module of `model`, and the functional steps of the
    forwards; ({}, []) when it cannot be evaluated (the walk then keeps its literal reading
    of the model's `__init__`, and says so in `diagnostics`). A model that does not exist or
    whose file does not parse, or that is no Module, is the caller's error: ConfigError /
    SourceError / NotAModule propagate."""
    try:
        reading = read_model(resolver, model, tuple(input_shape), training=training,
                             grad=grad, input_grad=input_grad)
    except (ConfigError, SourceError, NotAModule):
        raise
    except (DocgenError, RecursionError):
        try:  # a forward that cannot be read in this mode: the eval reading, as a summary
            reading = read_model(resolver, model, tuple(input_shape))
        except (DocgenError, RecursionError) as exc:
            if diagnostics is not None:
                reason = "too deeply nested" if isinstance(exc, RecursionError) else str(exc)
                diagnostics.append(Diagnostic(
                    model.partition(":")[0].replace(".", "/") + ".py", 1,
                    f"the model cannot be evaluated ({reason}); the walk reads its layers "
                    "literally from __init__, without input shapes or decided branches"))
            return {}, []
    if diagnostics is not None:
        # an input an operator rejects (torch would raise): the walk reports it as the
        # summary does; lesser notes of the reading belong to the summary
        diagnostics.extend(d for d in reading.diagnostics if d.severity == Severity.ERROR)
    flows = read_grad_flows(reading)
    needs = grad_values(reading)
    steps = [_functional(s, flows.get(i), needs) for i, s in enumerate(reading.steps)
             if s.kind in (FUNCTION, INDEX)]
    inputs: dict[str, tuple[int, ...] | None] = {}
    passed: dict[str, tuple[tuple[str, str], ...]] = {}
    module_flows: dict[str, GradFlow] = {}
    for i, step in enumerate(reading.steps):
        if step.kind == "module" and i in flows:
            module_flows[step.target] = module_flows.get(step.target, GradFlow()).merged(
                flows[i])
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
                                    node.path in inputs, module_flows.get(node.path))
    return out, steps
