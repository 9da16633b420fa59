"""Analysis of function bodies for the walk: astroid tree -> ModuleFlow (calls with the branch
conditions leading to them); like analyze.py it reads syntax only and never infers or imports.
"""

from __future__ import annotations

from collections.abc import Iterable

from astroid import nodes

from docgen.walk.records import CallSite, Condition, FlowExpr, FunctionFlow, ModuleFlow

GUARD_PREFIX = "has_torch_function"


def dotted_text(node: nodes.NodeNG) -> str | None:
    """`a.b.c` for a Name/Attribute chain, else None."""
    if isinstance(node, nodes.Name):
        return node.name
    if isinstance(node, nodes.Attribute):
        head = dotted_text(node.expr)
        return f"{head}.{node.attrname}" if head else None
    return None


def flow_expr(node: nodes.NodeNG) -> FlowExpr:
    """A small serialisable form of an expression, enough to decide simple conditions."""
    text = node.as_string()
    if isinstance(node, nodes.Name):
        return FlowExpr("name", text)
    if isinstance(node, nodes.Attribute):
        return FlowExpr("attr", dotted_text(node) or text)
    if isinstance(node, nodes.Const):
        return FlowExpr("const", repr(node.value))
    if isinstance(node, nodes.Compare) and len(node.ops) == 1:
        op, right = node.ops[0]
        return FlowExpr("compare", text, (flow_expr(node.left), flow_expr(right)), op)
    if isinstance(node, nodes.BoolOp):
        return FlowExpr(node.op, text, tuple(flow_expr(v) for v in node.values))
    if isinstance(node, nodes.UnaryOp) and node.op == "not":
        return FlowExpr("not", text, (flow_expr(node.operand),))
    if isinstance(node, nodes.Call):
        func = dotted_text(node.func) or ""
        if (func == "isinstance" and len(node.args) == 2) or func in TENSOR_FACTORIES:
            return FlowExpr("call", text, tuple(flow_expr(a) for a in node.args), func)
        return FlowExpr("call", text, op=func)
    if isinstance(node, nodes.IfExp):
        return FlowExpr("ifexp", text, (flow_expr(node.test), flow_expr(node.body),
                                        flow_expr(node.orelse)))
    if isinstance(node, nodes.BinOp) and node.op in ("+", "-", "*", "//"):
        return FlowExpr("binop", text, (flow_expr(node.left), flow_expr(node.right)), node.op)
    if isinstance(node, nodes.Tuple | nodes.List):
        return FlowExpr("tuple", text, tuple(flow_expr(e) for e in node.elts))
    return FlowExpr("other", text)


# `torch.zeros(2, n, 20)`: calls whose positional arguments are the new tensor's sizes
TENSOR_FACTORIES = ("torch.zeros", "torch.ones", "torch.empty", "torch.randn", "torch.rand")


def _is_guard(test: nodes.NodeNG) -> bool:
    return any(isinstance(c, nodes.Call) and (dotted_text(c.func) or "").rsplit(".", 1)[-1]
               .startswith(GUARD_PREFIX) for c in test.nodes_of_class(nodes.Call))


def _terminates(body: list[nodes.NodeNG]) -> bool:
    return bool(body) and isinstance(body[-1], nodes.Return | nodes.Raise)


class _BodyReader:
    """Collects the calls of one function body, tracking branch conditions and local aliases."""

    def __init__(self) -> None:
        self.calls: list[CallSite] = []
        self.aliases: dict[str, nodes.NodeNG] = {}
        self.assigned: list[tuple[str, FlowExpr | None, tuple[Condition, ...]]] = []

    def block(self, stmts: Iterable[nodes.NodeNG], conds: tuple[Condition, ...],
              guard: bool) -> None:
        for stmt in stmts:
            if isinstance(stmt, nodes.If):
                conds = self._if(stmt, conds, guard)
            elif isinstance(stmt, nodes.FunctionDef | nodes.ClassDef):
                continue  # nested definitions run only when called; not on the main route
            elif isinstance(stmt, nodes.Assign | nodes.AnnAssign):
                self._assign(stmt, conds, guard)
            elif isinstance(stmt, nodes.Return | nodes.Expr):
                if stmt.value is not None:
                    self.expr(stmt.value, conds, guard)
            else:
                for child in stmt.get_children():
                    if isinstance(child, nodes.NodeNG) and child.is_statement:
                        self.block([child], conds, guard)

    def _if(self, stmt: nodes.If, conds: tuple[Condition, ...],
            guard: bool) -> tuple[Condition, ...]:
        is_guard = _is_guard(stmt.test)
        test = flow_expr(stmt.test)
        at = len(self.assigned)
        self.block(stmt.body, (*conds, Condition(test, stmt.lineno, True, at)),
                   guard or is_guard)
        self.block(stmt.orelse, (*conds, Condition(test, stmt.lineno, False, at)), guard)
        if _terminates(stmt.body) and not stmt.orelse and not is_guard:
            if isinstance(stmt.body[-1], nodes.Raise):
                # `if c: raise ...`: a check; the walk follows the run that passes it
                return conds
            # Code after `if c: return ...` only runs when c is false.
            return (*conds, Condition(test, stmt.lineno, False, at))
        return conds

    def _assign(self, stmt: nodes.Assign | nodes.AnnAssign, conds: tuple[Condition, ...],
                guard: bool) -> None:
        if stmt.value is None:
            return
        targets = stmt.targets if isinstance(stmt, nodes.Assign) else [stmt.target]
        if len(targets) == 1 and isinstance(targets[0], nodes.AssignName) and isinstance(
                stmt.value, nodes.Name | nodes.Attribute | nodes.IfExp):
            self.aliases[targets[0].name] = stmt.value
        self.expr(stmt.value, conds, guard)
        for target in targets:
            if isinstance(target, nodes.AssignName):
                self.assigned.append((target.name, flow_expr(stmt.value), conds))
            elif isinstance(target, nodes.Tuple | nodes.List):
                self.assigned.extend((t.name, None, conds) for t in target.elts
                                     if isinstance(t, nodes.AssignName))

    def expr(self, node: nodes.NodeNG, conds: tuple[Condition, ...], guard: bool) -> None:
        if isinstance(node, nodes.IfExp):
            test = flow_expr(node.test)
            at = len(self.assigned)
            self.expr(node.body, (*conds, Condition(test, node.lineno, True, at)), guard)
            self.expr(node.orelse, (*conds, Condition(test, node.lineno, False, at)), guard)
            return
        if isinstance(node, nodes.Call):
            self._call(node, conds, guard)
            for arg in [*node.args, *(k.value for k in node.keywords or ())]:
                self.expr(arg, conds, guard)
            return
        if isinstance(node, nodes.Lambda | nodes.FunctionDef):
            return
        for child in node.get_children():
            self.expr(child, conds, guard)

    def _call(self, node: nodes.Call, conds: tuple[Condition, ...], guard: bool) -> None:
        args = tuple(flow_expr(a) for a in node.args)
        kwargs = tuple((k.arg, flow_expr(k.value)) for k in node.keywords or () if k.arg)
        for callee, extra in self._callees(node.func):
            self.calls.append(CallSite(callee, node.lineno, args, kwargs, (*conds, *extra),
                                       guard, len(self.assigned)))

    def _callees(self, func: nodes.NodeNG) -> list[tuple[str, tuple[Condition, ...]]]:
        """The dotted callees of `func`; a local alias (`forward_call = a if c else b`) is
        expanded to its candidates, each under its condition."""
        if isinstance(func, nodes.Name) and func.name in self.aliases:
            value = self.aliases[func.name]
            if isinstance(value, nodes.IfExp):
                test = flow_expr(value.test)
                out: list[tuple[str, tuple[Condition, ...]]] = []
                for side, holds in ((value.body, True), (value.orelse, False)):
                    text = dotted_text(side)
                    if text:
                        out.append((text, (Condition(test, value.lineno, holds),)))
                return out
            text = dotted_text(value)
            return [(text, ())] if text else []
        text = dotted_text(func)
        if text is None and isinstance(func, nodes.Attribute) and isinstance(
                func.expr, nodes.Call) and not func.expr.args \
                and dotted_text(func.expr.func) == "super":
            text = f"super().{func.attrname}"  # the next class's method in the MRO
        return [(text, ())] if text else []


def function_flow(fn: nodes.FunctionDef, qualname: str, path: str) -> FunctionFlow:
    reader = _BodyReader()
    reader.block(fn.body, (), False)
    return FunctionFlow(qualname, path, fn.lineno, _params(fn.args), tuple(reader.calls),
                        tuple(reader.assigned), _constant_return(fn))


def _constant_return(fn: nodes.FunctionDef) -> FlowExpr | None:
    """The literal a function always returns, when its body is only `return <literal>`."""
    body = [s for s in fn.body if not (isinstance(s, nodes.Expr)
                                       and isinstance(s.value, nodes.Const))]
    if len(body) == 1 and isinstance(body[0], nodes.Return) \
            and isinstance(body[0].value, nodes.Const):
        return flow_expr(body[0].value)
    return None


def _params(args: nodes.Arguments) -> tuple[tuple[str, FlowExpr | None], ...]:
    positional = [*(args.posonlyargs or []), *(args.args or [])]
    defaults = [None] * (len(positional) - len(args.defaults)) + list(args.defaults)
    out = [(a.name, flow_expr(d) if d is not None else None)
           for a, d in zip(positional, defaults, strict=True)]
    for a, d in zip(args.kwonlyargs or [], args.kw_defaults or [], strict=False):
        out.append((a.name, flow_expr(d) if d is not None else None))
    return tuple(out)


def is_overload_stub(fn: nodes.FunctionDef) -> bool:
    """`@overload def forward(...)`: a typing stub; the implementation is the plain `def` of
    the same name that follows it. TorchScript's `@_overload` (torch._jit_internal, as
    torch.nn.functional imports it for `interpolate`) is one too."""
    for decorator in fn.decorators.nodes if fn.decorators else ():
        text = dotted_text(decorator) or ""
        if text in ("overload", "typing.overload", "typing_extensions.overload", "_overload",
                    "torch._jit_internal._overload", "torch.jit._overload"):
            return True
    return False


def _class_facts(cls: nodes.ClassDef, module: str, path: str, functions: list[FunctionFlow],
                 aliases: list[tuple[str, str, int]], forwarders: list[tuple[str, int]]) -> None:
    for item in cls.body:
        if isinstance(item, nodes.FunctionDef) and is_overload_stub(item):
            continue
        if isinstance(item, nodes.FunctionDef):
            functions.append(function_flow(item, f"{module}.{cls.name}.{item.name}", path))
        elif isinstance(item, nodes.Assign | nodes.AnnAssign) and item.value is not None:
            targets = item.targets if isinstance(item, nodes.Assign) else [item.target]
            text = dotted_text(item.value)
            for target in targets:
                if isinstance(target, nodes.AssignName) and text:
                    aliases.append((f"{cls.name}.{target.name}", text, item.lineno))
    if any(isinstance(i, nodes.FunctionDef) and i.name == "__getattr__" for i in cls.body):
        for attr in cls.nodes_of_class(nodes.Attribute):
            text = dotted_text(attr)
            if text and text.startswith("torch._C."):
                forwarders.append((text, attr.lineno))


def module_flow(tree: nodes.Module, module: str, path: str) -> ModuleFlow:
    """Function and method bodies, call assignments, class aliases and forwarders of a module."""
    functions: list[FunctionFlow] = []
    assignments: list[tuple[str, CallSite]] = []
    aliases: list[tuple[str, str, int]] = []
    forwarders: list[tuple[str, int]] = []
    for item in tree.body:
        if isinstance(item, nodes.FunctionDef) and is_overload_stub(item):
            continue
        if isinstance(item, nodes.FunctionDef):
            functions.append(function_flow(item, f"{module}.{item.name}", path))
        elif isinstance(item, nodes.ClassDef):
            _class_facts(item, module, path, functions, aliases, forwarders)
        elif isinstance(item, nodes.Assign) and isinstance(item.value, nodes.Call):
            reader = _BodyReader()
            reader._call(item.value, (), False)
            for target in item.targets:
                if isinstance(target, nodes.AssignName) and reader.calls:
                    assignments.append((target.name, reader.calls[0]))
    return ModuleFlow(module, path, tuple(functions), tuple(assignments), tuple(aliases),
                      tuple(forwarders))


def stub_functions(tree: nodes.Module) -> dict[str, int]:
    """Names a `.pyi` stub defines at module level, with the line of the first definition."""
    out: dict[str, int] = {}
    for item in tree.body:
        if isinstance(item, nodes.FunctionDef):
            out.setdefault(item.name, item.lineno)
    return out


def layer_calls(tree: nodes.Module, cls_name: str) -> list[tuple[str, CallSite]]:
    """`self.x = <call>` in the class's `__init__`: (attribute, the call) in source order."""
    out: list[tuple[str, CallSite]] = []
    cls = next((c for c in tree.body if isinstance(c, nodes.ClassDef) and c.name == cls_name),
               None)
    init = next((f for f in cls.body if isinstance(f, nodes.FunctionDef)
                 and f.name == "__init__"), None) if cls is not None else None
    for stmt in init.body if init is not None else ():
        if isinstance(stmt, nodes.Assign) and isinstance(stmt.value, nodes.Call):
            for target in stmt.targets:
                if isinstance(target, nodes.AssignAttr) and dotted_text(target.expr) == "self":
                    out.append((target.attrname, _layer_call(stmt.value)))
    return out


def _layer_call(call: nodes.Call) -> CallSite:
    """A constructor call; positional args that are calls themselves (nn.Sequential's layers)
    keep their own CallSite in `parts` of a `call` FlowExpr."""
    args = tuple(_layer_arg(a) for a in call.args)
    kwargs = tuple((k.arg, _layer_arg(k.value)) for k in call.keywords or () if k.arg)
    return CallSite(dotted_text(call.func) or call.func.as_string(), call.lineno, args, kwargs,
                    ())


def _layer_arg(node: nodes.NodeNG) -> FlowExpr:
    if isinstance(node, nodes.Call):
        inner = _layer_call(node)
        parts = (*inner.args, *(FlowExpr("keyword", v.text, (v,), k) for k, v in inner.kwargs))
        return FlowExpr("call", f"{node.lineno}", parts, inner.callee)
    return flow_expr(node)
