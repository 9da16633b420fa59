"""Shared fixtures: synthetic packages on disk, and the real torch / torchvision wheels."""

from __future__ import annotations

import os
import textwrap
from collections.abc import Callable, Mapping
from pathlib import Path

import pytest

from docgen.classes.project import load_project
from docgen.core.config import Config
from docgen.core.records import Project
from docgen.sources.locate import SourceSet, SourceSpec, fetch_requirement, open_source

TORCH_REQ = "torch==2.13.0"
TORCHVISION_REQ = "torchvision==0.28.0"

WritePackage = Callable[[Mapping[str, str]], Path]


@pytest.fixture
def write_package(tmp_path: Path) -> WritePackage:
    """Write {"pkg/mod.py": source} (dedented) under tmp_path/src; returns that root."""

    def write(files: Mapping[str, str]) -> Path:
        root = tmp_path / "src"
        for rel, text in files.items():
            path = root / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            if isinstance(text, bytes):
                path.write_bytes(text)
            else:
                path.write_text(textwrap.dedent(text), encoding="utf-8")
        return root

    return write


def analyze_package(root: Path, package: str, model: str = "",
                    module_root: str = "") -> Project:
    """Run the pipeline up to the model on a synthetic package written by write_package;
    `module_root` defaults to `<package>.module.Module`, mirroring torch's layout."""
    top = package.split(".")[0]
    cfg = Config(model=model, packages=(package,), sources=(SourceSpec(top, str(root)),),
                 module_root=module_root or f"{package}.module.Module")
    return load_project(cfg, jobs=1)


@pytest.fixture(autouse=True)
def _isolated_cache(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch,
                    request: pytest.FixtureRequest) -> None:
    """Tests that do not use the real wheels get a private, empty cache folder."""
    shared = {"real_sources", "real_wheels", "oracle_python", "oracle_wheels"}
    if shared & set(request.fixturenames):
        return
    monkeypatch.setenv("DOCGEN_CACHE_DIR", str(tmp_path_factory.mktemp("cache")))


@pytest.fixture(scope="session")
def real_wheels() -> dict[str, Path]:
    """torch 2.13.0 and torchvision 0.28.0 wheels, from docgen's cache (fetched once)."""
    try:
        return {"torch": fetch_requirement(TORCH_REQ),
                "torchvision": fetch_requirement(TORCHVISION_REQ)}
    except Exception as exc:  # pragma: no cover - depends on the machine
        if os.environ.get("CI"):
            raise
        pytest.skip(f"real wheels unavailable: {exc}")


@pytest.fixture(scope="session")
def real_sources(real_wheels: dict[str, Path]) -> SourceSet:
    return SourceSet(open_source(SourceSpec(name, str(path))) for name, path in real_wheels.items())


@pytest.fixture(scope="session")
def real_project(real_sources: SourceSet) -> Project:
    """The embedded default (AlexNet + torch.nn) analysed from the real wheels."""
    return load_project(Config(), sources=real_sources)
