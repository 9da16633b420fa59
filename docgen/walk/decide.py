"""Deciding C++ branch conditions for one layer and one execution setting.

A condition read in a kernel body (`bias.defined() && case ConvBackend::Cudnn [chosen in
_select_conv_backend:1241 when ...]`) is parsed into `!`, `&&`, `||`, comparisons and atoms;
each atom is looked up in the layer's facts: the setting (backend, dtype, switches, mode),
the layer's evaluated constructor values (groups, stride, bias, p, output_size), its input
(rank, sizes, contiguity) and the BUILD_FACTS table. Predicates whose definitions were read
in Convolution.cpp (ConvParams::use_mkldnn, use_cudnn, is_depthwise, use_miopen, use_mps,
use_nnpack, at cyyever/pytorch@021c4c1a30ae and @cc2cca1fce03) are evaluated from those
definitions here; the operators a predicate's body calls (`at::_nnpack_available()` in
use_nnpack) are edges of that body, taken when evaluation reaches them (upstream.py).
An atom that nothing decides leaves its condition `undecided`, and the atom is what it depends on.

A `case E::X` label is decided by the choice its selector makes: the `return E::X;` arms
read in the selector (`_select_conv_backend`) are tried in source order and the first that
holds wins, as the if / else-if chain does.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from docgen.walk import sdp
from docgen.walk.setting import Setting, build_fact

UNKNOWN = None
_DTYPE_SYMBOL = {"float32": "kFloat", "float16": "kHalf", "bfloat16": "kBFloat16"}
_DEVICE_OF = {"is_cuda": "CUDA", "is_cpu": "CPU", "is_mps": "MPS", "is_xpu": "XPU",
              "is_privateuseone": "PrivateUse1", "is_meta": "Meta"}
# Tensor properties that are false for the dense, strided, real tensors a module gets.
_PLAIN_FALSE = {"is_mkldnn", "is_quantized", "is_nested", "is_xla", "is_lazy", "is_sparse",
                "is_sparse_csr", "is_vulkan", "is_complex", "is_conj", "is_neg", "is_hpu",
                "is_ipu", "is_ve", "is_zero_tensor", "is_inference"}
_TENSORS = ("input", "self", "weight", "grad_output", "grad", "output", "result", "x")
_OUTPUTS = ("output", "result", "out")  # the names kernels give the tensor they return
# the names kernels give the gradient they receive
_GRADIENTS = frozenset({"grad", "grad_", "grad_out", "grad_out_", "grad_output",
                        "grad_output_", "grad_y", "dY", "gY"})
_ARM = re.compile(r"(\w+):(\d+)(?: when (.*))?$")
_CHOSEN = re.compile(r"(?:case |\w == )(\w+(?:::\w+)+) \[chosen in ")
# `backend == E::X [chosen in ...]`: a selector's result compared with one label
_CASE = re.compile(r"case (\w+(?:::\w+)+)")
_DEVICE_CONSTANTS = {"kCPU": "CPU", "kCUDA": "CUDA", "kMPS": "MPS", "kXPU": "XPU",
                     "kMeta": "Meta", "kPrivateUse1": "PrivateUse1"}
_EQ_CHOSEN = re.compile(r"\w+ == (\w+(?:::\w+)+) \[chosen in .*\]", re.S)


@dataclass(frozen=True)
class Decision:
    """`value` True (taken), False (not taken) or None (undecided); `reason` the deciding
    fact; `depends_on` the atoms nothing decided."""

    value: bool | None
    reason: str
    depends_on: tuple[str, ...] = ()
    count: int | None = None  # a loop's: how many times it runs (Decider.loop_runs)

    @property
    def label(self) -> str:
        return {True: "taken", False: "not_taken", None: "undecided"}[self.value]


@dataclass
class LayerFacts:
    """What decides a layer's branches: the setting, the module's values and its input."""

    setting: Setting
    attrs: dict[str, object] = field(default_factory=dict)
    input_shape: tuple[int, ...] | None = None
    choices: dict[str, tuple[str | None, str]] = field(default_factory=dict)
    # per enum selector: (chosen label or None, why)
    contiguous: bool | None = True  # whether the input is row-major (a module's input is)
    # one call of a functional step: the scalars it passed, by the operator's parameter names
    call_values: dict[str, object] = field(default_factory=dict)
    # whether the gradient reaching the layer's backward is contiguous: the layer that
    # returns the model's output gets the loss's gradient (Setting.loss_gradient)
    grad_contiguous: bool | None = True
    # the shape of what one call returns (a functional step's `torch.cat`), when read
    output_shape: tuple[int, ...] | None = None
    # deciding a node's backward: the engine runs it with grad mode = create_graph
    # (engine.cpp, GraphTask's thread_locals_.set_grad_mode), false for a plain backward()
    in_backward: bool = False

    def is_contiguous(self, tensor: str) -> bool | None:
        """A layer's parameters are dense and contiguous; its input when `contiguous` says so,
        a gradient when grad_contiguous does."""
        if tensor in _GRADIENTS:
            return self.grad_contiguous
        return self.contiguous if tensor in ("input", "self") else True

    # -------------------------------------------------------------- module values

    def attr(self, name: str) -> object:
        return self.attrs.get(name, UNKNOWN)

    def ints(self, name: str) -> tuple[int, ...] | None:
        value = self.attrs.get(name)
        if isinstance(value, bool):
            return None
        if isinstance(value, int):
            return (value,)
        if isinstance(value, (tuple, list)) and all(isinstance(v, int) for v in value):
            return tuple(value)
        return None

    @property
    def has_bias(self) -> bool | None:
        value = self.attrs.get("bias", UNKNOWN)
        return None if value is UNKNOWN else bool(value)

    @property
    def rank(self) -> int | None:
        return len(self.input_shape) if self.input_shape is not None else None

    def weight_size(self, index: int) -> int | None:
        kernel = self.ints("kernel_size")
        if kernel is None or self.rank is None:
            return None
        dims = self.rank - 2
        full = kernel * dims if len(kernel) == 1 else kernel
        out = self.attr("out_channels")
        shape = (out, self.attr("in_channels"), *full)
        value = shape[index] if -len(shape) <= index < len(shape) else None
        return value if isinstance(value, int) else None

    def input_size(self, index: int) -> int | None:
        if self.input_shape is None or not -len(self.input_shape) <= index < len(
                self.input_shape):
            return None
        return self.input_shape[index]

    # -------------------------------------------------------------- predicates

    def _any_not(self, name: str, value: int) -> bool | None:
        got = self.ints(name)
        return None if got is None else any(v != value for v in got)

    def is_strided(self) -> bool | None:
        return self._any_not("stride", 1)

    def is_dilated(self) -> bool | None:
        return self._any_not("dilation", 1)

    def transposed(self) -> bool | None:
        value = self.attrs.get("transposed", UNKNOWN)
        return None if value is UNKNOWN else bool(value)

    def use_mkldnn(self) -> bool | None:
        """ConvParams::use_mkldnn (Convolution.cpp, cyyever/pytorch@021c4c1a30ae)."""
        s = self.setting
        if s.backend != "CPU" or not _fact("CPU", "mkldnn_compiled"):
            return False
        if not s.mkldnn:
            return False
        if s.dtype != "float32":
            return False  # bf16/fp16 need the device checks of BUILD_FACTS (bf16_device)
        heuristics = [self.is_strided(), self.is_dilated(),
                      _ge(self.input_size(0), 16), _ne(self.weight_size(-1), 1),
                      _ne(self.weight_size(-2), 1),
                      _fact("CPU", "multithreaded")]
        native = [_gt(self.attr("groups"), 1),
                  _and([_gt(self.weight_size(-1), 3), _gt(self.weight_size(-2), 3)]),
                  _gt(self.input_size(0), 1), _gt(_numel(self.input_shape), 20480)]
        return _and([_or(heuristics), _or(native)])

    def use_nnpack(self) -> bool | None:
        """ConvParams::use_nnpack (Convolution.cpp, cyyever/pytorch@cc2cca1fce03): NNPACK
        enabled by the user (the default) and available, a CPU float32 input, neither
        dilated nor transposed, 4-D input and weight, a kernel up to 16x16, padding smaller
        than the kernel and a batch of at least 16."""
        s = self.setting
        if s.backend != "CPU" or s.dtype != "float32" or not _fact("CPU", "nnpack_available"):
            return False
        padding = self.ints("padding")
        kernel = [self.weight_size(2), self.weight_size(3)]
        pads = None if padding is None else (padding * 2 if len(padding) == 1 else padding)
        return _and([_not(self.is_dilated()), _not(self.transposed()),
                     None if self.rank is None else self.rank == 4,
                     *(None if k is None else k < 17 for k in kernel),
                     *(None if pads is None or k is None else pads[i] < k
                       for i, k in enumerate(kernel)),
                     _ge(self.input_size(0), 16)])

    def use_cudnn(self) -> bool | None:
        """ConvParams::use_cudnn: a CUDA input, cuDNN compiled and enabled, a dtype cuDNN
        takes; the 64-bit-indexing and dilation/channels-last exceptions need sizes beyond
        2**31 elements, which the model's inputs do not reach."""
        s = self.setting
        if s.backend != "CUDA":
            return False
        compiled = _fact("CUDA", "cudnn_compiled")
        return compiled and s.cudnn

    def is_depthwise(self) -> bool | None:
        """ConvParams::is_depthwise: CUDA, not transposed, 4-D or 5-D, groups == C_in > 1,
        C_out a multiple of C_in."""
        groups = self.attr("groups")
        channels = self.input_size(1)
        return _and([self.setting.backend == "CUDA", _not(self.transposed()),
                     None if self.rank is None else self.rank in (4, 5),
                     _eq(channels, groups), _gt(groups, 1),
                     None if not isinstance(self.weight_size(0), int) or not channels
                     else self.weight_size(0) % channels == 0])  # type: ignore[operator]

    def cudnn_acceptable(self) -> bool | None:
        """at::cudnn_is_acceptable(t) (TypeProperties.cpp): cuDNN enabled, a CUDA tensor of
        a dtype cuDNN takes (double, float, half), and a build with cuDNN."""
        s = self.setting
        if s.backend != "CUDA" or not s.cudnn:
            return False
        return s.dtype in ("float32", "float16") and _fact("CUDA", "cudnn_compiled")

    def rnn_use_mkldnn(self) -> bool | None:
        """use_mkldnn(input, params, hx) of RNN.cpp (cyyever/pytorch@971458788564): oneDNN
        compiled and enabled, CPU tensors, float32 (bfloat16 / float16 need the device
        checks of BUILD_FACTS, float16 also no grad), and a non-empty input."""
        s = self.setting
        if s.backend != "CPU" or not s.mkldnn or not _fact("CPU", "mkldnn_compiled"):
            return False
        if s.dtype == "float32":
            return _ne(_numel(self.input_shape), 0) if self.input_shape else True
        if s.dtype == "float16" and s.grad:
            return False
        return _fact("CPU", "bf16_device")

    def use_miopen(self) -> bool | None:
        return self.setting.backend == "CUDA" and _fact("CUDA", "miopen_compiled")

    def use_mps(self) -> bool | None:
        return self.setting.backend == "MPS"

    def use_cudnn_depthwise(self) -> bool | None:
        if not self.use_cudnn():
            return False
        return _and([self.is_depthwise(), None])  # cuDNN's depthwise workload heuristics

    def fused_dropout(self) -> bool | None:
        """is_fused_kernel_acceptable (Dropout.cpp): a CUDA/XPU/lazy/PrivateUse1 input,
        0 < p < 1, at least one element."""
        p = self.attr("p")
        device = self.setting.backend in ("CUDA", "XPU", "PrivateUse1")
        if not device:
            return False
        if not isinstance(p, (int, float)):
            return None
        return 0 < p < 1


def _fact(backend: str, name: str) -> bool:
    """A row of BUILD_FACTS (false when the table has none for the backend)."""
    found = build_fact(backend, name)
    return bool(found and found.value)


def _size_of(tensors: tuple[object, ...], index: int, dim: int) -> int | None:
    """Size `dim` of tensor `index` of a list argument whose shapes the Python code fixed
    (`hx = (torch.zeros(L, N, H), ...)`)."""
    if not 0 <= index < len(tensors):
        return None
    shape = getattr(tensors[index], "shape", None)
    if not isinstance(shape, tuple) or not -len(shape) <= dim < len(shape):
        return None
    value = shape[dim]
    return value if isinstance(value, int) else None


def _numel(shape: tuple[int, ...] | None) -> int | None:
    if shape is None:
        return None
    out = 1
    for d in shape:
        out *= d
    return out


@dataclass(frozen=True)
class AtLeast:
    """A count known only to be at least `low` (a size of a non-empty tensor: 1; the
    threads of a multi-core machine: 2)."""

    low: int

    def __repr__(self) -> str:
        return "a positive size" if self.low == 1 else f"at least {self.low}"


POSITIVE = AtLeast(1)


def _cmp(a: object, b: object, op: str) -> bool | None:
    if a is None or b is None:
        return None
    if isinstance(a, AtLeast) or isinstance(b, AtLeast):
        bound, other, flip = (a, b, False) if isinstance(a, AtLeast) else (b, a, True)
        if not isinstance(other, int) or isinstance(other, bool) or not isinstance(
                bound, AtLeast):
            return None
        if flip:
            op = {"<": ">", ">": "<", "<=": ">=", ">=": "<="}.get(op, op)
        low = bound.low  # `bound op other`, knowing only bound >= low
        return {"==": False if other < low else None, "!=": True if other < low else None,
                ">": True if other < low else None, ">=": True if other <= low else None,
                "<": False if other <= low else None,
                "<=": False if other < low else None}[op]
    try:
        return {"==": a == b, "!=": a != b, "<": a < b, ">": a > b,  # type: ignore[operator]
                "<=": a <= b, ">=": a >= b}[op]  # type: ignore[operator]
    except TypeError:
        return None


def _eq(a: object, b: object) -> bool | None:
    return _cmp(a, b, "==")


def _ne(a: object, b: object) -> bool | None:
    return _cmp(a, b, "!=")


def _gt(a: object, b: object) -> bool | None:
    return _cmp(a, b, ">") if isinstance(a, int) else None


def _ge(a: object, b: object) -> bool | None:
    return _cmp(a, b, ">=") if isinstance(a, int) else None


def _not(a: bool | None) -> bool | None:
    return None if a is None else not a


def _and(values: Iterable[bool | None]) -> bool | None:
    values = list(values)
    if any(v is False for v in values):
        return False
    return None if any(v is None for v in values) else True


def _or(values: Iterable[bool | None]) -> bool | None:
    values = list(values)
    if any(v is True for v in values):
        return True
    return None if any(v is None for v in values) else False


# ------------------------------------------------------------------ parsing conditions


def _top_level(text: str) -> Iterator[int]:
    """The offsets of `text` outside (), [] and {} that are not a bracket, a `::` skipped
    whole (it separates no arms and no terms)."""
    depth, i = 0, 0
    while i < len(text):
        ch = text[i]
        if ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
        elif depth == 0 and text.startswith("::", i):
            i += 2
            continue
        elif depth == 0:
            yield i
        i += 1


# The same condition texts are parsed for every layer and setting: both parsers below are
# pure functions of their text, so each text is scanned once per process.
@functools.lru_cache(maxsize=1 << 16)
def ternary(text: str) -> tuple[str, str, str] | None:
    """`c ? a : b` at the top level of `text` -> (c, a, b); `::` is no arm separator."""
    question, nested = -1, 0
    for i in _top_level(text):
        if text[i] == "?":
            if question < 0:
                question = i
            else:
                nested += 1
        elif text[i] == ":" and question >= 0:
            if nested:
                nested -= 1
            else:
                return (text[:question].strip(), text[question + 1:i].strip(),
                        text[i + 1:].strip())
    return None


def split_top(text: str, sep: str) -> list[str]:
    """`text` split at `sep` outside (), [] and {}."""
    return list(_split_top(text, sep))


@functools.lru_cache(maxsize=1 << 16)
def _split_top(text: str, sep: str) -> tuple[str, ...]:
    parts: list[str] = []
    start = 0
    for i in _top_level(text):
        if i >= start and text.startswith(sep, i):
            parts.append(text[start:i])
            start = i + len(sep)
    parts.append(text[start:])
    return tuple(p.strip() for p in parts)


@functools.lru_cache(maxsize=1 << 16)
def _wrapped(text: str) -> bool:
    if not (text.startswith("(") and text.endswith(")")):
        return False
    depth = 0
    for i, ch in enumerate(text):
        depth += {"(": 1, ")": -1}.get(ch, 0)
        if depth == 0 and i < len(text) - 1:
            return False
    return True


_COMPARE = re.compile(r"(==|!=|<=|>=|(?<![<\-])<(?![<=])|(?<![\->])>(?![>=]))")


# A Scalar argument bound to a number and read through one of c10::Scalar's accessors
# (`beta.toComplexDouble()` with `beta` bound to `0` by mm_out_cpu's call of addmm_impl_cpu_)
_SCALAR_AS_NUMBER = re.compile(
    r"\(?(-?\d+(?:\.\d*)?)\)?\.(?:toComplexDouble|toDouble|toFloat|toLong|to<\w+>)\(\)")


class Decider:
    """Evaluates condition texts against one layer's facts (three-valued)."""

    def __init__(self, facts: LayerFacts) -> None:
        self.facts = facts
        self.unknown: list[str] = []

    def loop_runs(self, header: str) -> Decision:
        """How many times a C++ loop read in a kernel body runs (`for (const auto l :
        c10::irange(num_layers))`): `value` True when more than once, False when at most
        once, None when its bound is nothing the layer's facts give; the reason names the
        count. A bound is a literal or a module value of the same name (the kernels get the
        module's constructor values under their own names: `num_layers`)."""
        found = re.search(r"\birange\s*\(\s*(?:([\w.]+)\s*,\s*)?([\w.]+)\s*\)", header) \
            or re.search(r"=\s*([\w.]+)\s*;\s*\w+\s*<\s*([\w.]+)\s*;", header)
        if found is None:
            return Decision(None, f"`{header}` iterates over a sequence whose length the walk "
                            "does not read", (header,))
        start_text, bound_text = found.group(1) or "0", found.group(2)
        start, bound = self._count(start_text), self._count(bound_text)
        if start is None or bound is None:
            missing = bound_text if bound is None else start_text
            return Decision(None, f"`{header}`: `{missing}` is no module value or literal",
                            (missing,))
        runs = max(bound - start, 0)
        return Decision(runs > 1, f"`{header}` runs {runs} time{'s' * (runs != 1)} "
                        f"({bound_text} = {bound})", count=runs)

    def _count(self, text: str) -> int | None:
        if re.fullmatch(r"\d+", text):
            return int(text)
        got = self.facts.ints(text)
        return got[0] if got is not None and len(got) == 1 else None

    def decide(self, condition: str) -> Decision:
        if not condition.strip():
            return Decision(True, "unconditional")
        self.unknown = []
        value = self.test(_normalise(condition))
        if value is None:
            deps = tuple(dict.fromkeys(self.unknown)) or (condition,)
            return Decision(None, "depends on " + "; ".join(deps), deps)
        return Decision(value, self._reason(condition, value))

    def _reason(self, condition: str, value: bool) -> str:
        choice = _CHOSEN.search(condition)
        case = _CASE.search(condition)
        if choice is None and case is not None and case.group(1).startswith(sdp.ENUM + "::"):
            choice = case  # an enum chosen by a predicate of its own (walk/sdp.py)
        if choice:
            enum = choice.group(1).split("::")[0]
            chosen, why = self.facts.choices.get(enum, (None, ""))
            if chosen and why:
                return f"{'' if value else 'not '}taken: {enum}::{chosen} chosen ({why})"
        return f"{condition} is {'true' if value else 'false'} for {self.facts.setting.label()}"

    # -------------------------------------------------------------- expressions

    def test(self, text: str) -> bool | None:
        text = text.strip()
        while _wrapped(text):
            text = text[1:-1].strip()
        parts = split_top(text, "||")
        if len(parts) > 1:
            return _or(self.test(p) for p in parts)
        parts = split_top(text, "&&")
        if len(parts) > 1:
            return _and([self.test(p) for p in parts])
        if text.startswith("case ") or " / case " in text:
            return self.case(text)
        is_ternary, arm = self.picked_arm(text)
        if is_ternary:  # `c ? a : b`: the arm the condition picks
            return None if arm is None else self.test(arm)
        m = _EQ_CHOSEN.fullmatch(text)
        if m:
            return self.case(f"case {m.group(1)}")
        if text.startswith("!") and not text.startswith("!="):
            return _not(self.test(text[1:]))
        compared = self.compare(text)
        if compared is not _NOT_A_COMPARISON:
            return compared  # type: ignore[return-value]
        value = self.atom(text)
        if value is None:
            return None
        if isinstance(value, (bool, int, float)):
            return bool(value)
        self.unknown.append(text)
        return None

    def compare(self, text: str) -> object:
        depth = 0
        for i, ch in enumerate(text):
            if ch in "([":
                depth += 1
            elif ch in ")]":
                depth -= 1
            elif depth == 0:
                m = _COMPARE.match(text, i)
                if m and not (text[i] in "<>" and _template_angle(text, i)):
                    op = m.group(1)
                    left, right = text[:i].strip(), text[m.end():].strip()
                    return _cmp(self.value(left), self.value(right), op)
        return _NOT_A_COMPARISON

    def picked_arm(self, text: str) -> tuple[bool, str | None]:
        """For `c ? a : b` at the top level of `text`: (True, the arm `c` picks, or None when
        `c` is undecided); (False, None) for any other text."""
        arms = ternary(text)
        if arms is None:
            return False, None
        picked = self.test(arms[0])
        return True, None if picked is None else (arms[1] if picked else arms[2])

    def value(self, text: str) -> object:
        text = text.strip()
        while _wrapped(text):
            text = text[1:-1].strip()
        is_ternary, arm = self.picked_arm(text)
        if is_ternary:
            return None if arm is None else self.value(arm)
        if re.fullmatch(r"-?\d+", text):
            return int(text)
        if re.fullmatch(r"-?\d+\.\d*", text):
            return float(text)
        m = _SCALAR_AS_NUMBER.fullmatch(text)
        if m:  # `0.toComplexDouble()`: a Scalar bound to a literal, read as a number
            return float(m.group(1))
        for op in ("+", "-"):
            parts = split_top(text, f" {op} ")
            if len(parts) == 2:
                a, b = self.value(parts[0]), self.value(parts[1])
                if isinstance(a, int) and isinstance(b, int):
                    return a + b if op == "+" else a - b
                return None
        value = self.atom(text)
        if value is None:
            return None
        return value

    def case(self, text: str) -> bool | None:
        labels = re.findall(r"case (\w+(?:::\w+)+)", text)
        if not labels:
            return True  # `default:`
        enum = labels[0].split("::")[0]
        chosen, why = self.facts.choices.get(enum, (None, ""))
        if chosen is None:
            # a predicate-chosen enum says what its choice depends on (walk/sdp.py)
            self.unknown.append(why if enum == sdp.ENUM and why
                                else f"which {enum} the selector returns")
            return None
        names = [label.split("::", 1)[1] for label in labels]
        return chosen in names

    # -------------------------------------------------------------- atoms

    def atom(self, text: str) -> object:
        """The value of one atom, or None (recorded as unknown)."""
        found = self._atom(text.replace(" ", ""))
        if found is None:
            self.unknown.append(text)
        return found

    def _atom(self, a: str) -> object:
        a = a.lstrip("*").replace("->", ".")
        a = re.sub(r"^params\.", "", a)
        a = re.sub(r"\binput_\b", "input", a)
        m = re.fullmatch(r"at::symint::size<\w+>\((\w+),(-?\d+)\)", a)
        if m:
            a = f"{m.group(1)}.size({m.group(2)})"
        for read in (_constant, self._runtime_value, self._tensor_property, self._tensor_value,
                     self._setting_value, self._module_value, self._predicate):
            found = read(a)
            if found is not None:
                return found
        return None

    # Each reader below answers for one kind of atom, or None when the atom is not its kind
    # (or it cannot tell).

    def _tensor_property(self, a: str) -> object:
        """`x.is_cuda()`, `x.is_contiguous()`, `x.defined()`: what a layer's dense, strided
        tensors on the setting's device answer; a gradient's contiguity from the setting's
        loss (LayerFacts.grad_contiguous)."""
        f, s = self.facts, self.facts.setting
        m = re.fullmatch(r"(\w+)\.(?:device\(\)\.)?(is_\w+)\(\)", a)
        if m:
            what = m.group(2)
            if what in _DEVICE_OF:
                return s.backend == _DEVICE_OF[what]
            if what in _PLAIN_FALSE:
                return False
            if what in ("is_contiguous", "is_contiguous_or_false", "is_non_overlapping_and_dense"):
                return f.is_contiguous(m.group(1))
            if what == "is_floating_point":
                return True
        m = re.fullmatch(r"(\w+)\.is_contiguous\((?:at::|c10::)?MemoryFormat::(\w+)\)", a)
        if m:
            return m.group(2) == "Contiguous" and f.is_contiguous(m.group(1))
        m = re.fullmatch(r"is_contiguous_in_any_format\((\w+)\)", a)
        if m:
            return f.is_contiguous(m.group(1))
        m = re.fullmatch(r"(\w+)\.(defined|has_value)\(\)", a)
        if m:
            if m.group(1) in ("bias", "bias_opt", "bias_sizes_opt", "grad_bias"):
                # a kernel's grad_bias is allocated when output_mask[2] asks for it: the bias
                # requires grad exactly when the layer has one
                return f.has_bias
            given = f.attrs.get(m.group(1).rstrip("_"), UNKNOWN)
            if given is False or hasattr(given, "shape"):
                # an optional tensor the call passed (`attn_mask_`): None is False
                return given is not False
            if m.group(1) in _TENSORS or m.group(1).startswith("grad_output"):
                return True  # the gradient of a layer's output reaches its backward
            if m.group(1) == "train":
                return True
        if re.fullmatch(r"(?:at::)?Tensor\(\)\.defined\(\)", a):
            return False  # a Tensor declared without a value (`at::Tensor result, unused;`)
        if re.fullmatch(r"\w+\._fw_grad\(\d*\)\.defined\(\)", a):
            return False  # no forward-mode AD in a plain forward/backward
        if re.fullmatch(r"(\w+)\.layout\(\)", a):
            return "kStrided"
        if re.fullmatch(r"(\w+)\.suggest_memory_format\(\)", a):
            return "Contiguous"
        if re.fullmatch(r"(.+)\.requires_grad\(\)", a):
            return s.grad  # as for a layer's tensors: `weight.t().requires_grad()` too
        return None

    def rank_of(self, expr: str) -> int | None:
        """The rank of a tensor expression of a kernel body: a tensor the call passed (its
        shape), the layer's input, a view that keeps the rank (`weight.t()`, `x.mT()`,
        `MaybeOwned<Tensor>::borrowed(x)`, `*x`), or the arm of `c ? a : b` the condition
        picks."""
        expr = expr.strip()
        while _wrapped(expr):
            expr = expr[1:-1].strip()
        is_ternary, arm = self.picked_arm(expr)
        if is_ternary:
            return None if arm is None else self.rank_of(arm)
        m = re.fullmatch(r"(?:c10::)?MaybeOwned<(?:at::)?Tensor>::(?:borrowed|owned)\((.*)\)|"
                         r"\*(.+)", expr)
        if m:
            return self.rank_of(m.group(1) or m.group(2))
        m = re.fullmatch(r"(.+?)(?:\.|->)(?:t|mT|mH|conj|resolve_conj|resolve_neg|contiguous|"
                         r"clone|transpose|swapaxes|expect_contiguous)\([^()]*\)", expr)
        if m:
            return self.rank_of(m.group(1))
        m = re.fullmatch(r"(.+?)(?:\.|->)unsqueeze\(-?\d+\)", expr)
        if m:
            inner = self.rank_of(m.group(1))
            return None if inner is None else inner + 1
        if re.fullmatch(r"\w+", expr):
            name = expr.removesuffix("_opt").rstrip("_")
            shape = getattr(self.facts.attrs.get(name), "shape", None)
            if isinstance(shape, tuple):
                return len(shape)  # a tensor the call passed (inputs.TensorAttr)
            if name == "bias" and self.facts.has_bias:
                return 1  # a module's bias: one value per output feature
            if expr in _TENSORS:
                return self.facts.rank
        return None

    def _tensor_value(self, a: str) -> object:
        """Ranks, sizes, element counts and dtypes of the layer's input."""
        f, s = self.facts, self.facts.setting
        m = _IS_SAME.fullmatch(a)
        if m and m.group(1) == m.group(2):
            return True  # `self.is_same(result)` where the call bound both to one tensor
        m = re.fullmatch(r"(.+)\.(?:dim|ndimension)\(\)", a)
        if m and not re.fullmatch(r"\w+", m.group(1)):
            return self.rank_of(m.group(1))  # `weight.t().dim()`, `(c ? a : b).dim()`
        m = re.fullmatch(r"(\w+)\.(?:dim|ndimension)\(\)", a)
        if m:
            shape = getattr(f.attrs.get(m.group(1).rstrip("_")), "shape", None)
            if isinstance(shape, tuple):
                return len(shape)  # a tensor the call passed: its own rank
        if m and m.group(1) in _TENSORS:
            return f.rank
        if m and m.group(1) == "bias" and f.has_bias:
            return 1  # a module's bias parameter is one value per output feature
        m = re.fullmatch(r"(\w+)\.(?:sym_)?(?:numel)\(\)", a)
        if m and m.group(1) in _OUTPUTS and f.output_shape is not None:
            return _numel(f.output_shape)  # `result.numel()` of a cat: what it returns
        if m and m.group(1) in _TENSORS:
            return _numel(f.input_shape)
        if m and m.group(1) == "iter" and f.input_shape and all(d > 0 for d in f.input_shape):
            # a TensorIterator over tensors the layer computes on (`iter.numel()` of a
            # reduction's `make_reduction`): not empty when its input is not
            return POSITIVE
        m = re.fullmatch(r"(\w+)\.(?:sym_)?size\((-?\d+)\)", a) or re.fullmatch(
            r"(\w+)\.(?:sym_)?sizes\(\)\[(-?\d+)\]", a)
        if m and m.group(1) in ("input", "self"):
            return f.input_size(int(m.group(2)))
        m = re.fullmatch(r"(\w+)\.(?:sym_)?size\((\w+)\)", a)
        if m and m.group(1) in _TENSORS and f.input_shape and all(
                d > 0 for d in f.input_shape):
            # one size of a tensor the layer computes on: a module's tensors are not empty
            # when its input is not
            return POSITIVE
        m = re.fullmatch(r"(\w+)\.scalar_type\(\)", a)
        if m and m.group(1) in _TENSORS:
            return _DTYPE_SYMBOL.get(s.dtype)
        if re.fullmatch(r"(?:at::|c10::)?is(?:Complex|QInt|Bits)Type\(.*\)", a):
            return False
        if re.fullmatch(r"(?:at::|c10::)?isFloatingType\(.*\)", a):
            return True
        if re.fullmatch(r"(?:at::)?(?:isTensorSubclassLike|areAnyTensorSubclassLike|"
                        r"areAnyOptionalTensorSubclassLike)\(.*\)", a):
            return False  # an eager run on torch.Tensor: no tensor subclass
        return None

    def _setting_value(self, a: str) -> object:
        """The switches and the mode of the setting."""
        f, s = self.facts, self.facts.setting
        if re.fullmatch(r"(?:at::)?globalContext\(\)\.userEnabledMkldnn\(\)", a):
            return s.mkldnn
        if re.fullmatch(r"(?:at::)?globalContext\(\)\.userEnabledCuDNN\(\)", a):
            return s.cudnn
        if re.fullmatch(r"(?:at::)?globalContext\(\)\.userEnabledNNPACK\(\)", a):
            return True  # torch.backends.nnpack's switch: on unless set off (Context.h)
        if a in ("cudnn_enabled",):
            return s.cudnn
        if a in ("benchmark", "deterministic"):
            return False
        if a == "need_backward":
            # _select_conv_backend's argument: `GradMode::is_enabled() && (input.requires_grad()
            # || weight.requires_grad() ...)` from _convolution, `true` from the backward; a
            # layer's weight requires grad, so it is the grad mode
            return s.grad
        if a in ("train", "training", "train.value()"):
            return s.training
        if a in f.call_values:
            return f.call_values[a]  # `dim0 == dim1` of transpose(x, 1, 0)
        if f"arg:{a}" in f.attrs:
            return f.attrs[f"arg:{a}"]  # a parameter of the operator the Python code calls
        if re.fullmatch(r"static_cast<ideep::rnn_kind>\(\w+\)|(?:rnn\.)?mode", a) and \
                isinstance(f.attrs.get("mode"), str):
            # the RNN kind a oneDNN kernel is given (ideep::rnn_kind::LSTM from lstm_mkldnn)
            # is the one the module's `mode` (RNNBase: LSTM, GRU, RNN_TANH, RNN_RELU) chose
            # its _VF function by
            return f.attrs["mode"]
        m = re.fullmatch(r"(\w+)\[(\d+)\]\.(?:sym_)?size\((-?\d+)\)", a)
        listed = f.attrs.get(f"arg:{m.group(1)}") if m else None
        if m and isinstance(listed, tuple):
            return _size_of(listed, int(m.group(2)), int(m.group(3)))
        if re.fullmatch(r".*\.unsafeGetTensorImpl\(\)\.has_symbolic_sizes_strides\(\)", a):
            return False  # eager tensors have concrete sizes (no torch.compile tracing)
        m = re.fullmatch(r"(?:at::)?cudnn_is_acceptable\(\w+\)", a)
        if m:
            return f.cudnn_acceptable()
        if a in ("k", "input_dim", "dim", "ndim"):
            return f.rank
        return None

    def _module_value(self, a: str) -> object:
        """The layer's evaluated constructor values (groups, p, output_size, bias)."""
        f = self.facts
        if a in ("transposed",):
            return f.transposed()
        if a == "bias_defined":
            return f.has_bias
        if a == "is_batched":
            # batchify (Convolution.cpp): batched when the input has one dimension more than
            # the unbatched form, C + the spatial dims of the kernel
            kernel = f.ints("kernel_size")
            if kernel is None or f.rank is None:
                return None
            spatial = len(kernel) if len(kernel) > 1 else f.rank - 2
            return f.rank == spatial + 2
        if a in ("groups", "p", "eps", "momentum", "inplace"):
            value = f.attr(a)
            return value if isinstance(value, (bool, int, float)) else None
        m = re.fullmatch(r"(\w+)\[(\d+)\]", a)
        if m and m.group(1) in f.attrs and f.ints(m.group(1)) is not None:
            # a layer's int-list argument passed down unchanged (kernel_size[0], stride[1],
            # output_size[0]); one value stands for every dimension
            sizes = f.ints(m.group(1))
            i = int(m.group(2))
            return sizes[i] if sizes and i < len(sizes) else (
                sizes[0] if sizes and len(sizes) == 1 else None)
        m = re.fullmatch(r"output_mask\[(\d+)\]", a)
        if m:
            return f.has_bias if m.group(1) == "2" else True
        return None

    def _predicate(self, a: str) -> object:
        """A predicate whose definition was read (ConvParams::use_mkldnn...), evaluated."""
        f = self.facts
        m = re.fullmatch(r"(\w+)\([^()]*(?:\([^()]*\)[^()]*)*\)", a)
        if not m:
            return None
        if m.group(1) == "use_mkldnn" and a.count(",") == 2:
            return f.rnn_use_mkldnn()  # RNN.cpp's use_mkldnn(input, params, hx)
        predicate = {"use_mkldnn": f.use_mkldnn, "use_cudnn": f.use_cudnn,
                     "is_depthwise": f.is_depthwise, "use_miopen": f.use_miopen,
                     "use_mps": f.use_mps, "use_cudnn_depthwise": f.use_cudnn_depthwise,
                     "is_dilated": f.is_dilated, "is_strided": f.is_strided,
                     "is_fused_kernel_acceptable": f.fused_dropout,
                     "use_nnpack": f.use_nnpack,
                     "use_xnnpack": lambda: False,
                     # compiled only for ARM NEON / RISC-V vector builds; false on x86-64
                     "use_cpu_depthwise3x3_winograd": lambda: False,
                     # ConvUtils.h (in the wheel): channels-last only when the input or
                     # weight is channels-last; a model's tensors are contiguous
                     "thnn_conv_use_channels_last": lambda: False,
                     "is_output_padding_big": lambda: False}.get(m.group(1))
        if predicate is not None:
            return predicate()
        if m.group(1) == "is_mixed_type":
            # ATen/native/cpu/mixed_data_type.h (in the wheel): true when the first defined
            # parameter's dtype is not the input's; a layer's parameters, buffers and input
            # all have the setting's dtype
            return False
        if m.group(1) == "_nnpack_available":
            return _fact("CPU", "nnpack_available")
        if m.group(1) == "parseLinearFlatten3d":
            return _fact(self.facts.setting.backend, "linear_flatten_3d")
        return None

    def _runtime_value(self, a: str) -> object:
        """What the setting says of the running process: the device a tensor is on, grad
        mode, and that tensors computed from a non-empty input are non-empty."""
        f, s = self.facts, self.facts.setting
        if re.fullmatch(r"\w*device_type|\w+\.device\(\)\.type\(\)", a):
            return s.backend  # `query_device_type = query_.device().type()`
        m = re.fullmatch(r"TORCH_GUARD_OR_FALSE\((\w+)\.sym_numel\(\)\.sym_eq\(0\)\)", a)
        if m and f.input_shape is not None:
            return 0 in f.input_shape
        # one size of a list of sizes (`shape[0]` of `sizes[i]` in cat_tensors_backward):
        # a size of a tensor computed from a non-empty input
        m = re.fullmatch(r"TORCH_GUARD_OR_FALSE\((\w+)\[\w+\]\.sym_eq\(0\)\)", a)
        if m and f.input_shape is not None and 0 not in f.input_shape:
            return False
        if re.fullmatch(r"(?:at::|c10::)?GradMode::is_enabled\(\)", a):
            return s.grad and not f.in_backward
        if f.in_backward:
            # a node's incoming gradients: `grad` (`grads[0]`) is defined for a node on the
            # taken path; an operator's other outputs (native_group_norm's mean and rstd) are
            # taken as read by nothing that requires grad, so their gradients are undefined
            # (the kernels keep only the first: `std::get<0>(at::native_group_norm(...))`)
            m = re.fullmatch(r"grads\[(\d+)\]\.defined\(\)|grad\.defined\(\)", a)
            if m:
                return m.group(1) in (None, "0")
        if re.fullmatch(r"(?:at::)?get_num_threads\(\)", a):
            # the intra-op pool has one thread per core (BUILD_FACTS multithreaded)
            return AtLeast(2) if _fact(s.backend, "multithreaded") else 1
        return None


# Numeric constants of the wheel's ATen headers that kernel conditions compare with.
_HEADER_CONSTANTS = {
    "at::internal::GRAIN_SIZE": 32768,  # ATen/TensorIterator.h: constexpr int64_t GRAIN_SIZE
}


def _constant(a: str) -> object:
    """`true`, `c10::kStrided`, `kFloat`: a literal or a named constant."""
    if a in ("true", "false"):
        return a == "true"
    if a in _HEADER_CONSTANTS or f"at::{a}" in _HEADER_CONSTANTS:
        return _HEADER_CONSTANTS.get(a, _HEADER_CONSTANTS.get(f"at::{a}"))
    if "::" in a and "(" not in a and "." not in a:
        name = a.rsplit("::", 1)[-1]  # a constant: c10::kStrided -> kStrided
        return _DEVICE_CONSTANTS.get(name, name)  # DeviceType::CUDA, c10::kCUDA: CUDA
    if re.fullmatch(r"k[A-Z]\w*", a):
        return _DEVICE_CONSTANTS.get(a, a)  # as c10 names them: kSparseCsr, kFloat
    return None


_NOT_A_COMPARISON = object()


def _template_angle(text: str, i: int) -> bool:
    """`size<T>(`, `static_cast<ideep::rnn_kind>(`: an angle bracket of a template argument
    list, not a comparison."""
    if text[i] == "<":
        return bool(re.match(r"<\s*[\w:]+\s*>\s*\(", text[i:]))
    return bool(re.search(r"<\s*[\w:]+\s*$", text[:i])) and text[i + 1:i + 2] == "("


# `const_cast<Tensor&>(result)` and `(*b_self)` (a MaybeOwned<Tensor> dereferenced) are the
# tensor itself: a kernel's arguments reach its helpers in these forms (addmm_out_cpu's
# `addmm_impl_cpu_(const_cast<Tensor&>(result), *b_self, ...)`)
_WRAPPED_CAST = re.compile(r"(?<![\w\])])\(const_cast<[\w:&\s]+>\((\w+)\)\)")
_CAST = re.compile(r"\bconst_cast<[\w:&\s]+>\((\w+)\)")
_IS_SAME = re.compile(r"(\w+)\.is_same\(\s*\(?(\w+)\)?\s*\)")
_DEREF = re.compile(r"(?<![\w\])])\(\*(\w+)\)")


def _normalise(condition: str) -> str:
    text = " ".join(condition.split())
    text = _CAST.sub(r"\1", _WRAPPED_CAST.sub(r"\1", text))
    return _DEREF.sub(r"\1", text)


# ------------------------------------------------------------------ enum selectors


@dataclass(frozen=True)
class Arm:
    selector: str  # _select_conv_backend
    line: int
    label: str  # ConvBackend::Cudnn
    condition: str


def read_arms(conditions: Iterable[str]) -> list[Arm]:
    """The `return E::X;` arms recorded in `[chosen in ...]` annotations, in source order."""
    found: dict[tuple[str, int], Arm] = {}
    for condition in conditions:
        for m in _CHOSEN.finditer(condition):
            start = m.end()
            depth, i = 1, start
            while i < len(condition) and depth:
                depth += {"[": 1, "]": -1}.get(condition[i], 0)
                i += 1
            for arm in condition[start:i - 1].split("; or "):
                am = _ARM.match(arm.strip())
                if am:
                    key = (am.group(1), int(am.group(2)))
                    found[key] = Arm(am.group(1), int(am.group(2)), m.group(1),
                                     am.group(3) or "")
    return sorted(found.values(), key=lambda a: (a.selector, a.line))


def choose(arms: list[Arm], facts: LayerFacts) -> dict[str, tuple[str | None, str]]:
    """Per enum: the label the selector returns for these facts (first arm that holds), or
    None with the arm that could not be decided."""
    out: dict[str, tuple[str | None, str]] = {}
    decider = Decider(facts)
    by_enum: dict[str, list[Arm]] = {}
    for arm in arms:
        by_enum.setdefault(arm.label.split("::")[0], []).append(arm)
    for enum, items in by_enum.items():
        # every arm read false: the selector returns a value no condition read names
        # (`return BatchNormBackend::Native;` at the end), so each label read is not taken
        result: tuple[str | None, str] = (
            "(another value)", "every arm read is false: "
            + ", ".join(f"{a.selector}:{a.line}" for a in items))
        for arm in items:
            d = decider.decide(arm.condition) if arm.condition else Decision(True, "")
            if d.value is None:
                result = (None, f"{arm.selector}:{arm.line} depends on "
                                f"{', '.join(d.depends_on)}")
                break
            if d.value:
                result = (arm.label.split("::", 1)[1],
                          f"{arm.selector}:{arm.line} when {arm.condition or 'always'}")
                break
        out[enum] = result
    out.setdefault(sdp.ENUM, sdp.sdp_backend(facts))
    return out
