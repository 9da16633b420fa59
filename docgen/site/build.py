"""`docgen build`: the stages from configuration to a built site, wired top to bottom.

    config -> project (analysis) -> composition -> diagrams (SVG) -> pages -> docs/ -> site/

`generate_docs` stops at the pages and touches no disk (the MkDocs plugin uses it);
`build` writes them and runs MkDocs through site.py.
"""

from __future__ import annotations

import hashlib
import logging
import os
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from docgen.classes.cache import AnalysisCache
from docgen.classes.families import MODULE_ROOT, group_families, module_family
from docgen.classes.project import load_project, open_project_sources
from docgen.classes.resolve import ModuleIndex, Resolver
from docgen.core.config import Config, config_from_options
from docgen.core.errors import ConfigError
from docgen.core.escape import disarm_templates
from docgen.core.names import short_name
from docgen.core.records import ClassView, Diagnostic, ModelDoc, Project
from docgen.core.templating import make_environment, shipped_templates
from docgen.models.composition import read_composition
from docgen.site.diagrams import (
    GraphvizMissing,
    ancestry_dot,
    composition_dot,
    family_dots,
    has_dot,
    overview_dot,
    render_many,
    uml_dot,
)
from docgen.site.docstrings import mathml_memo, memo_key, summary_markdown
from docgen.site.freshness import BuildRecord, input_fingerprint, load_record, store_record
from docgen.site.pages import (
    Diagram,
    ModelPage,
    PageRenderer,
    SiteContent,
    SiteLayout,
)
from docgen.site.study import (
    BACKENDS_PAGE,
    STUDY_PARTS,
    WALK_INDEX,
    ModelWalk,
    StudyPages,
    change_pages,
    group_walks_by_model,
    join_studies,
    render_study_pages,
    study_key,
    study_model,
    walk_pages,
)
from docgen.site.write import (
    build_site,
    builtin_site_config,
    check_owned,
    is_intact,
    output_lock,
    plugin_options,
    read_mkdocs_yml,
    remove_stale_staging,
    stage_docs,
    write_tree,
)
from docgen.sources.locate import SourceSet

log = logging.getLogger(__name__)

Progress = Callable[[str], None]


@dataclass(frozen=True)
class GeneratedDocs:
    """The generated pages ({path relative to the output folder: text}) and what went wrong."""

    files: Mapping[str, str]
    diagnostics: tuple[Diagnostic, ...]
    layout: SiteLayout
    families: tuple[str, ...] = ()
    timings: Mapping[str, float] = field(default_factory=dict)
    graphviz_missing: bool = False
    study_nav: tuple[tuple[str, str], ...] = ()  # (title, page) of walk and changes pages
    model_pages: tuple[tuple[str, str], ...] = ()  # (title, page) of the further models

    def nav(self, prefix: str = "") -> list[Any]:
        """A MkDocs nav for the generated pages, paths prefixed with `prefix`."""
        p = prefix
        hierarchy: list[Any] = [{"Overview": p + SiteLayout.HIERARCHY}]
        hierarchy += [p + SiteLayout.family_page(slug) for slug in self.families]
        nav: list[Any] = [{"Home": p + SiteLayout.HOME}]
        if p + SiteLayout.ANATOMY in {p + k for k in self.files}:
            nav.append({"Module anatomy": p + SiteLayout.ANATOMY})
        if self.model_pages:
            nav.append({"Models": [{title: p + page} for title, page in self.model_pages]})
        nav += [{"Hierarchy": hierarchy}, {"Classes": p + SiteLayout.CLASSES}]
        nav += [{title: p + page} for title, page in self.study_nav]
        return nav


def generate_docs(cfg: Config, *, cache: AnalysisCache | None = None, jobs: int = 0,
                  directory_urls: bool = False, templates: Path | None = None,
                  progress: Progress | None = None, summary: Any = None,
                  sources: SourceSet | None = None) -> GeneratedDocs:
    """Analyse, draw and render: every generated page as text. Writes nothing."""
    say = progress or (lambda _m: None)
    timings: dict[str, float] = {}
    clock = time.perf_counter()

    # 1. analysis: the selected packages and the model's module, from the cache when possible;
    # the study pages (summary, walk, changes) meanwhile in a process of their own
    say("analysing sources")
    sources = sources or open_project_sources(cfg)
    pending = _start_study(cfg, sources, cache, jobs) if summary is None else None
    try:
        project = load_project(cfg, sources=sources, cache=cache, jobs=jobs, progress=say)
    finally:
        if isinstance(pending, _Running):
            pending.analysed.set()
    views = {v.qualname: v for v in project.views}
    classes = {c.qualname: c for c in project.classes()}
    timings["analysis"], clock = time.perf_counter() - clock, time.perf_counter()

    # 2. composition: the model's layer tree and forward steps, from the model reader
    model, model_problems = read_model(cfg, sources, cache)
    more, other_problems = _more_compositions(cfg, sources, cache)
    clock = time.perf_counter()

    # 3. layout: which classes get pages, which families are drawn
    page_classes = _page_classes(cfg, views, model)
    for spec, composition in more:
        page_classes |= _page_classes(replace(cfg, model=spec), views, composition)
    layout = SiteLayout(frozenset(page_classes), directory_urls)
    families = group_families(views)

    # 4. diagrams: DOT for each, laid out to fit the width limit, drawn in parallel while the
    # study worker still runs (the diagrams need nothing of it; the pages do)
    say(f"drawing diagrams for {len(layout.class_pages)} classes")
    jobs_dot = _diagram_jobs(project, views, model, families, layout)
    for spec, composition in more:
        page = ModelPage.page_for(spec)
        jobs_dot[ModelPage(spec, page, composition).diagram_key] = [
            composition_dot(composition, layout.class_linker(page))]
    diagrams, missing = _draw(jobs_dot, jobs, cache)
    timings["diagrams"] = time.perf_counter() - clock

    env = make_environment(templates, cache.base / "templates" if cache is not None else None)
    env.filters["md_summary"] = summary_markdown  # summaries show math as the docstrings do
    math_store = cache.sibling("mathml") if cache is not None else None
    math_key = memo_key() if math_store is not None else ""
    memo = mathml_memo()
    known = math_store.load(math_key) if math_store is not None else None
    if isinstance(known, dict):
        memo.update(known)
    before = len(memo)
    # 4b. the class pages while the study workers still run (this process would only wait)
    ahead = {}
    if isinstance(pending, _Running):
        say(f"rendering {len(layout.class_pages)} class pages")
        clock = time.perf_counter()
        early = SiteContent(project, layout, model, families, diagrams, cfg.show_inherited,
                            None, classes, views)
        ahead = PageRenderer(env, early).class_pages(sorted(layout.class_pages))
        timings["class pages"] = time.perf_counter() - clock

    # 4c. study pages: summary table, walk to the kernels, changes between versions
    say("summary, walk and changes")
    study = _finish_study(pending, cfg, sources, cache) if summary is None \
        else StudyPages(summary=summary)
    timings.update(study.timings)
    others, other_studies, study_problems = _more_studies(cfg, more, sources, cache)
    other_problems = [*other_problems, *study_problems]
    clock = time.perf_counter()

    # 5. pages: the templates fill in the prepared rows (a class page rendered ahead is
    # kept unless it links its layer's Walk page, which the study names)
    say("rendering pages")
    content = SiteContent(project, layout, model, families, diagrams, cfg.show_inherited,
                          study.summary, classes, views, walk_pages(study),
                          tuple(change_pages(study)), others)
    ahead = {q: page for q, page in ahead.items() if q not in content.walk_pages}
    files = PageRenderer(env, content).all_pages(ahead)
    if math_store is not None and len(memo) != before:
        math_store.store(math_key, dict(memo))
    drawn = cache.sibling("diagrams") if cache is not None else None
    files.update(render_study_pages(study, env, layout.class_pages, layout, drawn))
    for other_study in other_studies:  # a walk page the first model has keeps its version
        for rel, text in render_study_pages(other_study, env, layout.class_pages,
                                            layout, drawn).items():
            files.setdefault(rel, text)
    if model is not None and others:  # each walk page lists its type's layers per model
        walks = [ModelWalk(short_name(model.qualname), SiteLayout.HOME, study),
                 *(ModelWalk(short_name(o.composition.qualname), o.page, s)
                   for o, s in zip(others, other_studies, strict=True))]
        files = group_walks_by_model(files, walks, env, SiteLayout.md_link)
    files = {rel: disarm_templates(text) if rel.endswith(".md") else text
             for rel, text in files.items()}
    timings["pages"] = time.perf_counter() - clock
    diagnostics = (*project.diagnostics, *model_problems, *study.diagnostics, *other_problems)
    return GeneratedDocs(files, tuple(diagnostics), layout, tuple(f.slug for f in families),
                         timings, missing, _study_nav(study),
                         tuple((o.composition.qualname.rsplit(".", 1)[-1], o.page)
                               for o in others))


def _more_compositions(cfg: Config, sources: SourceSet, cache: AnalysisCache | None,
                       ) -> tuple[list[tuple[str, ModelDoc]], list[Diagnostic]]:
    """(spec, composition) of each further model that could be read."""
    out: list[tuple[str, ModelDoc]] = []
    problems: list[Diagnostic] = []
    for spec in cfg.more_models:
        alone = replace(cfg, model=spec, more_models=(), changes=())
        composition, read_problems = read_model(alone, sources, cache)
        problems.extend(read_problems)
        if composition is not None:
            out.append((spec, composition))
    return out, problems


def _more_studies(cfg: Config, more: Sequence[tuple[str, ModelDoc]], sources: SourceSet,
                  cache: AnalysisCache | None,
                  ) -> tuple[tuple[ModelPage, ...], list[StudyPages], list[Diagnostic]]:
    """The page, summary and walks of each further model; the changes pages are the site's,
    made once with the first model."""
    pages: list[ModelPage] = []
    studies: list[StudyPages] = []
    problems: list[Diagnostic] = []
    for spec, composition in more:
        alone = replace(cfg, model=spec, more_models=(), changes=())
        study = _study(alone, sources, cache)
        problems.extend(study.diagnostics)
        studies.append(study)
        pages.append(ModelPage(spec, ModelPage.page_for(spec), composition, study.summary,
                               walk_pages(study)))
    return tuple(pages), studies, problems


def _study(cfg: Config, sources: SourceSet, cache: AnalysisCache | None) -> StudyPages:
    """The study pages' data, from the cache when the same wheels and options made it."""
    if cache is not None:
        hit = _cached_study(cfg, sources, cache)
        if hit is not None:
            return hit
    return _keep_study(cfg, sources, cache, study_model(cfg, sources, cache=cache))


def _keep_study(cfg: Config, sources: SourceSet, cache: AnalysisCache | None,
                study: StudyPages) -> StudyPages:
    key = study_key(cfg, sources) if cache is not None and not cfg.pytorch_src else None
    if key is not None and cache is not None and not study.diagnostics:
        cache.sibling("study").store(key, study)
    return study


# The study's parts, grouped by process: the walk is the longest, the others follow each other.
_STUDY_WORKERS = (("walk",), ("summary", "changes"))
# Parts that read the modules the build's analysis stores meanwhile: their worker begins once
# the analysis is done (the walk is longer anyway), rather than parse those modules again.
_AFTER_ANALYSIS = frozenset({"summary"})
_ANALYSIS_PATIENCE = 120.0  # seconds a worker waits for the analysis before going on alone
_ANALYSED: Any = None  # in a study worker: the Event set once the build's analysis is stored


@dataclass(frozen=True)
class _Running:
    """The study in its worker processes."""

    futures: list[Future[list[StudyPages]]]
    analysed: Any  # an Event: set by the build once its analysis is in the cache


def _start_study(cfg: Config, sources: SourceSet, cache: AnalysisCache | None,
                 jobs: int) -> StudyPages | _Running | None:
    """The cached study; else the study computed in processes of their own (the walk in one,
    the summary and the changes in another) while this one analyses and draws; None (made
    later, here) when it is small (no torch to walk) or parallel work is not wanted
    (jobs=1)."""
    if sources.find_module("torch.nn.modules.module") is None:
        return None
    hit = _cached_study(cfg, sources, cache) if cache is not None else None
    if hit is not None or jobs == 1 or (os.cpu_count() or 1) == 1:
        return hit
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    # Forked like the analysis workers (a spawned one would import the caller's main module
    # again); each opens the sources itself, never reading this process's open wheels, whose
    # file offsets it would share.
    method = "fork" if "fork" in multiprocessing.get_all_start_methods() else None
    context = multiprocessing.get_context(method)
    analysed = context.Event()  # handed to each worker as it starts (never pickled later)
    pool = ProcessPoolExecutor(max_workers=len(_STUDY_WORKERS), mp_context=context,
                               initializer=_remember_analysed, initargs=(analysed,))
    try:
        return _Running([pool.submit(_study_in_worker, cfg, parts, cache)
                         for parts in _STUDY_WORKERS], analysed)
    finally:
        pool.shutdown(wait=False)


def _remember_analysed(event: Any) -> None:
    global _ANALYSED
    _ANALYSED = event


def _study_in_worker(cfg: Config, parts: tuple[str, ...],
                     cache: AnalysisCache | None) -> list[StudyPages]:
    if _ANALYSED is not None and _AFTER_ANALYSIS & set(parts):
        _ANALYSED.wait(_ANALYSIS_PATIENCE)
    sources = open_project_sources(cfg)
    return [study_model(cfg, sources, (part,), cache) for part in parts]


def _finish_study(pending: StudyPages | _Running | None, cfg: Config,
                  sources: SourceSet, cache: AnalysisCache | None) -> StudyPages:
    """The study: cached, from its workers, or made here (no worker, or a worker died)."""
    if isinstance(pending, StudyPages):
        return pending
    if pending is not None:
        from concurrent.futures.process import BrokenProcessPool

        try:
            made = [future.result() for future in pending.futures]
        except BrokenProcessPool as exc:
            log.debug("study worker failed (%s); computing the study here", exc)
        else:
            by_part = {part: study for parts, studies in zip(_STUDY_WORKERS, made, strict=True)
                       for part, study in zip(parts, studies, strict=True)}
            return _keep_study(cfg, sources, cache, join_studies(
                [by_part[part] for part in STUDY_PARTS if part in by_part]))
    return _study(cfg, sources, cache)


def _cached_study(cfg: Config, sources: SourceSet, cache: AnalysisCache) -> StudyPages | None:
    key = study_key(cfg, sources) if not cfg.pytorch_src else None
    hit = cache.sibling("study").load(key) if key is not None else None
    return replace(hit, timings={}) if isinstance(hit, StudyPages) else None


def _study_nav(study: StudyPages) -> tuple[tuple[str, str], ...]:
    nav = []
    if study.walk is not None:
        nav += [("Walk to the kernels", WALK_INDEX), ("Backends", BACKENDS_PAGE)]
    nav += [(f"Changes {title}", page) for title, page in change_pages(study)]
    return tuple(nav)


def read_model(cfg: Config, sources: SourceSet, cache: AnalysisCache | None,
               ) -> tuple[ModelDoc | None, tuple[Diagnostic, ...]]:
    """The configured model's composition (None when no model is configured)."""
    if not cfg.model:
        return None, ()
    index = ModuleIndex(sources, cache.get if cache else None, cache.put if cache else None)
    return read_composition(Resolver(index), cfg.model, module_root=cfg.module_root)


def _page_classes(cfg: Config, views: Mapping[str, ClassView],
                  model: ModelDoc | None) -> set[str]:
    if cfg.pages == "all":
        return set(views)
    roots = {cfg.model_module + "." + cfg.model_class} if cfg.model else set()
    if model is not None:
        roots |= {t for t in layer_targets(model)}
    roots.add(MODULE_ROOT)
    return {q for r in roots if r in views for q in views[r].resolution_order if q in views}


def layer_targets(model: ModelDoc) -> list[str]:
    """The classes a model's layers are built from (containers and their children)."""
    stack, out = list(model.layers), []
    while stack:
        layer = stack.pop()
        if layer.target:
            out.append(layer.target)
        stack.extend(layer.children)
    return out


def _diagram_jobs(project: Project, views: Mapping[str, ClassView], model: ModelDoc | None,
                  families: Sequence[Any], layout: SiteLayout) -> dict[str, list[str]]:
    """{diagram key: layout candidates}; each key is embedded on exactly one page."""
    classes = {c.qualname: c for c in project.classes()}
    jobs: dict[str, list[str]] = {}
    if model is not None:
        jobs["composition"] = [composition_dot(model, layout.class_linker(SiteLayout.HOME))]
        roots = [model.qualname, *dict.fromkeys(layer_targets(model))]
        jobs["ancestry"] = [ancestry_dot(roots, views, layout.class_linker(SiteLayout.HIERARCHY))]
    total = len(module_family(views))
    hierarchy_link = layout.class_linker(SiteLayout.HIERARCHY)

    def family_url(fam: Any) -> str | None:
        if fam.slug == "module":
            return hierarchy_link(MODULE_ROOT)
        return layout.url(SiteLayout.HIERARCHY, SiteLayout.family_page(fam.slug))

    if families:
        jobs["overview"] = [overview_dot(families, family_url, total)]
    for fam in families:
        page = SiteLayout.family_page(fam.slug)
        for i, candidates in enumerate(family_dots(fam, views, layout.class_linker(page),
                                                   f"family-{fam.slug}")):
            jobs[f"family/{fam.slug}/{i}"] = candidates
    for qualname in sorted(layout.class_pages):
        class_page = layout.class_page(qualname)
        assert class_page is not None
        jobs[f"class/{qualname}"] = [uml_dot(classes[qualname], views[qualname], views,
                                             layout.class_linker(class_page))]
    return jobs


def _draw(jobs: Mapping[str, list[str]], workers: int,
          cache: AnalysisCache | None) -> tuple[dict[str, Diagram], bool]:
    """SVGs for every job; without Graphviz, the DOT sources alone (and one warning)."""
    if not has_dot():
        log.warning("%s", GraphvizMissing())
        return {k: Diagram(v[0], None) for k, v in jobs.items()}, True
    try:
        store = cache.sibling("diagrams") if cache is not None else None
        drawn = render_many(jobs, workers=workers or 4, store=store)
    except GraphvizMissing as exc:
        log.warning("%s", exc)
        return {k: Diagram(v[0], None) for k, v in jobs.items()}, True
    return {k: Diagram(dot, svg) for k, (dot, svg) in drawn.items()}, False


# ----------------------------------------------------------------------------------------------
# the whole build


@dataclass(frozen=True)
class BuildRequest:
    """What `docgen build` was asked: where the project is and what the CLI overrides."""

    root: Path
    overrides: Mapping[str, Any] = field(default_factory=dict)
    site_dir: Path | None = None
    run_mkdocs: bool = True
    strict: bool = False
    jobs: int = 0
    cache: AnalysisCache | None = None
    templates: Path | None = None
    staging: Path | None = None  # serve: build from a copy here, never write into docs/


@dataclass(frozen=True)
class BuildResult:
    output: Path
    site_dir: Path | None
    timings: Mapping[str, float]
    pages: int  # Markdown pages generated
    class_pages: int
    diagnostics: tuple[Diagnostic, ...]
    graphviz_missing: bool = False
    watch: tuple[Path, ...] = ()  # what `docgen serve` rebuilds on: config, docs, sources
    up_to_date: bool = False  # nothing was done: the inputs are those of the last build
    docs: GeneratedDocs | None = None  # None when up to date


def _watch_paths(cfg: Config, config_file: Path | None, docs_dir: Path | None,
                 templates: Path | None) -> tuple[Path, ...]:
    paths = [p for p in (config_file, docs_dir, templates) if p is not None]
    shipped = shipped_templates()
    if isinstance(shipped, Path):
        paths.append(shipped)
    paths += [Path(s.spec).resolve() for s in cfg.sources if Path(s.spec).is_dir()]
    return tuple(dict.fromkeys(p for p in paths if p.exists()))


def project_config(root: Path, overrides: Mapping[str, Any]) -> tuple[Config, Path | None]:
    """The Config from mkdocs.yml's docgen block (or the default), CLI overrides on top."""
    config_file = root / "mkdocs.yml"
    options: dict[str, Any] = {}
    if config_file.is_file():
        options = plugin_options(read_mkdocs_yml(config_file)) or {}
    else:
        config_file = None  # type: ignore[assignment]
    if "model" in overrides:  # --model studies that model alone, whatever `models:` lists
        options.pop("models", None)
    cfg = config_from_options({**options, **{k: v for k, v in overrides.items()
                                             if k != "sources"}})
    if "sources" in overrides:
        cfg = replace(cfg, sources=(*cfg.sources, *overrides["sources"]))
    return cfg, config_file


def _check_folders(root: Path, output: Path, docs_dir: Path | None, site_dir: Path) -> None:
    """Both folders are replaced whole: refuse any that would take the project with them."""
    problems = []
    keep = [root, *([docs_dir] if docs_dir else [])]
    for name, folder in (("output", output), ("site_dir", site_dir)):
        if any(k.is_relative_to(folder) for k in keep):
            problems.append(f"{name} {folder} would replace the project or its docs folder; "
                            "use a subfolder (default docs/generated and site)")
    if output.is_relative_to(site_dir) or site_dir.is_relative_to(output):
        problems.append(f"output {output} and site_dir {site_dir} must not contain each other")
    if problems:
        raise ConfigError(problems)


@dataclass(frozen=True)
class _Stamp:
    key: str  # which site folder
    value: str  # everything MkDocs would read to build it


def _site_stamp(docs: GeneratedDocs, config_file: Path | None, docs_dir: Path | None,
                output: Path, site_dir: Path, request: BuildRequest) -> _Stamp:
    """A digest of MkDocs' inputs: generated pages, hand-written docs, config, versions."""
    import importlib.metadata

    digest = hashlib.sha256()
    for name in ("docgen", "mkdocs", "mkdocs-material"):
        try:
            digest.update(f"{name}={importlib.metadata.version(name)}\0".encode())
        except importlib.metadata.PackageNotFoundError:
            digest.update(f"{name}=?\0".encode())
    digest.update(f"strict={request.strict}\0".encode())
    # the code MkDocs runs on docgen's behalf (hooks), which a checkout can change in place
    for hook in ("mkdocs_hooks.py", "fragments.py", "pagecache.py"):
        digest.update(Path(__file__).with_name(hook).read_bytes())
    for rel in sorted(docs.files):
        digest.update(f"{rel}\0{docs.files[rel]}\0".encode())
    if config_file is not None:
        digest.update(config_file.read_bytes())
    else:
        digest.update(repr(docs.nav()).encode())
    if docs_dir is not None and docs_dir.is_dir():
        for path in sorted(docs_dir.rglob("*")):
            if path.is_file() and not path.is_relative_to(output):
                digest.update(f"{path.relative_to(docs_dir).as_posix()}\0".encode())
                digest.update(path.read_bytes())
    key = hashlib.sha256(str(site_dir).encode()).hexdigest()
    return _Stamp(key, digest.hexdigest())


@dataclass(frozen=True)
class _Folders:
    """Where a build reads and writes; `docs_dir` is None without a user mkdocs.yml."""

    output: Path
    output_rel: str
    docs_dir: Path | None
    site_dir: Path


def _folders(request: BuildRequest, cfg: Config, config_file: Path | None,
             raw: Mapping[str, Any]) -> _Folders:
    output = (request.root / cfg.output).resolve()
    docs_dir = (request.root / raw.get("docs_dir", "docs")).resolve() if config_file else output
    output_rel = output.relative_to(docs_dir).as_posix() if output.is_relative_to(docs_dir) \
        else "."
    site_dir = (request.site_dir or request.root / _site_dir_option(cfg, raw)).resolve()
    folders = _Folders(output, output_rel, docs_dir if config_file else None, site_dir)
    _check_folders(request.root.resolve(), output, folders.docs_dir, site_dir)
    return folders


def _site_dir_option(cfg: Config, raw: Mapping[str, Any]) -> str:
    """The docgen block's site_dir when set, else mkdocs.yml's own `site_dir`, else site."""
    if cfg.site_dir != Config.site_dir or not isinstance(raw.get("site_dir"), str):
        return cfg.site_dir
    return str(raw["site_dir"])


def build(request: BuildRequest, progress: Progress | None = None) -> BuildResult:
    """Generate the docs into the output folder, then (optionally) build the site; nothing
    at all when the inputs are those of the last build and its folders are intact."""
    say = progress or (lambda _m: None)
    if not request.root.is_dir():
        raise ConfigError(f"{request.root}: project folder does not exist")
    if request.templates is not None and not request.templates.is_dir():
        raise ConfigError(f"{request.templates}: templates folder does not exist")
    cfg, config_file = project_config(request.root, request.overrides)
    raw = read_mkdocs_yml(config_file) if config_file else {}
    directory_urls = bool(raw.get("use_directory_urls", True)) if config_file else False
    folders = _folders(request, cfg, config_file, raw)
    written = _written_folders(request, folders)
    for folder in written:  # fail before the long work; checked again under the lock
        check_owned(folder)
    watch = _watch_paths(cfg, config_file, folders.docs_dir, request.templates)
    clock = time.perf_counter()
    inputs = _inputs(request, cfg, config_file, raw, folders, directory_urls)
    records = request.cache.sibling("fresh") if request.cache is not None else None
    if inputs is not None and records is not None:
        known = load_record(records, written)
        if known is not None and known.inputs == inputs and all(map(is_intact, written)):
            say("nothing changed")
            if known.graphviz_missing:
                log.warning("%s", GraphvizMissing())
            return BuildResult(folders.output, folders.site_dir if request.run_mkdocs else None,
                               {"check": time.perf_counter() - clock}, known.pages,
                               known.class_pages, known.diagnostics, known.graphviz_missing,
                               watch, up_to_date=True)
    docs = generate_docs(cfg, cache=request.cache, jobs=request.jobs,
                         directory_urls=directory_urls, templates=request.templates,
                         progress=say)
    timings = dict(docs.timings)
    with output_lock(written):
        # Under the lock: another build writing the same folders waits; leftovers of a
        # killed build of these folders (staging folders) are removed before writing.
        for folder in written:
            remove_stale_staging(folder)
        built_docs = _write_docs(request, cfg, folders, docs, say)
        if request.run_mkdocs:
            timings["mkdocs"] = _publish(request, config_file, folders, built_docs, docs, say)
    pages = sum(1 for f in docs.files if f.endswith(".md"))
    if inputs is not None and records is not None:
        store_record(records, written, BuildRecord(inputs, pages, len(docs.layout.class_pages),
                                                   docs.diagnostics, docs.graphviz_missing))
    return BuildResult(folders.output, folders.site_dir if request.run_mkdocs else None,
                       timings, pages, len(docs.layout.class_pages), docs.diagnostics,
                       docs.graphviz_missing, watch, docs=docs)


def _inputs(request: BuildRequest, cfg: Config, config_file: Path | None,
            raw: Mapping[str, Any], folders: _Folders, directory_urls: bool) -> str | None:
    """The fingerprint of this build's inputs; None when it cannot be named or a build with
    the same inputs could still differ (serve's private staging copy)."""
    if request.staging is not None or request.cache is None:
        return None
    return input_fingerprint(cfg, config_file=config_file, raw=raw,
                             docs_dir=folders.docs_dir, output=folders.output,
                             site_dir=folders.site_dir if request.run_mkdocs else None,
                             templates=request.templates, directory_urls=directory_urls,
                             strict=request.strict)


def _written_folders(request: BuildRequest, folders: _Folders) -> list[Path]:
    """The folders this build replaces (serve writes its pages to a private staging copy)."""
    out = [] if request.staging is not None else [folders.output]
    return out + ([folders.site_dir] if request.run_mkdocs else [])


def _write_docs(request: BuildRequest, cfg: Config, folders: _Folders, docs: GeneratedDocs,
                say: Progress) -> Path:
    """The docs folder MkDocs will read, with the generated pages in place."""
    if request.staging is not None:
        # 6. write (serve): a private copy of docs/ plus the generated pages
        built_docs = request.staging / "docs"
        stage_docs(built_docs, folders.docs_dir, folders.output_rel, docs.files)
        return built_docs
    # 6. write: the generated pages replace the output folder whole
    say(f"writing {len(docs.files)} pages to {cfg.output}")
    write_tree(folders.output, docs.files)
    return folders.docs_dir or folders.output


def _publish(request: BuildRequest, config_file: Path | None, folders: _Folders,
             built_docs: Path, docs: GeneratedDocs, say: Progress) -> float:
    """MkDocs into site/ unless nothing it reads changed since its last run; its seconds."""
    stamp = _site_stamp(docs, config_file, folders.docs_dir, folders.output, folders.site_dir,
                        request)
    stamps = request.cache.sibling("builds") if request.cache is not None else None
    if stamps is not None and stamps.load(stamp.key) == stamp.value \
            and is_intact(folders.site_dir):
        # 7. site: nothing that MkDocs reads changed since it built site/ last time, and
        # site/ still holds exactly what was written then (its manifest)
        say("site is up to date")
        return 0.0
    # 7. site: mkdocs build into a fresh folder, swapped into site/
    clock = time.perf_counter()
    say("running mkdocs build")
    page_cache = request.cache.base / "pages" if request.cache is not None else None
    if config_file is not None:
        css = f"{folders.output_rel}/{SiteLayout.CSS}".removeprefix("./")
        js = f"{folders.output_rel}/{SiteLayout.JS}".removeprefix("./")
        build_site(folders.site_dir, config_file=config_file, strict=request.strict,
                   extra_css=[css], extra_javascript=[js],
                   docs_dir=built_docs if request.staging else None, page_cache=page_cache)
    else:
        build_site(folders.site_dir, builtin=builtin_site_config(built_docs, docs.nav()),
                   strict=request.strict, page_cache=page_cache)
    if stamps is not None:
        stamps.store(stamp.key, stamp.value)
    return time.perf_counter() - clock
