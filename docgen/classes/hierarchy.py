"""Derived class facts: C3 MRO, inherited member and method tables with origin, subclasses.

Pure functions over resolved ClassDocs. An inconsistent MRO or an inheritance cycle is
reported on the class (`mro_error`) with a best-effort order, never raised.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Mapping, Sequence
from typing import TypeVar

from docgen.core.records import ClassDoc, ClassView, InheritedMember, MethodDoc, ResolvedMethod

OBJECT = "builtins.object"
# A class statement naming one of these (or a TypedDict class) makes a plain dict at run time:
# Python drops the declared bases from its MRO, which is (cls, dict, object).
TYPED_DICT_BASES = frozenset({"typing.TypedDict", "typing_extensions.TypedDict"})
# A class statement naming one of these makes a tuple subclass: (cls, tuple, object).
NAMED_TUPLE_BASES = frozenset({"typing.NamedTuple", "typing_extensions.NamedTuple"})
# The direct bases of external classes whose source docgen does not read but whose place
# changes where in-package classes land (a facts table, kept to what Python 3.11 runs:
# typing_extensions defines its own Protocol there).
EXTERNAL_BASES: Mapping[str, tuple[str, ...]] = {
    "typing.Protocol": ("typing.Generic",),
    "typing_extensions.Protocol": ("typing.Generic",),
}

T = TypeVar("T", bound=Hashable)


def linearize(cls: T, bases_of: Callable[[T], Sequence[T]],
              mro_of: Callable[[T], Sequence[T]] | None = None) -> tuple[T, ...]:
    """C3 linearisation of `cls` over any class representation, given its direct bases and
    (by default, `linearize` itself) their MROs; an inconsistent hierarchy falls back to
    depth-first order, as the class model does. Used by the model evaluator's classes."""
    bases = list(bases_of(cls))
    seqs = [list(mro_of(b) if mro_of else linearize(b, bases_of)) for b in bases] + [bases]
    merged = merge_c3([list(s) for s in seqs])
    if merged is None:
        merged = _fallback(seqs)
    return (cls, *merged)


def merge_c3(seqs: list[list[T]]) -> list[T] | None:
    """The C3 merge of `seqs`; None when no consistent order exists. Linear in the total
    length: each sequence is read through a cursor and `in_tail` counts in how many tails a
    name still appears."""
    seqs = [s for s in seqs if s]
    cursor = [0] * len(seqs)
    in_tail: dict[T, int] = {}
    for s in seqs:
        for x in s[1:]:
            in_tail[x] = in_tail.get(x, 0) + 1
    out: list[T] = []
    live = list(range(len(seqs)))
    while live:
        head = next((seqs[i][cursor[i]] for i in live if not in_tail.get(seqs[i][cursor[i]])),
                    None)
        if head is None:
            return None
        out.append(head)
        for i in live:
            if seqs[i][cursor[i]] == head:
                cursor[i] += 1
                if cursor[i] < len(seqs[i]):
                    in_tail[seqs[i][cursor[i]]] -= 1
        live = [i for i in live if cursor[i] < len(seqs[i])]
    return out


class _Linearizer:
    def __init__(self, classes: Mapping[str, ClassDoc]) -> None:
        self.classes = classes
        self.mros: dict[str, tuple[str, ...]] = {}
        self.errors: dict[str, str] = {}
        self.declared: dict[str, tuple[str, ...]] = {}

    def bases_of(self, name: str) -> list[str]:
        cls = self.classes.get(name)
        if cls is None:
            return list(EXTERNAL_BASES.get(name, ()))
        out = []
        for base in cls.bases:
            key = base.target or base.path or base.text
            if key in NAMED_TUPLE_BASES:
                key = "builtins.tuple"
            if key not in (OBJECT, "object") and key not in out:
                out.append(key)
        return out

    def mro(self, name: str) -> tuple[str, ...]:
        """C3 of `name`, computed bottom-up with an explicit stack: a chain of any depth, in
        either declaration order, never touches Python's recursion limit."""
        if name in self.mros:
            return self.mros[name]
        frames: list[tuple[str, list[str]]] = [(name, self.bases_of(name))]
        on_stack = {name: 0}
        while frames:
            node, bases = frames[-1]
            pending = None
            for base in bases:
                if base in self.mros:
                    continue
                if base in on_stack:
                    self._report_cycle([f[0] for f in frames[on_stack[base]:]], base)
                    continue
                pending = base
                break
            if pending is not None:
                on_stack[pending] = len(frames)
                frames.append((pending, self.bases_of(pending)))
                continue
            frames.pop()
            del on_stack[node]
            self.mros[node] = self._linearize(node, bases)
        return self.mros[name]

    def _report_cycle(self, members: list[str], back_to: str) -> None:
        cycle = " -> ".join([*members, back_to])
        for member in members:
            self.errors.setdefault(member, f"inheritance cycle: {cycle}")

    def _linearize(self, name: str, bases: list[str]) -> tuple[str, ...]:
        # A base still being linearised (a cycle) counts as itself alone. A TypedDict's
        # members still come from its declared bases: that order is kept apart.
        seqs = [list(self.declared.get(b) or self.mros.get(b, (b,))) for b in bases] + \
            [list(bases)]
        merged = _c3_merge(seqs)
        if merged is None:
            self.errors.setdefault(name, "cannot create a consistent method resolution "
                                   f"order (MRO) for bases {', '.join(bases)}")
            merged = _fallback(seqs)
        order = tuple([name, *[m for m in merged if m not in (OBJECT, name)], OBJECT])
        if any(b in TYPED_DICT_BASES or b in self.declared for b in bases):
            self.declared[name] = order
            return (name, "builtins.dict", OBJECT)
        return order

    def member_order(self, name: str) -> tuple[str, ...]:
        """Where members are looked up: the MRO, but a TypedDict's declared bases."""
        mro = self.mro(name)
        return self.declared.get(name, mro)


def _c3_merge(seqs: list[list[str]]) -> list[str] | None:
    return merge_c3([[x for x in s if x != OBJECT] for s in seqs])


def _fallback(seqs: list[list[T]]) -> list[T]:
    out: list[T] = []
    for seq in seqs:
        for name in seq:
            if name not in out:
                out.append(name)
    return out


def compute_views(classes: Mapping[str, ClassDoc],
                  public_paths: Mapping[str, tuple[str, ...]]) -> dict[str, ClassView]:
    """A ClassView for every class in `classes`; names outside it are external MRO nodes."""
    lin = _Linearizer(classes)
    subclasses: dict[str, list[str]] = {}
    for name in sorted(classes):
        for base in lin.bases_of(name):
            subclasses.setdefault(base, []).append(name)
    views = {}
    tables = _MemberTables(classes)
    for name in sorted(classes):
        mro = lin.mro(name)
        views[name] = ClassView(
            qualname=name,
            resolution_order=mro,
            mro_error=lin.errors.get(name),
            members=tables.inherited_members(lin.member_order(name)),
            methods=tables.inherited_methods(lin.member_order(name)),
            subclasses=tuple(sorted(subclasses.get(name, ()))),
            public_paths=public_paths.get(name, ()),
        )
    return views


class _MemberTables:
    """Members and methods along an MRO. Each class's own entries, wrapped as defined here
    or as inherited, are built once and shared by every view that reaches the class: on
    transformers that is millions of wrappers fewer."""

    def __init__(self, classes: Mapping[str, ClassDoc]) -> None:
        self.classes = classes
        self._members: dict[tuple[str, bool], tuple[InheritedMember, ...]] = {}
        self._methods: dict[str, dict[str, MethodDoc]] = {}
        self._resolved: dict[tuple[str, str, bool, str | None], ResolvedMethod] = {}
        self._tail_ids: dict[tuple[str, int], int] = {}
        self._tails: dict[int, dict[str, tuple[str, str | None]]] = {}

    def _wrapped_members(self, name: str, inherited: bool) -> tuple[InheritedMember, ...]:
        key = (name, inherited)
        if key not in self._members:
            cls = self.classes.get(name)
            self._members[key] = tuple(InheritedMember(m, is_inherited=inherited)
                                       for m in (cls.members if cls else ()))
        return self._members[key]

    def inherited_members(self, mro: tuple[str, ...]) -> tuple[InheritedMember, ...]:
        seen: dict[str, InheritedMember] = {}
        for i, name in enumerate(mro):
            for wrapped in self._wrapped_members(name, i > 0):
                seen.setdefault(wrapped.member.name, wrapped)
        return tuple(seen.values())

    def _methods_of(self, name: str) -> dict[str, MethodDoc]:
        if name not in self._methods:
            cls = self.classes.get(name)
            self._methods[name] = {m.name: m for m in cls.methods} if cls else {}
        return self._methods[name]

    def inherited_methods(self, mro: tuple[str, ...]) -> tuple[ResolvedMethod, ...]:
        """Each method name once, from the first class of `mro` that defines it, with the
        next class that does (the one it overrides); in order of first appearance."""
        table = self._definers(mro)
        out = []
        for name, (definer, overrides) in table.items():
            key = (definer, name, definer != mro[0], overrides)
            if key not in self._resolved:
                self._resolved[key] = ResolvedMethod(self._methods_of(definer)[name],
                                                     is_inherited=key[2], overrides=overrides)
            out.append(self._resolved[key])
        return tuple(out)

    def _definers(self, mro: tuple[str, ...]) -> dict[str, tuple[str, str | None]]:
        """name -> (first class defining it, next class defining it) along `mro`, built
        from the end: MROs share their tails, so each tail's table is built once."""
        keys = []
        key = 0  # the empty tail
        for name in reversed(mro):
            key = self._tail_ids.setdefault((name, key), len(self._tail_ids) + 1)
            keys.append((name, key))
        table: dict[str, tuple[str, str | None]] = {}
        start = 0
        for i in range(len(keys) - 1, -1, -1):  # the longest tail already built
            if keys[i][1] in self._tails:
                table, start = self._tails[keys[i][1]], i + 1
                break
        for name, tail_key in keys[start:]:
            own = self._methods_of(name)
            merged = {m: (name, table[m][0] if m in table else None) for m in own}
            for m, entry in table.items():
                merged.setdefault(m, entry)
            table = self._tails[tail_key] = merged
        return table
