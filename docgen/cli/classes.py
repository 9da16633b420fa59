"""`docgen show`, `docgen snapshot` and `docgen fetch`: the class model on the command line."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from docgen.cli.options import (
    SubParsers,
    add_force_option,
    add_output_options,
    add_source_options,
    check_out_replaceable,
    load_from_args,
    out_file,
    strict_exit,
)

log = logging.getLogger("docgen")


def cmd_show(args: argparse.Namespace) -> int:
    from rich.console import Console

    from docgen.classes.project import find_view

    project = load_from_args(args, Console(stderr=True))
    view = find_view(project, args.cls)
    if args.json:
        from docgen.changes.snapshot import view_to_json
        from docgen.core.jsonio import dumps

        sys.stdout.write(dumps(view_to_json(project, view)))
    else:
        from docgen.show.terminal import render_class

        Console().print(render_class(project, view, inherited=not args.own))
    return strict_exit(args, project)


def cmd_snapshot(args: argparse.Namespace) -> int:
    from rich.console import Console

    from docgen.changes.snapshot import is_snapshot, iter_snapshot
    from docgen.site.write import write_text_atomic

    check_out_replaceable(args.out, is_snapshot, "snapshot", args.force)
    project = load_from_args(args, Console(stderr=True))
    pieces = iter_snapshot(project)  # written as encoded: never whole in memory
    if args.out == "-":
        sys.stdout.writelines(pieces)
    else:
        write_text_atomic(Path(args.out), pieces)
        log.info("wrote %s (%d classes)", args.out, len(project.views))
    return strict_exit(args, project)


def cmd_fetch(args: argparse.Namespace) -> int:
    from docgen.sources.locate import fetch_requirement

    for req in args.requirements:
        path = fetch_requirement(req, offline=args.offline)
        print(path)
    return 0


def register(sub: SubParsers) -> None:
    p = sub.add_parser("show", help="one class: MRO, members, methods grouped by role")
    p.add_argument("cls", metavar="CLASS", help="torch.nn.Conv2d or torch.nn.modules.conv.Conv2d")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.add_argument("--own", action="store_true", help="hide inherited members and methods")
    add_source_options(p)
    p.set_defaults(handler=cmd_show)

    p = sub.add_parser("snapshot", help="write the class hierarchy as deterministic JSON")
    p.add_argument("--out", default="-", type=out_file,
                   help="file to write (default: standard output)")
    add_force_option(p)
    add_source_options(p)
    p.set_defaults(handler=cmd_snapshot)

    p = sub.add_parser("fetch", help="download wheels into the cache (pip download --no-deps)")
    p.add_argument("requirements", nargs="+", metavar="REQ")
    p.add_argument("--offline", action="store_true")
    add_output_options(p)
    p.set_defaults(handler=cmd_fetch)
