"""The code stays lint-clean and type-clean: ruff and mypy run as part of the suite."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize("tool", [["ruff", "check", "docgen", "tests", "benchmarks"],
                                  ["mypy"]])
def test_tool_is_clean(tool: list[str]) -> None:
    exe = shutil.which(tool[0], path=str(Path(sys.executable).parent)) or shutil.which(tool[0])
    # Both come with the test extras (`pip install -e '.[test]'`): missing is a failure.
    assert exe is not None, f"{tool[0]} is not installed; pip install -e '.[test]'"
    proc = subprocess.run([exe, *tool[1:]], cwd=ROOT, capture_output=True, text=True,
                          check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
