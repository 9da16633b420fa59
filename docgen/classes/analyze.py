"""astroid tree -> model records: classes, members, methods, and the module's symbol table.

Works on one module at a time and knows nothing of other modules: names are recorded as
written (dotted text), and resolve.py turns them into qualified targets afterwards. That keeps
each module's result a pure function of its source, which is what the cache keys on.
"""

from __future__ import annotations

import inspect
import re
import string
from collections.abc import Iterator
from dataclasses import replace

from astroid import nodes

from docgen.classes.branches import UNKNOWN, unknown_names
from docgen.classes.conditions import StaticScope
from docgen.classes.roles import group_of
from docgen.core.escape import clip
from docgen.core.records import (
    AssignmentDoc,
    BaseCall,
    BaseRef,
    Binding,
    BranchChoice,
    ClassDoc,
    ClassFactory,
    Diagnostic,
    DocstringDoc,
    Location,
    MemberDoc,
    MemberKind,
    MethodDoc,
    MethodKind,
    ModuleAnalysis,
    ModuleDoc,
    SymbolTable,
)

# Kinds ranked by how much they tell: a later, stronger sighting of a name wins.
_KIND_RANK = {
    MemberKind.ANNOTATION: 0,
    MemberKind.CLASS_ATTRIBUTE: 1,
    MemberKind.INSTANCE_ATTRIBUTE: 2,
    MemberKind.CONSTANT: 3,
    MemberKind.PROPERTY: 4,
    MemberKind.SUBMODULE: 5,
    MemberKind.BUFFER: 5,
    MemberKind.PARAMETER: 5,
}
_SETATTR_FORMS = {"super().__setattr__", "object.__setattr__", "setattr"}
_REGISTER_KINDS = {
    "register_buffer": MemberKind.BUFFER,
    "register_parameter": MemberKind.PARAMETER,
    "add_module": MemberKind.SUBMODULE,
    "register_module": MemberKind.SUBMODULE,
}
# Calls that can bind an instance member in a method: what a parse may not drop.
MEMBER_CALLS = frozenset({*_REGISTER_KINDS, "__setattr__", "setattr"})
_LITERAL_TYPES = {bool: "bool", int: "int", float: "float", str: "str", bytes: "bytes",
                  complex: "complex", type(None): "None"}
_CONTAINER_TYPES = {nodes.Dict: "dict", nodes.List: "list", nodes.Tuple: "tuple",
                    nodes.Set: "set"}


def analyze_module(tree: nodes.Module, *, name: str, path: str, distribution: str,
                   is_package: bool) -> ModuleAnalysis:
    """Classes (top-level and nested) and the symbol table of one parsed module."""
    ctx = _ModuleContext(name, path, is_package, tree)
    symbols = _symbol_table(tree, ctx)
    final = dict(symbols.bindings)
    # A class statement sees the module as it is then (`class Base(Base)` after
    # `from .x import Base`): the names bound otherwise than at the end go with the class.
    so_far = _SymbolCollector(ctx, quiet=True)
    so_far.touched = set()
    differing: dict[str, Binding] = {}  # kept up to date from the names each statement binds
    classes: list[ClassDoc] = []
    for node in tree.body:
        shadowed = tuple(sorted(differing.items()))
        classes.extend(_classes_in(node, ctx, name, shadowed, shadowed))
        so_far.add(node)
        for n in so_far.touched:
            bound = so_far.bindings.get(n)
            if bound is not None and final.get(n) != bound:
                differing[n] = bound
            else:
                differing.pop(n, None)
        so_far.touched.clear()
    module = ModuleDoc(name=name, path=path, distribution=distribution, classes=tuple(classes),
                       is_package=is_package)
    return ModuleAnalysis(module, symbols, tuple(ctx.diagnostics))


class _ModuleContext:
    def __init__(self, name: str, path: str, is_package: bool, tree: nodes.Module) -> None:
        self.name = name
        self.path = path
        self.is_package = is_package
        self.diagnostics: list[Diagnostic] = []
        self.functions = {n.name: n for n in tree.body if isinstance(n, nodes.FunctionDef)}
        self.constants = _module_constants(tree)

    def loc(self, node: nodes.NodeNG) -> Location:
        return Location(self.path, node.lineno or 0)

    def warn(self, node: nodes.NodeNG, message: str) -> None:
        self.diagnostics.append(Diagnostic(self.path, node.lineno or 0, message))


_HOLDS_CLASSES = (nodes.ClassDef, nodes.If, nodes.Try, nodes.With, nodes.ExceptHandler)


def _classes_in(node: nodes.NodeNG, ctx: _ModuleContext, prefix: str,
                shadowed: tuple[tuple[str, Binding], ...],
                scope: tuple[tuple[str, Binding], ...]) -> Iterator[ClassDoc]:
    """Class definitions reachable without running code: top level, nested, under if/try.

    `scope` holds the bindings a class statement sees that differ from the module's final
    ones: the enclosing class body's names bound before it (a nested class's bases are
    looked up there first, as Python does; class bodies do not nest) and the `shadowed`
    module names, rebound since the top-level statement that holds `node`."""
    if isinstance(node, nodes.ClassDef):
        qualname = f"{prefix}.{node.name}"
        yield replace(_analyze_class(node, ctx, qualname), scope=scope)
        body = _SymbolCollector(ctx, qualname, quiet=True)
        for child in node.body:
            if isinstance(child, _HOLDS_CLASSES):  # the scope is built only where it is read
                inner = {**dict(shadowed), **body.bindings}
                yield from _classes_in(child, ctx, qualname, shadowed,
                                       tuple(sorted(inner.items())))
            body.add(child)
    elif isinstance(node, nodes.If | nodes.Try | nodes.With):
        for child in node.get_children():
            if isinstance(child, nodes.ClassDef | nodes.If | nodes.Try | nodes.With |
                          nodes.ExceptHandler):
                yield from _classes_in(child, ctx, prefix, shadowed, scope)
    elif isinstance(node, nodes.ExceptHandler):
        for child in node.body:
            yield from _classes_in(child, ctx, prefix, shadowed, scope)


# ----------------------------------------------------------------------------------------------
# classes

class _MemberTable:
    """Collects sightings of member names and keeps the most telling one per name.

    An explicit annotation always gives the type; otherwise the type guessed from the value
    of the sighting that decided the kind.
    """

    def __init__(self, qualname: str) -> None:
        self.qualname = qualname
        self.members: dict[str, MemberDoc] = {}
        self.annotations: dict[str, str] = {}
        self.sightings: dict[str, list[AssignmentDoc]] = {}

    def add(self, name: str, kind: MemberKind, loc: Location, *, value: nodes.NodeNG | None = None,
            annotation: nodes.NodeNG | None = None, scope: str = "class",
            condition: str | None = None, via: str | None = None) -> None:
        if annotation is not None:
            self.annotations.setdefault(name, clip(annotation.as_string()))
        if value is not None or via is not None:
            self.sightings.setdefault(name, []).append(AssignmentDoc(
                value_text=_short(value) if value is not None else None, location=loc,
                scope=scope, condition=condition, via=via))
        old = self.members.get(name)
        if old is not None and _KIND_RANK[old.kind] >= _KIND_RANK[kind]:
            return
        constructor = _dotted(value.func) if isinstance(value, nodes.Call) else None
        self.members[name] = MemberDoc(
            name=name, kind=kind, type_text=_literal_type(value), defined_in=self.qualname,
            location=loc, value_text=_short(value) if value is not None else None,
            constructor=constructor)

    def result(self, constants: set[str]) -> tuple[MemberDoc, ...]:
        out = []
        for name, member in self.members.items():
            kind = member.kind
            if name in constants and _KIND_RANK[kind] < _KIND_RANK[MemberKind.CONSTANT]:
                kind = MemberKind.CONSTANT
            type_text = self.annotations.get(name, member.type_text)
            seen = tuple(sorted(self.sightings.get(name, ()), key=lambda a: a.location.line))
            out.append(replace(member, kind=kind, type_text=type_text, assignments=seen))
        return tuple(sorted(out, key=lambda m: (m.location.line, m.name)))


def _analyze_class(node: nodes.ClassDef, ctx: _ModuleContext, qualname: str) -> ClassDoc:
    members = _MemberTable(qualname)
    methods: dict[str, MethodDoc] = {}
    overloads: dict[str, list[str]] = {}
    constants: set[str] = set()
    doc = _docstring_of(node.doc_node.value if node.doc_node else None)

    for stmt in node.body:
        if isinstance(stmt, nodes.FunctionDef):
            _add_function(stmt, ctx, qualname, members, methods, overloads)
        elif isinstance(stmt, nodes.AnnAssign) and isinstance(stmt.target, nodes.AssignName):
            _add_class_assign(stmt.target.name, stmt.value, stmt.annotation, stmt, ctx,
                              qualname, members, methods)
        elif isinstance(stmt, nodes.Assign):
            for target in stmt.targets:
                if not isinstance(target, nodes.AssignName):
                    continue
                if target.name == "__doc__":
                    doc = _dynamic_docstring(stmt.value, ctx)
                elif target.name == "__constants__":
                    constants.update(_literal_strings(stmt.value))
                    members.add("__constants__", MemberKind.CLASS_ATTRIBUTE, ctx.loc(stmt),
                                value=stmt.value)
                else:
                    _add_class_assign(target.name, stmt.value, None, stmt, ctx, qualname,
                                      members, methods)

    for func in node.body:
        if isinstance(func, nodes.FunctionDef) and func.args.args:
            _collect_instance_members(func, ctx, members)

    for name, variants in overloads.items():
        impl = methods.get(name)
        if impl is not None:
            methods[name] = _replace_overloads(impl, tuple(variants))
    return ClassDoc(
        qualname=qualname,
        module=ctx.name,
        name=node.name,
        location=ctx.loc(node),
        bases=tuple(_base_ref(b) for b in node.bases),
        docstring=doc,
        members=members.result(constants),
        methods=tuple(sorted(methods.values(), key=lambda m: (m.location.line, m.name))),
    )


def _base_ref(node: nodes.NodeNG) -> BaseRef:
    """A base as written; a call (`namedtuple("P", "x y")`) described for resolve.py."""
    text = node.as_string()
    if not isinstance(node, nodes.Call) or _dotted(node.func) is None:
        return BaseRef(text=text, target=None)
    args = tuple(_dotted(a) or "" for a in node.args)
    name = node.args[0].value if node.args and _is_str(node.args[0]) else None
    return BaseRef(text=text, target=None, call=BaseCall(_dotted(node.func) or "", args, name))


def _replace_overloads(m: MethodDoc, variants: tuple[str, ...]) -> MethodDoc:
    return MethodDoc(m.name, m.signature, m.kind, m.decorators, m.summary, m.defined_in,
                     m.location, m.group, m.alias_of, variants, m.is_abstract)


def _decorator_names(func: nodes.FunctionDef) -> tuple[str, ...]:
    if not func.decorators:
        return ()
    names = []
    for dec in func.decorators.nodes:
        target = dec.func if isinstance(dec, nodes.Call) else dec
        names.append(_dotted(target) or target.as_string())
    return tuple(names)


def _add_function(func: nodes.FunctionDef, ctx: _ModuleContext, qualname: str,
                  members: _MemberTable, methods: dict[str, MethodDoc],
                  overloads: dict[str, list[str]]) -> None:
    decorators = _decorator_names(func)
    short = {d.rsplit(".", 1)[-1] for d in decorators}
    if "overload" in short:
        overloads.setdefault(func.name, []).append(_signature(func))
        return
    if "property" in short or "cached_property" in short or any(
            d.endswith((".setter", ".getter", ".deleter")) for d in decorators):
        if not any(d.endswith((".setter", ".deleter")) for d in decorators):
            members.add(func.name, MemberKind.PROPERTY, ctx.loc(func),
                        annotation=func.returns)
        return
    kind = MethodKind.METHOD
    if "staticmethod" in short:
        kind = MethodKind.STATICMETHOD
    elif "classmethod" in short:
        kind = MethodKind.CLASSMETHOD
    methods[func.name] = MethodDoc(
        name=func.name,
        signature=_signature(func),
        kind=kind,
        decorators=decorators,
        summary=_docstring_of(func.doc_node.value if func.doc_node else None).summary,
        defined_in=qualname,
        location=ctx.loc(func),
        group=group_of(func.name),
        is_abstract="abstractmethod" in short,
    )


def _add_class_assign(name: str, value: nodes.NodeNG | None, annotation: nodes.NodeNG | None,
                      stmt: nodes.NodeNG, ctx: _ModuleContext, qualname: str,
                      members: _MemberTable, methods: dict[str, MethodDoc]) -> None:
    if value is None:
        members.add(name, MemberKind.ANNOTATION, ctx.loc(stmt), annotation=annotation)
        return
    target = _alias_target(value, methods, ctx, qualname)
    if target is not None:
        func, origin = target
        methods[name] = MethodDoc(
            name=name,
            signature=_signature(func, name),
            kind=MethodKind.ALIAS,
            decorators=(),
            summary=_docstring_of(func.doc_node.value if func.doc_node else None).summary,
            defined_in=qualname,
            location=ctx.loc(stmt),
            group=group_of(name),
            alias_of=origin,
        )
        return
    members.add(name, _kind_of_value(value, MemberKind.CLASS_ATTRIBUTE), ctx.loc(stmt),
                value=value, annotation=annotation)


def _alias_target(value: nodes.NodeNG, methods: dict[str, MethodDoc], ctx: _ModuleContext,
                  qualname: str) -> tuple[nodes.FunctionDef, str] | None:
    """`__call__ = _wrapped_call_impl`: a class-level name bound to a function of the class
    body or of the module; returns the function node and what the alias points at."""
    if not isinstance(value, nodes.Name):
        return None
    scope = value.scope()
    local = scope.locals.get(value.name, []) if isinstance(scope, nodes.ClassDef) else []
    for node in local:
        if isinstance(node, nodes.FunctionDef) and value.name in methods:
            return node, f"{qualname}.{value.name}"
    func = ctx.functions.get(value.name)
    if func is not None:
        return func, f"{ctx.name}.{func.name}"
    return None


def _collect_instance_members(func: nodes.FunctionDef, ctx: _ModuleContext,
                              members: _MemberTable) -> None:
    """`self.x = ...`, the setattr forms with literal names, and `self.register_*("x", ...)`."""
    self_name = func.args.args[0].name if func.args.args else "self"
    if _decorator_names(func) and {"staticmethod", "classmethod"} & {
            d.rsplit(".", 1)[-1] for d in _decorator_names(func)}:
        return
    for node in func.nodes_of_class((nodes.AssignAttr, nodes.Call), skip_klass=(
            nodes.FunctionDef, nodes.ClassDef, nodes.Lambda)):
        if isinstance(node, nodes.AssignAttr):
            if isinstance(node.expr, nodes.Name) and node.expr.name == self_name:
                _add_assign_attr(node, ctx, members, func)
        else:
            _add_call_member(node, self_name, ctx, members, func)


def _condition(node: nodes.NodeNG, func: nodes.FunctionDef) -> str | None:
    """The `if` tests a statement of `func` sits under, outermost first (`not (t)` in else)."""
    tests: list[str] = []
    child, parent = node, node.parent
    while parent is not None and parent is not func:
        if isinstance(parent, nodes.If) and child is not parent.test:
            test = _short(parent.test, 80)
            if child in parent.orelse:
                simple = isinstance(parent.test, nodes.Name | nodes.Attribute | nodes.Call)
                test = f"not {test}" if simple else f"not ({test})"
            tests.append(test)
        child, parent = parent, parent.parent
    return " and ".join(reversed(tests)) or None


def _add_assign_attr(node: nodes.AssignAttr, ctx: _ModuleContext, members: _MemberTable,
                     func: nodes.FunctionDef) -> None:
    parent = node.parent
    value = getattr(parent, "value", None)
    annotation = parent.annotation if isinstance(parent, nodes.AnnAssign) else None
    where = {"scope": func.name, "condition": _condition(node, func)}
    if isinstance(parent, nodes.Assign | nodes.AnnAssign) and value is not None:
        kind = _kind_of_value(value, MemberKind.INSTANCE_ATTRIBUTE)
        members.add(node.attrname, kind, ctx.loc(node), value=value, annotation=annotation,
                    **where)
    else:
        members.add(node.attrname, MemberKind.INSTANCE_ATTRIBUTE, ctx.loc(node),
                    annotation=annotation, **where)


def _add_call_member(call: nodes.Call, self_name: str, ctx: _ModuleContext,
                     members: _MemberTable, func_node: nodes.FunctionDef) -> None:
    func = call.func
    args = call.args
    if isinstance(func, nodes.Attribute):
        owner = func.expr
        if func.attrname in _REGISTER_KINDS and isinstance(owner, nodes.Name) \
                and owner.name == self_name and args and _is_str(args[0]):
            value = args[1] if len(args) > 1 else None
            members.add(args[0].value, _REGISTER_KINDS[func.attrname], ctx.loc(call),
                        value=value, scope=func_node.name,
                        condition=_condition(call, func_node), via=func.attrname)
            return
        form = None
        if func.attrname == "__setattr__":
            if isinstance(owner, nodes.Call) and _dotted(owner.func) == "super":
                form, rest = "super().__setattr__", args
            elif _dotted(owner) == "object" and args and _is_self(args[0], self_name):
                form, rest = "object.__setattr__", args[1:]
        if form is None:
            return
    elif isinstance(func, nodes.Name) and func.name == "setattr" and args \
            and _is_self(args[0], self_name):
        form, rest = "setattr", args[1:]
    else:
        return
    if len(rest) >= 2 and _is_str(rest[0]) and rest[0].value.isidentifier():
        value = rest[1]
        members.add(rest[0].value, _kind_of_value(value, MemberKind.INSTANCE_ATTRIBUTE),
                    ctx.loc(call), value=value, scope=func_node.name,
                    condition=_condition(call, func_node), via=form)


def _is_self(node: nodes.NodeNG, self_name: str) -> bool:
    return isinstance(node, nodes.Name) and node.name == self_name


def _is_str(node: nodes.NodeNG) -> bool:
    return isinstance(node, nodes.Const) and isinstance(node.value, str)


def _kind_of_value(value: nodes.NodeNG, default: MemberKind) -> MemberKind:
    """Parameter(...) and Buffer(...) are telling by their callee's last name; whether a call
    builds a submodule needs the class hierarchy, so resolve.py decides that later."""
    if isinstance(value, nodes.Call):
        callee = (_dotted(value.func) or "").rsplit(".", 1)[-1]
        if callee in ("Parameter", "UninitializedParameter"):
            return MemberKind.PARAMETER
        if callee in ("Buffer", "UninitializedBuffer"):
            return MemberKind.BUFFER
    return default


def _literal_type(value: nodes.NodeNG | None) -> str | None:
    if isinstance(value, nodes.Const):
        return _LITERAL_TYPES.get(type(value.value))
    for klass, name in _CONTAINER_TYPES.items():
        if isinstance(value, klass):
            return name
    if isinstance(value, nodes.Call):
        return _dotted(value.func)
    return None


# ----------------------------------------------------------------------------------------------
# signatures, docstrings, small texts

def _signature(func: nodes.FunctionDef, name: str | None = None) -> str:
    text = f"{name or func.name}({func.args.as_string()})"
    if func.returns is not None:
        text += f" -> {func.returns.as_string()}"
    return clip(text)


def _annotation(node: nodes.NodeNG | None) -> str | None:
    return clip(node.as_string()) if node is not None else None


def _short(node: nodes.NodeNG, limit: int = 120) -> str:
    text = " ".join(node.as_string().split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _dotted(node: nodes.NodeNG | None) -> str | None:
    """`a.b.c` for a Name/Attribute chain, `super()` kept as a head; None for anything else."""
    parts: list[str] = []
    while isinstance(node, nodes.Attribute):
        parts.append(node.attrname)
        node = node.expr
    if isinstance(node, nodes.Name):
        parts.append(node.name)
    elif isinstance(node, nodes.Call) and _dotted(node.func) == "super":
        parts.append("super()")
    else:
        return None
    return ".".join(reversed(parts))


# A sentence ends at . ! or ? followed by white space, except after "e.g." and "i.e.".
_SENTENCE_END = re.compile(r"(?<!\be\.g)(?<!\bi\.e)[.!?](?=\s)")


def _summary(text: str, *, complete: bool = True) -> str | None:
    """The summary of a docstring: its first sentence, or its first paragraph when that has
    no sentence end (torch wraps summaries over several lines, so the first line alone is
    often cut mid-phrase). For a partly known text (`complete=False`), None when the
    summary might continue into the unknown part."""
    lines: list[str] = []
    ended = False
    for line in text.strip().splitlines():
        if line.strip():
            lines.append(line.strip())
        elif lines:
            ended = True
            break
    paragraph = " ".join(lines)
    match = _SENTENCE_END.search(paragraph + " ")
    # In a partial text, a sentence end counts once white space is seen after it.
    followed = match is not None and (match.end() < len(paragraph) or text != text.rstrip())
    if match is not None and (complete or followed):
        return paragraph[: match.end()]
    return paragraph if complete or ended else None


# Whole docstrings are kept for the class pages up to this many characters (a longer one is
# cut with a note, so a hostile 50 MB docstring never reaches a page whole).
MAX_DOCSTRING_TEXT = 50_000


def _docstring_of(text: str | None) -> DocstringDoc:
    if not text:
        return DocstringDoc("")
    return DocstringDoc(clip(_summary(text) or ""),
                        text=clip(inspect.cleandoc(text), MAX_DOCSTRING_TEXT))


def _dynamic_docstring(value: nodes.NodeNG, ctx: _ModuleContext) -> DocstringDoc:
    """`__doc__ = r\"\"\"...\"\"\" + ... .format(**notes)`: the summary, when it is known.

    Literal pieces are joined and `.format` is applied with dicts defined literally in this
    module. With values from elsewhere, the text is known up to the first replacement field:
    the summary is still exact when it ends before that field.
    """
    text, complete = _known_prefix(value, ctx)
    summary = _summary(text, complete=complete)
    known, whole = _known_text(value, ctx)
    body = inspect.cleandoc(known) if known.strip() else ""
    body = clip(body, MAX_DOCSTRING_TEXT)
    if summary:
        return DocstringDoc(clip(summary), text=body, is_partial=not whole)
    return DocstringDoc("", is_dynamic=True, text=body, is_partial=not whole)


def _known_text(node: nodes.NodeNG, ctx: _ModuleContext) -> tuple[str, bool]:
    """A string expression with every statically known piece filled in; a replacement field
    whose value is only known at run time becomes `[name: filled in at run time]`."""
    if _is_str(node):
        return str(node.value), True
    if isinstance(node, nodes.BinOp) and node.op == "+":
        left, lw = _known_text(node.left, ctx)
        right, rw = _known_text(node.right, ctx)
        return left + right, lw and rw
    if isinstance(node, nodes.Call) and isinstance(node.func, nodes.Attribute) \
            and node.func.attrname == "format" and not node.args:
        template, whole = _known_text(node.func.expr, ctx)
        kwargs, all_known = _partial_format_kwargs(node, ctx)
        out: list[str] = []
        try:
            for literal, field_name, _, _ in string.Formatter().parse(template):
                out.append(literal)
                if field_name is None:
                    continue
                if field_name in kwargs:
                    out.append(kwargs[field_name])
                else:
                    whole = False
                    out.append(f"[{field_name}: filled in at run time]")
        except ValueError:
            return template, False
        return "".join(out), whole and all_known
    return "", False


def _partial_format_kwargs(call: nodes.Call, ctx: _ModuleContext) -> tuple[dict[str, str], bool]:
    """The keyword values of a `.format(...)` call that are literal here, and whether all are."""
    kwargs: dict[str, str] = {}
    all_known = True
    for kw in call.keywords or []:
        if kw.arg is None and isinstance(kw.value, nodes.Name) and kw.value.name in ctx.constants:
            kwargs.update(ctx.constants[kw.value.name])
        elif kw.arg is not None and _is_str(kw.value):
            kwargs[kw.arg] = kw.value.value
        else:
            all_known = False
    return kwargs, all_known


def _known_prefix(node: nodes.NodeNG, ctx: _ModuleContext) -> tuple[str, bool]:
    """The statically known start of a string expression, and whether that is all of it."""
    if _is_str(node):
        return str(node.value), True
    if isinstance(node, nodes.BinOp) and node.op == "+":
        left, complete = _known_prefix(node.left, ctx)
        if not complete:
            return left, False
        right, complete = _known_prefix(node.right, ctx)
        return left + right, complete
    if isinstance(node, nodes.Call) and isinstance(node.func, nodes.Attribute) \
            and node.func.attrname == "format" and not node.args:
        template, complete = _known_prefix(node.func.expr, ctx)
        kwargs = _format_kwargs(node, ctx)
        if complete and kwargs is not None:
            try:
                return template.format(**kwargs), True
            except (KeyError, IndexError, ValueError):
                pass
        return _before_first_field(template), False
    return "", False


def _format_kwargs(call: nodes.Call, ctx: _ModuleContext) -> dict[str, str] | None:
    """The keyword values of a `.format(...)` call when every one is literal here."""
    kwargs, all_known = _partial_format_kwargs(call, ctx)
    return kwargs if all_known else None


def _before_first_field(template: str) -> str:
    out = []
    try:
        for literal, field_name, _, _ in string.Formatter().parse(template):
            out.append(literal)
            if field_name is not None:
                break
    except ValueError:
        return ""
    return "".join(out)


def _literal_concat(node: nodes.NodeNG) -> str | None:
    if _is_str(node):
        return str(node.value)
    if isinstance(node, nodes.BinOp) and node.op == "+":
        left, right = _literal_concat(node.left), _literal_concat(node.right)
        if left is not None and right is not None:
            return left + right
    return None


def _literal_strings(node: nodes.NodeNG) -> list[str]:
    if isinstance(node, nodes.List | nodes.Tuple | nodes.Set):
        return [e.value for e in node.elts if _is_str(e)]
    return []


def _module_constants(tree: nodes.Module) -> dict[str, dict[str, str]]:
    """Module-level dicts of string literals (`convolution_notes = {...}`), for __doc__."""
    found: dict[str, dict[str, str]] = {}
    for stmt in tree.body:
        if isinstance(stmt, nodes.Assign) and len(stmt.targets) == 1 \
                and isinstance(stmt.targets[0], nodes.AssignName) \
                and isinstance(stmt.value, nodes.Dict):
            items = {}
            for key, val in stmt.value.items:
                text = _literal_concat(val)
                if _is_str(key) and text is not None:
                    items[key.value] = text
            found[stmt.targets[0].name] = items
    return found


# ----------------------------------------------------------------------------------------------
# symbol table

_IDENT = re.compile(r"^[A-Za-z_][\w.]*$")


class _SymbolCollector:
    """The bindings of a module (or class body) as Python leaves them after running it.

    A later statement rebinds a name (`from .x import Base` then `class Base:`), except that
    an opaque value (`Base = wrap(Base)`) never hides a binding that says more. An `if` whose
    test is decided statically (conditions.py) runs its one branch. Of branches of which one
    runs otherwise (if/elif/else, try/except), the first that binds a name wins; under
    `if TYPE_CHECKING:` the else branch is the one that runs. Names bound to values known
    statically are kept for later tests: after an undecided `if`, only where every branch
    agrees; after a `try`, as its body left them (docgen's assumption: imports succeed).
    """

    def __init__(self, ctx: _ModuleContext, prefix: str | None = None, *,
                 quiet: bool = False) -> None:
        self.ctx = ctx
        self.prefix = prefix or ctx.name
        self.quiet = quiet  # a second pass over statements already warned about
        self.bindings: dict[str, Binding] = {}
        self.stars: list[str] = []
        self.exported: list[str] | None = None
        self.static = StaticScope(ctx.name, ctx.is_package)
        self.choices: list[BranchChoice] = []
        self.touched: set[str] | None = None  # when a set: every name `bind` was called for

    def bind(self, name: str, kind: str, target: str, line: int) -> None:
        self.static.constants.pop(name, None)
        if self.touched is not None:
            self.touched.add(name)
        old = self.bindings.get(name)
        if kind == "value" and old is not None and old.kind != "value":
            return
        self.bindings[name] = Binding(kind, target, line)

    def add_block(self, stmts: list[nodes.NodeNG]) -> None:
        for stmt in stmts:
            self.add(stmt)

    def add_branches(self, branches: list[list[nodes.NodeNG]], *, first_runs: bool = False,
                     ) -> list[tuple[dict[str, Binding], dict[str, object]]]:
        """Alternatives of which one runs, most likely first (`first_runs`: assumed to);
        returns what each branch bound, and the constants it left."""
        before = self.bindings
        constants_before = self.static.constants
        merged = dict(before)
        taken: set[str] = set()
        outcomes = []
        bound = []
        for stmts in branches:
            self.bindings = dict(before)
            self.static.constants = dict(constants_before)
            self.add_block(stmts)
            changed = {n: b for n, b in self.bindings.items() if before.get(n) is not b}
            merged.update({n: b for n, b in changed.items() if n not in taken})
            taken.update(changed)
            outcomes.append(self.static.constants)
            bound.append((changed, self.static.constants))
        self.bindings = merged
        self.static.constants = outcomes[0] if first_runs else _agreed(outcomes)
        return bound

    def add(self, stmt: nodes.NodeNG) -> None:
        line = stmt.lineno or 0
        if isinstance(stmt, nodes.If):
            branches = [stmt.body, stmt.orelse]
            # A TYPE_CHECKING block still names what annotations mean: kept, second.
            truth = None if _is_type_checking(stmt.test) else self.static.truth(stmt.test)
            if truth is not None:
                self.add_block(stmt.body if truth else stmt.orelse)
            elif _is_type_checking(stmt.test):
                self.add_branches(branches[::-1])
            else:
                outcomes = self.add_branches(branches)
                self.add_choice(self.static.test(stmt.test), outcomes)
        elif isinstance(stmt, nodes.Try):
            outcomes = self.add_branches([[*stmt.body, *stmt.orelse],
                                          *(handler.body for handler in stmt.handlers)],
                                         first_runs=True)
            imports = self.imports_of(stmt.body)
            if imports and stmt.handlers:
                self.add_choice(("importable", imports), outcomes[:2])
            self.add_block(stmt.finalbody)
        elif isinstance(stmt, nodes.With):
            self.add_block(stmt.body)
        elif isinstance(stmt, nodes.Import):
            for modname, alias in stmt.names:
                head = alias or modname.split(".")[0]
                self.bind(head, "import", modname if alias else head, line)
        elif isinstance(stmt, nodes.ImportFrom):
            self.add_import_from(stmt, line)
        elif isinstance(stmt, nodes.ClassDef | nodes.FunctionDef):
            kind = "class" if isinstance(stmt, nodes.ClassDef) else "function"
            self.bind(stmt.name, kind, f"{self.prefix}.{stmt.name}", line)
        elif isinstance(stmt, nodes.Assign | nodes.AnnAssign):
            targets = stmt.targets if isinstance(stmt, nodes.Assign) else [stmt.target]
            for target in targets:
                if isinstance(target, nodes.AssignName):
                    self.add_assign(target.name, stmt.value, line)
        elif isinstance(stmt, nodes.AugAssign) and isinstance(stmt.target, nodes.AssignName) \
                and stmt.target.name == "__all__" and self.exported is not None:
            self.exported = self.exported + _literal_strings(stmt.value)

    def add_choice(self, test: tuple[object, ...] | None,
                   outcomes: list[tuple[dict[str, Binding], dict[str, object]]]) -> None:
        """Keep an undecided branch for resolve.py, when its test names things elsewhere."""
        (then, then_constants), (otherwise, otherwise_constants) = outcomes
        if test is None or not unknown_names(test) or not (then or otherwise
                                                          or then_constants != otherwise_constants):
            return
        self.choices.append(BranchChoice(
            test, tuple(sorted(then.items())), tuple(sorted(otherwise.items())),
            tuple(sorted(then_constants.items())), tuple(sorted(otherwise_constants.items()))))

    def imports_of(self, stmts: list[nodes.NodeNG]) -> tuple[tuple[str, str | None], ...]:
        """The modules (and names from them) the import statements of `stmts` need."""
        found: list[tuple[str, str | None]] = []
        for stmt in stmts:
            if isinstance(stmt, nodes.Import):
                found.extend((modname, None) for modname, _ in stmt.names)
            elif isinstance(stmt, nodes.ImportFrom):
                base = _absolute(stmt.modname, stmt.level or 0, self.ctx)
                if base:
                    found.extend((base, None if n == "*" else n) for n, _ in stmt.names)
        return tuple(found)

    def add_import_from(self, stmt: nodes.ImportFrom, line: int) -> None:
        base = _absolute(stmt.modname, stmt.level or 0, self.ctx)
        if base is None:
            if self.quiet:
                return
            self.ctx.warn(stmt, "relative import beyond the top-level package: "
                          f"{stmt.as_string()}")
            return
        for name, alias in stmt.names:
            if name == "*":
                self.stars.append(base)
            else:
                self.bind(alias or name, "import", f"{base}.{name}", line)

    def add_assign(self, name: str, value: nodes.NodeNG | None, line: int) -> None:
        if name == "__all__":
            self.exported = _literal_strings(value) if value else self.exported
            return
        dotted = _dotted(value) if value is not None else None
        known = self.static.value(value) if value is not None else UNKNOWN
        if dotted and _IDENT.match(dotted):
            self.bind(name, "alias", dotted, line)
        else:
            self.bind(name, "value", f"{self.prefix}.{name}", line)
        if known is not UNKNOWN:
            self.static.constants[name] = known


def _agreed(outcomes: list[dict[str, object]]) -> dict[str, object]:
    """The statically known names every branch left with the same value."""
    first, *rest = outcomes
    return {n: v for n, v in first.items()
            if all(n in o and type(o[n]) is type(v) and o[n] == v for o in rest)}


def _is_type_checking(test: nodes.NodeNG) -> bool:
    """`TYPE_CHECKING`, `typing.TYPE_CHECKING`, or either in an `and`: false at run time."""
    if isinstance(test, nodes.BoolOp) and test.op == "and":
        return any(_is_type_checking(v) for v in test.values)
    return (_dotted(test) or "").rsplit(".", 1)[-1] == "TYPE_CHECKING"


def _symbol_table(tree: nodes.Module, ctx: _ModuleContext) -> SymbolTable:
    collector = _SymbolCollector(ctx)
    collector.add_block(tree.body)
    return SymbolTable(
        name=ctx.name,
        is_package=ctx.is_package,
        bindings=tuple(sorted(collector.bindings.items())),
        star_imports=tuple(collector.stars),
        exports=tuple(collector.exported) if collector.exported is not None else None,
        factories=tuple(sorted(_factories(tree.body, ctx.name))),
        constants=tuple(sorted(collector.static.constants.items())),
        choices=tuple(collector.choices),
    )


def _factories(stmts: list[nodes.NodeNG], prefix: str) -> Iterator[tuple[str, ClassFactory]]:
    """Functions and methods (top level, in classes, under if/try) that make a class."""
    for stmt in stmts:
        if isinstance(stmt, nodes.FunctionDef):
            factory = _factory(stmt)
            if factory is not None:
                yield f"{prefix}.{stmt.name}", factory
        elif isinstance(stmt, nodes.ClassDef):
            yield from _factories(stmt.body, f"{prefix}.{stmt.name}")
        elif isinstance(stmt, nodes.If | nodes.Try):
            yield from _factories([*stmt.body, *stmt.orelse, *getattr(stmt, "finalbody", []),
                                   *(s for h in getattr(stmt, "handlers", []) for s in h.body)],
                                  prefix)


def _factory(func: nodes.FunctionDef) -> ClassFactory | None:
    """`return type(name, (cls, Mixin), namespace)`: every such return makes the same bases."""
    made: set[tuple[tuple[str, ...], str | None]] = set()
    for ret in func.nodes_of_class(nodes.Return, skip_klass=(nodes.FunctionDef, nodes.ClassDef,
                                                             nodes.Lambda)):
        call = ret.value
        if not (isinstance(call, nodes.Call) and _dotted(call.func) == "type"
                and len(call.args) == 3 and isinstance(call.args[1], nodes.Tuple)):
            continue
        bases = tuple(_dotted(b) or "" for b in call.args[1].elts)
        if "" in bases:
            return None  # a base docgen cannot name
        name = call.args[0]
        made.add((bases, name.name if isinstance(name, nodes.Name) else None))
    if len(made) != 1:
        return None
    (bases, name_param), = made
    params = tuple(a.name for a in [*(func.args.posonlyargs or []), *(func.args.args or [])])
    is_classmethod = "classmethod" in {d.rsplit(".", 1)[-1] for d in _decorator_names(func)}
    return ClassFactory(params, bases, is_classmethod,
                        name_param if name_param in params else None)


def _absolute(modname: str | None, level: int, ctx: _ModuleContext) -> str | None:
    if level == 0:
        return modname or ""
    package = ctx.name.split(".") if ctx.is_package else ctx.name.split(".")[:-1]
    if level - 1 > len(package) - 1 and level > len(package):
        return None
    base = package[: len(package) - (level - 1)]
    if not base:
        return None
    return ".".join([*base, modname] if modname else base)
