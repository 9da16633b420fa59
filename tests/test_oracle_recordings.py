"""The committed runtime oracles: they parse, and re-recording a cheap subset reproduces them.

The recordings come from real torch in a test-only venv (tests/oracles/venv.py); docgen never
imports torch. See tests/oracles/README.md for how to re-record everything.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from tests.oracles.venv import TIMM_VERSION, TORCH_VERSION, ensure_torch_venv

ORACLES = Path(__file__).parent / "oracles"
DATA = Path(__file__).parent / "data" / "oracles"
TRACES = DATA / "traces" / f"torch-{TORCH_VERSION}-cpu"
TIMM_COUNTS = DATA / "counts" / f"timm-{TIMM_VERSION}.json"
CHEAP_TRACES = ["alexnet", "lstm", "layernorm"]
CHEAP_TIMM = ["resnet18", "mobilenetv2_100", "deit_tiny_patch16_224", "regnetx_002",
              "lcnet_050"]


def _load(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def test_committed_traces_have_the_schema() -> None:
    files = sorted(TRACES.glob("*.json"))
    assert {f.stem for f in files} >= {"alexnet", "resnet18", "vgg16_bn", "mobilenet_v3_small",
                                       "vit_b_16", "lstm", "gru", "batchnorm2d", "layernorm",
                                       "multiheadattention"}
    for path in files:
        data = _load(path)
        assert data["schema"] == 1 and data["target"] == path.stem
        assert data["torch"].startswith(TORCH_VERSION)
        assert len(data["runs"]) == 4
        for run in data["runs"]:
            assert set(run["setting"]) == {"backend", "dtype", "mode", "mkldnn", "grad"}
            for layer in run["layers"]:
                assert set(layer) == {"path", "type", "calls", "forward", "backward"}
                assert all(":" in op for op in layer["forward"] + layer["backward"])


def test_committed_counts_have_the_schema() -> None:
    files = sorted((DATA / "counts").glob("*.json"))
    assert {f.name.split("-")[0] for f in files} == {"timm", "torchvision"}
    for path in files:
        data = _load(path)
        assert data["schema"] == 1
        assert len(data["models"]) >= 32
        for entry in data["models"].values():
            assert {"num_params", "macs", "macs_by_op", "macs_conv_linear", "input"} <= set(entry)
            assert entry["macs"] == sum(entry["macs_by_op"].values()) >= entry["macs_conv_linear"]


@pytest.fixture(scope="session")
def oracle_python(real_wheels: dict[str, Path]) -> Path:
    """The oracle venv's python (built once under docgen's cache); CI fails, locally skips."""
    try:
        return ensure_torch_venv(real_wheels["torch"])
    except Exception as exc:  # pragma: no cover - depends on the machine
        detail = getattr(exc, "stderr", "") or ""
        if os.environ.get("CI"):
            pytest.fail(f"cannot build the oracle venv: {exc}\n{detail}")
        pytest.skip(f"oracle venv unavailable: {exc}")


def _record(python: Path, script: str, *args: str) -> None:
    subprocess.run([str(python), str(ORACLES / script), *args], check=True, timeout=600,
                   capture_output=True)


@pytest.mark.oracle
def test_traces_rerecord_byte_for_byte(oracle_python: Path, tmp_path: Path) -> None:
    _record(oracle_python, "record_traces.py", str(tmp_path), *CHEAP_TRACES)
    for name in CHEAP_TRACES:
        assert (tmp_path / f"{name}.json").read_bytes() == (TRACES / f"{name}.json").read_bytes()


@pytest.mark.oracle
def test_timm_counts_rerecord(oracle_python: Path, tmp_path: Path) -> None:
    _record(oracle_python, "record_counts.py", str(tmp_path), "--timm", *CHEAP_TIMM)
    fresh, committed = _load(tmp_path / TIMM_COUNTS.name), _load(TIMM_COUNTS)
    assert {n: committed["models"][n] for n in CHEAP_TIMM} == fresh.pop("models")
    assert {k: v for k, v in committed.items() if k != "models"} == fresh
