"""Golden pages: the AlexNet page, the Conv2d class page, the Conv2d walk page and its
every-branch page of the embedded default, compared whole with the files under
tests/golden/pages.

A change on purpose shows as a unified diff; accept it with

    DOCGEN_UPDATE_GOLDEN=1 .venv/bin/python -m pytest tests/test_golden.py

and review the golden diff like code. Graphviz's SVG is volatile (it depends on the Graphviz
version), so each inline SVG is replaced by the list of its node titles. Diagrams are kept
out of the Markdown (fragments.py): they are put back in as the built page shows them.
"""

from __future__ import annotations

import difflib
import os
import re
from pathlib import Path

import pytest

from docgen.cli.main import main

pytestmark = pytest.mark.wheels

GOLDEN = Path(__file__).resolve().parent / "golden" / "pages"
PAGES = {
    "alexnet.md": "index.md",
    "conv2d-class.md": "classes/torch.nn.modules.conv.Conv2d.md",
    "conv2d-walk.md": "walk/conv2d.md",
    "conv2d-branches.md": "walk/conv2d-branches.md",
}
_SVG = re.compile(r"<svg\b.*?</svg>", re.S)
_TITLE = re.compile(r"<title>(.*?)</title>", re.S)


def normalise(text: str) -> str:
    def placeholder(match: re.Match[str]) -> str:
        titles = _TITLE.findall(match.group(0))
        return "<svg><!-- nodes: " + ", ".join(titles) + " --></svg>"

    return _SVG.sub(placeholder, text)


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory, real_wheels: dict[str, Path]) -> Path:
    project = tmp_path_factory.mktemp("golden")
    assert main(["-q", "build", "--no-mkdocs", "--project", str(project)]) == 0
    return project / "docs" / "generated"


@pytest.mark.parametrize("golden", sorted(PAGES))
def test_page_matches_golden(generated: Path, golden: str) -> None:
    from docgen.site.fragments import inject

    def read(path: str) -> str | None:
        file = generated / path
        return file.read_text(encoding="utf-8") if ".diagram-" in path and file.is_file() \
            else None

    page = (generated / PAGES[golden]).read_text(encoding="utf-8")
    actual = normalise(inject(page, PAGES[golden], read))
    expected_file = GOLDEN / golden
    if os.environ.get("DOCGEN_UPDATE_GOLDEN"):
        expected_file.write_text(actual, encoding="utf-8")
    expected = expected_file.read_text(encoding="utf-8") if expected_file.exists() else ""
    if actual != expected:
        diff = "".join(difflib.unified_diff(
            expected.splitlines(keepends=True), actual.splitlines(keepends=True),
            fromfile=f"golden/{golden}", tofile=f"generated/{PAGES[golden]}", n=2))
        pytest.fail(f"{golden} differs from its golden copy "
                    f"(DOCGEN_UPDATE_GOLDEN=1 accepts it):\n{diff[:20000]}")


def test_normalise_keeps_node_titles() -> None:
    text = "a\n<svg width='1'><g><title>node1</title></g><title>x</title></svg>\nb"
    assert normalise(text) == "a\n<svg><!-- nodes: node1, x --></svg>\nb"
