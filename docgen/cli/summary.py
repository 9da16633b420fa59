"""`docgen summary`: arguments and output; the work is in docgen.summary."""

from __future__ import annotations

import argparse
import logging
import sys

from docgen.cli.options import SubParsers, add_source_options, config_from_args

log = logging.getLogger("docgen")


def cmd_summary(args: argparse.Namespace) -> int:
    from rich.console import Console

    from docgen.classes.cache import AnalysisCache
    from docgen.core.jsonio import dumps
    from docgen.core.records import Severity
    from docgen.sources.locate import cache_dir
    from docgen.summary.summarize import (
        parse_input_shape,
        render_summary_table,
        summarize_config,
        summary_to_json,
        table_width,
    )

    if args.target:
        args.model = args.target
    cfg = config_from_args(args)
    # No --input: the input size the model declares (timm's pretrained cfg), else 1,3,224,224.
    shape = tuple(parse_input_shape(text) for text in args.input) if args.input else None
    cache = None if args.no_cache else AnalysisCache(cache_dir())
    summary = summarize_config(cfg, shape, cache)
    emit = {Severity.ERROR: log.error, Severity.WARNING: log.warning}
    for diag in summary.diagnostics:
        emit.get(diag.severity, log.debug)("%s", diag)
    if args.json:
        sys.stdout.write(dumps(summary_to_json(summary)))
    else:
        table = render_summary_table(summary)
        console = Console()
        console = Console(width=table_width(table, console.width, console.is_terminal))
        console.print(table)
    # An input an operator rejects is bad input (exit 2, the table still printed); a figure
    # left unevaluated is a warning (exit 1 with --strict).
    if any(d.severity == Severity.ERROR for d in summary.diagnostics):
        return 2
    warnings = [d for d in summary.diagnostics if d.severity == Severity.WARNING]
    return 1 if args.strict and warnings else 0


def register(subparsers: SubParsers) -> None:
    p = subparsers.add_parser(
        "summary", help="layers, output shapes, parameters and MACs, evaluated from source")
    p.add_argument("target", nargs="?", default=None, metavar="MODEL",
                   help="MODULE:CLASS or MODULE:builder (default: the configured model)")
    p.add_argument("--input", action="append", default=None, metavar="N,C,H,W",
                   help="input shape, once per input of forward (RAFT: two images); "
                   "default: the size the model declares (timm's pretrained cfg), else "
                   "1,3,224,224")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    add_source_options(p)
    p.set_defaults(handler=cmd_summary)
