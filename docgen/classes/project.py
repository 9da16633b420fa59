"""From a Config to a Project: open sources, analyse the selected modules, resolve, derive.

    sources -> analyses (parallel, cached) -> resolved classes (+ context bases) -> views
"""

from __future__ import annotations

import gc
import hashlib
import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from typing import TYPE_CHECKING

from docgen.classes.cache import AnalysisCache, analyze_many, code_key
from docgen.classes.hierarchy import compute_views
from docgen.core.config import Config
from docgen.core.errors import ConfigError, FetchError, LookupFailed, SourceError
from docgen.core.names import short_name
from docgen.core.records import ClassDoc, ClassView, Diagnostic, ModuleDoc, Project
from docgen.sources.locate import SourceSet, open_sources, source_fingerprint

if TYPE_CHECKING:
    from docgen.classes.resolve import ModuleIndex, Resolver

log = logging.getLogger(__name__)

Progress = Callable[[str], None]


def open_project_sources(cfg: Config) -> SourceSet:
    sources, problems = open_sources(cfg.top_level_names, cfg.sources, offline=cfg.offline)
    if problems:
        raise FetchError("; ".join(problems))
    return sources


def load_project(cfg: Config, *, sources: SourceSet | None = None,
                 cache: AnalysisCache | None = None, jobs: int = 0,
                 progress: Progress | None = None) -> Project:
    """Analyse what `cfg` selects. Raises only when nothing sensible can be produced.

    When every source is a wheel already in the cache (immutable once fetched), the whole
    Project is kept in the cache too, keyed by the wheels, the options and docgen's analyzer
    code: a warm `docgen show` then opens no archive and parses nothing.
    """
    key = _project_key(cfg) if sources is None and cache is not None else None
    if key is not None and cache is not None:
        hit = cache.sibling("projects").load(key)
        if isinstance(hit, Project):
            return hit
    project = _analyse_project(cfg, sources or open_project_sources(cfg), cache, jobs, progress)
    if key is not None and cache is not None:
        cache.sibling("projects").store(key, project)
    return project


def _project_key(cfg: Config) -> str | None:
    fingerprint = source_fingerprint(cfg.top_level_names, cfg.sources)
    if fingerprint is None:
        return None
    text = "\0".join([code_key(), fingerprint, repr(cfg.selected_packages), cfg.model,
                      cfg.module_root])
    return hashlib.sha256(text.encode()).hexdigest()


def _analyse_project(cfg: Config, sources: SourceSet, cache: AnalysisCache | None, jobs: int,
                     progress: Progress | None) -> Project:
    say = progress or (lambda _msg: None)
    selected = _selected_modules(cfg, sources)
    say(f"analysing {len(selected)} modules")
    from docgen.classes.resolve import ModuleIndex, Resolver  # not needed on a cache hit

    index = ModuleIndex(sources, cache.get if cache else None, cache.put if cache else None)
    for analysis in analyze_many(sources, selected, cache=cache, jobs=jobs):
        index.add(analysis)
    with _frozen_so_far():
        resolver = Resolver(index)
        classes = _resolve_all(selected, index, resolver, cfg.module_root)
        _check_model(cfg, classes, index)
        views = compute_views(classes, _public_paths(cfg, selected, index, resolver, classes))
        modules = _modules_of(classes, index, selected)
        diagnostics = _diagnostics(index, views, classes)
    say(f"analysed {len(classes)} classes")
    return Project(
        distributions=sources.distributions,
        packages=cfg.selected_packages,
        model=cfg.model or None,
        modules=modules,
        views=tuple(views[q] for q in sorted(views)),
        aliases=tuple(sorted((p, v.qualname) for v in views.values() for p in v.public_paths)),
        diagnostics=diagnostics,
    )


@contextmanager
def _frozen_so_far() -> Iterator[None]:
    """The analyses (millions of objects on a package like transformers) kept out of the
    cyclic collector's full passes while classes are resolved and views built: those
    passes would otherwise scan them again every time the heap grows by a quarter. What
    becomes garbage meanwhile is collected after, as usual."""
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


def _selected_modules(cfg: Config, sources: SourceSet) -> list[str]:
    problems, names = [], []
    for pkg in cfg.selected_packages:
        found = sources.modules_under(pkg)
        if not found:
            dists = ", ".join(f"{d.name} {d.version}" for d in sources.distributions)
            problems.append(f"package {pkg!r} not found in the sources read ({dists})")
        names.extend(found)
    if problems:
        raise ConfigError(problems)
    return list(dict.fromkeys(names))


def _resolve_all(selected: list[str], index: ModuleIndex, resolver: Resolver,
                 module_root: str) -> dict[str, ClassDoc]:
    """Selected classes resolved, plus the context classes their bases reach (not selected)."""
    from docgen.classes.resolve import base_expression, resolve_class

    module_memo: dict[str, bool] = {}

    def is_module(qualname: str, depth: int = 0) -> bool:
        if qualname == module_root:
            return True
        if qualname in module_memo or depth > 50:
            return module_memo.get(qualname, False)
        module_memo[qualname] = False
        cls = resolver.find_class(qualname)
        if cls is not None:
            for base in cls.bases:
                target = resolver.resolve_in_class(cls, base_expression(base.text))
                if target and target.kind == "class" and is_module(target.qualname, depth + 1):
                    module_memo[qualname] = True
                    break
        return module_memo[qualname]

    classes: dict[str, ClassDoc] = {}
    pending: list[ClassDoc] = []
    for name in selected:
        analysis = index.get(name)
        pending.extend(analysis.module.classes if analysis else ())
    selected_set = set(selected)
    while pending:
        cls = pending.pop(0)
        if cls.qualname in classes:
            continue
        resolved = resolve_class(cls, resolver, is_module)
        if cls.module not in selected_set:
            resolved = replace(resolved, is_selected=False)
        classes[cls.qualname] = resolved
        for base in resolved.bases:
            if base.target and base.target not in classes:
                context = resolver.find_class(base.target)
                if context is not None:
                    pending.append(context)
    return classes


def _check_model(cfg: Config, classes: dict[str, ClassDoc], index: ModuleIndex) -> None:
    if not cfg.model:
        return
    qualname = f"{cfg.model_module}.{cfg.model_class}"
    if qualname not in classes:
        analysis = index.get(cfg.model_module)
        for d in analysis.diagnostics if analysis is not None else ():
            if d.message.startswith("skipped: "):  # the model's own file could not be read
                raise SourceError(d.path, d.line, d.message.removeprefix("skipped: "))
        raise ConfigError(f"model class {cfg.model_class!r} not found in {cfg.model_module}")


def _public_paths(cfg: Config, selected: list[str], index: ModuleIndex, resolver: Resolver,
                  classes: dict[str, ClassDoc]) -> dict[str, tuple[str, ...]]:
    """`torch.nn.Conv2d` for `torch.nn.modules.conv.Conv2d`: names packages re-export."""
    paths: dict[str, set[str]] = {}
    with resolver.without_loading():
        for module in selected:
            _add_public_paths(module, index, resolver, classes, paths)
    return {q: tuple(sorted(p, key=lambda s: (s.count("."), s))) for q, p in paths.items()}


def _add_public_paths(module: str, index: ModuleIndex, resolver: Resolver,
                      classes: dict[str, ClassDoc], paths: dict[str, set[str]]) -> None:
    analysis = index.get(module)
    if analysis is None or not analysis.module.is_package:
        return
    names = set(resolver.exported_names(module)) | {
        n for n, b in analysis.symbols.bindings if b.kind == "import"}
    for name in sorted(names):
        target = resolver.resolve_in(module, name)
        if target and target.kind == "class" and target.qualname in classes \
                and f"{module}.{name}" != target.qualname:
            paths.setdefault(target.qualname, set()).add(f"{module}.{name}")


def _modules_of(classes: dict[str, ClassDoc], index: ModuleIndex,
                selected: list[str]) -> tuple[ModuleDoc, ...]:
    """Every selected module (classes or not) and every module a context class comes from."""
    by_module: dict[str, list[ClassDoc]] = {}
    for cls in classes.values():
        by_module.setdefault(cls.module, []).append(cls)
    out = []
    for name in {*selected, *by_module}:
        analysis = index.get(name)
        if analysis is None:
            continue
        own = sorted(by_module.get(name, []), key=lambda c: (c.location.line, c.qualname))
        out.append(replace(analysis.module, classes=tuple(own)))
    return tuple(sorted(out, key=lambda m: m.path))


def _diagnostics(index: ModuleIndex, views: dict[str, ClassView],
                 classes: dict[str, ClassDoc]) -> tuple[Diagnostic, ...]:
    out = [d for a in index.loaded() for d in a.diagnostics]
    for name, view in views.items():
        if view.mro_error:
            loc = classes[name].location
            out.append(Diagnostic(loc.path, loc.line, f"{name}: {view.mro_error}"))
    return tuple(sorted(set(out), key=lambda d: (d.path, d.line, d.message)))


def find_view(project: Project, name: str) -> ClassView:
    """The class named by its qualified or public path; LookupFailed lists close names."""
    views = {v.qualname: v for v in project.views}
    if name in views:
        return views[name]
    aliases = dict(project.aliases)
    if name in aliases:
        return views[aliases[name]]
    short = [q for q in views if short_name(q) == name]
    if len(short) == 1:
        return views[short[0]]
    import difflib

    candidates = [*views, *aliases]
    close = difflib.get_close_matches(name, candidates, n=5, cutoff=0.6)
    tail = short_name(name).lower()
    close += [c for c in candidates if short_name(c).lower() == tail and c not in close]
    raise LookupFailed(name, close[:5])
