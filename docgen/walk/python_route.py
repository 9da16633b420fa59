"""The Python half of the walk: the model's layers and each one's route to its C++ binding.

Layers are read from the model's `__init__`; a route goes from `Module.__call__` through the
layer's methods and torch.nn.functional to the binding, confirmed in the .pyi stubs, with
branch conditions decided by the constructor arguments where they can be.

The layer list reads literal arguments of `nn.Sequential(...)` and `self.x = nn.Layer(...)`
only: a small, local reader, meant to be unified later with the constructor evaluator of
`docgen summary`.
"""

from __future__ import annotations

import ast
from collections.abc import Callable
from dataclasses import dataclass, field

from docgen.classes.parse import parse_module
from docgen.core.errors import SourceError
from docgen.core.records import Location
from docgen.walk.context import WalkContext
from docgen.walk.flow import TENSOR_FACTORIES, layer_calls
from docgen.walk.glue import glue_facts
from docgen.walk.records import (
    Branch,
    CallSite,
    Condition,
    FlowExpr,
    FunctionFlow,
    PyHop,
)

MODULE_CLASS = "torch.nn.modules.module.Module"
TENSOR_METHODS = "torch._C.TensorBase"
SEQUENTIAL = "torch.nn.modules.container.Sequential"
UNKNOWN = object()
# Module's own methods on the way to forward; its bookkeeping (hooks, tracing) is not walked.
CALL_CHAIN = ("_wrapped_call_impl", "_call_impl", "forward")
# Module methods shown as a leaf where the route branches off (`torch.jit.trace` path).
SIDE_PATHS = {"_slow_forward": "tracing path (torch.jit.trace); it calls forward as well"}


# ---------------------------------------------------------------- values and conditions


def literal(expr: FlowExpr | None) -> object:
    if expr is None or expr.kind != "const":
        return UNKNOWN
    try:
        return ast.literal_eval(expr.text)
    except (ValueError, SyntaxError):
        return UNKNOWN


Env = dict[str, object]


class _Tensor:
    """The value of a layer's input: a tensor (`isinstance(input, PackedSequence)` is false)."""

    def __repr__(self) -> str:
        return "Tensor"


TENSOR = _Tensor()
# `isinstance(x, C)` with x a tensor: C's text -> whether C is a tensor class (None: unknown)
TensorClass = Callable[[str], "bool | None"]

_COMPARE = {"==": lambda a, b: a == b, "!=": lambda a, b: a != b,
            "is": lambda a, b: a is b, "is not": lambda a, b: a is not b,
            "<": lambda a, b: a < b, ">": lambda a, b: a > b,
            "<=": lambda a, b: a <= b, ">=": lambda a, b: a >= b,
            "in": lambda a, b: a in b, "not in": lambda a, b: a not in b}
# The env key of the tensor a layer is called on, when the model reader knows its shape.
LAYER_INPUT = "(layer input)"
# Tensor queries answered from a tensor's rank: `x.dim()`, `x.ndimension()`, `x.ndim`.
_RANK_CALLS = ("dim", "ndimension")
_RANK_ATTRS = ("ndim",)


def tensor_rank(expr: FlowExpr, env: Env) -> object:
    """`input.dim()` (or `.ndimension()`, `.ndim`) of a tensor whose rank is known."""
    if expr.kind == "call" and not expr.parts and expr.text.endswith("()"):
        receiver, _, query = expr.op.rpartition(".")
        if query not in _RANK_CALLS:
            return UNKNOWN
    elif expr.kind == "attr":
        receiver, _, query = expr.text.rpartition(".")
        if query not in _RANK_ATTRS:
            return UNKNOWN
    else:
        return UNKNOWN
    value = env.get(receiver, UNKNOWN)
    return len(value.shape) if isinstance(value, TensorShape) and value.shape else UNKNOWN


def evaluate(expr: FlowExpr, env: Env, tensor_class: TensorClass | None = None) -> object:
    """The value of a condition when the constructor arguments decide it, else UNKNOWN."""
    if expr.kind == "const":
        return literal(expr)
    if expr.kind == "call" and expr.op == "isinstance" and len(expr.parts) == 2:
        value = env.get(expr.parts[0].text, UNKNOWN)
        if is_tensor_value(value) and tensor_class is not None:
            found = tensor_class(expr.parts[1].text)
            return UNKNOWN if found is None else found
        if isinstance(value, _PLAIN):
            return _plain_isinstance(value, expr.parts[1], tensor_class)
        return UNKNOWN
    if expr.kind in ("name", "attr", "call"):
        rank = tensor_rank(expr, env)
        return rank if rank is not UNKNOWN else env.get(expr.text, UNKNOWN)
    if expr.kind == "tuple":
        items = tuple(evaluate(p, env, tensor_class) for p in expr.parts)
        return UNKNOWN if any(i is UNKNOWN for i in items) else items
    if expr.kind == "not":
        value = evaluate(expr.parts[0], env, tensor_class)
        return UNKNOWN if value is UNKNOWN else not value
    if expr.kind == "compare" and expr.op in _COMPARE:
        left, right = (evaluate(p, env, tensor_class) for p in expr.parts)
        if left is UNKNOWN or right is UNKNOWN:
            return UNKNOWN
        try:
            return _COMPARE[expr.op](left, right)
        except TypeError:
            return UNKNOWN
    if expr.kind in ("and", "or"):
        values = [evaluate(p, env, tensor_class) for p in expr.parts]
        decisive = expr.kind == "or"
        if any(v is not UNKNOWN and bool(v) is decisive for v in values):
            return decisive
        return UNKNOWN if any(v is UNKNOWN for v in values) else not decisive
    return UNKNOWN


# Python values the walk knows (literals passed by a call) and the classes `isinstance` can
# test them against without importing anything: builtins, and torch's symbolic scalars, which
# a plain number never is.
_PLAIN = (bool, int, float, str, list, tuple, type(None))
_BUILTIN_CLASSES: dict[str, type | tuple[type, ...]] = {
    "int": int, "float": float, "bool": bool, "str": str, "list": list, "tuple": tuple,
    "dict": dict}
_SYMBOLIC_CLASSES = ("torch.SymInt", "torch.SymFloat", "torch.SymBool")


def _plain_isinstance(value: object, classes: FlowExpr,
                      tensor_class: TensorClass | None) -> object:
    """`isinstance(split_size, (int, torch.SymInt))` for a known literal value."""
    texts = [p.text for p in classes.parts] if classes.kind == "tuple" else [classes.text]
    found = False
    for text in texts:
        builtin = _BUILTIN_CLASSES.get(text)
        if builtin is not None:
            found = found or isinstance(value, builtin)
        elif text in _SYMBOLIC_CLASSES or (tensor_class is not None and tensor_class(text)):
            continue  # a literal is never a tensor or a SymInt
        else:
            return UNKNOWN
    return found


def branches(conditions: tuple[Condition, ...], env: Env, path: str,
             env_at: Callable[[int], Env] | None = None,
             tensor_class: TensorClass | None = None) -> tuple[Branch, ...]:
    """Each condition decided where it is tested: with `env_at(n)`, the values after the
    first n local assignments of the function."""
    out = []
    for cond in conditions:
        here = env_at(cond.assigned) if env_at is not None and cond.assigned >= 0 else env
        value = evaluate(cond.test, here, tensor_class)
        taken = None if value is UNKNOWN else bool(value) is cond.holds
        text = cond.test.text if cond.holds else f"not ({cond.test.text})"
        out.append(Branch(text, Location(path, cond.line), taken))
    return tuple(out)


class _Locals:
    """The values of a function's local names after its first n assignments: an assignment
    counts where its conditions hold, makes the name unknown where they are undecided."""

    def __init__(self, fn: FunctionFlow, env: Env, tensor_class: TensorClass | None) -> None:
        self.fn, self.tensor_class = fn, tensor_class
        self.states: list[Env] = [env]

    def __call__(self, n: int) -> Env:
        assigned = self.fn.assigned
        while len(self.states) <= min(n, len(assigned)):
            state = dict(self.states[-1])
            name, value, conds = assigned[len(self.states) - 1]
            self.states.append(self._assign(state, name, value, conds))
        return self.states[min(n, len(assigned))]

    def _assign(self, state: Env, name: str, value: FlowExpr | None,
                conds: tuple[Condition, ...]) -> Env:
        known = True
        for cond in conds:
            here = self(cond.assigned) if 0 <= cond.assigned < len(self.states) else state
            got = evaluate(cond.test, here, self.tensor_class)
            if got is UNKNOWN:
                known = False
            elif bool(got) is not cond.holds:
                return state  # not run on this path
        found = UNKNOWN if value is None or not known else _value(value, state)
        if found is UNKNOWN:
            state.pop(name, None)
        else:
            state[name] = found
        return state


def bind_arguments(fn: FunctionFlow, call: CallSite, caller_env: Env,
                   skip_self: bool) -> Env:
    """The callee's parameters bound to what the call passes (known values only)."""
    params = list(fn.params)[1:] if skip_self and fn.params else list(fn.params)
    env: Env = {}
    for name, default in params:
        env[name] = literal(default)
    for (name, _), arg in zip(params, call.args, strict=False):
        env[name] = _value(arg, caller_env)
    for name, arg in call.kwargs:
        env[name] = _value(arg, caller_env)
    return {k: v for k, v in env.items() if v is not UNKNOWN}


@dataclass(frozen=True)
class TensorShape:
    """A tensor the Python code creates with sizes it writes (`torch.zeros(L, N, H)`);
    None for a size not read. A factory's tensor requires no grad unless the call says
    `requires_grad=`."""

    shape: tuple[int | None, ...]
    requires_grad: bool = False


_ARITHMETIC = {"+": lambda a, b: a + b, "-": lambda a, b: a - b, "*": lambda a, b: a * b,
               "//": lambda a, b: a // b}


def _value(expr: FlowExpr, env: Env) -> object:
    if expr.kind == "const":
        return literal(expr)
    if expr.kind == "ifexp":
        test = evaluate(expr.parts[0], env)
        return UNKNOWN if test is UNKNOWN else _value(expr.parts[1 if test else 2], env)
    if expr.kind == "binop" and expr.op in _ARITHMETIC:
        left, right = (_value(p, env) for p in expr.parts)
        if isinstance(left, int) and isinstance(right, int) and not isinstance(
                left, bool) and not isinstance(right, bool):
            return _ARITHMETIC[expr.op](left, right)
        return UNKNOWN
    if expr.kind == "tuple":
        items = tuple(_value(p, env) for p in expr.parts)
        return items if all(isinstance(i, TensorShape) for i in items) and items else UNKNOWN
    if expr.kind == "call" and expr.op in TENSOR_FACTORIES and expr.parts:
        sizes = [_value(p, env) for p in expr.parts]
        if len(sizes) == 1 and isinstance(sizes[0], tuple):
            sizes = list(sizes[0])
        return TensorShape(tuple(s if isinstance(s, int) and not isinstance(s, bool)
                                 else None for s in sizes), "requires_grad" in expr.text)
    rank = tensor_rank(expr, env)
    return rank if rank is not UNKNOWN else env.get(expr.text, UNKNOWN)


# ---------------------------------------------------------------- layers of the model


@dataclass(frozen=True)
class LayerSpec:
    path: str
    type_text: str
    qualname: str | None
    arguments: tuple[tuple[str, str], ...]
    env: tuple[tuple[str, object], ...]  # self.<param> -> literal value, for pruning
    location: Location


def read_layers(ctx: WalkContext, model: str) -> tuple[list[LayerSpec], FunctionFlow | None]:
    """The layers the model's `__init__` builds, and its forward's flow."""
    module, _, cls = model.partition(":")
    found = ctx.sources.find_module(module)
    if found is None:
        raise SourceError(module.replace(".", "/") + ".py", 1, "model module not found")
    tree = parse_module(found.tree.read_bytes(found.path), module, found.path)
    layers: list[LayerSpec] = []
    for attr, call in layer_calls(tree, cls):
        target = ctx.resolver.resolve_in(module, call.callee)
        if target is not None and target.qualname == SEQUENTIAL:
            for i, arg in enumerate(a for a in call.args if a.kind == "call"):
                layers.append(_layer(ctx, module, f"{attr}.{i}", arg.op, int(arg.text),
                                     arg.parts, found.path))
        else:
            layers.append(_layer(ctx, module, attr, call.callee, call.line,
                                 (*call.args, *(FlowExpr("keyword", v.text, (v,), k)
                                                for k, v in call.kwargs)), found.path))
    return layers, ctx.function(f"{module}.{cls}.forward")


def _layer(ctx: WalkContext, module: str, path: str, callee: str, line: int,
           parts: tuple[FlowExpr, ...], file: str) -> LayerSpec:
    target = ctx.resolver.resolve_in(module, callee)
    qualname = target.qualname if target is not None and target.kind == "class" else None
    init = _method(ctx, qualname, "__init__") if qualname else None
    params = [p for p in (init.params[1:] if init else ()) if p[0] not in ("args", "kwargs")]
    given: dict[str, FlowExpr] = {}
    positional = [p for p in parts if p.kind != "keyword"]
    for (name, _), arg in zip(params, positional, strict=False):
        given[name] = arg
    for p in parts:
        if p.kind == "keyword":
            given[p.op] = p.parts[0]
    arguments = tuple((k, v.text) for k, v in given.items())
    env: list[tuple[str, object]] = []
    for name, default in params:
        value = literal(given.get(name, default))
        if value is not UNKNOWN:
            env.append((f"self.{name}", value))
    return LayerSpec(path, callee, qualname, arguments, tuple(env), Location(file, line))


def class_chain(ctx: WalkContext, qualname: str) -> list[str]:
    """Depth-first, left-first base order (dedup keeps the last, like C3 for simple trees)."""
    order: list[str] = []

    def visit(name: str, depth: int) -> None:
        cls = ctx.resolver.find_class(name)
        if cls is None or depth > 30:
            return
        order.append(name)
        for base in cls.bases:
            target = ctx.resolver.resolve_in(cls.module, base.text.split("[")[0])
            if target is not None and target.kind == "class":
                visit(target.qualname, depth + 1)

    visit(qualname, 0)
    seen: list[str] = []
    for name in reversed(order):
        if name not in seen:
            seen.insert(0, name)
    return seen


def _method(ctx: WalkContext, qualname: str | None, name: str) -> FunctionFlow | None:
    for cls in class_chain(ctx, qualname) if qualname else ():
        fn = ctx.function(f"{cls}.{name}")
        if fn is not None:
            return fn
    return None


# ---------------------------------------------------------------- the Python route


@dataclass(frozen=True)
class BindingUse:
    """A binding the route ends in, with the call that reaches it (for overload choice)."""

    name: str  # relu_, conv2d, linear
    namespace: str  # torch._C._VariableFunctions, torch._C._nn
    call: CallSite | None
    is_pruned: bool
    undecided: tuple[Branch, ...] = ()  # Python conditions on the way nothing decided
    on_buffer: bool = False  # a Tensor method on a buffer: autograd records nothing
    values: tuple[object, ...] = ()  # the positional arguments' values (UNKNOWN if not read)
    keywords: tuple[tuple[str, object], ...] = ()


@dataclass
class _Route:
    ctx: WalkContext
    chain: list[str]
    self_env: Env
    bindings: list[BindingUse] = field(default_factory=list)
    active: set[str] = field(default_factory=set)
    pending: list[Branch] = field(default_factory=list)  # undecided branches on the way


def module_of(path: str) -> str:
    name = path[:-4] if path.endswith(".pyi") else path[:-3]
    return name.removesuffix("/__init__").replace("/", ".")


def walk_layer_python(ctx: WalkContext, spec: LayerSpec) -> tuple[tuple[PyHop, ...],
                                                                   list[BindingUse], str]:
    """The Python route of one layer, from `Module.__call__` to the bindings."""
    chain = class_chain(ctx, spec.qualname) if spec.qualname else []
    if not chain:
        return (), [], f"{spec.type_text}: class not found in the sources read"
    route = _Route(ctx, chain, {**_constant_methods(ctx, chain), **dict(spec.env)})
    hop = _call_entry(route)
    stopped = _first_stop(hop)
    return (hop,), route.bindings, stopped


def _constant_methods(ctx: WalkContext, chain: list[str]) -> Env:
    """`self.m()` -> its value, for the layer's methods without parameters whose body is
    `return <literal>` (the most derived definition wins, as attribute lookup finds it)."""
    out: Env = {}
    for cls in reversed(chain):
        flow = ctx.flow(cls.rpartition(".")[0])
        for fn in flow.functions if flow else ():
            owner, _, name = fn.qualname.rpartition(".")
            if owner == cls and len(fn.params) == 1:
                value = literal(fn.returns)
                if value is UNKNOWN:
                    out.pop(f"self.{name}()", None)
                else:
                    out[f"self.{name}()"] = value
    return out


def _first_stop(hop: PyHop) -> str:
    if hop.kind == "stop" and not hop.is_pruned:
        return hop.note
    for child in hop.children:
        found = _first_stop(child)
        if found:
            return found
    return ""


def _call_entry(route: _Route) -> PyHop:
    """`__call__`: a `def` (old releases) or a class attribute aliasing a method."""
    ctx = route.ctx
    for cls in route.chain:
        fn = ctx.function(f"{cls}.__call__")
        if fn is not None:
            return _function_hop(route, fn, dict(route.self_env), "method", "layer(x)", ())
        module, _, name = cls.rpartition(".")
        flow = ctx.flow(module)
        for attr, target, line in flow.class_aliases if flow else ():
            if attr == f"{name}.__call__" and flow is not None:
                child = _self_call(route, target, CallSite(target, line, (), (), ()), {}, ())
                return PyHop(f"{cls}.__call__", "alias", Location(flow.path, line),
                             f"__call__ = {target}", children=(child,) if child else (
                                 _stop(f"{target}: no such method in {route.chain[0]}"),))
    return _stop(f"no __call__ found in {', '.join(route.chain)}")


def _stop(note: str, location: Location | None = None, via: str = "") -> PyHop:
    return PyHop("(stopped)", "stop", location, via, note=note)


def _function_hop(route: _Route, fn: FunctionFlow, env: Env, kind: str, via: str,
                  brs: tuple[Branch, ...], pruned: bool = False) -> PyHop:
    if fn.qualname in route.active:
        return PyHop(fn.qualname, kind, Location(fn.path, fn.line), via, brs, pruned,
                     note="recursive call, not followed again")
    route.active.add(fn.qualname)
    children: list[PyHop] = []
    overrides: list[str] = []
    module = module_of(fn.path)
    kinds = _tensor_class(route.ctx, module)
    env_at = _Locals(fn, env, kinds)
    for call in fn.calls:
        if call.is_override_path:
            if call.callee.endswith("handle_torch_function"):
                overrides.append(f"{fn.path}:{call.line}")
            continue
        here = env_at(call.assigned)
        call_brs = branches(call.conditions, here, fn.path, env_at, kinds)
        call_pruned = pruned or any(b.taken is False for b in call_brs)
        open_brs = [b for b in call_brs if b.taken is None]
        route.pending.extend(open_brs)
        child = _follow(route, module, call, here, call_brs, call_pruned)
        del route.pending[len(route.pending) - len(open_brs):]
        # The same call reached on two branches (with and without hooks) is shown once.
        if child is not None and all((c.name, c.via) != (child.name, child.via)
                                     for c in children):
            children.append(child)
    route.active.discard(fn.qualname)
    note = f"override side path: handle_torch_function at {', '.join(overrides)}" \
        if overrides else ""
    return PyHop(fn.qualname, kind, Location(fn.path, fn.line), via, brs, pruned, note,
                 tuple(children))


TENSOR_CLASSES = ("torch.Tensor", "torch._tensor.Tensor", "torch._C.TensorBase",
                  "torch.nn.parameter.Parameter")


def _tensor_class(ctx: WalkContext, module: str) -> TensorClass:
    """Whether a class named in `module` is a tensor class: a class read in the sources
    that is neither one nor derived from one is not (PackedSequence, a NamedTuple)."""
    def decide(text: str) -> bool | None:
        target = ctx.resolver.resolve_in(module, text)
        name = target.qualname if target is not None else ctx.resolver.expand(module, text)
        if name in TENSOR_CLASSES:
            return True
        if target is None or target.kind != "class":
            return None
        chain = class_chain(ctx, target.qualname)
        return any(c in TENSOR_CLASSES for c in chain) or (
            None if any(ctx.resolver.find_class(c) is None for c in chain) else False)
    return decide


def _follow(route: _Route, module: str, call: CallSite, env: Env, brs: tuple[Branch, ...],
            pruned: bool) -> PyHop | None:
    ctx = route.ctx
    callee = call.callee
    if callee.startswith("self."):
        return _self_call(route, callee[5:], call, env, brs, pruned)
    receiver, dot, method = callee.partition(".")
    if receiver == "super()" and env.get(OWNER_CLASS) == PY_TENSOR and "." not in method:
        # torch.Tensor's next class is the C++ TensorBase: `super().unflatten(dim, sizes)`
        return _tensor_binding(route, method, call, env, brs, pruned)
    if dot and "." not in method and is_tensor_value(env.get(receiver, UNKNOWN)):
        return _local_tensor_method(route, method, call, env, brs, pruned)
    target = ctx.resolver.resolve_in(module, callee)
    if target is not None and target.kind == "function":
        if not target.qualname.startswith("torch.nn.functional."):
            return None  # helpers (`_list_with_default`, `torch.jit.annotate`) are not hops
        fn = ctx.function(target.qualname)
        if fn is None:
            return None
        return _function_hop(route, fn, bind_arguments(fn, call, env, False), "function",
                             _call_text(call), brs, pruned)
    if target is not None and target.kind == "value":
        return _assigned_hop(route, target.qualname, call, env, brs, pruned)
    absolute = ctx.resolver.expand(module, callee)
    if target is not None or not absolute.startswith("torch."):
        return None
    owner = absolute.rpartition(".")[0]
    if owner not in ("torch", "torch._VF") and ctx.sources.find_module(owner) is not None:
        flow = ctx.flow(owner)  # a module that should define it: its warnings say why not
        where = Location(flow.path if flow else owner.replace(".", "/") + ".py", 1)
        return _stop(f"{absolute}: not found in the source of {owner}", where, callee)
    return _binding_hop(route, absolute, call, brs, pruned, env)


def _call_text(call: CallSite) -> str:
    args = [a.text for a in call.args] + [f"{k}={v.text}" for k, v in call.kwargs]
    text = f"{call.callee}({', '.join(args)})"
    return text if len(text) <= 100 else text[:97] + "..."


def _self_call(route: _Route, name: str, call: CallSite, env: Env, brs: tuple[Branch, ...],
               pruned: bool = False) -> PyHop | None:
    if "." in name:
        return _tensor_method(route, name, call, env, brs, pruned)
    for cls in route.chain:
        fn = route.ctx.function(f"{cls}.{name}")
        if fn is None:
            continue
        if cls == MODULE_CLASS and name in SIDE_PATHS:
            return PyHop(fn.qualname, "method", Location(fn.path, fn.line), _call_text(call),
                         brs, pruned, SIDE_PATHS[name])
        if cls == MODULE_CLASS and name not in CALL_CHAIN:
            return None  # Module's bookkeeping (hooks, tracing) is not on the route
        callee_env = {**route.self_env, **bind_arguments(fn, call, env, True)}
        if name == "forward" and len(fn.params) > 1:
            # the layer is called on a tensor: `layer(x)`
            callee_env.setdefault(fn.params[1][0], route.self_env.get(LAYER_INPUT, TENSOR))
        return _function_hop(route, fn, callee_env, "method", _call_text(call), brs, pruned)
    if name in CALL_CHAIN:
        return _stop(f"self.{name}: not defined in {', '.join(route.chain)}", via=call.callee)
    return None


def _tensor_method(route: _Route, name: str, call: CallSite, env: Env,
                   brs: tuple[Branch, ...], pruned: bool) -> PyHop | None:
    """`self.num_batches_tracked.add_(1)`: a Tensor method called on a parameter or buffer
    of the layer (known from the evaluated model), bound in C++ like any Tensor method."""
    attr, _, method = name.partition(".")
    value = {**route.self_env, **env}.get(f"self.{attr}")
    if "." in method or value is None or value.__class__.__name__ != "TensorAttr":
        return None
    route.bindings.append(BindingUse(method, "torch._C.TensorBase", call, pruned,
                                     tuple(dict.fromkeys(route.pending)),
                                     bool(getattr(value, "is_buffer", False))))
    return PyHop(f"torch._C.TensorBase.{method}", "binding", None, call.callee, brs, pruned,
                 note=f"Tensor method on self.{attr}")


def is_tensor_value(value: object) -> bool:
    """A layer's input tensor, or one the Python code made with a factory."""
    return value is TENSOR or isinstance(value, TensorShape)


PY_TENSOR = "torch._tensor.Tensor"
OWNER_CLASS = "(class)"  # env key: the class whose method is being walked


def _python_tensor_method(route: _Route, method: str, call: CallSite, env: Env,
                          brs: tuple[Branch, ...], pruned: bool) -> PyHop | None:
    """A Tensor method written in Python on `torch.Tensor` (torch/_tensor.py: `x.split([a,
    b])` runs `Tensor.split`, which calls `torch._VF.split_with_sizes` for a list): its body
    is walked with the receiver bound to a tensor."""
    fn = route.ctx.function(f"{PY_TENSOR}.{method}")
    if fn is None or not fn.params:
        return None
    callee_env = {**bind_arguments(fn, call, env, True), fn.params[0][0]: TENSOR,
                  OWNER_CLASS: PY_TENSOR}
    return _function_hop(route, fn, callee_env, "method", _call_text(call), brs, pruned)


def walk_tensor_method(ctx: WalkContext, method: str, call: CallSite
                       ) -> tuple[PyHop, list[BindingUse], str] | None:
    """The route of a Tensor method a library function called, when torch.Tensor defines
    it in Python (else None: the C++ binding of TensorBase is called directly)."""
    route = _Route(ctx, [], {})
    hop = _python_tensor_method(route, method, call, {}, (), False)
    return None if hop is None else (hop, route.bindings, _first_stop(hop))


def _local_tensor_method(route: _Route, method: str, call: CallSite, env: Env,
                         brs: tuple[Branch, ...], pruned: bool) -> PyHop | None:
    """`input.softmax(dim)` in F.softmax: a Tensor method called on a tensor the function
    holds, bound in C++ like any Tensor method when the operator has a method variant and
    torchgen writes its Python binding (`input.size(0)` and `input.dim()` read the
    TensorImpl in hand-written bindings and dispatch nothing)."""
    written = _python_tensor_method(route, method, call, env, brs, pruned)
    if written is not None:
        return written
    return _tensor_binding(route, method, call, env, brs, pruned)


def _tensor_binding(route: _Route, method: str, call: CallSite, env: Env,
                    brs: tuple[Branch, ...], pruned: bool) -> PyHop | None:
    """The C++ binding of Tensor method `method` (TensorBase), when there is one."""
    ctx = route.ctx
    if not any("method" in op.variants for op in ctx.table.overloads(method)):
        return None
    if not glue_facts(ctx).has_generated_binding(method):
        return None
    route.bindings.append(BindingUse(
        method, TENSOR_METHODS, call, pruned, tuple(dict.fromkeys(route.pending)),
        values=tuple(_value(a, env) for a in call.args),
        keywords=tuple((k, _value(v, env)) for k, v in call.kwargs)))
    return PyHop(f"{TENSOR_METHODS}.{method}", "binding", None, call.callee, brs, pruned,
                 note=f"Tensor method on {call.callee.partition('.')[0]}")


def _assigned_hop(route: _Route, qualname: str, call: CallSite, env: Env,
                  brs: tuple[Branch, ...], pruned: bool) -> PyHop | None:
    ctx = route.ctx
    module, _, name = qualname.rpartition(".")
    flow = ctx.flow(module)
    site = next((c for n, c in flow.assignments if n == name), None) if flow else None
    if (site is None or flow is None) and not qualname.startswith("torch.nn.functional."):
        return None
    if site is None or flow is None:
        return _stop(f"{qualname} is not a function or a recognised binding", via=call.callee)
    target = ctx.resolver.resolve_in(module, site.callee)
    maker = target.qualname if target is not None else ctx.resolver.expand(module, site.callee)
    where = Location(flow.path, site.line)
    if maker.endswith("_add_docstr") and site.args and site.args[0].kind == "attr":
        bound = ctx.resolver.expand(module, site.args[0].text)
        child = _binding_hop(route, bound, call, (), pruned)
        return PyHop(qualname, "alias", where, _call_text(call), brs, pruned,
                     f"{name} = _add_docstr({site.args[0].text}, ...)", (child,))
    if maker.endswith("boolean_dispatch"):
        return _dispatch_hop(route, module, qualname, site, call, env, brs, pruned, where)
    if not qualname.startswith("torch.nn.functional."):
        return None
    return _stop(f"{qualname} = {site.callee}(...): not a pattern the walk follows",
                 where, call.callee)


def _dispatch_hop(route: _Route, module: str, qualname: str, site: CallSite, call: CallSite,
                  env: Env, brs: tuple[Branch, ...], pruned: bool, where: Location) -> PyHop:
    """`boolean_dispatch(arg_name=..., if_true=f, if_false=g)`: two routes on one argument."""
    kw = dict(site.kwargs)
    arg_name = literal(kw.get("arg_name"))
    index = literal(kw.get("arg_index"))
    value: object = literal(kw.get("default"))
    for k, v in call.kwargs:
        if k == arg_name:
            value = _value(v, env)
    if isinstance(index, int) and index < len(call.args):
        value = _value(call.args[index], env)
    children = []
    for side, holds in (("if_true", True), ("if_false", False)):
        fn_text = kw.get(side)
        target = route.ctx.resolver.resolve_in(module, fn_text.text) if fn_text else None
        fn = route.ctx.function(target.qualname) if target else None
        taken = None if value is UNKNOWN else bool(value) is holds
        cond = Branch(f"{arg_name}" if holds else f"not {arg_name}", where, taken)
        if fn is None:
            children.append(_stop(f"{side} of boolean_dispatch not found", where))
            continue
        children.append(_function_hop(route, fn, bind_arguments(fn, call, env, False),
                                      "function", f"{side}={fn_text.text if fn_text else ''}",
                                      (cond,), pruned or taken is False))
    return PyHop(qualname, "dispatch", where, f"boolean_dispatch(arg_name={arg_name!r})", brs,
                 pruned, children=tuple(children))


def _binding_hop(route: _Route, absolute: str, call: CallSite | None,
                 brs: tuple[Branch, ...], pruned: bool, env: Env | None = None) -> PyHop:
    """`torch.X`, `torch._VF.X`, `torch._C._nn.X`: the C++ binding, confirmed in a stub."""
    ctx = route.ctx
    namespace, _, name = absolute.rpartition(".")
    via = call.callee if call else absolute
    forwarder = None
    if namespace == "torch._VF":
        flow = ctx.flow("torch._VF")
        if not flow or not flow.forwarders:
            return _stop("torch._VF does not forward to torch._C", via=via)
        target, line = flow.forwarders[0]
        forwarder = PyHop("torch._VF", "forwarder", Location(flow.path, line),
                          f"__getattr__ -> {target}")
        namespace = target
    if namespace == "torch":
        python = ctx.resolver.resolve_absolute(absolute)
        if python is not None and python.kind == "function":
            return _stop(f"{absolute} is Python ({python.qualname}); not followed", via=via)
        namespace = "torch._C._VariableFunctions"
    stub_path = namespace.replace(".", "/") + ".pyi"
    stub = ctx.stub(stub_path)
    if stub is None or name not in stub:
        hop = _stop(f"{namespace}.{name}: no stub declares it ({stub_path})", via=via)
    else:
        hop = PyHop(f"{namespace}.{name}", "binding", Location(stub_path, stub[name]), via,
                    brs, pruned)
        values = tuple(_value(a, env or {}) for a in call.args) if call else ()
        keywords = tuple((k, _value(v, env or {})) for k, v in call.kwargs) if call else ()
        route.bindings.append(BindingUse(name, namespace, call, pruned,
                                         tuple(dict.fromkeys(route.pending)),
                                         values=values, keywords=keywords))
    if forwarder is not None:
        return PyHop(forwarder.name, forwarder.kind, forwarder.location, via, brs, pruned,
                     forwarder.via, (hop,))
    return hop


def walk_call(ctx: WalkContext, module: str, call: CallSite) -> tuple[PyHop | None,
                                                                      list[BindingUse], str]:
    """The route of one call written in `module` (a tensor op in the model's own forward)."""
    route = _Route(ctx, [], {})
    hop = _follow(route, module, call, {}, branches(call.conditions, {}, module), False)
    return hop, route.bindings, _first_stop(hop) if hop is not None else ""
