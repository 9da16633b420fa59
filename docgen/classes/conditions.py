"""Module-level `if` tests decided without running code: which branch Python takes on import.

A module binds different classes under different tests (`if is_standalone:` with
`is_standalone = __name__ == "__main__" and __package__ is None`). A test is decided when
every value it needs is known here: literals, names this module bound to such values,
`__name__` / `__package__`, `TYPE_CHECKING` (false at run time) and the environment, read
as the default one where no variable is set (`os.environ.get("X")` is None, `"X" in
os.environ` is false). Anything else is UNKNOWN and the caller keeps every branch.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Mapping
from typing import Any

from astroid import nodes


class _Unknown:
    def __repr__(self) -> str:
        return "UNKNOWN"


UNKNOWN: Any = _Unknown()

_COMPARE: dict[str, Callable[[Any, Any], Any]] = {
    "==": operator.eq, "!=": operator.ne, "<": operator.lt, "<=": operator.le,
    ">": operator.gt, ">=": operator.ge, "is": operator.is_, "is not": operator.is_not,
    "in": lambda a, b: operator.contains(b, a), "not in": lambda a, b: a not in b,
}
_ENV_GETTERS = frozenset({"os.environ.get", "environ.get", "os.getenv", "getenv"})
_ENVIRON = frozenset({"os.environ", "environ"})
_SIMPLE = (bool, int, float, str, bytes, type(None))


class StaticScope:
    """What a module's own code has made of its names so far, for deciding its tests."""

    def __init__(self, module: str, is_package: bool,
                 constants: Mapping[str, Any] | None = None) -> None:
        self.module = module
        self.package = module if is_package else module.rpartition(".")[0]
        self.constants = dict(constants or {})

    def value(self, node: nodes.NodeNG) -> Any:
        """The value of expression `node` on import, or UNKNOWN."""
        try:
            return self._value(node)
        except Exception:  # a comparison of odd constants, a type error: not decidable
            return UNKNOWN

    def truth(self, node: nodes.NodeNG) -> bool | None:
        """Whether test `node` holds on import; None when that is not known here."""
        if isinstance(node, nodes.BoolOp):
            truths = [self.truth(v) for v in node.values]
            decisive = node.op == "or"  # `or`: one true operand decides; `and`: one false
            if decisive in truths:
                return decisive
            return None if None in truths else not decisive
        if isinstance(node, nodes.UnaryOp) and node.op == "not":
            inner = self.truth(node.operand)
            return None if inner is None else not inner
        found = self.value(node)
        return None if found is UNKNOWN else bool(found)

    def _value(self, node: nodes.NodeNG) -> Any:
        if isinstance(node, nodes.Const):
            return node.value if isinstance(node.value, _SIMPLE) else UNKNOWN
        if isinstance(node, nodes.Tuple | nodes.List | nodes.Set):
            items = [self._value(e) for e in node.elts]
            return UNKNOWN if any(i is UNKNOWN for i in items) else tuple(items)
        if isinstance(node, nodes.Name | nodes.Attribute):
            return self._named(node)
        if isinstance(node, nodes.UnaryOp) and node.op == "not":
            truth = self.truth(node.operand)
            return UNKNOWN if truth is None else not truth
        if isinstance(node, nodes.BoolOp):
            return self._bool_op(node)
        if isinstance(node, nodes.Compare):
            return self._compare(node)
        if isinstance(node, nodes.Call):
            return self._call(node)
        return UNKNOWN

    def _named(self, node: nodes.Name | nodes.Attribute) -> Any:
        dotted = _dotted(node)
        if dotted is None:
            return UNKNOWN
        if dotted.rsplit(".", 1)[-1] == "TYPE_CHECKING":
            return False
        if dotted == "__name__":
            return self.module
        if dotted == "__package__":
            return self.package
        return self.constants.get(dotted, UNKNOWN)

    def _bool_op(self, node: nodes.BoolOp) -> Any:
        value: Any = UNKNOWN
        for operand in node.values:
            value = self._value(operand)
            if value is UNKNOWN:
                return UNKNOWN
            if bool(value) == (node.op == "or"):
                return value
        return value

    def _compare(self, node: nodes.Compare) -> Any:
        left = node.left
        left_value = self._value(left)
        for op, right in node.ops:
            right_value = self._container(right) if op in ("in", "not in") else \
                self._value(right)
            if left_value is UNKNOWN or right_value is UNKNOWN or op not in _COMPARE:
                return UNKNOWN
            if not _COMPARE[op](left_value, right_value):
                return False
            left_value = right_value
        return True

    def _container(self, node: nodes.NodeNG) -> Any:
        if _dotted(node) in _ENVIRON:
            return ()  # the default environment: no variable is set
        return self._value(node)

    def _call(self, node: nodes.Call) -> Any:
        if _dotted(node.func) in _ENV_GETTERS and not node.keywords:
            if len(node.args) == 1:
                return None
            if len(node.args) == 2:
                return self._value(node.args[1])
        return UNKNOWN


def _dotted(node: nodes.NodeNG) -> str | None:
    parts: list[str] = []
    while isinstance(node, nodes.Attribute):
        parts.append(node.attrname)
        node = node.expr
    if not isinstance(node, nodes.Name):
        return None
    parts.append(node.name)
    return ".".join(reversed(parts))
