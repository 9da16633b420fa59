"""A Cython `.pyx` file reduced to the Python the class model reads, line for line.

An extension module built from a `.pyx` holds classes the pure-Python parser cannot read
(`cdef class OrderedSet(set):`, typed arguments, `cdef` declarations). What the class model
needs of it is Python already: imports, class statements and their bases, method names,
class-level assignments and docstrings. Every other line becomes empty, so line numbers
stay those of the `.pyx`; a method keeps its header when that is Python, else becomes
`def name(self, *args, **kwargs): ...`, and its body is dropped.
"""

from __future__ import annotations

import ast
import re

_CLASS = re.compile(r"^(?:c(?:p)?def\s+(?:(?:public|api|final|readonly)\s+)*)?class\s+(\w+)(.*)$",
                    re.S)
_FUNCTION = re.compile(r"^(?:async\s+)?(?:def|cpdef|cdef)\s+(?:[\w\[\]\.\*\s,]+?\s+)?\*?(\w+)\s*\(",
                       re.S)
_DROP = re.compile(r"^(?:cimport\b|from\s+\S+\s+cimport\b|include\b|DEF\b|IF\b|ELIF\b|ELSE\b|"
                   r"ctypedef\b|cdef\b|cpdef\b)")


def cython_as_python(text: str) -> str:
    """`text` (a .pyx) with only what Python can parse kept, line numbers unchanged."""
    lines = text.splitlines()
    out = [""] * len(lines)
    classes: list[tuple[int, int, bool]] = []  # (indent, header line, body seen)
    skip_above: int | None = None  # dropping a block: lines indented deeper than this
    i = 0
    while i < len(lines):
        start = i
        i, statement = _logical_line(lines, i)
        stripped = statement.strip()
        if not stripped or stripped.startswith("#"):
            continue
        indent = len(lines[start]) - len(lines[start].lstrip())
        if skip_above is not None:
            if indent > skip_above:
                continue
            skip_above = None
        while classes and indent <= classes[-1][0]:
            _close(classes.pop(), out)
        is_block = stripped.rstrip().endswith(":") and not stripped.startswith(("@", "#"))
        kept = _translate(stripped, bool(classes))
        if kept is None:
            if is_block:
                skip_above = indent
            continue
        if kept == stripped and i - start > 1:
            out[start:i] = lines[start:i]  # kept as written: its own lines, as they were
        else:
            out[start] = " " * indent + kept
        if classes:
            classes[-1] = (classes[-1][0], classes[-1][1], True)
        if _CLASS.match(stripped):
            classes.append((indent, start, False))
        elif is_block or kept.endswith("..."):
            skip_above = indent  # a function kept as its header: its body goes
    while classes:
        _close(classes.pop(), out)
    return "\n".join(out) + "\n"


def _close(cls: tuple[int, int, bool], out: list[str]) -> None:
    _, line, has_body = cls
    if not has_body:
        out[line] += " pass"


def _translate(stmt: str, in_class: bool) -> str | None:
    """The Python line that stands for statement `stmt` (one logical line), or None."""
    header = _CLASS.match(stmt)
    if header:
        name, rest = header.groups()
        rest = rest.strip()
        bases = rest[: rest.rindex(")") + 1] if rest.startswith("(") and ")" in rest else ""
        line = f"class {name}{bases}:"
        return line if _parses(line + " pass") else f"class {name}:"
    function = _FUNCTION.match(stmt)
    if function and stmt.rstrip().endswith(":"):
        name = function.group(1)
        if stmt.startswith(("def ", "async def ")) and _parses(f"{stmt} ..."):
            return f"{stmt} ..."
        return f"def {name}(self, *args, **kwargs): ..." if in_class else \
            f"def {name}(*args, **kwargs): ..."
    if _DROP.match(stmt) or stmt.endswith(":"):
        return None if not stmt.startswith("@") else stmt
    return stmt if _parses(stmt) else None


def _parses(code: str) -> bool:
    try:
        ast.parse(code)
    except (SyntaxError, ValueError):
        return False
    return True


def _logical_line(lines: list[str], i: int) -> tuple[int, str]:
    """(index after, text) of the logical line starting at `lines[i]`: brackets left open
    and trailing backslashes continue it (strings are not looked into: a rare bracket in
    one only joins lines that are then dropped as unparsable)."""
    parts = [lines[i]]
    depth = _depth(lines[i])
    quote = _open_quote(lines[i], None)
    i += 1
    while i < len(lines) and (quote or depth > 0 or parts[-1].rstrip().endswith("\\")):
        parts.append(lines[i])
        if quote:
            quote = _open_quote(lines[i], quote)
        else:
            depth += _depth(lines[i])
            quote = _open_quote(lines[i], None)
        i += 1
    if len(parts) > 1 and any(q in parts[0] for q in ('"""', "'''")):
        return i, "\n".join(p.strip() for p in parts)  # a docstring keeps its lines
    return i, " ".join(p.strip().rstrip("\\") for p in parts)


def _open_quote(line: str, quote: str | None) -> str | None:
    """The triple quote still open after `line`, given the one open before it."""
    for found in re.findall(r'"""|\'\'\'', line):
        if quote is None:
            quote = found
        elif found == quote:
            quote = None
    return quote


def _depth(line: str) -> int:
    code = line.split("#", 1)[0]
    return sum(code.count(c) for c in "([{") - sum(code.count(c) for c in ")]}")
