"""The subcommands defined outside cli.py: each registrar adds its parser and handler.

Each feature module (build, summary, walk, diff) exposes `register(subparsers)`; listing it
here is the only change cli.py needs.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable

Registrar = Callable[["argparse._SubParsersAction[argparse.ArgumentParser]"], None]



def _register_walk(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    from docgen.walkcli import register

    register(sub)


REGISTRARS: list[Registrar] = [_register_walk]
