"""Pages from a synthetic package: escaping, links, determinism, layout of URLs."""

from __future__ import annotations

import re

import pytest

from docgen.core.escape import dot_label, dot_string, md_cell, md_code, md_summary, md_text
from docgen.core.templating import make_environment, shipped_templates
from docgen.site import diagrams
from docgen.site.build import generate_docs
from docgen.site.pages import SiteLayout
from tests.sitekit import EVIL, PACKAGE, broken_links, synthetic_config, with_diagrams


@pytest.fixture
def docs(write_package):  # type: ignore[no-untyped-def]
    root = write_package(PACKAGE)
    return generate_docs(synthetic_config(root), jobs=1)


def test_pages_exist_for_every_class_and_the_site_sections(docs) -> None:  # type: ignore[no-untyped-def]
    files = docs.files
    for page in (SiteLayout.HOME, SiteLayout.HIERARCHY, SiteLayout.CLASSES, SiteLayout.CSS):
        assert page in files
    for name in ("Base", "_ConvNd", "Conv", "Sequential", "Evil", "Parameter"):
        assert f"classes/pkg.layers.{name}.md" in files
    assert "classes/pkg.net.Net.md" in files


def test_every_relative_link_points_at_a_generated_page(docs) -> None:  # type: ignore[no-untyped-def]
    assert broken_links(docs.files) == []


def test_class_page_shows_branches_defaults_setters_and_the_docstring(docs) -> None:  # type: ignore[no-untyped-def]
    page = docs.files["classes/pkg.layers._ConvNd.md"]
    weight = next(line for line in page.splitlines() if line.startswith("| <code>weight</code>"))
    assert "Parameter\\(cout, cin\\)" in weight and "if <code>transposed</code>" in weight
    assert "Parameter\\(cin, cout\\)" in weight and "if <code>not transposed</code>" in weight
    hook = next(line for line in page.splitlines() if line.startswith("| <code>\\_hook</code>"))
    assert "<code>None</code> <small>class-level default" in hook
    assert "in <code>compile</code>" in hook
    state = next(line for line in page.splitlines() if line.startswith("| <code>\\_state</code>"))
    assert "through <code>super\\(\\).\\_\\_setattr\\_\\_</code>" in state
    # the whole docstring, its roles linked to class pages, its math as MathML
    assert "[<code>Base</code>](pkg.layers.Base.md)" in page
    assert "[<code>pkg.layers.Conv</code>](pkg.layers.Conv.md)" in page
    assert "**Args**" in page and "<math" in page and "C_{in}" not in page
    # Conv inherits weight: listed with the parameters, its origin linked
    conv = docs.files["classes/pkg.layers.Conv.md"]
    tensors = conv.split("## Parameters, buffers and submodules", 1)[1].split("## Members")[0]
    assert "<code>weight</code>" in tensors and "(pkg.layers._ConvNd.md)" in tensors
    # inherited methods: a fragment file the page points at, put into its HTML after MkDocs
    holder = '<div class="docgen-fragment" data-fragment="../_fragments/classes/' \
        'pkg.layers.Conv.inherited-methods.html"></div>'
    assert holder in conv
    inherited = docs.files["_fragments/classes/pkg.layers.Conv.inherited-methods.html"]
    assert "Inherited methods" in inherited and "data-search-exclude" in inherited
    assert "<td><code>register_buffer</code></td>" in inherited
    assert '<a href="pkg.layers.Base.html"><code>Base</code></a>' in inherited


def test_links_with_directory_urls(write_package) -> None:  # type: ignore[no-untyped-def]
    root = write_package(PACKAGE)
    docs = generate_docs(synthetic_config(root), jobs=1, directory_urls=True)
    assert broken_links(docs.files, directory_urls=True) == []
    home = with_diagrams(docs.files, SiteLayout.HOME)
    assert 'xlink:href="classes/pkg.layers.Conv/"' in home


def test_source_text_is_escaped_everywhere(docs) -> None:  # type: ignore[no-untyped-def]
    page = docs.files["classes/pkg.layers.Evil.md"]
    body = page.split("</svg>")[-1]
    assert "<script>" not in page
    assert "<img src" not in page
    assert "{{ jinja }}" not in page and "{%" not in page
    assert "&lt;script&gt;" in page
    # every table row keeps its column count despite the pipes in signatures and defaults
    for table in re.findall(r"(?:^\|.*\|\n)+", body, flags=re.M):
        rows = table.strip().splitlines()
        widths = {row.count("|") - row.count("\\|") for row in rows}
        assert len(widths) == 1, table


def test_the_model_composition_is_listed_as_written(docs) -> None:  # type: ignore[no-untyped-def]
    home = docs.files[SiteLayout.HOME]
    assert md_code("3, 8, kernel_size=5") in home
    assert md_code('text="<i>|</i>"') in home
    assert "features.2" in home and "head" in home
    assert "count" not in re.findall(r"<code>([^<]*)</code>", home)  # a helper call, no layer
    assert md_code("x.flatten(1)") in home


def test_summary_hook_renders_nothing_without_a_summary(docs) -> None:  # type: ignore[no-untyped-def]
    assert "Parameters and shapes" not in docs.files[SiteLayout.HOME]


def test_generation_is_deterministic(write_package) -> None:  # type: ignore[no-untyped-def]
    root = write_package(PACKAGE)
    first = generate_docs(synthetic_config(root), jobs=1).files
    second = generate_docs(synthetic_config(root), jobs=1).files
    assert first == second


@pytest.mark.parametrize("text", [EVIL, "a|b", "__init__", "x\ny", "<lambda>", "{{ }}",
                                  "*a* _b_ [c](d) `e`", "&amp; &#124;"])
def test_markdown_filters_render_as_typed(text: str) -> None:
    import html

    import markdown

    out = markdown.markdown(f"| a |\n|---|\n| {md_cell(text)} |\n\n{md_text(text)}\n\n"
                            f"{md_code(text)}", extensions=["tables"])
    cell = re.search(r"<td>(.*?)</td>", out, re.S)
    para = re.search(r"<p>(?!<code>)(.*?)</p>", out, re.S)
    code = re.search(r"<p><code>(.*?)</code></p>", out, re.S)
    expected = " ".join(text.split())
    for found in (cell, para, code):
        assert found is not None, out
        assert "<" not in found.group(1)  # no element came from the text
        assert html.unescape(found.group(1)) == expected


def test_docstring_roles_become_code_and_the_rest_stays_text() -> None:
    import markdown

    text = "See :meth:`~torch.nn.Module.state_dict` | ``a<b`` and :class:`x.Y` <script>"
    out = markdown.markdown(f"| a |\n|---|\n| {md_summary(text)} |", extensions=["tables"])
    assert "<code>state_dict</code>" in out and "<code>a&lt;b</code>" in out
    assert "<code>x.Y</code>" in out and "&lt;script&gt;" in out and "<script>" not in out
    assert out.count("<td>") == 1


def test_dot_escaping() -> None:
    assert dot_string('a"b\\c') == '"a\\"b\\\\c"'
    assert dot_label("Optional[Tensor] <lambda> & x") == "Optional[Tensor] &lt;lambda&gt; &amp; x"


def test_user_templates_override_shipped_ones(tmp_path) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "_summary.md.j2").write_text("OVERRIDDEN", encoding="utf-8")
    env = make_environment(tmp_path)
    assert env.get_template("_summary.md.j2").render() == "OVERRIDDEN"
    assert "class.md.j2" in [p.name for p in shipped_templates().iterdir()]


def test_undefined_template_variables_fail_loudly() -> None:
    import jinja2

    env = make_environment()
    with pytest.raises(jinja2.UndefinedError):
        env.from_string("{{ missing }}").render()


@pytest.mark.skipif(not diagrams.has_dot(), reason="Graphviz not installed")
def test_a_layout_that_fits_is_not_staggered(monkeypatch: pytest.MonkeyPatch) -> None:
    """`unflatten` (a Graphviz run each) is tried only when the plain layout is too wide."""
    calls: list[int] = []
    real = diagrams.unflatten

    def counting(dot: str, stagger: int) -> str:
        calls.append(stagger)
        return real(dot, stagger)

    monkeypatch.setattr(diagrams, "unflatten", counting)
    narrow = "digraph { a -> b }"
    assert diagrams.fit_layout([narrow])[0] == narrow
    assert calls == []
    wide = "digraph { " + " ".join(f"r -> n{i};" for i in range(60)) + " }"
    diagrams.fit_layout([wide], max_px=200)
    assert calls == [2, 3, 5]
