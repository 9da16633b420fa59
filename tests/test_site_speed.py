"""What makes builds and `docgen serve` faster without changing a byte of what they write: the
walk reading analyses through the cache, kept compiled templates and route diagrams, and the
serve watcher's polling pace."""

from __future__ import annotations

from pathlib import Path

import pytest

from docgen.classes import resolve
from docgen.classes.cache import AnalysisCache
from docgen.classes.resolve import ModuleIndex
from docgen.cli import site as cli_site
from docgen.core.errors import RenderError
from docgen.core.templating import make_environment
from docgen.site import diagrams
from docgen.sources.locate import SourceSet, SourceSpec, open_source
from docgen.sources.store import BlobStore
from docgen.walk.upstream import EdgeSet
from docgen.walk.walker import open_context, walk_model
from tests.walk_fixtures import torch_files

MODEL = "zoo.net:Net"


def _sources(write_package) -> SourceSet:  # type: ignore[no-untyped-def]
    root: Path = write_package(torch_files())
    return SourceSet([open_source(SourceSpec("torch", str(root)))])


def test_the_walk_reads_its_modules_through_the_cache(write_package, tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    sources = _sources(write_package)
    cache = AnalysisCache(tmp_path / "cache")
    plain = walk_model(open_context(sources, EdgeSet()), MODEL)
    first = walk_model(open_context(sources, EdgeSet(), index=ModuleIndex(
        sources, cache.get, cache.put)), MODEL)
    assert first == plain  # the same analyses, whether parsed or read from the cache
    stored = sum(1 for _ in (tmp_path / "cache" / "analysis").rglob("*") if _.is_file())
    assert stored >= 3  # zoo.net, torch.nn.modules.module, .layers, ...

    def no_parsing(*args: object, **kwargs: object) -> None:
        raise AssertionError(f"parsed again: {args[:2]}")

    monkeypatch.setattr(resolve, "analyze_file", no_parsing)
    again = walk_model(open_context(sources, EdgeSet(), index=ModuleIndex(
        sources, cache.get, cache.put)), MODEL)
    assert again == plain


def test_compiled_templates_are_kept_and_a_changed_template_is_compiled_again(
        tmp_path: Path) -> None:
    override = tmp_path / "templates"
    override.mkdir()
    (override / "x.md.j2").write_text("one {{ n }}\n", encoding="utf-8")
    compiled = tmp_path / "compiled"
    assert make_environment(override, compiled).get_template("x.md.j2").render(n=1) == "one 1\n"
    assert any(p.is_file() for p in compiled.rglob("*"))
    assert make_environment(override, compiled).get_template("x.md.j2").render(n=2) == "one 2\n"
    (override / "x.md.j2").write_text("two {{ n }}\n", encoding="utf-8")
    assert make_environment(override, compiled).get_template("x.md.j2").render(n=3) == "two 3\n"
    shipped = make_environment(None, compiled).get_template("_diagram.md.j2")
    assert shipped.render(key="k", diagram=None) == \
        make_environment().get_template("_diagram.md.j2").render(key="k", diagram=None)


@pytest.mark.skipif(not diagrams.has_dot(), reason="Graphviz is not installed")
def test_a_route_diagram_drawn_once_is_read_back(tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    store = BlobStore(tmp_path / "diagrams")
    dot = 'digraph { a -> b [label="x"] }'
    svg = diagrams.svg_drawer(store)(dot)
    assert svg == diagrams.render_svg(dot)

    def no_dot(text: str) -> str:
        raise AssertionError("drawn again")

    monkeypatch.setattr(diagrams, "render_svg", no_dot)
    assert diagrams.svg_drawer(store)(dot) == svg
    with pytest.raises(AssertionError):
        diagrams.svg_drawer(store)(dot + " ")  # another text is drawn


_GRAPHS = [
    'digraph one { a -> b [label="x"] }',
    'graph two { subgraph cluster_q { label="q"; w -- v } v -- u }',
    'digraph three { rankdir=LR; n [shape=plaintext, label=<<table><tr><td port="p">'
    '&lt;b&gt;</td></tr></table>>, URL="../x.md", id="n1"]; n:p -> m }',
    'digraph four { node [shape=record]; r [label="{R|+ f()\\l}"]; r -> a -> r }',
]


@pytest.mark.skipif(not diagrams.has_dot(), reason="Graphviz is not installed")
def test_graphs_drawn_in_one_dot_run_are_those_drawn_one_by_one(
        monkeypatch: pytest.MonkeyPatch) -> None:
    alone = [diagrams.render_svg(dot) for dot in _GRAPHS]
    assert diagrams.render_svgs(_GRAPHS) == alone
    assert diagrams.render_svgs([*_GRAPHS, *_GRAPHS]) == [*alone, *alone]
    runs: list[str] = []
    real = diagrams.graphviz.pipe

    def counting(engine: str, fmt: str, data: bytes, **kw: object) -> bytes:
        runs.append(engine)
        return real(engine, fmt, data, **kw)  # type: ignore[arg-type]

    monkeypatch.setattr(diagrams.graphviz, "pipe", counting)
    jobs = {f"k{i:02}": [dot] for i, dot in enumerate(_GRAPHS * 3)}
    drawn = diagrams.render_many(jobs, workers=2)
    assert [svg for _, svg in drawn.values()] == [alone[i % 4] for i in range(12)]
    assert len(runs) == 1  # twelve diagrams (four texts), one `dot` process


@pytest.mark.skipif(not diagrams.has_dot(), reason="Graphviz is not installed")
def test_a_broken_graph_in_a_batch_is_drawn_alone_and_named() -> None:
    with pytest.raises(RenderError, match="syntax error"):
        diagrams.render_svgs([_GRAPHS[0], "digraph { a -> }", _GRAPHS[1]])


def test_serve_polls_a_few_files_often_and_many_at_mkdocs_pace(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cli_site, "FAST_POLL_FILES", 5)
    small, big = tmp_path / "small", tmp_path / "big"
    for folder, count in ((small, 3), (big / "sub", 6)):
        folder.mkdir(parents=True)
        for i in range(count):
            (folder / f"f{i}.py").write_text("", encoding="utf-8")
    config = tmp_path / "mkdocs.yml"
    config.write_text("site_name: x\n", encoding="utf-8")
    assert cli_site.poll_interval([config, small]) == cli_site.FAST_POLL_S
    assert cli_site.poll_interval([config, small, big]) == cli_site.SLOW_POLL_S
    assert cli_site.poll_interval([]) == cli_site.FAST_POLL_S


def test_class_pages_rendered_while_the_study_runs_are_those_rendered_after(
        write_package, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """With the study in worker processes, the class pages are rendered while it runs and
    kept, except those that link their layer's Walk page: the pages are those of a build
    that renders everything after the study (jobs=1)."""
    from docgen.core.config import config_from_options
    from docgen.site.build import generate_docs

    root = write_package(torch_files())
    cfg = config_from_options({"model": "zoo.net:Net", "packages": "torch.nn",
                               "sources": {"torch": str(root), "zoo": str(root)},
                               "changes": []})
    after = generate_docs(cfg, jobs=1, cache=AnalysisCache(tmp_path / "one"))
    ahead = generate_docs(cfg, jobs=2, cache=AnalysisCache(tmp_path / "two"))
    assert "class pages" in ahead.timings and "class pages" not in after.timings
    walked = [p for p, text in after.files.items()
              if p.startswith("classes/") and "../walk/" in text]
    assert walked  # some class pages link a Walk page: they were rendered again
    assert ahead.files == after.files


@pytest.mark.skipif(not diagrams.has_dot(), reason="Graphviz is not installed")
def test_deferred_route_diagrams_are_drawn_together_and_read_back(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store = BlobStore(tmp_path / "diagrams")
    draw = diagrams.DeferredDrawer(store)
    pages = {"a.md": f"x {draw(_GRAPHS[0])} y {draw(_GRAPHS[1])}",
             "b.md": f"{draw(_GRAPHS[0])}\n{draw(_GRAPHS[2])}"}
    runs: list[int] = []
    real = diagrams.render_svgs
    monkeypatch.setattr(diagrams, "render_svgs", lambda dots: runs.append(len(dots)) or real(dots))
    filled = draw.fill(pages)
    svg = [diagrams.render_svg(dot) for dot in _GRAPHS[:3]]
    assert filled == {"a.md": f"x {svg[0]} y {svg[1]}", "b.md": f"{svg[0]}\n{svg[2]}"}
    assert runs == [3]  # three texts, one batch
    again = diagrams.DeferredDrawer(store)
    assert again.fill({"a.md": again(_GRAPHS[1])}) == {"a.md": svg[1]}
    assert runs == [3, 0]  # read back from the store
    changed = diagrams.DeferredDrawer(None)
    text = changed(_GRAPHS[0])
    assert changed.fill({"a.md": text.upper()}) is None  # a placeholder did not come through


def test_the_summary_worker_begins_once_the_analysis_is_stored(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """The summary reads the modules the build's analysis stores meanwhile: its worker waits
    for the analysis (rather than parse them a second time); the walk's does not wait."""
    import threading

    from docgen.site import build as site_build

    begun: list[str] = []
    monkeypatch.setattr(site_build, "open_project_sources", lambda cfg: None)
    monkeypatch.setattr(site_build, "study_model",
                        lambda cfg, sources, parts, cache: begun.append(parts[0]))
    analysed = threading.Event()
    monkeypatch.setattr(site_build, "_ANALYSED", analysed)
    waiting = threading.Thread(target=site_build._study_in_worker,
                               args=(None, ("summary", "changes"), None))
    waiting.start()
    site_build._study_in_worker(None, ("walk",), None)  # type: ignore[arg-type]
    waiting.join(0.3)
    assert begun == ["walk"] and waiting.is_alive()
    analysed.set()
    waiting.join(10)
    assert begun == ["walk", "summary", "changes"]
