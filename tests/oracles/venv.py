"""Builds (once, under docgen's cache folder) the test-only venvs that import real torch.

docgen itself never imports torch; only the recorders in this folder run inside these venvs.
Nothing here is imported by docgen, and no wheel or venv ever lands in git.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import platformdirs

TORCH_VERSION = "2.13.0"
TORCHVISION_VERSION = "0.28.0"
TIMM_VERSION = "1.0.31"
TORCH_WHEEL = f"torch-{TORCH_VERSION}+cpu-cp311-cp311-manylinux_2_28_x86_64.whl"

READY = "ready"


def cache_dir() -> Path:
    """docgen's cache folder, resolved the way docgen.sources.cache_dir does.

    Repeated here rather than imported so the oracles keep working while docgen's package
    layout moves; the rule is the documented one: `$DOCGEN_CACHE_DIR`, else the user cache.
    """
    env = os.environ.get("DOCGEN_CACHE_DIR")
    return Path(env) if env else Path(platformdirs.user_cache_dir("docgen"))


def venv_dir(name: str, requirements: list[str]) -> Path:
    """`<cache>/oracle-venvs/<name>-<sha256 of the requirement list, 12 hex>`."""
    # A local wheel counts by its file name, so the same wheel in another folder reuses the venv.
    key = "\n".join(" ".join(Path(a).name if a.endswith(".whl") else a for a in r.split())
                    for r in requirements)
    digest = hashlib.sha256(key.encode("utf-8")).hexdigest()[:12]
    return cache_dir() / "oracle-venvs" / f"{name}-{digest}"


def venv_python(root: Path) -> Path:
    return root / "bin" / "python"


@contextmanager
def _locked(lock_path: Path) -> Iterator[None]:
    """An exclusive fcntl lock, so parallel pytest-xdist workers build a venv only once."""
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    with lock_path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def ensure_venv(name: str, requirements: list[str]) -> Path:
    """The python of a venv holding `requirements`, built once and reused afterwards.

    Each requirement is one `pip install` argument list, installed in order with the venv's own
    pip (so a local wheel file can go first and later requirements see it as satisfied).
    A folder without the `ready` marker is a half-built venv from an interrupted run: rebuilt.
    Raises `subprocess.CalledProcessError` (with pip's output attached) when a step fails.
    """
    root = venv_dir(name, requirements)
    python = venv_python(root)
    if (root / READY).is_file():
        return python
    with _locked(root.with_name(root.name + ".lock")):
        if (root / READY).is_file():  # another worker finished while we waited
            return python
        if root.exists():
            shutil.rmtree(root)
        _run([_system_python(), "-m", "venv", str(root)])
        for requirement in requirements:
            _run([str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check",
                  *requirement.split()])
        (root / READY).write_text("\n".join(requirements) + "\n", encoding="utf-8")
    return python


def _system_python() -> str:
    """The system python3 (not the dev venv's), falling back to the running interpreter."""
    return shutil.which("python3", path="/usr/local/bin:/usr/bin:/bin") or sys.executable


def _run(cmd: list[str]) -> None:
    result = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise subprocess.CalledProcessError(result.returncode, cmd, result.stdout, result.stderr)


def find_torch_wheel() -> Path | None:
    """The CPU torch wheel docgen's `fetch` cached, else the machine's wheel store."""
    for folder in (cache_dir() / "wheels", Path("/opt/wheels")):
        if (folder / TORCH_WHEEL).is_file():
            return folder / TORCH_WHEEL
    return None


def oracle_requirements(torch_wheel: Path) -> list[str]:
    """The torch oracle venv: CPU torch from its wheel file first (no nvidia-* packages can be
    pulled), then torchvision and timm with pip's normal resolution, torch already satisfied."""
    return [str(torch_wheel), f"torchvision=={TORCHVISION_VERSION} timm=={TIMM_VERSION}"]


def ensure_torch_venv(torch_wheel: Path | None = None) -> Path:
    """The python of the shared torch + torchvision + timm oracle venv."""
    wheel = torch_wheel or find_torch_wheel()
    if wheel is None:
        raise FileNotFoundError(
            f"{TORCH_WHEEL} not found; run `.venv/bin/docgen -q fetch torch=={TORCH_VERSION} "
            f"torchvision=={TORCHVISION_VERSION}` first")
    return ensure_venv("torch", oracle_requirements(wheel))
