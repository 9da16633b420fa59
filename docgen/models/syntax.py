"""Facts read off stdlib `ast` syntax that the evaluator needs: top-level definitions,
bound names, decorators, statements that can change a module tree, one-line source text."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from typing import Any

STRUCTURAL_CALLS = {"add_module", "register_module", "register_buffer", "register_parameter",
                    "append", "extend", "insert", "update", "setattr", "__setitem__"}


def top_level(body: list[ast.stmt]) -> Iterator[ast.stmt]:
    """Statements of a module or class body, looking inside if/try blocks (last one wins)."""
    for stmt in body:
        if isinstance(stmt, ast.If):
            yield from top_level(stmt.body)
            yield from top_level(stmt.orelse)
        elif isinstance(stmt, ast.Try):
            yield from top_level(stmt.body)
            for handler in stmt.handlers:
                yield from top_level(handler.body)
        else:
            yield stmt


def target_names(target: ast.expr) -> list[str]:
    """Names an assignment target binds: `a`, `a, *b`; not `a.x = ` or `a[i] = `."""
    if isinstance(target, ast.Name):
        return [target.id]
    if isinstance(target, ast.Starred):
        return target_names(target.value)
    if isinstance(target, (ast.Tuple, ast.List)):
        return [name for elt in target.elts for name in target_names(elt)]
    return []


def bound_names(stmt: ast.stmt) -> list[str]:
    if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return [stmt.name]
    if isinstance(stmt, ast.Assign):
        return [name for t in stmt.targets for name in target_names(t)]
    if isinstance(stmt, ast.AnnAssign) and stmt.value is not None \
            and isinstance(stmt.target, ast.Name):
        return [stmt.target.id]
    return []


def class_member(node: ast.ClassDef, name: str) -> ast.stmt | None:
    found = None
    for stmt in top_level(node.body):
        if name in bound_names(stmt):
            found = stmt
    return found


def is_decorated(node: Any, name: str) -> bool:
    return any(ast.unparse(d).split("(")[0].rsplit(".", 1)[-1] == name
               for d in getattr(node, "decorator_list", ()))


def is_dataclass(node: ast.ClassDef) -> bool:
    return is_decorated(node, "dataclass")


def assigned_names(stmt: ast.stmt) -> list[str]:
    """Local names a statement binds anywhere inside it (not in nested functions)."""
    names: list[str] = []
    pending: list[ast.AST] = [stmt]
    while pending:
        node = pending.pop()
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)) \
                and node is not stmt:
            continue
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            names.append(node.id)
        pending.extend(ast.iter_child_nodes(node))
    return list(dict.fromkeys(names))


def is_structural(stmt: ast.stmt) -> bool:
    """Could this statement change the module tree (attributes, registries, returns)?"""
    for node in ast.walk(stmt):
        if isinstance(node, (ast.Assign, ast.AugAssign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            if any(isinstance(t, (ast.Attribute, ast.Subscript)) for t in targets):
                return True
        if isinstance(node, ast.Return) and node.value is not None:
            return True
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) \
                and node.func.attr in STRUCTURAL_CALLS:
            return True
    return False


def one_line(text: str) -> str:
    """A call written over several lines, as one line: `f(\n  a,\n)` -> `f(a)`."""
    text = " ".join(text.split())
    for before, after in (("( ", "("), (" )", ")"), (",)", ")"), ("[ ", "["), (" ]", "]")):
        text = text.replace(before, after)
    return text


def first_line(text: str) -> str:
    line = text.strip().splitlines()[0] if text.strip() else ""
    return line if len(line) <= 100 else line[:97] + "..."

