"""Python expressions evaluated over the evaluator's values: names, literals, operators,
comparisons, comprehensions, f-strings, lambdas.

What objects do (calls, attributes, items) is reached through EvaluatorCore's hooks.
"""

from __future__ import annotations

import ast
import operator
from collections.abc import Iterator
from typing import Any

from docgen.core.records import Severity
from docgen.models.frames import (
    MAX_LOOP,
    EvaluatorCore,
    Frame,
)
from docgen.models.syntax import (
    first_line,
)
from docgen.models.values import (
    CannotEvaluate,
    Instance,
    SymTensor,
    TooLarge,
    Unknown,
    as_unknown,
)


class Expressions(EvaluatorCore):
    """Evaluates expressions and decides truth values."""

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
            if len(node.ops) == 1 and not isinstance(op, (ast.Is, ast.IsNot, ast.In, ast.NotIn)) \
                    and (isinstance(left, SymTensor) or isinstance(right, SymTensor)):
                # `attn_mask != 0`: an element-wise comparison, a bool tensor (aten::ne)
                return self.compare_tensor(op, left, right)
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

    def expr_ListComp(self, node: ast.ListComp, frame: Frame) -> Any:
        return [self.expr(node.elt, f) for f in self.comprehension(node.generators, frame)]

    def expr_GeneratorExp(self, node: ast.GeneratorExp, frame: Frame) -> Any:
        return [self.expr(node.elt, f) for f in self.comprehension(node.generators, frame)]

    def expr_SetComp(self, node: ast.SetComp, frame: Frame) -> Any:
        return {self.expr(node.elt, f) for f in self.comprehension(node.generators, frame)}

    def expr_DictComp(self, node: ast.DictComp, frame: Frame) -> Any:
        return {self.hashable(self.expr(node.key, f)): self.expr(node.value, f)
                for f in self.comprehension(node.generators, frame)}

    def expr_Call(self, node: ast.Call, frame: Frame) -> Any:
        return self.evaluate_call(node, frame, discarded=False)

    def argument(self, node: ast.expr, frame: Frame) -> Any:
        """An argument value; one that cannot be computed is passed on as Unknown, so the
        callee still runs and reports exactly what the unknown prevents."""
        try:
            return self.expr(node, frame)
        except CannotEvaluate as exc:
            if self.is_caught(exc):
                raise
            location = self.location(frame, node)
            text = first_line(frame.module.segment(node) or "")
            unknown = as_unknown(exc, location, f"`{text}`: {exc.reason}")
            too_large = isinstance(exc, TooLarge)  # refused by docgen: the model is partial
            self.report(location, f"cannot evaluate argument `{text}`: {exc.reason}",
                        Severity.WARNING if too_large else Severity.INFO)
            if too_large:
                self.mark_unknown(f"`{text}`", unknown)
            return unknown

    def sequence(self, elts: list[ast.expr], frame: Frame) -> list[Any]:
        out: list[Any] = []
        for elt in elts:
            if isinstance(elt, ast.Starred):
                out.extend(self.iterate(self.expr(elt.value, frame)))
            else:
                out.append(self.expr(elt, frame))
        return out

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
                    raise TooLarge(f"comprehension runs more than {MAX_LOOP:,} times")
                self.assign(gen.target, item, inner)
                if all(self.truth(self.expr(cond, inner)) for cond in gen.ifs):
                    yield from loop(index + 1)

        return loop(0)

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


def _cmp() -> dict[type, Any]:
    return {ast.Eq: operator.eq, ast.NotEq: operator.ne, ast.Lt: operator.lt,
            ast.LtE: operator.le, ast.Gt: operator.gt, ast.GtE: operator.ge,
            ast.In: lambda a, b: a in b, ast.NotIn: lambda a, b: a not in b}


_COMPARE = _cmp()

