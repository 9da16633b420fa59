"""Python statements and expressions (stdlib `ast`) evaluated over the values of values.py.

The language half of the static evaluator: blocks, assignment and unpacking, control flow,
operators, literals, comprehensions, f-strings. What objects do (calls, attributes, classes,
imports) is the object model's business: `Interpreter` declares those hooks and
evaluate.Evaluator implements them. It reads the standard library's `ast`, never astroid.

A statement that cannot be evaluated is skipped and reported: as a warning when it could
change the module tree (it assigns an attribute or item, registers or appends, or returns a
value), otherwise as a note.
"""

from __future__ import annotations

import ast
import operator
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from docgen.core.records import Diagnostic, Location, Severity
from docgen.models.values import CannotEvaluate, ClassRef, Instance, SymTensor, Unknown, as_unknown

MAX_LOOP = 10_000
STRUCTURAL_CALLS = {"add_module", "register_module", "register_buffer", "register_parameter",
                    "append", "extend", "insert", "update", "setattr", "__setitem__"}


@dataclass
class SourceModule:
    """One module's syntax tree and its top-level definitions by name."""

    name: str
    path: str
    text: str
    tree: ast.Module
    defs: dict[str, ast.stmt] = field(default_factory=dict)
    values: dict[str, Any] = field(default_factory=dict)


@dataclass(eq=False)
class Frame:
    """Local names of one call; `parent` is the enclosing function's frame (closures)."""

    module: SourceModule
    names: dict[str, Any] = field(default_factory=dict)
    parent: Frame | None = None
    owner: ClassRef | None = None  # class whose method runs (zero-argument super())


class ReturnSignal(Exception):
    def __init__(self, value: Any) -> None:
        self.value = value


class BreakSignal(Exception):
    pass


class ContinueSignal(Exception):
    pass


class ModelRaise(Exception):
    """A `raise` the evaluated code reached: the real model would fail here too."""

    def __init__(self, message: str, location: Location) -> None:
        super().__init__(message)
        self.message = message
        self.location = location


class Interpreter:
    """Evaluates syntax; subclasses give the object model through the hooks below."""

    def __init__(self) -> None:
        self.diagnostics: list[Diagnostic] = []

    # ----------------------------------------------------------------- object-model hooks

    def call(self, func: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        raise NotImplementedError

    def get_attribute(self, obj: Any, name: str) -> Any:
        raise NotImplementedError

    def set_attribute(self, obj: Any, name: str, value: Any) -> None:
        raise NotImplementedError

    def get_item(self, container: Any, key: Any) -> Any:
        raise NotImplementedError

    def set_item(self, container: Any, key: Any, value: Any) -> None:
        raise NotImplementedError

    def binary(self, op: ast.operator, left: Any, right: Any, in_place: bool = False) -> Any:
        raise NotImplementedError

    def iterate(self, value: Any) -> list[Any]:
        raise NotImplementedError

    def global_name(self, frame: Frame, name: str) -> Any:
        raise NotImplementedError

    def evaluate_call(self, node: ast.Call, frame: Frame, discarded: bool) -> Any:
        raise NotImplementedError

    def make_function(self, node: ast.FunctionDef | ast.Lambda, frame: Frame) -> Any:
        raise NotImplementedError

    def import_value(self, dotted: str) -> Any:
        raise NotImplementedError

    # ----------------------------------------------------------------- syntax

    def report(self, location: Location | None, message: str,
               severity: Severity = Severity.WARNING) -> None:
        loc = location or Location("<unknown>", 0)
        diag = Diagnostic(loc.path, loc.line, message, severity)
        if diag not in self.diagnostics:
            self.diagnostics.append(diag)

    def location(self, frame: Frame, node: ast.AST) -> Location:
        return Location(frame.module.path, getattr(node, "lineno", 0))

    def block(self, body: list[ast.stmt], frame: Frame) -> None:
        for stmt in body:
            self.statement(stmt, frame)

    def statement(self, stmt: ast.stmt, frame: Frame) -> None:
        handler = getattr(self, f"stmt_{type(stmt).__name__}", None)
        if handler is None:
            self.report(self.location(frame, stmt),
                        f"statement not evaluated: {type(stmt).__name__}", Severity.INFO)
            return
        try:
            handler(stmt, frame)
        except CannotEvaluate as exc:
            self.undecided(stmt, frame, exc.reason)

    def undecided(self, stmt: ast.stmt, frame: Frame, reason: str) -> None:
        """A statement that could not be evaluated: a warning if it can change the model."""
        text = _first_line(ast.get_source_segment(frame.module.text, stmt) or "")
        severity = Severity.WARNING if _is_structural(stmt) else Severity.INFO
        self.report(self.location(frame, stmt), f"cannot evaluate `{text}`: {reason}",
                    severity)
        # Names the skipped code might have bound are unknown from here on: keeping their
        # earlier values would silently pick the branch that was not decided.
        location = self.location(frame, stmt)
        for name in _assigned_names(stmt):
            frame.names[name] = Unknown(f"{name} may be set by `{text}`, which could not be "
                                        f"evaluated: {reason}", location)

    def stmt_Expr(self, stmt: ast.Expr, frame: Frame) -> None:
        value = stmt.value
        if isinstance(value, ast.Constant):
            return  # docstring
        if isinstance(value, ast.Call):
            self.evaluate_call(value, frame, discarded=True)
        else:
            self.expr(value, frame)

    def stmt_Assign(self, stmt: ast.Assign, frame: Frame) -> None:
        try:
            value = self.expr(stmt.value, frame)
        except CannotEvaluate as exc:
            if _is_structural(stmt):
                self.undecided(stmt, frame, exc.reason)
            value = as_unknown(exc, self.location(frame, stmt))
        for target in stmt.targets:
            self.assign(target, value, frame)

    def stmt_AnnAssign(self, stmt: ast.AnnAssign, frame: Frame) -> None:
        if stmt.value is not None:
            self.stmt_Assign(ast.Assign([stmt.target], stmt.value, lineno=stmt.lineno), frame)

    def stmt_AugAssign(self, stmt: ast.AugAssign, frame: Frame) -> None:
        current = self.expr(_load(stmt.target), frame)
        value = self.expr(stmt.value, frame)
        result = self.binary(stmt.op, current, value, in_place=True)
        if isinstance(current, list) and isinstance(result, list):
            current[:] = result  # list += keeps identity
            result = current
        self.assign(stmt.target, result, frame)

    def stmt_If(self, stmt: ast.If, frame: Frame) -> None:
        test = self.expr(stmt.test, frame)
        self.block(stmt.body if self.truth(test) else stmt.orelse, frame)

    def stmt_For(self, stmt: ast.For, frame: Frame) -> None:
        items = self.iterate(self.expr(stmt.iter, frame))
        for count, item in enumerate(items):
            if count > MAX_LOOP:
                raise CannotEvaluate("loop runs too long")
            self.assign(stmt.target, item, frame)
            if not self.loop_body(stmt.body, frame):
                return
        self.block(stmt.orelse, frame)

    def stmt_While(self, stmt: ast.While, frame: Frame) -> None:
        count = 0
        while self.truth(self.expr(stmt.test, frame)):
            count += 1
            if count > MAX_LOOP:
                raise CannotEvaluate("loop runs too long")
            if not self.loop_body(stmt.body, frame):
                return
        self.block(stmt.orelse, frame)

    def loop_body(self, body: list[ast.stmt], frame: Frame) -> bool:
        """Run one iteration; False when it ended with `break` (skip the `else` block)."""
        try:
            self.block(body, frame)
        except BreakSignal:
            return False
        except ContinueSignal:
            pass
        return True

    def stmt_Return(self, stmt: ast.Return, frame: Frame) -> None:
        if stmt.value is None:
            raise ReturnSignal(None)
        try:
            value = self.expr(stmt.value, frame)
        except CannotEvaluate as exc:
            value = as_unknown(exc, self.location(frame, stmt))
        raise ReturnSignal(value)

    def stmt_Raise(self, stmt: ast.Raise, frame: Frame) -> None:
        text = ast.get_source_segment(frame.module.text, stmt) or "raise"
        raise ModelRaise(_first_line(text), self.location(frame, stmt))

    def stmt_Try(self, stmt: ast.Try, frame: Frame) -> None:
        try:
            self.block(stmt.body, frame)
        except ModelRaise:
            if not stmt.handlers:
                raise
            self.block(stmt.handlers[0].body, frame)
        else:
            self.block(stmt.orelse, frame)
        finally:
            self.block(stmt.finalbody, frame)

    def stmt_With(self, stmt: ast.With, frame: Frame) -> None:
        self.block(stmt.body, frame)  # context managers (no_grad, ...) do not build layers

    def stmt_Assert(self, stmt: ast.Assert, frame: Frame) -> None:
        if not self.truth(self.expr(stmt.test, frame)):
            raise ModelRaise(f"assertion failed: {ast.unparse(stmt.test)}",
                             self.location(frame, stmt))

    def stmt_FunctionDef(self, stmt: ast.FunctionDef, frame: Frame) -> None:
        frame.names[stmt.name] = self.make_function(stmt, frame)

    def stmt_Import(self, stmt: ast.Import, frame: Frame) -> None:
        for alias in stmt.names:
            if alias.asname:
                frame.names[alias.asname] = self.import_value(alias.name)
            else:
                head = alias.name.split(".")[0]
                frame.names[head] = self.import_value(head)

    def stmt_ImportFrom(self, stmt: ast.ImportFrom, frame: Frame) -> None:
        base = stmt.module or ""
        if stmt.level:
            package = frame.module.name.split(".")
            base = ".".join([*package[:len(package) - stmt.level], *filter(None, [base])])
        for alias in stmt.names:
            frame.names[alias.asname or alias.name] = self.import_value(f"{base}.{alias.name}")

    def stmt_Pass(self, stmt: ast.Pass, frame: Frame) -> None:
        return

    def stmt_Break(self, stmt: ast.Break, frame: Frame) -> None:
        raise BreakSignal

    def stmt_Continue(self, stmt: ast.Continue, frame: Frame) -> None:
        raise ContinueSignal

    def stmt_Delete(self, stmt: ast.Delete, frame: Frame) -> None:
        for target in stmt.targets:
            if isinstance(target, ast.Name):
                frame.names.pop(target.id, None)

    def stmt_Global(self, stmt: ast.Global, frame: Frame) -> None:
        return

    def stmt_Nonlocal(self, stmt: ast.Nonlocal, frame: Frame) -> None:
        return

    def assign(self, target: ast.expr, value: Any, frame: Frame) -> None:
        if isinstance(target, ast.Name):
            frame.names[target.id] = value
        elif isinstance(target, ast.Attribute):
            self.set_attribute(self.expr(target.value, frame), target.attr, value)
        elif isinstance(target, ast.Subscript):
            container = self.expr(target.value, frame)
            key = self.expr(target.slice, frame)
            self.set_item(container, key, value)
        elif isinstance(target, (ast.Tuple, ast.List)):
            self.unpack(target.elts, value, frame)
        elif isinstance(target, ast.Starred):
            self.assign(target.value, list(value), frame)
        else:
            raise CannotEvaluate(f"assignment to {type(target).__name__}")

    def unpack(self, targets: list[ast.expr], value: Any, frame: Frame) -> None:
        if isinstance(value, Unknown):
            for t in targets:
                self.assign(t.value if isinstance(t, ast.Starred) else t, value, frame)
            return
        items = list(self.iterate(value))
        star = next((i for i, t in enumerate(targets) if isinstance(t, ast.Starred)), None)
        if star is None:
            if len(items) != len(targets):
                raise CannotEvaluate(f"cannot unpack {len(items)} values into {len(targets)}")
            for t, item in zip(targets, items, strict=True):
                self.assign(t, item, frame)
            return
        after = len(targets) - star - 1
        for t, item in zip(targets[:star], items[:star], strict=False):
            self.assign(t, item, frame)
        self.assign(targets[star], items[star:len(items) - after], frame)
        for t, item in zip(targets[star + 1:], items[len(items) - after:], strict=False):
            self.assign(t, item, frame)

    def expr(self, node: ast.expr, frame: Frame) -> Any:
        handler = getattr(self, f"expr_{type(node).__name__}", None)
        if handler is None:
            raise CannotEvaluate(f"expression {type(node).__name__} is not evaluated")
        return handler(node, frame)

    def expr_Constant(self, node: ast.Constant, frame: Frame) -> Any:
        return node.value

    def expr_Name(self, node: ast.Name, frame: Frame) -> Any:
        scope: Frame | None = frame
        while scope is not None:
            if node.id in scope.names:
                return scope.names[node.id]
            scope = scope.parent
        return self.global_name(frame, node.id)

    def expr_Attribute(self, node: ast.Attribute, frame: Frame) -> Any:
        return self.get_attribute(self.expr(node.value, frame), node.attr)

    def expr_Subscript(self, node: ast.Subscript, frame: Frame) -> Any:
        return self.get_item(self.expr(node.value, frame), self.expr(node.slice, frame))

    def argument(self, node: ast.expr, frame: Frame) -> Any:
        """An argument value; one that cannot be computed is passed on as Unknown, so the
        callee still runs and reports exactly what the unknown prevents."""
        try:
            return self.expr(node, frame)
        except CannotEvaluate as exc:
            location = self.location(frame, node)
            text = _first_line(ast.get_source_segment(frame.module.text, node) or "")
            self.report(location, f"cannot evaluate argument `{text}`: {exc.reason}",
                        Severity.INFO)
            return as_unknown(exc, location, f"`{text}`: {exc.reason}")

    def expr_BinOp(self, node: ast.BinOp, frame: Frame) -> Any:
        return self.binary(node.op, self.expr(node.left, frame), self.expr(node.right, frame))

    def expr_UnaryOp(self, node: ast.UnaryOp, frame: Frame) -> Any:
        value = self.expr(node.operand, frame)
        if isinstance(node.op, ast.Not):
            return not self.truth(value)
        if isinstance(value, (Unknown, SymTensor)):
            return value
        ops = {ast.USub: lambda v: -v, ast.UAdd: lambda v: +v, ast.Invert: lambda v: ~v}
        try:
            return ops[type(node.op)](value)
        except Exception as exc:
            raise CannotEvaluate(f"unary operator on {value!r}: {exc}") from exc

    def expr_BoolOp(self, node: ast.BoolOp, frame: Frame) -> Any:
        is_and = isinstance(node.op, ast.And)
        value: Any = None
        for operand in node.values:
            value = self.expr(operand, frame)
            if self.truth(value) != is_and:
                return value
        return value

    def expr_Compare(self, node: ast.Compare, frame: Frame) -> Any:
        left = self.expr(node.left, frame)
        for op, right_node in zip(node.ops, node.comparators, strict=True):
            right = self.expr(right_node, frame)
            if isinstance(op, (ast.Is, ast.IsNot)):
                result = (left is right) == isinstance(op, ast.Is)
            elif isinstance(left, Unknown) or isinstance(right, Unknown):
                return left if isinstance(left, Unknown) else right
            else:
                try:
                    result = _COMPARE[type(op)](left, right)
                except Exception as exc:
                    raise CannotEvaluate(f"comparison of {left!r} and {right!r}") from exc
            if not result:
                return False
            left = right
        return True

    def expr_IfExp(self, node: ast.IfExp, frame: Frame) -> Any:
        return self.expr(node.body if self.truth(self.expr(node.test, frame)) else node.orelse,
                         frame)

    def expr_Tuple(self, node: ast.Tuple, frame: Frame) -> Any:
        return tuple(self.sequence(node.elts, frame))

    def expr_List(self, node: ast.List, frame: Frame) -> Any:
        return self.sequence(node.elts, frame)

    def expr_Set(self, node: ast.Set, frame: Frame) -> Any:
        return set(self.sequence(node.elts, frame))

    def sequence(self, elts: list[ast.expr], frame: Frame) -> list[Any]:
        out: list[Any] = []
        for elt in elts:
            if isinstance(elt, ast.Starred):
                out.extend(self.iterate(self.expr(elt.value, frame)))
            else:
                out.append(self.expr(elt, frame))
        return out

    def expr_Dict(self, node: ast.Dict, frame: Frame) -> Any:
        out: dict[Any, Any] = {}
        for key, value in zip(node.keys, node.values, strict=True):
            if key is None:
                out.update(self.expr(value, frame))
            else:
                out[self.hashable(self.expr(key, frame))] = self.expr(value, frame)
        return out

    def expr_Slice(self, node: ast.Slice, frame: Frame) -> Any:
        parts = [None if p is None else self.expr(p, frame)
                 for p in (node.lower, node.upper, node.step)]
        return slice(*parts)

    def expr_Starred(self, node: ast.Starred, frame: Frame) -> Any:
        raise CannotEvaluate("starred expression out of place")

    def expr_JoinedStr(self, node: ast.JoinedStr, frame: Frame) -> Any:
        parts = []
        for value in node.values:
            if isinstance(value, ast.FormattedValue):
                item = self.expr(value.value, frame)
                if isinstance(item, Unknown):
                    return item
                spec = self.expr(value.format_spec, frame) if value.format_spec else ""
                parts.append(format(item, spec))
            else:
                parts.append(str(self.expr(value, frame)))
        return "".join(parts)

    def expr_Lambda(self, node: ast.Lambda, frame: Frame) -> Any:
        return self.make_function(node, frame)

    def expr_NamedExpr(self, node: ast.NamedExpr, frame: Frame) -> Any:
        value = self.expr(node.value, frame)
        self.assign(node.target, value, frame)
        return value

    def comprehension(self, generators: list[ast.comprehension], frame: Frame,
                      ) -> Iterator[Frame]:
        inner = Frame(frame.module, parent=frame, owner=frame.owner)

        def loop(index: int) -> Iterator[Frame]:
            if index == len(generators):
                yield inner
                return
            gen = generators[index]
            source = frame if index == 0 else inner
            for count, item in enumerate(self.iterate(self.expr(gen.iter, source))):
                if count > MAX_LOOP:
                    raise CannotEvaluate("comprehension runs too long")
                self.assign(gen.target, item, inner)
                if all(self.truth(self.expr(cond, inner)) for cond in gen.ifs):
                    yield from loop(index + 1)

        return loop(0)

    def expr_ListComp(self, node: ast.ListComp, frame: Frame) -> Any:
        return [self.expr(node.elt, f) for f in self.comprehension(node.generators, frame)]

    def expr_GeneratorExp(self, node: ast.GeneratorExp, frame: Frame) -> Any:
        return [self.expr(node.elt, f) for f in self.comprehension(node.generators, frame)]

    def expr_SetComp(self, node: ast.SetComp, frame: Frame) -> Any:
        return {self.expr(node.elt, f) for f in self.comprehension(node.generators, frame)}

    def expr_DictComp(self, node: ast.DictComp, frame: Frame) -> Any:
        return {self.hashable(self.expr(node.key, f)): self.expr(node.value, f)
                for f in self.comprehension(node.generators, frame)}

    def truth(self, value: Any) -> bool:
        if isinstance(value, Unknown):
            raise CannotEvaluate(f"condition depends on an unknown value: {value.describe()}",
                                 cause=value)
        if isinstance(value, SymTensor):
            raise CannotEvaluate("condition depends on tensor values")
        if isinstance(value, Instance):
            return True
        return bool(value)

    def hashable(self, value: Any) -> Any:
        if isinstance(value, Unknown):
            raise CannotEvaluate(f"key is unknown: {value.describe()}")
        return value


def _top_level(body: list[ast.stmt]) -> Iterator[ast.stmt]:
    """Statements of a module or class body, looking inside if/try blocks (last one wins)."""
    for stmt in body:
        if isinstance(stmt, ast.If):
            yield from _top_level(stmt.body)
            yield from _top_level(stmt.orelse)
        elif isinstance(stmt, ast.Try):
            yield from _top_level(stmt.body)
            for handler in stmt.handlers:
                yield from _top_level(handler.body)
        else:
            yield stmt


def _target_names(target: ast.expr) -> list[str]:
    """Names an assignment target binds: `a`, `a, *b`; not `a.x = ` or `a[i] = `."""
    if isinstance(target, ast.Name):
        return [target.id]
    if isinstance(target, ast.Starred):
        return _target_names(target.value)
    if isinstance(target, (ast.Tuple, ast.List)):
        return [name for elt in target.elts for name in _target_names(elt)]
    return []


def _bound_names(stmt: ast.stmt) -> list[str]:
    if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return [stmt.name]
    if isinstance(stmt, ast.Assign):
        return [name for t in stmt.targets for name in _target_names(t)]
    if isinstance(stmt, ast.AnnAssign) and stmt.value is not None \
            and isinstance(stmt.target, ast.Name):
        return [stmt.target.id]
    return []


def _class_member(node: ast.ClassDef, name: str) -> ast.stmt | None:
    found = None
    for stmt in _top_level(node.body):
        if name in _bound_names(stmt):
            found = stmt
    return found


def _decorated(node: Any, name: str) -> bool:
    return any(ast.unparse(d).split("(")[0].rsplit(".", 1)[-1] == name
               for d in getattr(node, "decorator_list", ()))


def _is_dataclass(node: ast.ClassDef) -> bool:
    return _decorated(node, "dataclass")


def _assigned_names(stmt: ast.stmt) -> list[str]:
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


def _is_structural(stmt: ast.stmt) -> bool:
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


def _load(target: ast.expr) -> ast.expr:
    return target


def _one_line(text: str) -> str:
    """A call written over several lines, as one line: `f(\n  a,\n)` -> `f(a)`."""
    text = " ".join(text.split())
    for before, after in (("( ", "("), (" )", ")"), (",)", ")"), ("[ ", "["), (" ]", "]")):
        text = text.replace(before, after)
    return text


def _first_line(text: str) -> str:
    line = text.strip().splitlines()[0] if text.strip() else ""
    return line if len(line) <= 100 else line[:97] + "..."


def _cmp() -> dict[type, Any]:
    return {ast.Eq: operator.eq, ast.NotEq: operator.ne, ast.Lt: operator.lt,
            ast.LtE: operator.le, ast.Gt: operator.gt, ast.GtE: operator.ge,
            ast.In: lambda a, b: a in b, ast.NotIn: lambda a, b: a not in b}


_COMPARE = _cmp()


