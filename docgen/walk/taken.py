"""The taken path of one layer for one setting: which operators run, forward and backward,
the kernel each gets on the setting's backend, and the conditions left undecided.

The full tree of a layer's operators (walker.py) holds every edge read in any kernel body;
this module decides each edge (decide.py) and keeps the taken ones:

- an edge read in the body of a C++ function is followed only below that function: under a
  CUDA kernel, the calls of the CUDA kernel's body, never the CPU one's;
- autograd records an operator where the dispatcher passes its Autograd key: the first
  operator on a path whose kernel for the backend is not CompositeImplicitAutograd (below a
  composite kernel, the operators it calls are recorded instead);
- the backward of a recorded operator is its derivatives.yaml formula: the operators the
  formula and its FunctionsManual.cpp helpers call, each walked down to the kernels the same
  way (`convolution_backward` -> the oneDNN, cuDNN or slow kernel of the setting).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from docgen.walk.aten import IMPLICIT
from docgen.walk.decide import Decider, Decision, LayerFacts
from docgen.walk.records import LayerWalk, OpNode, Reached

# Allocation, view and bookkeeping operators: never "the work" of a layer in an answer, and
# left out of both sides when the oracle test compares static paths with profiler traces.
UTILITY_OPERATORS = frozenset({
    "empty", "empty_like", "empty_strided", "new_empty", "new_empty_strided", "zeros",
    "zeros_like", "as_strided", "as_strided_", "resize_", "resize_as_", "view",
    "_unsafe_view", "_reshape_alias", "alias", "detach", "expand", "t", "transpose",
    "resolve_conj", "resolve_neg", "contiguous", "clone", "copy_", "to", "_to_copy",
    "fill_", "zero_", "lift_fresh", "squeeze", "unsqueeze", "reshape", "permute",
})


def is_utility(name: str) -> bool:
    return name.removeprefix("aten::").split(".")[0] in UTILITY_OPERATORS


_FORMULA_CALL = re.compile(r"(?<![\w.:])([a-z_][a-z0-9_]*)\s*\(")
# a formula negating a tensor: `maybe_multiply(-grad, alpha.conj())`
_UNARY_MINUS = re.compile(r"(?:^|[(,?:=])\s*-\s*(?:grad|grads\[\d+\]|result|self|other)\b")


@dataclass(frozen=True)
class Undecided:
    condition: str
    location: str
    depends_on: str


@dataclass(frozen=True)
class EdgeDecision:
    """The decision on one edge of the full tree, keyed by its index path (`0/2/1`)."""

    key: str
    operator: str
    decision: str  # taken, not_taken, undecided
    reason: str


@dataclass(frozen=True)
class Taken:
    forward: tuple[str, ...]
    backward: tuple[str, ...]
    kernels: tuple[tuple[str, str], ...]  # operator -> kernel for the setting's backend
    undecided: tuple[Undecided, ...]
    edges: tuple[EdgeDecision, ...]
    recorded: tuple[str, ...] = ()  # operators autograd records (their backward nodes)
    backward_kernels: tuple[tuple[str, str], ...] = ()
    lines: tuple[tuple[int, str, str, str], ...] = ()  # (depth, operator, kernel, where)
    backward_lines: tuple[tuple[int, str, str, str], ...] = ()
    work: tuple[str, ...] = ()  # forward operators whose backend kernel does the work
    backward_work: tuple[str, ...] = ()
    choices: tuple[tuple[str, str], ...] = ()  # enum selector -> value chosen (ConvBackend)


@dataclass
class _State:
    decider: Decider
    backend: str
    forward: list[str] = field(default_factory=list)
    kernels: dict[str, str] = field(default_factory=dict)
    undecided: dict[tuple[str, str], Undecided] = field(default_factory=dict)
    edges: list[EdgeDecision] = field(default_factory=list)
    recorded: list[OpNode] = field(default_factory=list)
    lines: list[tuple[int, str, str, str]] = field(default_factory=list)
    work: list[str] = field(default_factory=list)
    both_arms: set[tuple[str, str]] = field(default_factory=set)


def _on_both_arms(children: tuple[OpNode, ...]) -> set[tuple[str, str]]:
    """(operator, condition) of the calls a body makes both under `c` and under `!(c)`
    (`if (c) { at::cat(...) } else { at::cat(...) }`): whichever arm runs, it is called."""
    by_name: dict[str, set[str]] = {}
    for child in children:
        if child.condition:
            by_name.setdefault(child.name, set()).add(child.condition)
    out: set[tuple[str, str]] = set()
    for name, conditions in by_name.items():
        for c in conditions:
            if f"!({c})" in conditions:
                out.update({(name, c), (name, f"!({c})")})
    return out


def _kernel(node: OpNode, backend: str) -> tuple[str | None, str | None]:
    for k in node.kernels:
        if k.backend == backend:
            return k.key, k.kernel
    return None, None


def _python_decision(node: OpNode) -> Decision:
    if not node.branches:
        return Decision(True, "unconditional")
    if any(b.taken is False for b in node.branches):
        return Decision(False, "; ".join(b.condition for b in node.branches if b.taken is False))
    open_ = [b for b in node.branches if b.taken is None]
    if open_:
        return Decision(None, "depends on " + "; ".join(b.condition for b in open_),
                        tuple(b.condition for b in open_))
    return Decision(True, "; ".join(b.condition for b in node.branches))


def _where(node: OpNode) -> str:
    if node.edge is not None:
        text = f"{node.edge.path}:{node.edge.line}"
        return f"{text} ({node.source})" if node.source else text
    if node.branches:
        loc = node.branches[0].location
        return f"{loc.path}:{loc.line}"
    return ""


def _visit(state: _State, node: OpNode, key: str, parent_kernels: set[str] | None,
           recording: bool, forward: list[str], top: bool, depth: int = 0,
           in_work: bool = False) -> None:
    if parent_kernels is not None and node.read_in and node.read_in not in parent_kernels:
        state.edges.append(EdgeDecision(
            key, node.name, "not_taken", f"read in the body of {node.read_in}, which is "
            f"not the {state.backend} kernel on this path"))
        return
    decision = _python_decision(node) if top else state.decider.decide(node.condition)
    if decision.value is None and (node.name, node.condition) in state.both_arms:
        decision = Decision(True, f"called on both arms of `{node.condition}`")
    state.edges.append(EdgeDecision(key, node.name, decision.label, decision.reason))
    if decision.value is None:
        for dep in decision.depends_on or (node.condition,):
            state.undecided.setdefault((node.condition, dep), Undecided(
                node.condition or dep, _where(node), dep))
        return
    if not decision.value:
        return
    is_operator = node.operator is not None
    below: set[str] = {node.name.removeprefix("at::native::")}
    key_, kernel = _kernel(node, state.backend) if is_operator else (None, None)
    state.lines.append((depth, node.name, f"{kernel} ({key_})" if kernel else "",
                        _where(node)))
    if is_operator:
        forward.append(node.name)
        if key_ == state.backend and not in_work and not is_utility(node.name):
            state.work.append(node.name)
            in_work = True
        if kernel:
            state.kernels.setdefault(node.name, f"{kernel} ({key_})")
            below = {kernel, kernel.removesuffix("_symint"), kernel + "_symint"}
        else:
            state.kernels.setdefault(node.name, "no kernel for this backend")
            below = set()
        if top and node.note.startswith("called on a buffer"):
            recording = False
        if recording and key_ != IMPLICIT and node.derivative is not None \
                and not node.derivative.via_decomposition:
            state.recorded.append(node)
            recording = False
    before = len(forward)
    state.both_arms.update(_on_both_arms(node.children))
    for i, child in enumerate(node.children):
        _visit(state, child, f"{key}/{i}", below, recording, forward, False, depth + 1,
               in_work)
    if is_operator and not in_work and not is_utility(node.name) and not any(
            not is_utility(op) for op in forward[before:]):
        state.work.append(node.name)  # a leaf of the taken path (a composite kernel's work)


def decide_layer(layer: LayerWalk, facts: LayerFacts, backward_ops: BackwardOps) -> Taken:
    """The taken path of `layer` for `facts.setting`."""
    setting = facts.setting
    state = _State(Decider(facts), setting.backend)
    for i, node in enumerate(layer.operators):
        _visit(state, node, str(i), None, setting.grad, state.forward, True)
    backward: list[str] = []
    sub_state = _State(state.decider, setting.backend)
    if setting.grad:
        for node in state.recorded:
            sub_state.lines.append((0, f"{node.name} backward", "", node.derivative.location
                                    .path + f":{node.derivative.location.line}"
                                    if node.derivative else ""))
            for sub in backward_ops(node):
                _visit(sub_state, sub, f"backward:{node.name}", None, False, backward, False, 1)
        for k, v in sub_state.undecided.items():
            state.undecided.setdefault(k, v)
    return Taken(tuple(state.forward), tuple(backward), tuple(state.kernels.items()),
                 tuple(state.undecided.values()), tuple(state.edges),
                 tuple(n.name for n in state.recorded), tuple(sub_state.kernels.items()),
                 tuple(state.lines), tuple(sub_state.lines), tuple(state.work),
                 tuple(sub_state.work),
                 tuple((enum, label) for enum, (label, _) in facts.choices.items()
                       if label and any(enum in e.reason for e in state.edges
                                        if e.decision == "taken")))


class BackwardOps:
    """The operator trees a recorded operator's backward formula calls (cached per name)."""

    def __init__(self, make_node) -> None:  # type: ignore[no-untyped-def]
        self.make_node = make_node  # (name, reached, condition, location, source) -> OpNode
        self.cache: dict[str, tuple[OpNode, ...]] = {}
        self.table = None

    def __call__(self, node: OpNode) -> tuple[OpNode, ...]:
        if node.name not in self.cache:
            self.cache[node.name] = self._build(node)
        return self.cache[node.name]

    def _build(self, node: OpNode) -> tuple[OpNode, ...]:
        derivative = node.derivative
        if derivative is None:
            return ()
        out: list[OpNode] = []
        seen: set[str] = set()
        conditional: set[tuple[str, str]] = set()
        for inputs, formula in derivative.formulas:
            if inputs.startswith("result"):
                continue
            names = list(_FORMULA_CALL.findall(formula))
            if _UNARY_MINUS.search(formula):
                names.append("neg")  # `-grad`: Tensor's unary operator- is aten::neg
            for name in dict.fromkeys(names):
                made = self.make_node(name, Reached.YAML, "", derivative.location, "")
                if made is not None and made.name not in seen:
                    seen.add(made.name)
                    out.append(made)
        for call in derivative.calls:
            # each condition a helper calls an operator under is its own edge: a call under
            # an undecided stride test does not hide the unconditional call after it
            if call.operator in seen or (call.operator, call.condition) in conditional:
                continue
            made = self.make_node(call.operator.removeprefix("aten::"), Reached.UPSTREAM,
                                  call.condition, call.location, call.source)
            if made is not None:
                conditional.add((call.operator, call.condition))
                if not call.condition:
                    seen.add(made.name)
                out.append(made)
        return tuple(out)
