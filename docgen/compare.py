"""`docgen diff` and `docgen check`: turning each side (snapshot or sources) into a Project.

The comparison itself is docgen.diff, the wording docgen.report; this module finds what to
compare, rebuilds the configuration a snapshot records, and picks exit codes (0 no change,
1 changes, 2 usage or source error).
"""

from __future__ import annotations

import argparse
import logging
import shlex
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from packaging.requirements import InvalidRequirement, Requirement

from docgen.config import DEFAULT_MODEL, Config, config_from_options
from docgen.diff import Diff, diff_projects, public_version
from docgen.errors import ConfigError, DocgenError, FetchError
from docgen.model import Project
from docgen.report import (
    CheckResult,
    format_check_report,
    format_github,
    format_json,
    format_markdown,
    format_text,
)
from docgen.snapshot import load_snapshot
from docgen.sources import SourceSpec, cache_dir

log = logging.getLogger(__name__)

FORMATS: dict[str, Callable[[Diff], str]] = {
    "text": format_text, "json": format_json, "markdown": format_markdown,
    "github": format_github,
}
SNAPSHOT_DIR = "snapshots"
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
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise FetchError(f"{path}: cannot read snapshot ({exc.strerror or exc})") from exc
    return load_snapshot(text, origin=str(path))


def source_spec_of(text: str, packages: Sequence[str] = ()) -> SourceSpec:
    """`torch==2.14.1`, `path/torch-2.14.1-...whl`, a source folder, or `NAME=SPEC`."""
    path = Path(text).expanduser()
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
    cfg = config_from_options({"model": model, "packages": list(packages)})
    by_name = {s.name: s for s in sources}
    return Config(**{**cfg.__dict__, "sources": tuple(by_name.values()),
                     "offline": opts.offline})


def analyse(cfg: Config, opts: LoadOptions) -> Project:
    from docgen.cache import AnalysisCache  # astroid only when something is analysed
    from docgen.project import load_project

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
    default = Config(model=cfg.model)
    if cfg.model != DEFAULT_MODEL:
        args += ["--model", cfg.model]
    if cfg.selected_packages != default.selected_packages:
        args += ["--packages", ",".join(cfg.packages)]
    for s in cfg.sources:
        args += ["--source", s.spec if s.spec.startswith(s.name) else f"{s.name}={s.spec}"]
    return shlex.join([*args, "--out", out])


# ----------------------------------------------------------------------------------------------
# commands


def _options(args: argparse.Namespace) -> LoadOptions:
    packages = None
    if args.packages:
        packages = tuple(p.strip() for p in args.packages.split(",") if p.strip())
    from docgen.cli import source_specs

    return LoadOptions(packages, args.model, source_specs(args), args.offline,
                       not args.no_cache, args.jobs)


def cmd_diff(args: argparse.Namespace) -> int:
    old, new = load_sides(args.old, args.new, _options(args))
    diff = diff_projects(old, new)
    sys.stdout.write(FORMATS[args.format](diff))
    return 1 if diff.changes else 0


def snapshot_files(args: argparse.Namespace) -> list[Path]:
    if args.snapshots:
        return [Path(p) for p in args.snapshots]
    folder = Path(args.dir)
    found = sorted(folder.glob("*.json")) if folder.is_dir() else []
    if not found:
        raise ConfigError(f"no snapshots under {folder}/; write one with "
                          f"`docgen snapshot --out {folder}/NAME.json` and commit it")
    return found


def check_one(path: Path, opts: LoadOptions) -> tuple[Diff, str]:
    """The drift of one committed snapshot, and the command that accepts it."""
    snapshot = read_snapshot(path)
    cfg = config_for_snapshot(snapshot, opts)
    return diff_projects(snapshot, analyse(cfg, opts)), accept_command(cfg, path.as_posix())


def cmd_check(args: argparse.Namespace) -> int:
    opts = _options(args)
    status = 0
    reports: list[CheckResult] = []
    for path in snapshot_files(args):
        try:
            diff, accept = check_one(path, opts)
        except DocgenError as exc:
            log.error("%s: %s", path, exc)
            status = 2
            continue
        reports.append((path.as_posix(), diff, accept))
        if diff.changes and status == 0:
            status = 1
    sys.stdout.write(format_check_report(reports, args.format))
    return status


def _add_common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--format", choices=sorted(FORMATS), default="text",
                   help="text (default), json, markdown (PR comment) or github (annotations)")
    p.add_argument("--packages", default=None, metavar="A,B",
                   help="packages to analyse for source sides (default: the snapshot's, "
                        "else torch.nn)")
    p.add_argument("--model", default=None, metavar="MODULE:CLASS",
                   help="model for source sides (default: the snapshot's; AlexNet when "
                        "the side is torchvision; else none)")
    p.add_argument("--source", action="append", default=[], metavar="NAME=SPEC",
                   help="override where a distribution comes from; repeatable")
    p.add_argument("--offline", action="store_true", help="use only the cache; never download")
    p.add_argument("--no-cache", action="store_true", help="do not read or write the cache")
    p.add_argument("--jobs", type=int, default=0, help="worker processes (default: all cores)")


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "diff", help="what changed in the class hierarchy between two versions",
        description="Compare two snapshots or source specs (requirement, wheel, folder), "
                    "mixed freely. Exit 0: no change, 1: changes, 2: usage or source error.")
    p.add_argument("old", metavar="OLD", help="snapshot .json, torch==2.13.0, a wheel or folder")
    p.add_argument("new", metavar="NEW", help="same forms as OLD")
    _add_common(p)
    p.set_defaults(handler=cmd_diff)

    p = sub.add_parser(
        "check", help="CI gate: fresh analysis against the snapshots committed under snapshots/",
        description="Re-analyse the sources each snapshot records and report drift. "
                    "Exit 0: up to date, 1: drift, 2: usage or source error.")
    p.add_argument("snapshots", nargs="*", metavar="SNAPSHOT",
                   help="snapshot files (default: every snapshots/*.json)")
    p.add_argument("--dir", default=SNAPSHOT_DIR, help="folder of snapshots (default: snapshots)")
    _add_common(p)
    p.set_defaults(handler=cmd_check)
