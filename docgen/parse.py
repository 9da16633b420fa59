"""The only place that builds astroid trees; decode, syntax and I/O errors become SourceError."""

from __future__ import annotations

import io
import tokenize

import astroid
from astroid import nodes
from astroid.builder import AstroidBuilder
from astroid.exceptions import AstroidSyntaxError

from docgen.errors import SourceError

# One builder without transforms: docgen reads syntax, it never asks astroid to infer or import.
_BUILDER = AstroidBuilder(astroid.MANAGER, apply_transforms=False)


def decode_source(data: bytes, path: str) -> str:
    """Text of a Python file, honouring its PEP 263 coding line; errors name the line."""
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
    except SyntaxError as exc:
        raise SourceError(path, getattr(exc, "lineno", None) or 1, str(exc)) from exc
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise SourceError(path, line, f"not valid {encoding}: {exc.reason}") from exc
    except LookupError as exc:
        raise SourceError(path, 1, f"unknown encoding {encoding!r}") from exc
    return text.removeprefix("\ufeff")


def parse_module(data: bytes, modname: str, path: str) -> nodes.Module:
    """An astroid Module for `data`; raises SourceError(path, line, reason) when it can't."""
    text = decode_source(data, path)
    try:
        # `_data_build` stops before astroid's post-build steps, which resolve star imports
        # and infer `self.x` targets by loading other modules from sys.path: docgen does its
        # own resolution over the sources it was given.
        module, _ = _BUILDER._data_build(text, modname, path)
        return module
    except AstroidSyntaxError as exc:
        error = exc.error
        line = getattr(error, "lineno", None) or 1
        reason = getattr(error, "msg", None) or str(error)
        raise SourceError(path, line, f"syntax error: {reason}") from exc
    except (ValueError, RecursionError, MemoryError) as exc:
        raise SourceError(path, 1, f"cannot parse: {type(exc).__name__}: {exc}") from exc
