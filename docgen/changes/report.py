"""A Diff in words: plain text, JSON, a Markdown report, GitHub annotations, the Changes page.

Every format says each change with the same sentence (`describe`), so the terminal, the
PR comment, the annotations and the site agree. Functions return strings; nothing is printed
or written here.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Iterator
from typing import Any

import jinja2

from docgen.changes.diff import Change, ChangeKind, Diff
from docgen.core.jsonio import DIFF_SCHEMA, dumps
from docgen.core.names import short_name
from docgen.core.templating import make_environment

JSON_SCHEMA = DIFF_SCHEMA

_K = ChangeKind


def _short(qualname: str | None) -> str:
    return short_name(qualname or "")


def _heirs(change: Change) -> str:
    n = len(change.inherited_by)
    if not n:
        return ""
    if change.kind in (_K.BASES_CHANGED, _K.MRO_CHANGED, _K.CLASS_MOVED, _K.CLASS_RENAMED,
                       _K.CLASS_REMOVED):
        return f"; {n} subclass{'es' if n > 1 else ''} affected"
    return f"; inherited by {n} subclass{'es' if n > 1 else ''}"


Code = Callable[[str], str]


def _plain(text: str) -> str:
    return text


def _sentence(c: Change, code: Code = _plain, arrow: str = "->") -> str:
    """The change in words; `code` wraps every text that came from source code."""
    name, old, new = code(c.name or ""), code(c.old or ""), code(c.new or "")
    changed = f"{old} {arrow} {new}"
    text: dict[ChangeKind, Callable[[], str]] = {
        _K.CLASS_ADDED: lambda: "class added",
        _K.CLASS_REMOVED: lambda: "class removed",
        _K.CLASS_MOVED: lambda: f"class moved: {changed}",
        _K.CLASS_RENAMED: lambda: f"class renamed: {changed}",
        _K.BASES_CHANGED: lambda: f"bases changed: {changed}",
        _K.MRO_CHANGED: lambda: f"MRO changed: {changed}",
        _K.MEMBER_ADDED: lambda: f"member added: {new}",
        _K.MEMBER_REMOVED: lambda: f"member removed: {old}",
        _K.MEMBER_KIND_CHANGED: lambda: f"member {name} changed kind: {changed}",
        _K.MEMBER_TYPE_CHANGED: lambda: f"member {name} changed type: {changed}",
        _K.MEMBER_VALUE_CHANGED: lambda: f"member {name} changed value: {changed}",
        _K.MEMBER_DEFINED_IN_CHANGED: lambda: _defined_in(c, "member", code),
        _K.METHOD_ADDED: lambda: f"method added: {new}",
        _K.METHOD_REMOVED: lambda: f"method removed: {old}",
        _K.METHOD_SIGNATURE_CHANGED: lambda: f"method {name} changed signature: "
                                             f"{_signature_delta(c, code, arrow)}",
        _K.METHOD_OVERLOADS_CHANGED: lambda: f"method {name} changed overloads: "
                                             f"{_overloads_delta(c, code)}",
        _K.METHOD_KIND_CHANGED: lambda: f"method {name} changed kind: {changed}",
        _K.METHOD_DECORATORS_CHANGED: lambda: f"method {name} changed decorators: "
                                              f"{code(c.old or '(none)')} {arrow} "
                                              f"{code(c.new or '(none)')}",
        _K.METHOD_GROUP_CHANGED: lambda: f"method {name} changed group: {changed}",
        _K.METHOD_NOW_OVERRIDES: lambda: _overrides(c, code),
        _K.METHOD_STOPS_OVERRIDING: lambda: _overrides(c, code),
    }
    return text[c.kind]()


def _defined_in(c: Change, what: str, code: Code) -> str:
    name = code(c.name or "")
    if c.new == c.cls:
        return f"{what} {name} now defined here (was inherited from {code(_short(c.old))})"
    return f"{what} {name} now inherited from {code(_short(c.new))} (was defined here)"


def _overrides(c: Change, code: Code) -> str:
    name = code(c.name or "")

    def ref(cls: str | None) -> str:
        return code(f"{_short(cls)}.{c.name}")

    if c.kind is _K.METHOD_NOW_OVERRIDES and c.new == c.cls:
        return f"method {name} now defined here (was inherited from {code(_short(c.old))})"
    if c.kind is _K.METHOD_STOPS_OVERRIDING and c.old == c.cls:
        return f"method {name} no longer defined here: now inherited from {ref(c.new)}"
    if c.kind is _K.METHOD_STOPS_OVERRIDING:
        return f"method {name} no longer overrides {ref(c.old)}"
    if c.old is None:
        return f"method {name} now overrides {ref(c.new)}"
    return f"method {name} now overrides {ref(c.new)} instead of {ref(c.old)}"


def split_signature(signature: str) -> tuple[list[str], str]:
    """`f(a, b: dict[str, int] = {}) -> X` as (['a', 'b: dict[str, int] = {}'], 'X')."""
    depth, quote, params, current = 0, "", [], ""
    end = len(signature)
    for i in range(signature.find("(") + 1, len(signature)):
        ch = signature[i]
        if quote:
            quote = "" if ch == quote and signature[i - 1] != "\\" else quote
        elif ch in "'\"":
            quote = ch
        elif ch in "([{":
            depth += 1
        elif ch in ")]}" and depth == 0:
            end = i
            break
        elif ch in ")]}":
            depth -= 1
        elif ch == "," and depth == 0:
            params.append(current.strip())
            current = ""
            continue
        current += ch
    if current.strip():
        params.append(current.strip())
    rest = signature[end + 1:].strip()
    return params, rest[2:].strip() if rest.startswith("->") else rest


def _signature_delta(c: Change, code: Code, arrow: str) -> str:
    """`parameter added: read_only: bool = False` rather than two long signatures."""
    (old_params, old_ret), (new_params, new_ret) = (split_signature(c.old or ""),
                                                    split_signature(c.new or ""))
    removed = [p for p in old_params if p not in new_params]
    added = [p for p in new_params if p not in old_params]
    kept_old = [p for p in old_params if p in new_params]
    kept_new = [p for p in new_params if p in old_params]
    if kept_old != kept_new:  # reordered: only the whole signatures say it clearly
        return f"{code(c.old or '')} {arrow} {code(c.new or '')}"
    parts = []
    if removed:
        parts.append(f"parameter{'s' * (len(removed) > 1)} removed: "
                     + ", ".join(code(p) for p in removed))
    if added:
        parts.append(f"parameter{'s' * (len(added) > 1)} added: "
                     + ", ".join(code(p) for p in added))
    if old_ret != new_ret:
        parts.append(f"returns {code(old_ret or '(unannotated)')} {arrow} "
                     f"{code(new_ret or '(unannotated)')}")
    return "; ".join(parts) or f"{code(c.old or '')} {arrow} {code(c.new or '')}"


def _overloads_delta(c: Change, code: Code) -> str:
    old = (c.old or "").split("\n") if c.old else []
    new = (c.new or "").split("\n") if c.new else []
    parts = []
    if added := [o for o in new if o not in old]:
        parts.append("added " + ", ".join(code(o) for o in added))
    if removed := [o for o in old if o not in new]:
        parts.append("removed " + ", ".join(code(o) for o in removed))
    return "; ".join(parts) or "reordered"


def describe(change: Change) -> str:
    """The one sentence every format uses for a change."""
    guess = " (guess)" if change.is_guess else ""
    return _sentence(change) + guess + _heirs(change)


def headline(diff: Diff) -> str:
    n, k = len(diff.changes), len(diff.classes)
    scope = ", ".join(diff.new.packages)
    if not n:
        return f"{diff.old.label} -> {diff.new.label} ({scope}): no changes"
    return (f"{diff.old.label} -> {diff.new.label} ({scope}): {n} change{'s' * (n != 1)} "
            f"in {k} class{'es' * (k != 1)}")


def _groups(diff: Diff) -> Iterator[tuple[str, list[Change]]]:
    current: list[Change] = []
    for change in diff.changes:
        if current and current[0].cls != change.cls:
            yield current[0].cls, current
            current = []
        current.append(change)
    if current:
        yield current[0].cls, current


# ----------------------------------------------------------------------------------------------
# text, JSON


def format_text(diff: Diff) -> str:
    lines = [headline(diff), *(f"note: {n}" for n in diff.notes)]
    for cls, changes in _groups(diff):
        context = "  [outside the selected packages]" if cls in diff.context else ""
        lines.append(f"{cls}{context}")
        lines.extend(f"  {describe(c)}" for c in changes)
    return "\n".join(lines) + "\n"


def change_to_json(c: Change) -> dict[str, Any]:
    return {"kind": c.kind.value, "class": c.cls, "name": c.name, "old": c.old, "new": c.new,
            "location": str(c.location) if c.location else None,
            "inherited_by": list(c.inherited_by), "guess": c.is_guess,
            "message": describe(c)}


def format_json(diff: Diff) -> str:
    return dumps(diff_to_json(diff))


def diff_to_json(diff: Diff) -> dict[str, Any]:
    return {
        "schema": JSON_SCHEMA,
        "old": {"label": diff.old.label, "packages": list(diff.old.packages),
                "model": diff.old.model},
        "new": {"label": diff.new.label, "packages": list(diff.new.packages),
                "model": diff.new.model},
        "notes": list(diff.notes),
        "context": list(diff.context),
        "changes": [change_to_json(c) for c in diff.changes],
    }


# ----------------------------------------------------------------------------------------------
# GitHub workflow annotations


def _escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


def format_github(diff: Diff) -> str:
    """`::warning file=torch/nn/modules/module.py,line=1259,title=...::...`, one per change.

    The file is the source path inside the distribution; GitHub lists annotations whose
    file is not in the repository on the run's summary page.
    """
    lines = []
    for c in diff.changes:
        props = []
        if c.location is not None:
            props += [f"file={_escape_property(c.location.path)}",
                      f"line={c.location.line}"]
        props.append(f"title={_escape_property(f'{c.kind.value} in {c.cls}')}")
        lines.append(f"::warning {','.join(props)}::{_escape_data(f'{c.cls}: {describe(c)}')}")
    lines.append(f"::notice title=docgen diff::{_escape_data(headline(diff))}")
    return "\n".join(lines) + "\n"


# ----------------------------------------------------------------------------------------------
# Markdown (PR comment, Changes page)


def md_code(text: str) -> str:
    """Inline code that survives backticks in source text."""
    text = text.replace("\n", " ")
    fence = "``" if "`" in text else "`"
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def class_link(qualname: str) -> str:
    """Where the site puts a class page, relative to the Changes page."""
    return f"classes/{qualname}.md"


def changes_context(diff: Diff, linkable: Collection[str] | None = None) -> dict[str, Any]:
    """What templates/changes.md.j2 arranges: policy and escaping decided here, once."""
    groups = []
    for cls, changes in _groups(diff):
        has_page = linkable is None or cls in linkable
        groups.append({
            "qualname": cls,
            "title": md_code(cls),
            "link": class_link(cls) if has_page else None,
            "is_context": cls in diff.context,
            "lines": [_md_line(c) for c in changes],
        })
    return {
        "title": f"Changes: {diff.old.label} → {diff.new.label}",
        "old": diff.old.label,
        "new": diff.new.label,
        "packages": ", ".join(md_code(p) for p in diff.new.packages),
        "notes": list(diff.notes),
        "count": len(diff.changes),
        "class_count": len(diff.classes),
        "groups": groups,
    }


def _md_line(c: Change) -> str:
    guess = " *(guess)*" if c.is_guess else ""
    return f"{_sentence(c, md_code, '→')}{guess}{_heirs(c)}"


def render_changes(diff: Diff, env: jinja2.Environment,
                   linkable: Collection[str] | None = None) -> str:
    """The Changes page / PR comment as Markdown, from templates/changes.md.j2.

    `linkable` names the classes that have a page under `classes/`; None links all.
    """
    return env.get_template("changes.md.j2").render(**changes_context(diff, linkable))


def changes_page_path(diff: Diff) -> str:
    """`changes-torch-2.13.0-to-torch-2.14.1.md`: beside `classes/`, so its links work."""
    def slug(label: str) -> str:
        return "-".join(label.replace(",", " ").split())

    return f"changes-{slug(diff.old.label)}-to-{slug(diff.new.label)}.md"


def render_changes_pages(diffs: Iterable[Diff], env: jinja2.Environment,
                         linkable: Collection[str] | None = None) -> dict[str, str]:
    """{relative path: Markdown} for each configured pair of versions."""
    return {changes_page_path(d): render_changes(d, env, linkable) for d in diffs}


def format_markdown(diff: Diff) -> str:
    """The Markdown report for a PR comment, with docgen's shipped template."""
    return render_changes(diff, make_environment(), linkable=())


# ----------------------------------------------------------------------------------------------
# docgen check: one report over several snapshots

CheckResult = tuple[str, Diff, str]  # snapshot path, its drift, the command that accepts it


def format_check_report(results: list[CheckResult], fmt: str) -> str:
    return {"text": _check_text, "json": _check_json, "markdown": _check_markdown,
            "github": _check_github}[fmt](results)


def _check_text(results: list[CheckResult]) -> str:
    out = []
    for path, diff, accept in results:
        if not diff.changes:
            out.append(f"{path}: up to date ({diff.new.label})\n")
            continue
        out.append(f"{path}: the hierarchy drifted from the snapshot\n{format_text(diff)}"
                   f"to accept the change: {accept}\n")
    return "".join(out)


def _check_json(results: list[CheckResult]) -> str:
    return dumps({"schema": JSON_SCHEMA, "snapshots": [
        {"path": path, "drift": bool(diff.changes), "accept": accept,
         "diff": diff_to_json(diff)} for path, diff, accept in results]})


def _check_markdown(results: list[CheckResult]) -> str:
    env = make_environment()
    out = []
    for path, diff, accept in results:
        if not diff.changes:
            out.append(f"`{path}`: up to date ({diff.new.label}).\n")
            continue
        out.append(f"**Snapshot `{path}`**\n\n{render_changes(diff, env, linkable=())}\n"
                   f"Accept the change:\n\n```sh\n{accept}\n```\n")
    return "\n".join(out)


def _check_github(results: list[CheckResult]) -> str:
    out = []
    for path, diff, accept in results:
        if not diff.changes:
            out.append(f"::notice file={_escape_property(path)},title=docgen check::"
                       f"{_escape_data(f'up to date ({diff.new.label})')}\n")
            continue
        out.append(format_github(diff))
        message = f"{headline(diff)}. Accept with: {accept}"
        out.append(f"::error file={_escape_property(path)},title=hierarchy drift::"
                   f"{_escape_data(message)}\n")
    return "".join(out)
