"""Model -> rich renderables for the terminal (`docgen show`); prints nothing itself."""

from __future__ import annotations

from collections.abc import Iterator

from rich.console import Group, RenderableType
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from docgen.classes.roles import GROUP_ORDER, GROUP_TITLES
from docgen.core.names import short_name as short
from docgen.core.records import ClassDoc, ClassView, Project, ResolvedMethod


def versions_line(project: Project) -> str:
    return ", ".join(f"{d.name} {d.version} ({d.origin})" for d in project.distributions)


def methods_by_group(view: ClassView) -> Iterator[tuple[str, list[ResolvedMethod]]]:
    """Methods in role order; within a role, own methods first, then by name."""
    groups: dict[str, list[ResolvedMethod]] = {}
    for r in view.methods:
        groups.setdefault(r.method.group, []).append(r)
    for group in GROUP_ORDER:
        if group in groups:
            yield group, sorted(groups[group], key=lambda r: (r.is_inherited, r.method.name))


def render_class(project: Project, view: ClassView, *, inherited: bool = True) -> RenderableType:
    classes = {c.qualname: c for c in project.classes()}
    cls = classes[view.qualname]
    parts: list[RenderableType] = [*_header(project, view, cls)]
    members = _members_table(view, inherited)
    if members.row_count:
        parts.append(members)
    parts.extend(_method_tables(view, inherited))
    return Group(*parts)


def _header(project: Project, view: ClassView, cls: ClassDoc) -> list[RenderableType]:
    title = Text(view.qualname, style="bold cyan")
    if view.public_paths:
        title.append(f"  (public: {', '.join(view.public_paths)})", style="dim")
    parts: list[RenderableType] = [
        title, Text(f"{cls.location}   read from {versions_line(project)}", style="dim")]
    if cls.docstring.summary or cls.docstring.is_dynamic:
        parts.append(Text(cls.docstring.summary or "(docstring built at run time)",
                          style="italic"))
    mro = " <- ".join(short(q) for q in view.resolution_order)
    parts.append(Text.assemble(("MRO  ", "bold"), mro))
    if view.mro_error:
        parts.append(Text(f"MRO problem: {view.mro_error}", style="bold red"))
    unresolved = [b.text for b in cls.bases if b.target is None]
    if unresolved:
        parts.append(Text(f"external bases (no source read): {', '.join(unresolved)}",
                          style="yellow"))
    if view.subclasses:
        parts.append(Text.assemble(("Direct subclasses  ", "bold"),
                                   ", ".join(short(s) for s in view.subclasses)))
    return parts


def _origin(defined_in: str, is_inherited: bool) -> str:
    return short(defined_in) + (" (inherited)" if is_inherited else "")


def _members_table(view: ClassView, inherited: bool) -> Table:
    table = Table(title="Members", title_justify="left", expand=False)
    for col in ("name", "kind", "type", "defined in", "where"):
        table.add_column(col, overflow="fold")
    for im in view.members:
        if im.is_inherited and not inherited:
            continue
        mem = im.member
        table.add_row(escape(mem.name), mem.kind.value, escape(mem.type_text or ""),
                      _origin(mem.defined_in, im.is_inherited), str(mem.location))
    return table


def _method_tables(view: ClassView, inherited: bool) -> Iterator[Table]:
    for group, rows in methods_by_group(view):
        table = Table(title=f"Methods: {GROUP_TITLES[group]}", title_justify="left")
        for col in ("signature", "defined in", "overrides", "summary"):
            table.add_column(col, overflow="fold")
        for r in rows:
            if r.is_inherited and not inherited:
                continue
            m = r.method
            sig = m.signature + (f"  = {m.alias_of}" if m.alias_of else "")
            table.add_row(escape(sig), _origin(m.defined_in, r.is_inherited),
                          short(r.overrides) if r.overrides else "", escape(m.summary))
        if table.row_count:
            yield table
