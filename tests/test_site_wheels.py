"""The site generated from the real torch / torchvision wheels: widths, links, contents."""

from __future__ import annotations

import re

import pytest

from docgen.core.config import Config
from docgen.core.escape import md_code
from docgen.site.build import GeneratedDocs, generate_docs
from docgen.site.diagrams import MAX_WIDTH_PX, svg_size_px
from docgen.site.pages import SiteLayout
from tests.sitekit import broken_links, with_diagrams

pytestmark = pytest.mark.wheels

_SVG = re.compile(r"<svg\b[^>]*>", re.S)


@pytest.fixture(scope="module")
def real_docs(real_sources) -> GeneratedDocs:  # type: ignore[no-untyped-def]
    return generate_docs(Config(), sources=real_sources)


def test_every_diagram_fits_the_width_limit(real_docs: GeneratedDocs) -> None:
    sizes = {}
    for page, text in real_docs.files.items():
        for i, head in enumerate(_SVG.findall(text)):
            sizes[f"{page}#{i}"] = svg_size_px(head + "</svg>")
    assert len(sizes) > len(real_docs.layout.class_pages)  # every class page has its diagram
    too_wide = {k: round(w) for k, (w, _) in sizes.items() if w > MAX_WIDTH_PX}
    assert too_wide == {}


def test_a_page_for_every_class_and_no_broken_link(real_docs: GeneratedDocs,
                                                   real_project) -> None:  # type: ignore[no-untyped-def]
    assert real_docs.layout.class_pages == {v.qualname for v in real_project.views}
    assert broken_links(real_docs.files) == []


def test_alexnet_composition_as_written(real_docs: GeneratedDocs) -> None:
    home = with_diagrams(real_docs.files, SiteLayout.HOME)
    assert md_code("3, 64, kernel_size=11, stride=4, padding=2") in home
    assert md_code("256 * 6 * 6, 4096") in home
    assert md_code("features.12") in home and md_code("classifier.6") in home
    assert md_code("features.13") not in home and md_code("classifier.7") not in home
    steps = re.findall(r"^\d+\. (.*)$", home, flags=re.M)
    assert [s.split(" — ")[0] for s in steps][:4] == [md_code(t) for t in (
        "self.features(x)", "self.avgpool(x)", "torch.flatten(x, 1)", "self.classifier(x)")]
    assert "torch" in home and "2.13.0" in home and "0.28.0" in home
    # the composition diagram links each layer to its class page
    assert 'id="layer_features.0"' in home
    assert 'xlink:href="classes/torch.nn.modules.conv.Conv2d.html"' in home


def test_hierarchy_keeps_private_bases_and_links_every_node(real_docs: GeneratedDocs) -> None:
    hierarchy = with_diagrams(real_docs.files, SiteLayout.HIERARCHY)
    for node in ("conv._convnd", "conv.conv2d", "module.module", "pooling._maxpoolnd"):
        assert f'id="ancestry_torch.nn.modules.{node}"' in hierarchy
    conv = with_diagrams(real_docs.files, SiteLayout.family_page("convolution"))
    nodes = re.findall(r'<g id="family_convolution_0_[^"]+" class="node">\s*<title>[^<]*</title>'
                       r'\s*<g id="a_[^"]*"><a xlink:href="([^"]+)"', conv)
    assert len(nodes) >= 17
    assert all(href.startswith("../classes/") for href in nodes)


def test_module_anatomy_groups_state_and_methods(real_docs: GeneratedDocs) -> None:
    page = real_docs.files[SiteLayout.ANATOMY]
    registries = page.split("### Registries")[1].split("###")[0]
    for name in ("_parameters", "_buffers", "_modules"):
        assert md_code(name) in registries
    hooks = page.split("### Hook dictionaries")[1].split("###")[0]
    assert md_code("_forward_hooks") in hooks
    adders = page.split("### Adders")[1].split("###")[0]
    assert "register\\_buffer" in adders


def test_the_default_build_has_no_warnings(real_docs: GeneratedDocs) -> None:
    """`docgen build --strict` on the default config (AlexNet + torch.nn) exits 0: the model
    reader's info lines (a skipped `init.*_` call) are no warnings, and nothing else warns."""
    assert [str(d) for d in real_docs.diagnostics] == []
