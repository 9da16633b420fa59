"""Options shared by the commands: sources, output verbosity, the Config they make.

Imported by every command module at start-up, so it imports nothing heavy at module level.
"""

from __future__ import annotations

import argparse
import logging
import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from docgen.core.defaults import DEFAULT_MODEL
from docgen.core.errors import ConfigError

if TYPE_CHECKING:
    from rich.console import Console

    from docgen.core.config import Config, SourceSpec
    from docgen.core.records import Project

log = logging.getLogger("docgen")

SubParsers = argparse._SubParsersAction  # the type `add_subparsers()` returns


def add_output_options(p: argparse.ArgumentParser) -> None:
    """-q / -v accepted after the subcommand too (they only set what was given)."""
    p.add_argument("-q", "--quiet", action="store_true", default=argparse.SUPPRESS,
                   help="only errors")
    p.add_argument("-v", "--verbose", action="store_true", default=argparse.SUPPRESS,
                   help="debug output")


def add_source_options(p: argparse.ArgumentParser) -> None:
    add_output_options(p)
    g = p.add_argument_group("sources")
    g.add_argument("--source", action="append", default=[], metavar="NAME=SPEC",
                   help="where distribution NAME comes from: env, a requirement "
                        "(torch==2.13.0), a wheel file or a folder; repeatable")
    g.add_argument("--packages", default=None, metavar="A,B",
                   help="packages to analyse (default: torch.nn and the model's module)")
    g.add_argument("--model", default=None, metavar="MODULE:CLASS",
                   help=f"the model under study (default: {DEFAULT_MODEL})")
    g.add_argument("--module-root", default=None, metavar="QUALNAME",
                   help="the class that stands for torch.nn.Module "
                        "(default: torch.nn.modules.module.Module)")
    g.add_argument("--offline", action="store_true", help="use only the cache; never download")
    g.add_argument("--no-cache", action="store_true", help="do not read or write the cache")
    g.add_argument("--jobs", type=jobs_count, default=0,
                   help="worker processes (default and at most: all cores)")
    g.add_argument("--strict", action="store_true",
                   help="fail (exit 1) when any warning was reported")


def jobs_count(text: str) -> int:
    """`--jobs N`: 0 means all cores; more than the cores is capped (never one process per
    requested job)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be 0 (all cores) or more, got {value}")
    cores = os.cpu_count() or 1
    if value > cores:
        log.debug("--jobs %d capped at the %d cores", value, cores)
    return min(value, cores)


def out_file(text: str) -> str:
    """`--out FILE` (or `-`): a file path whose folder can hold it; checked before any work."""
    if text == "-":
        return text
    if not text.strip():
        raise argparse.ArgumentTypeError("empty path (use - for standard output)")
    path = Path(text)
    try:
        if path.is_dir():
            raise argparse.ArgumentTypeError(f"{text}: is a folder; name a file inside it")
        for parent in path.parents:
            if parent.exists():
                if not parent.is_dir():
                    raise argparse.ArgumentTypeError(f"{text}: {parent} is not a folder")
                break
    except OSError as exc:
        raise argparse.ArgumentTypeError(f"{text[:80]}: {exc.strerror or exc}") from None
    return text


# A file `--out` may replace: at most this large (docgen's snapshots are a few MB)
_OWNED_FILE_LIMIT = 512 * 2**20


def check_out_replaceable(out: str, written_by_docgen: Callable[[bytes], bool], what: str,
                          force: bool) -> None:
    """Refuse, before any work, to replace a file at `out` that is not a `what` docgen
    wrote (docgen never deletes a file it did not write); --force overrides."""
    if out == "-" or force:
        return
    path = Path(out)
    try:
        if not path.exists():
            return
        if path.is_file() and path.stat().st_size <= _OWNED_FILE_LIMIT \
                and written_by_docgen(path.read_bytes()):
            return
    except OSError as exc:
        raise ConfigError(f"{out}: cannot read: {exc.strerror or exc}") from None
    raise ConfigError(f"{out}: exists and is not a {what} docgen wrote; docgen does not "
                      "replace a file it did not write (remove it, or pass --force)")


def add_force_option(p: argparse.ArgumentParser) -> None:
    p.add_argument("--force", action="store_true",
                   help="replace --out even if it is not a file docgen wrote")


def source_specs(args: argparse.Namespace) -> tuple[SourceSpec, ...]:
    """The repeated `--source NAME=SPEC` options; every malformed one reported at once."""
    from docgen.core.config import SourceSpec

    specs, problems = [], []
    for text in args.source:
        try:
            specs.append(SourceSpec.parse(text))
        except ConfigError as exc:
            problems.extend(exc.problems)
    if problems:
        raise ConfigError(problems)
    return tuple(specs)


def config_from_args(args: argparse.Namespace, base: Config | None = None) -> Config:
    """The one Config of a command: `base` (from mkdocs.yml) overridden by the flags given."""
    from docgen.core.config import config_from_options

    options: dict[str, Any] = {}
    if args.model is not None:
        options["model"] = args.model
    if args.packages is not None:
        options["packages"] = args.packages
    if getattr(args, "module_root", None) is not None:
        options["module_root"] = args.module_root
    if base is not None:
        given = options
        options = {**base.as_options(), **options}
        if "model" in given:  # --model studies that model alone, whatever `models:` lists
            options.pop("models", None)
    options["sources"] = (*(base.sources if base is not None else ()), *source_specs(args))
    options["offline"] = bool(args.offline or (base is not None and base.offline))
    options["strict"] = bool(args.strict)
    return config_from_options(options)


def load_from_args(args: argparse.Namespace, console: Console | None = None) -> Project:
    from docgen.classes.cache import AnalysisCache
    from docgen.classes.project import load_project
    from docgen.sources.locate import cache_dir

    cfg = config_from_args(args)
    cache = None if args.no_cache else AnalysisCache(cache_dir())
    # A spinner only where someone watches it (it runs a refresh thread).
    status = (console.status("analysing") if console is not None and console.is_terminal
              and not args.quiet else None)
    if status is not None:
        with status:
            project = load_project(cfg, cache=cache, jobs=args.jobs,
                                   progress=lambda m: status.update(m))
    else:
        project = load_project(cfg, cache=cache, jobs=args.jobs)
    report_diagnostics(project)
    return project


def report_diagnostics(project: Project) -> None:
    for d in project.diagnostics:
        log.warning("%s", d)


def strict_exit(args: argparse.Namespace, project: Project) -> int:
    if args.strict and project.diagnostics:
        log.error("--strict: %d warning(s)", len(project.diagnostics))
        return 1
    return 0
