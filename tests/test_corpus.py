"""Corpus runs: every Python file of torch, torchvision, the standard library and docgen itself
is analysed with zero crashes; skipped files are listed with path:line: reason; snapshots
round-trip byte for byte. Counts go to artifacts/corpus-<name>.json."""

from __future__ import annotations

import json
import sysconfig
from pathlib import Path

import pytest

from docgen.changes.snapshot import dump_snapshot, load_snapshot
from docgen.classes.cache import AnalysisCache
from docgen.classes.project import load_project
from docgen.core.config import Config
from docgen.core.records import DistributionInfo, Project
from docgen.sources.locate import FolderTree, SourceSet, SourceSpec, open_source

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "artifacts"


def _top_level(sources: SourceSet, names: list[str]) -> tuple[str, ...]:
    return tuple(n for n in names if sources.find_module(n) or sources.is_namespace(n))


def _stdlib() -> tuple[SourceSet, tuple[str, ...]]:
    root = Path(sysconfig.get_paths()["stdlib"])
    files = [p.relative_to(root).as_posix() for p in root.rglob("*.py")
             if "site-packages" not in p.parts and "__pycache__" not in p.parts]
    info = DistributionInfo("python-stdlib", sysconfig.get_python_version(), "folder", "stdlib")
    sources = SourceSet([FolderTree(root, info, files)])
    names = sorted({f.split("/")[0].removesuffix(".py") for f in files})
    return sources, _top_level(sources, [n for n in names if n.isidentifier()])


def _run(name: str, sources: SourceSet, packages: tuple[str, ...], tmp_path: Path) -> Project:
    cfg = Config(model="", packages=packages)
    cache = AnalysisCache(tmp_path / "cache")
    project = load_project(cfg, sources=sources, cache=cache)
    files = sum(1 for m in project.modules if m.name in _selected(project, sources))
    report = {
        "corpus": name,
        "distributions": [f"{d.name} {d.version}" for d in project.distributions],
        "files_analysed": files,
        "classes": sum(1 for c in project.classes() if c.is_selected),
        "skipped": [str(d) for d in project.diagnostics if "skipped" in d.message],
        "warnings": len(project.diagnostics),
        "mro_problems": sum(1 for v in project.views if v.mro_error),
    }
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / f"corpus-{name}.json").write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(report, indent=2))
    for diag in project.diagnostics:
        assert diag.path and diag.line >= 0 and diag.message
    text = dump_snapshot(project)
    assert dump_snapshot(load_snapshot(text)) == text
    warm = load_project(cfg, sources=sources, cache=cache)
    assert dump_snapshot(warm) == text
    return project


def _selected(project: Project, sources: SourceSet) -> set[str]:
    return {n for pkg in project.packages for n in sources.modules_under(pkg)}


@pytest.mark.wheels
def test_whole_torch(real_wheels: dict[str, Path], tmp_path: Path) -> None:
    sources = SourceSet([open_source(SourceSpec("torch", str(real_wheels["torch"])))])
    project = _run("torch", sources, ("torch",), tmp_path)
    skipped = [d for d in project.diagnostics if "skipped" in d.message]
    # torch 2.13 ships Python 3.12-only syntax in testing/_internal; nothing else is skipped.
    assert skipped and all("syntax error" in d.message for d in skipped)
    assert all(d.path.startswith("torch/testing/_internal/") for d in skipped)
    assert sum(1 for c in project.classes() if c.is_selected) > 5000


@pytest.mark.wheels
def test_whole_torchvision(real_wheels: dict[str, Path], tmp_path: Path) -> None:
    sources = SourceSet(open_source(SourceSpec(n, str(p))) for n, p in real_wheels.items())
    project = _run("torchvision", sources, ("torchvision",), tmp_path)
    assert not [d for d in project.diagnostics if "skipped" in d.message]


def test_standard_library(tmp_path: Path) -> None:
    sources, packages = _stdlib()
    project = _run("stdlib", sources, packages, tmp_path)
    assert sum(1 for c in project.classes() if c.is_selected) > 3000


def test_docgen_itself(tmp_path: Path) -> None:
    sources = SourceSet([open_source(SourceSpec("docgen", str(ROOT)))])
    project = _run("docgen", sources, ("docgen",), tmp_path)
    assert project.diagnostics == ()
    assert any(c.name == "ClassDoc" for c in project.classes())
