"""Module-level `if` tests as data, and their evaluation: which branch runs on import.

analyze.py turns a test into a Test (nested tuples, so analyses stay plain picklable data)
with what one module knows folded in: literals, its own constants, `__name__`,
`TYPE_CHECKING`, the default environment. What is left are names bound elsewhere
(`if TYPE_CHECKING or not HAS_CYEXTENSION:`, HAS_CYEXTENSION imported): resolve.py decides
those once the other module's constants are known. No astroid here: a warm run needs none.

    ("const", value) | ("name", "a.b") | ("not", test) | ("and" | "or", (test, ...))
    | ("compare", test, ((op, test), ...)) | ("importable", ((module, name | None), ...))

"importable" is a `try` body's imports succeeding: decided by whether the sources read hold
those modules (a module of no tree read, the standard library, is assumed importable).
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from typing import Any


class _Unknown:
    def __repr__(self) -> str:
        return "UNKNOWN"


UNKNOWN: Any = _Unknown()

Test = tuple[Any, ...]
Lookup = Callable[[str], Any]  # a dotted name -> its value, or UNKNOWN
# (module, name imported from it or None) -> whether the import works; None: not known
Importable = Callable[[str, str | None], bool | None]

_COMPARE: dict[str, Callable[[Any, Any], Any]] = {
    "==": operator.eq, "!=": operator.ne, "<": operator.lt, "<=": operator.le,
    ">": operator.gt, ">=": operator.ge, "is": operator.is_, "is not": operator.is_not,
    "in": lambda a, b: operator.contains(b, a), "not in": lambda a, b: a not in b,
}


def unknown_names(test: Test) -> set[str]:
    """The names `test` still needs."""
    kind = test[0]
    if kind == "name":
        return {test[1]}
    if kind == "not":
        return unknown_names(test[1])
    if kind in ("and", "or"):
        return set().union(*(unknown_names(t) for t in test[1]))
    if kind == "compare":
        return unknown_names(test[1]).union(*(unknown_names(t) for _, t in test[2]))
    if kind == "importable":
        return {m if n is None else f"{m}.{n}" for m, n in test[1]}
    return set()


def truth(test: Test, lookup: Lookup, importable: Importable | None = None) -> bool | None:
    """Whether `test` holds; None when it depends on something unknown."""
    kind = test[0]
    if kind == "importable":
        found = [importable(m, n) if importable else None for m, n in test[1]]
        return False if False in found else None if None in found else True
    if kind in ("and", "or"):
        truths = [truth(t, lookup, importable) for t in test[1]]
        decisive = kind == "or"  # `or`: one true operand decides; `and`: one false
        if decisive in truths:
            return decisive
        return None if None in truths else not decisive
    if kind == "not":
        inner = truth(test[1], lookup, importable)
        return None if inner is None else not inner
    found = value(test, lookup)
    return None if found is UNKNOWN else bool(found)


def value(test: Test, lookup: Lookup) -> Any:
    """The value of `test`, or UNKNOWN."""
    try:
        return _value(test, lookup)
    except Exception:  # odd constants compared (a TypeError): not decidable
        return UNKNOWN


def _value(test: Test, lookup: Lookup) -> Any:
    kind = test[0]
    if kind == "const":
        return test[1]
    if kind == "name":
        return lookup(test[1])
    if kind == "not":
        inner = truth(test[1], lookup)
        return UNKNOWN if inner is None else not inner
    if kind in ("and", "or"):
        result: Any = UNKNOWN
        for operand in test[1]:
            result = _value(operand, lookup)
            if result is UNKNOWN or bool(result) == (kind == "or"):
                return result
        return result
    if kind == "compare":
        left = _value(test[1], lookup)
        for op, right_test in test[2]:
            right = _value(right_test, lookup)
            if left is UNKNOWN or right is UNKNOWN or op not in _COMPARE:
                return UNKNOWN
            if not _COMPARE[op](left, right):
                return False
            left = right
        return True
    return UNKNOWN
