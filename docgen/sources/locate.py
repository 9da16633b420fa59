"""Finding the files under study: installed distributions, wheel archives, source folders, cache.

This module never imports the code it documents and never parses it: it only lists files and
hands out their bytes. Wheels are read straight from the zip archive, never extracted.
"""

from __future__ import annotations

import email.parser
import functools
import importlib.metadata
import io
import logging
import os
import re
import stat
import subprocess
import sys
import tempfile
import tokenize
import zipfile
import zlib
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import platformdirs
from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from docgen.core.config import SourceSpec
from docgen.core.errors import ConfigError, FetchError, SourceError
from docgen.core.records import DistributionInfo

log = logging.getLogger(__name__)

# What the embedded default reads when a distribution is not installed.
DEFAULT_PINS: dict[str, str] = {"torch": "torch==2.13.0", "torchvision": "torchvision==0.28.0"}

# The largest file docgen reads, from a folder or a wheel (torch's largest source file is
# 1.4 MB): a bigger one is skipped with a warning, never read whole into memory.
MAX_FILE_BYTES = 8 * 1024 * 1024

_WHEEL_NAME = re.compile(r"^(?P<name>[^-]+)-(?P<version>[^-]+)(-\d[^-]*)?-[^-]+-[^-]+-[^-]+\.whl$")


def cache_dir() -> Path:
    """The one folder docgen caches into: `DOCGEN_CACHE_DIR`, else the user cache folder.

    Raises ConfigError when that path exists and is not a folder."""
    env = os.environ.get("DOCGEN_CACHE_DIR")
    folder = Path(env) if env else Path(platformdirs.user_cache_dir("docgen"))
    try:
        is_other = folder.exists() and not folder.is_dir()
    except OSError as exc:
        raise ConfigError(f"cache folder {folder}: {exc.strerror or exc}") from exc
    if is_other:
        where = "DOCGEN_CACHE_DIR=" if env else "cache folder "
        raise ConfigError(f"{where}{folder}: not a folder; point DOCGEN_CACHE_DIR at a folder")
    return folder


def user_path(text: str) -> Path:
    """A path the user typed (`~` expanded); a clear ConfigError for an unknown user's `~`,
    a name longer than the file system allows, or a path that cannot be examined."""
    try:
        path = Path(text).expanduser()
    except RuntimeError as exc:
        raise ConfigError(f"{text}: cannot expand '~' ({exc})") from exc
    try:
        path.exists()
    except OSError as exc:
        shown = text if len(text) <= 80 else text[:60] + "..." + text[-16:]
        raise ConfigError(f"{shown}: {exc.strerror or exc}") from exc
    return path


class MemberError(OSError):
    """A file or wheel member docgen will not read: damaged, encrypted, unsupported
    compression, too large, not a regular file; its text is the reason alone."""


class FileTooLarge(MemberError):
    """A file over MAX_FILE_BYTES (declared or found while reading)."""


def _too_large(size: int | None = None) -> FileTooLarge:
    shown = f"{size:,} bytes; " if size is not None else ""
    mib, rest = divmod(MAX_FILE_BYTES, 1024 * 1024)
    limit = f"{mib} MiB" if mib and not rest else f"{MAX_FILE_BYTES:,} bytes"
    return FileTooLarge(f"too large ({shown}docgen reads files up to {limit})")


def read_member(zf: zipfile.ZipFile, name: str, archive: str) -> bytes:
    """The bytes of one archive member, at most MAX_FILE_BYTES whatever its header declares
    (a zip bomb is stopped while it inflates); every way a zip can fail is a MemberError."""
    try:
        info = zf.getinfo(name)
        if info.file_size > MAX_FILE_BYTES:
            raise _too_large(info.file_size)
        with zf.open(info) as handle:
            data = handle.read(MAX_FILE_BYTES + 1)
        if len(data) > MAX_FILE_BYTES:
            raise _too_large()
        return data
    except MemberError:
        raise
    except KeyError:
        raise FileNotFoundError(name) from None
    except RuntimeError as exc:  # encrypted: zipfile asks for a password
        raise MemberError(f"encrypted member of {archive}") from exc
    except NotImplementedError as exc:
        raise MemberError(f"{exc} (member of {archive})") from exc
    except (zipfile.BadZipFile, OSError, EOFError, zlib.error, ValueError) as exc:
        raise MemberError(f"damaged member of {archive}: {exc}") from exc


class SourceTree:
    """The files of one distribution, by POSIX path relative to its root (site-packages-like)."""

    info: DistributionInfo

    def paths(self) -> Iterable[str]:
        raise NotImplementedError

    def read_bytes(self, path: str) -> bytes:
        raise NotImplementedError

    def describe(self) -> str:
        return f"{self.info.name} {self.info.version} ({self.info.origin})"


def is_safe_member(path: str) -> bool:
    """A member path that stays inside its root: relative, no `..`, no drive."""
    if not path or path.startswith(("/", "\\")) or (len(path) > 1 and path[1] == ":"):
        return False
    return ".." not in path.replace("\\", "/").split("/")


class WheelTree(SourceTree):
    """A wheel read in place; member names are checked, nothing is written anywhere."""

    def __init__(self, wheel: Path, spec: str) -> None:
        self.wheel = wheel
        try:
            self._zip = zipfile.ZipFile(wheel)
            names = self._zip.namelist()
        except (zipfile.BadZipFile, OSError, EOFError) as exc:
            raise FetchError(f"{wheel.name}: not a readable wheel ({exc})") from exc
        self._names = {n: n for n in names if not n.endswith("/") and is_safe_member(n)}
        for bad in sorted(set(names) - set(self._names)):
            if not bad.endswith("/"):
                log.warning("%s: skipping unsafe member path %r", wheel.name, bad)
        try:
            meta = _wheel_metadata(self._zip, self._names, wheel.name)
        except MemberError as exc:
            raise FetchError(f"{wheel}: cannot read its METADATA: {exc}") from exc
        name = meta.get("Name") or _name_from_wheel_filename(wheel.name)[0]
        version = meta.get("Version") or _name_from_wheel_filename(wheel.name)[1]
        self.info = DistributionInfo(name=name, version=version, origin="wheel", spec=spec)

    def paths(self) -> Iterable[str]:
        return self._names.keys()

    def read_bytes(self, path: str) -> bytes:
        if path not in self._names:
            raise FileNotFoundError(path)
        return read_member(self._zip, self._names[path], self.wheel.name)


class FolderTree(SourceTree):
    """A folder on disk (a checkout, site-packages restricted to one distribution's files)."""

    def __init__(self, root: Path, info: DistributionInfo,
                 files: Iterable[str] | None = None) -> None:
        self.root = root
        self.info = info
        self._files = sorted(files) if files is not None else None

    def paths(self) -> Iterable[str]:
        if self._files is None:
            self._files = sorted(_walk(self.root))
        return self._files

    def read_bytes(self, path: str) -> bytes:
        return read_regular_file(self.root, path)


def _is_inside(path: str, root: str) -> bool:
    return path == root or path.startswith(root.rstrip(os.sep) + os.sep)


def read_regular_file(root: Path, rel: str) -> bytes:
    """The bytes of `root/rel` when it is a regular file inside `root` (a symbolic link may
    point elsewhere inside it), at most MAX_FILE_BYTES; never blocks on a FIFO or a device."""
    real_root = os.path.realpath(root)
    real = os.path.realpath(os.path.join(real_root, rel))
    if not _is_inside(real, real_root):
        raise MemberError("symbolic link leading outside the source folder")
    flags = os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOFOLLOW", 0) | \
        getattr(os, "O_CLOEXEC", 0)
    fd = os.open(real, flags)
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise MemberError("not a regular file")
        if info.st_size > MAX_FILE_BYTES:
            raise _too_large(info.st_size)
        chunks, size = [], 0
        while size <= MAX_FILE_BYTES:
            chunk = os.read(fd, min(1 << 20, MAX_FILE_BYTES + 1 - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
        if size > MAX_FILE_BYTES:
            raise _too_large()
        return b"".join(chunks)
    finally:
        os.close(fd)


def _walk(root: Path) -> Iterator[str]:
    """Regular files under `root`, as POSIX paths; a symbolic link counts only when it leads
    to a regular file inside `root`. Everything else met is reported once (path: reason)."""
    real_root = os.path.realpath(root)
    pending = [""]
    while pending:
        rel_dir = pending.pop()
        try:
            entries = sorted(os.scandir(os.path.join(root, rel_dir)), key=lambda e: e.name)
        except OSError as exc:
            log.warning("%s: skipped: %s", os.path.join(root, rel_dir), exc.strerror or exc)
            continue
        for entry in entries:
            rel = f"{rel_dir}/{entry.name}" if rel_dir else entry.name
            reason = _skip_reason(entry, real_root)
            if reason == "folder":
                if not entry.name.startswith(".") and entry.name != "__pycache__":
                    pending.append(rel)
            elif reason:
                if not entry.name.startswith("."):
                    log.warning("%s: skipped: %s", os.path.join(root, rel), reason)
            else:
                yield rel


def _skip_reason(entry: os.DirEntry[str], real_root: str) -> str:
    """"" for a file to read, "folder" for a folder to enter, else why it is left out."""
    try:
        if entry.is_symlink():
            target = os.path.realpath(entry.path)
            if not _is_inside(target, real_root):
                return "symbolic link leading outside the source folder"
            if os.path.isdir(target):
                return "symbolic link to a folder (not followed)"
            mode = os.stat(target).st_mode
        elif entry.is_dir(follow_symlinks=False):
            return "folder"
        else:
            mode = entry.stat(follow_symlinks=False).st_mode
    except OSError as exc:
        return exc.strerror or str(exc)
    return "" if stat.S_ISREG(mode) else "not a regular file (FIFO, socket or device)"


def _wheel_metadata(zf: zipfile.ZipFile, names: dict[str, str],
                    archive: str) -> dict[str, str]:
    meta = [n for n in names if re.fullmatch(r"[^/]+\.dist-info/METADATA", n)]
    if not meta:
        return {}
    data = read_member(zf, meta[0], archive)
    msg = email.parser.HeaderParser().parsestr(data.decode("utf-8", "replace"))
    return {k: str(v) for k, v in msg.items() if k in ("Name", "Version")}


def _name_from_wheel_filename(filename: str) -> tuple[str, str]:
    m = _WHEEL_NAME.match(filename)
    if not m:
        return filename, "unknown"
    return m["name"], m["version"]


def _folder_version(root: Path, name: str) -> str:
    for meta in sorted(root.glob("*.dist-info/METADATA")):
        if canonicalize_name(meta.parent.name.split("-")[0]) == canonicalize_name(name):
            for line in meta.read_text("utf-8", "replace").splitlines():
                if line.startswith("Version:"):
                    return line.split(":", 1)[1].strip()
    for candidate in (root / name / "version.py", root / "version.txt"):
        if candidate.is_file():
            m = re.search(r"""(?:__version__|version)\s*=\s*['"]([^'"]+)['"]""",
                          candidate.read_text("utf-8", "replace"))
            if m:
                return m.group(1)
            text = candidate.read_text("utf-8", "replace").strip()
            if candidate.suffix == ".txt" and text:
                return text.splitlines()[0]
    return "unknown"


def open_folder(name: str, folder: Path, spec: str) -> FolderTree:
    """A folder that holds package `name` (`folder/name/`) or is that package (`.../name`)."""
    folder = folder.resolve()
    root = folder
    if not (folder / name).is_dir() and folder.name == name:
        root = folder.parent
    if not (root / name).is_dir() and not (root / f"{name}.py").is_file():
        raise FetchError(f"{folder}: holds no package {name!r} (expected {name}/ inside it)")
    info = DistributionInfo(name=name, version=_folder_version(root, name), origin="folder",
                            spec=f"folder:{folder.name}")
    return FolderTree(root, info)


def find_installed(name: str) -> importlib.metadata.Distribution | None:
    """The installed distribution `name`, read from its metadata only (nothing is imported)."""
    try:
        return importlib.metadata.distribution(name)
    except importlib.metadata.PackageNotFoundError:
        return None


def open_installed(name: str) -> FolderTree:
    dist = find_installed(name)
    if dist is None:
        raise FetchError(f"{name} is not installed in this environment ({sys.prefix})")
    root = Path(str(dist.locate_file("")))
    files = [f.as_posix() for f in (dist.files or []) if is_safe_member(f.as_posix())]
    info = DistributionInfo(name=dist.metadata["Name"] or name, version=dist.version,
                            origin="env", spec="env")
    return FolderTree(root, info, files or None)


def _matching_wheels(req: Requirement, wheels: Path) -> list[tuple[Version, Path]]:
    found = []
    for whl in wheels.glob("*.whl"):
        wname, wversion = _name_from_wheel_filename(whl.name)
        if canonicalize_name(wname) != canonicalize_name(req.name):
            continue
        try:
            version = Version(wversion)
        except InvalidVersion:
            continue
        if req.specifier.contains(version, prereleases=True) or (
                version.local and req.specifier.contains(Version(version.public), True)):
            found.append((version, whl))
    return sorted(found)


def fetch_requirement(text: str, *, offline: bool = False, cache: Path | None = None) -> Path:
    """A wheel for requirement `text` from the cache, else `pip download --no-deps` into it.

    The cache key is the distribution name and version, whatever the platform tag, so a wheel
    fetched once serves every later run. Downloads land in a temporary folder and are moved
    in whole once checked, so an interrupted fetch never leaves a half-written wheel behind.
    """
    try:
        req = Requirement(text)
    except InvalidRequirement as exc:
        raise ConfigError(f"not a requirement, wheel or folder: {text!r} ({exc})") from exc
    wheels = (cache or cache_dir()) / "wheels"
    hits = _matching_wheels(req, wheels) if wheels.is_dir() else []
    if hits:
        return hits[-1][1]
    if offline:
        raise FetchError(f"{text}: not in the cache {wheels} and --offline forbids downloading; "
                         f"run once online, or: pip download --no-deps '{text}' -d {wheels}")
    try:
        wheels.mkdir(parents=True, exist_ok=True)
        scratch = tempfile.TemporaryDirectory(dir=wheels, prefix=".fetch-")
    except OSError as exc:
        raise FetchError(f"{text}: cannot download into the cache {wheels}: "
                         f"{exc.strerror or exc}; set DOCGEN_CACHE_DIR to a writable folder"
                         ) from exc
    with scratch as tmp:
        cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
               "--disable-pip-version-check", "-q", "-d", tmp, text]
        log.info("fetching %s with pip download --no-deps", text)
        proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
        got = sorted(Path(tmp).glob("*.whl"))
        if proc.returncode != 0 or not got:
            detail = (proc.stderr or proc.stdout).strip().splitlines()
            reason = detail[-1] if detail else f"pip exited with {proc.returncode}"
            raise FetchError(f"{text}: pip download failed: {reason}")
        whl = got[0]
        wname, _ = _name_from_wheel_filename(whl.name)
        if canonicalize_name(wname) != canonicalize_name(req.name):
            raise FetchError(f"{text}: pip returned a wheel of another distribution ({whl.name})")
        # Refuse a damaged download, or one whose METADATA names another distribution,
        # before it enters the cache (a cached wheel serves every later run).
        fetched = WheelTree(whl, text)
        if canonicalize_name(fetched.info.name) != canonicalize_name(req.name):
            raise FetchError(f"{text}: the wheel {whl.name} says it is distribution "
                             f"{fetched.info.name!r} in its METADATA; not cached")
        target = wheels / whl.name
        os.replace(whl, target)
    return target


def open_source(spec: SourceSpec, *, offline: bool = False) -> SourceTree:
    """Open one source as the spec says; a bare name gets env if installed, else its pin."""
    value = spec.spec
    if value == "env":
        return open_installed(spec.name)
    path = user_path(value)
    if value.endswith(".whl"):
        if not path.is_file():
            raise FetchError(f"{value}: no such wheel file")
        tree = WheelTree(path, f"wheel:{path.name}")
        _check_name(tree, spec.name)
        return tree
    if path.is_dir():
        return open_folder(spec.name, path, value)
    if os.sep in value or value.startswith("."):
        raise FetchError(f"{value}: no such folder or wheel")
    req_name = _requirement_name(value)
    if canonicalize_name(req_name) != canonicalize_name(spec.name):
        # Checked before any download (`--source scikit-learn==1.9.1` is the way to name a
        # distribution whose import name differs: its packages are then found in its files).
        raise ConfigError(f"--source {spec.name}={value}: the requirement names {req_name!r}")
    tree = WheelTree(fetch_requirement(value, offline=offline), value)
    _check_name(tree, spec.name)
    return tree


def _requirement_name(value: str) -> str:
    try:
        return Requirement(value).name
    except InvalidRequirement as exc:
        raise ConfigError(f"not a requirement, wheel or folder: {value!r} ({exc})") from exc


def _check_name(tree: SourceTree, name: str) -> None:
    """`name` is the tree's distribution (scikit-learn) or an import package it provides
    (sklearn)."""
    if canonicalize_name(tree.info.name) != canonicalize_name(name) \
            and name not in top_level_packages(tree):
        raise FetchError(f"{tree.info.spec}: holds distribution {tree.info.name!r}, "
                         f"not {name!r} (nor a package {name!r})")


def top_level_packages(tree: SourceTree) -> frozenset[str]:
    """The import names a tree provides: its top-level packages and modules (`sklearn` for
    the scikit-learn wheel), read from its file list, the same facts as top_level.txt."""
    cached = getattr(tree, "_top_levels", None)
    if cached is None:
        names = set()
        for path in tree.paths():
            head, sep, _ = path.partition("/")
            if sep and path.endswith((".py", ".pyi")) and ".dist-info" not in head \
                    and ".data" not in head and head.isidentifier():
                names.add(head)
            elif not sep and path.endswith(".py") and path[:-3].isidentifier():
                names.add(path[:-3])
        cached = frozenset(names)
        tree._top_levels = cached  # type: ignore[attr-defined]
    return cached


def _installed_provider(import_name: str) -> str | None:
    """The installed distribution that provides import package `import_name`, from the
    environment's metadata (top_level.txt / RECORD), nothing imported."""
    if find_installed(import_name) is not None:
        return import_name
    if not _on_import_path(import_name):
        return None  # no file of that name on sys.path: no distribution can provide it
    providers = _packages_distributions().get(import_name, [])
    return sorted(providers)[0] if providers else None


def _on_import_path(import_name: str) -> bool:
    """Whether anything on the import path would provide `import_name`: the finders are asked
    where it is (nothing is imported, a top-level spec runs no code), which takes
    milliseconds where reading every distribution's RECORD takes most of a second."""
    import importlib.util

    try:
        return importlib.util.find_spec(import_name) is not None
    except (ImportError, ValueError):
        return True  # cannot tell: ask the metadata


@functools.lru_cache(maxsize=1)
def _packages_distributions() -> Mapping[str, list[str]]:
    return importlib.metadata.packages_distributions()


def _cached_provider(import_name: str) -> SourceSpec | None:
    """A wheel already in docgen's cache whose files provide `import_name`."""
    try:
        wheels = sorted((cache_dir() / "wheels").glob("*.whl"), reverse=True)
    except (OSError, ConfigError):
        return None
    for whl in wheels:
        name, _ = _name_from_wheel_filename(whl.name)
        if canonicalize_name(name) == canonicalize_name(import_name):
            return SourceSpec(name, str(whl))
    for whl in wheels:
        try:
            with zipfile.ZipFile(whl) as zf:
                heads = {n.split("/", 1)[0] for n in zf.namelist() if n.endswith(".py")}
        except (zipfile.BadZipFile, OSError):
            continue
        if import_name in heads:
            return SourceSpec(_name_from_wheel_filename(whl.name)[0], str(whl))
    return None


def default_spec(import_name: str) -> SourceSpec | None:
    """Where import package `import_name` comes from when no --source says: the installed
    distribution that provides it, the pinned torch / torchvision, or a cached wheel that
    provides it. None otherwise: an import name is never handed to pip as a requirement."""
    installed = _installed_provider(import_name)
    if installed is not None:
        return SourceSpec(installed, "env")
    if import_name in DEFAULT_PINS:
        return SourceSpec(import_name, DEFAULT_PINS[import_name])
    return _cached_provider(import_name)


@dataclass(frozen=True)
class ModuleFile:
    """Where one module's source lives."""

    name: str
    path: str
    tree: SourceTree
    is_package: bool


class SourceSet:
    """Several trees seen as one import path; the first tree providing a file wins."""

    def __init__(self, trees: Iterable[SourceTree]) -> None:
        self.trees = tuple(trees)
        self._index: dict[str, SourceTree] = {}
        for tree in self.trees:
            for path in tree.paths():
                self._index.setdefault(path, tree)
        # Folders that hold Python files somewhere below: namespace packages count as modules.
        self._py_dirs: set[str] = set()
        self._children: dict[str, frozenset[str]] | None = None
        self._cython = _cython_modules(self._index)
        self._compiled = frozenset(_extension_stem(p) for p in self._index
                                   if p.endswith((".so", ".pyd")))
        for path in self._index:
            if path.endswith(".py"):
                parts = path.split("/")[:-1]
                for i in range(1, len(parts) + 1):
                    self._py_dirs.add("/".join(parts[:i]))

    @property
    def distributions(self) -> tuple[DistributionInfo, ...]:
        return tuple(t.info for t in self.trees)

    def has_file(self, path: str) -> bool:
        return path in self._index

    def read_file(self, path: str) -> bytes:
        try:
            return self._index[path].read_bytes(path)
        except KeyError:
            raise FileNotFoundError(path) from None

    def files_under(self, prefix: str, suffix: str = "") -> list[str]:
        prefix = prefix.rstrip("/") + "/"
        return sorted(p for p in self._index if p.startswith(prefix) and p.endswith(suffix))

    def find_module(self, name: str) -> ModuleFile | None:
        """The module's Python source; for an extension module built by Cython from a
        `.pyx` shipped beside it, that `.pyx` (docgen assumes compiled extensions load)."""
        base = name.replace(".", "/")
        for path, is_pkg in ((f"{base}/__init__.py", True), (f"{base}.py", False)):
            tree = self._index.get(path)
            if tree is not None:
                return ModuleFile(name, path, tree, is_pkg)
        if base in self._cython:
            path = f"{base}.pyx"
            return ModuleFile(name, path, self._index[path], False)
        return None

    def provides(self, name: str) -> bool | None:
        """Whether importing module `name` finds it here (Python source, an extension
        module, a namespace package); None for a module of no tree read (its top-level
        package is not here: the standard library, another distribution)."""
        base = name.replace(".", "/")
        if self.find_module(name) is not None or self.is_namespace(name) \
                or base in self._compiled:
            return True
        top = base.split("/", 1)[0]
        if top in self._py_dirs or top in self._compiled or f"{top}.py" in self._index:
            return False
        return None

    def is_namespace(self, name: str) -> bool:
        return name.replace(".", "/") in self._py_dirs

    def child_names(self, name: str) -> frozenset[str]:
        """Every `n` for which `name.n` is a module, a package or a namespace package."""
        if self._children is None:
            children: dict[str, set[str]] = {}
            for path in [*self._py_dirs, *(p[:-3] for p in self._index if p.endswith(".py")),
                         *self._cython]:
                parent, _, child = path.rpartition("/")
                children.setdefault(parent, set()).add(child)
            self._children = {k: frozenset(v) for k, v in children.items()}
        return self._children.get(name.replace(".", "/"), frozenset())

    def modules_under(self, package: str) -> list[str]:
        """Every module of `package` (itself included), sorted by path."""
        found = self.find_module(package)
        if found is not None and not found.is_package:
            return [package]
        names = []
        prefix = package.replace(".", "/")
        for path in [*self.files_under(prefix, ".py"),
                     *(f"{b}.py" for b in self._cython if b.startswith(f"{prefix}/"))]:
            parts = path[:-3].split("/")
            if parts[-1] == "__init__":
                parts.pop()
            if all(p.isidentifier() for p in parts):
                names.append(".".join(parts))
        if found is not None and package not in names:
            names.insert(0, package)
        return sorted(set(names), key=lambda n: n.replace(".", "/"))


def _extension_stem(path: str) -> str:
    """`pkg/mod` of an extension module file `pkg/mod.cpython-311-x86_64-linux-gnu.so`."""
    folder, _, file = path.rpartition("/")
    stem = file.split(".", 1)[0]
    return f"{folder}/{stem}" if folder else stem


def _cython_modules(paths: Iterable[str]) -> frozenset[str]:
    """`pkg/mod` for every extension module (`mod.cpython-311-x86_64-linux-gnu.so`,
    `mod.pyd`, ...) shipped with its Cython source `mod.pyx` and no `mod.py`."""
    present = set(paths)
    found = set()
    for path in present:
        if path.endswith((".so", ".pyd")):
            stem = _extension_stem(path)
            if f"{stem}.pyx" in present and f"{stem}.py" not in present:
                found.add(stem)
    return frozenset(found)


def open_sources(names: Iterable[str], overrides: Iterable[SourceSpec] = (), *,
                 offline: bool = False) -> tuple[SourceSet, list[str]]:
    """Open the --source trees, then one tree per import name none of them provides; returns
    the set and the problems met (all of them)."""
    chosen = {s.name: s for s in overrides}
    trees: list[SourceTree] = []
    problems: list[str] = []
    for spec in chosen.values():
        try:
            trees.append(open_source(spec, offline=offline))
        except (FetchError, ConfigError) as exc:
            problems.append(str(exc))
    for name in dict.fromkeys(names):
        if name in chosen or any(name in top_level_packages(t) for t in trees):
            continue
        found = default_spec(name)
        if found is None:
            problems.append(f"no source provides package {name!r}: name the distribution "
                            f"that holds it, e.g. --source DIST=env, DIST==VERSION, a wheel "
                            f"or a folder (docgen never downloads an import name)")
            continue
        try:
            trees.append(open_source(found, offline=offline))
        except (FetchError, ConfigError) as exc:
            problems.append(str(exc))
    return SourceSet(trees), problems


def decode_source(data: bytes, path: str) -> str:
    """Text of a Python file, honouring its PEP 263 coding line; errors name the line."""
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
    except SyntaxError as exc:
        raise SourceError(path, getattr(exc, "lineno", None) or 1, str(exc)) from exc
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise SourceError(path, line, f"not valid {encoding}: {exc.reason}") from exc
    except LookupError as exc:
        raise SourceError(path, 1, f"unknown encoding {encoding!r}") from exc
    return text.removeprefix("\ufeff")


def source_fingerprint(names: Iterable[str], overrides: Iterable[SourceSpec] = ()) -> str | None:
    """What `open_sources(names, overrides)` would read, named without opening anything: each
    wheel's file name, size and modification time. None when a source can change in place
    (an installed distribution, a folder) or is not in the cache yet: then nothing built from
    the sources may be reused."""
    chosen = {s.name: s for s in overrides}
    parts = []
    for name in dict.fromkeys([*chosen, *names]):
        spec = chosen.get(name) or default_spec(name)
        if spec is None:
            return None
        wheel = _cached_wheel_of(spec.spec)
        if wheel is None:
            return None
        try:
            stat = wheel.stat()
        except OSError:
            return None
        parts.append(f"{name}\0{spec.spec}\0{wheel.resolve()}\0{stat.st_size}\0{stat.st_mtime_ns}")
    return "\n".join(parts)


def _cached_wheel_of(value: str) -> Path | None:
    """The wheel file a spec names or a requirement already has in the cache; else None."""
    if value == "env":
        return None
    if value.endswith(".whl"):
        return Path(value).expanduser()
    if os.sep in value or value.startswith(".") or Path(value).expanduser().is_dir():
        return None
    try:
        req = Requirement(value)
    except InvalidRequirement:
        return None
    wheels = cache_dir() / "wheels"
    hits = _matching_wheels(req, wheels) if wheels.is_dir() else []
    return hits[-1][1] if hits else None
