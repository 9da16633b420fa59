"""Loops in C++ kernel bodies, and the tensors an iteration reads that the loop never changes.

A recurrent kernel builds its autograd graph one step at a time: RNN.cpp's FullLayer runs
`for (const auto& input : step_inputs) { hidden = cell_(input, hidden, params, ...); }`
(aten/src/ATen/native/RNN.cpp, cyyever/pytorch@9714587885648e7f983dc94d1d6e24eb6a3f66a9),
and the cell reads the same weights at every step (`params.linear_hh(hx)` ->
`at::linear(h, w_hh, b_hh_)` -> Linear.cpp's `at::addmm(*bias, input, weight.t())`,
cyyever/pytorch@021c4c1a30ae5d1d131c5f950440939de962ebdc). A tensor that requires grad and
is read by the same call in every iteration of a loop that runs n times gets n gradients,
which the autograd engine adds in its input buffer (engine.py): n - 1 accumulations.

The scanner records per call edge the loop its line sits in, what that loop changes per
iteration (the loop variable, names the body assigns or steps), the call's argument texts,
the object a method is called on, and the calling function's parameters and local
definitions (UpstreamEdge). Walking down the taken path, a `LoopFlow` says for the function
whose body is being read which of its names hold the same value in every iteration of the
innermost loop that runs more than once: in the loop's own function every name the loop does
not change; in a function called from the loop body a parameter whose argument is such a
value, a local whose definition reads only such values and calls no ATen operator (an
operator returns a new tensor each time: `weight.t()`), and a member of an object called
unchanged (`params.linear_hh(...)` with `params` unchanged).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

from docgen.walk.records import OpNode
from docgen.walk.upstream import balanced

_NAME = re.compile(r"(?<![\w.>:])([A-Za-z_]\w*)\b(?!\s*(?:\(|::|<[\w:, ]*>\s*::))")
_CALLED = re.compile(r"([A-Za-z_]\w*)\s*\(")
_CONSTANTS = frozenset({"true", "false", "nullptr", "this", "std", "c10", "at", "Tensor",
                        "in_place", "auto", "const"})
_RANGE_FOR = re.compile(r"^for\s*\(.*?\w+\s*:(?!:)\s*(\w+)\s*\)$")
_UNBIND = re.compile(r"^(.+?)\s*(?:\.|->)\s*unbind\s*\(\s*(-?\d*)\s*\)$")


@dataclass(frozen=True)
class LoopFlow:
    """The innermost loop on the path that runs more than once, as seen from the body of one
    function: how many times it runs (at least), and which of the function's names are the
    same in every iteration."""

    runs: int
    loop: str
    where: str
    changes: frozenset[str] = frozenset()  # names of the loop's own function it changes
    fixed_params: frozenset[str] = frozenset()  # this function's parameters that are fixed
    params: tuple[str, ...] = ()
    locals: tuple[tuple[str, str], ...] = ()
    members_fixed: bool = True  # the object a member function runs on is the same
    own: bool = True  # this is the loop's own function
    _seen: set[str] = field(default_factory=set, compare=False, hash=False)

    def is_fixed(self, text: str, is_operator: Callable[[str], bool]) -> bool:
        """Whether expression `text`, read in this function, has the same value in every
        iteration: it calls no ATen operator and every name it reads is fixed."""
        if not text.strip():
            return False
        if any(is_operator(name) for name in _CALLED.findall(text)):
            return False
        return all(self._name_fixed(n, is_operator)
                   for n in dict.fromkeys(_NAME.findall(text)))

    def _name_fixed(self, name: str, is_operator: Callable[[str], bool]) -> bool:
        if self.own:
            return name not in self.changes
        if name in _CONSTANTS:
            return True
        if name in self.params:
            return name in self.fixed_params
        defined = [e for n, e in self.locals if n == name]
        if defined:
            if name in self._seen or len(defined) > 1:
                return False
            self._seen.add(name)
            try:
                return self.is_fixed(defined[0], is_operator)
            finally:
                self._seen.discard(name)
        return self.members_fixed  # a member of the object, or a name of the namespace


def call_arguments(node: OpNode) -> tuple[str, ...]:
    """The argument texts of the call that reached `node`, in the callee's parameter order:
    a Tensor method operator's `self` is the object it is called on (`weight.t()`)."""
    if node.operator is not None and node.call_receiver:
        return (node.call_receiver, *node.call_args)
    return node.call_args


def enter(flow: LoopFlow | None, node: OpNode, runs: int | None, callee_params: tuple[str, ...],
          callee_locals: tuple[tuple[str, str], ...], is_operator: Callable[[str], bool],
          where: str) -> LoopFlow | None:
    """The flow inside the function `node` calls (whose parameters and locals are given),
    from the flow of the function the call is read in; `runs` is how many times the loop the
    call sits in runs (None: no loop, or not decided to run more than once)."""
    if runs is not None and runs > 1:
        outer = LoopFlow(runs, node.loop, where,
                         frozenset(n.strip() for n in node.loop_changes.split(",") if n.strip()))
    elif flow is not None:
        outer = flow
    else:
        return None
    args = call_arguments(node)
    if not callee_params and not node.call_receiver and not args:
        # the call was not read as written: nothing of its callee is known to be fixed
        return LoopFlow(outer.runs, outer.loop, outer.where, own=False, members_fixed=False)
    fixed = frozenset(p for p, a in zip(callee_params, args, strict=False)
                      if outer.is_fixed(a, is_operator))
    # a member function's names that are neither parameters nor locals are its object's
    # members: the same when the object is (called on an unchanged object, or a function
    # object of the loop's own object: `cell_(...)`); a free function has none
    member = "::" in node.name.removeprefix("at::native::") or (not node.call_receiver \
        and node.name.endswith("operator()"))
    members = node.operator is None and member and (
        not node.call_receiver or outer.is_fixed(node.call_receiver, is_operator))
    return LoopFlow(outer.runs, outer.loop, outer.where, fixed_params=fixed,
                    params=callee_params, locals=callee_locals, members_fixed=members,
                    own=False)


def sequence_of(header: str, params: tuple[str, ...], args: tuple[str, ...]) -> str | None:
    """For a range-for over a parameter (`for (const auto& input : step_inputs)`), the
    argument text the function was called with for it (`inputs_w.unbind(0)`), else None."""
    found = _RANGE_FOR.match(header.strip())
    if found is None or found.group(1) not in params:
        return None
    index = params.index(found.group(1))
    return args[index] if index < len(args) else None


def unbound(text: str) -> tuple[str, int] | None:
    """`x.unbind(d)` -> (x, d): a sequence of one tensor per index of dimension d of x."""
    found = _UNBIND.match(text.strip())
    if found is None:
        return None
    return found.group(1), int(found.group(2) or 0)


_SHAPED = re.compile(r"^(.+?)\s*(?:\.|->)\s*(?:view|reshape|view_symint|reshape_symint|"
                     r"expand|expand_symint|new_empty|new_zeros)\s*\(\s*\{([^{}]*)\}\s*\)$")


def stated_rank(text: str, locals_: tuple[tuple[str, str], ...], depth: int = 0) -> int | None:
    """The rank a kernel body states for a tensor expression: a view or reshape to a braced
    size list (`input.view_symint({rows, cols})`: 2), through the caller's locals."""
    text = text.strip()
    found = _SHAPED.match(text)
    if found:
        return len([a for a in _split_top(found.group(2)) if a.strip()])
    defined = [e for n, e in locals_ if n == text]
    if len(defined) == 1 and depth < 4:
        return stated_rank(defined[0], locals_, depth + 1)
    return None


def schema_kinds_of(schema: str) -> list[str]:
    """The kind of each positional argument of an operator schema, in order: `Tensor` for
    a Tensor or optional Tensor (`Tensor? bias`), else its type."""
    return [kind for kind, _ in schema_args(schema)]


def schema_args(schema: str) -> list[tuple[str, str]]:
    """(kind, name) of each positional argument of an operator schema, in order."""
    if "(" not in schema:
        return []
    start = schema.index("(")
    depth, end = 0, len(schema)
    for i in range(start, len(schema)):
        depth += {"(": 1, ")": -1}.get(schema[i], 0)
        if depth == 0:
            end = i
            break
    inside = schema[start + 1:end]
    out = []
    for part in _split_top(inside):
        part = part.strip()
        if part == "*":
            break
        words = part.split("=")[0].split()
        typ = words[0] if words else ""
        base = re.sub(r"\([a-z!|>*\s-]*\)", "", typ)
        out.append(("Tensor" if base in ("Tensor", "Tensor?") else base,
                    words[-1] if len(words) > 1 else ""))
    return out


def _split_top(text: str) -> list[str]:
    out, depth, start = [], 0, 0
    for i, ch in enumerate(text):
        depth += {"(": 1, "[": 1, ")": -1, "]": -1}.get(ch, 0)
        if ch == "," and depth == 0:
            out.append(text[start:i])
            start = i + 1
    out.append(text[start:])
    return out


# ------------------------------------------------------------------ where a tensor comes from

_TERNARY = re.compile(r"^(.+?)\?(.+):(.+)$", re.S)
_TRANSPOSED = re.compile(r"^(.+?)\s*(?:\.|->)\s*(?:transpose|swapaxes)\s*\(\s*(-?\d+)\s*,\s*"
                         r"(-?\d+)\s*\)$|^(.+?)\s*(?:\.|->)\s*(?:t|mT)\s*\(\s*\)$")
_IDENT = re.compile(r"[A-Za-z_]\w*")


@dataclass(frozen=True)
class Frame:
    """One function on the path: its parameters and locals, and the arguments the call
    that entered it passed (empty for the operator's own kernel, called from Python)."""

    params: tuple[str, ...]
    locals: tuple[tuple[str, str], ...]
    args: tuple[str, ...]
    top: bool = False
    # the names a loop around the call made from this function changes: that call's first
    # iteration reads their values from before the loop (enough to say a path runs)
    first_pass: frozenset[str] = frozenset()


def frames_of(node: OpNode, path: list[OpNode]) -> list[Frame]:
    """The frames from the function `node`'s call is read in out to the operator's kernel:
    each function's parameters and locals come from a call read in its body (`node`, then
    the nodes of the path), its arguments from the node that entered it."""
    out = []
    scope: OpNode = node
    for i in range(len(path) - 1, -1, -1):
        entering = path[i]
        # the first node of the path is the operator the layer's call reached: its kernel's
        # parameters are the operator's arguments, the input first
        changed = frozenset(n.strip() for n in scope.loop_changes.split(",") if n.strip()) \
            if scope.loop else frozenset()
        out.append(Frame(scope.caller_params, scope.caller_locals, call_arguments(entering),
                         top=i == 0, first_pass=changed))
        scope = entering
    return out


def contiguity(text: str, frames: list[Frame], test: Callable[[str], bool | None],
               input_contiguous: bool | None, input_shape: tuple[int, ...] | None,
               depth: int = 0) -> tuple[bool | None, str]:
    """Whether the tensor `text` (read in the innermost frame) is contiguous, followed
    through locals and arguments out to the operator's input: a transpose of two dimensions
    of more than one element each is not (`batch_first ? _input.transpose(0, 1) : _input`
    with batch_first); (None, why) when a hop is not read."""
    text = text.strip()
    while text.startswith("(") and text.endswith(")") and balanced(text[1:-1]):
        text = text[1:-1].strip()
    if not frames or depth > 24:
        return None, f"`{text}`: not followed further"
    frame = frames[0]
    found = _TERNARY.match(text)
    if found and balanced(found.group(1)):
        condition = _resolved_condition(found.group(1).strip(), frames)
        picked = test(condition) if condition is not None else None
        if picked is None:
            return None, f"`{found.group(1).strip()}` not decided"
        return contiguity(found.group(2) if picked else found.group(3), frames, test,
                          input_contiguous, input_shape, depth + 1)
    moved = _TRANSPOSED.match(text)
    if moved:
        inner = moved.group(1) or moved.group(4)
        dims = (int(moved.group(2)), int(moved.group(3))) if moved.group(1) else (0, 1)
        base, why = contiguity(inner, frames, test, input_contiguous, input_shape, depth + 1)
        if base is not True or why != "the operator's input" or input_shape is None:
            return None, f"`{text}`: a transpose of a tensor not traced to the input"
        sizes = [input_shape[d] for d in dims if -len(input_shape) <= d < len(input_shape)]
        if dims[0] != dims[1] and len(sizes) == 2 and all(s > 1 for s in sizes):
            return False, (f"`{text}` swaps dimensions {dims[0]} and {dims[1]} of the "
                           f"operator's input {tuple(input_shape)}: not contiguous")
        return None, f"`{text}`: a transpose that may keep the layout"
    if _IDENT.fullmatch(text):
        defined = [e for n, e in frame.locals if n == text]
        if len(defined) > 1 and text in frame.first_pass and text not in frame.params:
            defined = defined[:1]  # the value before the loop: its first iteration's
        if len(defined) == 1:
            return contiguity(defined[0], frames, test, input_contiguous, input_shape,
                              depth + 1)
        if text in frame.params:
            index = frame.params.index(text)
            if frame.top:
                if index == 0:
                    return input_contiguous, "the operator's input"
                return None, f"`{text}`: an argument of the operator other than its input"
            if index < len(frame.args):
                return contiguity(frame.args[index], frames[1:], test, input_contiguous,
                                  input_shape, depth + 1)
    return None, f"`{text}`: not followed further"


def _resolved_condition(text: str, frames: list[Frame]) -> str | None:
    """A condition on one name followed out to the operator's parameter of that name
    (`batch_first`), which the layer's facts decide; None when it is not one name."""
    negated = text.startswith("!")
    name = text.lstrip("!").strip()
    if not _IDENT.fullmatch(name):
        return None
    for frame in frames:
        if name not in frame.params:
            return None
        if frame.top:
            return ("!" if negated else "") + name
        index = frame.params.index(name)
        if index >= len(frame.args) or not _IDENT.fullmatch(frame.args[index].strip()):
            return None
        name = frame.args[index].strip()
    return None
