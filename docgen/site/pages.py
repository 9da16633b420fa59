"""Model -> Markdown pages as `{relative_path: text}`; no disk writes.

Where each page lives and how pages link to each other is decided here (`SiteLayout`), so
Markdown links, diagram node URLs and the navigation always agree. Policy (which rows, in
which order, grouped how) is computed in Python; the templates only arrange it.
"""

from __future__ import annotations

import functools
import posixpath
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import jinja2

from docgen.classes.families import MODULE_ROOT, Family
from docgen.classes.roles import GROUP_ORDER, GROUP_TITLES, STATE_TITLES, state_group_of
from docgen.core.escape import (
    html_text,
    md_code,
    shorten,
)
from docgen.core.names import short_name as short
from docgen.core.records import (
    ClassDoc,
    ClassView,
    LayerDoc,
    Location,
    MemberDoc,
    MemberKind,
    ModelDoc,
    Project,
)
from docgen.core.templating import read_shipped_asset

# A class page lists at most this many ancestors, subclasses and inheriting-from lines; the
# rest is counted in a note, so a page stays small whatever the depth or breadth of a tree.
MAX_LISTED = 100
# The class index shows each summary up to this many characters (the class page has it all).
INDEX_SUMMARY = 300

# Upstream source browsers for the distributions docgen reads, by distribution name.
SOURCE_URLS: dict[str, str] = {
    "torch": "https://github.com/pytorch/pytorch/blob/v{version}/{path}#L{line}",
    "torchvision": "https://github.com/pytorch/vision/blob/v{version}/{path}#L{line}",
}


# ----------------------------------------------------------------------------------------------
# layout: where pages live and how they link


@dataclass(frozen=True)
class SiteLayout:
    """Page paths (relative to the generated folder) and links between them."""

    class_pages: frozenset[str]
    directory_urls: bool = False

    HOME = "index.md"
    HIERARCHY = "hierarchy/index.md"
    CLASSES = "classes/index.md"
    ANATOMY = "module-anatomy.md"
    CSS = "assets/docgen.css"

    def class_page(self, qualname: str) -> str | None:
        return f"classes/{qualname}.md" if qualname in self.class_pages else None

    @staticmethod
    def family_page(slug: str) -> str:
        return f"hierarchy/{slug}.md"

    @staticmethod
    def md_link(page: str, target: str) -> str:
        """A Markdown link target from `page` to `target` (both .md; MkDocs rewrites it)."""
        folder = _relative_dir(posixpath.dirname(target), posixpath.dirname(page))
        name = posixpath.basename(target)
        return name if folder == "." else f"{folder}/{name}"

    def url(self, page: str, target: str) -> str:
        """The final URL of `target` relative to where `page` is served (for raw HTML/SVG)."""
        if not self.directory_urls:
            return posixpath.relpath(target[:-3] + ".html", posixpath.dirname(page) or ".")
        return posixpath.relpath(_served_dir(target), _served_dir(page)) + "/"

    def class_linker(self, page: str) -> Callable[[str], str | None]:
        def link(qualname: str) -> str | None:
            target = self.class_page(qualname)
            return self.url(page, target) if target else None

        return link


# ----------------------------------------------------------------------------------------------
# rendering


@dataclass(frozen=True)
class Diagram:
    """A diagram as DOT, and its SVG when Graphviz could draw it."""

    dot: str
    svg: str | None


@dataclass(frozen=True)
class SiteContent:
    """Everything the pages are made of, computed before rendering."""

    project: Project
    layout: SiteLayout
    composition: ModelDoc | None
    families: tuple[Family, ...]
    diagrams: Mapping[str, Diagram]
    show_inherited: bool = True
    summary: Any = None  # filled by `docgen summary` when it is available
    classes: Mapping[str, ClassDoc] = field(default_factory=dict)
    views: Mapping[str, ClassView] = field(default_factory=dict)
    walk_pages: Mapping[str, str] = field(default_factory=dict)  # layer class -> Walk page
    change_pages: tuple[tuple[str, str], ...] = ()  # (title, page)


class PageRenderer:
    """Renders each page kind with the shared environment; every method returns Markdown."""

    def __init__(self, env: jinja2.Environment, content: SiteContent) -> None:
        self.env = env
        self.c = content

    def render(self, template: str, page: str, **context: Any) -> str:
        layout = self.c.layout

        def link(target: str) -> str:
            return layout.md_link(page, target)

        def class_ref(qualname: str) -> str:
            target = layout.class_page(qualname)
            name = md_code(short(qualname))
            return f"[{name}]({link(target)})" if target else name

        def diagram(key: str) -> str:
            return self.env.get_template("_diagram.md.j2").render(
                key=key, diagram=self.c.diagrams.get(key))

        text = self.env.get_template(template).render(
            page=page, link=link, class_ref=class_ref, diagram=diagram, layout=layout,
            project=self.c.project, **context)
        return text.rstrip("\n") + "\n"

    def all_pages(self) -> dict[str, str]:
        pages = {
            SiteLayout.HOME: self.home(),
            SiteLayout.HIERARCHY: self.hierarchy(),
            SiteLayout.CLASSES: self.class_index(),
            SiteLayout.CSS: read_shipped_asset("docgen.css"),
        }
        if MODULE_ROOT in self.c.classes:
            pages[SiteLayout.ANATOMY] = self.anatomy()
        for fam in self.c.families:
            pages[SiteLayout.family_page(fam.slug)] = self.family(fam)
        for qualname in sorted(self.c.layout.class_pages):
            page = self.c.layout.class_page(qualname)
            assert page is not None
            pages[page] = self.class_page(qualname)
        return pages

    def home(self) -> str:
        model = self.c.composition
        return self.render("home.md.j2", SiteLayout.HOME, model=model,
                           layers=_flat_layers(model.layers) if model else [],
                           used=_used_classes(model) if model else [],
                           summary=self.c.summary, has_anatomy=MODULE_ROOT in self.c.classes,
                           summary_table=self.summary_table(SiteLayout.HOME),
                           walk_pages=sorted(self.c.walk_pages.items()),
                           change_pages=self.c.change_pages,
                           source=self.source_link(model.location, full=True) if model else "")

    def hierarchy(self) -> str:
        return self.render("hierarchy.md.j2", SiteLayout.HIERARCHY, families=self.c.families,
                           model_classes=_used_classes(self.c.composition)
                           if self.c.composition else [],
                           family_parts=self.family_parts)

    def family_parts(self, fam: Family) -> list[str]:
        return sorted((k for k in self.c.diagrams if k.startswith(f"family/{fam.slug}/")),
                      key=lambda k: int(k.rsplit("/", 1)[1]))

    def family(self, fam: Family) -> str:
        return self.render("family.md.j2", SiteLayout.family_page(fam.slug), family=fam,
                           parts=self.family_parts(fam),
                           rows=[self.class_row(q) for q in fam.classes])

    def class_row(self, qualname: str) -> dict[str, Any]:
        cls = self.c.classes[qualname]
        view = self.c.views[qualname]
        bases = [b for b in view.resolution_order[1:2]]
        return {"qualname": qualname, "summary": shorten(cls.docstring.summary, INDEX_SUMMARY),
                "bases": bases,
                "public": view.public_paths[0] if view.public_paths else qualname}

    def class_index(self) -> str:
        by_module: dict[str, list[dict[str, Any]]] = {}
        for qualname in sorted(self.c.layout.class_pages):
            by_module.setdefault(self.c.classes[qualname].module, []).append(
                self.class_row(qualname))
        return self.render("classes.md.j2", SiteLayout.CLASSES,
                           modules=sorted(by_module.items()))

    def class_page(self, qualname: str) -> str:
        cls = self.c.classes[qualname]
        view = self.c.views[qualname]
        page = self.c.layout.class_page(qualname)
        assert page is not None
        ancestors, more_ancestors = _listed(view.resolution_order)
        subclasses, more_subclasses = _listed(view.subclasses)
        return self.render("class.md.j2", page, cls=cls, view=view,
                           ancestors=ancestors, more_ancestors=more_ancestors,
                           subclasses=subclasses, more_subclasses=more_subclasses,
                           source=self.source_link(cls.location, full=True),
                           members=self.member_rows(view),
                           inherited_members=self.inherited_members(view),
                           groups=self.method_groups(view),
                           external=[b.text for b in cls.bases if b.target is None],
                           walk_page=self.c.walk_pages.get(qualname),
                           show_inherited=self.c.show_inherited)

    def summary_table(self, page: str) -> str:
        """`docgen summary`'s table with each layer type linked to its class page."""
        if self.c.summary is None:
            return ""
        from docgen.summary.summarize import render_summary_markdown

        layout = self.c.layout
        links = {row.qualname: layout.md_link(page, target) for row in self.c.summary.rows
                 if (target := layout.class_page(row.qualname)) is not None}
        return render_summary_markdown(self.c.summary, self.env, links)

    def member_rows(self, view: ClassView) -> list[dict[str, Any]]:
        """The class's own attributes, in source order."""
        return [self.member_row(im.member) for im in view.members if not im.is_inherited]

    def member_row(self, m: MemberDoc) -> dict[str, Any]:
        return {"name": m.name, "kind": m.kind.value, "type": m.type_text or "",
                "value": m.value_text or "", "defined_in": m.defined_in,
                "source": self.source_link(m.location)}

    def inherited_members(self, view: ClassView) -> list[dict[str, Any]]:
        """Inherited attribute names by the class that defines them, in MRO order."""
        if not self.c.show_inherited:
            return []
        return _by_origin(view, [(im.member.defined_in, im.member.name)
                                 for im in view.members if im.is_inherited])

    def method_groups(self, view: ClassView, *, own_only: bool = False) -> list[dict[str, Any]]:
        """Per role (GROUP_ORDER): own methods as rows, inherited ones as names by origin."""
        own: dict[str, list[dict[str, Any]]] = {}
        inherited: dict[str, list[tuple[str, str]]] = {}
        for r in view.methods:
            m = r.method
            if r.is_inherited:
                inherited.setdefault(m.group, []).append((m.defined_in, m.name))
                continue
            own.setdefault(m.group, []).append({
                "name": m.name, "signature": m.signature, "kind": m.kind.value,
                "alias_of": m.alias_of, "overrides": r.overrides, "summary": m.summary,
                "abstract": m.is_abstract, "source": self.source_link(m.location),
                "overloads": len(m.overloads)})
        show_inherited = self.c.show_inherited and not own_only
        groups: list[dict[str, Any]] = []
        for g in GROUP_ORDER:
            names = inherited.get(g, []) if show_inherited else []
            if g in own or names:
                groups.append({"key": g, "title": GROUP_TITLES[g],
                               "rows": sorted(own.get(g, []), key=lambda r: r["name"]),
                               "inherited": _by_origin(view, names)})
        return groups

    def anatomy(self) -> str:
        cls = self.c.classes[MODULE_ROOT]
        view = self.c.views[MODULE_ROOT]
        state: dict[str, list[dict[str, Any]]] = {}
        for m in cls.members:
            state.setdefault(state_group_of(m.name), []).append({
                "name": m.name, "kind": m.kind.value, "type": m.type_text or "",
                "value": m.value_text or "", "source": self.source_link(m.location)})
        state_groups = [{"title": title, "rows": state[key]}
                        for key, title in STATE_TITLES.items() if key in state]
        page = SiteLayout.ANATOMY
        return self.render("anatomy.md.j2", page, cls=cls, view=view,
                           state_groups=state_groups,
                           groups=self.method_groups(view, own_only=True),
                           source=self.source_link(cls.location, full=True),
                           class_page=self.c.layout.class_page(MODULE_ROOT))

    def source_link(self, loc: Location, *, full: bool = False) -> str:
        """`[file:line](upstream URL)`; tables show the file name only (`full` shows the path)."""
        label = str(loc) if full else f"{loc.path.rsplit('/', 1)[-1]}:{loc.line}"
        text = md_code(label)
        top = loc.path.split("/", 1)[0]
        for dist in self.c.project.distributions:
            template = SOURCE_URLS.get(dist.name)
            if template and top == dist.name and dist.origin == "wheel":
                version = dist.version.split("+", 1)[0]
                url = template.format(version=version, path=loc.path, line=loc.line)
                return f'[{text}]({url} "{html_text(str(loc))}")'
        return text


def _by_origin(view: ClassView, pairs: Sequence[tuple[str, str]]) -> list[dict[str, Any]]:
    """[(origin, name)] -> [{"origin", "names"}], origins in MRO order, names sorted."""
    by: dict[str, list[str]] = {}
    for origin, name in pairs:
        by.setdefault(origin, []).append(name)
    order = {q: i for i, q in enumerate(view.resolution_order)}
    rows: list[dict[str, Any]] = [{"origin": o, "names": sorted(by[o])}
                                  for o in sorted(by, key=lambda o: (order.get(o, len(order)), o))]
    if len(rows) > MAX_LISTED:
        hidden = rows[MAX_LISTED:]
        rows = [*rows[:MAX_LISTED], {"origin": None, "more_classes": len(hidden),
                                     "names": [], "more_names": sum(len(r["names"])
                                                                    for r in hidden)}]
    return rows


@functools.lru_cache(maxsize=4096)
def _relative_dir(target_dir: str, page_dir: str) -> str:
    # Pages live in a handful of folders: one relpath per pair of folders, not per link.
    return posixpath.relpath(target_dir or ".", page_dir or ".")


def _listed(names: Sequence[str]) -> tuple[list[str], int]:
    """At most MAX_LISTED of `names` for a page, and how many were left out."""
    return list(names[:MAX_LISTED]), max(0, len(names) - MAX_LISTED)


def _served_dir(page: str) -> str:
    """The folder a page is served as with MkDocs' directory URLs (`a/b.md` -> `a/b/`)."""
    if posixpath.basename(page) == "index.md":
        return posixpath.dirname(page) or "."
    return page[:-3]


def _flat_layers(layers: Sequence[LayerDoc], depth: int = 0) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for layer in layers:
        rows.append({"layer": layer, "depth": depth})
        rows.extend(_flat_layers(layer.children, depth + 1))
    return rows


def _used_classes(model: ModelDoc) -> list[str]:
    """The classes a model builds, first use first, and the model itself first of all."""
    names = [model.qualname]
    for row in _flat_layers(model.layers):
        target = row["layer"].target
        if target and target not in names:
            names.append(target)
    return names


def member_kind_title(kind: MemberKind) -> str:
    return kind.value.replace("_", " ")
