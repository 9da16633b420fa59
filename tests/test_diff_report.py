"""The words of a diff: text, JSON, GitHub annotations, the Markdown Changes page."""

from __future__ import annotations

import json
from pathlib import Path

import jinja2
import pytest

from docgen.changes.diff import Change, ChangeKind, Diff, Side, diff_projects
from docgen.changes.report import (
    describe,
    format_github,
    format_json,
    format_markdown,
    format_text,
    render_changes,
    render_changes_pages,
    split_signature,
)
from docgen.core.records import Location
from tests.conftest import WritePackage, analyze_package

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"

OLD = """
class Module:
    def cuda(self):
        return self

class Threshold(Module):
    def forward(self, input):
        return input

class ReLU(Threshold):
    pass

class ReLU6(ReLU):
    pass
"""

NEW = """
class Module:
    pass

class Threshold(Module):
    def forward(self, input):
        return input

class ReLU(Module):
    def forward(self, input):
        return input

class ReLU6(ReLU):
    pass
"""


@pytest.fixture
def relu_diff(write_package: WritePackage) -> Diff:
    root = write_package({"old/pkg/__init__.py": OLD, "new/pkg/__init__.py": NEW})
    return diff_projects(analyze_package(root / "old", "pkg"),
                         analyze_package(root / "new", "pkg"))


@pytest.fixture
def env() -> jinja2.Environment:
    from docgen.core.templating import make_environment

    return make_environment()


def test_every_kind_has_its_own_words() -> None:
    texts = set()
    for kind in ChangeKind:
        change = Change(kind, "pkg.A", "m", "pkg.A", "pkg.B", None, ("pkg.C",))
        text = describe(change)
        assert "1 subclass" in text
        texts.add(text.split(";")[0])
    assert len(texts) == len(ChangeKind)


def test_text_groups_changes_by_class(relu_diff: Diff) -> None:
    text = format_text(relu_diff)
    lines = text.splitlines()
    assert lines[0].endswith(f"{len(relu_diff.changes)} changes in 2 classes")
    assert lines[1] == "pkg.Module"
    assert lines[2] == "  method removed: cuda(self); inherited by 3 subclasses"
    assert "  bases changed: pkg.Threshold -> pkg.Module; 1 subclass affected" in lines


def test_json_has_the_typed_fields(relu_diff: Diff) -> None:
    data = json.loads(format_json(relu_diff))
    assert data["schema"] == 1
    removed = next(c for c in data["changes"] if c["kind"] == "method_removed")
    assert removed == {
        "kind": "method_removed", "class": "pkg.Module", "name": "cuda",
        "old": "cuda(self)", "new": None, "location": "pkg/__init__.py:3",
        "inherited_by": ["pkg.ReLU", "pkg.ReLU6", "pkg.Threshold"], "guess": False,
        "message": "method removed: cuda(self); inherited by 3 subclasses",
    }


def test_github_annotations_escape_their_text() -> None:
    change = Change(ChangeKind.MEMBER_VALUE_CHANGED, "pkg.A", "RATIO", "50%", "1,\n2",
                    Location("pkg/a,b.py", 7))
    diff = Diff(Side("pkg 1", ("pkg",), None), Side("pkg 2", ("pkg",), None), (change,), (), ())
    first = format_github(diff).splitlines()[0]
    assert first.startswith("::warning file=pkg/a%2Cb.py,line=7,title=member_value_changed in ")
    assert first.endswith("::pkg.A: member RATIO changed value: 50%25 -> 1,%0A2")


def test_changes_page_links_class_pages(relu_diff: Diff, env: jinja2.Environment) -> None:
    page = render_changes(relu_diff, env)
    assert page.startswith("# Changes: pkg unknown → pkg unknown\n")
    assert "## [`pkg.ReLU`](classes/pkg.ReLU.md)" in page
    assert "- bases changed: `pkg.Threshold` → `pkg.Module`; 1 subclass affected" in page
    unlinked = render_changes(relu_diff, env, linkable={"pkg.Module"})
    assert "## [`pkg.Module`](classes/pkg.Module.md)" in unlinked
    assert "## `pkg.ReLU`\n" in unlinked


def test_changes_page_of_no_change(env: jinja2.Environment) -> None:
    diff = Diff(Side("torch 2.13.0", ("torch.nn",), None), Side("torch 2.13.0", ("torch.nn",),
                                                                  None), (), (), ())
    page = render_changes(diff, env)
    assert "No changes in `torch.nn` from torch 2.13.0 to torch 2.13.0." in page
    assert "##" not in page


def test_markdown_report_uses_the_shipped_template(relu_diff: Diff) -> None:
    report = format_markdown(relu_diff)
    assert report.startswith("# Changes:")
    assert "](classes/" not in report  # a PR comment has no class pages to link to


def test_backticks_in_source_text_stay_code(env: jinja2.Environment) -> None:
    change = Change(ChangeKind.MEMBER_VALUE_CHANGED, "pkg.A", "SEP", "'`'", "'|'", None)
    diff = Diff(Side("a", ("pkg",), None), Side("b", ("pkg",), None), (change,), (), ())
    assert "member `SEP` changed value: ``'`'`` → `'|'`" in render_changes(diff, env)


@pytest.mark.parametrize(("signature", "params", "returns"), [
    ("f()", [], ""),
    ("f(self, x) -> int", ["self", "x"], "int"),
    ("f(a: dict[str, int] = {'k': (1, 2)}, sep=',', *args, **kw) -> tuple[int, str]",
     ["a: dict[str, int] = {'k': (1, 2)}", "sep=','", "*args", "**kw"], "tuple[int, str]"),
])
def test_split_signature(signature: str, params: list[str], returns: str) -> None:
    assert split_signature(signature) == (params, returns)


def test_signature_change_names_the_parameters() -> None:
    change = Change(ChangeKind.METHOD_SIGNATURE_CHANGED, "pkg.A", "f", "f(self, x) -> int",
                    "f(self, x, y: int = 0) -> str", None)
    assert describe(change) == ("method f changed signature: parameter added: y: int = 0; "
                                "returns int -> str")
    reordered = Change(ChangeKind.METHOD_SIGNATURE_CHANGED, "pkg.A", "f", "f(a, b)", "f(b, a)",
                       None)
    assert describe(reordered) == "method f changed signature: f(a, b) -> f(b, a)"


def test_changes_pages_sit_beside_the_class_pages(relu_diff: Diff,
                                                  env: jinja2.Environment) -> None:
    diff = Diff(Side("torch 2.13.0", ("torch.nn",), None),
                Side("torch 2.14.1", ("torch.nn",), None), relu_diff.changes, (), ())
    pages = render_changes_pages([diff], env, linkable={"pkg.ReLU"})
    assert list(pages) == ["changes-torch-2.13.0-to-torch-2.14.1.md"]
    assert "](classes/pkg.ReLU.md)" in pages["changes-torch-2.13.0-to-torch-2.14.1.md"]
