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
    anchor,
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
from docgen.models.composition import evaluated_arguments
from docgen.site.docstrings import docstring_markdown
from docgen.site.fragments import fragment_path, placeholder

# Kinds listed first on a class page, own and inherited together: the module's state.
_TENSOR_KINDS = (MemberKind.PARAMETER, MemberKind.BUFFER, MemberKind.SUBMODULE)

# A class page lists at most this many ancestors, subclasses and inheriting-from lines; the
# rest is counted in a note, so a page stays small whatever the depth or breadth of a tree.
MAX_LISTED = 100
# An inherited table lists at most this many rows; the rest is counted in its last line.
MAX_ROWS = 500
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
    JS = "assets/docgen.js"

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
        return _served_url(page, target, self.directory_urls)

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
class ModelPage:
    """A further model of the site: its own page with its composition, summary and walks."""

    spec: str
    page: str  # relative to the generated folder
    composition: ModelDoc
    summary: Any = None
    walk_pages: Mapping[str, str] = field(default_factory=dict)

    @property
    def diagram_key(self) -> str:
        return f"composition/{self.page}"

    @staticmethod
    def page_for(spec: str) -> str:
        """`torchvision.models.resnet:resnet18` -> models/torchvision.models.resnet-resnet18.md"""
        slug = "".join(c if c.isalnum() or c in "._" else "-" for c in spec).strip("-")
        return f"models/{slug}.md"


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
    more_models: tuple[ModelPage, ...] = ()  # the site's further models, each on its page


class PageKit:
    """What every kind of page shares: the environment and content, the Jinja context each
    template gets (links, class references, diagrams), the fragments written so far, and
    links to source lines."""

    def __init__(self, env: jinja2.Environment, content: SiteContent) -> None:
        self.env = env
        self.content = content
        self.fragments: dict[str, str] = {}  # fragments.py: HTML put in after MkDocs
        self._source_html: dict[Location, str] = {}

    def render(self, template: str, page: str, **context: Any) -> str:
        layout = self.content.layout

        def link(target: str) -> str:
            return layout.md_link(page, target)

        def class_ref(qualname: str) -> str:
            target = layout.class_page(qualname)
            name = md_code(short(qualname))
            return f"[{name}]({link(target)})" if target else name

        def class_html(qualname: str) -> str:
            """A class name as raw HTML, linked to its page by its served URL."""
            target = layout.class_page(qualname)
            name = f"<code>{html_text(short(qualname))}</code>"
            return f'<a href="{html_text(layout.url(page, target))}">{name}</a>' \
                if target else name

        def diagram(key: str) -> str:
            """The diagram's block; a drawn SVG goes into a fragment (fragments.py), so that
            MkDocs' Markdown and search never parse its thousands of tags."""
            drawn = self.content.diagrams.get(key)
            text = self.env.get_template("_diagram.md.j2").render(key=key, diagram=drawn)
            if drawn is None or not drawn.svg:
                return text
            path = fragment_path(page, f"diagram-{anchor(key)}")
            self.fragments[path] = text
            return placeholder(page, path)

        text = self.env.get_template(template).render(
            page=page, link=link, class_ref=class_ref, class_html=class_html,
            diagram=diagram, layout=layout,
            project=self.content.project, **context)
        return text.rstrip("\n") + "\n"

    def fragment(self, page: str, name: str, **context: Any) -> str:
        """`_inherited.md.j2` rendered into a fragment file; the page gets its placeholder."""
        if not context.get("rows"):
            return ""
        rows = context.pop("rows")
        path = fragment_path(page, name)
        self.fragments[path] = self.render("_inherited.md.j2", page, rows=rows[:MAX_ROWS],
                                           total=len(rows), **context)
        return placeholder(page, path)

    def source_link(self, loc: Location, *, full: bool = False) -> str:
        """`[file:line](upstream URL)`; tables show the file name only (`full` shows the path)."""
        label = str(loc) if full else f"{loc.path.rsplit('/', 1)[-1]}:{loc.line}"
        text = md_code(label)
        url = self.source_url(loc)
        return f'[{text}]({url} "{html_text(str(loc))}")' if url else text

    def source_html(self, loc: Location) -> str:
        """The same link as raw HTML (for blocks MkDocs passes through untouched)."""
        found = self._source_html.get(loc)
        if found is None:
            found = self._source_html[loc] = self._source_html_of(loc)
        return found

    def _source_html_of(self, loc: Location) -> str:
        label = f"<code>{html_text(loc.path.rsplit('/', 1)[-1])}:{loc.line}</code>"
        url = self.source_url(loc)
        return (f'<a href="{html_text(url)}" title="{html_text(str(loc))}">{label}</a>'
                if url else label)

    def source_url(self, loc: Location) -> str | None:
        """The upstream URL of a source line, for the distributions read from wheels."""
        top = loc.path.split("/", 1)[0]
        for dist in self.content.project.distributions:
            template = SOURCE_URLS.get(dist.name)
            if template and top == dist.name and dist.origin == "wheel":
                version = dist.version.split("+", 1)[0]
                return template.format(version=version, path=loc.path, line=loc.line)
        return None


class _PagePart:
    """One kind of page; renders through the shared kit."""

    def __init__(self, kit: PageKit) -> None:
        self.kit = kit
        self.env = kit.env
        self.content = kit.content
        self.render = kit.render
        self.fragment = kit.fragment
        self.source_link = kit.source_link
        self.source_html = kit.source_html


class ModelPages(_PagePart):
    """The home page (the first model) and a page per further model: composition, summary
    table, walks."""

    def model_list(self) -> list[tuple[str, str]]:
        """(model class, page) of every model on the site, the home page's first; empty when
        the site has one model."""
        if not self.content.more_models or self.content.composition is None:
            return []
        return [(self.content.composition.qualname, SiteLayout.HOME),
                *((m.composition.qualname, m.page) for m in self.content.more_models)]

    def model_page(self, other: ModelPage) -> str:
        model = other.composition
        return self.render("home.md.j2", other.page, model=model,
                           layers=_flat_layers(model.layers), used=_used_classes(model),
                           summary=other.summary, has_anatomy=MODULE_ROOT in self.content.classes,
                           summary_table=self.summary_table(other.page, other.summary),
                           walk_pages=sorted(other.walk_pages.items()), change_pages=(),
                           composition_key=other.diagram_key, models=self.model_list(),
                           source=self.source_link(model.location, full=True))

    def home(self) -> str:
        model = self.content.composition
        return self.render("home.md.j2", SiteLayout.HOME, model=model,
                           layers=_flat_layers(model.layers) if model else [],
                           used=_used_classes(model) if model else [],
                           summary=self.content.summary,
                           has_anatomy=MODULE_ROOT in self.content.classes,
                           summary_table=self.summary_table(SiteLayout.HOME),
                           walk_pages=sorted(self.content.walk_pages.items()),
                           change_pages=self.content.change_pages,
                           composition_key="composition", models=self.model_list(),
                           source=self.source_link(model.location, full=True) if model else "")

    def summary_table(self, page: str, summary: Any = None) -> str:
        """`docgen summary`'s table (of the home page's model unless another summary is
        given) with each layer type linked to its class page."""
        summary = summary if summary is not None else (
            self.content.summary if page == SiteLayout.HOME else None)
        if summary is None:
            return ""
        from docgen.summary.summarize import render_summary_markdown

        layout = self.content.layout
        links = {row.qualname: layout.md_link(page, target) for row in summary.rows
                 if (target := layout.class_page(row.qualname)) is not None}
        return render_summary_markdown(summary, self.env, links)


class IndexPages(_PagePart):
    """The hierarchy overview, a page per class family and the class index."""

    def hierarchy(self) -> str:
        return self.render("hierarchy.md.j2", SiteLayout.HIERARCHY, families=self.content.families,
                           model_classes=_used_classes(self.content.composition)
                           if self.content.composition else [],
                           family_parts=self.family_parts)

    def family_parts(self, fam: Family) -> list[str]:
        return sorted((k for k in self.content.diagrams if k.startswith(f"family/{fam.slug}/")),
                      key=lambda k: int(k.rsplit("/", 1)[1]))

    def family(self, fam: Family) -> str:
        return self.render("family.md.j2", SiteLayout.family_page(fam.slug), family=fam,
                           parts=self.family_parts(fam),
                           rows=[self.class_row(q) for q in fam.classes])

    def class_row(self, qualname: str) -> dict[str, Any]:
        cls = self.content.classes[qualname]
        view = self.content.views[qualname]
        bases = [b for b in view.resolution_order[1:2]]
        return {"qualname": qualname, "summary": shorten(cls.docstring.summary, INDEX_SUMMARY),
                "bases": bases, "module": cls.module,
                "public": view.public_paths[0] if view.public_paths else qualname}

    def class_index(self) -> str:
        """The model's classes first, then every class by package (`torch.nn.modules`):
        the selected packages first, then the bases read from elsewhere (Tensor, Function)."""
        pages = self.content.layout.class_pages
        composition = self.content.composition
        used = [q for q in (_used_classes(composition) if composition else []) if q in pages]
        by_module: dict[str, list[dict[str, Any]]] = {}
        for qualname in sorted(pages, key=lambda q: (short(q).lstrip("_").lower(), q)):
            module = self.content.classes[qualname].module
            package = module.rsplit(".", 1)[0] if "." in module else module
            by_module.setdefault(package, []).append(self.class_row(qualname))
        selected = {m: any(self.content.classes[r["qualname"]].is_selected for r in rows)
                    for m, rows in by_module.items()}
        return self.render("classes.md.j2", SiteLayout.CLASSES,
                           model=short(self.content.composition.qualname)
                           if self.content.composition else None,
                           used=[self.class_row(q) for q in used],
                           modules=sorted(by_module.items(),
                                          key=lambda kv: (not selected[kv[0]], kv[0])),
                           total=len(pages))


class DocLinks(_PagePart):
    """Docstrings as Markdown, with the dotted names they mention linked to class pages."""

    def docstring(self, cls: ClassDoc, page: str) -> str:
        """The class docstring as Markdown (roles, sections and math converted)."""
        if not cls.docstring.text:
            return ""
        return docstring_markdown(cls.docstring.text, self.doc_linker(page))

    def doc_linker(self, page: str) -> Callable[[str], str | None]:
        """A dotted name in a docstring (`torch.nn.Conv2d`, `Module`) -> its class page URL."""
        names = self._doc_name_map
        layout = self.content.layout

        def find(dotted: str) -> str | None:
            qualname = names.get(dotted) or names.get(dotted.rsplit(".", 1)[-1])
            target = layout.class_page(qualname) if qualname else None
            return layout.md_link(page, target) if target else None

        return find

    @functools.cached_property
    def _doc_name_map(self) -> dict[str, str]:
        names: dict[str, str] = {}
        short_counts: dict[str, int] = {}
        for q in self.content.layout.class_pages:
            short_counts[short(q)] = short_counts.get(short(q), 0) + 1
        for q in self.content.layout.class_pages:
            names[q] = q
            if short_counts[short(q)] == 1:
                names[short(q)] = q
        for public, q in self.content.project.aliases:
            if q in self.content.layout.class_pages:
                names.setdefault(public, q)
        for q, view in self.content.views.items():
            if q in self.content.layout.class_pages:
                for public in view.public_paths:
                    names.setdefault(public, q)
        return names

class MemberTables(_PagePart):
    """The rows of a class page's member and method tables, own and inherited."""

    def member_sections(self, view: ClassView, page: str) -> tuple[
            list[dict[str, Any]], list[dict[str, Any]], list[dict[str, Any]]]:
        """(parameters/buffers/submodules, own or inherited; other own members; other
        inherited members), each in (MRO, source line) order."""
        order = {q: i for i, q in enumerate(view.resolution_order)}
        tensors: list[dict[str, Any]] = []
        own: list[dict[str, Any]] = []
        inherited: list[dict[str, Any]] = []
        for im in view.members:
            if im.is_inherited and not self.content.show_inherited:
                continue
            row = self.member_row(im.member, view)
            row["inherited"] = im.is_inherited
            if im.member.kind in _TENSOR_KINDS:
                tensors.append(row)
            elif im.is_inherited:
                inherited.append(row)
            else:
                own.append(row)

        def key(row: dict[str, Any]) -> tuple[int, int, str]:
            return (order.get(row["defined_in"], len(order)), row["line"], row["name"])

        tensors.sort(key=lambda r: (_TENSOR_KINDS.index(MemberKind(r["kind"])), *key(r)))
        inherited.sort(key=lambda r: (r["name"].startswith("_"), r["name"]))
        return tensors, own, inherited

    def member_row(self, m: MemberDoc, view: ClassView | None = None) -> dict[str, Any]:
        """One member; `values` lists every assignment (branch, class default, override)
        when there is more than the plain one, as Markdown."""
        values = self.assignment_lines(m)
        assigned_in = ""
        if view is not None and not m.assignments:
            found = self._assigned_in_base(m.name, view)
            if found is not None:
                base, a = found
                where = f"{short(base)}.{a.scope}" if a.scope != "class" else short(base)
                assigned_in = (f"assigned in {md_code(where)}: "
                               f"{md_code(shorten(a.value_text or '', 90))} "
                               f"{self.source_link(a.location)}")
        return {"name": m.name, "kind": m.kind.value, "type": m.type_text or "",
                "value": m.value_text or "", "defined_in": m.defined_in,
                "line": m.location.line, "values": values, "assigned_in": assigned_in,
                "via": sorted({a.via for a in m.assignments
                               if a.via and a.via.endswith("__setattr__")}),
                "source": self.source_link(m.location),
                "source_html": self.source_html(m.location)}

    def assignment_lines(self, m: MemberDoc) -> list[str]:
        """Each place `m` gets a value, as one Markdown line, when that says more than the
        single value: several branches, a class-level default, a setter call."""
        plain = len(m.assignments) == 1 and m.assignments[0].condition is None \
            and m.assignments[0].via is None
        if len(m.assignments) == 0 or plain:
            return []
        lines = []
        for a in m.assignments:
            where = []
            if a.scope == "class":
                where.append("class-level default")
            else:
                where.append(f"in {md_code(a.scope)}")
            if a.condition:
                where.append(f"if {md_code(a.condition)}")
            if a.via:
                where.append(f"through {md_code(a.via)}")
            value = md_code(shorten(a.value_text, 110)) if a.value_text else "*(no value)*"
            lines.append(f"{value} <small>{', '.join(where)}, "
                         f"{self.source_link(a.location)}</small>")
        return lines

    def _assigned_in_base(self, name: str, view: ClassView) -> tuple[str, Any] | None:
        """For an annotation-only member: the nearest base that assigns it, and where."""
        for base in view.resolution_order[1:]:
            cls = self.content.classes.get(base)
            if cls is None:
                continue
            for m in cls.members:
                if m.name == name and m.assignments:
                    return base, m.assignments[0]
        return None

    def inherited_methods(self, view: ClassView, page: str) -> list[dict[str, Any]]:
        """Inherited methods as rows (name, role, defined in), by role then name."""
        if not self.content.show_inherited:
            return []
        rank = {g: i for i, g in enumerate(GROUP_ORDER)}
        rows = [{"name": r.method.name, "group": GROUP_TITLES.get(r.method.group,
                                                                  r.method.group),
                 "rank": rank.get(r.method.group, len(rank)),
                 "defined_in": r.method.defined_in, "kind": r.method.kind.value,
                 "summary": r.method.summary,
                 "source_html": self.source_html(r.method.location)}
                for r in view.methods if r.is_inherited]
        return sorted(rows, key=lambda r: (r["rank"], r["name"]))

    def method_groups(self, view: ClassView) -> list[dict[str, Any]]:
        """The class's own methods as rows per role (GROUP_ORDER); inherited ones are listed
        apart (`inherited_methods`)."""
        own: dict[str, list[dict[str, Any]]] = {}
        for r in view.methods:
            m = r.method
            if r.is_inherited:
                continue
            own.setdefault(m.group, []).append({
                "name": m.name, "signature": m.signature, "kind": m.kind.value,
                "alias_of": m.alias_of, "overrides": r.overrides, "summary": m.summary,
                "abstract": m.is_abstract, "source": self.source_link(m.location),
                "overloads": len(m.overloads)})
        return [{"key": g, "title": GROUP_TITLES[g],
                 "rows": sorted(own[g], key=lambda r: r["name"])}
                for g in GROUP_ORDER if g in own]

class ClassPages(_PagePart):
    """A page per class (members, methods, inherited tables, docstring) and the Module
    anatomy page."""

    def __init__(self, kit: PageKit) -> None:
        super().__init__(kit)
        self.tables = MemberTables(kit)
        self.docs = DocLinks(kit)

    def class_page(self, qualname: str) -> str:
        cls = self.content.classes[qualname]
        view = self.content.views[qualname]
        page = self.content.layout.class_page(qualname)
        assert page is not None
        tensors, own, inherited = self.tables.member_sections(view, page)
        methods = self.tables.inherited_methods(view, page)
        ancestors, more_ancestors = _listed(view.resolution_order)
        subclasses, more_subclasses = _listed(view.subclasses)
        return self.render("class.md.j2", page, cls=cls, view=view,
                           ancestors=ancestors, more_ancestors=more_ancestors,
                           subclasses=subclasses, more_subclasses=more_subclasses,
                           source=self.source_link(cls.location, full=True),
                           docstring=self.docs.docstring(cls, page),
                           tensors=tensors, members=own, inherited_members=inherited,
                           groups=self.tables.method_groups(view),
                           inherited_methods=methods,
                           inherited_members_html=self.fragment(
                               page, "inherited-attributes", rows=inherited,
                               title="Inherited attributes", methods=False),
                           inherited_methods_html=self.fragment(
                               page, "inherited-methods", rows=methods,
                               title="Inherited methods", methods=True),
                           external=[b.text for b in cls.bases if b.target is None],
                           walk_page=self.content.walk_pages.get(qualname),
                           show_inherited=self.content.show_inherited)

    def anatomy(self) -> str:
        cls = self.content.classes[MODULE_ROOT]
        view = self.content.views[MODULE_ROOT]
        state: dict[str, list[dict[str, Any]]] = {}
        for m in cls.members:
            state.setdefault(state_group_of(m.name), []).append(self.tables.member_row(m))
        bypass = [m.name for m in cls.members
                  if any(a.via and a.via.endswith("__setattr__") for a in m.assignments)]
        setattr_method = next((m for m in cls.methods if m.name == "__setattr__"), None)
        state_groups = [{"title": title, "rows": state[key]}
                        for key, title in STATE_TITLES.items() if key in state]
        page = SiteLayout.ANATOMY
        return self.render("anatomy.md.j2", page, cls=cls, view=view,
                           state_groups=state_groups, bypass=bypass,
                           setattr_source=self.source_link(setattr_method.location)
                           if setattr_method else "",
                           groups=self.tables.method_groups(view),
                           source=self.source_link(cls.location, full=True),
                           class_page=self.content.layout.class_page(MODULE_ROOT))


@dataclass(frozen=True)
class RenderedPage:
    """A page rendered ahead of the others, with the fragments it wrote (path, HTML)."""

    text: str
    fragments: tuple[tuple[str, str], ...]


class PageRenderer:
    """Renders every page kind with the shared environment; each page is Markdown text."""

    def __init__(self, env: jinja2.Environment, content: SiteContent) -> None:
        self.kit = PageKit(env, content)
        self.content = content
        self.models = ModelPages(self.kit)
        self.index = IndexPages(self.kit)
        self.classes = ClassPages(self.kit)

    def class_pages(self, qualnames: Sequence[str]) -> dict[str, RenderedPage]:
        """{qualname: its class page and fragments}, for `all_pages` to take as they are.

        A class page reads of the study only its layer's Walk page (`walk_pages`), so a
        build renders them while the study is still being made, and again after it only
        those that link a Walk page."""
        out: dict[str, RenderedPage] = {}
        kept = self.kit.fragments
        try:
            for qualname in qualnames:
                self.kit.fragments = {}
                text = self.classes.class_page(qualname)
                out[qualname] = RenderedPage(text, tuple(self.kit.fragments.items()))
        finally:
            self.kit.fragments = kept
        return out

    def all_pages(self, ahead: Mapping[str, RenderedPage] | None = None) -> dict[str, str]:
        """{path relative to the generated folder: text} of every page, asset and fragment;
        a class page in `ahead` (by qualname) is taken from there, not rendered again."""
        ahead = ahead or {}
        pages = {
            SiteLayout.HOME: self.models.home(),
            SiteLayout.HIERARCHY: self.index.hierarchy(),
            SiteLayout.CLASSES: self.index.class_index(),
            SiteLayout.CSS: read_shipped_asset("docgen.css"),
            SiteLayout.JS: read_shipped_asset("docgen.js"),
        }
        if MODULE_ROOT in self.content.classes:
            pages[SiteLayout.ANATOMY] = self.classes.anatomy()
        for fam in self.content.families:
            pages[SiteLayout.family_page(fam.slug)] = self.index.family(fam)
        for qualname in sorted(self.content.layout.class_pages):
            page = self.content.layout.class_page(qualname)
            assert page is not None
            done = ahead.get(qualname)
            if done is None:
                pages[page] = self.classes.class_page(qualname)
            else:
                pages[page] = done.text
                self.kit.fragments.update(done.fragments)
        for other in self.content.more_models:
            pages[other.page] = self.models.model_page(other)
        pages.update(self.kit.fragments)
        return pages


@functools.lru_cache(maxsize=65536)
def _served_url(page: str, target: str, directory_urls: bool) -> str:
    if not directory_urls:
        return posixpath.relpath(target[:-3] + ".html", posixpath.dirname(page) or ".")
    return posixpath.relpath(_served_dir(target), _served_dir(page)) + "/"


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
        rows.append({"layer": layer, "depth": depth,
                     "evaluated": evaluated_arguments(layer.arguments, layer.values)})
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
