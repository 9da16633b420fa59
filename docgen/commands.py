"""The subcommands defined outside cli.py: each listed module has `register(subparsers)`.

Listing a module here is the only change cli.py needs for a new subcommand. Registration runs
on every invocation, so feature modules keep their heavy imports inside their handlers.
"""

from __future__ import annotations

import argparse
import importlib

COMMAND_MODULES: tuple[str, ...] = (
    "docgen.compare",  # diff, check
    "docgen.walkcli",  # walk, backends
    "docgen.build_commands",  # build, serve, export
    "docgen.summary",  # summary
)


def register_all(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(sub)
