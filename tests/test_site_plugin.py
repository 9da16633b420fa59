"""`mkdocs build` with docgen as a plugin (entry point registered for the test)."""

from __future__ import annotations

from importlib.metadata import EntryPoint

import pytest
import yaml

from docgen.site.plugin import DocgenPlugin
from tests.sitekit import PACKAGE, synthetic_options


@pytest.fixture
def plugin_registered(monkeypatch):  # type: ignore[no-untyped-def]
    from mkdocs.config.defaults import MkDocsConfig

    entry = EntryPoint(name="docgen", value="docgen.site.plugin:DocgenPlugin",
                       group="mkdocs.plugins")
    # The schema's Plugins option lists the installed entry points when mkdocs is imported.
    installed = MkDocsConfig.plugins.installed_plugins  # type: ignore[attr-defined]
    monkeypatch.setitem(installed, "docgen", entry)


def test_mkdocs_build_generates_the_pages(write_package, tmp_path, plugin_registered) -> None:  # type: ignore[no-untyped-def]
    from mkdocs.commands.build import build
    from mkdocs.config import load_config

    root = write_package(PACKAGE)
    project = tmp_path / "proj"
    (project / "docs").mkdir(parents=True)
    (project / "docs" / "index.md").write_text("# Notes\n\n[model](generated/index.md)\n")
    (project / "mkdocs.yml").write_text(yaml.safe_dump({
        "site_name": "t", "use_directory_urls": False,
        "plugins": [{"docgen": synthetic_options(root)}],
        "markdown_extensions": ["admonition", "md_in_html", "tables"]}))
    config = load_config(config_file=str(project / "mkdocs.yml"), strict=True)
    assert isinstance(config.plugins["docgen"], DocgenPlugin)
    build(config)
    site = project / "site"
    assert (site / "generated" / "classes" / "pkg.layers.Conv.html").is_file()
    home = (site / "generated" / "index.html").read_text(encoding="utf-8")
    assert 'xlink:href="classes/pkg.layers.Conv.html"' in home
    conv = (site / "generated" / "classes" / "pkg.layers.Conv.html").read_text(encoding="utf-8")
    assert "docgen-fragment" not in conv and "<summary>Inherited methods (" in conv
    assert not (project / "docs" / "generated").exists()  # nothing written into docs/


def test_bad_plugin_options_are_reported(write_package, tmp_path, plugin_registered) -> None:  # type: ignore[no-untyped-def]
    from mkdocs.config import load_config
    from mkdocs.exceptions import PluginError

    project = tmp_path / "proj"
    (project / "docs").mkdir(parents=True)
    (project / "mkdocs.yml").write_text(yaml.safe_dump({
        "site_name": "t", "plugins": [{"docgen": {"model": "no colon", "pages": "some"}}]}))
    config = load_config(config_file=str(project / "mkdocs.yml"))
    with pytest.raises(PluginError, match="pages must be") as error:
        config.plugins["docgen"].on_config(config)
    assert "model must look like" in str(error.value)  # every problem, at once


def test_plugin_accepts_every_docgen_option() -> None:
    from docgen.core.config import _OPTION_TYPES
    from docgen.site.plugin import PLUGIN_OPTIONS, DocgenPluginConfig

    assert set(_OPTION_TYPES) - {"strict"} == set(PLUGIN_OPTIONS)
    assert all(hasattr(DocgenPluginConfig, name) for name in PLUGIN_OPTIONS)


def test_the_plugin_turns_a_web_font_off(write_package, tmp_path, plugin_registered) -> None:  # type: ignore[no-untyped-def]
    from mkdocs.commands.build import build
    from mkdocs.config import load_config

    root = write_package(PACKAGE)
    project = tmp_path / "proj"
    (project / "docs").mkdir(parents=True)
    (project / "docs" / "index.md").write_text("# Notes\n")
    (project / "mkdocs.yml").write_text(yaml.safe_dump({
        "site_name": "t", "use_directory_urls": False,
        "theme": {"name": "material", "font": {"text": "Lato", "code": "Fira Code"}},
        "plugins": [{"docgen": synthetic_options(root)}],
        "markdown_extensions": ["admonition", "md_in_html", "tables"]}))
    config = load_config(config_file=str(project / "mkdocs.yml"), strict=True)
    build(config)
    pages = list((project / "site").rglob("*.html"))
    assert len(pages) > 5
    assert not [p for p in pages if "fonts.googleapis" in p.read_text(encoding="utf-8")]
