"""`docgen build`, `docgen serve` and `docgen export`: arguments, progress and exit codes.

The work happens in build.py (pages and site) and export.py (UML text); this module only
turns arguments into requests and results into messages and exit codes.
"""

from __future__ import annotations

import argparse
import logging
import os
import socket
import sys
import tempfile
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from docgen.core.errors import ConfigError

if TYPE_CHECKING:
    from docgen.classes.cache import AnalysisCache
    from docgen.site.build import BuildRequest, BuildResult

# pyreverse's output formats, offered by `docgen export` (see docgen/export.py).
EXPORT_FORMATS = ("plantuml", "mermaid", "dot")

log = logging.getLogger("docgen")


def _analysis_cache() -> AnalysisCache:
    from docgen.classes.cache import AnalysisCache
    from docgen.sources.locate import cache_dir

    return AnalysisCache(cache_dir())


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    from docgen.cli.options import add_force_option, add_source_options, out_file

    p = sub.add_parser("build", help="generate pages and diagrams into docs/, then build the "
                                     "site with MkDocs")
    _add_build_options(p)
    add_source_options(p)
    p.add_argument("--no-mkdocs", action="store_true",
                   help="only generate the Markdown pages and diagrams")
    p.set_defaults(handler=cmd_build)

    p = sub.add_parser("serve", help="build, serve on localhost and rebuild when sources, "
                                     "templates or configuration change")
    _add_build_options(p)
    add_source_options(p)
    p.add_argument("--addr", default="127.0.0.1:8000", metavar="HOST:PORT")
    p.set_defaults(handler=cmd_serve)

    p = sub.add_parser("export", help="UML class diagram as PlantUML, Mermaid or DOT "
                                      "(the formats pyreverse writes)")
    p.add_argument("classes", nargs="*", metavar="CLASS",
                   help="classes to export with their ancestors (default: the model's)")
    p.add_argument("--format", choices=EXPORT_FORMATS, default="plantuml")
    p.add_argument("--out", default="-", type=out_file,
                   help="file to write (default: standard output)")
    add_force_option(p)
    add_source_options(p)
    p.set_defaults(handler=cmd_export)


def _add_build_options(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("site")
    g.add_argument("--project", default=".", metavar="DIR",
                   help="folder with mkdocs.yml (default: the current one)")
    g.add_argument("--site-dir", default=None, metavar="DIR", help="where the site is built")
    g.add_argument("--output", default=None, metavar="DIR",
                   help="where generated pages go (default: docs/generated)")
    g.add_argument("--pages", choices=("all", "model"), default=None,
                   help="class pages for every class, or the model's classes and bases")
    g.add_argument("--templates", default=None, metavar="DIR",
                   help="folder of templates that override the shipped ones")


def _overrides(args: argparse.Namespace) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key in ("model", "packages", "output", "pages", "module_root"):
        if getattr(args, key, None) is not None:
            out[key] = getattr(args, key)
    if args.offline:
        out["offline"] = True
    from docgen.cli.options import source_specs

    specs = source_specs(args)
    if specs:
        out["sources"] = specs
    return out


def _request(args: argparse.Namespace, **extra: Any) -> BuildRequest:
    from docgen.site.build import BuildRequest

    fields: dict[str, Any] = {
        "root": Path(args.project).resolve(), "overrides": _overrides(args),
        "site_dir": Path(args.site_dir).resolve() if args.site_dir else None,
        "strict": args.strict, "jobs": args.jobs,
        "cache": None if args.no_cache else _analysis_cache(),
        "templates": Path(args.templates).resolve() if args.templates else None}
    return BuildRequest(**{**fields, **extra})


@contextmanager
def _progress(args: argparse.Namespace) -> Iterator[Callable[[str], None]]:
    if args.quiet:
        yield lambda _m: None
        return
    from rich.console import Console

    with Console(stderr=True).status("docgen build") as status:
        yield lambda message: status.update(f"docgen: {message}")


def _report(result: BuildResult, args: argparse.Namespace) -> int:
    for d in result.diagnostics:
        log.warning("%s", d)
    t = result.timings
    parts = ", ".join([*(f"{k} {v:.1f}s" for k, v in t.items()), f"cpu {_cpu_seconds():.1f}s"])
    where = result.site_dir or result.output
    state = "up to date" if result.up_to_date else "built"
    log.info("%s %s: %d pages, %d class pages (%s)", state, where, result.pages,
             result.class_pages, parts)
    warnings = len(result.diagnostics) + int(result.graphviz_missing)
    if args.strict and warnings:
        log.error("--strict: %d warning(s)", warnings)
        return 1
    return 0


def _cpu_seconds() -> float:
    """User and system seconds of this process and its finished children (workers, dot)."""
    import resource

    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def cmd_build(args: argparse.Namespace) -> int:
    from docgen.site.build import build
    from docgen.site.write import SiteBuildFailed

    request = _request(args, run_mkdocs=not args.no_mkdocs)
    try:
        with _progress(args) as say:
            result = build(request, progress=say)
    except SiteBuildFailed as exc:
        log.error("%s", exc)
        return 1 if exc.is_strict else 2
    return _report(result, args)


def serve_address(text: str) -> tuple[str, int]:
    """`HOST:PORT` checked before any build: a port number in range, a host that resolves,
    and an address free to listen on (ConfigError otherwise)."""
    host, sep, port_text = text.rpartition(":")
    host = host.strip("[]") or "127.0.0.1"
    if not sep or not port_text.isdigit() or not 0 < int(port_text) < 65536:
        raise ConfigError(f"--addr {text!r}: expected HOST:PORT with a port from 1 to 65535")
    port = int(port_text)
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise ConfigError(f"--addr {text!r}: unknown host {host!r} ({exc})") from exc
    family, kind, proto, _, address = infos[0]
    with socket.socket(family, kind, proto) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(address)
        except OSError as exc:
            raise ConfigError(f"--addr {text!r}: cannot listen there: "
                              f"{exc.strerror or exc}") from exc
    return host, port


# `docgen serve` learns of an edit by polling what it watches (MkDocs' own watcher: file
# events miss changes on some mounts). A few files are polled often, so that an edit is
# seen within a tenth of a second; many (a source checkout) at MkDocs' own pace.
FAST_POLL_S = 0.1
SLOW_POLL_S = 0.5
FAST_POLL_FILES = 2000


def poll_interval(paths: Iterable[Path]) -> float:
    """Seconds between two polls of `paths`: FAST_POLL_S while they hold at most
    FAST_POLL_FILES files, else SLOW_POLL_S."""
    count = 0
    for path in paths:
        if not path.is_dir():
            count += 1
            continue
        for _folder, _dirs, files in os.walk(path):
            count += len(files)
            if count > FAST_POLL_FILES:
                return SLOW_POLL_S
    return FAST_POLL_S if count <= FAST_POLL_FILES else SLOW_POLL_S


def cmd_serve(args: argparse.Namespace) -> int:
    from mkdocs.livereload import LiveReloadServer

    from docgen.site.build import build

    host, port = serve_address(args.addr)
    with tempfile.TemporaryDirectory(prefix="docgen-serve-") as scratch:
        site_dir = Path(args.site_dir).resolve() if args.site_dir else Path(scratch) / "site"
        request = _request(args, staging=Path(scratch), site_dir=site_dir)
        with _progress(args) as say:
            result = build(request, progress=say)
        _report(result, args)

        def rebuild() -> None:
            try:
                build(request)
                log.info("rebuilt")
            except Exception as exc:  # keep serving the last good site
                log.error("rebuild failed: %s", exc)

        server = LiveReloadServer(builder=rebuild, host=host, port=port, root=str(site_dir),
                                  polling_interval=poll_interval(result.watch))
        for path in result.watch:
            server.watch(str(path))
        try:
            server.serve()
        except KeyboardInterrupt:
            log.info("stopped")
        finally:
            server.shutdown()
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    from docgen.classes.project import find_view, load_project, open_project_sources
    from docgen.cli.options import (
        check_out_replaceable,
        config_from_args,
        report_diagnostics,
    )
    from docgen.site.build import layer_targets, read_model
    from docgen.site.export import export_classes, export_closure, is_export

    check_out_replaceable(args.out, is_export, f"{args.format} diagram", args.force)
    cfg = config_from_args(args)
    cache = None if args.no_cache else _analysis_cache()
    sources = open_project_sources(cfg)
    project = load_project(cfg, sources=sources, cache=cache, jobs=args.jobs)
    report_diagnostics(project)
    if args.classes:
        roots = [find_view(project, name).qualname for name in args.classes]
    else:
        model, problems = read_model(cfg, sources, cache)
        for problem in problems:
            if problem.severity.matters:
                log.warning("%s", problem)
        roots = [model.qualname, *layer_targets(model)] if model else []
    text = export_classes(project, export_closure(project, roots), args.format)
    if args.out == "-":
        sys.stdout.write(text)
    else:
        from docgen.site.write import write_text_atomic

        write_text_atomic(Path(args.out), text)
    return 0
