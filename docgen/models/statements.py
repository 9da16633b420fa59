"""Python statements evaluated over the evaluator's values: blocks, assignment and
unpacking, if/for/while, return/raise/try, imports inside functions.

A statement that cannot be evaluated is skipped and reported: as a warning when it could
change the module tree (it assigns an attribute or item, registers or appends, or returns a
value), otherwise as a note; the names it might have bound become Unknown.
"""

from __future__ import annotations

import ast
from typing import Any

from docgen.core.records import Severity
from docgen.models.frames import (
    MAX_LOOP,
    BreakSignal,
    ContinueSignal,
    EvaluatorCore,
    Frame,
    ModelRaise,
    ReturnSignal,
)
from docgen.models.syntax import (
    assigned_names,
    first_line,
    is_structural,
)
from docgen.models.values import (
    ArgumentMismatch,
    CannotEvaluate,
    TooLarge,
    Unknown,
    as_unknown,
)


class Statements(EvaluatorCore):
    """Runs statements; everything an expression or an object does goes through the hooks."""

    def block(self, body: list[ast.stmt], frame: Frame) -> None:
        for stmt in body:
            self.statement(stmt, frame)

    def statement(self, stmt: ast.stmt, frame: Frame) -> None:
        handler = getattr(self, f"stmt_{type(stmt).__name__}", None)
        if handler is None:
            self.report(self.location(frame, stmt),
                        f"statement not evaluated: {type(stmt).__name__}", Severity.INFO)
            return
        recorder = self.recorder
        outer, recorder.location = recorder.location, self.location(frame, stmt)
        try:
            handler(stmt, frame)
        except CannotEvaluate as exc:
            if self.is_caught(exc):
                raise
            self.undecided(stmt, frame, exc.reason, isinstance(exc, TooLarge))
        finally:
            recorder.location = outer

    def undecided(self, stmt: ast.stmt, frame: Frame, reason: str,
                  too_large: bool = False) -> None:
        """A statement that could not be evaluated: a warning if it can change the model, or
        if docgen refused to run it (a loop or a value over its limits)."""
        text = first_line(frame.module.segment(stmt) or "")
        severity = Severity.WARNING if too_large or is_structural(stmt) else Severity.INFO
        self.report(self.location(frame, stmt), f"cannot evaluate `{text}`: {reason}",
                    severity)
        # Names the skipped code might have bound are unknown from here on: keeping their
        # earlier values would silently pick the branch that was not decided.
        location = self.location(frame, stmt)
        if severity == Severity.WARNING:
            self.mark_unknown(f"`{text}`", Unknown(reason, location))
        for name in assigned_names(stmt):
            frame.names[name] = Unknown(f"{name} may be set by `{text}`, which could not be "
                                        f"evaluated: {reason}", location)

    def mark_unknown(self, what: str, unknown: Unknown) -> None:
        """Charge an undecided statement to the layer it leaves uncertain: the one whose
        forward runs (its MACs and output), else the one being built (its parameters)."""
        if self.module_stack:
            self.module_stack[-1].macs_unknown.append(("forward", f"{what}: {unknown.reason}"))
        elif self.building:
            self.building[-1].unknown[what] = unknown

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
            if self.is_caught(exc):
                raise
            if is_structural(stmt) or isinstance(exc, TooLarge):
                self.undecided(stmt, frame, exc.reason, isinstance(exc, TooLarge))
            value = as_unknown(exc, self.location(frame, stmt))
        for target in stmt.targets:
            self.assign(target, value, frame)

    def stmt_AnnAssign(self, stmt: ast.AnnAssign, frame: Frame) -> None:
        if stmt.value is not None:
            self.stmt_Assign(ast.Assign([stmt.target], stmt.value, lineno=stmt.lineno), frame)

    def stmt_AugAssign(self, stmt: ast.AugAssign, frame: Frame) -> None:
        current = self.expr(stmt.target, frame)
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
                raise TooLarge(f"loop runs more than {MAX_LOOP:,} times")
            self.assign(stmt.target, item, frame)
            if not self.loop_body(stmt.body, frame):
                return
        self.block(stmt.orelse, frame)

    def stmt_While(self, stmt: ast.While, frame: Frame) -> None:
        count = 0
        while self.truth(self.expr(stmt.test, frame)):
            count += 1
            if count > MAX_LOOP:
                raise TooLarge(f"loop runs more than {MAX_LOOP:,} times")
            if not self.loop_body(stmt.body, frame):
                return
        self.block(stmt.orelse, frame)

    def stmt_Return(self, stmt: ast.Return, frame: Frame) -> None:
        if stmt.value is None:
            raise ReturnSignal(None)
        try:
            value = self.expr(stmt.value, frame)
        except CannotEvaluate as exc:
            if self.is_caught(exc):
                raise
            if isinstance(exc, TooLarge):
                self.undecided(stmt, frame, exc.reason, too_large=True)
            value = as_unknown(exc, self.location(frame, stmt))
        raise ReturnSignal(value)

    def stmt_Raise(self, stmt: ast.Raise, frame: Frame) -> None:
        text = frame.module.segment(stmt) or "raise"
        raise ModelRaise(first_line(text), self.location(frame, stmt))

    def stmt_Try(self, stmt: ast.Try, frame: Frame) -> None:
        catching = any(_catches_type_error(h) for h in stmt.handlers)
        self.type_error_handlers += catching
        try:
            try:
                self.block(stmt.body, frame)
            finally:
                self.type_error_handlers -= catching
        except ModelRaise:
            if not stmt.handlers:
                raise
            self.block(stmt.handlers[0].body, frame)
        except ArgumentMismatch:
            handler = next((h for h in stmt.handlers if _catches_type_error(h)), None)
            if handler is None:
                raise
            self.block(handler.body, frame)
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
            elif isinstance(target, ast.Subscript):
                self.delete_item(self.expr(target.value, frame), self.expr(target.slice, frame))
            elif isinstance(target, ast.Attribute):
                self.delete_attribute(self.expr(target.value, frame), target.attr)
            else:
                raise CannotEvaluate(f"del of {type(target).__name__}")

    def stmt_Global(self, stmt: ast.Global, frame: Frame) -> None:
        return

    def stmt_Nonlocal(self, stmt: ast.Nonlocal, frame: Frame) -> None:
        return

    def loop_body(self, body: list[ast.stmt], frame: Frame) -> bool:
        """Run one iteration; False when it ended with `break` (skip the `else` block)."""
        try:
            self.block(body, frame)
        except BreakSignal:
            return False
        except ContinueSignal:
            pass
        return True

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


def _catches_type_error(handler: ast.ExceptHandler) -> bool:
    """Whether `except ...:` catches the TypeError a call with unfitting arguments raises."""
    if handler.type is None:
        return True
    names = handler.type.elts if isinstance(handler.type, ast.Tuple) else [handler.type]
    return any(ast.unparse(n).rsplit(".", 1)[-1] in ("TypeError", "Exception", "BaseException")
               for n in names)
