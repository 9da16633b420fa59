"""The site's study pages beyond the class model: summary, walk, backends and changes.

Each is computed by its own stage (summary.py, walk.py, compare.py); this module only calls
them for the site, turns their failures into diagnostics (a page that cannot be made costs a
warning, never the build) and returns values. Writes nothing.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from docgen.core.config import Config
from docgen.core.errors import DocgenError
from docgen.core.records import Diagnostic, ModelSummary
from docgen.sources.locate import SourceSet

log = logging.getLogger(__name__)

WALK_INDEX = "walk/index.md"
BACKENDS_PAGE = "walk/backends.md"


@dataclass(frozen=True)
class StudyPages:
    """What the extra stages produced: data for the home page and pages of their own."""

    summary: ModelSummary | None = None
    walk: Any = None  # WalkReport
    backends: Any = None  # BackendsReport
    diffs: tuple[Any, ...] = ()  # Diff per configured pair of versions
    diagnostics: tuple[Diagnostic, ...] = ()
    timings: Mapping[str, float] = field(default_factory=dict)


def study_key(cfg: Config, sources: SourceSet) -> str | None:
    """A key for the study pages: the sources, the options these pages depend on and
    docgen's own code. None: not cacheable.

    Wheels count by name, size and time (immutable once fetched). A folder counts by the
    content of its files, except that docstrings in the modules of the model's own package
    do not count as long as every statement stays where it was (`code_fingerprint`): the
    summary and the walk never read them, so `docgen serve` keeps the study when only a
    docstring of the model changed."""
    from docgen.sources.locate import FolderTree, WheelTree

    if not all(isinstance(t, WheelTree | FolderTree) for t in sources.trees):
        return None
    digest = hashlib.sha256()
    here = Path(__file__).parent.parent  # all of docgen
    for code in sorted(here.glob("**/*.py")) + sorted((here / "data").glob("*.json")):
        digest.update(code.read_bytes())
    own = cfg.model_module.split(".")[0] + "/" if cfg.model else None
    for tree in sources.trees:
        if isinstance(tree, WheelTree):
            stat = tree.wheel.stat()
            digest.update(f"{tree.wheel.name}\0{stat.st_size}\0{stat.st_mtime_ns}\0".encode())
        elif not _digest_folder(digest, tree, own):
            return None
    options = (cfg.model, cfg.selected_packages, cfg.summary, cfg.walk, cfg.pytorch_src,
               cfg.change_pairs, cfg.offline)
    digest.update(repr(options).encode())
    return digest.hexdigest()


# Files larger than this count by size and time (compiled libraries, which no study reads).
_CONTENT_LIMIT = 4 << 20


def _digest_folder(digest: Any, tree: Any, own: str | None) -> bool:
    """Add a folder's files to `digest`; False when one cannot be read."""
    from docgen.classes.parse import code_fingerprint

    info = tree.info
    digest.update(f"folder\0{tree.root}\0{info.name}\0{info.version}\0".encode())
    for rel in tree.paths():
        path = tree.root / rel
        try:
            stat = path.stat()
            if stat.st_size > _CONTENT_LIMIT:
                digest.update(f"{rel}\0{stat.st_size}\0{stat.st_mtime_ns}\0".encode())
                continue
            data = tree.read_bytes(rel)
        except OSError:
            return False
        code = code_fingerprint(data, rel) if own is not None and rel.startswith(own) \
            and rel.endswith(".py") else None
        digest.update(f"{rel}\0{code or hashlib.sha256(data).hexdigest()}\0".encode())
    return True


def _problem(stage: str, exc: Exception) -> Diagnostic:
    return Diagnostic("<" + stage + ">", 0, f"{stage} page skipped: {exc}")


STUDY_PARTS = ("summary", "walk", "changes")


def study_model(cfg: Config, sources: SourceSet, parts: tuple[str, ...] = STUDY_PARTS,
                cache: Any = None) -> StudyPages:
    """Summary, walk and changes for the configured model; each one optional and isolated.
    `parts` names those to make (the others stay empty), so that they can be made in
    processes of their own and joined with `join_studies`. With `cache` (the build's
    AnalysisCache) the summary and the walk read the modules' analyses from it, and add those
    they had to make, instead of parsing every module again."""
    import time

    diagnostics: list[Diagnostic] = []
    timings: dict[str, float] = {}
    summary = walk = backends = None
    # Both need torch's own sources: the layer classes' code, the operator tables.
    has_torch = sources.find_module("torch.nn.modules.module") is not None
    if cfg.model and cfg.summary and has_torch and "summary" in parts:
        clock = time.perf_counter()
        try:
            summary = _summary(cfg, sources, cache)
            diagnostics.extend(d for d in summary.diagnostics if d.severity.matters)
        except (DocgenError, RecursionError) as exc:
            diagnostics.append(_problem("summary", exc))
        timings["summary"] = time.perf_counter() - clock
    if cfg.model and cfg.walk and has_torch and "walk" in parts and sources.has_file(
            "torchgen/packaged/ATen/native/native_functions.yaml"):
        clock = time.perf_counter()
        try:
            walk, backends = _walk(cfg, sources, cache)
        except (DocgenError, OSError, ValueError) as exc:
            diagnostics.append(_problem("walk", exc))
        timings["walk"] = time.perf_counter() - clock
    clock = time.perf_counter()
    diffs = []
    for old, new in cfg.change_pairs if "changes" in parts else ():
        try:
            diffs.append(_diff(cfg, old, new))
        except DocgenError as exc:
            diagnostics.append(_problem(f"changes {old} -> {new}", exc))
    if cfg.change_pairs and "changes" in parts:
        timings["changes"] = time.perf_counter() - clock
    return StudyPages(summary, walk, backends, tuple(diffs), tuple(diagnostics), timings)


def join_studies(parts: list[StudyPages]) -> StudyPages:
    """One study from studies of parts made apart (in STUDY_PARTS order): each field from the
    part that made it, diagnostics and timings in that order."""
    out = StudyPages()
    for part in parts:
        out = StudyPages(out.summary if out.summary is not None else part.summary,
                         out.walk if out.walk is not None else part.walk,
                         out.backends if out.backends is not None else part.backends,
                         out.diffs + part.diffs, out.diagnostics + part.diagnostics,
                         {**out.timings, **part.timings})
    return out


def _module_index(sources: SourceSet, cache: Any) -> Any:
    """The modules' analyses, through the analysis cache when there is one: the same
    analyses a parse would make (the cache is keyed by content and analyzer code)."""
    from docgen.classes.resolve import ModuleIndex

    if cache is None:
        return ModuleIndex(sources)
    return ModuleIndex(sources, cache.get, cache.put)


def _summary(cfg: Config, sources: SourceSet, cache: Any = None) -> ModelSummary:
    from docgen.classes.resolve import Resolver
    from docgen.summary.summarize import DEFAULT_INPUT, summarize_model

    return summarize_model(Resolver(_module_index(sources, cache)), cfg.model, DEFAULT_INPUT,
                           cfg.module_root)


def _walk(cfg: Config, sources: SourceSet, cache: Any = None) -> tuple[Any, Any]:
    from docgen.walk.walker import walk_for_site

    pytorch_src = Path(cfg.pytorch_src) if cfg.pytorch_src else None
    return walk_for_site(sources, cfg.model, pytorch_src=pytorch_src,
                         index=_module_index(sources, cache))


def _diff(cfg: Config, old: str, new: str) -> Any:
    from docgen.changes.compare import LoadOptions, diff_versions

    packages = tuple(p for p in cfg.selected_packages if p != cfg.model_module)
    # The build's own --source choices hold for both sides, except the distribution that
    # each side names (the version compared).
    return diff_versions(old, new, LoadOptions(packages=packages or None, model="",
                                               overrides=cfg.sources, offline=cfg.offline))


def render_study_pages(study: StudyPages, env: Any, class_pages: frozenset[str],
                       layout: Any = None, store: Any = None) -> dict[str, str]:
    """{relative path: Markdown} of the walk, backends and changes pages; `store` keeps the
    walk pages' route diagrams between builds (diagrams.svg_drawer)."""
    from docgen.changes.report import render_changes_pages

    pages: dict[str, str] = {}
    if study.walk is not None:
        from docgen.site.diagrams import DeferredDrawer, has_dot, svg_drawer
        from docgen.walk.render import render_walk_pages

        def class_page(qualname: str) -> str | None:
            return f"classes/{qualname}.md" if qualname in class_pages else None

        def render(draw: Any) -> dict[str, str]:
            return render_walk_pages(study.walk, study.backends, env, class_page,
                                     draw, layout.url if layout is not None else None)

        # the route diagrams drawn together, in few `dot` runs, once the pages name them
        deferred = DeferredDrawer(store) if has_dot() else None
        walked = render(deferred)
        filled = deferred.fill(walked) if deferred is not None else walked
        pages.update(filled if filled is not None else render(svg_drawer(store)))
        pages[WALK_INDEX] = env.get_template("walk_index.md.j2").render(
            report=study.walk, pages=walk_pages(study), backends=BACKENDS_PAGE)
    pages.update(render_changes_pages(study.diffs, env, class_pages))
    return pages


def walk_pages(study: StudyPages) -> dict[str, str]:
    """{layer class qualname or type text: its Walk page}, as render_walk_pages names them."""
    if study.walk is None:
        return {}
    out: dict[str, str] = {}
    for layer in study.walk.layers:
        type_name = layer.qualname or layer.type_text
        out.setdefault(type_name, f"walk/{type_name.rsplit('.', 1)[-1].lower()}.md")
    return out


def change_pages(study: StudyPages) -> list[tuple[str, str]]:
    """(title, page) per configured pair of versions."""
    from docgen.changes.report import changes_page_path

    return [(f"{d.old.label} → {d.new.label}", changes_page_path(d)) for d in study.diffs]


@dataclass(frozen=True)
class ModelWalk:
    """One model of the site and its study: its title, its page, its walk."""

    title: str
    page: str  # relative to the generated folder
    study: StudyPages


def layers_by_model(models: list[ModelWalk]) -> dict[str, list[dict[str, Any]]]:
    """{walk page: per model that has layers of the page's type, its layers with their
    constructor arguments and the operators each runs per setting}, in the site's model
    order (the first model first)."""
    out: dict[str, list[dict[str, Any]]] = {}
    for model in models:
        report = model.study.walk
        if report is None:
            continue
        views = report.views or (((report.setting, tuple(la.taken for la in report.layers)),)
                                 if report.setting is not None else ())
        pages = walk_pages(model.study)
        grouped: dict[str, list[dict[str, Any]]] = {}
        for i, layer in enumerate(report.layers):
            page = pages[layer.qualname or layer.type_text]
            runs = [(setting.label(), ", ".join(takens[i].work) or "no operator decided")
                    for setting, takens in views if takens[i] is not None]
            grouped.setdefault(page, []).append({
                "path": layer.path, "arguments": ", ".join("=".join(a) for a in layer.arguments),
                "runs": runs})
        for page, rows in grouped.items():
            out.setdefault(page, []).append({"title": model.title, "page": model.page,
                                             "layers": rows})
    return out


# The walk page's section heading the models' layers are put before (walk.md.j2).
_FULL_SECTION = "\n## Every branch read\n"


def group_walks_by_model(pages: dict[str, str], models: list[ModelWalk], env: Any,
                         link: Any) -> dict[str, str]:
    """The walk pages of a site with several models, each with the layers of its type in
    every model that uses it (grouped by model), and the walk index listing every model's
    walk pages. `link(page, target)` is the Markdown link from one page to another."""
    if len([m for m in models if m.study.walk is not None]) < 2:
        return pages
    out = dict(pages)
    template = env.get_template("_walk_models.md.j2")
    for page, groups in layers_by_model(models).items():
        if page not in out:
            continue
        section = template.render(groups=groups, link=lambda target, page=page:
                                  link(page, target))
        text = out[page]
        at = text.find(_FULL_SECTION)
        out[page] = (text[:at] + "\n" + section + text[at:]) if at >= 0 \
            else text.rstrip("\n") + "\n\n" + section
    first = next(m for m in models if m.study.walk is not None)
    every: dict[str, str] = {}
    for model in reversed(models):
        every.update(walk_pages(model.study))
    out[WALK_INDEX] = env.get_template("walk_index.md.j2").render(
        report=first.study.walk, pages=every, backends=BACKENDS_PAGE,
        models=[m.title for m in models if m.study.walk is not None])
    return out
