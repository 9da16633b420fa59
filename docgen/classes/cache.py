"""The content-addressed analysis cache, and analysing many files across cores.

An entry is keyed by the file's bytes, its module name and path, docgen's version and the
model schema. Entries are written to a temporary file and renamed into place (safe against
concurrent runs and interruptions) and carry a checksum: a damaged entry is rebuilt, never
trusted.
"""

from __future__ import annotations

import gc
import hashlib
import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from docgen.core.records import ModuleAnalysis
from docgen.core.version import __version__
from docgen.sources.locate import ModuleFile, SourceSet
from docgen.sources.store import BlobStore

log = logging.getLogger(__name__)

SCHEMA = 1
# Below this many files to analyse, starting worker processes costs more than it saves.
PARALLEL_THRESHOLD = 24


def _code_key() -> str:
    """A hash of the code that produces analyses and projects, so a changed analyzer never
    reads stale entries, even between two builds of the same version."""
    digest = hashlib.sha256(f"{__version__}\0{SCHEMA}".encode())
    here = Path(__file__).parent.parent
    for folder in ("core", "sources", "classes"):
        for path in sorted((here / folder).glob("*.py")):
            digest.update(path.name.encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()


_CODE_KEY = _code_key()


def code_key() -> str:
    return _CODE_KEY


def entry_key(content_key: str, name: str, path: str) -> str:
    text = f"{_CODE_KEY}\0{content_key}\0{name}\0{path}"
    return hashlib.sha256(text.encode()).hexdigest()


class AnalysisCache(BlobStore):
    """Module analyses by file content, module name, path and analyzer code.

    `root` is docgen's cache folder; the analyses live in its `analysis/` subfolder, and
    other stores (diagram layouts) are siblings reached through `sibling`.
    """

    def __init__(self, root: Path) -> None:
        super().__init__(root / "analysis")
        self.base = root

    def sibling(self, name: str) -> BlobStore:
        return BlobStore(self.base / name)

    def get(self, content_key: str, name: str, path: str) -> ModuleAnalysis | None:
        value = self.load(entry_key(content_key, name, path))
        if value is not None and not isinstance(value, ModuleAnalysis):
            log.warning("cache entry for %s holds something else; rebuilding it", path)
            return None
        return value

    def put(self, content_key: str, analysis: ModuleAnalysis) -> None:
        self.store(entry_key(content_key, analysis.module.name, analysis.module.path), analysis)


# A worker's young-generation threshold: parsing makes objects by the million, and with
# Python's default (700) the collector runs thousands of times over each half-built tree.
_WORKER_GC_THRESHOLD = (10_000, 10, 10)


def _start_worker() -> None:
    """Import the analyzer, then move what the imports made out of the collector's sight:
    a worker's trees die with their file; only they need collecting."""
    from docgen.classes import analyze, parse  # noqa: F401  (astroid and the analyzer)

    gc.freeze()
    gc.set_threshold(*_WORKER_GC_THRESHOLD)
    gc.enable()  # forked while the parent's collector was paused


@contextmanager
def _collector_paused() -> Iterator[None]:
    """No cyclic garbage collection while analyses are unpickled: they are acyclic records,
    freed by reference counting, and a collection every few thousand of them would scan
    the whole growing heap again and again."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _work(job: tuple[str, str, bytes, str, bool]) -> ModuleAnalysis:
    from docgen.classes.resolve import analyze_file

    return analyze_file(*job)


def analyze_many(sources: SourceSet, names: list[str], *, cache: AnalysisCache | None = None,
                 jobs: int = 0) -> Iterator[ModuleAnalysis]:
    """Analyses of `names` in order, from the cache or computed (in parallel when it pays)."""
    found: list[ModuleFile] = [f for n in names if (f := sources.find_module(n)) is not None]
    ready: dict[str, ModuleAnalysis] = {}
    todo: list[tuple[str, tuple[str, str, bytes, str, bool]]] = []
    with _collector_paused():
        _read_or_hit(found, cache, ready, todo)
    cores = os.cpu_count() or 1
    workers = min(jobs, cores) if jobs > 0 else cores  # never more processes than cores
    if workers > 1 and len(todo) >= PARALLEL_THRESHOLD:
        from concurrent.futures import ProcessPoolExecutor

        with ProcessPoolExecutor(max_workers=workers, initializer=_start_worker) as pool, \
                _collector_paused():
            results = list(pool.map(_work, [job for _, job in todo], chunksize=4))
    else:
        results = [_work(job) for _, job in todo]
    for (key, _), analysis in zip(todo, results, strict=True):
        ready[analysis.module.name] = analysis
        if cache is not None:
            cache.put(key, analysis)
    for mf in found:
        yield ready[mf.name]


def _read_or_hit(found: list[ModuleFile], cache: AnalysisCache | None,
                 ready: dict[str, ModuleAnalysis],
                 todo: list[tuple[str, tuple[str, str, bytes, str, bool]]]) -> None:
    """Each file's analysis from the cache into `ready`, or its job into `todo`."""
    from docgen.classes.resolve import failed_analysis

    for mf in found:
        try:
            data = mf.tree.read_bytes(mf.path)
        except OSError as exc:
            ready[mf.name] = failed_analysis(mf.name, mf.path, mf.tree.info.name,
                                             mf.is_package, 1, f"cannot read: {exc}")
            continue
        key = hashlib.sha256(data).hexdigest()
        hit = cache.get(key, mf.name, mf.path) if cache else None
        if hit is not None:
            ready[mf.name] = hit
        else:
            todo.append((key, (mf.name, mf.path, data, mf.tree.info.name, mf.is_package)))
