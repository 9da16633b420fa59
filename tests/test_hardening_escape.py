"""`{{` and `{%` from source code never reach a generated page verbatim: not in text, tables,
diagram labels and tooltips (SVG), DOT source shown without Graphviz, nor the composition
(issue 15, item 8)."""

from __future__ import annotations

import html
import re

import pytest

from docgen.core.config import Config
from docgen.core.escape import disarm_templates
from docgen.site import diagrams
from docgen.site.build import generate_docs
from docgen.sources.locate import SourceSpec
from tests.conftest import WritePackage
from tests.sitekit import with_diagrams

HOSTILE = {
    "mm/__init__.py": "",
    "mm/layers.py": '''
        class Module:
            """Root {% include 'x' %} of {{ config.site_name }}."""

            def __init__(self) -> None:
                self.training = True


        class ModuleDict(Module):
            def __init__(self, modules=None) -> None:
                super().__init__()


        class Conv(Module):
            """Conv {{7*7}}."""

            def __init__(self, cin: int, cout: int, tag: str = "{{ x }}") -> None:
                super().__init__()
                self.label = "{%raw%}"
    ''',
    "mm/net.py": '''
        from mm import layers as nn


        class Net(nn.Module):
            """Net {{7*7}}"""

            def __init__(self) -> None:
                super().__init__()
                self.heads = nn.ModuleDict({"{{7*7}}": nn.Conv(1, 2, tag="{%x%}")})
                self.body = nn.Conv(2, 3, "{{lipsum()}}")

            def forward(self, x):
                y = {"{{k}}": x}
                return self.body(self.heads["{{7*7}}"](x))
    ''',
}


@pytest.mark.parametrize("graphviz", [True, False])
def test_no_template_syntax_survives_in_any_page(write_package: WritePackage,
                                                 monkeypatch: pytest.MonkeyPatch,
                                                 graphviz: bool) -> None:
    if not graphviz:
        monkeypatch.setattr(diagrams.shutil, "which", lambda _name: None)
    elif not diagrams.has_dot():
        pytest.skip("Graphviz is not installed")
    root = write_package(HOSTILE)
    cfg = Config(model="mm.net:Net", packages=("mm",), sources=(SourceSpec("mm", str(root)),),
                 module_root="mm.layers.Module", changes=(), walk=False, summary=False)
    docs = generate_docs(cfg, jobs=1)
    pages = {rel: text for rel, text in docs.files.items() if rel.endswith(".md")}
    for rel, text in pages.items():
        assert "{{" not in text and "{%" not in text, (rel, re.findall(r".{30}\{[{%].{20}",
                                                                          text))
    home = html.unescape(with_diagrams(docs.files, "index.md"))
    assert "{{7*7}}" in home  # still shown to the reader, as text (in the diagram)
    if not graphviz:
        assert "```dot" in pages["index.md"]


def test_disarm_keeps_code_blocks_readable_and_anchors_alone() -> None:
    page = "# T {#anchor}\n\n{{ a }} and {%b%}\n\n```python\nx = '{{c}}'\n```\n{{{d\n"
    out = disarm_templates(page)
    assert "{{" not in out and "{%" not in out
    assert "{#anchor}" in out  # attribute lists are not template syntax
    assert "x = '{\u200b{c}}'" in out
    assert html.unescape(out.split("```")[0]) == page.split("```")[0]
