"""MkDocs hooks `docgen build` adds to the configuration it runs MkDocs with (its own plugin is
left out there, the pages being generated already): fragments read from the docs folder, and
each page's Markdown conversion through the page cache (pagecache.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from mkdocs.plugins import event_priority

from docgen.site import pagecache
from docgen.site.fragments import inject, is_fragment
from docgen.site.search import rank_class_pages


def on_files(files: Any, *, config: Any) -> Any:
    """Fragments are read from the docs folder, never published as pages of their own."""
    for file in list(files):
        if is_fragment(file.src_uri):
            files.remove(file)
    return files


def on_nav(nav: Any, *, config: Any, files: Any) -> Any:
    """The page cache's session learns the site's files (and may start its helper)."""
    pagecache.on_nav(config, files)
    return nav


def on_pre_page(page: Any, *, config: Any, files: Any) -> Any:
    """Each page converts through the page cache (when `docgen build` set one up)."""
    pagecache.wrap(page)
    return page


def on_env(env: Any, *, config: Any, files: Any) -> Any:
    """The theme's compiled templates kept by the page cache's session."""
    pagecache.on_env(env)
    return env


def on_post_page(output: str, *, page: Any, config: Any) -> str:
    docs = Path(config["docs_dir"])

    def read(path: str) -> str | None:
        file = docs / path
        return file.read_text(encoding="utf-8") if file.is_file() else None

    return inject(output, page.file.src_uri, read)


@event_priority(50)  # before the search plugin writes its index (priority 0)
def on_post_build(*, config: Any) -> None:
    """Class pages first when their name is searched for (search.py)."""
    rank_class_pages(config)
