"""Command line: arguments, logging, progress and exit codes; the work happens elsewhere.

Exit codes: 0 ok, 1 drift or a --strict failure, 2 usage, configuration or source error.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from rich.console import Console

from docgen import __version__
from docgen.cache import AnalysisCache
from docgen.commands import register_all
from docgen.config import DEFAULT_MODEL, Config, config_from_options
from docgen.errors import ConfigError, DocgenError, FetchError, LookupFailed
from docgen.model import Project
from docgen.sources import SourceSpec, cache_dir

log = logging.getLogger("docgen")

Handler = Callable[[argparse.Namespace], int]


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
    g.add_argument("--offline", action="store_true", help="use only the cache; never download")
    g.add_argument("--no-cache", action="store_true", help="do not read or write the cache")
    g.add_argument("--jobs", type=int, default=0, help="worker processes (default: all cores)")
    g.add_argument("--strict", action="store_true",
                   help="fail (exit 1) when any warning was reported")


def source_specs(args: argparse.Namespace) -> tuple[SourceSpec, ...]:
    """The repeated `--source NAME=SPEC` options; every malformed one reported at once."""
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
    options: dict[str, object] = {}
    if args.model is not None:
        options["model"] = args.model
    if args.packages is not None:
        options["packages"] = args.packages
    specs = source_specs(args)
    cfg = config_from_options(options)
    if base is not None:
        cfg = Config(**{**base.__dict__, **{k: getattr(cfg, k) for k in options}})
    return Config(**{**cfg.__dict__, "sources": (*cfg.sources, *specs),
                     "offline": args.offline or cfg.offline, "strict": args.strict})


def load_from_args(args: argparse.Namespace, console: Console | None = None) -> Project:
    from docgen.project import load_project

    cfg = config_from_args(args)
    cache = None if args.no_cache else AnalysisCache(cache_dir())
    status = console.status("analysing") if console is not None and not args.quiet else None
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


def cmd_show(args: argparse.Namespace) -> int:
    from docgen.project import find_view
    from docgen.snapshot import dumps, view_to_json
    from docgen.terminal import render_class

    console = Console(stderr=True)
    project = load_from_args(args, console)
    view = find_view(project, args.cls)
    if args.json:
        sys.stdout.write(dumps(view_to_json(project, view)))
    else:
        Console().print(render_class(project, view, inherited=not args.own))
    return strict_exit(args, project)


def cmd_snapshot(args: argparse.Namespace) -> int:
    from docgen.site import write_text_atomic
    from docgen.snapshot import dump_snapshot

    project = load_from_args(args, Console(stderr=True))
    text = dump_snapshot(project)
    if args.out == "-":
        sys.stdout.write(text)
    else:
        write_text_atomic(Path(args.out), text)
        log.info("wrote %s (%d classes)", args.out, len(project.views))
    return strict_exit(args, project)


def cmd_fetch(args: argparse.Namespace) -> int:
    from docgen.sources import fetch_requirement

    for req in args.requirements:
        path = fetch_requirement(req, offline=args.offline)
        print(path)
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="docgen", description="Static documentation and UML of PyTorch internals, read "
                                   "from source without importing torch.")
    parser.add_argument("--version", action="version", version=f"docgen {__version__}")
    parser.add_argument("-q", "--quiet", action="store_true", help="only errors")
    parser.add_argument("-v", "--verbose", action="store_true", help="debug output")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("show", help="one class: MRO, members, methods grouped by role")
    p.add_argument("cls", metavar="CLASS", help="torch.nn.Conv2d or torch.nn.modules.conv.Conv2d")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.add_argument("--own", action="store_true", help="hide inherited members and methods")
    add_source_options(p)
    p.set_defaults(handler=cmd_show)

    p = sub.add_parser("snapshot", help="write the class hierarchy as deterministic JSON")
    p.add_argument("--out", default="-", help="file to write (default: standard output)")
    add_source_options(p)
    p.set_defaults(handler=cmd_snapshot)

    p = sub.add_parser("fetch", help="download wheels into the cache (pip download --no-deps)")
    p.add_argument("requirements", nargs="+", metavar="REQ")
    p.add_argument("--offline", action="store_true")
    add_output_options(p)
    p.set_defaults(handler=cmd_fetch)

    register_all(sub)  # subcommands that live in their own modules
    return parser


def _setup_logging(args: argparse.Namespace) -> None:
    level = logging.ERROR if args.quiet else logging.DEBUG if args.verbose else logging.INFO
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(levelname)s: %(message)s"))
    # docgen's own logger, so that hosts (MkDocs, pytest) keep their handlers on the root.
    log.handlers[:] = [handler]
    log.setLevel(level)


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse exits 2 on usage errors, 0 on --help
        return int(exc.code or 0)
    args.quiet = getattr(args, "quiet", False)
    _setup_logging(args)
    try:
        return int(args.handler(args))
    except ConfigError as exc:
        for problem in exc.problems:
            log.error("%s", problem)
        return 2
    except LookupFailed as exc:
        log.error("%s", exc)
        return 2
    except FetchError as exc:
        log.error("%s", exc)
        return 2
    except DocgenError as exc:
        log.error("%s", exc)
        return 2
    except KeyboardInterrupt:
        log.error("interrupted")
        return 130
    except BrokenPipeError:
        return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

