"""The one JSON convention of every file docgen writes, and the schema number of each format.

`indent=2, sort_keys=True, ensure_ascii=False` and a trailing newline, so CI can diff the
files; each document carries a top-level `"schema"` that readers check with `check_schema`.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from json.encoder import encode_basestring  # the C version where there is one
from typing import Any

# One schema number per file format; bump it when the format changes incompatibly.
SNAPSHOT_SCHEMA = 1  # docgen snapshot (the class model)
SHOW_SCHEMA = 1  # docgen show --json (one class)
SUMMARY_SCHEMA = 1  # docgen summary --json
WALK_SCHEMA = 1  # docgen walk --json
DIFF_SCHEMA = 1  # docgen diff --format json, docgen check --format json


def dumps(data: Any) -> str:
    """The text of a JSON document, in docgen's one convention."""
    return json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


@dataclass(frozen=True)
class LazyObject:
    """A JSON object whose values are made one at a time while it is written (`iter_dumps`
    only): `keys` in the order `sort_keys` gives, `value_of` the value of each key. A
    snapshot's classes are written this way, so the whole document never exists at once."""

    keys: Sequence[str]
    value_of: Callable[[str], Any]


def iter_dumps(data: Any, depth: int = 2) -> Iterator[str]:
    """The same text as `dumps`, in pieces: a large document (a snapshot of a big package)
    is written out without ever being held whole in memory. Each value nested `depth`
    containers deep is one piece."""
    yield from _iter_value(data, "\n", depth)
    yield "\n"


def _iter_value(value: Any, newline: str, depth: int) -> Iterator[str]:
    items: Iterator[tuple[str, Any]] | None = None
    if isinstance(value, LazyObject):
        items = ((k, value.value_of(k)) for k in value.keys)
        empty = not value.keys
    elif depth > 0 and isinstance(value, dict) and all(type(k) is str for k in value):
        items = iter(sorted(value.items()))
        empty = not value
    if items is None:
        yield _encode(value, newline)
        return
    if empty:
        yield "{}"
        return
    inner = newline + "  "
    head = "{" + inner
    for key, item in items:
        yield head + encode_basestring(key) + ": "
        yield from _iter_value(item, inner, depth - 1)
        head = "," + inner
    yield newline + "}"


def _encode(value: Any, newline: str) -> str:
    """`value` as `dumps` writes it at the nesting whose line break and indent is `newline`.

    The standard library's encoder runs in Python whenever it indents; this one builds each
    container with one join, which writes a large snapshot several times faster. Types are
    tested in the standard encoder's order, so subclasses (a str enum) come out the same."""
    if isinstance(value, str):
        return encode_basestring(value)
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, int):
        return int.__repr__(value)
    if isinstance(value, list | tuple):
        if not value:
            return "[]"
        inner = newline + "  "
        return "[" + inner + ("," + inner).join([_encode(v, inner) for v in value]) + \
            newline + "]"
    if isinstance(value, dict) and all(type(k) is str for k in value):
        if not value:
            return "{}"
        inner = newline + "  "
        return "{" + inner + ("," + inner).join(
            [encode_basestring(k) + ": " + _encode(v, inner) for k, v in sorted(value.items())]
        ) + newline + "}"
    # floats (NaN, Infinity), dicts with other keys, and errors: the standard encoder's own
    # text, moved to this nesting (its only line breaks are its indentation).
    return json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False).replace(
        "\n", newline)


def schema_of(data: Any) -> int | None:
    """The document's schema number; None when it is missing or not an integer (a JSON
    `true` is no schema, although Python's bool is an int)."""
    if not isinstance(data, dict):
        return None
    schema = data.get("schema")
    if isinstance(schema, bool) or not isinstance(schema, int):
        return None
    return schema
