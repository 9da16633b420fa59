"""Turning each side of a diff (snapshot or sources) into a Project.

The comparison itself is `changes.diff`, the wording `changes.report`; this module finds
what to compare and rebuilds the configuration a snapshot records.
"""

from __future__ import annotations

import logging
import re
import shlex
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from packaging.requirements import InvalidRequirement, Requirement

from docgen.changes.diff import Diff, diff_projects, public_version
from docgen.changes.report import (
    format_github,
    format_json,
    format_markdown,
    format_text,
)
from docgen.changes.snapshot import load_snapshot
from docgen.core.config import DEFAULT_MODEL, Config, config_from_options
from docgen.core.errors import ConfigError, FetchError
from docgen.core.records import Project
from docgen.sources.locate import SourceSpec, cache_dir, user_path

log = logging.getLogger(__name__)

FORMATS: dict[str, Callable[[Diff], str]] = {
    "text": format_text, "json": format_json, "markdown": format_markdown,
    "github": format_github,
}
# The version pairs the site's Changes pages compare by default (old, new requirement).


@dataclass(frozen=True)
class LoadOptions:
    """How sources are analysed: what the command line says beyond the two sides."""

    packages: tuple[str, ...] | None = None
    model: str | None = None
    overrides: tuple[SourceSpec, ...] = ()
    offline: bool = False
    use_cache: bool = True
    jobs: int = 0


# ----------------------------------------------------------------------------------------------
# sides


def is_snapshot_path(text: str) -> bool:
    return text.endswith(".json")


def read_snapshot(path: Path) -> Project:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise FetchError(f"{path}: cannot read snapshot ({exc.strerror or exc})") from exc
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise FetchError(f"{path}:{line}: not UTF-8 ({exc.reason})") from exc
    return load_snapshot(text, origin=str(path))


# NAME=SPEC with a distribution or package name; `torch==2.13.0` is a requirement instead.
_NAME_SPEC = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*=(?!=)\S.*")


def source_spec_of(text: str, packages: Sequence[str] = ()) -> SourceSpec:
    """`torch==2.14.1`, `path/torch-2.14.1-...whl`, a source folder, or `NAME=SPEC`."""
    named = _NAME_SPEC.fullmatch(text)
    if named is not None:  # `requests=/path/to.whl`, `torch=env`, `mylib=../src`
        return SourceSpec.parse(text)
    path = user_path(text)
    if text.endswith(".whl"):
        return SourceSpec(path.name.split("-", 1)[0], text)
    if path.is_dir():
        if (path / "__init__.py").is_file():
            return SourceSpec(path.name, text)
        tops = [p.split(".")[0] for p in packages] or ["torch"]
        return SourceSpec(tops[0], text)
    try:
        return SourceSpec(Requirement(text).name, text)
    except InvalidRequirement:
        pass
    if "=" in text:
        return SourceSpec.parse(text)
    raise ConfigError(f"{text!r} is neither a snapshot (.json), a requirement, a wheel "
                      f"nor a source folder")


def pinned_sources(snapshot: Project) -> tuple[SourceSpec, ...]:
    """The requirement each recorded distribution pins (`torch==2.13.0`, local label dropped)."""
    return tuple(SourceSpec(d.name, f"{d.name}=={public_version(d.version)}")
                 for d in snapshot.distributions if d.version not in ("", "unknown"))


def config_for_snapshot(snapshot: Project, opts: LoadOptions) -> Config:
    """The configuration that made `snapshot`, with the user's --source overrides on top."""
    chosen = {s.name: s for s in pinned_sources(snapshot)}
    chosen.update({s.name: s for s in opts.overrides})
    missing = [d.name for d in snapshot.distributions if d.name not in chosen]
    if missing:
        raise ConfigError(f"the snapshot does not pin a version of {', '.join(missing)} "
                          f"(made from a folder?); pass --source NAME=SPEC")
    return _config(opts.model if opts.model is not None else snapshot.model or "",
                   opts.packages or snapshot.packages, tuple(chosen.values()), opts)


def config_for_source(spec: SourceSpec, opts: LoadOptions,
                      template: Project | None = None) -> Config:
    """Sources where `spec` overrides its distribution; packages and model from the options,
    else from the snapshot on the other side, else torch.nn for torch and torchvision
    (AlexNet with torchvision), else the distribution's own package."""
    if template is not None:
        return config_for_snapshot(template, replace(opts, overrides=(*opts.overrides, spec)))
    model = opts.model if opts.model is not None else (
        DEFAULT_MODEL if spec.name == "torchvision" else "")
    packages = opts.packages or (() if spec.name in ("torch", "torchvision") else (spec.name,))
    return _config(model, packages, (*opts.overrides, spec), opts)


def _config(model: str, packages: Sequence[str], sources: tuple[SourceSpec, ...],
            opts: LoadOptions) -> Config:
    by_name = {s.name: s for s in sources}
    return config_from_options({"model": model, "packages": list(packages),
                                "sources": list(by_name.values()), "offline": opts.offline})


def analyse(cfg: Config, opts: LoadOptions) -> Project:
    from docgen.classes.cache import AnalysisCache  # astroid only when something is analysed
    from docgen.classes.project import load_project

    cache = AnalysisCache(cache_dir()) if opts.use_cache else None
    project = load_project(cfg, cache=cache, jobs=opts.jobs)
    for d in project.diagnostics:
        log.debug("%s", d)
    return project


def load_sides(old: str, new: str, opts: LoadOptions) -> tuple[Project, Project]:
    """Both sides as Projects; a source side borrows packages/model from a snapshot side."""
    snaps = {t: read_snapshot(Path(t)) for t in (old, new) if is_snapshot_path(t)}
    template = next(iter(snaps.values()), None)

    def side(text: str) -> Project:
        if text in snaps:
            return snaps[text]
        packages = opts.packages or (template.packages if template else ())
        spec = source_spec_of(text, packages)
        return analyse(config_for_source(spec, opts, template), opts)

    return side(old), side(new)


def diff_versions(old: str, new: str, opts: LoadOptions | None = None) -> Diff:
    """The diff behind a Changes page: two sides as `docgen diff` takes them."""
    return diff_projects(*load_sides(old, new, opts or LoadOptions()))


def accept_command(cfg: Config, out: str) -> str:
    """The `docgen snapshot` command that writes what `cfg` analyses to `out`."""
    args = ["docgen", "snapshot"]
    default = config_from_options({"model": cfg.model})
    if cfg.model != DEFAULT_MODEL:
        args += ["--model", cfg.model]
    if cfg.selected_packages != default.selected_packages:
        args += ["--packages", ",".join(cfg.packages)]
    for s in cfg.sources:
        args += ["--source", s.spec if s.spec.startswith(s.name) else f"{s.name}={s.spec}"]
    return shlex.join([*args, "--out", out])


def check_one(path: Path, opts: LoadOptions) -> tuple[Diff, str]:
    """The drift of one committed snapshot, and the command that accepts it."""
    snapshot = read_snapshot(path)
    cfg = config_for_snapshot(snapshot, opts)
    return diff_projects(snapshot, analyse(cfg, opts)), accept_command(cfg, path.as_posix())
