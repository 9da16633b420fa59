"""Frozen records of the walk (layer -> Python hops -> ATen operators -> kernels) and backends.

Kept apart from model.py so the walk can grow without touching the core records; like them it
imports nothing from docgen, holds no logic and refers to other objects by name only.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from docgen.core.records import Diagnostic, Location

# The note of a node reached by `native::k(...)` in a kernel body: a plain C++ call.
DIRECT_NOTE = ("direct C++ call of the kernel function, no dispatcher hop (a profiler shows "
               "no aten:: entry for it)")


class Reached(StrEnum):
    """How an operator was reached from its parent."""

    BINDING = "binding"  # the Python binding the functional call ends in
    YAML = "yaml"  # native_functions.yaml (structured_delegate)
    UPSTREAM = "upstream C++"  # a call read in a kernel body of the PyTorch source tree
    DECOMPOSITION = "decomposition"  # a composite kernel's body (also from C++ source)


@dataclass(frozen=True)
class FlowExpr:
    """A small, serialisable expression: kind is name, attr, const, compare, not, and, or,
    call or other; `text` is the source text, `parts` the operands, `op` an operator."""

    kind: str
    text: str
    parts: tuple[FlowExpr, ...] = ()
    op: str = ""


@dataclass(frozen=True)
class Condition:
    """A branch condition on the way to a call; `holds` is the side the call sits on."""

    test: FlowExpr
    line: int
    holds: bool
    assigned: int = -1  # local assignments made before the test (FunctionFlow.assigned)


@dataclass(frozen=True)
class CallSite:
    """One call in a function body, with the conditions that lead to it."""

    callee: str  # dotted text as written (`F.conv2d`, `self._conv_forward`, `torch.relu_`)
    line: int
    args: tuple[FlowExpr, ...]
    kwargs: tuple[tuple[str, FlowExpr], ...]
    conditions: tuple[Condition, ...]
    is_override_path: bool = False  # under a `has_torch_function...` guard
    assigned: int = 0  # local assignments made before the call (FunctionFlow.assigned)


@dataclass(frozen=True)
class FunctionFlow:
    """The calls of one function or method, and its parameters with their default texts."""

    qualname: str
    path: str
    line: int
    params: tuple[tuple[str, FlowExpr | None], ...]
    calls: tuple[CallSite, ...]
    # `name = value` statements in order, each with the conditions it runs under; value None
    # where the name gets a value the walk does not read (tuple unpacking)
    assigned: tuple[tuple[str, FlowExpr | None, tuple[Condition, ...]], ...] = ()
    # a body that is one `return <literal>` (docstring aside): what every call returns
    # (`InstanceNorm2d._get_no_batch_dim` returns 3)
    returns: FlowExpr | None = None


@dataclass(frozen=True)
class ModuleFlow:
    """Module-level facts the walk follows: function bodies, `x = f(...)` assignments,
    class-level aliases (`__call__ = _wrapped_call_impl`) and `__getattr__` forwarders."""

    name: str
    path: str
    functions: tuple[FunctionFlow, ...]
    assignments: tuple[tuple[str, CallSite], ...]
    class_aliases: tuple[tuple[str, str, int], ...]  # (Class.attr, target text, line)
    forwarders: tuple[tuple[str, int], ...]  # (dotted target of a __getattr__ module, line)


@dataclass(frozen=True)
class Branch:
    """A condition on a Python hop and what the layer's arguments decide about it."""

    condition: str
    location: Location
    taken: bool | None  # None: not decided by the constructor arguments


@dataclass(frozen=True)
class PyHop:
    """One step of the Python route; children are the next steps (several when branching)."""

    name: str  # qualified name, or the binding (`torch._C._VariableFunctions.conv2d`)
    kind: str  # call, method, function, alias, dispatch, binding, forwarder, stop
    location: Location | None
    via: str  # the call or assignment as written
    branches: tuple[Branch, ...] = ()
    is_pruned: bool = False
    note: str = ""
    children: tuple[PyHop, ...] = ()


@dataclass(frozen=True)
class DispatchEntry:
    key: str
    kernel: str


@dataclass(frozen=True)
class OperatorDoc:
    """One native_functions.yaml entry."""

    name: str  # conv2d, or conv2d.padding
    schema: str
    location: Location
    dispatch: tuple[DispatchEntry, ...]
    dispatch_origin: str  # explicit, implicit (CompositeImplicitAutograd), structured_delegate
    structured_delegate: str | None = None
    autogen: tuple[str, ...] = ()
    python_module: str | None = None
    tags: tuple[str, ...] = ()
    variants: tuple[str, ...] = ("function",)
    is_manual_binding: bool = False  # manual_cpp_binding: a hand-written C++ method


@dataclass(frozen=True)
class KernelChoice:
    """What the dispatcher would run for `backend`: the key that wins and its kernel."""

    backend: str
    key: str | None
    kernel: str | None
    rule: str  # which resolution step chose it, or why none did


@dataclass(frozen=True)
class BackwardCall:
    """An operator a derivative formula's C++ helper calls (`mm_mat1_backward` -> aten::mm),
    read in the body of the helper in torch/csrc/autograd/FunctionsManual.cpp."""

    helper: str  # mm_mat1_backward
    operator: str  # aten::mm
    location: Location  # where the call is written in the helper's body
    condition: str
    source: str  # repository@commit the body was read at
    root: str = ""  # the helper the formula names, whose body (or a callee's) makes the call


@dataclass(frozen=True)
class DerivativeDoc:
    """The backward formulas of an operator from derivatives.yaml."""

    name: str  # the overload whose entry holds the formulas
    location: Location
    formulas: tuple[tuple[str, str], ...]  # (inputs, formula)
    inherited_from: str | None = None  # an in-place op using its functional op's formula
    via_decomposition: bool = False
    calls: tuple[BackwardCall, ...] = ()  # what the formulas' C++ helpers call


@dataclass(frozen=True)
class UpstreamEdge:
    """A call read in the body of a C++ kernel in the PyTorch source tree."""

    caller: str  # C++ function (kernel) name
    callee: str  # ATen operator name
    location: Location
    condition: str  # `case ConvBackend::Cudnn`, or ""
    commit: str
    repo: str = ""  # owner/name the file was read from (a fork of pytorch/pytorch, or it)
    # the kinds of the call's arguments as native_functions.yaml spells types (`int[], bool`
    # for `x.mean({-1, -2}, true)`, `?` where unknown): the overload the call reaches
    arguments: str = ""
    # the header of the innermost loop whose body the call sits in (`for (const auto& x :
    # xs)`, `while (...)`), "" when none: the call runs once per iteration
    loop: str = ""
    # the names that loop changes from one iteration to the next: its loop variable, names
    # its body assigns (`hidden = cell_(...)`) or steps (`it++`), comma-separated
    loop_changes: str = ""
    # the call as written: its argument texts, the object a method is called on (`weight`
    # in `weight.t()`), and the calling function's parameter names and local definitions
    # (name, expression), so the walk can follow what each argument is made from
    args: tuple[str, ...] = ()
    receiver: str = ""
    caller_params: tuple[str, ...] = ()
    caller_locals: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class OpNode:
    """An operator reached by the walk, with its kernels per backend and what it calls next."""

    name: str  # aten::conv2d
    operator: OperatorDoc | None
    reached: Reached
    edge: Location | None  # where the edge to it was read (upstream C++ file:line)
    condition: str
    kernels: tuple[KernelChoice, ...]
    derivative: DerivativeDoc | None
    children: tuple[OpNode, ...] = ()
    note: str = ""
    source: str = ""  # repository@commit the edge to it was read at (upstream C++ edges)
    read_in: str = ""  # the C++ function (kernel or helper) whose body the edge was read in
    branches: tuple[Branch, ...] = ()  # Python conditions on the way to a binding's operator
    loop: str = ""  # the loop the edge to it was read in (UpstreamEdge.loop), "" when none
    loop_changes: str = ""  # what that loop changes per iteration (UpstreamEdge.loop_changes)
    # the call that reached it as written (UpstreamEdge.args, receiver, caller_params,
    # caller_locals)
    call_args: tuple[str, ...] = ()
    call_receiver: str = ""
    caller_params: tuple[str, ...] = ()
    caller_locals: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class OperatorInput:
    """What one call of a functional step got: its first tensor input's shape and layout and
    the values passed, by the operator's parameter names (`bias`: False when None)."""

    shape: tuple[int, ...] | None
    contiguous: bool | None
    attrs: tuple[tuple[str, object], ...] = ()
    output_shape: tuple[int, ...] | None = None  # the shape of what the call returns


@dataclass(frozen=True)
class LayerWalk:
    """One layer of the model (or a tensor op of its forward) walked to the kernels."""

    path: str  # features.0, or forward:torch.flatten
    type_text: str  # nn.Conv2d as written
    qualname: str | None
    arguments: tuple[tuple[str, str], ...]  # constructor arguments (literal text)
    location: Location
    python: tuple[PyHop, ...]
    operators: tuple[OpNode, ...]
    stopped: str = ""  # why the Python walk stopped early, when it did
    taken: Any = None  # taken.Taken for the report's setting (None: no setting given)
    input_shape: tuple[int, ...] | None = None
    attrs: tuple[tuple[str, object], ...] = ()  # the values its branches were decided from
    grad_flow: Any = None  # engine.GradFlow: what the autograd engine adds to its backward
    # per top operator of a functional walk: the input its call got (same order)
    operator_inputs: tuple[OperatorInput, ...] = ()


@dataclass(frozen=True)
class WalkReport:
    model: str
    torch_version: str
    layers: tuple[LayerWalk, ...]
    backends: tuple[str, ...]
    resolution_order: tuple[tuple[str, Location], ...]
    upstream: str  # where the C++ edges came from
    diagnostics: tuple[Diagnostic, ...] = ()
    setting: Any = None  # setting.Setting the taken paths are decided for
    # other settings decided on the same walk: (Setting, Taken per layer, in layer order)
    views: tuple[tuple[Any, tuple[Any, ...]], ...] = ()
    versions: tuple[tuple[str, str], ...] = ()  # distribution -> version read (for links)


@dataclass(frozen=True)
class DispatchKeyDoc:
    name: str
    group: str  # backend component, functionality, per-backend functionality, alias, ...
    location: Location
    comment: str = ""


@dataclass(frozen=True)
class CoverageRow:
    """One operator AlexNet reaches: per backend key, the kernel or the fallback."""

    operator: str
    cells: tuple[KernelChoice, ...]
    needed_for: str  # forward, backward
    condition: str = ""  # when reached only under a condition read in C++ (first one seen)


@dataclass(frozen=True)
class BackendsReport:
    keys: tuple[DispatchKeyDoc, ...]
    capabilities: tuple[DispatchKeyDoc, ...]  # CPUCapability values from DispatchStub.h
    conv_backends: tuple[DispatchKeyDoc, ...]  # ConvBackend enum values from ConvUtils.h
    plug_points: tuple[DispatchKeyDoc, ...]  # PrivateUse1 helpers, convolution_overrideable
    resolution_order: tuple[tuple[str, Location], ...]
    coverage: tuple[CoverageRow, ...]
    coverage_keys: tuple[str, ...]
    diagnostics: tuple[Diagnostic, ...] = ()
    # functionality keys, highest priority first: the order the dispatcher tries them
    runtime_order: tuple[DispatchKeyDoc, ...] = ()
    build_flags: tuple[DispatchKeyDoc, ...] = ()  # AT_*_ENABLED() of ATen/Config.h
    arm_paths: tuple[DispatchKeyDoc, ...] = ()  # where KleidiAI / ACL code sits
    # per coverage key: (key, own kernels, composite, other layout only, none)
    coverage_summary: tuple[tuple[str, int, int, int, int], ...] = ()
