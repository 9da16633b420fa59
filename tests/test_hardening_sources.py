"""Import names are mapped to distributions and never handed to pip; a fetched wheel must be
the distribution asked for; `diff NAME=SPEC` works (issue 15, "Others")."""

from __future__ import annotations

import subprocess
import zipfile
from pathlib import Path
from typing import Any

import pytest

from docgen.classes.project import load_project
from docgen.cli.main import main
from docgen.core.config import Config
from docgen.core.errors import FetchError
from docgen.sources import locate
from docgen.sources.locate import SourceSpec, fetch_requirement, open_sources


def _wheel(path: Path, dist: str, version: str, files: dict[str, str]) -> Path:
    with zipfile.ZipFile(path, "w") as zf:
        for member, text in files.items():
            zf.writestr(member, text)
        zf.writestr(f"{dist.replace('-', '_')}-{version}.dist-info/METADATA",
                    f"Metadata-Version: 2.1\nName: {dist}\nVersion: {version}\n")
        zf.writestr(f"{dist.replace('-', '_')}-{version}.dist-info/top_level.txt",
                    "\n".join(sorted({m.split("/")[0] for m in files})) + "\n")
    return path


SKLEARN = {"sklearn/__init__.py": "from .base import BaseEstimator\n",
           "sklearn/base.py": "class BaseEstimator:\n    '''Base.'''\n\n\n"
                              "class Ridge(BaseEstimator):\n    pass\n"}


@pytest.fixture
def no_pip(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """Fails the test if pip is started; records the attempts."""
    calls: list[Any] = []

    def refuse(cmd: Any, *args: Any, **kwargs: Any) -> Any:
        calls.append(cmd)
        raise AssertionError(f"pip must not run: {cmd}")

    monkeypatch.setattr(locate.subprocess, "run", refuse)
    return calls


def test_an_import_name_is_never_sent_to_pip(tmp_path: Path, no_pip: list[Any]) -> None:
    _sources, problems = open_sources(["nosuchpkg_xyz"])
    assert no_pip == [] and len(problems) == 1
    assert "no source provides package 'nosuchpkg_xyz'" in problems[0]
    assert "never downloads an import name" in problems[0]


def test_a_package_provided_by_a_source_is_not_looked_up_again(tmp_path: Path,
                                                               no_pip: list[Any]) -> None:
    evil = tmp_path / "evil"
    evil.mkdir()
    (evil / "__init__.py").write_text("class Net:\n    pass\n")
    wheel = _wheel(tmp_path / "scikit_learn-1.0-py3-none-any.whl", "scikit-learn", "1.0",
                   SKLEARN)
    sources, problems = open_sources(["evil", "sklearn"], [
        SourceSpec("evil", str(evil)), SourceSpec("scikit-learn", str(wheel))])
    assert problems == [] and no_pip == []
    assert sources.find_module("sklearn.base") is not None
    assert [d.name for d in sources.distributions] == ["evil", "scikit-learn"]


@pytest.mark.parametrize("how", ["wheel by distribution", "wheel by import name",
                                 "requirement", "cached wheel"])
def test_sklearn_from_a_scikit_learn_wheel(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                           no_pip: list[Any], how: str) -> None:
    cache = tmp_path / "cache"
    (cache / "wheels").mkdir(parents=True)
    monkeypatch.setenv("DOCGEN_CACHE_DIR", str(cache))
    wheel = _wheel(cache / "wheels" / "scikit_learn-1.0-py3-none-any.whl", "scikit-learn",
                   "1.0", SKLEARN)
    sources = {"wheel by distribution": (SourceSpec("scikit-learn", str(wheel)),),
               "wheel by import name": (SourceSpec("sklearn", str(wheel)),),
               "requirement": (SourceSpec.parse("scikit-learn==1.0"),),
               "cached wheel": ()}[how]
    cfg = Config(model="", packages=("sklearn",), sources=sources, offline=True,
                 module_root="sklearn.base.BaseEstimator")
    project = load_project(cfg, jobs=1)
    views = {v.qualname: v for v in project.views}
    assert views["sklearn.base.Ridge"].resolution_order[:2] == ("sklearn.base.Ridge",
                                                                "sklearn.base.BaseEstimator")
    assert project.distributions[0].name == "scikit-learn"


def test_fetch_refuses_a_wheel_of_another_distribution(tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    def fake_pip(cmd: list[str], *args: Any, **kwargs: Any) -> Any:
        target = Path(cmd[cmd.index("-d") + 1])
        _wheel(target / "demo-1.0-py3-none-any.whl", "evil-twin", "1.0",
               {"demo/__init__.py": ""})
        return subprocess.CompletedProcess(cmd, 0, "", "")

    monkeypatch.setattr(locate.subprocess, "run", fake_pip)
    with pytest.raises(FetchError, match="'evil-twin' in its METADATA; not cached"):
        fetch_requirement("demo==1.0", cache=tmp_path)
    assert list((tmp_path / "wheels").glob("*.whl")) == []


def test_diff_accepts_name_equals_spec(tmp_path: Path, no_pip: list[Any],
                                       capsys: pytest.CaptureFixture[str]) -> None:
    old = _wheel(tmp_path / "demo-1.0-py3-none-any.whl", "demo", "1.0",
                 {"demo/__init__.py": "class A:\n    pass\n"})
    new_dir = tmp_path / "new"
    new_dir.mkdir()
    new = _wheel(new_dir / "demo-2.0-py3-none-any.whl", "demo", "2.0",
                 {"demo/__init__.py": "class A:\n    pass\n\n\nclass B(A):\n    pass\n"})
    code = main(["-q", "diff", f"demo={old}", f"demo={new}", "--packages", "demo",
                 "--format", "text", "--no-cache"])
    out = capsys.readouterr()
    assert code == 1, out.err
    assert "demo.B" in out.out


def test_changes_page_uses_the_builds_sources(tmp_path: Path, no_pip: list[Any]) -> None:
    from docgen.site.study import _diff

    evil = tmp_path / "evil"
    evil.mkdir()
    (evil / "__init__.py").write_text("class Net:\n    pass\n")
    old = _wheel(tmp_path / "demo-1.0-py3-none-any.whl", "demo", "1.0",
                 {"demo/__init__.py": "class A:\n    pass\n"})
    cfg = Config(model="", packages=("evil", "demo"), sources=(SourceSpec("evil", str(evil)),),
                 changes=())
    diff = _diff(cfg, f"demo={old}", f"demo={old}")
    assert no_pip == [] and not diff.changes
