"""The only place that parses Python: astroid trees for the class model, stdlib `ast` trees
for the model evaluator; decode, syntax and I/O errors become SourceError."""

from __future__ import annotations

import ast
import bisect
import functools
import re
from typing import TYPE_CHECKING, Any

from docgen.core.errors import SourceError
from docgen.sources.locate import decode_source

if TYPE_CHECKING:
    from astroid import nodes


@functools.cache
def _builder() -> Any:
    """One builder without transforms: docgen reads syntax, it never asks astroid to infer or
    import. astroid is imported on first use: the model evaluator reads stdlib `ast` only."""
    import astroid
    from astroid.builder import AstroidBuilder

    return AstroidBuilder(astroid.MANAGER, apply_transforms=False)


def parse_module(data: bytes, modname: str, path: str, *,
                 function_bodies: bool = True,
                 member_calls: frozenset[str] | None = None) -> nodes.Module:
    """An astroid Module for `data`; raises SourceError(path, line, reason) when it can't.

    With `function_bodies=False`, module-level functions keep their signature and docstring
    but lose their body before astroid sees them: the class model never looks inside them,
    and on all of torch they are most of the code astroid would otherwise convert. With
    `member_calls` too, a method's body keeps only its docstring and the statements that
    can bind an instance member (an attribute store, or a call of one of `member_calls`,
    outside nested functions and classes), under the `if`s and loops that hold them.
    Either way a `return type(name, bases, namespace)` stays: it makes a class factory.
    """
    text = decode_source(data, path)
    if path.endswith(".pyx"):  # an extension module's Cython source (sources/locate.py)
        from docgen.classes.cython import cython_as_python

        text = cython_as_python(text)
    if function_bodies:
        return _build(text, modname, path)
    try:
        tree = _parse_ast(text)
    except (SyntaxError, ValueError, MemoryError, RecursionError) as exc:
        line = getattr(exc, "lineno", None) or 1
        raise SourceError(path, line, f"syntax error: {getattr(exc, 'msg', exc)}") from exc
    _drop_module_function_bodies(tree)
    if member_calls is not None:
        _keep_member_statements(tree, member_calls, _hot_lines(text, member_calls))
    try:
        import astroid
        from astroid.rebuilder import TreeRebuilder

        return TreeRebuilder(astroid.MANAGER, text).visit_module(
            tree, modname, path, path.endswith("__init__.py"))
    except (ValueError, RecursionError, MemoryError) as exc:
        raise SourceError(path, 1, f"cannot parse: {type(exc).__name__}: {exc}") from exc


def parse_python(data: bytes, path: str) -> tuple[str, ast.Module]:
    """(decoded text, stdlib `ast` tree) of a source file, for the model evaluator.

    Cached by content and path, so a model's own file is parsed once per run however many
    evaluations read it. The tree is shared: callers must not change it.
    """
    return _parse_python_cached(data, path)


@functools.lru_cache(maxsize=512)
def _parse_python_cached(data: bytes, path: str) -> tuple[str, ast.Module]:
    text = decode_source(data, path)
    try:
        return text, ast.parse(text, path)
    except (SyntaxError, ValueError, MemoryError, RecursionError) as exc:
        line = getattr(exc, "lineno", None) or 1
        raise SourceError(path, line, f"syntax error: {getattr(exc, 'msg', exc)}") from exc


def code_fingerprint(data: bytes, path: str) -> str | None:
    """A digest of a module's code in which its docstrings' text does not count, but where
    every statement and expression sits does (line and column): two versions with the same
    digest differ only inside docstrings that span the same lines. None when the file does
    not parse or mentions `__doc__` (its docstrings may then be values it computes with)."""
    if b"__doc__" in data:
        return None
    try:
        text = decode_source(data, path)
        tree = ast.parse(text, path)  # a tree of its own: the docstrings are blanked below
    except (SourceError, SyntaxError, ValueError, MemoryError, RecursionError):
        return None
    holders = (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)
    for node in ast.walk(tree):
        body = getattr(node, "body", None) if isinstance(node, holders) else None
        doc = body[0] if body else None
        if isinstance(doc, ast.Expr) and isinstance(doc.value, ast.Constant) \
                and isinstance(doc.value.value, str):
            doc.value.value = ""
            for part in (doc, doc.value):  # where it ends moves with its text
                part.end_col_offset = None
    try:
        dumped = ast.dump(tree, include_attributes=True)
    except RecursionError:
        return None
    import hashlib

    return hashlib.sha256(dumped.encode("utf-8", "surrogatepass")).hexdigest()


def _parse_ast(text: str) -> ast.Module:
    try:
        return ast.parse(text, type_comments=True)
    except SyntaxError:
        # A malformed type comment is no reason to give up on the file.
        return ast.parse(text)


def _drop_module_function_bodies(tree: ast.Module) -> None:
    stack: list[ast.stmt] = list(tree.body)
    while stack:
        node = stack.pop()
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            first = node.body[0]
            keep: list[ast.stmt] = [first] if isinstance(first, ast.Expr) and isinstance(
                first.value, ast.Constant) and isinstance(first.value.value, str) else []
            keep += [s for s in node.body[len(keep):] if _returns_made_class(s)]
            if len(node.body) > len(keep):
                last = node.body[-1]
                stub = ast.Pass(lineno=last.lineno, col_offset=last.col_offset,
                                end_lineno=last.end_lineno, end_col_offset=last.end_col_offset)
                node.body = [*keep, stub]
        elif isinstance(node, ast.If | ast.Try | ast.With):
            for field in ("body", "orelse", "finalbody"):
                stack.extend(getattr(node, field, []))
            for handler in getattr(node, "handlers", []):
                stack.extend(handler.body)


_BLOCK_FIELDS = ("body", "orelse", "finalbody")
_SCOPES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)


@functools.lru_cache(maxsize=8)
def _hot_words(calls: frozenset[str]) -> re.Pattern[str]:
    return re.compile("|".join(re.escape(w) for w in sorted({*calls, "for"})))


def _hot_lines(text: str, calls: frozenset[str]) -> list[int]:
    """The sorted numbers of the lines where one of `calls` or the word `for` is written.

    A statement on none of them can bind a member only through its own assignment targets:
    a call of one of `calls` names it in the text, and an attribute is a store target
    elsewhere only in a `for` (a loop or a comprehension)."""
    starts = [0, *(m.end() for m in re.finditer("\n", text))]
    lines = {bisect.bisect_right(starts, m.start()) for m in _hot_words(calls).finditer(text)}
    return sorted(lines)


def _keep_member_statements(tree: ast.Module, calls: frozenset[str],
                            hot: list[int] | None = None) -> None:
    """Prune every method body of `tree` to the statements that may bind a member; `hot`
    (from `_hot_lines`) lets statements on other lines skip the walk of their expressions."""
    stack: list[ast.stmt] = list(tree.body)
    while stack:
        node = stack.pop()
        if isinstance(node, ast.ClassDef):
            for stmt in node.body:
                if isinstance(stmt, ast.FunctionDef | ast.AsyncFunctionDef):
                    first = stmt.body[0]
                    doc = [first] if isinstance(first, ast.Expr) and isinstance(
                        first.value, ast.Constant) and isinstance(first.value.value, str) else []
                    stmt.body = [*doc, *_member_statements(stmt.body[len(doc):], calls, hot)] \
                        or [_stub(stmt.body[-1])]
            stack.extend(node.body)
        elif isinstance(node, ast.If | ast.Try | ast.TryStar | ast.With | ast.AsyncWith):
            for field in _BLOCK_FIELDS:
                stack.extend(getattr(node, field, []))
            for handler in getattr(node, "handlers", []):
                stack.extend(handler.body)


def _member_statements(stmts: list[ast.stmt], calls: frozenset[str],
                       hot: list[int] | None) -> list[ast.stmt]:
    """The statements of `stmts` kept, blocks pruned inside: each node is visited once."""
    kept = []
    for stmt in stmts:
        if isinstance(stmt, _SCOPES):
            continue
        blocks = [] if isinstance(stmt, ast.Match) else \
            [(stmt, f) for f in _BLOCK_FIELDS if getattr(stmt, f, None)] + \
            [(h, "body") for h in getattr(stmt, "handlers", [])]
        if not blocks:
            if _may_bind_member(stmt, calls, hot) or _returns_made_class(stmt):
                kept.append(stmt)
            continue
        keep = False
        for owner, field in blocks:
            block = getattr(owner, field)
            inner = _member_statements(block, calls, hot)
            keep = keep or bool(inner)
            setattr(owner, field, inner or [_stub(block[-1])])
        headers = [v for f, v in ast.iter_fields(stmt) if f not in (*_BLOCK_FIELDS, "handlers")]
        headers += [h.type for h in getattr(stmt, "handlers", []) if h.type is not None]
        if keep or any(_may_bind_member(n, calls, hot) for v in headers
                       for n in (v if isinstance(v, list) else [v]) if isinstance(n, ast.AST)):
            kept.append(stmt)
    return kept


def _may_bind_member(stmt: ast.AST, calls: frozenset[str], hot: list[int] | None) -> bool:
    """An attribute store or a call of one of `calls` in `stmt`, nested scopes left out."""
    if isinstance(stmt, _SCOPES):
        return False
    if hot is not None and isinstance(stmt, _FLAT) and not _on_hot_line(stmt, hot):
        return _binds_in_targets(stmt)
    stack: list[ast.AST] = [stmt]
    while stack:
        node = stack.pop()
        if isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Store):
            return True
        if isinstance(node, ast.Call):
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else \
                func.id if isinstance(func, ast.Name) else None
            if name in calls:
                return True
        stack.extend(c for c in ast.iter_child_nodes(node) if not isinstance(c, _SCOPES))
    return False


def _returns_made_class(stmt: ast.stmt) -> bool:
    """`return type(name, bases, namespace)`: what makes a function a class factory."""
    value = stmt.value if isinstance(stmt, ast.Return) else None
    return isinstance(value, ast.Call) and isinstance(value.func, ast.Name) \
        and value.func.id == "type" and len(value.args) == 3


# What holds no statements (a `match` does, in its cases): its expressions are all it has.
_FLAT = (ast.Assign, ast.AugAssign, ast.AnnAssign, ast.Expr, ast.Return, ast.Raise, ast.Assert,
         ast.Delete, ast.Pass, ast.Break, ast.Continue, ast.Import, ast.ImportFrom, ast.Global,
         ast.Nonlocal, ast.withitem, ast.expr)


def _on_hot_line(node: ast.AST, hot: list[int]) -> bool:
    first = getattr(node, "lineno", None)
    if first is None:  # a withitem has no position: look at what it holds
        return any(_on_hot_line(n, hot) for n in ast.iter_child_nodes(node))
    i = bisect.bisect_left(hot, first)
    return i < len(hot) and hot[i] <= (getattr(node, "end_lineno", None) or first)


def _binds_in_targets(node: ast.AST) -> bool:
    """An attribute store among the assignment targets of `node` itself (the only place
    one can be, away from `for` and comprehensions)."""
    if isinstance(node, ast.Assign):
        stack: list[ast.AST] = list(node.targets)
    elif isinstance(node, ast.AugAssign | ast.AnnAssign):
        stack = [node.target]
    elif isinstance(node, ast.withitem):
        stack = [node.optional_vars] if node.optional_vars is not None else []
    elif isinstance(node, ast.expr):
        stack = [node]
    else:  # a statement of _FLAT without targets
        return False
    while stack:
        target = stack.pop()
        if isinstance(target, ast.Attribute) and isinstance(target.ctx, ast.Store):
            return True
        if isinstance(target, ast.Tuple | ast.List):
            stack.extend(target.elts)
        elif isinstance(target, ast.Starred):
            stack.append(target.value)
    return False


def _stub(last: ast.stmt) -> ast.Pass:
    return ast.Pass(lineno=last.lineno, col_offset=last.col_offset,
                    end_lineno=last.end_lineno, end_col_offset=last.end_col_offset)


def _build(text: str, modname: str, path: str) -> nodes.Module:
    from astroid.exceptions import AstroidSyntaxError

    try:
        # `_data_build` stops before astroid's post-build steps, which resolve star imports
        # and infer `self.x` targets by loading other modules from sys.path: docgen does its
        # own resolution over the sources it was given.
        module, _ = _builder()._data_build(text, modname, path)
        return module
    except AstroidSyntaxError as exc:
        error = exc.error
        line = getattr(error, "lineno", None) or 1
        reason = getattr(error, "msg", None) or str(error)
        raise SourceError(path, line, f"syntax error: {reason}") from exc
    except (ValueError, RecursionError, MemoryError) as exc:
        raise SourceError(path, 1, f"cannot parse: {type(exc).__name__}: {exc}") from exc
