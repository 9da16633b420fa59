"""The page cache (pagecache.py): MkDocs converts only the pages whose inputs changed, and a
site built through the cache is byte for byte the site built without it."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import pytest
import yaml

from docgen.cli.main import main
from docgen.site import pagecache
from tests.sitekit import MODULE_ROOT, PACKAGE, synthetic_options


def _args(root: Path, project: Path, *extra: str) -> list[str]:
    return ["-q", "build", "--project", str(project), "--source", f"pkg={root}",
            "--packages", "pkg", "--model", "pkg.net:Net", "--module-root", MODULE_ROOT, *extra]


def _tree(folder: Path) -> dict[str, str]:
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file() and p.name != ".docgen-output"}


@pytest.fixture
def converted(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The pages MkDocs converted (rather than took from the cache), build after build."""
    seen: list[str] = []
    real = pagecache.convert

    def counting(page: Any, config: Any, files: Any, render: Any) -> pagecache.Converted:
        seen.append(page.file.src_uri)
        return real(page, config, files, render)

    monkeypatch.setattr(pagecache, "convert", counting)
    return seen


def _uncached_site(args: list[str], project: Path, tmp_path: Path,
                   monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """The same build with an empty docgen cache, in a copy of the project."""
    import shutil

    fresh = tmp_path / f"fresh-{len(list(tmp_path.glob('fresh-*')))}"
    shutil.copytree(project, fresh, ignore=shutil.ignore_patterns("site", "generated"))
    with monkeypatch.context() as m:
        m.setenv("DOCGEN_CACHE_DIR", str(fresh / ".cache"))
        fresh_args = [str(fresh) if a == str(project) else a for a in args]
        assert main(fresh_args) == 0
    return _tree(fresh / "site")


def test_only_changed_pages_are_converted_and_none_is_stale(  # type: ignore[no-untyped-def]
        write_package, tmp_path, converted, monkeypatch) -> None:
    root = write_package(PACKAGE)
    project = tmp_path / "proj"
    project.mkdir()
    templates = tmp_path / "templates"
    templates.mkdir()
    args = _args(root, project, "--templates", str(templates))
    assert main(args) == 0
    pages = set(converted)
    assert "classes/pkg.layers.Conv.md" in pages and len(pages) > 5

    # a docstring edited: its page (and the pages quoting it) are converted, not the rest
    converted.clear()
    layers = root / "pkg" / "layers.py"
    layers.write_text(layers.read_text().replace("A convolution.", "A changed convolution."))
    assert main(args) == 0
    assert "classes/pkg.layers.Conv.md" in converted
    assert 0 < len(converted) < len(pages) / 2, converted
    site = project / "site"
    assert "A changed convolution." in (site / "classes" / "pkg.layers.Conv.html").read_text()
    assert _tree(site) == _uncached_site(args, project, tmp_path, monkeypatch)

    # a template edited: every page made from it is converted again
    converted.clear()
    shipped = Path(__file__).resolve().parent.parent / "templates" / "class.md.j2"
    (templates / "class.md.j2").write_text(
        shipped.read_text(encoding="utf-8") + "\nOverridden class template.\n",
        encoding="utf-8")
    assert main(args) == 0
    class_pages = {p for p in pages if p.startswith("classes/") and p != "classes/index.md"}
    assert class_pages <= set(converted)
    assert "Overridden class template." in (site / "classes" / "pkg.layers.Base.html").read_text()
    assert _tree(site) == _uncached_site(args, project, tmp_path, monkeypatch)


def _yml_project(root: Path, folder: Path, extensions: list[Any]) -> Path:
    folder.mkdir()
    (folder / "docs").mkdir()
    (folder / "docs" / "index.md").write_text("# Hand-written\n\n[Model](generated/index.md)\n",
                                              encoding="utf-8")
    config = {"site_name": "t", "use_directory_urls": True,
              "nav": [{"Home": "index.md"}, {"Model": "generated/index.md"}],
              "theme": {"name": "material"},
              "plugins": ["search", {"docgen": synthetic_options(root)}],
              "markdown_extensions": extensions}
    (folder / "mkdocs.yml").write_text(yaml.safe_dump(config), encoding="utf-8")
    return folder


def test_a_changed_mkdocs_yml_converts_every_page(  # type: ignore[no-untyped-def]
        write_package, tmp_path, converted, monkeypatch) -> None:
    root = write_package(PACKAGE)
    extensions: list[Any] = ["admonition", "attr_list", "md_in_html", "tables"]
    project = _yml_project(root, tmp_path / "proj", extensions)
    args = ["-q", "build", "--project", str(project)]
    assert main(args) == 0
    pages = set(converted)
    assert "index.md" in pages and "generated/classes/pkg.layers.Conv.md" in pages
    converted.clear()
    # the same configuration again (another stamp: --strict): nothing is converted
    assert main([*args, "--strict"]) == 0
    assert converted == []
    config = yaml.safe_load((project / "mkdocs.yml").read_text())
    config["markdown_extensions"] = [*extensions, {"toc": {"permalink": "#"}}]
    (project / "mkdocs.yml").write_text(yaml.safe_dump(config), encoding="utf-8")
    assert main(args) == 0
    assert set(converted) == pages
    assert 'class="headerlink"' in (project / "site" / "index.html").read_text()
    assert _tree(project / "site") == _uncached_site(args, project, tmp_path, monkeypatch)


def test_a_kept_page_still_warns_under_strict(  # type: ignore[no-untyped-def]
        write_package, tmp_path, converted) -> None:
    root = write_package(PACKAGE)
    project = _yml_project(root, tmp_path / "proj", ["tables"])
    (project / "docs" / "index.md").write_text("# Home\n\n[gone](missing.md)\n",
                                               encoding="utf-8")
    args = ["-q", "build", "--project", str(project)]
    assert main(args) == 0  # a warning, not an error
    assert "index.md" in converted
    converted.clear()
    assert main([*args, "--strict"]) == 1  # the kept page's warning counts again
    assert "index.md" not in converted


def test_the_helper_converts_pages_the_same_way(  # type: ignore[no-untyped-def]
        write_package, tmp_path, monkeypatch) -> None:
    root = write_package(PACKAGE)
    project = tmp_path / "proj"
    project.mkdir()
    args = _args(root, project)
    used: list[int] = []
    searched: list[int] = []
    real_session = pagecache.session

    def watching(folder):  # type: ignore[no-untyped-def]
        with real_session(folder) as current:
            yield current
            if current is not None:
                used.append(current.from_helper)
                searched.append(current.searched_by_helper)

    import contextlib

    monkeypatch.setattr(pagecache, "HELPER_MIN_PAGES", 2)
    monkeypatch.setattr(pagecache, "session", contextlib.contextmanager(watching))
    assert main(args) == 0
    assert used and used[0] > 0, "the helper converted nothing"
    # the search entries of the pages MkDocs converted were made by the helper meanwhile
    assert searched and searched[0] > 0, "the helper made no search entries"
    monkeypatch.setattr(pagecache, "HELPER_MIN_PAGES", 10 ** 9)
    assert _tree(project / "site") == _uncached_site(args, project, tmp_path, monkeypatch)


# ----------------------------------------------------------------------------------------------
# the study of a model read from a folder: kept across a docstring edit, never across code


def test_code_fingerprint_ignores_docstring_text_only() -> None:
    from docgen.classes.parse import code_fingerprint

    base = b'"""Mod."""\nclass A:\n    """Doc."""\n    def f(self):\n        """F."""\n' \
           b'        return 1\n'
    same = base.replace(b"Doc.", b"A much longer docstring.").replace(b"Mod.", b"M")
    assert code_fingerprint(base, "m.py") == code_fingerprint(same, "m.py") is not None
    changed = [base.replace(b"return 1", b"return 2"),  # code
               base.replace(b'"""Doc."""', b'"""Doc.\n\n    More."""'),  # moves what follows
               base.replace(b"return 1", b"return f.__doc__"),  # reads docstrings
               base.replace(b"class A:", b"class A(")]  # does not parse
    for text in changed:
        assert code_fingerprint(text, "m.py") != code_fingerprint(base, "m.py")


def test_the_study_is_kept_across_a_docstring_edit_of_the_model(  # type: ignore[no-untyped-def]
        write_package, tmp_path, monkeypatch) -> None:
    from docgen.site import build as build_module

    root = write_package(PACKAGE)
    project = tmp_path / "proj"
    project.mkdir()
    args = _args(root, project, "--no-mkdocs")
    calls: list[int] = []
    real = build_module.study_model

    def counting(*a, **k):  # type: ignore[no-untyped-def]
        calls.append(1)
        return real(*a, **k)

    monkeypatch.setattr(build_module, "study_model", counting)
    assert main(args) == 0
    assert len(calls) == 1
    net = root / "pkg" / "net.py"
    text = net.read_text()
    assert '"""' in text
    first_doc = text.index('"""')
    edited = text[:first_doc + 3] + "Edited. " + text[first_doc + 3:]
    net.write_text(edited)
    assert main(args) == 0
    assert len(calls) == 1, "a docstring edit re-ran the study"
    net.write_text(edited + "\nEXTRA = 1\n")  # code: the study runs again
    assert main(args) == 0
    assert len(calls) == 2
