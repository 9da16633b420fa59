"""Everything that writes to disk: generated pages and diagrams, snapshots, the built site.

Folders are replaced whole: the new content is written next to the old one, then swapped in,
so a failed build leaves the previous generated docs and `site/` as they were.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import shutil
import tempfile
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml

from docgen.core.errors import ConfigError, RenderError
from docgen.core.jsonio import dumps, schema_of

log = logging.getLogger(__name__)

PLUGIN_NAME = "docgen"


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_text_atomic(path: Path, text: str | Iterable[str]) -> None:
    """Write `text` (or its pieces) to `path` whole or not at all (temporary file, fsync,
    rename)."""
    try:
        _write_atomic(path, [text] if isinstance(text, str) else text)
    except OSError as exc:
        raise RenderError(f"{exc.filename or path}: cannot write: {exc.strerror or exc}") from exc


def _write_atomic(path: Path, pieces: Iterable[str]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        os.chmod(tmp, 0o666 & ~_umask())
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:
            for piece in pieces:
                handle.write(piece)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


# ----------------------------------------------------------------------------------------------
# folders docgen owns: a marker with a manifest, a lock per folder, staging named by its owner

MARKER = ".docgen-output"
MARKER_SCHEMA = 1
_MARKER_NOTE = ("This folder was written by docgen and is replaced whole on every build. "
                "docgen refuses to replace it when it holds files that it did not write; "
                "keep your own files elsewhere.")


def file_digest(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def tree_manifest(folder: Path) -> dict[str, str]:
    """{posix path: sha256} of every file under `folder` except the marker."""
    out = {}
    for path in sorted(folder.rglob("*")):
        if path.is_file() and not path.is_symlink() and path.name != MARKER:
            out[path.relative_to(folder).as_posix()] = file_digest(path)
    return out


def _write_marker(folder: Path) -> None:
    data = {"schema": MARKER_SCHEMA, "note": _MARKER_NOTE, "files": tree_manifest(folder)}
    (folder / MARKER).write_text(dumps(data), encoding="utf-8", newline="\n")


def read_manifest(folder: Path) -> dict[str, str] | None:
    """What docgen wrote into `folder` ({path: sha256}); None when `folder` has no (readable)
    marker, i.e. when docgen did not make it."""
    try:
        data = json.loads((folder / MARKER).read_text(encoding="utf-8"))
    except (OSError, ValueError, RecursionError):
        return None
    files = data.get("files") if schema_of(data) == MARKER_SCHEMA else None
    if not isinstance(files, dict) or not all(isinstance(v, str) for v in files.values()):
        return None
    return {str(k): v for k, v in files.items()}


def check_owned(dest: Path) -> None:
    """Refuse (ConfigError) to replace `dest` unless docgen made it: it is missing, empty,
    or carries docgen's marker and holds no file docgen did not write."""
    if dest.is_symlink() or (dest.exists() and not dest.is_dir()):
        raise ConfigError(f"{dest}: exists and is not a folder docgen made; "
                          "refusing to replace it")
    if not dest.is_dir():
        return
    try:
        if not any(dest.iterdir()):
            return
    except OSError as exc:
        raise ConfigError(f"{dest}: cannot read: {exc.strerror or exc}") from exc
    manifest = read_manifest(dest)
    if manifest is None:
        raise ConfigError(f"{dest}: folder exists, is not empty and was not made by docgen "
                          f"(no {MARKER}); refusing to replace it: choose an empty or new "
                          "folder, or remove this one yourself")
    foreign = [p.relative_to(dest).as_posix() for p in sorted(dest.rglob("*"))
               if (p.is_file() or p.is_symlink()) and p.name != MARKER
               and p.relative_to(dest).as_posix() not in manifest]
    if foreign:
        shown = ", ".join(foreign[:3]) + (f" and {len(foreign) - 3} more" if len(foreign) > 3
                                           else "")
        raise ConfigError(f"{dest}: holds {len(foreign)} file(s) docgen did not write "
                          f"({shown}); refusing to replace the folder: move them elsewhere")


def is_intact(dest: Path) -> bool:
    """`dest` holds exactly what docgen's manifest says it wrote, byte for byte."""
    manifest = read_manifest(dest)
    if manifest is None:
        return False
    try:
        return tree_manifest(dest) == manifest
    except OSError:
        return False


def _lock_file(dest: Path) -> Path:
    """The lock of one output folder, in the user's cache folder (never a shared temp one)."""
    from docgen.sources.locate import cache_dir

    lock_dir = cache_dir() / "locks"
    try:
        lock_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    except OSError as exc:
        raise ConfigError(f"{lock_dir}: cannot create docgen's lock folder: "
                          f"{exc.strerror or exc} (set DOCGEN_CACHE_DIR to a folder of yours)"
                          ) from exc
    name = hashlib.sha256(str(dest.resolve()).encode()).hexdigest()[:32]
    return lock_dir / f"{name}.lock"


@contextlib.contextmanager
def output_lock(folders: Sequence[Path]) -> Iterator[None]:
    """One writer per output folder: a second build writing any of `folders` waits for the
    first (OS file locks, released by the kernel even when the holder is killed). Locks are
    taken in one global order, so two builds sharing folders cannot deadlock."""
    import fcntl

    with contextlib.ExitStack() as stack:
        for path in sorted({_lock_file(f) for f in folders}):
            try:
                handle = stack.enter_context(open(path, "a+"))
            except OSError as exc:
                raise ConfigError(f"{path}: cannot open lock: {exc.strerror or exc}") from exc
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                log.info("another docgen build writes the same folder; waiting for it")
                fcntl.flock(handle, fcntl.LOCK_EX)
            stack.callback(fcntl.flock, handle, fcntl.LOCK_UN)
        yield


def _staging_prefix(dest: Path, kind: str) -> str:
    # The owner's pid is in the name from the first instant (mkdtemp), so a leftover is
    # always attributable: only leftovers of dead owners writing this same folder are removed.
    return f".{dest.name}.{kind}-{os.getpid()}-"


def _is_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def remove_stale_staging(dest: Path) -> None:
    """Staging folders a killed build of this same folder left next to `dest` (only call
    under output_lock for `dest`): those whose owning process is gone."""
    if not dest.parent.is_dir():
        return
    head = f".{dest.name}."
    for stale in dest.parent.iterdir():
        if not stale.name.startswith(head):
            continue
        kind, _, rest = stale.name[len(head):].partition("-")
        pid_text = rest.split("-", 1)[0]
        if kind not in ("new", "old") or not pid_text.isdigit() or not stale.is_dir() \
                or stale.is_symlink():
            continue
        if int(pid_text) != os.getpid() and not _is_alive(int(pid_text)):
            shutil.rmtree(stale, ignore_errors=True)


@contextlib.contextmanager
def staged_dir(dest: Path) -> Iterator[Path]:
    """A fresh folder next to `dest`; on success it replaces `dest`, on error it is removed.

    Until the final rename, `dest` keeps its previous content: an interrupted build leaves
    the last complete output in place, never a half-written one. `dest` is only replaced when
    docgen made it (check_owned); the new folder gets the marker and manifest.
    """
    check_owned(dest)
    try:
        dest.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(dir=dest.parent, prefix=_staging_prefix(dest, "new")))
    except OSError as exc:
        raise RenderError(f"{dest.parent}: cannot write there: {exc.strerror or exc}") from exc
    try:
        yield tmp
        _write_marker(tmp)
        check_owned(dest)  # a user file may have arrived during the build
    except OSError as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        where = exc.filename or dest
        raise RenderError(f"{where}: cannot write: {exc.strerror or exc}; "
                          f"the previous {dest.name}/ is left as it was") from exc
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    _swap(tmp, dest)


def _swap(new: Path, dest: Path) -> None:
    old = None
    if dest.exists():
        old = Path(tempfile.mkdtemp(dir=dest.parent, prefix=_staging_prefix(dest, "old")))
        os.replace(dest, old / "content")
    try:
        os.replace(new, dest)
    except BaseException:
        if old is not None:
            os.replace(old / "content", dest)
        raise
    finally:
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    dest.chmod(0o755)


def write_tree(dest: Path, files: Mapping[str, str]) -> None:
    """Replace the folder `dest` by exactly `files` ({posix relative path: text})."""
    with staged_dir(dest) as tmp:
        for rel in sorted(files):
            if rel.startswith("/") or ".." in rel.split("/"):
                raise RenderError(f"refusing to write outside the output folder: {rel}")
            path = tmp / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(files[rel], encoding="utf-8", newline="\n")


def stage_docs(dest: Path, docs_dir: Path | None, output_rel: str,
               files: Mapping[str, str]) -> None:
    """A copy of `docs_dir` (hand-written pages) with `files` at `output_rel`, in `dest`.

    `docgen serve` builds from such a copy so that it never writes into the folders it watches.
    """
    with staged_dir(dest) as tmp:
        if docs_dir is not None and docs_dir.is_dir():
            skip = (docs_dir / output_rel).resolve()
            shutil.copytree(docs_dir, tmp, dirs_exist_ok=True,
                            ignore=lambda d, names: [n for n in names
                                                     if (Path(d) / n).resolve() == skip])
        target = tmp / output_rel if output_rel not in ("", ".") else tmp
        for rel in sorted(files):
            path = target / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(files[rel], encoding="utf-8", newline="\n")


class SiteBuildFailed(RenderError):
    """MkDocs could not build the site; `is_strict` when only --strict warnings stopped it."""

    def __init__(self, message: str, *, is_strict: bool) -> None:
        super().__init__(message)
        self.is_strict = is_strict


# ----------------------------------------------------------------------------------------------
# mkdocs


def read_mkdocs_yml(path: Path) -> dict[str, Any]:
    """The raw mkdocs.yml mapping (MkDocs' own YAML loader: !ENV, !relative, python tags)."""
    from mkdocs.exceptions import MkDocsException
    from mkdocs.utils.yaml import yaml_load

    try:
        with path.open("rb") as handle:
            data = yaml_load(handle)
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror or exc}") from exc
    except (yaml.YAMLError, MkDocsException, ValueError, RecursionError) as exc:
        raise ConfigError(f"{path}:{_yaml_problem(exc)}") from exc
    if not isinstance(data, dict):
        raise ConfigError(f"{path}:1: not a mapping")
    return data


def _yaml_problem(exc: BaseException) -> str:
    """`LINE: invalid YAML: what` for a YAML error (MkDocs wraps PyYAML's in its own)."""
    cause = exc if isinstance(exc, yaml.MarkedYAMLError) else exc.__cause__
    if isinstance(cause, yaml.MarkedYAMLError):
        mark = cause.problem_mark or cause.context_mark
        line = mark.line + 1 if mark is not None else 1
        return f"{line}: invalid YAML: {cause.problem or cause.context}"
    text = str(exc).strip()
    return f"1: invalid YAML: {text.splitlines()[0] if text else type(exc).__name__}"


def plugin_options(raw: Mapping[str, Any]) -> dict[str, Any] | None:
    """The docgen plugin's options in a raw mkdocs.yml (None when the plugin is not listed)."""
    for entry in raw.get("plugins") or []:
        if entry == PLUGIN_NAME:
            return {}
        if isinstance(entry, dict) and PLUGIN_NAME in entry:
            return dict(entry[PLUGIN_NAME] or {})
    if isinstance(raw.get("plugins"), dict) and PLUGIN_NAME in raw["plugins"]:
        return dict(raw["plugins"][PLUGIN_NAME] or {})
    return None


def _without_docgen(plugins: Any) -> Any:
    if isinstance(plugins, dict):
        return {k: v for k, v in plugins.items() if k != PLUGIN_NAME}
    return [p for p in plugins or [] if p != PLUGIN_NAME
            and not (isinstance(p, dict) and PLUGIN_NAME in p)]


def builtin_site_config(docs_dir: Path, nav: Sequence[Any]) -> dict[str, Any]:
    """docgen's own site configuration for a project without mkdocs.yml."""
    from importlib.resources import files

    text = files("docgen.data").joinpath("mkdocs-default.yml").read_text(encoding="utf-8")
    data = yaml.safe_load(text)
    data["docs_dir"] = str(docs_dir)
    data["nav"] = list(nav)
    return data


# Themes that fetch a web font from Google Fonts unless `font: false` is set.
_WEB_FONT_THEMES = ("material",)
OFFLINE_FONT_NOTE = ("theme.font: the {theme} theme would load its web font from Google "
                     "Fonts on every page; docgen turns it off (font: false) so the site "
                     "requests nothing outside itself and the system fonts are used")


def offline_theme(theme: Any) -> tuple[Any, str | None]:
    """mkdocs.yml's `theme` with any web font from outside the site turned off, and the note
    to log when it was changed (None when nothing had to change)."""
    mapping = {"name": theme} if isinstance(theme, str) else theme
    if not isinstance(mapping, Mapping) or mapping.get("name") not in _WEB_FONT_THEMES \
            or mapping.get("font") is False:
        return theme, None
    return {**mapping, "font": False}, OFFLINE_FONT_NOTE.format(theme=mapping["name"])


def build_site(site_dir: Path, *, config_file: Path | None = None,
               builtin: Mapping[str, Any] | None = None, strict: bool = False,
               extra_css: Sequence[str] = (), extra_javascript: Sequence[str] = (),
               docs_dir: Path | None = None, page_cache: Path | None = None) -> None:
    """Run `mkdocs build` into a fresh folder and swap it into `site_dir`.

    With `config_file`, the user's mkdocs.yml is used with docgen's own plugin left out
    (docgen has already generated the pages); otherwise `builtin` is the whole configuration.
    """
    from mkdocs.commands.build import build
    from mkdocs.config import load_config
    from mkdocs.exceptions import MkDocsException

    from docgen.site.pagecache import session

    with staged_dir(site_dir) as tmp, tempfile.TemporaryDirectory() as scratch, \
            session(page_cache):
        if config_file is not None:
            raw = read_mkdocs_yml(config_file)
            overrides: dict[str, Any] = {"plugins": _without_docgen(raw.get("plugins")),
                                         "site_dir": str(tmp), "strict": strict}
            css = [*raw.get("extra_css", []), *(c for c in extra_css
                                                 if c not in raw.get("extra_css", []))]
            overrides["extra_css"] = css
            hooks = [*raw.get("hooks", []), str(Path(__file__).with_name("mkdocs_hooks.py"))]
            overrides["hooks"] = hooks
            js = [*raw.get("extra_javascript", []),
                  *(j for j in extra_javascript if j not in raw.get("extra_javascript", []))]
            overrides["extra_javascript"] = js
            if docs_dir is not None:
                overrides["docs_dir"] = str(docs_dir)
            theme, note = offline_theme(raw.get("theme"))
            if note is not None:
                overrides["theme"] = theme
                log.info("%s", note)
            cfg_path = config_file
        else:
            cfg_path = Path(scratch) / "mkdocs.yml"
            cfg_path.write_text(yaml.safe_dump(dict(builtin or {}), sort_keys=False),
                                encoding="utf-8")
            overrides = {"site_dir": str(tmp), "strict": strict,
                         "hooks": [str(Path(__file__).with_name("mkdocs_hooks.py"))]}
        # MkDocs counts warnings for --strict through its logger, so it must let warnings
        # through whatever docgen's verbosity; its INFO chatter (page lists) stays out.
        mkdocs_log = logging.getLogger("mkdocs")
        previous = mkdocs_log.level
        mkdocs_log.setLevel(logging.WARNING)
        try:
            config = load_config(config_file=str(cfg_path), **overrides)
            build(config)
        except (MkDocsException, SystemExit) as exc:
            text = str(exc)
            raise SiteBuildFailed(f"mkdocs build failed: {text}",
                                  is_strict="strict mode" in text) from exc
        finally:
            mkdocs_log.setLevel(previous)
