"""Everything that writes to disk: generated pages and diagrams, snapshots, the built site.

Folders are replaced whole: the new content is written next to the old one, then swapped in,
so a failed build leaves the previous generated docs and `site/` as they were.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import shutil
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml

from docgen.core.errors import ConfigError, RenderError

log = logging.getLogger(__name__)

PLUGIN_NAME = "docgen"


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_text_atomic(path: Path, text: str) -> None:
    """Write `text` to `path` whole or not at all (temporary file, fsync, rename)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        os.chmod(tmp, 0o666 & ~_umask())
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


@contextlib.contextmanager
def build_lock(project: Path) -> Iterator[None]:
    """One build of a project at a time: a second one waits for the first (an OS file lock,
    released by the kernel even when the holder is killed)."""
    import fcntl

    lock_dir = Path(tempfile.gettempdir()) / "docgen-locks"
    lock_dir.mkdir(parents=True, exist_ok=True)
    name = hashlib.sha256(str(project.resolve()).encode()).hexdigest()[:32]
    with open(lock_dir / f"{name}.lock", "a+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            log.info("another docgen build of %s is running; waiting for it", project)
            fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def remove_stale_staging(dest: Path) -> None:
    """Staging folders a killed build left next to `dest` (only call under build_lock)."""
    if dest.parent.is_dir():
        for stale in dest.parent.glob(f".{dest.name}.*-*"):
            if stale.is_dir() and stale.name.split(".")[-1].startswith(("new-", "old-")):
                shutil.rmtree(stale, ignore_errors=True)


@contextlib.contextmanager
def staged_dir(dest: Path) -> Iterator[Path]:
    """A fresh folder next to `dest`; on success it replaces `dest`, on error it is removed.

    Until the final rename, `dest` keeps its previous content: an interrupted build leaves
    the last complete output in place, never a half-written one.
    """
    try:
        dest.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(dir=dest.parent, prefix=f".{dest.name}.new-"))
    except OSError as exc:
        raise RenderError(f"{dest.parent}: cannot write there: {exc.strerror or exc}") from exc
    try:
        yield tmp
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
        old = Path(tempfile.mkdtemp(dir=dest.parent, prefix=f".{dest.name}.old-"))
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
    from mkdocs.utils.yaml import yaml_load

    try:
        with path.open("rb") as handle:
            data = yaml_load(handle)
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(f"{path}: cannot read: {exc}") from exc
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: not a mapping")
    return data


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


def build_site(site_dir: Path, *, config_file: Path | None = None,
               builtin: Mapping[str, Any] | None = None, strict: bool = False,
               extra_css: Sequence[str] = (), extra_javascript: Sequence[str] = (),
               docs_dir: Path | None = None) -> None:
    """Run `mkdocs build` into a fresh folder and swap it into `site_dir`.

    With `config_file`, the user's mkdocs.yml is used with docgen's own plugin left out
    (docgen has already generated the pages); otherwise `builtin` is the whole configuration.
    """
    from mkdocs.commands.build import build
    from mkdocs.config import load_config
    from mkdocs.exceptions import MkDocsException

    with staged_dir(site_dir) as tmp, tempfile.TemporaryDirectory() as scratch:
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
