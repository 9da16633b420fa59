"""Escaping of source-derived text for Markdown, HTML and DOT; the only place that knows how.

Every text that came from source code (names, docstrings, defaults, annotations) reaches a
page or a diagram through one of these, usually as a Jinja filter of the same name.
"""

from __future__ import annotations

import functools
import html
import re

from docgen.core.names import short_name

_MD_SPECIAL = re.compile(r"([\\`*_\[\]()#+!])")
_ANCHOR_BAD = re.compile(r"[^a-z0-9_.-]+")


def html_text(text: str) -> str:
    """Text safe inside HTML elements and attributes (quotes included)."""
    return html.escape(text, quote=True)


def md_text(text: str) -> str:
    """Inline Markdown text shown as typed: HTML escaped, Markdown punctuation backslashed.

    `{{`/`{%` never survive as such either, so a page that is later read by a template engine
    (mkdocs-macros and friends) cannot be made to run them.
    """
    return _escape_inline(" ".join(text.split()))


@functools.lru_cache(maxsize=65536)  # pages repeat the same names thousands of times
def _escape_inline(text: str) -> str:
    escaped = _MD_SPECIAL.sub(r"\\\1", html.escape(text, quote=False))
    return escaped.replace("{", "&#123;").replace("}", "&#125;")


def md_code(text: str) -> str:
    """Inline code as a `<code>` element; Markdown still reads inside it, so escape as text."""
    return f"<code>{md_cell(text)}</code>"


def md_cell(text: str) -> str:
    """Text for a Markdown table cell: one line, pipes escaped as well."""
    return md_text(text).replace("|", "&#124;")


def _dot_braces(text: str) -> str:
    # Graphviz reads character entities in strings and labels, so braces drawn in a diagram
    # never appear as `{{` in its DOT source (shown on pages when Graphviz is missing).
    return text.replace("{", "&#123;").replace("}", "&#125;")


def dot_string(text: str) -> str:
    """A double-quoted DOT string (IDs, URLs, plain labels, tooltips)."""
    body = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{_dot_braces(body)}"'


def dot_label(text: str) -> str:
    """Text for inside a DOT HTML-like label (`<...>`): HTML escaped, one line."""
    return _dot_braces(html_text(" ".join(text.split())))


_FENCE = re.compile(r"^\s*(`{3,}|~{3,})")
_TEMPLATE_OPEN = re.compile(r"\{(?=[{%])")


def disarm_templates(page: str) -> str:
    """A generated Markdown page in which no `{{` or `{%` is left anywhere (text, inline HTML,
    SVG drawn by Graphviz, code blocks), so a template engine that reads pages later
    (mkdocs-macros and friends) finds nothing to run. Outside code blocks the brace becomes
    `&#123;` (shown as `{`); inside them, where entities show as typed, a zero-width space
    separates the two characters."""
    if "{{" not in page and "{%" not in page:
        return page
    out, fence = [], ""
    for line in page.splitlines(keepends=True):
        match = _FENCE.match(line)
        if match and (not fence or (match.group(1)[0] == fence[0]
                                    and len(match.group(1)) >= len(fence))):
            fence = "" if fence else match.group(1)
            out.append(line)
        elif fence:
            out.append(_TEMPLATE_OPEN.sub("{\u200b", line))
        else:
            out.append(_TEMPLATE_OPEN.sub("&#123;", line))
    return "".join(out)


def anchor(text: str) -> str:
    """A stable, URL- and id-safe slug: lower case, dots kept (`torch.nn.conv2d`)."""
    slug = _ANCHOR_BAD.sub("-", text.lower()).strip("-")
    return slug or "x"


# The longest source text (docstring summary, signature, annotation) kept for pages: a huge
# one is cut here, with a note saying how long it was, so pages stay a readable size.
MAX_SOURCE_TEXT = 2000


def clip(text: str, limit: int = MAX_SOURCE_TEXT) -> str:
    """`text`, or its first `limit` characters and a note giving the full length."""
    if len(text) <= limit:
        return text
    return f"{text[:limit]} … [truncated by docgen: {len(text):,} characters]"


def shorten(text: str, limit: int) -> str:
    """`text` cut to `limit` characters with an ellipsis (before escaping)."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def md_signature(signature: str) -> str:
    """A signature as inline code with the name in bold (`name(args) -> ret`)."""
    name, paren, rest = signature.partition("(")
    return (f'<code class="docgen-sig"><strong>{md_cell(name)}</strong>'
            f"{md_cell(paren + rest)}</code>")


_DOC_CODE = re.compile(r":[\w:]+:`~?([^`]+)`|``([^`]+)``")


def md_summary(text: str) -> str:
    """A docstring line for a table cell: Sphinx roles (:meth:`~a.b`) and ``x`` become code,
    the rest is escaped text; `~` keeps only the last name, as Sphinx does."""
    text = " ".join(text.split())
    out: list[str] = []
    pos = 0
    for match in _DOC_CODE.finditer(text):
        out.append(_escape_inline(text[pos:match.start()]).replace("|", "&#124;"))
        role_target, literal = match.groups()
        if role_target is not None:
            shown = short_name(role_target) if match.group(0).count("~") else role_target
            out.append(md_code(shown))
        else:
            out.append(md_code(literal))
        pos = match.end()
    out.append(_escape_inline(text[pos:]).replace("|", "&#124;"))
    return "".join(out)
