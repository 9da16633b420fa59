"""The subcommands defined outside cli.py: each registrar adds its parser and handler.

Each feature module (build, summary, walk, diff) exposes `register(subparsers)`; listing it
here is the only change cli.py needs.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable

Registrar = Callable[["argparse._SubParsersAction[argparse.ArgumentParser]"], None]



def _summary(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    from docgen.summary import register

    register(subparsers)


REGISTRARS: list[Registrar] = [_summary]
