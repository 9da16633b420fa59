"""Parts of a generated page kept out of its Markdown and put into the final HTML.

The folded tables of inherited members and methods are most of a class page's markup (tens of
thousands of tags across the site) but need no Markdown: they are written as HTML files under
`_fragments/`, the page holds a placeholder, and the placeholder is replaced in the HTML MkDocs
writes (`on_post_page`). MkDocs' Markdown, its link rewriting and the search index never parse
them, which is where a build spent its time, and they stay out of search as they should.

Both ways of running MkDocs use it: `docgen build` adds `mkdocs_hooks.py` (reading fragments
from the docs folder), the MkDocs plugin reads them from the pages it generated in memory.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Callable

FRAGMENT_DIR = "_fragments"
_PLACEHOLDER = re.compile(
    r'<div class="docgen-fragment" data-fragment="([\w.+-]+(?:/[\w.+-]+)*\.html)"></div>')


def is_fragment(path: str) -> bool:
    """Whether a docs file (relative path) is a fragment, not a page or an asset."""
    return f"/{FRAGMENT_DIR}/" in f"/{path}" and path.endswith(".html")


def fragment_path(page: str, name: str) -> str:
    """Where the fragment `name` of `page` lives (both relative to the generated folder)."""
    return f"{FRAGMENT_DIR}/{page[:-3]}.{name}.html"


def placeholder(page: str, fragment: str) -> str:
    """The block a page holds in place of `fragment` (a path relative to the page)."""
    rel = posixpath.relpath(fragment, posixpath.dirname(page) or ".")
    return f'<div class="docgen-fragment" data-fragment="{rel}"></div>'


def inject(html: str, page_src: str, read: Callable[[str], str | None]) -> str:
    """Each placeholder of the page whose source is `page_src` replaced by its fragment.

    `read(path)` gets the fragment at `path` (relative to the docs folder, normalised, never
    above it), or None: the placeholder then stays, an empty block."""
    if "docgen-fragment" not in html:
        return html
    base = posixpath.dirname(page_src)

    def replace(match: re.Match[str]) -> str:
        path = posixpath.normpath(posixpath.join(base, match.group(1)))
        if path.startswith("../") or path == "..":
            return match.group(0)
        text = read(path)
        return text if text is not None else match.group(0)

    return _PLACEHOLDER.sub(replace, html)
