"""`docgen diff` and `docgen check`: arguments, output and exit codes (0 no change,
1 changes, 2 usage or source error); the comparison is in docgen.changes."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from docgen.cli.options import SubParsers, jobs_count, source_specs
from docgen.core.errors import ConfigError, DocgenError

if TYPE_CHECKING:
    from docgen.changes.compare import LoadOptions

log = logging.getLogger("docgen")

SNAPSHOT_DIR = "snapshots"
FORMAT_NAMES = ("github", "json", "markdown", "text")



def _options(args: argparse.Namespace) -> LoadOptions:
    from docgen.changes.compare import LoadOptions

    packages = None
    if args.packages:
        packages = tuple(p.strip() for p in args.packages.split(",") if p.strip())
    return LoadOptions(packages, args.model, source_specs(args), args.offline,
                       not args.no_cache, args.jobs)


def cmd_diff(args: argparse.Namespace) -> int:
    from docgen.changes.compare import FORMATS, load_sides
    from docgen.changes.diff import diff_projects

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


def cmd_check(args: argparse.Namespace) -> int:
    from docgen.changes.compare import check_one
    from docgen.changes.report import CheckResult, format_check_report

    opts = _options(args)
    status = 0
    reports: list[CheckResult] = []
    for path in snapshot_files(args):
        try:
            diff, accept = check_one(path, opts)
        except DocgenError as exc:
            text = str(exc)
            log.error("%s", text if text.startswith(str(path)) else f"{path}: {text}")
            status = 2
            continue
        reports.append((path.as_posix(), diff, accept))
        if diff.changes and status == 0:
            status = 1
    sys.stdout.write(format_check_report(reports, args.format))
    return status


def _add_common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--format", choices=FORMAT_NAMES, default="text",
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
    p.add_argument("--jobs", type=jobs_count, default=0,
                   help="worker processes (default and at most: all cores)")


def register(sub: SubParsers) -> None:
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
