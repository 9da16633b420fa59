"""Model -> DOT text (composition, hierarchies, UML class boxes), and DOT -> SVG through Graphviz.

DOT comes from one small builder (`DotGraph`): every ID, label, URL and tooltip passes through
the escaping in escape.py. Layout policy lives here: a diagram must fit `MAX_WIDTH_PX` at its
natural size, so wide graphs are tried as staggered (`unflatten`) and sideways layouts, and a
family that still does not fit is split. Nothing here knows about pages or files.
"""

from __future__ import annotations

import hashlib
import itertools
import re
import secrets
import shutil
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import lru_cache

import graphviz

from docgen.classes.families import MODULE_ROOT, Family
from docgen.core.errors import RenderError
from docgen.core.escape import anchor, dot_label, dot_string, shorten
from docgen.core.names import short_name as short
from docgen.core.records import ClassDoc, ClassView, LayerDoc, MemberKind, ModelDoc
from docgen.models.composition import evaluated_arguments
from docgen.sources.store import BlobStore

MAX_WIDTH_PX = 1360  # the content area of a 1440 px window, less its margins
PT_TO_PX = 96 / 72
OBJECT = "builtins.object"

# qualname -> URL relative to the page the diagram is embedded in (None: no page)
Linker = Callable[[str], str | None]

_FONT = "Helvetica"
_COLORS = {
    "model": "#fde68a", "module": "#bfdbfe", "private": "#e5e7eb", "class": "#dcfce7",
    "external": "#ffffff", "container": "#f3e8ff", "step": "#fef3c7",
}


class GraphvizMissing(RenderError):
    """The `dot` program is not installed."""

    def __init__(self) -> None:
        super().__init__("Graphviz 'dot' was not found on PATH; diagrams are kept as DOT "
                         "source. Install it with: apt-get install graphviz "
                         "(macOS: brew install graphviz)")




@dataclass
class DotGraph:
    """A small DOT builder: statements are added already escaped, in order (deterministic)."""

    name: str
    attrs: dict[str, str] = field(default_factory=dict)
    lines: list[str] = field(default_factory=list)

    def node(self, node_id: str, **attrs: str) -> None:
        self.lines.append(f"  {dot_string(node_id)} [{_attrs(attrs)}];")

    def html_node(self, node_id: str, label: str, **attrs: str) -> None:
        text = _attrs(attrs)
        self.lines.append(f"  {dot_string(node_id)} [label=<{label}>{', ' if text else ''}{text}];")

    def edge(self, tail: str, head: str, **attrs: str) -> None:
        text = f" [{_attrs(attrs)}]" if attrs else ""
        self.lines.append(f"  {dot_string(tail)} -> {dot_string(head)}{text};")

    def raw(self, line: str) -> None:
        self.lines.append(line)

    def source(self) -> str:
        head = [f"digraph {dot_string(self.name)} {{"]
        head += [f"  {k}={dot_string(v)};" for k, v in self.attrs.items()]
        head.append(f'  node [fontname="{_FONT}", fontsize="11", shape="box", style="filled", '
                    f'fillcolor="white", margin="0.08,0.04"];')
        head.append(f'  edge [fontname="{_FONT}", fontsize="9"];')
        return "\n".join([*head, *self.lines, "}"]) + "\n"


def _attrs(attrs: Mapping[str, str]) -> str:
    return ", ".join(f"{k}={dot_string(v)}" for k, v in attrs.items())


def _link_attrs(qualname: str, link: Linker, diagram: str) -> dict[str, str]:
    # Graphviz writes "-" in ids as "&#45;": ids use "_" so pages and tests can find them.
    attrs = {"id": svg_id(diagram, qualname), "tooltip": qualname}
    url = link(qualname)
    if url:
        attrs["URL"] = url
        attrs["target"] = "_top"
    return attrs


def svg_id(diagram: str, name: str) -> str:
    """The id of a node in an SVG: `ancestry_torch.nn.modules.conv.conv2d`."""
    return f"{diagram}_{anchor(name)}".replace("-", "_")


def _class_fill(qualname: str, views: Mapping[str, ClassView]) -> str:
    if qualname == MODULE_ROOT:
        return _COLORS["module"]
    if qualname not in views:
        return _COLORS["external"]
    return _COLORS["private"] if short(qualname).startswith("_") else _COLORS["class"]


# ----------------------------------------------------------------------------------------------
# model composition


def composition_dot(model: ModelDoc, link: Linker) -> str:
    """The layer tree: each top-level layer a column (containers as clusters, their layers
    top to bottom), columns left to right in the order `forward` calls them."""
    g = DotGraph("composition", {"rankdir": "TB", "compound": "true", "nodesep": "0.2",
                                 "ranksep": "0.25", "newrank": "true"})
    g.node("input", label="input x", shape="oval", fillcolor=_COLORS["step"], id="flow_input")
    columns: list[tuple[str, str, LayerDoc | None]] = []
    for layer in _forward_order(model):
        first, last = _draw_layer(g, layer, link)
        columns.append((first, last, layer))
        if layer.path == "avgpool" and any("flatten" in s.text for s in model.forward):
            g.node("flatten", label="torch.flatten(x, 1)", shape="oval",
                   fillcolor=_COLORS["step"], id="flow_flatten")
            columns.append(("flatten", "flatten", None))
    g.node("output", label="output", shape="oval", fillcolor=_COLORS["step"], id="flow_output")
    if not columns:
        g.edge("input", "output")
        return g.source()
    g.raw("  { rank=same; " + " ".join(dot_string(first) for first, _, _ in columns) + " }")
    g.edge("input", columns[0][0], **_cluster_head(columns[0][2]))
    for (_, last, _), (first, _, head) in itertools.pairwise(columns):
        g.edge(last, first, constraint="false", color="#2563eb", penwidth="1.5",
               **_cluster_head(head))
    g.edge(columns[-1][1], "output")
    return g.source()


def _cluster_head(layer: LayerDoc | None) -> dict[str, str]:
    return {"lhead": f"cluster_{layer.path}"} if layer is not None and layer.children else {}


def _forward_order(model: ModelDoc) -> list[LayerDoc]:
    """Layers in the order `forward` calls them, then any it does not call."""
    by_path = {layer.path: layer for layer in model.layers}
    called = [by_path[s.layer] for s in model.forward if s.layer in by_path]
    return list(dict.fromkeys([*called, *model.layers]))


def _draw_layer(g: DotGraph, layer: LayerDoc, link: Linker) -> tuple[str, str]:
    """Draw `layer` (a cluster for containers); returns its first and last node ids."""
    if not layer.children:
        _layer_node(g, layer, link)
        return layer.path, layer.path
    g.raw(f"  subgraph {dot_string('cluster_' + layer.path)} {{")
    title = f"{layer.path}: {layer.name}" + (f"({layer.arguments})" if layer.arguments else "")
    g.raw(f"    label=<<B>{dot_label(title)}</B>>; style=\"rounded,filled\"; "
          f"fillcolor=\"{_COLORS['container']}\"; fontname=\"{_FONT}\"; fontsize=\"11\";")
    ids = []
    for child in layer.children:
        first, last = _draw_layer(g, child, link)
        ids.append((first, last))
    g.raw("  }")
    for (_, last), (first, _) in itertools.pairwise(ids):
        g.edge(last, first)
    return ids[0][0], ids[-1][1]


def _layer_node(g: DotGraph, layer: LayerDoc, link: Linker) -> None:
    attrs = _link_attrs(layer.target, link, "layer") if layer.target else {}
    attrs["id"] = svg_id("layer", layer.path)
    label = (f'<FONT POINT-SIZE="9" COLOR="#555555">{dot_label(layer.path)}</FONT><BR/>'
             f"<B>{dot_label(layer.name)}</B>({dot_label(layer.arguments)})")
    # An argument written as a name or an expression shows the value it evaluated to.
    evaluated = ", ".join(f"{name}={value}" for name, _, value
                          in evaluated_arguments(layer.arguments, layer.values))
    if evaluated:
        label += (f'<BR/><FONT POINT-SIZE="9" COLOR="#555555">'
                  f"{dot_label(shorten('= ' + evaluated, 60))}</FONT>")
    g.html_node(layer.path, label, fillcolor="white", **attrs)


# ----------------------------------------------------------------------------------------------
# inheritance


def ancestry_dot(roots: Iterable[str], views: Mapping[str, ClassView], link: Linker,
                 diagram: str = "ancestry") -> str:
    """`roots` and every class in their MROs up to object, subclass below its bases."""
    names: list[str] = []
    for root in roots:
        view = views.get(root)
        for q in view.resolution_order if view else (root,):
            if q not in names:
                names.append(q)
    return inheritance_dot(names, views, link, diagram=diagram, highlight=set(roots))


def inheritance_dot(names: Sequence[str], views: Mapping[str, ClassView], link: Linker, *,
                    diagram: str, rankdir: str = "BT", highlight: set[str] | None = None,
                    note: str | None = None) -> str:
    """Classes in `names`, with an arrow from each to each of its direct bases among them."""
    g = DotGraph(diagram, {"rankdir": rankdir, "nodesep": "0.18", "ranksep": "0.35"})
    shown = set(names)
    for q in sorted(shown):
        attrs = _link_attrs(q, link, diagram)
        attrs["fillcolor"] = _class_fill(q, views)
        label = short(q) if q != OBJECT else "object"
        if highlight and q in highlight:
            attrs["penwidth"] = "2"
        g.node(q, label=label, **attrs)
    for q in sorted(shown):
        view = views.get(q)
        for base in direct_bases(view, views):
            if base in shown:
                g.edge(q, base, arrowhead="empty")
        if view and len(view.resolution_order) > 1 and not any(
                b in shown for b in direct_bases(view, views)) and OBJECT in shown:
            g.edge(q, OBJECT, arrowhead="empty")
    if note:
        g.node("__note__", label=note, shape="note", fillcolor="#fffbeb")
    return g.source()


def direct_bases(view: ClassView | None, views: Mapping[str, ClassView]) -> list[str]:
    """Direct bases in MRO order: those bases whose own MRO is not covered by an earlier one."""
    if view is None:
        return []
    out: list[str] = []
    covered: set[str] = set()
    for q in view.resolution_order[1:]:
        if q in covered:
            continue
        out.append(q)
        base_view = views.get(q)
        covered.update(base_view.resolution_order if base_view else (q,))
    return [q for q in out if q != OBJECT] or ([OBJECT] if len(view.resolution_order) > 1
                                               else [])


def family_dots(family: Family, views: Mapping[str, ClassView], link: Linker,
                diagram: str) -> list[list[str]]:
    """Layout candidates for a family: per part, DOT texts to try in order (narrowest last).

    One part when the whole family can fit; otherwise the family split by its top-level
    bases so that no part carries more leaves than a readable row holds.
    """
    parts = _split_family(family, views)
    return [[inheritance_dot(names, views, link, diagram=f"{diagram}-{i}", rankdir=r)
             for r in ("BT", "RL")] for i, names in enumerate(parts)]


_MAX_LEAVES_PER_PART = 40


def _split_family(family: Family, views: Mapping[str, ClassView]) -> list[list[str]]:
    own = list(family.classes)
    if len(own) <= _MAX_LEAVES_PER_PART:
        return [[*own, *family.context]]
    groups: dict[str, list[str]] = {}
    for q in own:
        chain = [b for b in views[q].resolution_order if b in family.classes]
        groups.setdefault(chain[-1], []).append(q)
    parts: list[list[str]] = [[]]
    for _top, members in sorted(groups.items(), key=lambda kv: (-len(kv[1]), kv[0])):
        if len(parts[-1]) + len(members) > _MAX_LEAVES_PER_PART and parts[-1]:
            parts.append([])
        parts[-1].extend(members)
    out = []
    for part in parts:
        context = {b for q in part for b in views[q].resolution_order[1:]
                   if b in views and b not in part and MODULE_ROOT in views[b].resolution_order}
        out.append([*part, *sorted(context)])
    return out


def overview_dot(families: Sequence[Family], link: Callable[[Family], str | None],
                 total: int) -> str:
    """Module at the top, one node per family (with its size) below, each linking to its view."""
    g = DotGraph("overview", {"rankdir": "LR", "nodesep": "0.12", "ranksep": "0.6"})
    module_url = link(Family("module", "", (), ()))
    g.node("module", label=f"Module ({total} subclasses)", fillcolor=_COLORS["module"],
           id="overview_module", **({"URL": module_url, "target": "_top"} if module_url else {}))
    for fam in families:
        names = ", ".join(short(q) for q in fam.classes[:4])
        more = f", … +{len(fam.classes) - 4}" if len(fam.classes) > 4 else ""
        label = (f"<B>{dot_label(fam.title)}</B> ({len(fam.classes)})<BR/>"
                 f'<FONT POINT-SIZE="9">{dot_label(names + more)}</FONT>')
        url = link(fam)
        g.html_node(f"family-{fam.slug}", label, fillcolor=_COLORS["class"],
                    id=svg_id("overview", fam.slug), tooltip=fam.title,
                    **({"URL": url, "target": "_top"} if url else {}))
        g.edge(f"family-{fam.slug}", "module", arrowhead="empty")
    return g.source()


# ----------------------------------------------------------------------------------------------
# UML class box


def uml_dot(cls: ClassDoc, view: ClassView, views: Mapping[str, ClassView], link: Linker,
            max_subclasses: int = 10) -> str:
    """The class as a UML box, its direct bases above and (up to a few) direct subclasses below."""
    g = DotGraph("uml", {"rankdir": "BT", "nodesep": "0.2", "ranksep": "0.4"})
    g.html_node(cls.qualname, uml_label(cls, view), shape="plain", id="uml_class",
                tooltip=cls.qualname)
    for base in direct_bases(view, views):
        g.node(base, label=short(base) if base != OBJECT else "object",
               fillcolor=_class_fill(base, views), **_link_attrs(base, link, "uml"))
        g.edge(cls.qualname, base, arrowhead="empty")
    subs = view.subclasses
    for sub in subs[:max_subclasses]:
        g.node(sub, label=short(sub), fillcolor=_class_fill(sub, views),
               **_link_attrs(sub, link, "uml"))
        g.edge(sub, cls.qualname, arrowhead="empty")
    if len(subs) > max_subclasses:
        g.node("__more__", label=f"+{len(subs) - max_subclasses} more subclasses",
               shape="plaintext", style="")
        g.edge("__more__", cls.qualname, style="dashed", arrowhead="empty")
    return g.source()


_MEMBER_MARK = {MemberKind.PARAMETER: "«param» ", MemberKind.BUFFER: "«buffer» ",
                MemberKind.SUBMODULE: "«module» ", MemberKind.PROPERTY: "«property» ",
                MemberKind.CONSTANT: "«const» "}


UML_MAX_LINES = 14  # per compartment: the box stays about a screen tall


def uml_label(cls: ClassDoc, view: ClassView, width: int = 72,
              max_lines: int = UML_MAX_LINES) -> str:
    """HTML-like label: name, own attributes, own methods; inherited ones counted, not listed.

    Each compartment shows at most `max_lines` lines (parameters, buffers and submodules
    first, then public names, then private ones); the rest is counted, the page's tables
    list them all."""
    rows = [f'<TR><TD BGCOLOR="{_COLORS["class"]}"><B>{dot_label(cls.name)}</B><BR/>'
            f'<FONT POINT-SIZE="9">{dot_label(cls.module)}</FONT></TD></TR>']
    members = sorted(cls.members, key=lambda m: (m.kind not in _MEMBER_FIRST,
                                                 _privacy(m.name)))
    attrs = [_visibility(m.name) + _MEMBER_MARK.get(m.kind, "") + m.name +
             (f": {m.type_text}" if m.type_text else "") for m in members]
    methods = [_visibility(m.name) + _method_line(m.signature)
               for m in sorted(cls.methods, key=lambda m: _privacy(m.name))]
    inherited_m = sum(1 for m in view.members if m.is_inherited)
    inherited_f = sum(1 for m in view.methods if m.is_inherited)
    for lines, extra in ((attrs, inherited_m), (methods, inherited_f)):
        shown = [dot_label(shorten(line, width)) for line in lines[:max_lines]]
        notes = []
        if len(lines) > max_lines:
            notes.append(f"{len(lines) - max_lines} more")
        if extra:
            notes.append(f"{extra} inherited")
        if notes:
            shown.append(f'<I><FONT COLOR="#6b7280">+ {" + ".join(notes)}'
                         f' (tables below)</FONT></I>')
        body = "<BR ALIGN=\"LEFT\"/>".join(shown) + '<BR ALIGN="LEFT"/>' if shown else " "
        rows.append(f'<TR><TD ALIGN="LEFT" BALIGN="LEFT">{body}</TD></TR>')
    return ('<TABLE BORDER="0" CELLBORDER="1" CELLSPACING="0" CELLPADDING="4" '
            'BGCOLOR="white">' + "".join(rows) + "</TABLE>")


_MEMBER_FIRST = (MemberKind.PARAMETER, MemberKind.BUFFER, MemberKind.SUBMODULE)


def _privacy(name: str) -> int:
    """0 public, 1 dunder, 2 private: the order names appear in a capped UML box."""
    if name.startswith("__") and name.endswith("__"):
        return 1
    return 2 if name.startswith("_") else 0


def _visibility(name: str) -> str:
    if name.startswith("__") and name.endswith("__"):
        return "+ "
    return "- " if name.startswith("_") else "+ "


def _method_line(signature: str) -> str:
    return re.sub(r"\((self|cls)(, )?", "(", signature, count=1)


# ----------------------------------------------------------------------------------------------
# Graphviz


def has_dot() -> bool:
    return shutil.which("dot") is not None


_SVG_START = re.compile(r"<svg\b")
_COMMENT = re.compile(r"<!--.*?-->", re.S)
_SIZE = re.compile(r'<svg[^>]*?width="([\d.]+)pt"[^>]*?height="([\d.]+)pt"', re.S)


def render_svg(dot: str) -> str:
    """SVG markup ready to inline in HTML: no XML prolog, no comments (they carry versions)."""
    try:
        raw = graphviz.Source(dot).pipe(format="svg", engine="dot").decode("utf-8")
    except graphviz.ExecutableNotFound as exc:
        raise GraphvizMissing() from exc
    except graphviz.CalledProcessError as exc:
        raise RenderError(f"dot failed: {exc.stderr.decode(errors='replace')[:500]}") from exc
    return _inline_svg(raw)


def _inline_svg(raw: str) -> str:
    match = _SVG_START.search(raw)
    body = raw[match.start():] if match else raw
    body = _COMMENT.sub("", body)
    return "\n".join(line for line in body.splitlines() if line.strip()) + "\n"


# Graphviz writes one SVG document per graph of its input, each opening with this prolog.
_PROLOG = re.compile(r"(?=<\?xml )")
# After the first graph of a run, Graphviz 2.x prefixes the graph's group ID with a page
# number left over from the previous graph (`page0,1_graph0`); a run of its own writes
# `graph0`.
_PAGED_GRAPH_ID = re.compile(r'<g id="page\d+,\d+_(graph\d+)" class="graph"')
_BATCH = 48  # graphs per `dot` run: few process starts, yet both cores busy


def render_svgs(dots: Sequence[str]) -> list[str]:
    """`render_svg` of each DOT text, drawn by one `dot` run for the lot.

    Starting `dot` (its plugins and fonts) costs far more than laying out one of these
    graphs, so the graphs go through one process; the SVG of each is the same as from a run
    of its own. When the run fails or its documents do not match the graphs one to one, each
    graph is drawn alone (which names the graph that failed)."""
    if len(dots) < 2:
        return [render_svg(dot) for dot in dots]
    try:
        raw = graphviz.pipe("dot", "svg", "\n".join(dots).encode("utf-8")).decode("utf-8")
    except graphviz.ExecutableNotFound as exc:
        raise GraphvizMissing() from exc
    except graphviz.CalledProcessError:
        return [render_svg(dot) for dot in dots]
    documents = [d for d in _PROLOG.split(raw) if d.strip()]
    if len(documents) != len(dots):
        return [render_svg(dot) for dot in dots]
    return [_inline_svg(_PAGED_GRAPH_ID.sub(r'<g id="\1" class="graph"', doc, count=1))
            for doc in documents]


def svg_key(dot: str) -> str:
    """The diagram store's key of a DOT text's SVG: the text and Graphviz's version."""
    return hashlib.sha256(f"svg\0{graphviz_version()}\0{dot}".encode()).hexdigest()


def svg_drawer(store: BlobStore | None) -> Callable[[str], str]:
    """`render_svg`, through `store` when there is one: a DOT text drawn by an earlier build
    (keyed by its text and Graphviz's version) is read back, not drawn again."""
    if store is None:
        return render_svg

    def draw(dot: str) -> str:
        key = svg_key(dot)
        kept = store.load(key)
        if isinstance(kept, str):
            return kept
        svg = render_svg(dot)
        store.store(key, svg)
        return svg

    return draw


class DeferredDrawer:
    """A drawer that answers each DOT text with a placeholder, then draws them all at once.

    For pages whose renderer asks for one SVG at a time: `fill` replaces the placeholders in
    the rendered texts by SVGs drawn in batches (`render_svgs`, through `store`), which is
    what drawing each on demand would have put there. It returns None when a placeholder
    did not come through the rendering unchanged, and the pages must be rendered again
    with a drawer that draws on demand."""

    def __init__(self, store: BlobStore | None) -> None:
        self.store = store
        self.dots: dict[str, str] = {}  # dot -> placeholder
        self._tag = secrets.token_hex(8)  # no page text can hold it by chance

    def __call__(self, dot: str) -> str:
        found = self.dots.get(dot)
        if found is None:
            found = self.dots[dot] = f"docgen-svg-{self._tag}-{len(self.dots)}"
        return found

    def fill(self, texts: Mapping[str, str]) -> dict[str, str] | None:
        if not self.dots:
            return dict(texts)
        pattern = re.compile(f"docgen-svg-{self._tag}-\\d+")
        seen = {m.group(0) for text in texts.values() for m in pattern.finditer(text)}
        if seen != set(self.dots.values()):
            return None
        svgs = dict(zip(self.dots.values(), self._draw(list(self.dots)), strict=True))
        return {rel: pattern.sub(lambda m: svgs[m.group(0)], text)
                for rel, text in texts.items()}

    def _draw(self, dots: list[str]) -> list[str]:
        keys = [svg_key(dot) for dot in dots]
        kept = [self.store.load(key) if self.store is not None else None for key in keys]
        todo = [dot for dot, svg in zip(dots, kept, strict=True) if not isinstance(svg, str)]
        drawn = dict(zip(todo, render_svgs(todo), strict=True))
        out = []
        for dot, key, svg in zip(dots, keys, kept, strict=True):
            if not isinstance(svg, str):
                svg = drawn[dot]
                if self.store is not None:
                    self.store.store(key, svg)
            out.append(svg)
        return out


def svg_size_px(svg: str) -> tuple[float, float]:
    """(width, height) in CSS pixels of an SVG written by Graphviz."""
    match = _SIZE.search(svg)
    if match is None:
        raise RenderError("SVG without a width/height in pt")
    return float(match.group(1)) * PT_TO_PX, float(match.group(2)) * PT_TO_PX


def unflatten(dot: str, stagger: int) -> str:
    try:
        return graphviz.unflatten(dot, stagger=stagger, fanout=True)
    except graphviz.ExecutableNotFound as exc:
        raise GraphvizMissing() from exc


def _variants(dot: str) -> Iterator[str]:
    """`dot`, then its staggered versions, each made (a `unflatten` run) only when asked."""
    yield dot
    for stagger in (2, 3, 5):
        yield unflatten(dot, stagger)


def fit_layout(candidates: Sequence[str], max_px: float = MAX_WIDTH_PX,
               drawn: Mapping[str, str] | None = None) -> tuple[str, str]:
    """The first candidate (or a staggered version of it) whose SVG fits `max_px` wide.

    Returns (dot, svg); when nothing fits, the narrowest one tried. `drawn` holds SVGs
    already made ({dot: svg}), which are not drawn again.
    """
    tried: list[tuple[float, str, str]] = []
    for dot in candidates:
        for variant in _variants(dot):
            svg = drawn.get(variant) if drawn is not None else None
            svg = svg if svg is not None else render_svg(variant)
            width = svg_size_px(svg)[0]
            if width <= max_px:
                return variant, svg
            tried.append((width, variant, svg))
    _, dot, svg = min(tried, key=lambda t: t[0])
    return dot, svg


@lru_cache(maxsize=1)
def graphviz_version() -> str:
    try:
        return ".".join(str(p) for p in graphviz.version())
    except (graphviz.ExecutableNotFound, RuntimeError):
        return "unknown"


def layout_key(candidates: Sequence[str], max_px: float) -> str:
    """What a layout depends on: the DOT candidates, the width limit, Graphviz's version."""
    text = "\0".join([graphviz_version(), repr(max_px), *candidates])
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def render_many(jobs: Mapping[str, Sequence[str]], workers: int = 4,
                max_px: float = MAX_WIDTH_PX,
                store: BlobStore | None = None) -> dict[str, tuple[str, str]]:
    """{key: (dot, svg)} for {key: candidates}, laid out in parallel (dot is a subprocess).

    With a store, a diagram whose DOT did not change since an earlier build is not laid out
    again: its (dot, svg) comes from the store, keyed by `layout_key`.
    """
    keys = sorted(jobs)
    done: dict[str, tuple[str, str]] = {}
    todo = []
    for key in keys:
        hit = store.load(layout_key(jobs[key], max_px)) if store is not None else None
        if isinstance(hit, tuple) and len(hit) == 2:
            done[key] = hit
        else:
            todo.append(key)
    # Each diagram's first candidate is drawn in batches (most fit as they are); the few
    # that are too wide then try their other layouts one `dot` run at a time.
    firsts = list(dict.fromkeys(jobs[k][0] for k in todo if jobs[k]))
    batches = [firsts[i:i + _BATCH] for i in range(0, len(firsts), _BATCH)]
    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        drawn = dict(zip(firsts, itertools.chain.from_iterable(pool.map(render_svgs, batches)),
                         strict=True))
        results = list(pool.map(lambda k: fit_layout(jobs[k], max_px, drawn), todo))
    for key, result in zip(todo, results, strict=True):
        done[key] = result
        if store is not None:
            store.store(layout_key(jobs[key], max_px), result)
    return {k: done[k] for k in keys}
