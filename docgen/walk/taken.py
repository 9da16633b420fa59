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
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from docgen.core.records import Location
from docgen.walk.aten import IMPLICIT
from docgen.walk.bodies import serves, wrong_backend_reason
from docgen.walk.decide import Decider, Decision, LayerFacts, split_top, ternary
from docgen.walk.engine import (
    ACCUMULATE,
    ACCUMULATE_OUT_OF_PLACE,
    INPUT_BUFFER,
    MAX_HOPS,
    REDUCE,
    SUM_TO,
    VALIDATE_OUTPUTS,
    GradFlow,
    Operand,
    Stored,
    is_grad_shaped,
    outer_call,
    reduced_operands,
    returns_alias,
    schema_tensors,
)
from docgen.walk.locals import LocalsSet, ScopeTracker, tidy_condition
from docgen.walk.loops import (
    LoopFlow,
    call_arguments,
    contiguity,
    enter,
    frames_of,
    schema_args,
    schema_kinds_of,
    sequence_of,
    stated_rank,
    unbound,
)
from docgen.walk.records import LayerWalk, OpNode, Reached
from docgen.walk.upstream import balanced, expression_operators

_SUM_TO_IN = re.compile(r"\bsum_to\s*\(")  # a formula reducing the gradient itself

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


# a call in a formula: a function (`mm_mat1_backward(`) or a Tensor method (`grad.bmm(`)
_FORMULA_ANY_CALL = re.compile(r"(?:(\.)|(?<![\w:.]))([a-z_][a-z0-9_]*)\s*\(")
METHOD = "method:"
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
    glue: tuple[Any, ...] = ()  # glue.GlueHop: generated hops on the path, never operators
    unread: tuple[tuple[str, str], ...] = ()  # operator -> why its kernel body is not shown
    # the C++ loops on the taken path: (the call read in the loop, its loop's header, where,
    # "taken" when it runs more than once / "not_taken" / "undecided", why)
    loops: tuple[tuple[str, str, str, str, str], ...] = ()


@dataclass
class _State:
    decider: Decider
    backend: str
    forward: list[str] = field(default_factory=list)
    kernels: dict[str, str] = field(default_factory=dict)
    undecided: dict[tuple[str, str], Undecided] = field(default_factory=dict)
    edges: list[EdgeDecision] = field(default_factory=list)
    recorded: list[OpNode] = field(default_factory=list)
    loops: dict[tuple[str, str], tuple[str, str, str, str, str]] = field(default_factory=dict)
    recorded_by: list[Decider] = field(default_factory=list)  # the facts each was decided by
    recorded_under: list[str] = field(default_factory=list)  # the call's operator, per node
    root: str = ""  # the operator of the call being walked
    lines: list[tuple[int, str, str, str]] = field(default_factory=list)
    work: list[str] = field(default_factory=list)
    scopes: ScopeTracker | None = None  # C++ locals and bound helper arguments on the path
    both_arms: set[tuple[str, str]] = field(default_factory=set)
    # loops.LoopFlow of the function whose body is being read, and the nodes on the path
    flow: LoopFlow | None = None
    path: list[OpNode] = field(default_factory=list)
    is_operator: Callable[[str], bool] = lambda name: False
    # (operator, schema position, loop flow): a tensor a recorded call reads unchanged in
    # every iteration of a loop that runs more than once
    repeated: dict[tuple[str, int], tuple[OpNode, int, LoopFlow]] = field(default_factory=dict)
    # (operator, schema position) -> (node, rank of that input, rank of the output): an
    # input of a call in a kernel body that broadcasts to a result of higher rank
    broadcast: dict[tuple[str, int], tuple[OpNode, int, int]] = field(default_factory=dict)


def _on_both_arms(children: tuple[OpNode, ...]) -> set[tuple[str, str]]:
    """(operator, condition) of the calls a body makes both under `c` and under `!(c)`
    (`if (c) { at::cat(...) } else { at::cat(...) }`, `c` itself a conjunction): whichever
    arm runs, it is called. merge_complementary covers arms differing in one term."""
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
        text = f"{node.edge.path}:{node.edge.line}" if node.edge.line else node.edge.path
        return f"{text} ({node.source})" if node.source else text
    if node.branches:
        loc = node.branches[0].location
        return f"{loc.path}:{loc.line}"
    return ""


def _with_locals(state: _State, node: OpNode) -> str:
    """The node's condition with the C++ locals above it and the arguments its function was
    called with substituted (locals.py), ready to decide."""
    if state.scopes is None or node.edge is None or not node.read_in:
        return node.condition
    return state.scopes.rewrite(node.condition, node.read_in, node.edge.path, node.edge.line)


_IS_CONTIGUOUS = re.compile(r"(?<![\w.>])([A-Za-z_]\w*)\s*(?:\.|->)\s*"
                            r"is_contiguous(?:_or_false)?\s*\(\s*\)")


def _with_layouts(state: _State, node: OpNode, condition: str) -> str:
    """`x.is_contiguous()` in a condition replaced by what the walk knows of `x`, followed
    through the calls on the path out to the operator's input (loops.contiguity): a tensor
    the kernels transposed on the way is not contiguous (`batch_first ? _input.transpose(0,
    1) : _input`). Left as written when a hop was not read."""
    if not state.path or "is_contiguous" not in condition or not (
            node.caller_params or node.caller_locals):
        return condition
    frames = frames_of(node, state.path)
    facts = state.decider.facts

    def test(condition: str) -> bool | None:
        # a module value by its name (`batch_first`), else whatever the facts decide
        name = condition.lstrip("!").strip()
        value = facts.attrs.get(name)
        if isinstance(value, bool):
            return value != condition.startswith("!")
        return state.decider.test(condition)

    def replace_one(m: re.Match[str]) -> str:
        value, _ = contiguity(m.group(1), frames, test, facts.contiguous, facts.input_shape)
        return m.group(0) if value is None else ("true" if value else "false")

    return _IS_CONTIGUOUS.sub(replace_one, condition)


def _visit(state: _State, node: OpNode, key: str, parent_kernels: set[str] | None,
           recording: bool, forward: list[str], top: bool, depth: int = 0,
           in_work: bool = False) -> None:
    if parent_kernels is not None and node.read_in and node.read_in not in parent_kernels:
        state.edges.append(EdgeDecision(
            key, node.name, "not_taken", f"read in the body of {node.read_in}, which is "
            f"not the {state.backend} kernel on this path"))
        return
    if parent_kernels is not None and node.read_in and node.edge is not None \
            and not serves(node.edge.path, state.backend):
        state.edges.append(EdgeDecision(key, node.name, "not_taken",
                                        wrong_backend_reason(node.edge.path, state.backend)))
        return
    decision = _python_decision(node) if top else state.decider.decide(
        _with_layouts(state, node, _with_locals(state, node)))
    if decision.value is None and (node.name, node.condition) in state.both_arms:
        decision = Decision(True, f"called on both arms of `{node.condition}`")
    state.edges.append(EdgeDecision(key, node.name, decision.label,
                                    tidy_condition(decision.reason)))
    if decision.value is None:
        for dep in decision.depends_on or (node.condition,):
            state.undecided.setdefault((node.condition, dep), Undecided(
                tidy_condition(node.condition or dep), _where(node), tidy_condition(dep)))
        return
    if not decision.value:
        return
    runs = _loop_runs(state, node) if node.loop else None
    if state.scopes is not None and node.operator is None and node.read_in \
            and node.edge is not None:
        # a C++ helper the path goes into: its parameters are the arguments passed here
        state.scopes.enter(node.name.removeprefix("at::native::"), node.read_in,
                           node.edge.path, node.edge.line)
    is_operator = node.operator is not None
    below: set[str] = {node.name.removeprefix("at::native::")}
    key_, kernel = _kernel(node, state.backend) if is_operator else (None, None)
    if state.scopes is not None and kernel and node.read_in and node.edge is not None:
        # an operator called from a kernel body read: its kernel gets that call's arguments
        state.scopes.enter_kernel(kernel, node.name.removeprefix("aten::").split(".")[0],
                                  node.read_in, node.edge.path, node.edge.line,
                                  node.operator.schema if node.operator else "")
    elif state.scopes is not None and kernel and top and node.operator is not None:
        # an operator Python called: its kernel's parameters are the schema's arguments
        # (`q @ k` reaches matmul(tensor1, tensor2) with `self`, `other`)
        state.scopes.enter_operator_kernel(kernel, node.operator.schema)
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
        if top and node.note.startswith(("called on a buffer", "reads only tensors")):
            recording = False
        if recording and key_ != IMPLICIT and node.derivative is not None \
                and not node.derivative.via_decomposition:
            if _reads_no_grad(state, node):
                state.lines[-1] = (*state.lines[-1][:3], state.lines[-1][3]
                                   + " (reads tensors that require no grad: no node)")
            else:
                state.recorded.append(node)
                state.recorded_by.append(state.decider)
                state.recorded_under.append(state.root)
                _note_repeated(state, node, runs)
                _note_broadcast(state, node)
            recording = False
    before = len(forward)
    outer_flow = state.flow
    callee = next((c for c in node.children if c.caller_params or c.caller_locals), None)
    state.flow = enter(outer_flow, node, runs, callee.caller_params if callee else (),
                       callee.caller_locals if callee else (), state.is_operator,
                       _where(node))
    state.path.append(node)
    state.both_arms.update(_on_both_arms(node.children))
    merged = merge_complementary(node.children)
    for i, child in enumerate(node.children):
        if i in merged:
            found = merged[i]
            if isinstance(found, int):  # decided as the first arm's call, counted there
                first = next((e for e in reversed(state.edges) if e.key == f"{key}/{found}"),
                             None)
                state.edges.append(EdgeDecision(
                    f"{key}/{i}", child.name, first.decision if first else "undecided",
                    "the same call is made on the other arm of this if/else: counted there"))
                continue
            child = found
        _visit(state, child, f"{key}/{i}", below, recording, forward, False, depth + 1,
               in_work)
    state.path.pop()
    state.flow = outer_flow
    if is_operator and not in_work and not is_utility(node.name) and _computes(node) \
            and not any(not is_utility(op) for op in forward[before:]):
        state.work.append(node.name)  # a leaf of the taken path (a composite kernel's work)


def _loop_runs(state: _State, node: OpNode) -> int | None:
    """How many times (at least) the loop the call to `node` sits in runs, when decided to
    run more than once; recorded in state.loops either way."""
    decision = state.decider.loop_runs(node.loop)
    runs = decision.count
    if decision.value is None and state.path:
        # a range-for over a parameter bound to `x.unbind(d)`: one iteration per index of
        # a dimension of a tensor made from the layer's input, which keeps its leading
        # dimensions; the least of them bounds the count from below
        parent = state.path[-1]
        sequence = sequence_of(node.loop, node.caller_params, call_arguments(parent))
        split = unbound(sequence) if sequence else None
        defined = [e for n, e in parent.caller_locals if n == sequence]
        if split is None and defined and all(unbound(e) for e in defined):
            split = unbound(defined[0])  # a local every definition of which unbinds
            sequence = f"{sequence} = {defined[0]}"
        shape = state.decider.facts.input_shape
        if split is not None and shape is not None and len(shape) > 1:
            least = min(shape[:-1])
            runs = least
            decision = Decision(least > 1, f"`{node.loop}` runs once per tensor of "
                                f"`{sequence}`, one per index of a leading dimension of the "
                                f"layer's input {tuple(shape)}: at least {least} times")
    key = (node.loop, _where(node))
    if key not in state.loops:
        state.loops[key] = (node.name, node.loop, _where(node), decision.label,
                            tidy_condition(decision.reason))
    return runs if decision.value else None


def _note_broadcast(state: _State, node: OpNode) -> None:
    """The inputs of a call read in a kernel body that get a gradient of a higher rank than
    their own: an input whose derivatives.yaml formula returns `grad` transformed elementwise
    (engine.is_grad_shaped), of a rank the layer's facts give (`bias`: a module's bias, one
    value per output feature), while another input of the call has a higher rank the body
    states (`input.view_symint({rows, cols})`) or the facts give: the result, and so `grad`,
    has at least that rank, and the engine sums the gradient to the input's shape
    (engine.py, VALIDATE_OUTPUTS)."""
    if node.operator is None or node.derivative is None or (not node.call_args \
            and not node.call_receiver):
        return
    shaped: set[str] = set()
    for inputs, formula in node.derivative.formulas:
        if not inputs.startswith("result") and is_grad_shaped(formula) \
                and not _SUM_TO_IN.search(formula):
            shaped.update(name.strip() for name in inputs.split(","))
    if not shaped:
        return
    args = call_arguments(node)
    declared = schema_args(node.operator.schema)
    stated = [stated_rank(text, node.caller_locals) if kind == "Tensor" else None
              for (kind, _), text in zip(declared, args, strict=False)]
    ranks = [s if s is not None or kind != "Tensor" else state.decider.rank_of(text)
             for s, (kind, _), text in zip(stated, declared, args, strict=False)]
    known = [r for r in stated if r is not None] or [r for r in ranks if r is not None]
    if not known:
        return
    out = max(known)
    for position, ((kind, name), rank) in enumerate(zip(declared, ranks, strict=False)):
        if kind == "Tensor" and name in shaped and rank is not None and rank < out:
            state.broadcast.setdefault((node.name, position), (node, rank, out))


def _note_repeated(state: _State, node: OpNode, runs: int | None) -> None:
    """The tensor inputs a recorded call reads unchanged in every iteration of the loop
    around it (loops.LoopFlow): each gets one gradient per iteration."""
    flow = state.flow
    if runs is not None and runs > 1:  # the call itself sits in the loop's body
        flow = LoopFlow(runs, node.loop, _where(node), frozenset(
            n.strip() for n in node.loop_changes.split(",") if n.strip()))
    if flow is None or node.operator is None:
        return
    args = call_arguments(node)
    for position, kind in enumerate(schema_kinds_of(node.operator.schema)):
        if kind != "Tensor" or position >= len(args):
            continue
        if flow.is_fixed(args[position], state.is_operator):
            state.repeated.setdefault((node.name, position), (node, position, flow))


def _computes(node: OpNode) -> bool:
    """Whether an operator returns a tensor: a query (`_nnpack_available() -> bool`) is on
    the path but does none of the layer's work."""
    schema = node.operator.schema if node.operator is not None else ""
    return "->" not in schema or "Tensor" in schema.rsplit("->", 1)[1]


NO_GRAD = "nograd:"  # walker.NO_GRAD_PREFIX: a parameter the Python call passes no-grad


def _reads_no_grad(state: _State, node: OpNode) -> bool:
    """Whether autograd records no node for this call: every tensor it reads requires no
    grad. Read where the call's line defines a local (`auto layer_hx = hx[index];`): the
    variables its expression comes from (locals.ScopeTracker.roots) are all parameters the
    Python call passed tensors made by a factory (`nograd:hx`, walker.call_arguments).
    Otherwise a call is taken to read a tensor that requires grad, as a module's
    parameters do."""
    if state.scopes is None or node.edge is None or not node.read_in:
        return False
    roots = state.scopes.roots(node.read_in.removeprefix("at::native::"), node.edge.path,
                               node.edge.line)
    if not roots:
        return False
    attrs = state.decider.facts.attrs
    return all(attrs.get(NO_GRAD + r) is True for r in roots)


def merge_complementary(children: tuple[OpNode, ...]) -> dict[int, OpNode | int]:
    """Calls of one operator made on both arms of an if/else run whichever arm is taken:
    two sibling edges to the same callee, read in the same body, whose conditions differ
    only in one `&&` term that one has and the other negates (`A && B`, `A && !(B)`), are
    one call under their common terms (`A`). index -> the merged edge (for the first) or
    the first's index (for the second, decided and counted with the first)."""
    out: dict[int, OpNode | int] = {}
    for i, a in enumerate(children):
        if i in out or not a.condition:
            continue
        for j in range(i + 1, len(children)):
            b = children[j]
            if j in out or b.name != a.name or b.read_in != a.read_in or not b.condition:
                continue
            common = _complementary(a.condition, b.condition)
            if common is not None:
                out[i] = replace(a, condition=" && ".join(common))
                out[j] = i
                break
    return out


def _complementary(first: str, second: str) -> list[str] | None:
    """The terms two conditions share, when the rest is one term and its negation."""
    a = [t.strip() for t in split_top(first, "&&")]
    b = [t.strip() for t in split_top(second, "&&")]
    only_a = [t for t in a if t not in b]
    only_b = [t for t in b if t not in a]
    if not only_a or not only_b:
        return None
    if len(only_a) == 1 and len(only_b) == 1 and (
            _negation(only_a[0]) == _bare(only_b[0])
            or _negation(only_b[0]) == _bare(only_a[0])):
        return [t for t in a if t in b]
    # `if (X && Y && Z) {...} else {...}`: the if's terms are recorded one by one, the else
    # arm holds their negated conjunction `!(X && Y && Z)`
    for terms, other in ((only_a, only_b), (only_b, only_a)):
        negated = _negation(other[0]) if len(other) == 1 else None
        if negated is not None and len(terms) > 1 and \
                [_bare(t) for t in split_top(negated, "&&")] == [_bare(t) for t in terms]:
            return [t for t in a if t in b]
    return None


def _bare(term: str) -> str:
    term = " ".join(term.split())
    while term.startswith("(") and term.endswith(")") and balanced(term[1:-1]):
        term = term[1:-1].strip()
    return term


def _negation(term: str) -> str | None:
    """`X` when `term` is `!X` or `!(X)`."""
    term = _bare(term)
    if term.startswith("!") and not term.startswith("!="):
        return _bare(term[1:])
    return None



def decide_layer(layer: LayerWalk, facts: LayerFacts, backward_ops: BackwardOps,
                 scopes: LocalsSet | None = None,
                 node_facts: list[LayerFacts] | None = None) -> Taken:
    """The taken path of `layer` for `facts.setting`; `scopes` the C++ local definitions
    that conditions are rewritten with; with `node_facts`, each top operator (one call of a
    functional step) is decided by its own input's facts."""
    setting = facts.setting
    state = _State(Decider(facts), setting.backend,
                   scopes=ScopeTracker(scopes) if scopes is not None else None)
    deciders = [Decider(f) for f in node_facts] if node_facts else []
    state.is_operator = _operator_test(backward_ops)
    for i, node in enumerate(layer.operators):
        if i < len(deciders):
            state.decider = deciders[i]
        state.root = node.name
        _visit(state, node, str(i), None, setting.grad, state.forward, True)
    backward: list[str] = []
    sub_state = _State(_in_backward(state.decider), setting.backend, scopes=state.scopes)
    if setting.grad:
        for node, decider in zip(state.recorded, state.recorded_by, strict=True):
            sub_state.decider = _in_backward(decider)
            sub_state.lines.append((0, f"{node.name} backward", "", node.derivative.location
                                    .path + f":{node.derivative.location.line}"
                                    if node.derivative else ""))
            for sub in backward_ops(node):
                _visit(sub_state, sub, f"backward:{node.name}", None, False, backward, False, 1)
        if layer.grad_flow is not None:
            _engine_work(sub_state, layer.grad_flow, state.recorded, backward_ops, backward,
                         state.recorded_under)
        for node, rank, out in state.broadcast.values():
            _engine_op(sub_state, backward_ops, backward, REDUCE, VALIDATE_OUTPUTS,
                       f"{node.name} backward: its input of rank {rank} gets a gradient of "
                       f"the result's rank ({out}) as written in the kernel body "
                       f"({_where(node)}); the engine sums it to the input's shape")
        _loop_accumulations(sub_state, state.repeated, backward_ops, backward)
        for k, v in sub_state.undecided.items():
            state.undecided.setdefault(k, v)
    return Taken(tuple(state.forward), tuple(backward), tuple(state.kernels.items()),
                 tuple(state.undecided.values()), tuple(state.edges),
                 tuple(n.name for n in state.recorded), tuple(sub_state.kernels.items()),
                 tuple(state.lines), tuple(sub_state.lines), tuple(state.work),
                 tuple(sub_state.work),
                 tuple((enum, label) for enum, (label, _) in facts.choices.items()
                       if label and any(enum in e.reason for e in state.edges
                                        if e.decision == "taken")),
                 loops=tuple(state.loops.values()))


def _in_backward(decider: Decider) -> Decider:
    """The same facts, decided inside the autograd engine (no grad mode: a plain backward)."""
    return Decider(replace(decider.facts, in_backward=True))


def _engine_work(state: _State, flow: GradFlow, recorded: list[OpNode],
                 backward_ops: BackwardOps, backward: list[str],
                 under: list[str] | None = None) -> None:
    """What the autograd engine runs around this layer's nodes (engine.py): the reduction
    of each broadcast gradient after the node that returns it, then the accumulations."""
    reduced: set[Operand] = set()
    for i, node in enumerate(recorded):
        if node.derivative is None or node.operator is None:
            continue
        called = under[i] if under is not None and i < len(under) else ""
        for operand, in_formula in reduced_operands(flow, node.name, node.operator.schema,
                                                    node.derivative.formulas, called):
            if operand in reduced:
                continue
            reduced.add(operand)
            shape = "x".join(map(str, operand.shape))
            if in_formula:
                _engine_op(state, backward_ops, backward, REDUCE, SUM_TO,
                           f"{node.name} backward: its formula sums the gradient of "
                           f"{operand.name} to {shape} (sum_to)", engine=False)
            else:
                _engine_op(state, backward_ops, backward, REDUCE, VALIDATE_OUTPUTS,
                           f"{node.name} backward: {operand.text}; the engine sums it to "
                           f"{shape}")
    for why, stored in flow.accumulated():
        view = _stored_view(backward_ops, stored, state.decider) \
            if stored is not None else None
        if view is None:
            _engine_op(state, backward_ops, backward, ACCUMULATE, INPUT_BUFFER, why)
        else:
            _engine_op(state, backward_ops, backward, ACCUMULATE_OUT_OF_PLACE, INPUT_BUFFER,
                       f"{why}; out of place: the gradient stored is {view}, which shares "
                       "its storage (can_accumulate_inplace is false)")


def _operator_test(backward_ops: BackwardOps) -> Callable[[str], bool]:
    """Whether a name called in a kernel body is an ATen operator (a call that returns a
    new tensor to autograd), cached."""
    known: dict[str, bool] = {}

    def test(name: str) -> bool:
        if name not in known:
            known[name] = backward_ops.make_node(name, Reached.UPSTREAM, "", Location("", 0),
                                                 "") is not None
        return known[name]

    return test


def _loop_accumulations(state: _State, repeated: dict[tuple[str, int],
                                                      tuple[OpNode, int, LoopFlow]],
                        backward_ops: BackwardOps, backward: list[str]) -> None:
    """A tensor a recorded call reads unchanged in each of the n iterations of a loop gets
    n gradients, one from each iteration's node; the engine stores the one that comes first
    (the last iteration's) and adds each later one to it (engine.py, INPUT_BUFFER): out of
    place when the stored one is a view (`grad.t()` of TBackward0), in place after that."""
    for node, position, flow in repeated.values():
        base = node.name.removeprefix("aten::")
        why = (f"{node.name} reads its tensor #{position} unchanged in each of the "
               f"{flow.runs}+ iterations of `{flow.loop}` ({flow.where}): {flow.runs - 1}+ "
               f"gradients are added to the one stored ({INPUT_BUFFER})")
        view = _stored_view(backward_ops, Stored(base, position), state.decider)
        first, rest = (ACCUMULATE_OUT_OF_PLACE, flow.runs - 2) if view else (ACCUMULATE,
                                                                            flow.runs - 1)
        _engine_op(state, backward_ops, backward, first, INPUT_BUFFER,
                   f"{why}; the first out of place: the gradient stored is {view}, which "
                   "shares its storage (can_accumulate_inplace is false)" if view else why)
        if view and rest > 0:
            _engine_op(state, backward_ops, backward, ACCUMULATE, INPUT_BUFFER,
                       f"{why}; the later ones in place, into the sum the first made")


def _stored_view(backward_ops: BackwardOps, stored: Stored | None, decider: Decider
                 ) -> str | None:
    """How the gradient stored in a buffer is a view of another tensor, or None. It is the
    result of the derivatives.yaml formula of `stored`'s operator for that input: a view
    when the formula returns what an aliasing operator returns (`grad.reshape(...)`,
    `grad.t()`: the schema returns `Tensor(a)`) or calls a FunctionsManual.cpp helper
    whose only Tensor-making calls on the path are aliasing ones (`cat_tensors_backward`'s
    `grad.narrow(...)`, `permute_backwards`' `grad.permute(...)`); the gradient its node
    received when it passes `grad` through (AddBackward0 with `alpha` 1,
    `handle_r_to_c(self, grad)`), followed to the node that produced it, down to the
    loss's gradient (`grad.expand(...)` of `output.sum()`: a stride-0 view). A gradient
    reaching a formula is taken as contiguous (so `reshape` is a view), as every layer's
    but the model output's is; a sum the engine made is a fresh tensor."""
    for _ in range(MAX_HOPS):
        if stored is None:
            return None
        if not stored.operator:  # no node (nn.Identity): the gradient its output got
            if stored.received == "loss":
                return _loss_view(decider, "nn.Identity")
            stored = stored.then
            continue
        node = backward_ops.make_node(stored.operator, Reached.UPSTREAM, "", Location("", 0),
                                      "")
        if node is None or node.derivative is None or node.operator is None:
            return None
        name = input_name(node.operator.schema, stored.position)
        formula = next((f for inputs, f in node.derivative.formulas
                        if name in (n.strip() for n in inputs.split(","))), None)
        if formula is None:
            return None
        view = _view_made(backward_ops, node, formula.strip(), decider)
        if view is not None:
            return f"`{formula.strip()}` of {node.name}'s backward, a view ({view})"
        if not passes_grad(formula, stored.keywords):
            return None
        if stored.received == "loss":
            return _loss_view(decider, f"{node.name}'s backward (`{formula.strip()}`)")
        stored = stored.then
    return None


def _loss_view(decider: Decider, passed_by: str) -> str | None:
    """The loss's gradient when it is a view (Setting.loss_gradient "expanded": the
    `grad.expand(...)` of `output.sum()`, stride 0), passed on unchanged."""
    if decider.facts.setting.loss_gradient != "expanded":
        return None
    return (f"the loss's gradient, passed on by {passed_by}: `grad.expand(...)` of "
            "`output.sum()`, a view")


def _view_made(backward_ops: BackwardOps, node: OpNode, formula: str, decider: Decider
               ) -> str | None:
    """The aliasing operator whose result a formula returns, or None (a fresh tensor, or
    not known): its outer call, or the Tensor-making calls of the helper it names."""
    assert node.derivative is not None
    call = outer_call(formula)
    if call is None:
        return None
    made = backward_ops.make_node(call, Reached.UPSTREAM, "", Location("", 0), "")
    if made is not None and made.operator is not None:
        return made.name if returns_alias(made.operator.schema) else None
    views: list[str] = []
    for inner in node.derivative.calls:
        if call not in (inner.root, inner.helper):
            continue
        op = backward_ops.make_node(inner.operator.removeprefix("aten::"), Reached.UPSTREAM,
                                    "", Location("", 0), "")
        if op is None or op.operator is None or not _computes(op):
            continue
        if returns_alias(op.operator.schema):
            if not inner.condition:  # made on every path (one under a condition may not be)
                views.append(op.name)
        elif not inner.condition or decider.decide(inner.condition).value is not False:
            return None  # it may return a tensor it made
    return views[0] if views else None


_R_TO_C = re.compile(r"^handle_r_to_c\(\s*[\w.()]+\s*,\s*(.*)\)$")
_MAYBE_MULTIPLY = re.compile(r"^maybe_multiply\(\s*(.*?)\s*,\s*(\w+)(?:\.conj\(\))?\s*\)$")


def passes_grad(formula: str, keywords: tuple[str, ...] = ()) -> bool:
    """Whether a formula returns the gradient its node received, unchanged for a real
    tensor: `grad`, `handle_r_to_c(self.scalar_type(), grad)` (FunctionsManual.cpp: the
    real part only of a complex gradient for a real input), `maybe_multiply(grad,
    alpha.conj())` when the call passed no `alpha` (its default 1: `maybe_multiply` returns
    `t` itself for a scalar that is one)."""
    text = formula.strip()
    for _ in range(4):
        m = _R_TO_C.match(text)
        if m:
            text = m.group(1).strip()
            continue
        m = _MAYBE_MULTIPLY.match(text)
        if m and m.group(2) not in keywords:
            text = m.group(1).strip()
            continue
        break
    return text == "grad"


def input_name(schema: str, position: int) -> str:
    """The schema parameter that a call's tensor argument `position` is: the Tensor
    arguments in order, or the one `Tensor[]` list that takes every tensor (`cat`)."""
    names = schema_tensors(schema)
    if position < len(names):
        return names[position]
    inside = schema.split("(", 1)[1].rsplit(")", 2)[0] if "(" in schema else ""
    lists = [part.strip().split("=")[0].split() for part in inside.split(",")]
    lists = [w for w in lists if len(w) == 2 and w[0].startswith("Tensor") and "[]" in w[0]]
    return lists[0][1] if len(lists) == 1 and not names else ""


def _engine_op(state: _State, backward_ops: BackwardOps, backward: list[str], name: str,
               where: str, why: str, engine: bool = True) -> None:
    path = where.split(":", 1)[0]
    made = backward_ops.make_node(name, Reached.UPSTREAM, "", Location(path, 0), "")
    if made is None:
        return
    state.lines.append((0, f"autograd engine: {why}" if engine else why, "", where))
    _visit(state, replace(made, note=why), f"engine:{name}", None, False, backward, False, 1)


def _formula_operators(formula: str, inputs: str, schema: str) -> list[str]:
    """The ATen operators a formula's C++ operators on Tensors call (`grad / n` -> div):
    `grad`, `result` and the schema's Tensor arguments are Tensors."""
    tensors = {"grad", "result", *(schema_tensors(schema) if schema else ())}
    tensors.update(name.strip() for name in inputs.split(","))
    return [name for name, _ in expression_operators(formula, tensors)]


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
        helper_arm: dict[str, str] = {}  # a helper the formula names -> its arm's condition
        for inputs, formula in derivative.formulas:
            if inputs.startswith("result"):
                continue
            for arm_condition, arm in formula_arms(formula):
                calls = [(METHOD if dot else "") + name
                         for dot, name in _FORMULA_ANY_CALL.findall(arm)]
                for name in calls:
                    helper_arm.setdefault(name, arm_condition)
                names = [*calls, *_formula_operators(
                    arm, inputs, node.operator.schema if node.operator else "")]
                if _UNARY_MINUS.search(arm):
                    names.append("neg")  # `-grad`: Tensor's unary operator- is aten::neg
                for name in dict.fromkeys(names):
                    made = self.make_node(name, Reached.YAML, arm_condition,
                                          derivative.location, "")
                    if made is not None and made.name not in seen:
                        if not arm_condition:
                            seen.add(made.name)
                        elif (made.name, arm_condition) in conditional:
                            continue
                        conditional.add((made.name, arm_condition))
                        out.append(made)
        for call in derivative.calls:
            # each condition a helper calls an operator under is its own edge: a call under
            # an undecided stride test does not hide the unconditional call after it; a
            # helper named on one arm of the formula's `?:` runs under that arm's condition
            condition = " && ".join(c for c in (helper_arm.get(call.root, ""),
                                                 call.condition) if c)
            if call.operator in seen or (call.operator, condition) in conditional:
                continue
            made = self.make_node(call.operator.removeprefix("aten::"), Reached.UPSTREAM,
                                  condition, call.location, call.source)
            if made is not None:
                conditional.add((call.operator, condition))
                if not condition:
                    seen.add(made.name)
                out.append(made)
        return tuple(out)


def formula_arms(formula: str, condition: str = "") -> list[tuple[str, str]]:
    """(condition, text) for each arm of a derivatives.yaml formula's top-level `c ? a : b`
    (nested arms too), the whole formula with "" when it has none: `GradMode::is_enabled() ?
    infinitely_differentiable_silu_backward(grad, self) : silu_backward(grad, self)` runs
    only the second helper in a plain backward()."""
    arms = ternary(formula.strip())
    if arms is None:
        body = formula.strip()
        if body.startswith("(") and body.endswith(")") and balanced(body[1:-1]) \
                and ternary(body[1:-1].strip()) is not None:
            return formula_arms(body[1:-1], condition)  # `(c ? a : b)`, one arm of an outer
        return [(condition, formula)]
    test, yes, no = arms
    both = f"{condition} && " if condition else ""
    return [*formula_arms(yes, f"{both}({test.strip()})"),
            *formula_arms(no, f"{both}!({test.strip()})")]
