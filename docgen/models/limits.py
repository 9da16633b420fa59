"""How big a plain Python value the evaluator lets the evaluated code make.

The evaluator runs model code on real Python values (ints, strings, lists, ranges). A hostile
or careless model could ask for `list(range(10**9))`, `[0] * 10**10` or `10 ** 10 ** 9`, which
Python would try to build, exhausting memory or time. Each check below refuses such a value
before it is made, with a reason (TooLarge): the statement is then left undecided and
reported as a warning, and the rest of the work goes on.
"""

from __future__ import annotations

from typing import Any

from docgen.models.values import TooLarge

MAX_ITEMS = 1_000_000  # items of one sequence, characters of one string
MAX_INT_BITS = 1 << 16  # bits of one integer (about 20,000 decimal digits)

_SEQUENCES = (str, bytes, list, tuple, range, dict, set, frozenset)
# methods of plain values whose integer argument is the size of what they return
_SIZING_METHODS = {"ljust", "rjust", "center", "zfill", "expandtabs"}


def _length(value: Any) -> int | None:
    if not isinstance(value, _SEQUENCES):
        return None
    try:
        return len(value)
    except OverflowError:  # len(range(10**30))
        return MAX_ITEMS + 1


def check_arguments(func: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
    """Before a native function runs: no argument may be a sequence over MAX_ITEMS
    (`sum(range(10**12))`, `list(range(10**9))`), and a sizing method of a string may not be
    asked for more than MAX_ITEMS characters (`"x".ljust(10**10)`)."""
    for value in (*args, *kwargs.values()):
        size = _length(value)
        if size is not None and size > MAX_ITEMS:
            raise TooLarge(f"{_name(func)}: an argument of more than {MAX_ITEMS:,} "
                                 "items (docgen does not make values that large)")
    if getattr(func, "__name__", "") in _SIZING_METHODS and isinstance(
            getattr(func, "__self__", None), (str, bytes)):
        for value in args:
            if isinstance(value, int) and value > MAX_ITEMS:
                raise TooLarge(f"{_name(func)}({value}): a string of more than "
                                     f"{MAX_ITEMS:,} characters")


def check_binary(name: str, left: Any, right: Any) -> None:
    """Before `left <op> right` runs on plain values: `seq * n` over MAX_ITEMS items, `a ** b`
    and `a << b` over MAX_INT_BITS bits are refused."""
    if name == "mul":
        for seq, times in ((left, right), (right, left)):
            size = _length(seq)
            if size is not None and isinstance(times, int) and size * times > MAX_ITEMS:
                raise TooLarge(f"a sequence of {size} items times {times}: more than "
                                     f"{MAX_ITEMS:,} items")
    elif name == "pow" and _is_int(left) and _is_int(right) and right > 0 \
            and abs(left) > 1 and abs(left).bit_length() * right > MAX_INT_BITS:
        raise TooLarge(f"{left} ** {right}: an integer of more than {MAX_INT_BITS:,} "
                             "bits")
    elif name == "lshift" and _is_int(left) and _is_int(right) and left \
            and abs(left).bit_length() + right > MAX_INT_BITS:
        raise TooLarge(f"{left} << {right}: an integer of more than {MAX_INT_BITS:,} "
                             "bits")


def bounded(items: Any) -> list[Any]:
    """`list(items)` for an iterable the evaluated code iterates over, refusing one of more
    than MAX_ITEMS items without making it."""
    size = _length(items)
    if size is not None and size > MAX_ITEMS:
        raise TooLarge(f"iterates over more than {MAX_ITEMS:,} items (docgen does not "
                             "make values that large)")
    out: list[Any] = []
    for item in items:
        if len(out) == MAX_ITEMS:
            raise TooLarge(f"iterates over more than {MAX_ITEMS:,} items")
        out.append(item)
    return out


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _name(func: Any) -> str:
    return str(getattr(func, "__qualname__", None) or getattr(func, "__name__", None)
               or type(func).__name__)
