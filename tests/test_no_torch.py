"""docgen never imports torch: every command runs with a fake `torch` package first on the
path whose import leaves a mark and raises, so an import anywhere (even one an `except`
swallowed) is caught."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.wheels

ROOT = Path(__file__).resolve().parent.parent
FAKE = '''import os, pathlib
pathlib.Path(os.environ["DOCGEN_FAKE_TORCH_MARK"]).write_text(__name__)
raise RuntimeError("docgen imported {name}")
'''

# Every command, on the embedded default (AlexNet + torch.nn from the cached wheels).
COMMANDS: list[list[str]] = [
    ["--version"],
    ["show", "torch.nn.Conv2d"],
    ["show", "torch.nn.Module", "--json"],
    ["snapshot", "--packages", "torch.nn.modules.conv"],
    ["summary"],
    ["summary", "--json"],
    ["walk", "--layer", "features.0"],
    ["walk", "--json"],
    ["backends"],
    ["export", "--format", "mermaid"],
    ["fetch", "--offline", "torch==2.13.0"],
    ["check"],
    ["diff", "snapshots/torch-2.13.0.json", "snapshots/torch-2.13.0.json"],
]


@pytest.fixture(scope="module")
def fake_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("fake-torch")
    for name in ("torch", "torchvision", "timm"):
        (root / name).mkdir()
        (root / name / "__init__.py").write_text(FAKE.format(name=name), encoding="utf-8")
    return root


def _run(args: list[str], fake: Path, mark: Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(fake), str(ROOT)]),
           "DOCGEN_FAKE_TORCH_MARK": str(mark)}
    return subprocess.run([sys.executable, "-m", "docgen", "-q", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=600, check=False)


def test_the_fake_torch_is_seen(fake_path: Path, tmp_path: Path) -> None:
    """The trap works: a Python that does import torch is caught."""
    mark = tmp_path / "mark"
    env = {**os.environ, "PYTHONPATH": str(fake_path), "DOCGEN_FAKE_TORCH_MARK": str(mark)}
    proc = subprocess.run([sys.executable, "-c", "import torch"], env=env, capture_output=True,
                          text=True, check=False)
    assert proc.returncode != 0 and "docgen imported torch" in proc.stderr
    assert mark.read_text() == "torch"


@pytest.mark.parametrize("args", COMMANDS, ids=lambda a: " ".join(a))
def test_command_never_imports_torch(fake_path: Path, tmp_path: Path, args: list[str],
                                     real_wheels: dict[str, Path]) -> None:
    mark = tmp_path / "mark"
    proc = _run(args, fake_path, mark, ROOT)
    assert not mark.exists(), f"docgen {' '.join(args)} imported {mark.read_text()}"
    assert "docgen imported" not in proc.stderr
    assert proc.returncode in (0, 1), proc.stderr[-2000:]


def test_build_never_imports_torch(fake_path: Path, tmp_path: Path,
                                   real_wheels: dict[str, Path]) -> None:
    mark = tmp_path / "mark"
    project = tmp_path / "proj"
    project.mkdir()
    proc = _run(["build", "--project", str(project), "--pages", "model"],
                fake_path, mark, tmp_path)
    assert not mark.exists(), f"docgen build imported {mark.read_text()}"
    assert proc.returncode == 0, proc.stderr[-2000:]
