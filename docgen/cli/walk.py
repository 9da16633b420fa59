"""`docgen walk` and `docgen backends`: arguments and output only; the work is in docgen.walk."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from docgen.core.errors import ConfigError

log = logging.getLogger("docgen")


def _context(args: argparse.Namespace):  # type: ignore[no-untyped-def]
    from docgen.classes.project import open_project_sources
    from docgen.cli.options import config_from_args
    from docgen.walk.upstream import load_shipped_edges, scan_tree
    from docgen.walk.walker import open_context

    cfg = config_from_args(args)
    sources = open_project_sources(cfg)
    edges = scan_tree(Path(args.pytorch_src)) if args.pytorch_src else load_shipped_edges()
    backends = tuple(dict.fromkeys(["CPU", "CUDA", *(args.backend or [])]))
    return cfg, open_context(sources, edges, backends)


def cmd_walk(args: argparse.Namespace) -> int:
    from docgen.core.jsonio import dumps
    from docgen.walk.render import render_walk_tree, walk_to_json
    from docgen.walk.walker import walk_model

    cfg, ctx = _context(args)
    if not cfg.model:
        raise ConfigError("docgen walk needs a model (--model MODULE:CLASS)")
    report = walk_model(ctx, cfg.model, layer=args.layer)
    for d in report.diagnostics:
        log.warning("%s", d)
    if args.json:
        sys.stdout.write(dumps(walk_to_json(report)))
    else:
        shown = tuple(args.backend) if args.backend else report.backends
        from rich.console import Console

        Console().print(render_walk_tree(report, shown))
    return 1 if args.strict and report.diagnostics else 0


def cmd_backends(args: argparse.Namespace) -> int:
    from docgen.walk.backends import COVERAGE_KEYS, read_backends
    from docgen.walk.render import render_backends_table
    from docgen.walk.walker import walk_model

    cfg, ctx = _context(args)
    if not cfg.model:
        raise ConfigError("docgen backends needs a model (--model MODULE:CLASS)")
    report = walk_model(ctx, cfg.model)
    keys = tuple(args.backend) if args.backend else COVERAGE_KEYS
    backends = read_backends(ctx.sources, ctx.table, report, keys)
    for d in (*report.diagnostics, *backends.diagnostics):
        log.warning("%s", d)
    from rich.console import Console

    Console().print(render_backends_table(backends))
    return 1 if args.strict and (report.diagnostics or backends.diagnostics) else 0


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    from docgen.cli.options import add_source_options

    p = sub.add_parser("walk", help="each layer of the model down to ATen operators and kernels")
    p.add_argument("--layer", default=None, metavar="PATH",
                   help="one layer (features.0) or forward op (forward:torch.flatten)")
    p.add_argument("--backend", action="append", default=None, metavar="KEY",
                   help="dispatch key to show kernels for (CPU, CUDA, MPS, PrivateUse1...); "
                        "repeatable; default CPU and CUDA")
    p.add_argument("--pytorch-src", default=None, metavar="DIR",
                   help="a PyTorch source tree: read the calls below composite operators "
                        "from its aten/src/ATen/native/*.cpp instead of the shipped edges")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    add_source_options(p)
    p.set_defaults(handler=cmd_walk)

    p = sub.add_parser("backends", help="dispatch keys, plug points, and the kernels a backend "
                                        "needs for the model")
    p.add_argument("--backend", action="append", default=None, metavar="KEY",
                   help="dispatch keys of the coverage table (default: CPU, CUDA, MPS, "
                        "PrivateUse1); repeatable")
    p.add_argument("--pytorch-src", default=None, metavar="DIR",
                   help="a PyTorch source tree to read the C++ calls from")
    add_source_options(p)
    p.set_defaults(handler=cmd_backends)

