"""Derived class facts: C3 MRO, inherited member and method tables with origin, subclasses.

Pure functions over resolved ClassDocs. An inconsistent MRO or an inheritance cycle is
reported on the class (`mro_error`) with a best-effort order, never raised.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Mapping, Sequence
from typing import TypeVar

from docgen.core.records import ClassDoc, ClassView, InheritedMember, MethodDoc, ResolvedMethod

OBJECT = "builtins.object"

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
    """The C3 merge of `seqs` (consumed); None when no consistent order exists."""
    out: list[T] = []
    while True:
        seqs = [s for s in seqs if s]
        if not seqs:
            return out
        for seq in seqs:
            head = seq[0]
            if not any(head in s[1:] for s in seqs):
                break
        else:
            return None
        out.append(head)
        for s in seqs:
            if s and s[0] == head:
                del s[0]


class _Linearizer:
    def __init__(self, classes: Mapping[str, ClassDoc]) -> None:
        self.classes = classes
        self.mros: dict[str, tuple[str, ...]] = {}
        self.errors: dict[str, str] = {}
        self._stack: list[str] = []

    def bases_of(self, name: str) -> list[str]:
        cls = self.classes.get(name)
        if cls is None:
            return []
        out = []
        for base in cls.bases:
            key = base.target or base.path or base.text
            if key not in (OBJECT, "object") and key not in out:
                out.append(key)
        return out

    def mro(self, name: str) -> tuple[str, ...]:
        if name in self.mros:
            return self.mros[name]
        if name in self._stack:
            cycle = " -> ".join([*self._stack[self._stack.index(name):], name])
            for member in self._stack[self._stack.index(name):]:
                self.errors.setdefault(member, f"inheritance cycle: {cycle}")
            return (name,)
        self._stack.append(name)
        try:
            bases = self.bases_of(name)
            seqs = [list(self.mro(b)) for b in bases] + [list(bases)]
            merged = _c3_merge(seqs)
            if merged is None:
                self.errors.setdefault(name, "cannot create a consistent method resolution "
                                       f"order (MRO) for bases {', '.join(bases)}")
                merged = _fallback(seqs)
            result = tuple([name, *[m for m in merged if m not in (OBJECT, name)], OBJECT])
        finally:
            self._stack.pop()
        self.mros[name] = result
        return result


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
    for name in sorted(classes):
        mro = lin.mro(name)
        views[name] = ClassView(
            qualname=name,
            resolution_order=mro,
            mro_error=lin.errors.get(name),
            members=_inherited_members(mro, classes),
            methods=_inherited_methods(mro, classes),
            subclasses=tuple(sorted(subclasses.get(name, ()))),
            public_paths=public_paths.get(name, ()),
        )
    return views


def _inherited_members(mro: tuple[str, ...],
                       classes: Mapping[str, ClassDoc]) -> tuple[InheritedMember, ...]:
    seen: dict[str, InheritedMember] = {}
    for i, name in enumerate(mro):
        cls = classes.get(name)
        if cls is None:
            continue
        for member in cls.members:
            if member.name not in seen:
                seen[member.name] = InheritedMember(member, is_inherited=i > 0)
    return tuple(seen.values())


def _inherited_methods(mro: tuple[str, ...],
                       classes: Mapping[str, ClassDoc]) -> tuple[ResolvedMethod, ...]:
    defined: dict[str, list[int]] = {}
    by_name: dict[str, dict[str, MethodDoc]] = {}
    for i, name in enumerate(mro):
        cls = classes.get(name)
        by_name[name] = {m.name: m for m in cls.methods} if cls else {}
        for method_name in by_name[name]:
            defined.setdefault(method_name, []).append(i)
    out = []
    for method_name, positions in defined.items():
        first = positions[0]
        method = by_name[mro[first]][method_name]
        overrides = mro[positions[1]] if len(positions) > 1 else None
        out.append(ResolvedMethod(method, is_inherited=first > 0, overrides=overrides))
    return tuple(out)
