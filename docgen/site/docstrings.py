"""A torch docstring (reStructuredText with Google-style sections) -> Markdown for a page.

torch writes its docstrings for Sphinx: `:attr:`x``, ``` ``literal`` ```, `:math:` roles and
`.. math::` blocks, `Args:` / `Shape:` / `Examples::` sections, `.. note::` directives. Each
becomes what MkDocs renders without Sphinx: code spans, bold section titles with lists,
admonitions, fenced code. Math is converted to MathML here, at build time (latex2mathml), so
the page needs no script and no CDN: browsers render MathML natively.

Every piece of docstring text is escaped (HTML and Markdown punctuation) before it reaches the
page, so a docstring cannot inject markup.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable

from docgen.core.escape import md_code, md_text

# `Args:`, `Shape:`, `Examples::`, ... alone on a line at the docstring's own indentation.
_SECTION = re.compile(
    r"^(Args|Arguments|Parameters|Keyword args|Keyword arguments|Attributes|Shape|Shapes|"
    r"Inputs|Outputs|Returns|Return type|Raises|Variables|Examples?|Notes?|Warnings?|"
    r"See also|Reference|References|Example usage)\s*::?\s*$", re.IGNORECASE)
_ADMONITIONS = {"note": "note", "notes": "note", "warning": "warning", "warnings": "warning",
                "seealso": "info", "see also": "info", "tip": "tip", "important": "warning",
                "deprecated": "warning", "versionadded": "info", "versionchanged": "info"}
_DIRECTIVE = re.compile(r"^\.\.\s+([\w-]+)\s*::\s*(.*)$")  # `.. math ::` too
_LINK_TARGET = re.compile(r"^\.\.\s+_[^:]*:")
_BULLET = re.compile(r"^([*+-]|\d+\.)\s+")
# name (type): text  |  name: text
_ARG = re.compile(r"^(\*{0,2}[\w.]+(?:,\s*\*{0,2}[\w.]+)*)\s*(\(([^)]*)\))?\s*:\s+(.*)$")
_INLINE = re.compile(
    r":math:`([^`]+)`"  # 1 inline math
    r"|:(?:[\w]+:)?(\w+):`~?([^`<]*?)\s*(?:<([^`>]+)>)?`"  # 2 role, 3 text, 4 target
    r"|``(.+?)``"  # 5 literal
    r"|`([^`<]+?)\s*<([^`>]+)>`_{1,2}"  # 6 text, 7 url: an external link
    r"|`([^`]+)`_{1,2}"  # 8 reference to a link target
    r"|`([^`]+)`"  # 9 default role: shown as code
    r"|\*\*([^*]+)\*\*"  # 10 strong
    r"|(?<![\w*])\*([^*\s][^*]*?)\*(?![\w*])"  # 11 emphasis
    r"|(https?://[^\s<>`]+[^\s<>`.,;:)])"  # 12 bare URL
)
_CODE_ROLES = {"attr", "class", "func", "meth", "mod", "obj", "data", "exc", "const", "type"}


# (latex, block) -> MathML: a memo that a build may fill from and save to its cache
# (`mathml_memo`), since converting is most of the time spent on docstrings.
_MATHML: dict[tuple[str, bool], str] = {}


def mathml_memo() -> dict[tuple[str, bool], str]:
    """The conversions made so far in this process (to save, or to update from a cache)."""
    return _MATHML


def memo_key() -> str:
    """What the conversions depend on: latex2mathml's version and this module's code."""
    import hashlib
    from importlib.metadata import version
    from pathlib import Path

    code = Path(__file__).read_bytes()
    return hashlib.sha256(code + version("latex2mathml").encode()).hexdigest()


def latex_to_mathml(latex: str, *, block: bool = False) -> str:
    """LaTeX -> a MathML element that Markdown leaves alone (its punctuation as entities)."""
    key = (latex, block)
    found = _MATHML.get(key)
    if found is None:
        found = _MATHML[key] = _convert(latex, block)
    return found


def _convert(latex: str, block: bool) -> str:
    from latex2mathml.converter import convert

    source = " ".join(latex.replace("\\\\", " \\\\ ").split()) if block else latex.strip()
    try:
        out = convert(source, display="block" if block else "inline")
    except Exception:  # latex2mathml raises many kinds on input it does not know
        return md_code(latex) if not block else f"<pre><code>{html.escape(latex)}</code></pre>"
    out = out.replace(' xmlns="http://www.w3.org/1998/Math/MathML"', "")
    out = out.replace("\\_", "_").replace("\n", " ")
    for ch, ent in (("\\", "&#92;"), ("*", "&#42;"), ("_", "&#95;"), ("`", "&#96;"),
                    ("[", "&#91;"), ("]", "&#93;"), ("|", "&#124;"), ("{", "&#123;"),
                    ("}", "&#125;")):
        out = out.replace(ch, ent)
    return out


def inline(text: str, link: Callable[[str], str | None] | None = None) -> str:
    """One paragraph of docstring text as inline Markdown: roles, literals, math converted,
    everything else escaped. `link(dotted)` gives a URL for a class name, or None."""
    out: list[str] = []
    pos = 0
    for m in _INLINE.finditer(text):
        out.append(_plain(text[pos:m.start()]))
        pos = m.end()
        if m.group(1) is not None:
            out.append(latex_to_mathml(m.group(1)))
        elif m.group(2) is not None:
            role, shown, target = m.group(2), m.group(3).strip(), m.group(4)
            if role == "math":
                out.append(latex_to_mathml(shown))
            elif role in _CODE_ROLES:
                dotted = (target or shown).lstrip("~")
                label = dotted.rsplit(".", 1)[-1] if m.group(0).find("~") >= 0 else (
                    shown or dotted)
                url = link(dotted) if link else None
                out.append(f"[{md_code(label)}]({url})" if url else md_code(label))
            else:  # :ref:, :doc:, :class:`text <target>` ... keep the words
                out.append(md_text(shown or target or ""))
        elif m.group(5) is not None:
            out.append(md_code(m.group(5)))
        elif m.group(6) is not None:
            out.append(f"[{md_text(m.group(6))}]({html.escape(m.group(7), quote=True)})")
        elif m.group(8) is not None:
            out.append(md_text(m.group(8)))
        elif m.group(9) is not None:
            out.append(md_code(m.group(9)))
        elif m.group(10) is not None:
            out.append(f"**{md_text(m.group(10))}**")
        elif m.group(11) is not None:
            out.append(f"*{md_text(m.group(11))}*")
        else:
            url = m.group(12)
            out.append(f"<{html.escape(url, quote=True)}>")
    out.append(_plain(text[pos:]))
    return "".join(out).strip()


def _plain(text: str) -> str:
    """Escaped text that keeps one space where it had space at either end."""
    if not text.strip():
        return " " if text else ""
    lead = " " if text[0].isspace() else ""
    tail = " " if text[-1].isspace() else ""
    return lead + md_text(text) + tail


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" "))


class _Converter:
    """Line-oriented: blocks are found by indentation, as reST does."""

    def __init__(self, link: Callable[[str], str | None] | None) -> None:
        self.link = link

    def convert(self, lines: list[str]) -> list[str]:
        """Markdown lines for reST `lines`: each block goes to the reader of its kind."""
        out: list[str] = []
        i = 0
        while i < len(lines):
            stripped = lines[i].strip()
            if not stripped:
                i += 1
                continue
            base = _indent(lines[i])
            block_end = self._block_end(lines, i + 1, base)
            if _LINK_TARGET.match(stripped):
                i = block_end
                continue
            directive = _DIRECTIVE.match(stripped)
            if directive:
                out += self._directive(directive, _dedent(lines[i + 1:block_end]))
                i = block_end
            elif self._is_section(lines, i, base):
                out += self._section(stripped, _dedent(lines[i + 1:block_end]))
                i = block_end
            elif stripped.startswith(">>>"):
                end = i
                while end < len(lines) and lines[end].strip():
                    end += 1
                out += _fence(_dedent(lines[i:end]), "pycon")
                i = end
            else:
                i = self._paragraph(lines, i, base, out)
        return out

    def _directive(self, directive: re.Match[str], body: list[str]) -> list[str]:
        """`.. math::`, `.. code-block::`, `.. note::` and the like; an unknown directive
        (autosummary, figure, ...) keeps its text."""
        name, arg = directive.group(1).lower(), directive.group(2)
        if name == "math":
            latex = "\n".join(x for x in ([arg, *body]) if x.strip())
            return [_math_block(latex), ""]
        if name in ("code-block", "code", "testcode", "doctest"):
            return _fence(body, arg or "python")
        if name in _ADMONITIONS:
            title = directive.group(1).replace("version", "version ")
            content = ([arg] if arg else []) + body
            return _admonition(_ADMONITIONS[name], title.capitalize(), self.convert(content))
        return self.convert(body)

    @staticmethod
    def _is_section(lines: list[str], i: int, base: int) -> bool:
        """`Args:` and the like: a known title alone on its line, its body below it."""
        stripped = lines[i].strip()
        return bool(_SECTION.match(stripped)) and (
            i + 1 >= len(lines) or not lines[i + 1].strip()
            or _indent(lines[i + 1]) > base or stripped.endswith("::"))

    def _section(self, stripped: str, body: list[str]) -> list[str]:
        """A bold title and its body: arguments as a list, examples as code."""
        header = _SECTION.match(stripped)
        assert header is not None
        title = header.group(1)
        kind = title.lower()
        if kind in _ADMONITIONS:
            return _admonition(_ADMONITIONS[kind], title.capitalize(), self.convert(body))
        out = ["", f"**{md_text(title)}**", ""]
        if kind.startswith("example") or stripped.endswith("::"):
            return out + self._examples(body)
        if kind in ("args", "arguments", "parameters", "keyword args", "keyword arguments",
                    "attributes", "variables", "raises", "inputs", "outputs"):
            return out + self._arguments(body)
        return out + self.convert(body)

    def _paragraph(self, lines: list[str], i: int, base: int, out: list[str]) -> int:
        """A paragraph or list item (lines up to a blank line or a change of structure) and
        the block nested under it, appended to `out`; returns the next line's index."""
        stripped = lines[i].strip()
        bullet = _BULLET.match(stripped)
        end = i + 1
        while end < len(lines) and lines[end].strip() \
                and not (_BULLET.match(lines[end].strip()) and _closed(lines[i:end])) \
                and not _DIRECTIVE.match(lines[end].strip()) \
                and not lines[end - 1].rstrip().endswith("::") \
                and (_indent(lines[end]) > base if bullet else _indent(lines[end]) >= base):
            end += 1
        para = " ".join(x.strip() for x in lines[i:end])
        literal = para.endswith("::")
        if literal:
            para = para[:-3] if para.endswith(" ::") else para[:-1]
        nested_end = self._block_end(lines, end, base)
        nested = _dedent(lines[end:nested_end])
        inner = _fence(nested, "python") if literal else self.convert(nested)
        if bullet:
            marker = "1." if bullet.group(1)[0].isdigit() else "-"
            if out and out[-1] and not _is_list_line(out[-1]):
                out.append("")
            out.append(f"{marker} {inline(para[bullet.end():], self.link)}")
            if inner:
                out += ["", *_quote(inner), ""]
        else:
            if out and out[-1]:
                out.append("")
            out += [inline(para, self.link), ""]
            out += inner
        return max(nested_end, end)

    @staticmethod
    def _block_end(lines: list[str], start: int, base: int) -> int:
        """The end of the block indented deeper than `base` that starts at `start`."""
        end = start
        last = start
        while end < len(lines):
            if lines[end].strip():
                if _indent(lines[end]) <= base:
                    break
                last = end + 1
            end += 1
        return last

    def _examples(self, body: list[str]) -> list[str]:
        if any(x.strip().startswith(">>>") for x in body) or not any(
                x.strip() and not x.startswith(" ") for x in body[1:]):
            return _fence(body, "pycon" if any(x.strip().startswith(">>>") for x in body)
                          else "python")
        return self.convert(body)

    def _arguments(self, body: list[str]) -> list[str]:
        out: list[str] = []
        i = 0
        while i < len(body):
            if not body[i].strip():
                i += 1
                continue
            base = _indent(body[i])
            end = self._block_end(body, i + 1, base)
            head = body[i].strip()
            rest = _dedent(body[i + 1:end])
            m = _ARG.match(head)
            if m:
                name, kind, text = m.group(1), m.group(3), m.group(4)
                first = " ".join([text] + [x.strip() for x in rest if x.strip()]) \
                    if not any(_BULLET.match(x.strip()) or x.strip().startswith(">>>")
                               or _DIRECTIVE.match(x.strip()) for x in rest) else text
                kind_md = f" ({inline(kind, self.link)})" if kind else ""
                out.append(f"- {md_code(name)}{kind_md}: {inline(first, self.link)}")
                if first == text and rest:
                    out += ["    " + x if x else "" for x in self.convert(rest)]
            else:
                sub = self.convert(body[i:end])
                out += ["", *sub]
            i = end
        return [*out, ""]


def _closed(lines: list[str]) -> bool:
    """Whether every inline role or literal opened in `lines` is closed: a line starting
    `+ x` inside an open `:math:` (a formula wrapped over lines) is no bullet."""
    return "".join(lines).count("`") % 2 == 0


def _is_list_line(line: str) -> bool:
    return bool(re.match(r"^(\s*)(-|\d+\.)\s", line)) or line.startswith("    ")


def _dedent(lines: list[str]) -> list[str]:
    widths = [_indent(x) for x in lines if x.strip()]
    cut = min(widths) if widths else 0
    out = [x[cut:] if x.strip() else "" for x in lines]
    while out and not out[-1]:
        out.pop()
    while out and not out[0]:
        out.pop(0)
    return out


def _fence(lines: list[str], lang: str) -> list[str]:
    body = _dedent(lines)
    if not body:
        return []
    ticks = "```"
    while any(ticks in x for x in body):
        ticks += "`"
    lang = re.sub(r"[^\w+-]", "", lang) or "text"
    return ["", f"{ticks}{lang}", *body, ticks, ""]


def _math_block(latex: str) -> str:
    parts = [p for p in re.split(r"\n\s*\n", latex) if p.strip()]
    return "\n\n".join(latex_to_mathml(p, block=True) for p in parts)


def _admonition(kind: str, title: str, body: list[str]) -> list[str]:
    return ["", f'!!! {kind} "{html.escape(title, quote=True)}"', "",
            *["    " + x if x else "" for x in body], ""]


def _quote(body: list[str]) -> list[str]:
    return ["    " + x if x else "" for x in body] if body else []


def docstring_markdown(text: str, link: Callable[[str], str | None] | None = None) -> str:
    """A whole docstring (already dedented) as Markdown."""
    lines = text.expandtabs(4).splitlines()
    out = _Converter(link).convert(lines)
    md = "\n".join(out)
    return re.sub(r"\n{3,}", "\n\n", md).strip() + "\n" if md.strip() else ""


def summary_markdown(text: str) -> str:
    """A docstring's summary line for a page or a table cell: roles, literals and `:math:`
    converted as in the full docstring (MathML, not the LaTeX source), pipes kept in their
    cell."""
    return inline(" ".join(text.split())).replace("|", "&#124;")
