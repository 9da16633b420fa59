"""Loading modules on demand and resolving dotted names across them, from symbol tables only.

`ModuleIndex` turns module names into analyses (parse + analyze, or the cache). `Resolver`
follows imports, package re-exports, star imports with `__all__` and module-level aliases to
the class that really defines a name. Nothing here touches astroid.
"""

from __future__ import annotations

import builtins
import hashlib
import logging
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from typing import Any

from docgen.classes.branches import UNKNOWN, truth
from docgen.classes.made import make_base_class
from docgen.core.errors import SourceError
from docgen.core.records import (
    BaseRef,
    Binding,
    BranchChoice,
    ClassDoc,
    Diagnostic,
    MemberDoc,
    MemberKind,
    ModuleAnalysis,
    ModuleDoc,
    SymbolTable,
)
from docgen.sources.locate import ModuleFile, SourceSet

log = logging.getLogger(__name__)

_MAX_IMPORT_HOPS = 16

def analyze_file(name: str, path: str, data: bytes, distribution: str,
                 is_package: bool) -> ModuleAnalysis:
    """Parse and analyse one file; a file that cannot be read yields one diagnostic."""
    # Imported here: astroid costs half a second to import, and a warm run never needs it.
    from docgen.classes.analyze import MEMBER_CALLS, analyze_module
    from docgen.classes.parse import parse_module

    try:
        tree = parse_module(data, name, path, function_bodies=False, member_calls=MEMBER_CALLS)
    except SourceError as exc:
        return failed_analysis(name, path, distribution, is_package, exc.line, exc.message)
    except RecursionError:
        return failed_analysis(name, path, distribution, is_package, 1,
                               "too deeply nested to analyse")
    return analyze_module(tree, name=name, path=path, distribution=distribution,
                          is_package=is_package)


def failed_analysis(name: str, path: str, distribution: str, is_package: bool, line: int,
                    message: str) -> ModuleAnalysis:
    """The empty result of a file that could not be read or parsed, with its one warning."""
    return ModuleAnalysis(
        ModuleDoc(name, path, distribution, (), is_package),
        SymbolTable(name, is_package, (), (), None),
        (Diagnostic(path, line, f"skipped: {message}"),),
    )


def content_key(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# A cache lookup: (content key, module name, path) -> analysis or None; and a store.
CacheGet = Callable[[str, str, str], ModuleAnalysis | None]
CachePut = Callable[[str, ModuleAnalysis], None]


@dataclass(frozen=True)
class Target:
    """What a dotted name resolves to: kind is class, function, value or module."""

    kind: str
    qualname: str


class ModuleIndex:
    """Analyses of modules by name, loaded lazily and kept; unreadable files become diagnostics."""

    def __init__(self, sources: SourceSet, cache_get: CacheGet | None = None,
                 cache_put: CachePut | None = None) -> None:
        self.sources = sources
        self._loaded: dict[str, ModuleAnalysis | None] = {}
        self._cache_get = cache_get
        self._cache_put = cache_put

    def has_module(self, name: str) -> bool:
        return (name in self._loaded and self._loaded[name] is not None) \
            or self.sources.find_module(name) is not None or self.sources.is_namespace(name)

    def is_loaded(self, name: str) -> bool:
        return name in self._loaded

    def add(self, analysis: ModuleAnalysis) -> None:
        self._loaded[analysis.module.name] = analysis

    def get(self, name: str) -> ModuleAnalysis | None:
        if name in self._loaded:
            return self._loaded[name]
        found = self.sources.find_module(name)
        self._loaded[name] = self.load(found) if found is not None else None
        return self._loaded[name]

    def load(self, found: ModuleFile) -> ModuleAnalysis:
        dist = found.tree.info.name
        try:
            data = found.tree.read_bytes(found.path)
        except OSError as exc:
            return failed_analysis(found.name, found.path, dist, found.is_package, 1,
                           f"cannot read: {exc}")
        key = content_key(data)
        if self._cache_get is not None:
            hit = self._cache_get(key, found.name, found.path)
            if hit is not None:
                return hit
        analysis = analyze_file(found.name, found.path, data, dist, found.is_package)
        if self._cache_put is not None:
            self._cache_put(key, analysis)
        return analysis

    def loaded(self) -> Iterable[ModuleAnalysis]:
        return (a for a in self._loaded.values() if a is not None)


class Resolver:
    """Dotted names -> defining objects, following the module symbol tables."""

    def __init__(self, index: ModuleIndex) -> None:
        self.index = index
        self._tables: dict[str, dict[str, Binding] | None] = {}
        self._active: set[tuple[str, str]] = set()
        self._classes: dict[str, ClassDoc] = {}
        self.loading = True
        # Answers found while no module can be loaded, and without cutting an import cycle
        # (so they do not depend on the path that asked): re-export chains are walked once.
        self._settled: dict[tuple[str, str], Target | None] = {}
        self._cuts = 0
        # While nothing loads, the names each module could resolve (a superset; None: any)
        # and, per module, which of its star imports could provide a name: a lookup then
        # tries those few stars instead of every star (transformers.models has 557).
        self._candidates: dict[str, frozenset[str] | None] = {}
        self._star_index: dict[str, dict[str, tuple[str, ...]] | None] = {}

    @contextmanager
    def without_loading(self) -> Iterator[None]:
        """Resolve only through modules already analysed: for questions whose answer can
        only lie there (is this name one of our classes?), loading more would be waste."""
        self.loading = False
        self._forget_settled()  # modules loaded since the last time may change answers
        try:
            yield
        finally:
            self.loading = True
            self._forget_settled()

    def _forget_settled(self) -> None:
        self._settled.clear()
        self._candidates.clear()
        self._star_index.clear()

    def bindings(self, module: str) -> dict[str, Binding] | None:
        if not self.loading and module not in self._tables and not self.index.is_loaded(module):
            return None
        if module not in self._tables:
            analysis = self.index.get(module)
            if analysis is None:
                self._tables[module] = None
            else:
                self._tables[module] = self._decide_choices(analysis)
                for cls in analysis.module.classes:
                    self._classes[cls.qualname] = cls
        return self._tables[module]

    def _decide_choices(self, analysis: ModuleAnalysis) -> dict[str, Binding]:
        """A module's bindings with each `if` it left open decided where the names its
        test reads are constants of the modules that bind them (`HAS_CYEXTENSION`)."""
        table = dict(analysis.symbols.bindings)
        module = analysis.module.name
        for choice in analysis.symbols.choices:
            holds = self._holds(module, choice, 0)
            if holds is None:
                continue
            chosen, dropped = (choice.then, choice.otherwise) if holds else \
                (choice.otherwise, choice.then)
            by_name = dict(chosen)
            for name, binding in (*chosen, *dropped):
                # Only where the `if` decided the final binding (no later statement did).
                if name in by_name and table.get(name) == binding:
                    table[name] = by_name[name]
        return table

    def _holds(self, module: str, choice: BranchChoice, depth: int) -> bool | None:
        return truth(choice.test, lambda name: self.constant(module, name, depth),
                     self._importable)

    def _importable(self, module: str, name: str | None) -> bool:
        """Whether `from module import name` (or `import module`) works, judged by the
        sources read; a module of no tree read (the standard library) is assumed to."""
        found = self.index.sources.provides(module)
        if found is None:
            return True
        if not found or name is None:
            return found
        if self.index.sources.provides(f"{module}.{name}"):
            return True
        if not self.index.has_module(module):
            return True  # an extension module: its names are not known here
        key = (module, f"importable {name}")
        if key in self._active:
            return True
        self._active.add(key)
        try:
            if self._lookup(module, name) is not None:
                return True
        finally:
            self._active.discard(key)
        # Names docgen cannot list: a module `__getattr__`, a star import from elsewhere.
        analysis = self._analysis(module)
        symbols = analysis.symbols if analysis is not None else None
        return symbols is None or "__getattr__" in dict(symbols.bindings) or any(
            not self.index.has_module(star) for star in symbols.star_imports)

    def constant(self, module: str, dotted: str, depth: int = 0) -> Any:
        """The statically known value `dotted` has in `module` (a literal it binds, or one
        it imports from a module that binds it), or UNKNOWN."""
        analysis = self._analysis(module)
        if analysis is None or depth > _MAX_IMPORT_HOPS:
            return UNKNOWN
        constants = dict(analysis.symbols.constants)
        for choice in reversed(analysis.symbols.choices):
            then, otherwise = dict(choice.then_constants), dict(choice.otherwise_constants)
            if dotted not in then and dotted not in otherwise:
                continue
            merged = constants.get(dotted, UNKNOWN)
            if merged is not UNKNOWN and all(  # a later statement set it: that value holds
                    merged != v or type(merged) is not type(v)
                    for v in (then.get(dotted, UNKNOWN), otherwise.get(dotted, UNKNOWN))):
                break
            holds = self._holds(module, choice, depth + 1)
            if holds is not None:
                return (then if holds else otherwise).get(dotted, UNKNOWN)
            break
        if dotted in constants:
            return constants[dotted]
        head, _, rest = dotted.partition(".")
        binding = dict(analysis.symbols.bindings).get(head)
        if binding is None or binding.kind != "import":
            return UNKNOWN
        path = f"{binding.target}.{rest}" if rest else binding.target
        owner, _, name = path.rpartition(".")
        if not owner or not self.index.has_module(owner):
            return UNKNOWN
        return self.constant(owner, name, depth + 1)

    def add_class(self, cls: ClassDoc) -> None:
        """A class no module statement defines (made by a call), found by `find_class`."""
        self._classes.setdefault(cls.qualname, cls)

    def find_class(self, qualname: str) -> ClassDoc | None:
        """The class defined at `qualname`, loading its module if needed."""
        if qualname not in self._classes:
            parts = qualname.split(".")
            for i in range(len(parts) - 1, 0, -1):
                if self.index.has_module(".".join(parts[:i])):
                    self.bindings(".".join(parts[:i]))
                    break
        return self._classes.get(qualname)

    def resolve_absolute(self, dotted: str) -> Target | None:
        parts = dotted.split(".")
        for i in range(len(parts), 0, -1):
            module = ".".join(parts[:i])
            if self.index.has_module(module):
                if i == len(parts):
                    return Target("module", module)
                return self.resolve_in(module, ".".join(parts[i:]))
        return None

    def resolve_in(self, module: str, dotted: str) -> Target | None:
        """What `dotted`, written in `module`, refers to; None when no source defines it."""
        key = (module, dotted)
        if not self.loading and key in self._settled:
            return self._settled[key]
        if key in self._active:
            self._cuts += 1
            return None  # an import cycle: give up on this path, never loop
        self._active.add(key)
        cuts = self._cuts
        try:
            result = self._resolve_in(module, dotted)
        finally:
            self._active.discard(key)
        if not self.loading and self._cuts == cuts:
            self._settled[key] = result
        return result

    def _resolve_in(self, module: str, dotted: str) -> Target | None:
        head, _, rest = dotted.partition(".")
        binding = self._lookup(module, head)
        if binding is None:
            return None
        return self.resolve_binding(module, binding, rest)

    def resolve_in_class(self, cls: ClassDoc, dotted: str) -> Target | None:
        """What `dotted`, written in the statement of class `cls`, refers to: names the
        enclosing class body bound come first, then the module's."""
        head, _, rest = dotted.partition(".")
        binding = dict(cls.scope).get(head)
        if binding is None:
            return self.resolve_in(cls.module, dotted)
        return self.resolve_binding(cls.module, binding, rest)

    def resolve_binding(self, module: str, binding: Binding, rest: str) -> Target | None:
        """What `binding` (of a name in `module`) followed by `.rest` refers to."""
        if binding.kind == "import":
            return self.resolve_absolute(f"{binding.target}.{rest}" if rest else binding.target)
        if binding.kind == "alias":
            target = self.resolve_in(module, binding.target)
            return self._attribute(target, rest) if target and rest else target
        target = Target(binding.kind, binding.target)
        return self._attribute(target, rest) if rest else target

    def _attribute(self, target: Target, rest: str) -> Target | None:
        if target.kind == "module":
            return self.resolve_in(target.qualname, rest)
        if target.kind == "class":
            return self._class_attribute(target.qualname, rest, set())
        return None

    def _class_attribute(self, qualname: str, rest: str, seen: set[str]) -> Target | None:
        """`String.Comparator`: a nested class of `qualname`, or one it inherits (its bases
        searched depth-first, left to right: the MRO for single inheritance)."""
        if qualname in seen:
            return None
        seen.add(qualname)
        if self.find_class(f"{qualname}.{rest}") is not None:
            return Target("class", f"{qualname}.{rest}")
        cls = self.find_class(qualname)
        if cls is None:
            return None
        for base in cls.bases:
            text = base_expression(base.text)
            is_dotted = text.replace(".", "").replace("_", "").isalnum()
            target = self.resolve_in_class(cls, text) if is_dotted else None
            if target is not None and target.kind == "class":
                found = self._class_attribute(target.qualname, rest, seen)
                if found is not None:
                    return found
        return None

    def _lookup(self, module: str, name: str) -> Binding | None:
        table = self.bindings(module)
        if table is None:
            if self.index.has_module(f"{module}.{name}"):
                return Binding("import", f"{module}.{name}", 0)
            return None
        if name in table:
            return table[name]
        for star in self._stars_providing(module, name):
            if self._exports(star, name) and self.resolve_in(star, name) is not None:
                return Binding("import", f"{star}.{name}", 0)
        if self.index.has_module(f"{module}.{name}"):
            return Binding("import", f"{module}.{name}", 0)
        return None

    def _stars_providing(self, module: str, name: str) -> tuple[str, ...]:
        """The star imports of `module` that could bind `name`, in order: all of them while
        modules load, else only those whose candidates hold `name`."""
        analysis = self._analysis(module)
        stars = analysis.symbols.star_imports if analysis else ()
        if self.loading or not stars:
            return stars
        if module not in self._star_index:
            self._star_index[module] = self._index_stars(stars)
        index = self._star_index[module]
        return stars if index is None else index.get(name, ())

    def _index_stars(self, stars: tuple[str, ...]) -> dict[str, tuple[str, ...]] | None:
        index: dict[str, list[str]] = {}
        for star in dict.fromkeys(stars):
            names = self._candidate_names(star)
            if names is None:
                return None
            for name in names:
                index.setdefault(name, []).append(star)
        out = {name: tuple(found) for name, found in index.items()}
        # A star imported twice is tried twice, as the plain loop would.
        if len(set(stars)) != len(stars):
            out = {n: tuple(s for s in stars if s in found) for n, found in out.items()}
        return out

    def _candidate_names(self, module: str) -> frozenset[str] | None:
        """Every name `resolve_in(module, name)` could find while nothing loads (a superset:
        its bindings, its submodules and what its star imports could bind); None: any."""
        if module in self._candidates:
            return self._candidates[module]
        self._candidates[module] = None  # an import cycle reaching back here: assume any
        names = set(self.index.sources.child_names(module))
        result: frozenset[str] | None = None
        table = self.bindings(module)
        if table is not None:
            names.update(table)
            analysis = self._analysis(module)
            for star in analysis.symbols.star_imports if analysis else ():
                found = self._candidate_names(star)
                if found is None:
                    break
                names.update(found)
            else:
                result = frozenset(names)
        else:
            result = frozenset(names)
        self._candidates[module] = result
        return result

    def _analysis(self, module: str) -> ModuleAnalysis | None:
        if not self.loading and not self.index.is_loaded(module):
            return None
        return self.index.get(module)

    def _exports(self, module: str, name: str) -> bool:
        analysis = self._analysis(module)
        if analysis is None:
            return False
        exports = analysis.symbols.exports
        return name in exports if exports is not None else not name.startswith("_")

    def exported_names(self, module: str) -> list[str]:
        """Names `from module import *` would bind (what the package re-exports)."""
        analysis = self._analysis(module)
        if analysis is None:
            return []
        if analysis.symbols.exports is not None:
            return list(analysis.symbols.exports)
        names = [n for n, _ in analysis.symbols.bindings if not n.startswith("_")]
        key = (module, "*")
        if key in self._active:
            return names  # star imports in a cycle: each module's own names once
        self._active.add(key)
        try:
            for star in analysis.symbols.star_imports:
                names.extend(self.exported_names(star))
        finally:
            self._active.discard(key)
        return names

    def expand(self, module: str, dotted: str,
               scope: tuple[tuple[str, Binding], ...] = (), depth: int = 0) -> str:
        """The dotted path `dotted` points at once its head's import is expanded, and the
        imports of the modules it passes through after it, up to a module no source holds
        (`requests.compat.MutableMapping` -> `collections.abc.MutableMapping`)."""
        head, _, rest = dotted.partition(".")
        binding = dict(scope).get(head) or (self.bindings(module) or {}).get(head)
        if binding is None or binding.kind not in ("import", "class", "function", "alias"):
            return dotted
        path = f"{binding.target}.{rest}" if rest else binding.target
        if binding.kind == "alias" and depth < 8:  # `X = te.X`: expand `te` too
            path = self.expand(module, path, depth=depth + 1)
        return self._follow_imports(path)

    def _next_hop(self, module: str, name: str) -> str | None:
        """Where `module.name` leads when no source defines it: an import, an alias
        (`SchedulerGetCallable = object` leads to `builtins.object`), a star import."""
        binding = (self.bindings(module) or {}).get(name)
        if binding is not None and binding.kind == "import":
            return binding.target
        if binding is not None and binding.kind == "alias":
            head = binding.target.split(".", 1)[0]
            if head not in (self.bindings(module) or {}) and hasattr(builtins, head):
                return f"builtins.{binding.target}"
            key = (module, f"expand {binding.target}")
            if key in self._active:
                return None  # aliases in a cycle
            self._active.add(key)
            try:
                return self.expand(module, binding.target, depth=1)
            finally:
                self._active.discard(key)
        analysis = self._analysis(module) if binding is None else None
        for star in analysis.symbols.star_imports if analysis else ():
            if self.index.has_module(star) and self._exports(star, name):
                return f"{star}.{name}"
        return None

    def _follow_imports(self, path: str) -> str:
        seen = {path}
        while True:
            parts = path.split(".")
            module = next((".".join(parts[:i]) for i in range(len(parts) - 1, 0, -1)
                           if self.index.has_module(".".join(parts[:i]))), None)
            if module is None:
                return path
            rest = parts[len(module.split(".")):]
            nxt = self._next_hop(module, rest[0])
            if nxt is None:
                return path
            nxt = ".".join([nxt, *rest[1:]])
            if nxt in seen:
                return path
            seen.add(nxt)
            path = nxt


def resolve_class(cls: ClassDoc, resolver: Resolver, is_module: Callable[[str], bool],
                  ) -> ClassDoc:
    """`cls` with bases resolved and members built by a Module subclass marked submodule."""
    bases = tuple(_resolve_base(b, cls, resolver) for b in cls.bases)
    members = tuple(_member_kind(m, cls.module, resolver, is_module) for m in cls.members)
    return replace(cls, bases=bases, members=members)


def base_expression(text: str) -> str:
    """The dotted part of a base as written: `Generic[T]` -> `Generic`."""
    return text.split("[", 1)[0].strip()


def _resolve_base(base: BaseRef, cls: ClassDoc, resolver: Resolver) -> BaseRef:
    if base.target is not None or base.path is not None:
        return base  # a made class's bases come resolved (made.py)
    if base.call is not None:
        made = make_base_class(cls, base, resolver)
        if made is not None:
            resolver.add_class(made)
            return BaseRef(base.text, made.qualname, made.qualname)
    dotted = base_expression(base.text)
    if not dotted.replace(".", "").replace("_", "").isalnum():
        return BaseRef(base.text, None, None)
    target = resolver.resolve_in_class(cls, dotted)
    if target is not None and target.kind == "class":
        return BaseRef(base.text, target.qualname, target.qualname)
    return BaseRef(base.text, None, resolver.expand(cls.module, dotted, cls.scope))


def _member_kind(member: MemberDoc, module: str, resolver: Resolver,
                 is_module: Callable[[str], bool]) -> MemberDoc:
    if member.constructor is None or member.kind not in (
            MemberKind.INSTANCE_ATTRIBUTE, MemberKind.CLASS_ATTRIBUTE):
        return member
    target = resolver.resolve_in(module, member.constructor)
    if target is not None and target.kind == "class" and is_module(target.qualname):
        return replace(member, kind=MemberKind.SUBMODULE)
    return member
