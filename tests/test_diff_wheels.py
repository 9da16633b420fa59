"""docgen diff / check on the real wheels: torch 2.13.0 -> 2.14.1 in torch.nn, checked
against the wheels' own source text, and this repository's committed snapshot."""

from __future__ import annotations

import os
import zipfile
from pathlib import Path

import pytest

from docgen.changes.compare import LoadOptions, check_one, diff_versions
from docgen.changes.diff import Change, ChangeKind, Diff, diff_projects
from docgen.changes.report import render_changes
from docgen.classes.cache import AnalysisCache
from docgen.classes.project import load_project
from docgen.core.config import Config
from docgen.core.records import Project
from docgen.sources.locate import SourceSet, SourceSpec, cache_dir, fetch_requirement, open_source

pytestmark = pytest.mark.wheels

K = ChangeKind
ROOT = Path(__file__).resolve().parent.parent
NEWER = "torch==2.14.1"


@pytest.fixture(scope="module")
def newer_wheel(real_wheels: dict[str, Path]) -> Path:
    try:
        return fetch_requirement(NEWER)
    except Exception as exc:  # pragma: no cover - depends on the machine
        if os.environ.get("CI"):
            raise
        pytest.skip(f"{NEWER} unavailable: {exc}")


def torch_nn(wheel: Path) -> Project:
    sources = SourceSet([open_source(SourceSpec("torch", str(wheel)))])
    return load_project(Config(model="", packages=("torch.nn",)), sources=sources,
                        cache=AnalysisCache(cache_dir()))


@pytest.fixture(scope="module")
def wheels(real_wheels: dict[str, Path], newer_wheel: Path) -> tuple[zipfile.ZipFile, ...]:
    return zipfile.ZipFile(real_wheels["torch"]), zipfile.ZipFile(newer_wheel)


@pytest.fixture(scope="module")
def torch_diff(real_wheels: dict[str, Path], newer_wheel: Path) -> Diff:
    return diff_projects(torch_nn(real_wheels["torch"]), torch_nn(newer_wheel))


def source(wheel: zipfile.ZipFile, path: str) -> str:
    try:
        return wheel.read(path).decode("utf-8")
    except KeyError:
        return ""


def find(diff: Diff, kind: ChangeKind, cls: str, name: str | None) -> Change:
    found = [c for c in diff.changes if (c.kind, c.cls, c.name) == (kind, cls, name)]
    assert len(found) == 1, [c for c in diff.changes if c.cls == cls]
    return found[0]


def test_versions_are_labelled(torch_diff: Diff) -> None:
    assert (torch_diff.old.label, torch_diff.new.label) == ("torch 2.13.0", "torch 2.14.1")


def test_tensor_dlpack_gained_read_only(torch_diff: Diff,
                                        wheels: tuple[zipfile.ZipFile, ...]) -> None:
    old, new = (source(w, "torch/_tensor.py") for w in wheels)
    assert "read_only: bool = False" not in old and "read_only: bool = False" in new
    change = find(torch_diff, K.METHOD_SIGNATURE_CHANGED, "torch._tensor.Tensor", "__dlpack__")
    assert change.new is not None and change.new.endswith("read_only: bool = False)")
    assert "torch.nn.parameter.Parameter" in change.inherited_by
    assert "torch._tensor.Tensor" in torch_diff.context


def test_module_to_gained_a_memory_format_overload(
        torch_diff: Diff, wheels: tuple[zipfile.ZipFile, ...]) -> None:
    overload = "def to(self, memory_format: memory_format) -> Self"
    old, new = (source(w, "torch/nn/modules/module.py") for w in wheels)
    assert overload not in old and overload in new
    change = find(torch_diff, K.METHOD_OVERLOADS_CHANGED, "torch.nn.modules.module.Module", "to")
    assert "to(self, memory_format: memory_format) -> Self" in (change.new or "").split("\n")
    # one line for Module, counted on every subclass that inherits `to`
    assert len(change.inherited_by) > 100
    assert not [c for c in torch_diff.changes if c.name == "to" and c.cls != change.cls]


def test_function_apply_became_a_class_attribute(
        torch_diff: Diff, wheels: tuple[zipfile.ZipFile, ...]) -> None:
    old, new = (source(w, "torch/autograd/function.py") for w in wheels)
    assert 'apply = _C._FunctionBase.__dict__["apply"]' in new
    assert 'apply = _C._FunctionBase.__dict__["apply"]' not in old
    change = find(torch_diff, K.MEMBER_KIND_CHANGED, "torch.autograd.function.Function", "apply")
    assert (change.old, change.new) == ("classmethod", "class_attribute")


def test_auto_default_was_removed(torch_diff: Diff,
                                  wheels: tuple[zipfile.ZipFile, ...]) -> None:
    path = "torch/nn/modules/linear_cross_entropy_options.py"
    old, new = (source(w, path) for w in wheels)
    assert "class _AutoDefault" in old and "class _AutoDefault" not in new
    find(torch_diff, K.CLASS_REMOVED,
         "torch.nn.modules.linear_cross_entropy_options._AutoDefault", None)


def test_every_change_sits_in_a_file_that_changed(
        torch_diff: Diff, wheels: tuple[zipfile.ZipFile, ...]) -> None:
    """Nothing is reported where the source text is the same in both wheels."""
    assert torch_diff.changes
    for change in torch_diff.changes:
        assert change.location is not None
        old, new = (source(w, change.location.path) for w in wheels)
        assert old != new, change


def test_same_wheel_twice_is_no_change(real_project: Project) -> None:
    assert diff_projects(real_project, real_project).changes == ()


def test_committed_snapshot_is_current(real_wheels: dict[str, Path]) -> None:
    """`docgen check` on this repository: regenerate with
    `python -m docgen snapshot --out snapshots/torch-2.13.0.json` when this fails."""
    diff, accept = check_one(ROOT / "snapshots" / "torch-2.13.0.json", LoadOptions())
    assert diff.changes == (), accept
    assert diff.new.label == "torch 2.13.0, torchvision 0.28.0"


def test_changes_page_of_the_real_pair(torch_diff: Diff) -> None:
    from docgen.core.templating import make_environment

    page = render_changes(torch_diff, make_environment())
    assert page.startswith("# Changes: torch 2.13.0 → torch 2.14.1\n")
    assert ("## [`torch.nn.modules.module.Module`](classes/torch.nn.modules.module.Module.md)"
            in page)
    assert "*Base class outside the selected packages.*" in page


def test_diff_versions_reads_both_wheels(torch_diff: Diff, newer_wheel: Path) -> None:
    assert diff_versions("torch==2.13.0", NEWER, LoadOptions(offline=True)) == torch_diff
