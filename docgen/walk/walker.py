"""The walk: each layer of the model down to ATen operators and backend kernels.

Python route (pyroute.py) -> binding -> native_functions.yaml entry -> kernel per backend
(dispatch resolution in aten.py) -> operators the kernel's C++ body calls (upstream.py) ->
backward formula (derivatives.yaml). Every hop carries the file:line it was read from.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import replace
from pathlib import Path
from typing import Any

from docgen.classes.resolve import ModuleIndex
from docgen.core.records import Location
from docgen.sources.locate import SourceSet
from docgen.walk.aten import (
    IMPLICIT,
    OPS_PY,
    find_derivative,
    read_resolution_order,
    select_kernel,
)
from docgen.walk.bodies import bodies_not_read
from docgen.walk.context import DEFAULT_BACKENDS, WalkContext, open_context
from docgen.walk.cxx_types import schema_kinds
from docgen.walk.decide import Arm, LayerFacts, choose, read_arms
from docgen.walk.engine import GradFlow
from docgen.walk.functional import Leaf, leaves
from docgen.walk.glue import glue_facts, glue_hops
from docgen.walk.inputs import FunctionalStep, LayerInput, TensorAttr, read_layer_inputs
from docgen.walk.locals import LocalsSet, load_shipped_locals
from docgen.walk.python_route import (
    LAYER_INPUT,
    TENSOR_METHODS,
    UNKNOWN,
    BindingUse,
    LayerSpec,
    TensorShape,
    class_chain,
    literal,
    module_of,
    read_layers,
    walk_call,
    walk_layer_python,
    walk_tensor_method,
)
from docgen.walk.records import (
    DIRECT_NOTE,
    BackendsReport,
    BackwardCall,
    CallSite,
    DerivativeDoc,
    FlowExpr,
    FunctionFlow,
    KernelChoice,
    LayerWalk,
    OperatorInput,
    OpNode,
    PyHop,
    Reached,
    UpstreamEdge,
    WalkReport,
)
from docgen.walk.setting import Setting, python_env
from docgen.walk.taken import METHOD, BackwardOps, Taken, decide_layer
from docgen.walk.upstream import AUTOGRAD_PREFIX, CALL_PREFIX, METHOD_PREFIX

MAX_OP_DEPTH = 16  # RNN.cpp: kernel -> 6 template / member / functor hops -> operators
MAX_HELPER_DEPTH = 3
NATIVE_PREFIX = "native::"
HELPER_NOTE = "C++ helper, not an operator"
ON_BUFFER = "called on a buffer, which does not require grad: autograd records nothing"
NO_GRAD_READS = ("reads only tensors that require no grad (made by a factory or a "
                 "comparison): autograd records nothing")


# ---------------------------------------------------------------- operators and kernels




def choose_overload(ctx: WalkContext, use: BindingUse) -> str | None:
    """The native_functions.yaml overload a binding call reaches, as Python's argument
    parser picks it: the overloads whose parameters take the call (how many positional
    arguments, the keyword names, every required parameter given, the literal values'
    types), the plain overload first; `x.mean(dim=1)` is `mean.dim`, `x.mean()` is `mean`.
    Without a call, or when none fits, the plain overload, else the first."""
    overloads = [op for op in ctx.table.overloads(use.name)
                 if not op.name.endswith((".out", "_out")) and "Dimname" not in op.schema]
    if use.namespace.endswith("._nn"):
        overloads = [op for op in overloads if op.python_module == "nn"] or overloads
    plain = next((op for op in overloads if "." not in op.name), None)
    if use.call is not None:
        method = use.namespace == TENSOR_METHODS
        fitting = [op for op in overloads if _takes(op.schema, use.call, method)
                   and _accepts(op.schema, use.call, use.values, method)]
        if fitting:
            return plain.name if plain in fitting else fitting[0].name
    if plain is not None:
        return plain.name
    return overloads[0].name if overloads else None


def _schema_parts(schema: str) -> list[tuple[str, str, bool, bool]]:
    """(type, name, has a default, keyword-only) of each parameter of a schema."""
    inner = schema.split("(", 1)[1] if "(" in schema else ""
    inner = inner.rsplit(") ->", 1)[0] if ") ->" in inner else inner.rsplit(")", 1)[0]
    out, keyword_only = [], False
    for part in inner.split(","):
        if part.strip() == "*":
            keyword_only = True
            continue
        words = part.split("=")[0].split()
        if len(words) >= 2:
            out.append((words[0], words[-1], "=" in part, keyword_only))
    return out


def _takes(schema: str, call: CallSite, method: bool) -> bool:
    """Whether a schema's parameters take the call's arguments by count and keyword name (a
    Tensor method's receiver is `self`); a list parameter first takes several positional
    numbers (`x.view(2, 3)`)."""
    parts = _schema_parts(schema)
    if method and parts and parts[0][1] == "self":
        parts = parts[1:]
    positional = [p for p in parts if not p[3]]
    names = {p[1] for p in parts}
    keywords = {k for k, _ in call.kwargs}
    if not keywords <= names:
        return False
    if len(call.args) > len(positional) and not (
            positional and positional[0][0].rstrip("?").endswith("]")):
        return False
    given = {p[1] for p in positional[:len(call.args)]} | keywords
    return all(p[2] or p[1] in given for p in parts)


def schema_params(schema: str) -> list[tuple[str, str]]:
    """`lstm.input(Tensor input, Tensor[] hx, ...)` -> [(Tensor, input), (Tensor[], hx),
    ...]: the positional and keyword parameters, in order (`*` left out)."""
    inner = schema.split("(", 1)[1] if "(" in schema else ""
    inner = inner.rsplit(") ->", 1)[0] if ") ->" in inner else inner.rsplit(")", 1)[0]
    out = []
    for part in inner.split(","):
        words = part.split("=")[0].split()
        if len(words) >= 2:
            out.append((words[0], words[-1]))
    return out


def _accepts(schema: str, call: CallSite, values: tuple[object, ...] = (),
             method: bool = False) -> bool:
    """Whether the schema takes the call's arguments whose values are known (literals, or
    the layer's evaluated values such as `self.bias`), as the dispatcher's overload
    resolution does by type: a bool never binds a Tensor or an int parameter."""
    params = schema_params(schema)
    if method and params and params[0][1] == "self":
        params = params[1:]  # a Tensor method's arguments start after its receiver
    types = [typ for typ, _ in params]
    for i, (arg, typ) in enumerate(zip(call.args, types, strict=False)):
        value = values[i] if i < len(values) and values[i] is not UNKNOWN else literal(arg)
        if value is UNKNOWN:
            continue
        if value is None and not typ.endswith("?"):
            return False  # None binds only an optional parameter (`SymInt[]?`)
        if isinstance(value, bool) and not typ.startswith("bool"):
            return False
        if isinstance(value, int) and not isinstance(value, bool) and not typ.startswith(
                ("int", "SymInt", "Scalar", "float")):
            return False
        if isinstance(value, float) and not typ.startswith(("float", "Scalar")):
            return False
        if isinstance(value, str) and not typ.startswith("str"):
            return False
    return True


ARGUMENT_PREFIX = "arg:"
# `nograd:<schema parameter>`: the Python call passes tensors that require no grad there
# (made by a factory: `hx = (torch.zeros(...), torch.zeros(...))` in nn.LSTM's forward)
NO_GRAD_PREFIX = "nograd:"


def call_arguments(ctx: WalkContext, uses: list[BindingUse]) -> dict[str, object]:
    """`arg:<schema parameter>` -> the value the Python call passes (`arg:bidirectional` ->
    False from `self.bidirectional`), for every binding call on the route: what the C++
    kernel body's conditions on its parameters are decided from. A name two calls pass
    different values for is left out."""
    out: dict[str, object] = {}
    clash: set[str] = set()
    for use in uses:
        if use.is_pruned or use.call is None:
            continue
        name = choose_overload(ctx, use)
        op = ctx.table.find(name) if name else None
        if op is None:
            continue
        params = schema_params(op.schema)
        positional = op.schema.split("(", 1)[-1].split("*")[0].count(",") + 1
        if use.namespace == TENSOR_METHODS and params and params[0][1] == "self":
            params, positional = params[1:], positional - 1  # the values follow the receiver
        if len(use.values) > positional:
            continue  # `torch.zeros(2, 3, 20)`: sizes as varargs, not one per parameter
        given = list(zip((p for _, p in params), use.values, strict=False))
        given += list(use.keywords)
        for param, value in given:
            if _needs_no_grad(value):
                out[NO_GRAD_PREFIX + param] = True
            else:
                clash.add(NO_GRAD_PREFIX + param)  # another call may pass one that does
            if value is UNKNOWN or not isinstance(value, (bool, int, float, tuple)):
                continue  # tuples: of tensors with known sizes (`hx`, TensorShape)
            key = ARGUMENT_PREFIX + param
            if key in out and out[key] != value:
                clash.add(key)
            out[key] = value
    return {k: v for k, v in out.items() if k not in clash}


def _needs_no_grad(value: object) -> bool:
    """A tensor made by a factory without `requires_grad=`, or a tuple of them."""
    items = value if isinstance(value, tuple) else (value,)
    return bool(items) and all(isinstance(v, TensorShape) and not v.requires_grad
                               for v in items)


def operator_node(ctx: WalkContext, name: str, reached: Reached, *, edge: Location | None = None,
                  condition: str = "", seen: frozenset[str] = frozenset(), depth: int = 0,
                  note: str = "", source: str = "") -> OpNode:
    """The operator `name`, its kernel per backend, its derivative and what its kernels call
    (upstream C++ edges), recursively."""
    op = ctx.table.find(name)
    qualified = f"aten::{name}"
    if op is None:
        return OpNode(qualified, None, reached, edge, condition, (), None, (),
                      note or "not in native_functions.yaml of the torch version read",
                      source)
    kernels = tuple(select_kernel(ctx.table, op, b) for b in ctx.backends)
    derivative = find_derivative(ctx.table, op.name)
    if kernels and all(k.key == IMPLICIT for k in kernels):
        # Autograd sees the operators the composite kernel calls; a formula of this op (if
        # any) serves only backends with a kernel of their own (MPS, NestedTensor...).
        derivative = DerivativeDoc(
            derivative.name if derivative else op.name,
            derivative.location if derivative else op.location,
            derivative.formulas if derivative else (),
            derivative.inherited_from if derivative else None, via_decomposition=True)
    elif derivative is not None:
        calls = backward_calls(ctx, derivative)
        if calls:
            derivative = replace(derivative, calls=calls)
    children: list[OpNode] = []
    if depth < MAX_OP_DEPTH and op.name not in seen:
        signature = schema_kinds([t for t, _ in schema_params(op.schema)])
        children = _callees(ctx, kernels, seen | {op.name}, depth, signature)
    return OpNode(qualified, op, reached, edge, condition, kernels, derivative, tuple(children),
                  note, source)


_FORMULA_CALL = re.compile(r"(?<![\w.])([a-z_][a-z0-9_]*)\s*\(")


def backward_calls(ctx: WalkContext, derivative: DerivativeDoc) -> tuple[BackwardCall, ...]:
    """The operators the C++ helpers a derivative formula calls (`mm_mat1_backward(grad,
    ...)`) call in their bodies in FunctionsManual.cpp, when those bodies were read."""
    out: list[BackwardCall] = []
    seen: set[str] = set()
    for inputs, formula in derivative.formulas:
        if inputs.startswith("result"):
            continue  # a forward-mode (jvp) formula, not the backward
        for name in dict.fromkeys(_FORMULA_CALL.findall(formula)):
            out.extend(replace(call, root=name) for call in _helper_calls(ctx, name, seen, 0))
    return tuple(dict.fromkeys(out))


def _helper_calls(ctx: WalkContext, name: str, seen: set[str], depth: int
                  ) -> list[BackwardCall]:
    key = AUTOGRAD_PREFIX + name
    if key in seen or depth > MAX_HELPER_DEPTH:
        return []
    seen.add(key)
    out: list[BackwardCall] = []
    for edge in ctx.edges.edges.get(key, ()):
        callee = edge.callee
        if callee.startswith(CALL_PREFIX + AUTOGRAD_PREFIX):
            nested = callee.removeprefix(CALL_PREFIX + AUTOGRAD_PREFIX)
            out.extend(_helper_calls(ctx, nested, seen, depth + 1))
            continue
        if callee.startswith(METHOD_PREFIX):
            found = _method_operator(ctx, _operator_name(ctx, callee.removeprefix(
                METHOD_PREFIX)))
        elif callee.startswith((CALL_PREFIX, NATIVE_PREFIX)):
            continue
        else:
            found = _plain_operator(ctx, _operator_name(ctx, callee))
        if found is not None:
            out.append(BackwardCall(name, f"aten::{found}", edge.location, edge.condition,
                                    _source(edge)))
    return out


def _plain_operator(ctx: WalkContext, name: str) -> str | None:
    if ctx.table.find(name) is not None:
        return name
    return _cpp_overload(ctx, name)


def _cpp_overload(ctx: WalkContext, name: str, arguments: str = "") -> str | None:
    """The overload a C++ call `at::name(...)` reaches: the C++ API names out= overloads
    `name_out` / `name_outf`, so a plain call is one whose schema writes no argument
    (`_slow_conv2d_backward.output_mask`, not `.grad_input`); of those, the first in yaml
    order that takes the call's argument kinds."""
    overloads = ctx.table.overloads(name)
    if not overloads:
        return None
    fitting = [op for op in overloads if takes_arguments(op.schema, arguments)]
    overloads = fitting or overloads
    if not name.endswith("_"):
        for op in overloads:
            if "!" not in op.schema:
                return op.name
    return overloads[0].name


def _callees(ctx: WalkContext, kernels: tuple[KernelChoice, ...], seen: frozenset[str],
             depth: int, signature: str = "") -> list[OpNode]:
    """What each selected kernel calls; below a CompositeImplicitAutograd kernel that is a
    decomposition (autograd sees it), below any other kernel it runs inside the kernel."""
    out: list[OpNode] = []
    chosen: dict[str, bool] = {}
    for k in kernels:
        if k.kernel:
            chosen[k.kernel] = chosen.get(k.kernel, False) or k.key == IMPLICIT
    for kernel, implicit in chosen.items():
        out.extend(_edges_below(ctx, kernel, implicit, seen, depth, signature))
    return out


FORK_OF = "pytorch/pytorch"


def _edge_note(ctx: WalkContext, function: str, commit: str, repo: str = "") -> str:
    if not commit:
        return f"read in {function}"
    where = f"{repo}@{commit[:12]}" if repo else f"commit {commit[:12]}"
    if repo and repo != FORK_OF:
        where += f" (a fork of {FORK_OF})"
    built = ctx.torch_commit
    if built is None or built.startswith(commit) or commit.startswith(built):
        return f"read in {function} at {where}"
    return f"read in {function} at {where}, not at {built[:12]} (the wheel's)"


def _operator_name(ctx: WalkContext, callee: str) -> str:
    """`convolution_symint` (the SymInt C++ API of an operator) -> `convolution`."""
    if ctx.table.find(callee) is None and callee.endswith("_symint"):
        base = callee.removesuffix("_symint")
        if ctx.table.find(base) is not None or ctx.table.overloads(base):
            return base
    if ctx.table.find(callee) is None and callee.endswith(("_out", "_outf")):
        # `at::sum_out(result, self, dims)`: the C++ API of the out= overloads of `sum`
        # (the first in yaml order; the argument types are not read)
        base = callee.rsplit("_", 1)[0]
        outs = [op for op in ctx.table.overloads(base) if "!" in op.schema
                and op.name.split(".")[-1].endswith("out")]
        if outs:
            return outs[0].name
    return callee


def _method_operator(ctx: WalkContext, name: str, arguments: str = "") -> str | None:
    """The operator a Tensor method call names, when the yaml gives it a method variant:
    of its overloads, the first that takes the call's argument kinds (after `self`);
    `grad.new_zeros_symint(...)` (the SymInt C++ API) names `new_zeros`."""
    if name.endswith("_symint") and ctx.table.find(name) is None \
            and not ctx.table.overloads(name):
        name = name.removesuffix("_symint")
    ops = [ctx.table.find(name)] if ctx.table.find(name) else ctx.table.overloads(name)
    if arguments and "." not in name:
        ops = ctx.table.overloads(name) or ops  # `mean` names mean, mean.dim, ...
    # A manual_cpp_binding method (`x.dim()`, `x.is_contiguous()`) is hand-written C++ that
    # answers without a dispatcher call.
    methods = [op for op in ops if op is not None and "method" in op.variants
               and not op.is_manual_binding]
    fitting = [op for op in methods if takes_arguments(op.schema, arguments, skip=1)]
    chosen = fitting or methods
    return chosen[0].name if chosen else None


# what a C++ argument of one kind converts to, by the schema type's spelling (schema_kinds):
# an int64_t binds int, SymInt, float and Scalar; a double float and Scalar; braces int[]
_BINDS = {"int": ("int", "float", "Scalar"), "float": ("float", "Scalar"),
          "bool": ("bool",), "int[]": ("int[]",), "Tensor": ("Tensor",),
          "Scalar": ("Scalar",), "Tensor[]": ("Tensor[]",)}


def takes_arguments(schema: str, arguments: str, skip: int = 0) -> bool:
    """Whether the C++ function of `schema` takes a call with these argument kinds (from
    upstream.argument_kinds, `?` unknown), as C++ overload resolution picks among the
    operator's overloads: each known kind binds its parameter's type (optional or not),
    the parameters left over have defaults. `skip` leading parameters are the receiver."""
    if not arguments:
        return True
    kinds = [k.strip() for k in arguments.split(",")]
    params = schema_params(schema)[skip:]
    types = schema_kinds([t for t, _ in params]).split(", ") if params else []
    if len(kinds) > len(types):
        return False
    inner = schema.split("(", 1)[1] if "(" in schema else ""
    inner = inner.rsplit(") ->", 1)[0] if ") ->" in inner else inner.rsplit(")", 1)[0]
    defaults = ["=" in part for part in inner.split(",")
                if len(part.split("=")[0].split()) >= 2][skip:]
    if any(not has for has in defaults[len(kinds):len(types)]):
        return False
    for kind, typ in zip(kinds, types, strict=False):
        if kind == "?" or kind not in _BINDS:
            continue
        if typ.rstrip("?") not in _BINDS[kind]:
            return False
    return True


def _edges_below(ctx: WalkContext, function: str, implicit: bool, seen: frozenset[str],
                 depth: int, signature: str = "") -> list[OpNode]:
    """Operators called in the C++ body of `function` (a kernel or a C++ helper; of the
    C++ overload whose parameter kinds are `signature` where the file has several)."""
    out: list[OpNode] = []
    done: set[tuple[str, str]] = set()
    for edge in ctx.edges.calls_of(function, signature):
        callee = edge.callee
        if (callee, edge.condition) in done:
            continue
        done.add((callee, edge.condition))
        if callee.startswith(NATIVE_PREFIX):
            # `native::reshape_symint(self, shape)`: a plain C++ call of another kernel
            # function, no dispatcher hop; walked through like a helper.
            direct = _helper_node(ctx, function, callee.removeprefix(NATIVE_PREFIX), edge,
                                  implicit, seen, depth, DIRECT_NOTE)
            if direct is not None:
                out.append(direct)
            continue
        if callee.startswith(METHOD_PREFIX):
            name = _operator_name(ctx, callee.removeprefix(METHOD_PREFIX))
            callee = _method_operator(ctx, name, edge.arguments) or ""
            if not callee:
                continue  # `x.sizes()`, `x.is_cuda()`: Tensor accessors, not operators
        elif callee.startswith(CALL_PREFIX):
            callee = _operator_name(ctx, callee.removeprefix(CALL_PREFIX))
            if callee == function.removesuffix("_symint"):
                continue
            if ctx.table.find(callee) is None or _defined_beside(ctx, callee, edge) \
                    or not _fits_operator(ctx, callee, edge.arguments):
                # A local C++ helper (`multiply<inplace>(...)` in Dropout.cpp is the file's
                # template, not aten::multiply): walked through when its body calls operators.
                helper = _helper_node(ctx, function, callee, edge, implicit, seen, depth)
                if helper is not None:
                    out.append(helper)
                continue
        callee = _operator_name(ctx, callee)
        if callee == function.removesuffix("_symint") and not _other_overload(
                ctx, callee, edge.arguments, seen):
            continue  # one overload of a kernel calling another (`_convolution`)
        reached = Reached.DECOMPOSITION if implicit else Reached.UPSTREAM
        note = _edge_note(ctx, function, edge.commit, edge.repo)
        if ctx.table.find(callee) is None and ctx.table.overloads(callee):
            callee = _cpp_overload(ctx, callee, edge.arguments) or callee
        if ctx.table.find(callee) is not None:
            out.append(replace(operator_node(ctx, callee, reached, edge=edge.location,
                                             condition=edge.condition, seen=seen,
                                             depth=depth + 1, note=note,
                                             source=_source(edge)), read_in=function,
                               **_call_fields(edge)))
        elif ctx.edges.calls_of(callee) and depth < MAX_OP_DEPTH and callee not in seen:
            # A C++ function whose body was read but which is no operator of this torch
            # version (renamed or removed since the commit read): shown, and walked below.
            children = _edges_below(ctx, callee, implicit, seen | {callee}, depth + 1)
            out.append(OpNode(f"aten::{callee}", None, reached, edge.location, edge.condition,
                              (), None, tuple(children),
                              f"{note}; not an operator of torch {ctx.torch_version}",
                              _source(edge), read_in=function, **_call_fields(edge)))
    return out


def _other_overload(ctx: WalkContext, name: str, arguments: str, seen: frozenset[str]) -> bool:
    """Whether a kernel's call of its own name reaches an overload the walk is not inside,
    told by the call's argument kinds: `upsample_bilinear2d.vec`'s composite kernel calls
    `at::upsample_bilinear2d(input, osize, align_corners, scale_h, scale_w)`, the plain
    overload (five arguments; `.vec` takes four)."""
    if not arguments or (ctx.table.find(name) is not None and name in seen):
        return False
    fitting = [op.name for op in ctx.table.overloads(name)
               if "!" not in op.schema and takes_arguments(op.schema, arguments)]
    return len(fitting) == 1 and fitting[0] not in seen


def _fits_operator(ctx: WalkContext, name: str, arguments: str) -> bool:
    """Whether an unqualified C++ call `name(...)` can be the operator's C++ API: some
    overload takes its argument kinds. `col2im<scalar_t>(data, n_output_plane, ...)` with
    16 arguments in NaiveConvolutionTranspose2d.cpp is im2col.h's template, not
    aten::col2im (6 parameters)."""
    return any(takes_arguments(op.schema, arguments) for op in ctx.table.overloads(name))


def _defined_beside(ctx: WalkContext, name: str, edge: UpstreamEdge) -> bool:
    """Whether the file of `edge` defines a function `name` whose body was read."""
    return any(e.location.path == edge.location.path for e in ctx.edges.edges.get(name, ()))


def _helper_node(ctx: WalkContext, function: str, helper: str, edge: UpstreamEdge,
                 implicit: bool, seen: frozenset[str], depth: int,
                 kind: str = HELPER_NOTE) -> OpNode | None:
    """A C++ helper called in a kernel body (`_convolution_nogroup_backend`), or a kernel
    function called directly (`native::reshape_symint`), shown with the operators its own
    body calls; None when it calls none or was already walked."""
    if depth >= MAX_OP_DEPTH or helper in seen or not ctx.edges.calls_of(helper):
        return None
    # of a helper the file overloads, the body whose parameters the call's arguments fit
    children = _edges_below(ctx, helper, implicit, seen | {helper}, depth + 1,
                            _call_signature(edge.arguments))
    if not children:
        return None
    reached = Reached.DECOMPOSITION if implicit else Reached.UPSTREAM
    note = f"{_edge_note(ctx, function, edge.commit, edge.repo)}; {kind}"
    return OpNode(f"at::native::{helper}", None, reached, edge.location, edge.condition, (),
                  None, tuple(children), note, _source(edge), read_in=function,
                  **_call_fields(edge))


def _call_signature(arguments: str) -> str:
    """A call's argument kinds as calls_of matches them against a helper's overloads: every
    argument named, unknown ones `?`."""
    return ", ".join(k.strip() for k in arguments.split(",")) if arguments else ""


def _call_fields(edge: UpstreamEdge) -> dict[str, Any]:
    """What an OpNode keeps of the call that reached it: its loop and the call as written."""
    return {"loop": edge.loop, "loop_changes": edge.loop_changes, "call_args": edge.args,
            "call_receiver": edge.receiver, "caller_params": edge.caller_params,
            "caller_locals": edge.caller_locals}


def _source(edge: UpstreamEdge) -> str:
    """`cyyever/pytorch@021c4c1a30ae`: where an edge was read, short."""
    commit = edge.commit[:12]
    return f"{edge.repo}@{commit}" if edge.repo else commit


# ---------------------------------------------------------------- the whole model


def walk_model(ctx: WalkContext, model: str, *, layer: str | None = None,
               setting: Setting | None = None) -> WalkReport:
    """Every layer of `model` (or the one named), walked to the kernels of `ctx.backends`;
    with a setting, each layer's taken path decided for it."""
    specs, forward = read_layers(ctx, model)
    inputs: dict[str, LayerInput] = {}
    steps: list[FunctionalStep] = []
    if setting is not None:
        inputs, steps = read_layer_inputs(ctx.resolver, model, setting.input_shape,
                                          setting.training, setting.grad,
                                          setting.input_grad, ctx.diagnostics)
        specs = _evaluated_specs(ctx, specs, inputs)
    walks = [walk_layer(ctx, spec, setting, inputs.get(spec.path)) for spec in specs
             if layer in (None, spec.path)]
    if steps and setting is not None:
        walks = _library_leaf_walks(ctx, model, walks, steps, inputs, setting)
        # a leaf's own forward is the layer's walk; only containers have functional steps
        steps = [s for s in steps if s.caller not in inputs or inputs[s.caller].has_children]
        walks.extend(w for w in _functional_walks(ctx, model, steps, setting)
                     if layer in (None, w.path, w.type_text))
    elif forward is not None:
        walks.extend(w for w in _forward_ops(ctx, forward, setting)
                     if layer in (None, w.path, w.type_text))
    if layer is not None and not walks:
        from docgen.core.errors import LookupFailed

        raise LookupFailed(layer, [s.path for s in specs][:8])
    version = ctx.torch_version
    order: tuple[tuple[str, Location], ...] = ()
    if ctx.sources.has_file(OPS_PY):
        order = read_resolution_order(ctx.sources.read_file(OPS_PY).decode("utf-8", "replace"))
    upstream = ctx.edges.origin
    if ctx.torch_commit:
        upstream += f"; torch {version} was built from commit {ctx.torch_commit[:12]}"
    return WalkReport(model, version, tuple(walks), ctx.backends, order, upstream,
                      tuple(ctx.diagnostics), setting)


def _evaluated_specs(ctx: WalkContext, specs: list[LayerSpec],
                     inputs: dict[str, LayerInput]) -> list[LayerSpec]:
    """The layers the evaluated model has (leaf modules, in call order of definition), with
    their evaluated values; the literal reading of `__init__` gives the argument texts."""
    if not inputs:
        return specs
    literal_specs = {s.path: s for s in specs}
    if any(path not in inputs for path in literal_specs):
        # the evaluated model does not have the layers read literally: keep those (a layer
        # read literally that is a container, `self.m = nn.TransformerEncoderLayer(...)`,
        # is replaced by the leaves the evaluated model has under it)
        return [replace(s, env=(*s.env, *(
            (f"self.{k}", v) for k, v in inputs[s.path].attrs)))
            if s.path in inputs else s for s in specs]
    out: list[LayerSpec] = []
    for path, found in inputs.items():
        if not path or found.has_children or not found.called:
            continue  # containers, and layers no forward calls (their owner reads weights)
        env = tuple((f"self.{k}", v) for k, v in found.attrs)
        known = literal_specs.get(path)
        if known is not None:
            out.append(replace(known, env=(*known.env, *env)))  # evaluated values win
            continue
        short = found.qualname.rsplit(".", 1)[-1]
        out.append(LayerSpec(path, found.call.split("(")[0] or short, found.qualname, (),
                             env, found.location or Location("", 0)))
    return out


def walk_layer(ctx: WalkContext, spec: LayerSpec, setting: Setting | None = None,
               found: LayerInput | None = None) -> LayerWalk:
    if setting is not None:
        spec = replace(spec, env=(*python_env(setting).items(), *spec.env))
    if found is not None and found.input_shape:
        # the tensor the layer is called on, its sizes as the model reader found them (a
        # layer input requires grad, as any tensor a parameter touched does)
        spec = replace(spec, env=(*spec.env, (LAYER_INPUT, TensorShape(
            tuple(found.input_shape), requires_grad=True))))
    hops, uses, stopped = walk_layer_python(ctx, spec)
    walk = LayerWalk(spec.path, spec.type_text, spec.qualname, spec.arguments, spec.location,
                     hops, tuple(_operators(ctx, uses)), stopped)
    if setting is None:
        return walk
    attrs = {k.removeprefix("self."): v for k, v in spec.env if k.startswith("self.")}
    attrs.update(call_arguments(ctx, uses))
    if "transposed" not in attrs and spec.qualname:
        attrs["transposed"] = "Transpose" in spec.qualname.rsplit(".", 1)[-1]
    shape = found.input_shape if found is not None else None
    walk = replace(walk, grad_flow=found.grad_flow if found is not None else None)
    return replace(walk, taken=_decide(ctx, walk, setting, attrs, shape), input_shape=shape,
                   attrs=tuple(attrs.items()))


def decide_settings(ctx: WalkContext, report: WalkReport,
                    settings: tuple[Setting, ...]) -> WalkReport:
    """`report` with each layer's taken path decided again for other settings of the same
    mode and grad (the Python route depends only on those): CPU oneDNN on/off, CUDA cuDNN
    on/off... kept in `views`, in the order given."""
    views = []
    for setting in settings:
        views.append((setting, tuple(
            _decide(ctx, layer, setting, dict(layer.attrs), layer.input_shape)
            for layer in report.layers)))
    return replace(report, views=tuple(views))


def _decide(ctx: WalkContext, walk: LayerWalk, setting: Setting, attrs: dict[str, object],
            shape: tuple[int, ...] | None) -> Taken:
    facts = LayerFacts(setting, attrs, shape)
    if walk.grad_flow is not None and walk.grad_flow.returns_output:
        facts.grad_contiguous = setting.loss_gradient != "expanded"
    facts.choices = choose(_arms(ctx), facts)
    node_facts: list[LayerFacts] = []
    for given in walk.operator_inputs:
        scalars: dict[str, object] = {k: v for k, v in given.attrs if ":" not in k
                                      and isinstance(v, (bool, int, float))}
        one = LayerFacts(setting, {**attrs, **dict(given.attrs)}, given.shape,
                         contiguous=given.contiguous, call_values=scalars,
                         grad_contiguous=facts.grad_contiguous,
                         output_shape=given.output_shape)
        one.choices = choose(_arms(ctx), one)
        node_facts.append(one)
    taken = decide_layer(walk, facts, _backward_ops(ctx), _locals(ctx), node_facts or None)
    return replace(taken, glue=glue_hops(walk, taken, setting.grad, ctx.table,
                                         glue_facts(ctx)),
                   unread=bodies_not_read(taken, lambda k: bool(ctx.edges.calls_of(k)),
                                          setting.backend))


def _locals(ctx: WalkContext) -> LocalsSet:
    """The C++ local definitions for the edges in use: scanned with them from a source tree
    (`--pytorch-src`), else the shipped file read from the same files."""
    cached = ctx.memo.get("locals")
    if cached is None:
        cached = load_shipped_locals()
        ctx.memo["locals"] = cached
    return cached  # type: ignore[return-value]


def _arms(ctx: WalkContext) -> list[Arm]:
    cached = ctx.memo.get("arms")
    if cached is None:
        cached = read_arms(e.condition for edges in ctx.edges.edges.values() for e in edges
                           if "[chosen in" in e.condition)
        ctx.memo["arms"] = cached
    return cached  # type: ignore[return-value]


def _backward_ops(ctx: WalkContext) -> BackwardOps:
    cached = ctx.memo.get("backward")
    if cached is None:
        def make(name: str, reached: Reached, condition: str, location: Location,
                 source: str) -> OpNode | None:
            if name.startswith(METHOD):  # `grad.bmm(...)` in a formula: a Tensor method
                found = _method_operator(ctx, name.removeprefix(METHOD))
            else:
                found = _plain_operator(ctx, _operator_name(ctx, name))
            if found is None:
                return None
            return operator_node(ctx, found, reached, edge=location, condition=condition,
                                 source=source)
        cached = BackwardOps(make)
        ctx.memo["backward"] = cached
    return cached  # type: ignore[return-value]


def _operators(ctx: WalkContext, uses: list[BindingUse]) -> list[OpNode]:
    out: list[OpNode] = []
    seen: set[str] = set()
    for use in uses:
        if use.is_pruned:
            continue
        name = choose_overload(ctx, use)
        if name is None:
            out.append(OpNode(f"aten::{use.name}", None, Reached.BINDING, None, "", (), None,
                              note="binding without a native_functions.yaml entry"))
        elif name not in seen:
            seen.add(name)
            node = replace(operator_node(ctx, name, Reached.BINDING), branches=use.undecided)
            if use.on_buffer:
                node = replace(node, note=ON_BUFFER)
            out.append(node)
    return out


FUNCTIONAL = ":functional"


def _functional_walks(ctx: WalkContext, model: str, steps: list[FunctionalStep],
                      setting: Setting) -> list[LayerWalk]:
    """The functional steps of each module's forward (`torch.flatten(x, 1)`, `out += x`,
    `F.multi_head_attention_forward(...)`), one walk per calling module, named
    `<path>:functional` as the traces name them. A step is followed through the calls the
    model reader saw it make (functional.py), each call decided for its own input."""
    module = model.partition(":")[0]
    by_caller: dict[str, list[FunctionalStep]] = {}
    for step in steps:
        by_caller.setdefault(step.caller, []).append(step)
    out: list[LayerWalk] = []
    for caller, group in by_caller.items():
        walk = _steps_walk(ctx, module, group, setting, f"{caller}{FUNCTIONAL}",
                           "functional", None,
                           _merged_flows(s.grad_flow for s in group))
        if walk is not None:
            out.append(walk)
    return out


def _steps_walk(ctx: WalkContext, module: str, group: list[FunctionalStep], setting: Setting,
                path: str, type_text: str, qualname: str | None,
                grad_flow: GradFlow | None) -> LayerWalk | None:
    """One walk made of the calls a forward made while the model reader ran it, each call
    decided for its own input; None when none of them reaches an operator."""
    nodes: list[OpNode] = []
    node_inputs: list[OperatorInput] = []
    hops: list[PyHop] = []
    stopped: list[str] = []
    for step in group:
        for leaf in leaves(step):
            uses, hop, why = _leaf_route(ctx, module, leaf)
            if hop is not None:
                hops.append(hop)
            if why:
                stopped.append(why)
            made = _operators(ctx, uses)
            if not leaf.needs_grad:
                made = [replace(n, note=NO_GRAD_READS) for n in made]
            given = _leaf_input(ctx, leaf, made)
            nodes.extend(made)
            node_inputs.extend([given] * len(made))
    if not nodes:
        return None
    first = group[0]
    walk = LayerWalk(path, type_text, qualname,
                     tuple((f"#{i}", s.text or s.target) for i, s in enumerate(group)),
                     first.location or Location("", 0), tuple(hops), tuple(nodes),
                     "; ".join(dict.fromkeys(stopped)),
                     operator_inputs=tuple(node_inputs), grad_flow=grad_flow)
    shape = first.input_shapes[0] if first.input_shapes else None
    return replace(walk, taken=_decide(ctx, walk, setting, {}, shape), input_shape=shape)


def _library_leaf_walks(ctx: WalkContext, model: str, walks: list[LayerWalk],
                        steps: list[FunctionalStep], inputs: dict[str, LayerInput],
                        setting: Setting) -> list[LayerWalk]:
    """`walks` with each leaf layer whose `forward` is written outside torch (torchvision's
    StochasticDepth calling `torchvision.ops.stochastic_depth`, a timm layer), or whose
    Python route reaches no operator (nn.Flatten's `input.flatten(...)`: a Tensor method on
    the input), walked through the calls its forward made while the model reader ran it, as
    a container's functional steps are: the Python route follows torch's own code
    (torch.nn.functional, bindings, methods of the layer's tensors) only."""
    mine: dict[str, list[FunctionalStep]] = {}
    for step in steps:
        found = inputs.get(step.caller)
        if found is not None and not found.has_children:
            mine.setdefault(step.caller, []).append(step)
    if not mine:
        return walks
    module = model.partition(":")[0]
    out = []
    for walk in walks:
        group = mine.get(walk.path)
        if group is not None and (not walk.operators or (walk.qualname is not None
                                  and not _forward_in_torch(ctx, walk.qualname))):
            found = inputs[walk.path]
            made = _steps_walk(ctx, module, group, setting, walk.path, walk.type_text,
                               walk.qualname, found.grad_flow)
            if made is not None:
                walk = replace(made, arguments=walk.arguments, location=walk.location,
                               input_shape=found.input_shape or made.input_shape)
        out.append(walk)
    return out


def _forward_in_torch(ctx: WalkContext, qualname: str) -> bool:
    """Whether the `forward` a class runs (the first in its bases that defines one) is
    torch's own."""
    for cls in class_chain(ctx, qualname):
        if ctx.function(f"{cls}.forward") is not None:
            return cls.startswith("torch.")
    return True


def _merged_flows(flows: Iterable[GradFlow | None]) -> GradFlow | None:
    out: GradFlow | None = None
    for flow in flows:
        if flow is not None:
            out = flow if out is None else out.merged(flow)
    return out


def _leaf_route(ctx: WalkContext, module: str, leaf: Leaf
                ) -> tuple[list[BindingUse], PyHop | None, str]:
    """The binding one call reaches: a Tensor method directly, a `torch.*` function through
    the Python route (stub-confirmed, `_VF` forwarded)."""
    args = tuple(_flow_value(v) for k, v in leaf.arguments if k.startswith("#"))
    kwargs = tuple((k, _flow_value(v)) for k, v in leaf.arguments if not k.startswith("#"))
    line = leaf.location.line if leaf.location else 0
    if leaf.namespace == "torch._C.TensorBase":
        call = CallSite(f"Tensor.{leaf.name}", line, args[1:], kwargs, ())
        written = walk_tensor_method(ctx, leaf.name, call)
        if written is not None:
            method_hop, uses, why = written
            if leaf.via:
                method_hop = replace(method_hop, note=f"{method_hop.note}; reached through "
                                     f"{leaf.via}".lstrip("; "))
            return uses, method_hop, why
        use = BindingUse(leaf.name, leaf.namespace, call, False)
        note = "Tensor method" + (f", reached through {leaf.via}" if leaf.via else "")
        return [use], PyHop(f"torch._C.TensorBase.{leaf.name}", "binding", leaf.location,
                            leaf.text or leaf.name, note=note), ""
    call = CallSite(f"{leaf.namespace}.{leaf.name}", line, args, kwargs, ())
    hop, uses, why = walk_call(ctx, module, call)
    if hop is not None and leaf.via:
        hop = replace(hop, note=f"{hop.note}; reached through {leaf.via}".lstrip("; "))
    return uses, hop, why


def _flow_value(value: object) -> FlowExpr:
    if value is None or isinstance(value, (bool, int, float, str)) or (
            isinstance(value, (list, tuple)) and all(
                isinstance(v, (bool, int, float, str)) for v in value)):
        return FlowExpr("const", repr(value))
    return FlowExpr("name", str(value))


def _leaf_input(ctx: WalkContext, leaf: Leaf, made: list[OpNode]) -> OperatorInput:
    """The input facts of one call: values bound to the parameter names of the operator
    reached (its schema), a None optional tensor as False (`bias->defined()` is false)."""
    attrs: dict[str, object] = {}
    op = made[0].operator if made else None
    if op is not None:
        params = [(name, typ) for typ, name in schema_params(op.schema)]
        positional = [v for k, v in leaf.arguments if k.startswith("#")]
        for (name, typ), value in zip(params, positional, strict=False):
            attrs[name] = _param_value(typ, value)
        names = dict(params)
        for key, value in leaf.arguments:
            if not key.startswith("#") and key in names:
                attrs[key] = _param_value(names[key], value)
        tensors = [name for name, value in attrs.items() if isinstance(value, TensorAttr)]
        for name, row_major in zip(tensors, leaf.layouts, strict=False):
            attrs[f"{name}:contiguous"] = row_major
        for name, strides in zip(tensors, leaf.strides, strict=False):
            if strides:
                attrs[f"{name}:last_stride"] = strides[-1]
    return OperatorInput(leaf.shape, leaf.contiguous, tuple(attrs.items()),
                         leaf.output_shape)


def _param_value(typ: str, value: object) -> object:
    if value is None and typ.startswith("Tensor"):
        return False
    return value


def _forward_ops(ctx: WalkContext, forward: FunctionFlow,
                 setting: Setting | None = None) -> list[LayerWalk]:
    """Tensor-level calls in the model's own forward (`torch.flatten(x, 1)`)."""
    out = []
    module = module_of(forward.path)
    for call in forward.calls:
        if call.callee.startswith("self.") or call.is_override_path:
            continue
        hop, uses, stopped = walk_call(ctx, module, call)
        if hop is None:
            continue
        walk = LayerWalk(f"forward:{call.callee}", call.callee, None,
                         tuple((f"#{i}", a.text) for i, a in enumerate(call.args)),
                         Location(forward.path, call.line), (hop,),
                         tuple(_operators(ctx, uses)), stopped)
        if setting is not None:
            walk = replace(walk, taken=_decide(ctx, walk, setting, {}, None))
        out.append(walk)
    return out


# The settings every Walk page answers for: the two switches a learner flips most.
PAGE_SETTINGS = (Setting("CPU", mkldnn=True), Setting("CPU", mkldnn=False),
                 Setting("CUDA", cudnn=True), Setting("CUDA", cudnn=False))


def walk_for_site(sources: SourceSet, model: str, *, pytorch_src: Path | None = None,
                  backends: tuple[str, ...] = DEFAULT_BACKENDS,
                  settings: tuple[Setting, ...] = PAGE_SETTINGS,
                  index: ModuleIndex | None = None) -> tuple[WalkReport, BackendsReport]:
    """Everything the Walk and Backends pages need, in one call: the walk of every layer of
    `model` decided for each of `settings`, and the Backends facts (C++ edges from
    `pytorch_src`, else the shipped file). `index`: the modules' analyses (open_context)."""
    from docgen.walk.backends import read_backends
    from docgen.walk.upstream import load_shipped_edges, scan_tree

    edges = scan_tree(pytorch_src) if pytorch_src is not None else load_shipped_edges()
    ctx = open_context(sources, edges, tuple(dict.fromkeys(
        (*backends, *(s.backend for s in settings)))), index)
    if pytorch_src is not None:
        from docgen.walk.locals import scan_locals_tree

        ctx.memo["locals"] = scan_locals_tree(pytorch_src)  # read with the edges above
    report = walk_model(ctx, model, setting=settings[0] if settings else None)
    if settings:
        report = decide_settings(ctx, report, settings)
    report = replace(report, versions=tuple((d.name, d.version) for d in sources.distributions))
    return report, read_backends(sources, ctx.table, report)
