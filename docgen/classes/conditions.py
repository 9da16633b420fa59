"""Module-level `if` tests read from astroid into branches.py's Test data, with what this
module knows folded in.

A module binds different classes under different tests (`if is_standalone:` with
`is_standalone = __name__ == "__main__" and __package__ is None`). Known here: literals,
names this module bound to such values, `__name__` / `__package__`, `TYPE_CHECKING` (false
at run time) and the environment, read as the default one where no variable is set
(`os.environ.get("X")` is None, `"X" in os.environ` is false). Other names stay names, for
resolve.py to look up in the modules that bind them; anything else makes the test unreadable.
"""

from __future__ import annotations

from typing import Any

from astroid import nodes

from docgen.classes.branches import UNKNOWN, Test, truth, unknown_names, value

_ENV_GETTERS = frozenset({"os.environ.get", "environ.get", "os.getenv", "getenv"})
_ENVIRON = frozenset({"os.environ", "environ"})
_SIMPLE = (bool, int, float, str, bytes, type(None))


class StaticScope:
    """What a module's own code has made of its names so far, for deciding its tests."""

    def __init__(self, module: str, is_package: bool) -> None:
        self.module = module
        self.package = module if is_package else module.rpartition(".")[0]
        self.constants: dict[str, Any] = {}

    def test(self, node: nodes.NodeNG) -> Test | None:
        """`node` as a Test with this module's knowledge folded in; None: unreadable."""
        return self._test(node)

    def truth(self, node: nodes.NodeNG) -> bool | None:
        """Whether test `node` holds on import, as far as this module knows."""
        test = self._test(node)
        return None if test is None else truth(test, self._lookup)

    def value(self, node: nodes.NodeNG) -> Any:
        """The value of expression `node` on import, or UNKNOWN."""
        test = self._test(node)
        if test is None or unknown_names(test):
            return UNKNOWN
        found = value(test, self._lookup)
        return found if isinstance(found, (*_SIMPLE, tuple)) else UNKNOWN

    def _lookup(self, name: str) -> Any:
        return UNKNOWN

    def _test(self, node: nodes.NodeNG) -> Test | None:
        if isinstance(node, nodes.Const):
            return ("const", node.value) if isinstance(node.value, _SIMPLE) else None
        if isinstance(node, nodes.Tuple | nodes.List | nodes.Set):
            items = [self._test(e) for e in node.elts]
            if any(i is None or i[0] != "const" for i in items):
                return None
            return ("const", tuple(i[1] for i in items if i is not None))
        if isinstance(node, nodes.Name | nodes.Attribute):
            return self._named(node)
        if isinstance(node, nodes.UnaryOp) and node.op == "not":
            inner = self._test(node.operand)
            return None if inner is None else ("not", inner)
        if isinstance(node, nodes.BoolOp):
            operands = [self._test(v) for v in node.values]
            return None if None in operands else (node.op, tuple(operands))
        if isinstance(node, nodes.Compare):
            return self._compare(node)
        if isinstance(node, nodes.Call):
            return self._call(node)
        return None

    def _named(self, node: nodes.Name | nodes.Attribute) -> Test | None:
        dotted = _dotted(node)
        if dotted is None:
            return None
        if dotted.rsplit(".", 1)[-1] == "TYPE_CHECKING":
            return ("const", False)
        if dotted == "__name__":
            return ("const", self.module)
        if dotted == "__package__":
            return ("const", self.package)
        if dotted in self.constants:
            return ("const", self.constants[dotted])
        return ("name", dotted)

    def _compare(self, node: nodes.Compare) -> Test | None:
        left = self._test(node.left)
        rest = []
        for op, right in node.ops:
            right_test = ("const", ()) if op in ("in", "not in") and _dotted(right) in _ENVIRON \
                else self._test(right)  # the default environment: no variable is set
            if right_test is None:
                return None
            rest.append((op, right_test))
        return None if left is None else ("compare", left, tuple(rest))

    def _call(self, node: nodes.Call) -> Test | None:
        if _dotted(node.func) in _ENV_GETTERS and not node.keywords:
            if len(node.args) == 1:
                return ("const", None)
            if len(node.args) == 2:
                return self._test(node.args[1])
        return None


def _dotted(node: nodes.NodeNG) -> str | None:
    parts: list[str] = []
    while isinstance(node, nodes.Attribute):
        parts.append(node.attrname)
        node = node.expr
    if not isinstance(node, nodes.Name):
        return None
    parts.append(node.name)
    return ".".join(reversed(parts))
