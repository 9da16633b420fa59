"""`docgen build` end to end on a synthetic package: CLI exit codes, mkdocs --strict, swaps."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
import yaml

from docgen.cli.main import main
from docgen.site import diagrams
from tests.sitekit import MODULE_ROOT, PACKAGE, synthetic_options


def _args(root: Path, project: Path, *extra: str) -> list[str]:
    return ["-q", "build", "--project", str(project), "--source", f"pkg={root}",
            "--packages", "pkg", "--model", "pkg.net:Net", "--module-root", MODULE_ROOT, *extra]


def _tree_digest(folder: Path) -> dict[str, str]:
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def test_build_without_mkdocs_yml_uses_the_builtin_site(write_package, tmp_path) -> None:  # type: ignore[no-untyped-def]
    root = write_package(PACKAGE)
    project = tmp_path / "proj"
    project.mkdir()
    assert main(_args(root, project, "--strict")) == 0
    site = project / "site"
    assert (site / "index.html").is_file()
    assert (site / "classes" / "pkg.layers.Conv.html").is_file()
    assert (site / "search" / "search_index.json").is_file()
    page = (site / "classes" / "pkg.layers.Evil.html").read_text(encoding="utf-8")
    assert "<script>alert" not in page and "&lt;script&gt;alert(1)" in page
    assert "<img src=x" not in page


def test_two_builds_write_byte_identical_docs(write_package, tmp_path) -> None:  # type: ignore[no-untyped-def]
    root = write_package(PACKAGE)
    project = tmp_path / "proj"
    project.mkdir()
    assert main(_args(root, project, "--no-mkdocs")) == 0
    first = _tree_digest(project / "docs" / "generated")
    assert main(_args(root, project, "--no-mkdocs")) == 0
    assert _tree_digest(project / "docs" / "generated") == first
    assert "index.md" in first


def _project_with_mkdocs_yml(root: Path, folder: Path, nav_extra: str | None = None) -> Path:
    folder.mkdir()
    (folder / "docs").mkdir()
    (folder / "docs" / "index.md").write_text("# Hand-written\n\n[Model](generated/index.md)\n",
                                              encoding="utf-8")
    nav: list[object] = [{"Home": "index.md"}, {"Model": "generated/index.md"}]
    if nav_extra:
        nav.append({"Broken": nav_extra})
    config = {"site_name": "t", "use_directory_urls": True, "nav": nav,
              "theme": {"name": "material"},
              "plugins": ["search", {"docgen": synthetic_options(root)}],
              "markdown_extensions": ["admonition", "attr_list", "md_in_html", "tables"]}
    (folder / "mkdocs.yml").write_text(yaml.safe_dump(config), encoding="utf-8")
    return folder


def test_build_reads_the_plugin_block_of_mkdocs_yml(write_package, tmp_path) -> None:  # type: ignore[no-untyped-def]
    root = write_package(PACKAGE)
    project = _project_with_mkdocs_yml(root, tmp_path / "proj")
    assert main(["-q", "build", "--project", str(project), "--strict"]) == 0
    site = project / "site"
    assert (site / "generated" / "classes" / "pkg.layers.Conv" / "index.html").is_file()
    home = (site / "generated" / "index.html").read_text(encoding="utf-8")
    assert 'xlink:href="classes/pkg.layers.Conv/"' in home  # directory URLs respected
    conv = (site / "generated" / "classes" / "pkg.layers.Conv" / "index.html").read_text(
        encoding="utf-8")
    assert "docgen-fragment" not in conv and "<summary>Inherited methods (" in conv
    assert not (site / "generated" / "_fragments").exists()  # put into pages, not published
    assert '<a href="../pkg.layers.Base/"><code>Base</code></a>' in conv
    assert 'href="assets/docgen.css"' in home and (site / "generated/assets/docgen.css").is_file()


def test_failed_site_build_keeps_the_previous_site(write_package, tmp_path) -> None:  # type: ignore[no-untyped-def]
    root = write_package(PACKAGE)
    project = _project_with_mkdocs_yml(root, tmp_path / "proj")
    assert main(["-q", "build", "--project", str(project)]) == 0
    before = _tree_digest(project / "site")
    broken = _project_with_mkdocs_yml(root, tmp_path / "broken", nav_extra="missing.md")
    (project / "mkdocs.yml").write_text((broken / "mkdocs.yml").read_text(), encoding="utf-8")
    assert main(["-q", "build", "--project", str(project), "--strict"]) == 1
    assert _tree_digest(project / "site") == before
    leftovers = [p.name for p in project.iterdir() if p.name.startswith(".site")]
    assert leftovers == []


def test_missing_graphviz_keeps_pages_with_dot_source(write_package, tmp_path,  # type: ignore[no-untyped-def]
                                                     monkeypatch, capsys) -> None:
    monkeypatch.setattr(diagrams.shutil, "which", lambda _name: None)
    root = write_package(PACKAGE)
    project = tmp_path / "proj"
    project.mkdir()
    assert main(_args(root, project)[1:]) == 0  # not quiet: the warning is logged
    home = (project / "docs" / "generated" / "index.md").read_text(encoding="utf-8")
    assert "```dot" in home and "apt-get install graphviz" in home
    assert capsys.readouterr().err.count("apt-get install graphviz") == 1
    assert (project / "site" / "index.html").is_file()
    assert main(_args(root, project, "--strict")) == 1


def test_usage_and_config_errors_exit_2(write_package, tmp_path) -> None:  # type: ignore[no-untyped-def]
    root = write_package(PACKAGE)
    assert main(["build", "--pages", "nope"]) == 2
    project = tmp_path / "proj"
    project.mkdir()
    assert main(_args(root, project, "--model", "pkg.net:Missing")) == 2
    (project / "mkdocs.yml").write_text(yaml.safe_dump(
        {"site_name": "t", "plugins": [{"docgen": {"colour": "red"}}]}), encoding="utf-8")
    assert main(["-q", "build", "--project", str(project)]) == 2


@pytest.mark.parametrize("flags", [["--output", "docs"], ["--output", "."], ["--site-dir", "."],
                                   ["--output", "site/x"]])
def test_folders_that_would_swallow_the_project_are_refused(write_package, tmp_path,  # type: ignore[no-untyped-def]
                                                            flags: list[str]) -> None:
    root = write_package(PACKAGE)
    project = _project_with_mkdocs_yml(root, tmp_path / "proj")
    flags = [f if not f.startswith(".") else str(project) for f in flags]
    if flags[0] == "--site-dir":
        flags[1] = str(project)
    before = sorted(p.name for p in project.rglob("*"))
    assert main(["-q", "build", "--project", str(project), *flags]) == 2
    assert sorted(p.name for p in project.rglob("*")) == before


def test_site_dir_flag(write_package, tmp_path) -> None:  # type: ignore[no-untyped-def]
    root = write_package(PACKAGE)
    project = tmp_path / "proj"
    project.mkdir()
    assert main(_args(root, project, "--site-dir", str(tmp_path / "elsewhere"))) == 0
    assert (tmp_path / "elsewhere" / "index.html").is_file()
    assert not (project / "site").exists()


@pytest.mark.parametrize("fmt", ["plantuml", "mermaid", "dot"])
def test_export_formats(write_package, tmp_path, fmt: str) -> None:  # type: ignore[no-untyped-def]
    root = write_package(PACKAGE)
    out = tmp_path / f"out.{fmt}"
    assert main(["-q", "export", "--format", fmt, "--out", str(out), "--source", f"pkg={root}",
                 "--packages", "pkg", "--model", "pkg.net:Net", "--module-root", MODULE_ROOT]) == 0
    text = out.read_text(encoding="utf-8")
    for name in ("Net", "Conv", "_ConvNd", "Base", "Sequential", "Evil"):
        assert name in text
    if fmt == "plantuml":
        assert text.startswith("@startuml") and "C_pkg_layers__ConvNd <|-- C_pkg_layers_Conv" \
            in text
        assert "{{" not in text
    elif fmt == "mermaid":
        assert text.startswith("classDiagram")
        assert "C_pkg_layers_Base <|-- C_pkg_layers__ConvNd" in text
        assert "dict~str, Any~ _parameters" in text
    else:
        assert '"pkg.layers.Conv" -> "pkg.layers._ConvNd"' in text
        assert "&lt;lambda&gt;" in text


def test_mkdocs_runs_only_when_its_inputs_changed(write_package, tmp_path) -> None:  # type: ignore[no-untyped-def]
    root = write_package(PACKAGE)
    project = tmp_path / "proj"
    project.mkdir()
    assert main(_args(root, project)) == 0
    site = project / "site"
    first = site.stat().st_ino
    assert main(_args(root, project)) == 0
    assert site.stat().st_ino == first  # up to date: the site folder was not replaced
    layers = root / "pkg" / "layers.py"
    layers.write_text(layers.read_text().replace("A convolution.", "A changed convolution."))
    assert main(_args(root, project)) == 0
    assert site.stat().st_ino != first
    page = (site / "classes" / "pkg.layers.Conv.html").read_text(encoding="utf-8")
    assert "A changed convolution." in page
    rebuilt = site.stat().st_ino
    assert main(_args(root, project, "--strict")) == 0  # another option is another input
    assert site.stat().st_ino != rebuilt


def test_a_build_with_the_inputs_of_the_last_one_renders_nothing(  # type: ignore[no-untyped-def]
        write_package, tmp_path, monkeypatch, caplog) -> None:
    from docgen.site import build as build_module

    root = write_package(PACKAGE)
    project = tmp_path / "proj"
    project.mkdir()
    templates = tmp_path / "templates"
    templates.mkdir()
    args = _args(root, project, "--templates", str(templates))
    assert main(args) == 0
    site, generated = project / "site", project / "docs" / "generated"
    first = (site.stat().st_ino, generated.stat().st_ino)
    real = build_module.generate_docs
    calls: list[int] = []

    def counting(*a, **k):  # type: ignore[no-untyped-def]
        calls.append(1)
        return real(*a, **k)

    monkeypatch.setattr(build_module, "generate_docs", counting)
    assert main(args) == 0
    assert calls == [] and (site.stat().st_ino, generated.stat().st_ino) == first
    # each kind of input, changed, makes the next build run again
    changes = [
        lambda: (templates / "class.md.j2").write_text("# {{ cls.name }} overridden\n"),
        lambda: (root / "pkg" / "net.py").write_text(
            (root / "pkg" / "net.py").read_text() + "\n# touched\n"),
        lambda: (site / "index.html").unlink(),
        lambda: (generated / "index.md").write_text("edited by hand\n"),
    ]
    for n, change in enumerate(changes, start=1):
        change()
        assert main(args) == 0
        assert len(calls) == n, f"change {n} was not seen"
        assert main(args) == 0
        assert len(calls) == n, f"after change {n} the next build was not up to date"
    assert "overridden" in (site / "classes" / "pkg.layers.Conv.html").read_text()
    assert "edited by hand" not in (generated / "index.md").read_text()


def test_an_up_to_date_build_still_reports_its_warnings(  # type: ignore[no-untyped-def]
        write_package, tmp_path, caplog) -> None:
    root = write_package({**PACKAGE, "pkg/broken.py": "def f(:\n"})
    project = tmp_path / "proj"
    project.mkdir()
    args = _args(root, project, "--strict")[1:]  # not quiet: the warnings are logged
    assert main(args) == 1
    first = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert any("broken.py:1" in m for m in first)
    caplog.clear()
    assert main(args) == 1
    again = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert again == first
    assert any("up to date" in r.getMessage() for r in caplog.records)


@pytest.mark.parametrize("theme", [{"name": "material", "font": {"text": "Roboto"}},
                                   {"name": "material"}, "material"])
def test_a_user_config_with_a_web_font_still_requests_nothing_outside(  # type: ignore[no-untyped-def]
        write_package, tmp_path, caplog, theme) -> None:
    import logging

    root = write_package(PACKAGE)
    project = _project_with_mkdocs_yml(root, tmp_path / "proj")
    config = yaml.safe_load((project / "mkdocs.yml").read_text())
    config["theme"] = theme
    (project / "mkdocs.yml").write_text(yaml.safe_dump(config), encoding="utf-8")
    with caplog.at_level(logging.INFO):
        assert main(["build", "--project", str(project), "--strict"]) == 0
    notes = [r.getMessage() for r in caplog.records if "Google Fonts" in r.getMessage()]
    assert len(notes) == 1 and "font: false" in notes[0]
    pages = list((project / "site").rglob("*.html"))
    assert len(pages) > 5
    for page in pages:
        text = page.read_text(encoding="utf-8")
        assert "fonts.googleapis" not in text and "fonts.gstatic" not in text, page
    assert yaml.safe_load((project / "mkdocs.yml").read_text())["theme"] == theme  # untouched
