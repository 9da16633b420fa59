"""The MkDocs plugin: `mkdocs build` / `mkdocs serve` generate docgen's pages on the fly.

Configured in mkdocs.yml (`plugins: [docgen: {model: ..., packages: ...}]`), the plugin runs
the same generation as `docgen build` and hands the pages to MkDocs as generated files under
the `output` folder, so nothing is written into docs/ and `mkdocs serve` does not loop.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from mkdocs.config import config_options as opt
from mkdocs.config.base import Config as MkConfig
from mkdocs.config.defaults import MkDocsConfig
from mkdocs.exceptions import PluginError
from mkdocs.plugins import BasePlugin, event_priority
from mkdocs.structure.files import File, Files

from docgen.classes.cache import AnalysisCache
from docgen.core.config import Config, config_from_options
from docgen.core.errors import DocgenError
from docgen.core.templating import shipped_templates
from docgen.site.build import GeneratedDocs, generate_docs
from docgen.site.fragments import inject, is_fragment
from docgen.site.pages import SiteLayout
from docgen.site.search import rank_class_pages
from docgen.site.write import offline_theme
from docgen.sources.locate import cache_dir

log = logging.getLogger("mkdocs.plugins.docgen")

# docgen options the plugin passes on to config_from_options (the others are its own).
PLUGIN_OPTIONS = ("model", "models", "packages", "sources", "offline", "pages", "show_inherited",
                  "output", "site_dir", "module_root", "summary", "walk", "pytorch_src",
                  "changes")


class DocgenPluginConfig(MkConfig):
    model = opt.Optional(opt.Type(str))
    models = opt.Optional(opt.Type(list))
    packages = opt.Optional(opt.Type((str, list)))
    sources = opt.Optional(opt.Type((dict, list)))
    offline = opt.Optional(opt.Type(bool))
    pages = opt.Optional(opt.Type(str))
    show_inherited = opt.Optional(opt.Type(bool))
    output = opt.Optional(opt.Type(str))
    site_dir = opt.Optional(opt.Type(str))
    templates = opt.Optional(opt.Type(str))
    module_root = opt.Optional(opt.Type(str))
    summary = opt.Optional(opt.Type(bool))
    walk = opt.Optional(opt.Type(bool))
    pytorch_src = opt.Optional(opt.Type(str))
    changes = opt.Optional(opt.Type(list))
    cache = opt.Type(bool, default=True)


class DocgenPlugin(BasePlugin[DocgenPluginConfig]):
    """Generates docgen's pages as MkDocs files (see the module docstring)."""

    def __init__(self) -> None:
        self.docgen: Config | None = None
        self.output_rel = "generated"
        self.generated: GeneratedDocs | None = None

    def docgen_options(self) -> dict[str, Any]:
        keys = PLUGIN_OPTIONS
        return {k: self.config[k] for k in keys if self.config[k] is not None}

    def on_config(self, config: MkDocsConfig) -> MkDocsConfig:
        try:
            self.docgen = config_from_options(self.docgen_options())
        except DocgenError as exc:
            raise PluginError(f"docgen: {exc}") from exc
        root = Path(config.config_file_path or ".").resolve().parent
        output = (root / self.docgen.output).resolve()
        docs_dir = Path(config.docs_dir).resolve()
        if not output.is_relative_to(docs_dir):
            raise PluginError(f"docgen: output {self.docgen.output!r} must be inside docs_dir "
                              f"{config.docs_dir!r}")
        self.output_rel = output.relative_to(docs_dir).as_posix()
        css = self._path(SiteLayout.CSS)
        if css not in config.extra_css:
            config.extra_css.append(css)
        js = self._path(SiteLayout.JS)
        if js not in [str(x) for x in config.extra_javascript]:
            config.extra_javascript.append(js)
        theme = {"name": config.theme.name, "font": config.theme.get("font")}
        if offline_theme(theme)[1] is not None:
            config.theme["font"] = False
            log.info("%s", offline_theme(theme)[1])
        return config

    def _path(self, rel: str) -> str:
        return rel if self.output_rel in ("", ".") else f"{self.output_rel}/{rel}"

    def on_files(self, files: Files, *, config: MkDocsConfig) -> Files:
        assert self.docgen is not None
        cache = AnalysisCache(cache_dir()) if self.config.cache else None
        templates = Path(self.config.templates).resolve() if self.config.templates else None
        try:
            self.generated = generate_docs(self.docgen, cache=cache,
                                           directory_urls=config.use_directory_urls,
                                           templates=templates)
        except DocgenError as exc:
            raise PluginError(f"docgen: {exc}") from exc
        for d in self.generated.diagnostics:
            log.warning("%s", d)
        for rel in sorted(self.generated.files):
            if is_fragment(rel):  # read by on_post_page, not published
                continue
            uri = self._path(rel)
            stale = files.get_file_from_path(uri)
            if stale is not None:  # a copy left on disk by an earlier `docgen build`
                files.remove(stale)
            files.append(File.generated(config, uri, content=self.generated.files[rel]))
        return files

    def on_post_page(self, output: str, *, page: Any, config: MkDocsConfig) -> str:
        """Fragments (fragments.py) put into the HTML, from the pages generated in memory."""
        generated = self.generated
        if generated is None:
            return output
        prefix = "" if self.output_rel in ("", ".") else f"{self.output_rel}/"

        def read(path: str) -> str | None:
            return generated.files.get(path[len(prefix):]) if path.startswith(prefix) else None

        return inject(output, page.file.src_uri, read)

    @event_priority(50)  # before the search plugin writes its index (priority 0)
    def on_post_build(self, *, config: MkDocsConfig) -> None:
        """Class pages first when their name is searched for (search.py)."""
        rank_class_pages(config)

    def on_serve(self, server: Any, *, config: MkDocsConfig, builder: Any) -> Any:
        shipped = shipped_templates()
        for path in (shipped if isinstance(shipped, Path) else None,
                     Path(self.config.templates) if self.config.templates else None):
            if path is not None and path.is_dir():
                server.watch(str(path))
        for spec in self.docgen.sources if self.docgen else ():
            if Path(spec.spec).is_dir():
                server.watch(spec.spec)
        return server
