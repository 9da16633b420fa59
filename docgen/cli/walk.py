"""`docgen walk` and `docgen backends`: arguments and output only; the work is in docgen.walk."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from docgen.core.errors import ConfigError
from docgen.core.records import Severity

log = logging.getLogger("docgen")
DEFAULT_INPUT = (1, 3, 224, 224)


def _context(args: argparse.Namespace):  # type: ignore[no-untyped-def]
    from docgen.classes.project import open_project_sources
    from docgen.cli.options import config_from_args
    from docgen.walk.upstream import load_shipped_edges, scan_tree
    from docgen.walk.walker import open_context

    cfg = config_from_args(args)
    sources = open_project_sources(cfg)
    edges = scan_tree(Path(args.pytorch_src)) if args.pytorch_src else load_shipped_edges()
    backends = tuple(dict.fromkeys(["CPU", "CUDA", *(args.backend or [])]))
    ctx = open_context(sources, edges, backends)
    if args.pytorch_src:
        from docgen.walk.locals import scan_locals_tree

        ctx.memo["locals"] = scan_locals_tree(Path(args.pytorch_src))  # with its edges
    return cfg, ctx


def _setting(args: argparse.Namespace, ctx):  # type: ignore[no-untyped-def]
    """The execution setting of the options; every backend named checked against the
    dispatch keys of DispatchKey.h in the torch version read."""
    from docgen.walk.backends import read_keys
    from docgen.walk.setting import check_backend, make_setting

    keys = {k.name for k in read_keys(ctx.sources, [])}
    for name in args.backend or ():
        check_backend(name, keys)
    shape: tuple[int, ...] = DEFAULT_INPUT
    if args.input:
        try:
            shape = tuple(int(p) for p in args.input.replace("x", ",").split(","))
        except ValueError:
            shape = ()
        if not shape or any(d <= 0 for d in shape):
            raise ConfigError(f"--input expects positive sizes like 1,3,224,224, got "
                              f"{args.input!r}")
    return make_setting((args.backend or ["CPU"])[0], args.dtype, args.cudnn, args.mkldnn,
                        args.mode, args.grad, shape)


def cmd_walk(args: argparse.Namespace) -> int:
    from docgen.core.jsonio import dumps
    from docgen.walk.render import render_taken, render_walk_tree, walk_to_json
    from docgen.walk.walker import walk_model

    cfg, ctx = _context(args)
    if not cfg.model:
        raise ConfigError("docgen walk needs a model (--model MODULE:CLASS)")
    setting = _setting(args, ctx)
    report = walk_model(ctx, cfg.model, layer=args.layer, setting=setting)
    for d in report.diagnostics:
        (log.error if d.severity == Severity.ERROR else log.warning)("%s", d)
    if args.json:
        sys.stdout.write(dumps(walk_to_json(report)))
    else:
        from rich.console import Console

        if args.full:
            shown = tuple(args.backend) if args.backend else report.backends
            Console().print(render_walk_tree(report, shown))
        else:
            Console().print(render_taken(report, args.alternatives))
    # an input an operator rejects is bad input, as for `docgen summary`: exit 2, the walk
    # still printed
    if any(d.severity == Severity.ERROR for d in report.diagnostics):
        return 2
    return 1 if args.strict and report.diagnostics else 0


def cmd_backends(args: argparse.Namespace) -> int:
    from docgen.walk.backends import COVERAGE_KEYS, read_backends
    from docgen.walk.render import render_backends_table
    from docgen.walk.walker import walk_model

    cfg, ctx = _context(args)
    if not cfg.model:
        raise ConfigError("docgen backends needs a model (--model MODULE:CLASS)")
    from docgen.walk.backends import read_keys
    from docgen.walk.setting import BACKENDS

    known = {k.name for k in read_keys(ctx.sources, [])}
    for name in args.backend or ():
        if known and name not in known:
            raise ConfigError(f"--backend {name!r} is not a dispatch key of the torch version "
                              f"read (DispatchKey.h, case-sensitive); e.g. "
                              f"{', '.join(BACKENDS)}")
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
                   help="the backend the taken path is decided for (CPU, CUDA, MPS, XPU, "
                        "PrivateUse1, Meta: dispatch keys, case-sensitive); default CPU; "
                        "with --full, repeatable: the kernel columns shown")
    p.add_argument("--dtype", default="float32", help="float32 (default), float16, bfloat16")
    p.add_argument("--cudnn", default="on", metavar="on|off",
                   help="torch.backends.cudnn.enabled (default on)")
    p.add_argument("--mkldnn", default="on", metavar="on|off",
                   help="torch.backends.mkldnn.enabled, oneDNN on CPU (default on)")
    p.add_argument("--mode", default="train", help="train (default) or eval: module.training")
    p.add_argument("--grad", default="on", metavar="on|off",
                   help="autograd records (default on); off: torch.no_grad(), no backward")
    p.add_argument("--input", default=None, metavar="SHAPE",
                   help="the model's input shape, e.g. 2,3,224,224 (default 1,3,224,224)")
    p.add_argument("--full", action="store_true",
                   help="the full tree: every branch read, with its condition")
    p.add_argument("--alternatives", action="store_true",
                   help="list each alternative not taken and why")
    p.add_argument("--pytorch-src", default=None, metavar="DIR",
                   help="a PyTorch source tree: read the calls below composite operators "
                        "from its aten/src/ATen/native/*.cpp instead of the shipped edges")
    p.add_argument("--json", action="store_true",
                   help="machine-readable output: setting, and per layer the taken path "
                        "and every edge with its decision and reason")
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

