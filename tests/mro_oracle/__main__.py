"""Regenerate the committed oracle files: `python -m tests.mro_oracle [DIST ...]`."""

from __future__ import annotations

import sys

from tests.mro_oracle.oracle import run_runtime, write_oracle
from tests.mro_oracle.pins import PACKAGES, REQUIREMENTS
from tests.mro_oracle.venv import ensure_oracle_venv


def main(argv: list[str]) -> int:
    python = ensure_oracle_venv(REQUIREMENTS)
    for pkg in PACKAGES:
        if argv and pkg.dist not in argv:
            continue
        path = write_oracle(pkg, run_runtime(python, pkg))
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
