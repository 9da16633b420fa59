"""The `docgen` command: the parser of every command group, logging and exit codes.

Exit codes: 0 ok, 1 drift or a --strict failure, 2 usage, configuration or source error.
Start-up imports only argparse and the small command modules; each command imports what it
needs when it runs, so `docgen --version` stays fast.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from typing import NoReturn

from docgen.cli import changes, classes, site, summary, walk
from docgen.core.version import __version__

log = logging.getLogger("docgen")

COMMAND_GROUPS = (classes, changes, walk, site, summary)


class _Parser(argparse.ArgumentParser):
    """argparse with one-line usage errors: what is wrong and where the help is."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {_one_line(message)} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="docgen", description="Static documentation and UML of PyTorch internals, read "
                                   "from source without importing torch.")
    parser.add_argument("--version", action="version", version=f"docgen {__version__}")
    parser.add_argument("-q", "--quiet", action="store_true", help="only errors")
    parser.add_argument("-v", "--verbose", action="store_true", help="debug output")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for group in COMMAND_GROUPS:
        group.register(sub)
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
    from docgen.core.errors import DocgenError

    _setup_logging(args)
    try:
        return int(args.handler(args))
    except DocgenError as exc:
        for problem in getattr(exc, "problems", None) or [str(exc)]:
            log.error("%s", _one_line(str(problem)))
        return 2
    except RecursionError:
        # The last resort for input nested beyond what any reader handles.
        log.error("input nested too deeply to process (Python's recursion limit)")
        return 2
    except OSError as exc:
        # The last resort for the file system: a path and its reason, no traceback.
        where = str(exc.filename) if exc.filename is not None else "docgen"
        where = where if len(where) <= 120 else f"{where[:60]}...{where[-40:]}"
        log.error("%s: %s", _one_line(where), _one_line(exc.strerror or str(exc)))
        return 2
    except KeyboardInterrupt:
        log.error("interrupted")
        return 130
    except BrokenPipeError:
        return 0


def _one_line(text: str) -> str:
    """Messages are one line: a multi-line detail (pip, YAML) is folded onto it."""
    return " | ".join(line.strip() for line in text.strip().splitlines() if line.strip())


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
