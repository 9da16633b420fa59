"""MkDocs' Markdown conversion of each page, cached and shared with a helper process.

Converting the Markdown is most of what MkDocs spends on a generated site. A page converts to
the same HTML, table of contents, title, anchors and warnings whenever its Markdown (after the
plugins' `on_page_markdown`), its place in the site, the set of files it can link to, the
Markdown configuration and the converting libraries are the same; the key of an entry is a
digest of exactly these, so a changed input never meets an old entry (nothing is ever
invalidated by hand). `docgen build` and `docgen serve` therefore convert only the pages whose
Markdown changed; the theme, the navigation, the search index and the sitemap are still made
by MkDocs from every page, so they stay right.

On a build with many pages to convert, a forked helper process converts pages from the end of
the list while MkDocs converts from the start (and parses their HTML for Material's search
index); a page the helper has not begun is converted by MkDocs itself, and a helper's result
is only used when its key is the page's key.

The session is set by `write.build_site` around one MkDocs build (`session`) and used by the
hooks it adds (`mkdocs_hooks.on_nav`, `on_pre_page`); without a session nothing is cached.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import time
from collections.abc import Iterator
from concurrent.futures import Future
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from docgen.sources.store import BlobStore

log = logging.getLogger(__name__)

# Below this many pages to convert, a helper process costs more than it saves.
HELPER_MIN_PAGES = 24
_CHUNK = 6  # pages per helper task: small enough that MkDocs steals what the helper lags on
_HELPER_PATIENCE = 60.0  # seconds to wait for one chunk before giving up on the helper
_KEEP_DAYS = 14  # entries unused this long are removed after a build


@dataclass(frozen=True)
class Converted:
    """What MkDocs' `Page.render` leaves on a page, and the log records it wrote."""

    content: str
    toc: Any
    title: str | None
    anchors: frozenset[str] | None
    links_to_anchors: dict[str, dict[str, str]] | None
    records: tuple[tuple[str, int, str], ...]  # (logger, level, message)


@dataclass
class Session:
    """One MkDocs build's cache: the store, what this build's pages share in their key."""

    store: BlobStore
    salt: str = ""
    helper: dict[str, Future[list[tuple[str, Converted]]]] = field(default_factory=dict)
    pool: Any = None
    search: list[Any] = field(default_factory=list)  # the search index's caching `add`s
    mine: list[tuple[str, Converted]] = field(default_factory=list)  # converted by MkDocs
    searching: dict[str, Future[None]] = field(default_factory=dict)  # src -> helper's task
    converted: int = 0
    reused: int = 0
    from_helper: int = 0
    searched_by_helper: int = 0


_SESSION: Session | None = None


def _library_versions() -> str:
    import importlib.metadata

    out = []
    for name in ("mkdocs", "markdown", "pymdown-extensions", "mkdocs-material", "pygments",
                 "docgen"):
        try:
            out.append(f"{name}={importlib.metadata.version(name)}")
        except importlib.metadata.PackageNotFoundError:
            out.append(f"{name}=?")
    return ";".join(out)


@contextlib.contextmanager
def session(folder: Path | None) -> Iterator[Session | None]:
    """The page cache in `folder` for the MkDocs build run inside the block (None: none)."""
    global _SESSION
    if folder is None:
        yield None
        return
    current = Session(BlobStore(folder))
    _SESSION = current
    try:
        yield current
    finally:
        _SESSION = None
        if current.pool is not None:
            _stop_helper(current.pool)
        _prune(folder)
        log.debug("page cache: %d converted, %d reused, %d by the helper (search entries of "
                  "%d more by the helper)", current.converted, current.reused,
                  current.from_helper, current.searched_by_helper)


def _stop_helper(pool: Any) -> None:
    """The helper has nothing more to do once MkDocs converted every page: end it, even one
    stuck (it would otherwise hold this process at exit)."""
    processes = list((getattr(pool, "_processes", None) or {}).values())
    pool.shutdown(wait=False, cancel_futures=True)
    for process in processes:
        with contextlib.suppress(Exception):
            process.terminate()


def _prune(folder: Path) -> None:
    """Remove entries no build used for _KEEP_DAYS (hits refresh an entry's time)."""
    limit = time.time() - _KEEP_DAYS * 86400
    stamp = folder / ".pruned"
    try:
        if stamp.exists() and stamp.stat().st_mtime > time.time() - 86400:
            return
        for path in folder.glob("??/*"):
            if path.stat().st_mtime < limit:
                path.unlink(missing_ok=True)
        stamp.touch()
    except OSError:
        pass


def _jsonable(value: Any) -> Any:
    # Anything without a stable text (an extension object) gets its repr, which names its
    # address: such a configuration never hits the cache, which is safe.
    return json.loads(json.dumps(value, sort_keys=True, default=repr))


def build_salt(config: Any, files: Any) -> str:
    """What every page's conversion shares: libraries, docgen's code of this module, the
    Markdown configuration, link validation, URLs style, and every file's source and URL."""
    digest = hashlib.sha256()
    digest.update(_library_versions().encode())
    digest.update(Path(__file__).read_bytes())
    settings = {"extensions": config["markdown_extensions"],
                "configs": config["mdx_configs"],
                "directory_urls": config["use_directory_urls"],
                "validation": config.get("validation"),
                "site_url": config.get("site_url")}
    digest.update(json.dumps(_jsonable(settings), sort_keys=True).encode())
    for file in sorted(files, key=lambda f: f.src_uri):
        digest.update(f"{file.src_uri}\0{file.dest_uri}\0{file.url}\0"
                      f"{file.inclusion}\0".encode())
    return digest.hexdigest()


def page_key(salt: str, page: Any, markdown: str) -> str:
    digest = hashlib.sha256(salt.encode())
    digest.update(f"\0{page.file.src_uri}\0{page.file.url}\0".encode())
    digest.update(markdown.encode("utf-8", "surrogatepass"))
    return digest.hexdigest()


class _Capture(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[tuple[str, int, str]] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append((record.name, record.levelno, record.getMessage()))


def convert(page: Any, config: Any, files: Any, render: Any) -> Converted:
    """Run MkDocs' own `render` on `page` and keep what it produced."""
    capture = _Capture()
    logger = logging.getLogger("mkdocs")
    logger.addHandler(capture)
    try:
        render(config, files)
    finally:
        logger.removeHandler(capture)
    links = page.links_to_anchors
    return Converted(page.content, page.toc, page._title_from_render,
                     frozenset(page.present_anchor_ids)
                     if page.present_anchor_ids is not None else None,
                     {f.src_uri: dict(v) for f, v in links.items()} if links is not None
                     else None, tuple(capture.records))


def apply(page: Any, files: Any, done: Converted) -> None:
    """Put a kept conversion on `page` and write its log records again (warnings count for
    --strict whether the page was converted now or before)."""
    page.content = done.content
    page.toc = done.toc
    page._title_from_render = done.title
    page.present_anchor_ids = set(done.anchors) if done.anchors is not None else None
    if done.links_to_anchors is not None:
        links = {}
        for src, anchors in done.links_to_anchors.items():
            target = files.get_file_from_path(src)
            if target is not None:
                links[target] = dict(anchors)
        page.links_to_anchors = links
    for name, level, message in done.records:
        logging.getLogger(name).log(level, "%s", message)


def on_nav(config: Any, files: Any) -> None:
    """Start of the pages: fix the build's salt; start the helper when many pages miss."""
    current = _SESSION
    if current is None:
        return
    current.salt = build_salt(config, files)
    _cache_search_entries(current, config)
    pages = [f for f in files.documentation_pages()]
    # Forked only from the main thread: `docgen serve` rebuilds in a thread of its server,
    # and a fork taken while other threads hold locks could hang.
    import threading

    if len(pages) < HELPER_MIN_PAGES or (os.cpu_count() or 1) < 2 \
            or threading.current_thread() is not threading.main_thread():
        return
    # Which pages probably miss: their Markdown as read (plugins may still change it; the
    # real key decides when the page is converted).
    missing = []
    for file in pages:
        try:
            text = Path(file.abs_src_path).read_text(encoding="utf-8-sig", errors="strict")
        except (OSError, ValueError, TypeError):
            continue
        key = _probe_key(current.salt, file, text)
        if not (current.store.root / key[:2] / key).is_file():
            missing.append(file.src_uri)
    if len(missing) < HELPER_MIN_PAGES:
        return
    _start_helper(current, config, files, missing)


def on_env(env: Any) -> None:
    """Every page is converted: the helper, idle now, makes the search entries of the pages
    MkDocs converted itself, from the end backwards, while MkDocs fills the theme's templates
    from the start. The theme's templates compiled once: Jinja's own bytecode cache (checked
    against each template's source) in the page cache's folder, since MkDocs makes a new
    environment for every build."""
    current = _SESSION
    if current is None:
        return
    _start_search_in_helper(current)
    if getattr(env, "bytecode_cache", None) is not None:
        return
    from jinja2 import FileSystemBytecodeCache

    folder = current.store.root / "jinja"
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError:
        return
    env.bytecode_cache = FileSystemBytecodeCache(str(folder))


def _toc_text(items: Any) -> list[Any]:
    return [[getattr(i, "id", None), getattr(i, "url", None), getattr(i, "title", None),
             getattr(i, "level", None), _toc_text(getattr(i, "children", ()))]
            for i in items or ()]


def _cache_search_entries(current: Session, config: Any) -> None:
    """Material's search index: a page's entries (its HTML parsed into sections) are kept
    like its conversion, keyed by everything they are made of: the page's HTML, table of
    contents, URL, title and front matter, and the plugin's version."""
    versions = _library_versions()
    for plugin in config.plugins.values():
        index = getattr(plugin, "search_index", None)
        if index is None or not type(plugin).__module__.startswith("material.plugins.search") \
                or not callable(getattr(index, "add_entry_from_context", None)) \
                or not isinstance(getattr(index, "entries", None), list):
            continue
        import sys

        module = sys.modules.get(type(plugin).__module__)
        jieba = getattr(module, "jieba", None) is not None
        original = index.add_entry_from_context

        def add(page: Any, index: Any = index, original: Any = original,
                jieba: bool = jieba) -> None:
            _await_search(current, page.file.src_uri)
            digest = hashlib.sha256(f"search\0{versions}\0{jieba}\0".encode())
            parts = {"url": page.url, "title": str(page.title), "meta": page.meta,
                     "toc": _toc_text(page.toc)}
            digest.update(json.dumps(_jsonable(parts), sort_keys=True).encode())
            digest.update((page.content or "").encode("utf-8", "surrogatepass"))
            key = digest.hexdigest()
            kept = current.store.load(key)
            if isinstance(kept, list):
                index.entries.extend(kept)
                _touch(current.store, key)
                return
            before = len(index.entries)
            original(page)
            current.store.store(key, index.entries[before:])

        index.add_entry_from_context = add
        current.search.append(add)


def _probe_key(salt: str, file: Any, text: str) -> str:
    # The key of a page whose plugins leave its Markdown as it was read (the usual case);
    # MkDocs strips the front matter before the plugins see it.
    from mkdocs.utils import meta

    body, _ = meta.get_data(text)
    digest = hashlib.sha256(salt.encode())
    digest.update(f"\0{file.src_uri}\0{file.url}\0".encode())
    digest.update(body.encode("utf-8", "surrogatepass"))
    return digest.hexdigest()


def _start_helper(current: Session, config: Any, files: Any, pages: list[str]) -> None:
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    if "fork" not in multiprocessing.get_all_start_methods():
        return
    global _HELPER_STATE
    _HELPER_STATE = (config, files)  # inherited by the forked helper, never pickled
    pool = ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("fork"))
    current.pool = pool
    # From the end backwards: MkDocs converts from the start, so they meet in the middle.
    chunks = [pages[i:i + _CHUNK] for i in range(0, len(pages), _CHUNK)]
    for chunk in reversed(chunks):
        future = pool.submit(_convert_in_helper, chunk)
        for src in chunk:
            current.helper[src] = future


_HELPER_STATE: tuple[Any, Any] | None = None


def _convert_in_helper(srcs: list[str]) -> list[tuple[str, Converted]]:
    """In the forked helper: what MkDocs' `_populate_page` does up to the conversion."""
    from mkdocs.structure.pages import Page

    assert _HELPER_STATE is not None
    config, files = _HELPER_STATE
    current = _SESSION
    out = []
    for src in srcs:
        file = files.get_file_from_path(src)
        if file is None:
            continue
        try:
            page = file.page if file.page is not None else Page(None, file, config)
            config._current_page = page
            page = config.plugins.on_pre_page(page, config=config, files=files)
            page.read_source(config)
            markdown = config.plugins.on_page_markdown(page.markdown, page=page, config=config,
                                                       files=files)
            page.markdown = markdown
            done = convert(page, config, files, type(page).render.__get__(page))
        except Exception:  # the page is converted by MkDocs itself, which reports it
            config._current_page = None
            continue
        key = page_key(current.salt if current is not None else "", page, markdown)
        out.append((key, done))
        # Its search entries too, kept in the store for MkDocs to find by their own key.
        try:
            page.content = config.plugins.on_page_content(page.content, page=page,
                                                          config=config, files=files)
            for add in current.search if current is not None else ():
                add(page)
        except Exception as exc:  # MkDocs makes them itself
            log.debug("page helper: no search entries for %s (%s)", src, exc)
        finally:
            config._current_page = None
    return out


def _start_search_in_helper(current: Session) -> None:
    """Hand the pages MkDocs converted to the helper for their search entries (kept in the
    store under their own key, where the caching `add` finds them)."""
    mine, current.mine = current.mine, []
    if current.pool is None or not current.search or len(mine) < HELPER_MIN_PAGES:
        return
    chunks = [mine[i:i + _CHUNK] for i in range(0, len(mine), _CHUNK)]
    try:
        for chunk in reversed(chunks):
            future = current.pool.submit(_search_in_helper, chunk)
            for src, _ in chunk:
                current.searching[src] = future
    except Exception as exc:  # a broken pool: MkDocs makes the entries itself
        log.debug("page helper: no search entries (%s)", exc)


def _await_search(current: Session, src: str) -> None:
    """Before MkDocs makes a page's search entries: the helper's, if it has begun them."""
    future = current.searching.pop(src, None)
    if future is None or future.cancel():
        return
    try:
        future.result(timeout=_HELPER_PATIENCE)
        current.searched_by_helper += 1
    except Exception as exc:  # a dead or stuck helper: MkDocs makes the rest itself
        log.debug("page helper failed (%s); making the search entries here", exc)
        for pending in current.searching.values():
            pending.cancel()
        current.searching.clear()


def _search_in_helper(items: list[tuple[str, Converted]]) -> None:
    """In the forked helper: each page as MkDocs holds it after `_populate_page` (source,
    its conversion, the plugins' `on_page_content`), then its search entries."""
    from mkdocs.structure.pages import Page

    assert _HELPER_STATE is not None
    config, files = _HELPER_STATE
    current = _SESSION
    for src, done in items:
        file = files.get_file_from_path(src)
        if file is None or current is None:
            continue
        try:
            page = file.page if file.page is not None else Page(None, file, config)
            config._current_page = page
            page.read_source(config)
            page.content = done.content
            page.toc = done.toc
            page._title_from_render = done.title
            page.content = config.plugins.on_page_content(page.content, page=page,
                                                          config=config, files=files)
            for add in current.search:
                add(page)
        except Exception as exc:  # MkDocs makes them itself
            log.debug("page helper: no search entries for %s (%s)", src, exc)
        finally:
            config._current_page = None


def wrap(page: Any) -> None:
    """Make `page.render` use the cache (called from `on_pre_page`)."""
    current = _SESSION
    if current is None or not current.salt:
        return
    original = page.render

    def render(config: Any, files: Any) -> None:
        markdown = page.markdown or ""
        key = page_key(current.salt, page, markdown)
        done = _from_helper(current, page.file.src_uri, key)
        if done is not None:
            current.from_helper += 1
            current.store.store(key, done)
        else:
            kept = current.store.load(key)
            if isinstance(kept, Converted):
                done = kept
                current.reused += 1
                _touch(current.store, key)
        if done is not None:
            apply(page, files, done)
            return
        done = convert(page, config, files, original)
        current.converted += 1
        current.store.store(key, done)
        if current.pool is not None:
            current.mine.append((page.file.src_uri, done))

    page.render = render


def _from_helper(current: Session, src: str, key: str) -> Converted | None:
    future = current.helper.pop(src, None)
    if future is None or future.cancel():
        return None
    try:
        results = future.result(timeout=_HELPER_PATIENCE)
    except Exception as exc:  # a dead or stuck helper: MkDocs converts the rest itself
        log.debug("page helper failed (%s); converting its pages here", exc)
        current.helper.clear()
        return None
    for result_key, done in results:
        if result_key == key:
            return done
    return None


def _touch(store: BlobStore, key: str) -> None:
    with contextlib.suppress(OSError):
        os.utime(store.root / key[:2] / key)
