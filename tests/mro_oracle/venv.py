"""The oracle's own venv under docgen's cache folder: built once, shared by pytest workers.

`oracle-venvs/mro-<sha of the requirements>`: a changed pin gets a new folder. The `ready`
marker is written last, so a half-built venv (killed build) is rebuilt; an fcntl lock keeps
parallel pytest-xdist workers from building it twice.
"""

from __future__ import annotations

import fcntl
import hashlib
import shutil
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

from docgen.sources.locate import cache_dir


class OracleVenvError(RuntimeError):
    """The venv could not be built (no network, no wheel for a pin, no venv module...)."""


def system_python() -> Path:
    """The interpreter docgen's own venv was made from (`python3 -m venv` of the system)."""
    for name in ("python3", "python"):
        candidate = Path(sys.base_prefix) / "bin" / name
        if candidate.exists():
            return candidate
    return Path(sys.executable)


def venv_dir(requirements: Sequence[str], root: Path | None = None) -> Path:
    text = "\n".join(sorted(requirements)) + f"\npython {sys.version_info[:2]}\n"
    sha = hashlib.sha256(text.encode()).hexdigest()[:16]
    return (root or cache_dir()) / "oracle-venvs" / f"mro-{sha}"


def ensure_oracle_venv(requirements: Sequence[str], root: Path | None = None) -> Path:
    """The python of a venv holding exactly `requirements`, built if missing."""
    folder = venv_dir(requirements, root)
    python = folder / "bin" / "python"
    ready = folder / "ready"
    if ready.exists():
        return python
    folder.parent.mkdir(parents=True, exist_ok=True)
    with open(folder.parent / f"{folder.name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if ready.exists():  # another worker built it while we waited
            return python
        shutil.rmtree(folder, ignore_errors=True)
        _run([str(system_python()), "-m", "venv", str(folder)])
        _run([str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check",
              "--no-deps", "--only-binary=:all:", *requirements])
        ready.write_text("\n".join(requirements) + "\n", encoding="utf-8")
    return python


def _run(cmd: list[str]) -> None:
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, check=False, timeout=1800)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise OracleVenvError(f"{cmd[0]}: {exc}") from exc
    if proc.returncode != 0:
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-3:]
        raise OracleVenvError(f"{' '.join(cmd[:4])} ...: exit {proc.returncode}: "
                              + " | ".join(tail))
