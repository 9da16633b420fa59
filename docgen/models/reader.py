"""The one reader of a model: its module tree and the data flow of its `forward`, from source.

Every feature that needs a model's layers (the summary, the site's composition diagram and
layer table, the walk) calls `read_model(resolver, "package.module:Name", input_shape)`. It
evaluates the builder or class named (with its default arguments) with the static evaluator
(evaluate.py), then runs `forward` once over a symbolic input of `input_shape`.

Records (frozen; values as short text, other objects by path):

- `LayerNode`: one submodule instance of the evaluated module tree, depth first, parents
  first. `path` ("features.0", "" for the root), `qualname` of its class, `call` (the
  constructor call as written), `arguments` (the evaluated constructor values by parameter
  name, defaults included: ("in_channels", "3"), ("kernel_size", "(11, 11)")), `location`
  (where it was constructed), `children` (child paths in registration order). The figures
  the summary shows ride along: `tensors` (its own parameters and buffers), `params`,
  `trainable`, `macs` (of the operators its own forward ran), `ops`, `output_shapes` (of its
  last call), `notes` (why a figure is missing: a None figure always has a note).
- `ForwardStep`: one step of a forward, in execution order (a step is listed when it
  starts): `caller` (path of the module whose forward runs it), `kind` ("module": a
  submodule call, `target` its path; "function": a library function on tensors, `target`
  its qualified name: "torch.nn.functional.relu", "torch.flatten", "torch.Tensor.view",
  "operator.add", "operator.iadd"), `arguments` (keyword name or "#0", "#1"; tensors as
  "Tensor[2, 64, 55, 55] float32"), `input_shapes`/`output_shapes` (None when not known),
  `location`, `text` (the call as written, or the operator), `macs` (function steps: the
  multiply-accumulates counted while it ran; None when not derived), `notes`, `inner` (a
  library function's step: the calls it made while it ran, each a ForwardStep of the same
  caller with its own `inner`, in call order; what the walk follows to the operators), and
  `contiguous` / `strides` (per tensor input: whether it is row-major, its element strides,
  from models/layout.py). Kind
  "index" is basic indexing of a tensor (`x[:, 0]`, target "operator.getitem", arguments the
  tensor and the key, slices written as in Python).
- `ModelReading`: `model`, `input_shape` (of forward's first input; `more_inputs` the
  others'), `layers`, `steps`, `diagnostics` (sorted: warnings first), `output_shapes` of the
  model.

A wrong model name raises ConfigError; a model whose building cannot be evaluated raises
DocgenError with file:line. What forward cannot compute stays in the records as a None with
its reason, and every operator that failed on known inputs (a wrong channel count, a spatial
size too small, a wrong rank) is a warning naming the layer and the line.
"""

from __future__ import annotations

import ast
import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from docgen.classes.parse import parse_python
from docgen.classes.resolve import Resolver
from docgen.core.config import DEFAULT_MODULE_ROOT
from docgen.core.errors import ConfigError, DocgenError, SourceError
from docgen.core.names import short_name
from docgen.core.records import Diagnostic, Location, Severity, TensorDoc
from docgen.models.evaluate import Evaluator
from docgen.models.frames import (
    BoundMethod,
    Frame,
    FunctionRef,
    ModelRaise,
    Partial,
    SourceModule,
)
from docgen.models.layout import is_contiguous, strides_of
from docgen.models.shapes import counts_macs
from docgen.models.steps import FUNCTION, MODULE, StepRecord
from docgen.models.values import (
    CallSite,
    CannotEvaluate,
    ClassRef,
    External,
    Instance,
    ModuleInstance,
    ModuleRef,
    SymTensor,
    Unknown,
)

Shapes = tuple[tuple[int, ...], ...]
DEFAULT_INPUT = (1, 3, 224, 224)
InputShapes = tuple[int, ...] | tuple[tuple[int, ...], ...]
VALUE_WIDTH = 80


@dataclass(frozen=True)
class LayerNode:
    """One submodule instance of the evaluated module tree (see the module docstring)."""

    path: str
    qualname: str
    call: str
    arguments: tuple[tuple[str, str], ...]
    location: Location | None
    children: tuple[str, ...]
    tensors: tuple[TensorDoc, ...] = ()
    params: int | None = None
    trainable: int | None = None
    macs: int | None = None
    ops: tuple[str, ...] = ()
    output_shapes: Shapes | None = None
    notes: tuple[str, ...] = ()
    # plain instance attributes whose evaluated value is a scalar (`self.bidirectional`,
    # `self.mode`), as Python literals: what a forward's branches test
    values: tuple[tuple[str, str], ...] = ()

    @property
    def depth(self) -> int:
        return self.path.count(".") + 1 if self.path else 0


@dataclass(frozen=True)
class ForwardStep:
    """One step of a forward's data flow, in execution order (see the module docstring)."""

    caller: str
    kind: str
    target: str
    arguments: tuple[tuple[str, str], ...]
    input_shapes: Shapes | None
    output_shapes: Shapes | None
    location: Location | None
    text: str = ""
    macs: int | None = None
    notes: tuple[str, ...] = ()
    reads: tuple[int, ...] = ()  # the tensor values it reads, in argument order (data flow)
    writes: tuple[int, ...] = ()  # the tensor values it returns
    inner: tuple[ForwardStep, ...] = ()
    contiguous: tuple[bool, ...] = ()
    strides: tuple[tuple[int, ...], ...] = ()  # per tensor input: its element strides


@dataclass(frozen=True)
class ModelReading:
    """A model read from source: its module tree and its forward's steps."""

    model: str
    input_shape: tuple[int, ...]
    layers: tuple[LayerNode, ...]
    steps: tuple[ForwardStep, ...]
    diagnostics: tuple[Diagnostic, ...]
    output_shapes: Shapes | None = None
    is_built_completely: bool = True  # no warning while building: the parameters are exact
    more_inputs: tuple[tuple[int, ...], ...] = ()  # the shapes of forward's further inputs
    # values of the data flow that are parameters autograd accumulates into (requires_grad)
    grad_leaves: tuple[int, ...] = ()
    output_values: tuple[int, ...] = ()  # the data-flow values the model returns

    @property
    def is_complete(self) -> bool:
        """Nothing that could change the tree, a shape or a count was left undecided."""
        return not any(d.severity.matters for d in self.diagnostics)


def read_model(resolver: Resolver, model: str, input_shape: InputShapes | None = None,
               module_root: str = DEFAULT_MODULE_ROOT, *, training: bool = False,
               grad: bool = True, input_grad: bool = False) -> ModelReading:
    """Build `model` (`package.module:Name`, a builder or a class) and run its forward.

    `input_shape` is one shape (`(1, 3, 224, 224)`) or one per input of forward
    (`((1, 3, 520, 960), (1, 3, 520, 960))` for RAFT's two images); None: the input size the
    model declares (see `declared_input`), else DEFAULT_INPUT. `module_root` is the class
    that stands for torch.nn.Module (the configuration's). The forward runs in eval mode
    with autograd on unless `training` / `grad` say otherwise (`model.train()`,
    `torch.no_grad()`): the branches a library function takes on them
    (`F.multi_head_attention_forward`'s dropout, MultiheadAttention's fast path) follow.
    With `input_grad` the input tensors require grad (`x.requires_grad_()` before the call):
    they are `grad_leaves` of the data flow, as parameters are.
    """
    evaluator = Evaluator(resolver, module_root)
    evaluator.grad_enabled = grad
    root = build_model(evaluator, model)
    built = not any(d.severity.matters for d in evaluator.diagnostics)
    for _, module in root.walk():
        module.training = training  # model.eval() unless asked: as torchvision counts it
        forget_calls(module)  # what ran while building (SSD probes its backbone) is no step
    evaluator.recorder.records.clear()
    given = input_shapes(input_shape) if input_shape is not None \
        else (declared_input(evaluator, root),)
    shapes = forward_inputs(evaluator, root, given)
    given_tensors = tuple(SymTensor(shape) for shape in shapes)
    output = evaluator.call_module(root, given_tensors, {})
    paths = {id(module): path for path, module in root.walk()}
    layers = tuple(_layer(path, module) for path, module in root.walk())
    flow = _DataFlow()
    steps = tuple(_step(record, paths, flow)
                  for record in _ended_in_order(evaluator.recorder.records, paths, flow))
    if input_grad and grad:
        flow.grad_leaves.update(flow.value(t) for t in given_tensors)
    failures = [_failure(path, module, failure) for path, module in root.walk()
                for failure in module.failures]
    failures += [_missing_figure(layer) for layer in layers
                 if layer.params is None or layer.macs is None]
    diagnostics = tuple(sorted(dict.fromkeys([*evaluator.diagnostics, *failures]),
                               key=lambda d: (not d.severity.matters, d.path, d.line)))
    return ModelReading(model, shapes[0], layers, steps, diagnostics, shapes_of(output), built,
                        shapes[1:], tuple(sorted(flow.grad_leaves)),
                        tuple(flow.value(t) for t in _tensors([output])))


def forget_calls(module: ModuleInstance) -> None:
    """Drop what calls made while the model was built left on a layer (its outputs, operators
    and MACs): the summary is of the one forward call, as a flop counter around it counts."""
    module.outputs.clear()
    module.ops.clear()
    module.macs = 0
    module.macs_unknown.clear()
    module.failures.clear()


def declared_input(evaluator: Evaluator, root: ModuleInstance) -> tuple[int, ...]:
    """The input a model declares for itself, batch 1: timm's `model.pretrained_cfg` (the
    default cfg its `@register_model` registered: `input_size=(3, 240, 240)`), else
    DEFAULT_INPUT. Said as an info line either way."""
    where = root.call_site.location if root.call_site else None
    for name in ("pretrained_cfg", "default_cfg"):
        found, cfg = root.find_attribute(name)
        size = cfg.get("input_size") if found and isinstance(cfg, dict) else None
        if isinstance(size, (tuple, list)) and size \
                and all(isinstance(d, int) and not isinstance(d, bool) and d > 0 for d in size):
            evaluator.report(where, f"input {[1, *size]}: the model's {name}['input_size'] "
                             "(batch 1)", Severity.INFO)
            return (1, *size)
    evaluator.report(where, f"input {list(DEFAULT_INPUT)}: the default (the model declares no "
                     "input size)", Severity.INFO)
    return DEFAULT_INPUT


def input_shapes(value: InputShapes) -> tuple[tuple[int, ...], ...]:
    """One shape or a sequence of shapes, as a tuple of shapes."""
    if value and all(isinstance(v, (tuple, list)) for v in value):
        return tuple(tuple(int(d) for d in v) for v in value)  # type: ignore[union-attr]
    return (tuple(int(d) for d in value),)  # type: ignore[arg-type]


def forward_inputs(evaluator: Evaluator, root: ModuleInstance,
                   shapes: tuple[tuple[int, ...], ...]) -> tuple[tuple[int, ...], ...]:
    """The shapes forward is called with: those given, and for each further parameter that
    has no default (RAFT's `image2`) the last shape given again, said as an info line."""
    found, forward, _ = evaluator.class_attribute(root.cls, "forward")
    node = getattr(forward, "node", None) if found else None
    if not isinstance(node, ast.FunctionDef):
        return shapes
    spec = node.args
    positional = [*spec.posonlyargs, *spec.args][1:]  # without self
    required = positional[:len(positional) - len(spec.defaults)]
    if len(shapes) >= len(required):
        return shapes
    missing = [arg.arg for arg in required[len(shapes):]]
    location = Location(forward.module.path, node.lineno)
    evaluator.report(location, f"forward takes {len(required)} inputs; "
                     f"{', '.join(missing)} given the shape {list(shapes[-1])} of the last one "
                     "given (use --input once per input)", Severity.INFO)
    return (*shapes, *(shapes[-1],) * len(missing))


class NotAModule(DocgenError):
    """The model named evaluates to something that is no torch.nn.Module (a plain class):
    the command that needs its layers stops (exit 2); a site build reports it and goes on."""


def build_model(evaluator: Evaluator, model: str) -> ModuleInstance:
    """Evaluate the builder or class named `module:name` with its default arguments, or with
    the arguments written after it, evaluated in that module
    (`torchvision.models.googlenet:googlenet(weights=GoogLeNet_Weights.IMAGENET1K_V1)`)."""
    module_name, _, name = model.partition(":")
    name, paren, arguments = name.partition("(")
    name = name.strip()
    module = evaluator.source_module(module_name) if module_name else None
    if module is None and module_name in evaluator.load_errors:
        raise evaluator.load_errors[module_name]  # the model's own file does not parse
    if module is None or not name:
        raise ConfigError(f"model {model!r}: expected MODULE:NAME with a module of the sources"
                          if not name or not module_name
                          else f"model {model!r}: module {module_name!r} not found in the "
                          "sources")
    if name not in module.defs and not _is_imported(module, name):
        raise ConfigError(f"model {model!r}: {module.path} defines no {name!r}")
    try:
        builder = evaluator.module_global(module, name)
        if isinstance(builder, (Unknown, External, ModuleRef)):
            raise ConfigError(f"model {model!r}: {name!r} in {module.path} is not a class or "
                              "a function read from source")
        args, kwargs = _spec_arguments(evaluator, module, name, paren + arguments, model)
        result = evaluator.call(builder, args, kwargs)
    except CannotEvaluate as exc:
        where = f"{exc.location}: " if exc.location else f"{module.path}: "
        raise DocgenError(f"{where}model {model!r} cannot be evaluated: {exc.reason}") from exc
    except ModelRaise as exc:
        raise DocgenError(f"{exc.location}: building {model} raises: {exc.message}") from exc
    if not isinstance(result, ModuleInstance):
        if not isinstance(result, Unknown):  # the user named something that is no Module
            raise NotAModule(f"{module.path}: model {model!r} is not a torch.nn.Module: "
                             f"{value_text(result)}")
        raise DocgenError(f"{module.path}: model {model!r} did not evaluate to a "
                          f"torch.nn.Module: {result.describe()}")
    if result.call_site is None:
        line = getattr(module.defs.get(name), "lineno", 0)
        result.call_site = CallSite(f"{name}()", Location(module.path, line))
    return result


def _spec_arguments(evaluator: Evaluator, module: SourceModule, name: str, text: str,
                    model: str) -> tuple[tuple[Any, ...], dict[str, Any]]:
    """The arguments written in a model spec, `(weights=X.Y, num_classes=10)`."""
    if not text:
        return (), {}
    try:
        _, tree = parse_python(f"{name}{text}\n".encode(), "<model>")
    except SourceError as exc:
        raise ConfigError(f"model {model!r}: the arguments are not a Python call: "
                          f"{exc.message}") from exc
    call = tree.body[0].value if len(tree.body) == 1 and isinstance(tree.body[0], ast.Expr) \
        else None
    if not isinstance(call, ast.Call):
        raise ConfigError(f"model {model!r}: the arguments are not a Python call")
    # the spec's names are the module's, its text is the spec's (what a message quotes)
    spec = dataclasses.replace(module, path="<model>", text=f"{name}{text}\n", _lines=None)
    try:
        args, kwargs = evaluator.call_arguments(call, Frame(spec))
    except CannotEvaluate as exc:
        raise ConfigError(f"model {model!r}: cannot evaluate its arguments: {exc.reason}") from exc
    for value in (*args, *kwargs.values()):
        if isinstance(value, Unknown):
            raise ConfigError(f"model {model!r}: cannot evaluate its arguments: "
                              f"{value.describe()}")
        if isinstance(value, External):
            raise ConfigError(f"model {model!r}: {value.path} is not defined in the sources")
    return tuple(args), kwargs


def _is_imported(module: SourceModule, name: str) -> bool:
    """Whether `name` is bound by an import at the top of `module` (a re-exported model)."""
    for stmt in module.tree.body:
        if isinstance(stmt, (ast.Import, ast.ImportFrom)):
            if any((alias.asname or alias.name.split(".")[0]) == name for alias in stmt.names):
                return True
            if any(alias.name == "*" for alias in stmt.names):
                return True
    return False


# ----------------------------------------------------------------- layers

def _layer(path: str, module: ModuleInstance) -> LayerNode:
    tensors = tuple(
        [_tensor_doc(n, v, False) for n, v in module.parameters.items() if v is not None]
        + [_tensor_doc(n, v, True) for n, v in module.buffers.items() if v is not None])
    notes = [f"{t.name}: shape not derived: {t.note}" for t in tensors if t.shape is None]
    notes += [f"{'self.' + name if name.isidentifier() else name} not evaluated: "
              f"{u.describe()}" for name, u in module.unknown.items()]
    params = trainable = None
    if not notes:
        weights = [t for t in tensors if not t.is_buffer]
        params = sum(_numel(t.shape) for t in weights)
        trainable = sum(_numel(t.shape) for t in weights if t.is_trainable)
    shapes = _output_shapes(module, notes)
    macs: int | None = module.macs
    for op, reason in module.macs_unknown:
        notes.append(f"{op}: {reason}")
        if _loses_macs(op, reason):
            macs = None
    site = module.call_site
    children = tuple(f"{path}.{name}" if path else name
                     for name, child in module.modules.items()
                     if isinstance(child, ModuleInstance))
    return LayerNode(
        path=path, qualname=module.cls.qualname, call=site.text if site else "",
        arguments=tuple((name, value_text(value)) for name, value in module.init_arguments or ()),
        location=site.location if site else None, children=children, tensors=tensors,
        params=params, trainable=trainable, macs=macs, ops=tuple(dict.fromkeys(module.ops)),
        output_shapes=shapes, notes=tuple(notes), values=_scalar_values(module))


_SCALARS = (bool, int, float, str, type(None))


def _scalar_values(module: ModuleInstance) -> tuple[tuple[str, str], ...]:
    """The module's attributes that are numbers, strings or flat tuples of them: what its
    own `__init__` and its bases' stored (`Conv3DSimple`, a subclass of nn.Conv3d that takes
    no `dilation`, still has `self.dilation == (1, 1, 1)`)."""
    return tuple((name, repr(value)) for name, value in module.attrs.items()
                 if _is_scalar(value) and name.isidentifier()
                 and name not in module.parameters and name not in module.buffers)


def _is_scalar(value: object) -> bool:
    if isinstance(value, (tuple, list)):
        return len(value) <= 8 and all(isinstance(v, _SCALARS) for v in value)
    return isinstance(value, _SCALARS)


def _loses_macs(op: str, reason: str) -> bool:
    """Whether a failed operator leaves a MAC count unknown: one that counts, one with no
    rule (it might), or a forward statement that was not evaluated."""
    return op == "forward" or counts_macs(op) or reason.startswith("no shape rule")


def _tensor_doc(name: str, value: Any, is_buffer: bool) -> TensorDoc:
    if isinstance(value, SymTensor):
        return TensorDoc(name, value.shape, value.origin, is_buffer,
                         value.requires_grad and not is_buffer)
    reason = value.describe() if isinstance(value, Unknown) else f"not a tensor: {value!r}"
    return TensorDoc(name, None, None, is_buffer, False, reason)


def _numel(shape: tuple[int, ...] | None) -> int:
    count = 1
    for dim in shape or ():
        count *= dim
    return count


def _output_shapes(module: ModuleInstance, notes: list[str]) -> Shapes | None:
    if not module.outputs:
        notes.append("not called by forward: no output shape")
        return None
    if len(module.outputs) > 1:
        notes.append(f"called {len(module.outputs)} times; shape of the last call")
    last = module.outputs[-1]
    shapes = shapes_of(last)
    if shapes is None:
        why = last.describe() if isinstance(last, Unknown) else f"returns {type(last).__name__}"
        notes.append(f"output shape not derived: {why}")
    return shapes


def _missing_figure(layer: LayerNode) -> Diagnostic:
    """Every layer whose parameters or MACs are unknown is a warning: never silently partial."""
    loc = layer.location or Location("<unknown>", 0)
    what = "parameters" if layer.params is None else "MACs"
    why = layer.notes[0] if layer.notes else "not derived"
    return Diagnostic(loc.path, loc.line, f"layer {layer.path or '(model)'} "
                      f"({short_name(layer.qualname)}): {what} unknown: {why}", Severity.WARNING)


def _failure(path: str, module: ModuleInstance,
             failure: tuple[str, str, Location | None, bool]) -> Diagnostic:
    """A warning at the line that built the layer (the model's own source), naming the layer;
    the line of the operator call, often inside the library, is added. An input the operator
    rejects (torch would raise) is an error."""
    op, reason, location, rejected = failure
    built = module.call_site.location if module.call_site else None
    loc = built or location or Location("<unknown>", 0)
    at = f" (called at {location})" if location and location != loc else ""
    layer = path or "(model)"
    if rejected:
        return Diagnostic(loc.path, loc.line, f"layer {layer} ({module.cls.name}): {op}: "
                          f"{reason}{at}; torch would raise here", Severity.ERROR)
    return Diagnostic(loc.path, loc.line,
                      f"layer {layer} ({module.cls.name}): {op}: {reason}{at}", Severity.WARNING)


# ----------------------------------------------------------------- steps

class _DataFlow:
    """Numbers the tensor values of the forward's data flow: a tensor object is one value
    until a step returns it in place (`x.relu_()`, `out += identity`), after which its later
    readers read a new value, as autograd sees a new version of it."""

    def __init__(self) -> None:
        self.ids: dict[int, int] = {}
        self.keep: list[Any] = []  # the objects numbered stay alive, so ids stay unique
        self.grad_leaves: set[int] = set()
        self.steps: dict[int, tuple[tuple[int, ...], tuple[int, ...]]] = {}

    def value(self, tensor: SymTensor) -> int:
        key = id(tensor)
        if key not in self.ids:
            self.ids[key] = len(self.keep) + 1
            self.keep.append(tensor)
            if tensor.is_parameter and tensor.requires_grad:
                self.grad_leaves.add(self.ids[key])
        return self.ids[key]

    def renew(self, tensor: SymTensor) -> None:
        self.ids.pop(id(tensor), None)
        self.ids[id(tensor)] = len(self.keep) + 1
        self.keep.append(tensor)


def _tensors(values: Any) -> list[SymTensor]:
    out: list[SymTensor] = []
    for value in values:
        items = value if isinstance(value, (list, tuple)) else [value]
        out.extend(v for v in items if isinstance(v, SymTensor))
    return out


def _ended_in_order(records: list[StepRecord], paths: dict[int, str],
                    flow: _DataFlow) -> list[StepRecord]:
    """`records` as listed (by start), after numbering what each reads when it starts and
    returns when it ends: a step ends before the next step that is not inside it starts."""
    open_: list[tuple[StepRecord, str]] = []  # module steps running, with their path

    def close(record: StepRecord) -> None:
        reads = flow.steps[id(record)][0]
        inputs = _tensors(v for _, v in record.arguments)
        outputs = _tensors([record.result])
        for tensor in outputs:
            if any(tensor is t for t in inputs):
                flow.renew(tensor)  # returned in place: a new version from here on
        flow.steps[id(record)] = (reads, tuple(flow.value(t) for t in outputs))

    for record in records:
        caller = paths.get(id(record.caller), "")
        while open_ and not _inside(caller, open_[-1][1]):
            close(open_.pop()[0])
        flow.steps[id(record)] = (tuple(flow.value(t) for t in _tensors(
            v for _, v in record.arguments)), ())
        if record.kind == MODULE and record.module is not None:
            open_.append((record, paths.get(id(record.module), "\0")))
        else:
            # a library function: the calls it made ran between its start and its end
            _number_inner(record.inner, flow, close)
            close(record)
    while open_:
        close(open_.pop()[0])
    return records


def _number_inner(records: tuple[StepRecord, ...] | list[StepRecord], flow: _DataFlow,
                  close: Callable[[StepRecord], None]) -> None:
    """The values the calls inside a library function read and return (`linear(q, w, b)`,
    `proj[0]` in F.multi_head_attention_forward), numbered in the order they ran: what the
    autograd engine sees inside a functional step (walk/engine.py)."""
    for inner in records:
        flow.steps[id(inner)] = (tuple(flow.value(t) for t in _tensors(
            v for _, v in inner.arguments)), ())
        _number_inner(inner.inner, flow, close)
        close(inner)


def _inside(caller: str, module: str) -> bool:
    """Whether a step called from `caller` runs inside the forward of `module`."""
    return module == "" or caller == module or caller.startswith(module + ".")


def _step(record: StepRecord, paths: dict[int, str], flow: _DataFlow | None = None
          ) -> ForwardStep:
    caller = paths.get(id(record.caller), "<unregistered>")
    if record.kind == MODULE and record.module is not None:
        target = paths.get(id(record.module), f"<unregistered {record.module.cls.name}>")
    else:
        target = record.target
    inputs = [v for _, v in record.arguments]
    notes: list[str] = []
    if record.failure:
        notes.append(record.failure)
    macs: int | None = None
    if record.kind == FUNCTION:
        macs = record.macs
        for op, reason in record.macs_unknown:
            notes.append(f"{op}: {reason}")
            if _loses_macs(op, reason):
                macs = None
    output = shapes_of(record.result)
    if output is None and not record.failure and isinstance(record.result, Unknown):
        notes.append(f"output shape not derived: {record.result.describe()}")
    return ForwardStep(
        caller=caller, kind=record.kind, target=target,
        arguments=tuple((name, value_text(value)) for name, value in record.arguments),
        input_shapes=_input_shapes(inputs), output_shapes=output,
        location=record.location, text=record.text, macs=macs, notes=tuple(notes),
        inner=tuple(_step(r, paths, flow) for r in record.inner),
        contiguous=tuple(is_contiguous(v) for v in _tensors(inputs)),
        strides=tuple(strides_of(v) for v in _tensors(inputs)),
        **_flow_ids(record, flow))


def _flow_ids(record: StepRecord, flow: _DataFlow | None) -> dict[str, tuple[int, ...]]:
    if flow is None or id(record) not in flow.steps:
        return {}
    reads, writes = flow.steps[id(record)]
    return {"reads": reads, "writes": writes}


def _input_shapes(values: list[Any]) -> Shapes | None:
    shapes: list[tuple[int, ...]] = []
    for value in values:
        items = value if isinstance(value, (list, tuple)) else [value]
        shapes.extend(v.shape for v in items if isinstance(v, SymTensor))
        if isinstance(value, Unknown):
            return None
    return tuple(shapes)


def shapes_of(value: Any) -> Shapes | None:
    """The shapes of a tensor, of a tuple/list of tensors (None items skipped; nested ones
    flattened in order) or of a dict of tensors (`OrderedDict([("out", x), ("aux", y)])`, in
    its order); else None."""
    if isinstance(value, SymTensor):
        return (value.shape,)
    if isinstance(value, dict):
        return shapes_of(tuple(value.values()))
    if isinstance(value, (tuple, list)):
        shapes: list[tuple[int, ...]] = []
        for item in value:  # nested: RPN's head returns ([logits per level], [boxes per level])
            if item is None:
                continue
            inner = shapes_of(item)
            if inner is None:
                return None
            shapes.extend(inner)
        return tuple(shapes) if shapes else None
    return None


# ----------------------------------------------------------------- values as text

def value_text(value: Any, width: int = VALUE_WIDTH) -> str:
    """A value as short text: `3`, `(11, 11)`, `True`, `'relu'`, `Tensor[2, 64] float32`."""
    text = _text(value, 0)
    return text if len(text) <= width else text[:width - 1] + "…"


def _text(value: Any, depth: int) -> str:
    if depth > 3:
        return "…"
    if isinstance(value, SymTensor):
        return f"Tensor[{', '.join(str(d) for d in value.shape)}] float32"
    if isinstance(value, ModuleInstance):
        return f"{value.cls.name}(…)"
    if isinstance(value, Instance):
        return f"<{value.cls.name}>"
    if isinstance(value, ClassRef):
        return value.name
    if isinstance(value, FunctionRef):
        return value.name
    if isinstance(value, BoundMethod):
        return _text(value.func, depth + 1)
    if isinstance(value, Partial):
        inner = [_text(value.func, depth + 1), *(_text(a, depth + 1) for a in value.args),
                 *(f"{k}={_text(v, depth + 1)}" for k, v in value.kwargs.items())]
        return f"partial({', '.join(inner)})"
    if isinstance(value, Unknown):
        return "?"
    if isinstance(value, slice):
        parts = ["" if v is None else _text(v, depth + 1)
                 for v in (value.start, value.stop, value.step)]
        return ":".join(parts[:2] if value.step is None else parts)
    if isinstance(value, (External, ModuleRef)):
        return short_name(value.path if isinstance(value, External) else value.name)
    if isinstance(value, tuple):
        items = [_text(v, depth + 1) for v in value]
        return f"({items[0]},)" if len(items) == 1 else f"({', '.join(items)})"
    if isinstance(value, list):
        return f"[{', '.join(_text(v, depth + 1) for v in value)}]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{_text(k, depth + 1)}: {_text(v, depth + 1)}"
                               for k, v in value.items()) + "}"
    if isinstance(value, (bool, int, float, str)) or value is None:
        return repr(value)
    return type(value).__name__
