"""Whether a build would change nothing, decided from its inputs without rendering a page.

A build's inputs are named by a fingerprint: the sources (wheel file name, size and
modification time; a folder's files by path, size and modification time), the resolved
configuration and mkdocs.yml, the hand-written docs, the templates, docgen's own code and the
versions of the tools it runs (MkDocs, Material, Markdown, Graphviz). After a complete build
the fingerprint is kept in docgen's cache with what the build reported; the next build with
the same fingerprint, whose output folders still hold exactly what their manifests say, has
nothing to do. A source that can change without a trace in those stats (an installed
distribution, a PyTorch checkout read by the walk) makes the inputs unnameable, and the
build then runs as usual.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.metadata
import os
import shutil
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from docgen.core.config import Config, SourceSpec
from docgen.core.records import Diagnostic
from docgen.core.templating import shipped_templates
from docgen.sources.locate import default_spec, source_fingerprint
from docgen.sources.store import BlobStore

# The tools whose versions change the built site.
TOOLS = ("mkdocs", "mkdocs-material", "pymdown-extensions", "markdown", "jinja2", "pygments",
         "latex2mathml")
# Bump when what a record holds changes.
RECORD_SCHEMA = 1


@dataclass(frozen=True)
class BuildRecord:
    """What a complete build reported, kept with the fingerprint of its inputs."""

    inputs: str
    pages: int
    class_pages: int
    diagnostics: tuple[Diagnostic, ...]
    graphviz_missing: bool
    schema: int = RECORD_SCHEMA


def _stat_line(path: Path, rel: str) -> str:
    stat = path.stat()
    return f"{rel}\0{stat.st_size}\0{stat.st_mtime_ns}\n"


def folder_stats(root: Path, skip: Iterable[Path] = ()) -> str:
    """Every file under `root` by relative path, size and modification time (sorted);
    folders in `skip` and hidden folders (.git) are left out."""
    skipped = {str(p) for p in skip}
    lines: list[str] = []
    for here, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if not d.startswith(".")
                         and os.path.join(here, d) not in skipped)
        for name in sorted(files):
            path = Path(here, name)
            try:
                lines.append(_stat_line(path, path.relative_to(root).as_posix()))
            except OSError:
                continue
    return "".join(lines)


@functools.lru_cache(maxsize=1)
def code_digest() -> str:
    """docgen's own code and data, and the shipped templates, by content."""
    digest = hashlib.sha256()
    here = Path(__file__).resolve().parent.parent
    for path in sorted(here.rglob("*")):
        if path.is_file() and path.suffix in (".py", ".json", ".yml", ".yaml", ".css", ".js"):
            digest.update(path.relative_to(here).as_posix().encode() + b"\0")
            digest.update(path.read_bytes())
    templates = shipped_templates()
    if isinstance(templates, Path):
        digest.update(folder_stats(templates).encode())
    else:  # installed as a package: the templates are part of docgen's version
        digest.update(str(templates).encode())
    return digest.hexdigest()


def _tool_versions() -> str:
    parts = []
    for name in TOOLS:
        try:
            parts.append(f"{name}={importlib.metadata.version(name)}")
        except importlib.metadata.PackageNotFoundError:
            parts.append(f"{name}=-")
    dot = shutil.which("dot")
    if dot is not None:
        parts.append(_stat_line(Path(dot).resolve(), dot))
    return "\n".join(parts)


def _spec_stats(spec: SourceSpec) -> str | None:
    """One source by its stats; None when it can change without leaving a trace there."""
    if spec.spec == "env":
        return None
    path = Path(spec.spec).expanduser()
    if path.is_dir():
        return f"{spec.name}\0{path.resolve()}\n" + folder_stats(path.resolve())
    return source_fingerprint([spec.name], [spec])


def sources_stats(cfg: Config) -> str | None:
    """What every source the build reads looks like: the analysed packages' and each side
    of every Changes pair. None when any cannot be named by its stats."""
    chosen = {s.name: s for s in cfg.sources}
    parts = []
    for name in dict.fromkeys([*chosen, *cfg.top_level_names]):
        spec = chosen.get(name) or default_spec(name)
        part = _spec_stats(spec) if spec is not None else None
        if part is None:
            return None
        parts.append(part)
    for pair in cfg.change_pairs:
        for side in pair:
            part = _side_stats(side, cfg.selected_packages)
            if part is None:
                return None
            parts.append(part)
    return "\n".join(parts)


def _side_stats(side: str, packages: Sequence[str]) -> str | None:
    """One side of a Changes pair (`torch==2.14.1`, a wheel, a folder, a snapshot file)."""
    from docgen.changes.compare import is_snapshot_path, source_spec_of
    from docgen.core.errors import DocgenError

    if is_snapshot_path(side):
        path = Path(side).expanduser()
        return _stat_line(path, str(path.resolve())) if path.is_file() else None
    try:
        return _spec_stats(source_spec_of(side, packages))
    except DocgenError:
        return None


def input_fingerprint(cfg: Config, *, config_file: Path | None, raw: Mapping[str, Any],
                      docs_dir: Path | None, output: Path, site_dir: Path | None,
                      templates: Path | None, directory_urls: bool, strict: bool,
                      ) -> str | None:
    """The digest of everything a build reads; None when some input cannot be named."""
    if cfg.pytorch_src:
        return None
    sources = sources_stats(cfg)
    if sources is None:
        return None
    digest = hashlib.sha256()
    for part in (code_digest(), _tool_versions(), repr(cfg), sources,
                 f"{output}\0{site_dir}\0{templates}\0{directory_urls}\0{strict}"):
        digest.update(part.encode() + b"\0\1")
    if config_file is not None:
        digest.update(config_file.read_bytes())
        for extra in _config_paths(config_file.parent, raw):
            digest.update(folder_stats(extra).encode() if extra.is_dir()
                          else _stat_line(extra, str(extra)).encode() if extra.is_file()
                          else f"missing {extra}".encode())
    if docs_dir is not None and docs_dir.is_dir():
        skip = [output] if site_dir is None else [output, site_dir]
        digest.update(folder_stats(docs_dir, skip=skip).encode())
    if templates is not None:
        digest.update(folder_stats(templates).encode())
    return digest.hexdigest()


def _config_paths(root: Path, raw: Mapping[str, Any]) -> list[Path]:
    """Files and folders outside docs/ that mkdocs.yml names: INHERIT, hooks, the theme's
    custom_dir."""
    names: list[Any] = [raw.get("INHERIT"), *(raw.get("hooks") or [])]
    theme = raw.get("theme")
    if isinstance(theme, Mapping):
        names.append(theme.get("custom_dir"))
    return [(root / n).resolve() for n in names if isinstance(n, str)]


def _record_key(folders: Sequence[Path]) -> str:
    return hashlib.sha256("\0".join(str(f) for f in folders).encode()).hexdigest()


def load_record(store: BlobStore, folders: Sequence[Path]) -> BuildRecord | None:
    record = store.load(_record_key(folders))
    if isinstance(record, BuildRecord) and record.schema == RECORD_SCHEMA:
        return record
    return None


def store_record(store: BlobStore, folders: Sequence[Path], record: BuildRecord) -> None:
    store.store(_record_key(folders), record)
