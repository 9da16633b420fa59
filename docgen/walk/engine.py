"""The autograd engine's own work in backward, beyond each node's derivatives.yaml formula.

Two things the engine does for every graph, read in its C++ sources and decided here from
the forward data flow that the one model reader gives (docgen.models.reader: the values each
step reads and returns):

- **Gradient accumulation** (torch/csrc/autograd/input_buffer.cpp, `accumulate`, read at
  cyyever/pytorch@391c99a6f7e4): a value read by several autograd nodes gets one gradient
  from each; the first is stored in the input buffer of the node that produced the value,
  each later one is added to it, `old_var.add_(var)` when the stored gradient is a dense
  tensor nobody else holds, else `old_var + var` (`aten::add`), and always `+` when grad
  mode is on during backward (`create_graph=True`). `can_accumulate_inplace` asks for a
  non-overlapping, dense tensor whose storage only it holds: a view of another gradient
  shares its base's storage, so when the stored gradient is one (`grad.reshape(...)` of a
  ViewBackward0, `grad.t()` of a TBackward0: its formula's outer call returns an alias of
  `grad`) the first accumulation is `aten::add`, and the sum it makes is a fresh tensor,
  so every later one is `aten::add_`. The walk assumes a plain `backward()` and that the
  gradient a formula makes is held by nobody else.
- **Reduction of broadcast gradients** (torch/csrc/autograd/engine.cpp, `validate_outputs`,
  read at cyyever/pytorch@521a8aeb648c): a formula that returns a gradient of the output's
  shape for an input of another shape (a bias broadcast over the batch, `scale * x` with
  `scale` of shape N,C,1,1) has it reduced by `InputMetadata::reduce_grad` -> `at::sum_to`
  (ATen/ExpandUtils.h in the wheel), which calls `tensor.sum(reduce_dims, keepdim=True)`:
  `aten::sum.dim_IntList`.

Attribution follows the profiler (tests/oracles/README.md): both run inside the engine's
`evaluate_function` of the node that produced the gradient, so they belong to the layer whose
forward created that node. Nodes run in decreasing sequence number, that is in reverse
forward order, so the gradient of the *last* reader in forward order is the one stored and
every earlier reader's node does one accumulation.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from docgen.models.reader import ForwardStep, ModelReading
from docgen.models.steps import MODULE

ACCUMULATE = "add_.Tensor"
ACCUMULATE_OUT_OF_PLACE = "add.Tensor"
REDUCE = "sum.dim_IntList"
INPUT_BUFFER = ("torch/csrc/autograd/input_buffer.cpp: accumulate "
                "(cyyever/pytorch@391c99a6f7e4)")
VALIDATE_OUTPUTS = ("torch/csrc/autograd/engine.cpp: validate_outputs -> "
                    "at::sum_to in ATen/ExpandUtils.h (cyyever/pytorch@521a8aeb648c)")
SUM_TO = "torch/include/ATen/ExpandUtils.h: at::sum_to (the wheel's header)"
FUNCTIONAL = ":functional"

# The Python operators and Tensor methods a step names -> the ATen operator they call.
_STEP_OPERATORS = {"operator.add": "add", "operator.iadd": "add_", "operator.sub": "sub",
                   "operator.isub": "sub_", "operator.mul": "mul", "operator.imul": "mul_",
                   "operator.truediv": "div", "operator.itruediv": "div_"}


@dataclass(frozen=True)
class Operand:
    """A tensor requiring grad that a layer's operator reads with a shape other than the
    output's: its gradient comes out of an elementwise formula with the output's shape."""

    operator: str  # the ATen operator the step calls ("mul"); "" for a module's parameter
    position: int | None  # its place among the step's tensor arguments; None: a parameter
    shape: tuple[int, ...]
    output: tuple[int, ...]
    name: str  # `#1`, or the parameter's name

    @property
    def text(self) -> str:
        shape = "x".join(map(str, self.shape))
        output = "x".join(map(str, self.output))
        return f"{self.name} ({shape}) gets a gradient of the output's shape ({output})"


@dataclass(frozen=True)
class Stored:
    """The gradient an input buffer holds when the first accumulation into it comes: the
    one the node of the last reader in forward order returned for the value, the tensor
    input `position` of the ATen operator `operator` (`view`; "" for a leaf module that calls
    nothing, so records no node: nn.Identity). A formula that returns the
    gradient its node received (AddBackward0's `handle_r_to_c(self, grad)`) stores that
    gradient itself, so what it is follows the reader's output: `then`, the node that
    produced it (the one reader of that output), or `received` "sum" (several readers: a
    sum the engine made) or "loss" (the model's output: the loss's gradient)."""

    operator: str
    position: int
    keywords: tuple[str, ...] = ()  # the keyword arguments the call passed (`alpha`)
    then: Stored | None = None
    received: str = ""


@dataclass(frozen=True)
class GradFlow:
    """What the engine does with the gradients of one layer's nodes."""

    accumulations: tuple[str, ...] = ()  # one per gradient its nodes add into a buffer
    operands: tuple[Operand, ...] = ()
    returns_output: bool = False  # it returns the model's output: the loss's gradient
    # per accumulation: what the buffer holds when it is the first into it, else None
    stored: tuple[Stored | None, ...] = ()

    def merged(self, other: GradFlow) -> GradFlow:
        return GradFlow(self.accumulations + other.accumulations,
                        self.operands + other.operands,
                        self.returns_output or other.returns_output,
                        self._stored() + other._stored())

    def _stored(self) -> tuple[Stored | None, ...]:
        return self.stored + (None,) * (len(self.accumulations) - len(self.stored))

    def accumulated(self) -> list[tuple[str, Stored | None]]:
        """(why, what the buffer holds when it is the first accumulation into it)."""
        return list(zip(self.accumulations, self._stored(), strict=True))


@dataclass
class _Reader:
    """A step that autograd records under one layer: a leaf module's call, or a function
    a container's forward calls."""

    index: int
    layer: str
    step: ForwardStep
    grad_reads: list[int] = field(default_factory=list)
    order: int = 0  # when it ran, among every reader (the calls inside a function too)


def read_grad_flows(reading: ModelReading) -> dict[int, GradFlow]:
    """index of a step in `reading.steps` -> the GradFlow of the node(s) it records (steps of
    a leaf module's call, or functions a container calls; nothing for the others)."""
    leaves = {layer.path for layer in reading.layers if not layer.children}
    tensors = {layer.path: layer.tensors for layer in reading.layers}
    needs_grad = set(reading.grad_leaves)
    readers: list[_Reader] = []
    outputs = set(reading.output_values)
    flows: dict[int, GradFlow] = {}
    for index, top in enumerate(reading.steps):
        layer = _layer_of(top, leaves)
        if layer is None:
            continue  # inside a leaf's own forward
        for step in _calls_run(top):
            if not step.writes:
                continue  # no tensor out (x.size(), x.dim(), a shape check)
            if step.kind != MODULE and _NO_GRAD_RESULT.search(step.target):
                continue  # a factory or a comparison: no node, nothing that needs grad
            reader = _Reader(index, layer, step, [v for v in step.reads if v in needs_grad],
                             len(readers))
            trains = step.kind == MODULE and any(
                t.is_trainable and not t.is_buffer for t in tensors.get(step.target, ()))
            if reader.grad_reads or trains:
                needs_grad.update(step.writes)  # its output requires grad
                readers.append(reader)
            elif outputs.intersection(step.writes):
                # a layer without parameters on an input that requires no grad (a model
                # made of one GELU): the walk lists its backward as a layer inside a network
                # runs it, so it gets the loss's gradient as the layer returning the output
                flows[index] = flows.get(index, GradFlow()).merged(GradFlow((), (), True))
    inner: dict[str, list[ForwardStep]] = {}
    for top in reading.steps:
        if top.kind != MODULE and top.caller in leaves:
            inner.setdefault(top.caller, []).extend(_calls_run(top))
    for index, why, stored in _accumulations(readers, outputs, inner):
        flows[index] = flows.get(index, GradFlow()).merged(GradFlow((why,), stored=(stored,)))
    for reader in readers:
        operands = _operands(reader, needs_grad, tensors.get(reader.step.target, ()))
        returns = bool(outputs.intersection(reader.step.writes))
        if operands or returns:
            flows[reader.index] = flows.get(reader.index, GradFlow()).merged(
                GradFlow((), operands, returns))
    return flows


# Calls whose result never requires grad whatever they read: Tensor factories (PyTorch's
# `requires_grad=False` default: `x.new_zeros(...)`, `torch.zeros_like(x)`) and comparisons,
# whose bool results cannot require grad (only floating point and complex tensors can).
_NO_GRAD_RESULT = re.compile(
    r"(?:^|\.)(?:new_(?:zeros|ones|empty|full|tensor)|(?:zeros|ones|empty|full|rand|randn|"
    r"randint)(?:_like)?|eq|ne|lt|le|gt|ge|detach)$")


def grad_values(reading: ModelReading) -> set[int]:
    """The data-flow values that require grad: the parameters autograd accumulates into,
    and what any call computes from one, in the order the calls ran; a factory's or a
    comparison's result never does (`attn_mask = x.new_zeros(...)`, `attn_mask != 0`)."""
    needs = set(reading.grad_leaves)
    trainable = {layer.path for layer in reading.layers
                 if any(t.is_trainable and not t.is_buffer for t in layer.tensors)}

    def visit(step: ForwardStep) -> None:
        for inner in step.inner:
            visit(inner)
        if _NO_GRAD_RESULT.search(step.target):
            return
        if any(v in needs for v in step.reads) or (
                step.kind == MODULE and step.target in trainable):
            needs.update(step.writes)

    for top in reading.steps:
        visit(top)
    return needs


def _calls_run(step: ForwardStep) -> list[ForwardStep]:
    """The steps autograd sees for one step of a forward: a library function whose calls
    were recorded (`F.multi_head_attention_forward` -> `linear(q, w, b)`, `proj[0]`, ...) is
    the calls that leave Python, in the order they ran, each with the values it read and
    returned (their nodes are the layer's, as the walk's leaves are); any other step is
    itself."""
    if step.kind == MODULE or not any(i.reads or i.writes for i in step.inner):
        return [step]  # a module's call, or a function whose calls are not known
    out: list[ForwardStep] = []
    for inner in step.inner:
        out.extend(_calls_run(inner) if inner.inner else [inner])
    return out


def _layer_of(step: ForwardStep, leaves: set[str]) -> str | None:
    if step.kind == MODULE:
        return step.target if step.target in leaves else None
    if step.caller in leaves:
        return None
    return f"{step.caller}{FUNCTIONAL}"


def _accumulations(readers: list[_Reader], outputs: set[int] | None = None,
                   inner: dict[str, list[ForwardStep]] | None = None
                   ) -> list[tuple[int, str, Stored | None]]:
    """(step index, why, what the buffer holds for the first) for every gradient added into
    a buffer: per value, the readers' gradients arrive in reverse forward order (a node's
    own outputs in argument order); the first is stored, each later one accumulated by the
    node that produced it."""
    arrivals: dict[int, list[tuple[int, int, _Reader]]] = {}
    for reader in readers:
        for position, value in enumerate(reader.grad_reads):
            arrivals.setdefault(value, []).append((-reader.order, position, reader))
    for items in arrivals.values():
        items.sort(key=lambda item: (item[0], item[1]))
    flow = _Arrivals(arrivals, outputs or set(), inner or {})
    out: list[tuple[int, str, Stored | None]] = []
    for value, items in arrivals.items():
        if len(items) < 2:
            continue
        stored = items[0][2]
        first: Stored | None = flow.stored(stored.step, value)
        for _, _, reader in items[1:]:
            out.append((reader.index, f"the gradient of a value also read by "
                        f"{_name(stored)} is added to the one stored ({INPUT_BUFFER})",
                        first))
            first = None  # the buffer now holds a sum the engine made
    return out


MAX_HOPS = 12  # a pass-through chain is followed this far (residual adds in a row)


@dataclass
class _Arrivals:
    """The readers of every value, in backward order: what gradient each node gets."""

    readers: dict[int, list[tuple[int, int, _Reader]]]
    outputs: set[int]
    inner: dict[str, list[ForwardStep]]  # a leaf module's own calls, in the order they ran

    def stored(self, step: ForwardStep, value: int, hops: int = 0) -> Stored | None:
        """What the node of `step` returns for its input `value`: the operator and input,
        with where the gradient that node receives comes from. A module's call is its first
        own call that reads the value (LayerNorm2d's `x.permute(...)`)."""
        if step.kind == MODULE:
            own = self.inner.get(step.target)
            if own is None and len(step.writes) == 1 and value in step.reads \
                    and hops < MAX_HOPS:
                # a leaf whose forward calls nothing (nn.Identity returns its input): no
                # node, the gradient of its output is its input's (operator "")
                then, received = self.received(step.writes[0], hops + 1)
                return Stored("", step.reads.index(value), (), then, received)
            found = next((s for s in own or () if s.kind != MODULE and value in s.reads),
                         None)
            return self.stored(found, value, hops) if found is not None else None
        if value not in step.reads:
            return None
        keywords = tuple(n for n, _ in step.arguments if n and not n.startswith("#"))
        operator = _STEP_OPERATORS.get(step.target, step.target.rsplit(".", 1)[-1])
        then, received = None, ""
        if len(step.writes) == 1 and hops < MAX_HOPS:
            then, received = self.received(step.writes[0], hops + 1)
        return Stored(operator, step.reads.index(value), keywords, then, received)

    def received(self, value: int, hops: int) -> tuple[Stored | None, str]:
        """Where the gradient of `value` comes from when its producer's node runs."""
        if value in self.outputs:
            return None, "loss"
        items = self.readers.get(value, [])
        if len(items) > 1:
            return None, "sum"
        if len(items) == 1:
            return self.stored(items[0][2].step, value, hops), ""
        return None, ""


def _name(reader: _Reader) -> str:
    step = reader.step
    if step.kind == MODULE:
        return step.target
    text = step.text if any(c.isalnum() for c in step.text) else step.target
    return f"`{text}` in the forward of {step.caller or 'the model'}"


def _operands(reader: _Reader, needs_grad: set[int], params: tuple) -> tuple[Operand, ...]:
    step = reader.step
    output = step.output_shapes[0] if step.output_shapes else None
    if output is None:
        return ()
    if step.kind == MODULE:
        return tuple(Operand("", None, t.shape, output, t.name) for t in params
                     if t.shape is not None and not t.is_buffer and t.is_trainable
                     and t.shape != output and broadcasts(t.shape, output))
    shapes = step.input_shapes or ()
    if len(shapes) != len(step.reads):
        return ()
    operator = _STEP_OPERATORS.get(step.target, step.target.rsplit(".", 1)[-1])
    return tuple(Operand(operator, i, shape, output, f"#{i}")
                 for i, (value, shape) in enumerate(zip(step.reads, shapes, strict=True))
                 if value in needs_grad and shape != output and broadcasts(shape, output))


def broadcasts(shape: tuple[int, ...], target: tuple[int, ...]) -> bool:
    """Whether `shape` expands to `target` (at::is_expandable_to)."""
    if len(shape) > len(target):
        return False
    return all(a in (1, b) for a, b in zip(reversed(shape), reversed(target), strict=False))


# ------------------------------------------------------------------ formulas

# FunctionsManual.cpp helpers (cyyever/pytorch@1910bf1919fa) whose result is elementwise in
# the gradient they are given, so of its shape: `handle_r_to_c` (returns it, or its real
# part), `maybe_multiply` (`t` or `t * s` for a scalar s), `mul_tensor_backward`
# (`grad * other.conj()`), `div_tensor_self_backward` (`grad / other.conj()`),
# `div_tensor_other_backward` (`-grad * (self / other) / other`, conjugated); `conj`,
# `scalar_type` and `neg` keep a shape or only read the dtype.
ELEMENTWISE_HELPERS = frozenset({
    "handle_r_to_c", "maybe_multiply", "mul_tensor_backward", "div_tensor_self_backward",
    "div_tensor_other_backward", "conj", "scalar_type", "neg"})
_CALLED = re.compile(r"([A-Za-z_]\w*)\s*\(")


# `at::sum_to(grad, self.sym_sizes())` (expand, expand_as, broadcast_to): the formula
# reduces the gradient itself, by the same `tensor.sum(reduce_dims, keepdim=True)` of
# ATen/ExpandUtils.h (in the wheel), exactly when the shapes differ.
_SUM_TO = re.compile(r"\bsum_to\s*\(\s*grad\b")


def is_grad_shaped(formula: str) -> bool:
    """Whether a derivatives.yaml formula returns `grad` transformed elementwise only (so a
    gradient of the output's shape): it reads `grad` and calls nothing but
    ELEMENTWISE_HELPERS and arithmetic."""
    if not re.search(r"\bgrad\b", formula):
        return False
    return all(name in ELEMENTWISE_HELPERS for name in _CALLED.findall(formula))


_OUTER_METHOD = re.compile(r"grads?(?:\[\d+\])?\.([a-z_][a-z0-9_]*)\s*\(")
_OUTER_FUNCTION = re.compile(r"([a-z_][a-z0-9_]*)\s*\(")


def outer_call(formula: str) -> str | None:
    """The operator a derivatives.yaml formula returns the result of, when the whole
    formula is one call (`grad.reshape_symint(self.sym_sizes())` -> `method:reshape`,
    `select_backward_symint(grad, ...)` -> `select_backward`); the `_symint` C++ API is the
    operator itself."""
    text = formula.strip()
    for pattern, prefix in ((_OUTER_METHOD, "method:"), (_OUTER_FUNCTION, "")):
        match = pattern.match(text)
        if match and text.endswith(")") and _closes_at_end(text, match.end() - 1):
            return prefix + match.group(1).removesuffix("_symint")
    return None


def _closes_at_end(text: str, start: int) -> bool:
    depth = 0
    for i in range(start, len(text)):
        depth += {"(": 1, ")": -1}.get(text[i], 0)
        if depth == 0:
            return i == len(text) - 1
    return False


def returns_alias(schema: str) -> bool:
    """Whether an operator schema returns a view of an input (`-> Tensor(a)`, not an
    in-place `Tensor(a!)`)."""
    returns = schema.rsplit("->", 1)[-1] if "->" in schema else ""
    return bool(re.search(r"Tensor\([a-z]\)", returns))


def schema_tensors(schema: str) -> list[str]:
    """The names of an operator schema's Tensor arguments, in order."""
    inside = schema.split("(", 1)[1].rsplit(")", 2)[0]
    names = []
    for part in inside.split(","):
        words = part.strip().split("=")[0].split()
        if len(words) == 2 and words[0].startswith("Tensor") and "[]" not in words[0]:
            names.append(words[1])
    return names


def reduced_operands(flow: GradFlow, operator: str, schema: str,
                     formulas: tuple[tuple[str, str], ...], called: str = ""
                     ) -> list[tuple[Operand, bool]]:
    """The operands of `flow` whose gradient is reduced for the node of the recorded
    operator `operator` (`aten::mul.Tensor`): (operand, whether its formula reduces it
    itself with `sum_to`; else the engine does, after the formula). `called` is the
    operator the Python call reached when it is another one (`aten::linear`, whose kernel
    records `addmm` or `add_`): an operand of that call is bound to the recorded
    operator's elementwise input, as a module's parameter is."""
    shaped: dict[str, bool] = {}
    for inputs, formula in formulas:
        if inputs.startswith("result"):
            continue
        in_formula = bool(_SUM_TO.search(formula))
        if in_formula or is_grad_shaped(formula):
            shaped.update((name.strip(), in_formula) for name in inputs.split(","))
    if not shaped:
        return []
    base = operator.removeprefix("aten::").split(".")[0]
    tensors = schema_tensors(schema)
    out = []
    root = called.removeprefix("aten::").split(".")[0]
    for operand in flow.operands:
        if operand.position is None or (
                root and root != base and operand.operator == root):
            # a module parameter, or an argument of a composite operator's call (the bias
            # of F.linear reaching addmm's `self`): bound to the elementwise input
            out.append((operand, all(shaped.values())))
        elif operand.operator.rstrip("_") == base.rstrip("_") \
                and operand.position < len(tensors) and tensors[operand.position] in shaped:
            out.append((operand, shaped[tensors[operand.position]]))
    return out
