"""The one JSON convention of every file docgen writes, and the schema number of each format.

`indent=2, sort_keys=True, ensure_ascii=False` and a trailing newline, so CI can diff the
files; each document carries a top-level `"schema"` that readers check with `check_schema`.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
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


def iter_dumps(data: Any) -> Iterator[str]:
    """The same text as `dumps`, in pieces: a large document (a snapshot of a big package)
    is written out without ever being held whole in memory."""
    encoder = json.JSONEncoder(indent=2, sort_keys=True, ensure_ascii=False)
    yield from encoder.iterencode(data)
    yield "\n"


def schema_of(data: Any) -> int | None:
    """The document's schema number; None when it is missing or not an integer (a JSON
    `true` is no schema, although Python's bool is an int)."""
    if not isinstance(data, dict):
        return None
    schema = data.get("schema")
    if isinstance(schema, bool) or not isinstance(schema, int):
        return None
    return schema
