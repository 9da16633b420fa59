"""The one way to build the Jinja environment, and where the shipped templates live.

Renderers of every feature (pages, walk, changes) take the environment built here; the
filters are the escaping functions of `docgen.core.escape`, named for their effect.
"""

from __future__ import annotations

import hashlib
import importlib.resources
import re
from importlib.resources.abc import Traversable
from pathlib import Path

import jinja2

from docgen.core.errors import ConfigError
from docgen.core.escape import (
    anchor,
    html_text,
    md_cell,
    md_code,
    md_signature,
    md_summary,
    md_text,
)
from docgen.core.names import short_name as short


def shipped_templates() -> Traversable:
    """The templates shipped with docgen: the `docgen.templates` package (top-level
    `templates/` in a checkout, mapped by pyproject.toml); the only place that knows where."""
    try:
        return importlib.resources.files("docgen.templates")
    except ModuleNotFoundError:  # running from a source checkout that is not installed
        return Path(__file__).resolve().parents[2] / "templates"


def _traversable_loader(root: Traversable) -> jinja2.BaseLoader:
    def load(name: str) -> str | None:
        item = root
        for part in name.split("/"):
            item = item.joinpath(part)
        return item.read_text(encoding="utf-8") if item.is_file() else None

    return jinja2.FunctionLoader(load)


def make_environment(override: Path | None = None,
                     compiled: Path | None = None) -> jinja2.Environment:
    """The one environment: user templates in `override` first, then the shipped ones; with
    `compiled`, a folder (in docgen's cache) where the compiled templates are kept between
    builds."""
    loaders: list[jinja2.BaseLoader] = []
    if override is not None and not override.is_dir():
        raise ConfigError(f"{override}: templates folder does not exist")
    if override is not None:
        loaders.append(jinja2.FileSystemLoader(str(override)))
    loaders.append(_traversable_loader(shipped_templates()))
    env = jinja2.Environment(
        loader=jinja2.ChoiceLoader(loaders), undefined=jinja2.StrictUndefined,
        trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True, autoescape=False,
        bytecode_cache=_bytecode_cache(compiled) if compiled is not None else None)
    env.filters.update(md_text=md_text, md_cell=md_cell, md_code=md_code, anchor=anchor,
                       md_signature=md_signature, md_summary=md_summary,
                       html_text=html_text, short=short, fence=fence)
    return env


def _bytecode_cache(folder: Path) -> jinja2.BytecodeCache | None:
    """Jinja's own cache of compiled templates, which checks each template's source; in a
    subfolder per Jinja version and per this module's code (the environment's settings shape
    the compiled code), so that no other compilation is ever read. None: not writable."""
    tag = hashlib.sha256(jinja2.__version__.encode() + b"\0" + Path(__file__).read_bytes())
    where = folder / tag.hexdigest()[:16]
    try:
        where.mkdir(parents=True, exist_ok=True)
    except OSError:
        return None
    return jinja2.FileSystemBytecodeCache(str(where))


def read_shipped_asset(name: str) -> str:
    return shipped_templates().joinpath(name).read_text(encoding="utf-8")


def fence(text: str, lang: str = "") -> str:
    """A fenced code block longer than any backtick run inside `text`."""
    longest = max((len(m) for m in re.findall(r"`+", text)), default=0)
    ticks = "`" * max(3, longest + 1)
    return f"{ticks}{lang}\n{text.rstrip()}\n{ticks}"
