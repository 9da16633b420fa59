"""What changed between two Projects, as typed Change records; pure, no formatting, no I/O.

A change is reported once, on the class whose source changed, comparing each class's OWN
members and methods. What other classes see as a consequence is not a line of its own:

- a member or method added, removed or changed on C counts the subclasses that inherit it
  from C (`inherited_by`: descendants whose resolved name comes from C);
- a bases change on C counts every descendant of C, whose MRO changes with it;
- `mro_changed` is reported for C only when no class in C's old or new MRO (C included)
  had its bases changed, i.e. when no reported change explains it;
- an override that appears, disappears or retargets on a method C defines in both
  versions (`method_now_overrides` / `method_stops_overriding`) is reported only when the
  MRO of C is unchanged and neither the old nor the new overridden class gained, lost or
  changed the kind of that method; otherwise the line on that class explains it.

A method C stops defining but still inherits is `method_stops_overriding` (now inherited
from B), one C starts defining after inheriting it is `method_now_overrides`; for members
the same moves are `member_defined_in_changed`. A name that turns from a method into a
member or back is one `member_kind_changed` line; a member whose kind changes (instance
attribute -> parameter) gets no separate type line, since its new value brings the new type.

Classes are matched by qualified name; a selected class that disappears and one that
appears are paired as a move when they share a public path (`torch.nn.Conv2d`), as a
guessed move when they share a unique short name, and as a guessed rename when they define
exactly the same non-empty set of members and methods and no other class does. Classes
outside the selected packages (context bases such as `torch._tensor.Tensor`) are compared
when both sides hold them, but never reported as added or removed.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum

from docgen.core.names import short_name
from docgen.core.records import ClassDoc, ClassView, Location, MemberDoc, MethodDoc, Project


class ChangeKind(StrEnum):
    """The kinds of change, in the order they are listed within a class."""

    CLASS_ADDED = "class_added"
    CLASS_REMOVED = "class_removed"
    CLASS_MOVED = "class_moved"
    CLASS_RENAMED = "class_renamed"
    BASES_CHANGED = "bases_changed"
    MRO_CHANGED = "mro_changed"
    MEMBER_ADDED = "member_added"
    MEMBER_REMOVED = "member_removed"
    MEMBER_KIND_CHANGED = "member_kind_changed"
    MEMBER_TYPE_CHANGED = "member_type_changed"
    MEMBER_VALUE_CHANGED = "member_value_changed"
    MEMBER_DEFINED_IN_CHANGED = "member_defined_in_changed"
    METHOD_ADDED = "method_added"
    METHOD_REMOVED = "method_removed"
    METHOD_SIGNATURE_CHANGED = "method_signature_changed"
    METHOD_OVERLOADS_CHANGED = "method_overloads_changed"
    METHOD_KIND_CHANGED = "method_kind_changed"
    METHOD_DECORATORS_CHANGED = "method_decorators_changed"
    METHOD_GROUP_CHANGED = "method_group_changed"
    METHOD_NOW_OVERRIDES = "method_now_overrides"
    METHOD_STOPS_OVERRIDING = "method_stops_overriding"


_KIND_ORDER = {k: i for i, k in enumerate(ChangeKind)}
# Members whose value is part of what a class promises (`_version = 2`, `__constants__`);
# the first value of an instance attribute is an implementation detail and is not compared.
_VALUE_KINDS = frozenset({"constant", "class_attribute"})


@dataclass(frozen=True)
class Change:
    """One typed change on class `cls` (its new qualified name; the old one for removals).

    `name` is the member or method concerned (None for class-level changes); `old`/`new`
    are the compared texts; `location` is where the change is in the newer source (the
    older one for removals); `inherited_by` the subclasses that see it through inheritance.
    """

    kind: ChangeKind
    cls: str
    name: str | None
    old: str | None
    new: str | None
    location: Location | None
    inherited_by: tuple[str, ...] = ()
    is_guess: bool = False


@dataclass(frozen=True)
class Side:
    """What one side of a diff was made from, for headings."""

    label: str  # "torch 2.13.0, torchvision 0.28.0"
    packages: tuple[str, ...]
    model: str | None


@dataclass(frozen=True)
class Diff:
    old: Side
    new: Side
    changes: tuple[Change, ...]
    context: tuple[str, ...]  # classes compared that lie outside the selected packages
    notes: tuple[str, ...]

    @property
    def classes(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(c.cls for c in self.changes))


def describe_side(project: Project) -> Side:
    label = ", ".join(f"{d.name} {public_version(d.version)}" for d in project.distributions)
    return Side(label or "(no distributions)", project.packages, project.model)


def public_version(version: str) -> str:
    """`2.13.0` for `2.13.0+cpu`: the local label names a build, not a release."""
    return version.split("+", 1)[0]


# ----------------------------------------------------------------------------------------------
# per-project indexes


class _Index:
    """Lookups over one Project, built once: classes, views, who inherits what from whom."""

    def __init__(self, project: Project, scope: tuple[str, ...]) -> None:
        self.classes: dict[str, ClassDoc] = {c.qualname: c for c in project.classes()}
        self.views: dict[str, ClassView] = {v.qualname: v for v in project.views}
        self.scope = scope
        self.descendants: dict[str, list[str]] = {}
        self.heirs: dict[tuple[str, str], list[str]] = {}  # (definer, name) -> inheritors
        # class -> name -> the class that defines what the class sees under that name
        self.member_origin: dict[str, dict[str, str]] = {}
        self.method_origin: dict[str, dict[str, str]] = {}
        for view in self.views.values():
            for ancestor in view.resolution_order[1:]:
                self.descendants.setdefault(ancestor, []).append(view.qualname)
            members = self.member_origin.setdefault(view.qualname, {})
            methods = self.method_origin.setdefault(view.qualname, {})
            for m in view.members:
                members.setdefault(m.member.name, m.member.defined_in)
                if m.is_inherited:
                    self.heirs.setdefault((m.member.defined_in, m.member.name), []).append(
                        view.qualname)
            for r in view.methods:
                methods.setdefault(r.method.name, r.method.defined_in)
                if r.is_inherited:
                    self.heirs.setdefault((r.method.defined_in, r.method.name), []).append(
                        view.qualname)

    def in_scope(self, qualname: str) -> bool:
        cls = self.classes[qualname]
        return cls.is_selected and any(
            cls.module == p or cls.module.startswith(p + ".") for p in self.scope)

    def inherited_by(self, definer: str, name: str) -> tuple[str, ...]:
        return tuple(sorted(self.heirs.get((definer, name), ())))

    def all_descendants(self, qualname: str) -> tuple[str, ...]:
        return tuple(sorted(self.descendants.get(qualname, ())))

    def overrides(self, qualname: str, name: str) -> str | None:
        for r in self.views[qualname].methods:
            if r.method.name == name and not r.is_inherited:
                return r.overrides
        return None


# ----------------------------------------------------------------------------------------------
# matching classes across versions


def _public(index: _Index, qualname: str) -> set[str]:
    view = index.views.get(qualname)
    return set(view.public_paths) if view else set()


def _shape(cls: ClassDoc) -> frozenset[str]:
    return frozenset([*(f"m:{m.name}" for m in cls.members),
                      *(f"f:{m.name}" for m in cls.methods)])


def _match_moves(old: _Index, new: _Index, removed: list[str],
                 added: list[str]) -> dict[str, tuple[str, bool]]:
    """old qualname -> (new qualname, is_guess) for classes that moved or were renamed."""
    pairs: dict[str, tuple[str, bool]] = {}
    taken: set[str] = set()
    for r in removed:
        shared = [a for a in added if a not in taken and _public(old, r) & _public(new, a)]
        if len(shared) == 1:
            pairs[r] = (shared[0], False)
            taken.add(shared[0])

    def unique_pairs(key: Mapping[str, object], rest_old: list[str], rest_new: list[str]) -> None:
        for r in rest_old:
            same_old = [o for o in rest_old if key[o] == key[r]]
            same_new = [a for a in rest_new if key[a] == key[r]]
            if len(same_old) == 1 and len(same_new) == 1:
                pairs[r] = (same_new[0], True)
                taken.add(same_new[0])

    rest_old = [r for r in removed if r not in pairs]
    rest_new = [a for a in added if a not in taken]
    names = {q: ("name", short_name(q)) for q in [*rest_old, *rest_new]}
    unique_pairs(names, rest_old, rest_new)
    rest_old = [r for r in removed if r not in pairs]
    rest_new = [a for a in added if a not in taken]
    shapes = {q: (old if q in rest_old else new).classes[q] for q in [*rest_old, *rest_new]}
    shape_keys: dict[str, object] = {q: _shape(c) or q for q, c in shapes.items()}
    unique_pairs(shape_keys, rest_old, rest_new)
    return pairs


# ----------------------------------------------------------------------------------------------
# the comparison


class _Differ:
    def __init__(self, old: _Index, new: _Index, renames: Mapping[str, str]) -> None:
        self.old = old
        self.new = new
        self.renames = renames
        self.out: list[Change] = []

    def map(self, name: str | None) -> str | None:
        return self.renames.get(name, name) if name is not None else None

    def add(self, kind: ChangeKind, cls: str, name: str | None, old: str | None,
            new: str | None, location: Location | None,
            inherited_by: Iterable[str] = (), is_guess: bool = False) -> None:
        self.out.append(Change(kind, cls, name, old, new, location, tuple(inherited_by),
                               is_guess))

    # -- class level

    def bases(self, cls: ClassDoc, mapped: bool) -> tuple[str, ...]:
        keys = tuple(b.target or b.path or b.text for b in cls.bases)
        return tuple(self.map(k) or k for k in keys) if mapped else keys

    def compare_class(self, old_q: str, new_q: str) -> None:
        a, b = self.old.classes[old_q], self.new.classes[new_q]
        if a.location.path != b.location.path and old_q == new_q:
            self.add(ChangeKind.CLASS_MOVED, new_q, None, a.location.path, b.location.path,
                     b.location)
        old_bases, new_bases = self.bases(a, True), self.bases(b, False)
        if old_bases != new_bases:
            self.add(ChangeKind.BASES_CHANGED, new_q, None, ", ".join(old_bases) or "object",
                     ", ".join(new_bases) or "object", b.location,
                     self.new.all_descendants(new_q))
        self.compare_members(a, b)
        self.compare_methods(a, b)

    # -- members

    def compare_members(self, a: ClassDoc, b: ClassDoc) -> None:
        old = {m.name: m for m in a.members}
        new = {m.name: m for m in b.members}
        old_methods = {m.name: m for m in a.methods}
        new_methods = {m.name: m for m in b.methods}
        q = b.qualname
        for name in sorted(old.keys() - new.keys()):
            if name in new_methods:
                self.add(ChangeKind.MEMBER_KIND_CHANGED, q, name, old[name].kind.value,
                         new_methods[name].kind.value, new_methods[name].location,
                         self.new.inherited_by(q, name))
                continue
            definer = self.new.member_origin[q].get(name)
            if definer is not None:
                self.add(ChangeKind.MEMBER_DEFINED_IN_CHANGED, q, name, a.qualname, definer,
                         b.location, self.old.inherited_by(a.qualname, name))
            else:
                self.add(ChangeKind.MEMBER_REMOVED, q, name, _member_text(old[name]), None,
                         old[name].location, self.old.inherited_by(a.qualname, name))
        for name in sorted(new.keys() - old.keys()):
            if name in old_methods:
                self.add(ChangeKind.MEMBER_KIND_CHANGED, q, name, old_methods[name].kind.value,
                         new[name].kind.value, new[name].location, self.new.inherited_by(q, name))
                continue
            definer = self.map(self.old.member_origin[a.qualname].get(name))
            if definer is not None:
                self.add(ChangeKind.MEMBER_DEFINED_IN_CHANGED, q, name, definer, q,
                         new[name].location, self.new.inherited_by(q, name))
            else:
                self.add(ChangeKind.MEMBER_ADDED, q, name, None, _member_text(new[name]),
                         new[name].location, self.new.inherited_by(q, name))
        for name in sorted(old.keys() & new.keys()):
            self.compare_member(q, old[name], new[name])

    def compare_member(self, q: str, a: MemberDoc, b: MemberDoc) -> None:
        heirs = self.new.inherited_by(q, a.name)
        if a.kind != b.kind:
            self.add(ChangeKind.MEMBER_KIND_CHANGED, q, a.name, a.kind.value, b.kind.value,
                     b.location, heirs)
        # a new kind (parameter -> buffer) comes with a new value and type: one line says it
        if a.kind == b.kind and _member_type(a) != _member_type(b):
            self.add(ChangeKind.MEMBER_TYPE_CHANGED, q, a.name, _member_type(a),
                     _member_type(b), b.location, heirs)
        if a.kind == b.kind and a.kind.value in _VALUE_KINDS and a.value_text != b.value_text:
            self.add(ChangeKind.MEMBER_VALUE_CHANGED, q, a.name, a.value_text, b.value_text,
                     b.location, heirs)

    # -- methods

    def compare_methods(self, a: ClassDoc, b: ClassDoc) -> None:
        old = {m.name: m for m in a.methods}
        new = {m.name: m for m in b.methods}
        old_members = {m.name for m in a.members}
        new_members = {m.name for m in b.members}
        q = b.qualname
        for name in sorted(old.keys() - new.keys()):
            if name in new_members:
                continue  # reported once, as member_kind_changed
            definer = self.new.method_origin[q].get(name)
            if definer is not None:
                self.add(ChangeKind.METHOD_STOPS_OVERRIDING, q, name, a.qualname, definer,
                         b.location, self.old.inherited_by(a.qualname, name))
            else:
                self.add(ChangeKind.METHOD_REMOVED, q, name, _method_text(old[name]), None,
                         old[name].location, self.old.inherited_by(a.qualname, name))
        for name in sorted(new.keys() - old.keys()):
            if name in old_members:
                continue
            definer = self.map(self.old.method_origin[a.qualname].get(name))
            heirs = self.new.inherited_by(q, name)
            if definer is not None:
                self.add(ChangeKind.METHOD_NOW_OVERRIDES, q, name, definer, q,
                         new[name].location, heirs)
            else:
                self.add(ChangeKind.METHOD_ADDED, q, name, None, _method_text(new[name]),
                         new[name].location, heirs)
        for name in sorted(old.keys() & new.keys()):
            self.compare_method(q, old[name], new[name])

    def compare_method(self, q: str, a: MethodDoc, b: MethodDoc) -> None:
        heirs = self.new.inherited_by(q, a.name)
        pairs = (
            (ChangeKind.METHOD_SIGNATURE_CHANGED, a.signature, b.signature),
            (ChangeKind.METHOD_OVERLOADS_CHANGED, _overloads(a), _overloads(b)),
            (ChangeKind.METHOD_KIND_CHANGED, _method_kind(a), _method_kind(b)),
            (ChangeKind.METHOD_DECORATORS_CHANGED, _decorators(a), _decorators(b)),
            (ChangeKind.METHOD_GROUP_CHANGED, a.group, b.group),
        )
        for kind, before, after in pairs:
            if before != after:
                self.add(kind, q, a.name, before, after, b.location, heirs)

    # -- consequences that nothing else explains

    def unexplained(self, pairs: Mapping[str, str]) -> None:
        rebased = {c.cls for c in self.out if c.kind is ChangeKind.BASES_CHANGED}
        touched = {(c.cls, c.name) for c in self.out if c.kind in _METHOD_PRESENCE}
        mro_moved: set[str] = set()
        for old_q, new_q in pairs.items():
            before = tuple(self.map(x) or x for x in self.old.views[old_q].resolution_order)
            after = self.new.views[new_q].resolution_order
            old_err = self.old.views[old_q].mro_error
            new_err = self.new.views[new_q].mro_error
            if before == after and old_err == new_err:
                continue
            mro_moved.add(new_q)
            if not (set(before) | set(after)) & rebased:
                self.add(ChangeKind.MRO_CHANGED, new_q, None, _mro_text(before, old_err),
                         _mro_text(after, new_err), self.new.classes[new_q].location,
                         self.new.all_descendants(new_q))
        for old_q, new_q in pairs.items():
            if new_q not in mro_moved:
                self.overrides(old_q, new_q, touched)

    def overrides(self, old_q: str, new_q: str, touched: set[tuple[str, str | None]]) -> None:
        old_names = {m.name for m in self.old.classes[old_q].methods}
        for m in self.new.classes[new_q].methods:
            if m.name not in old_names:
                continue
            before = self.map(self.old.overrides(old_q, m.name))
            after = self.new.overrides(new_q, m.name)
            if before == after or (before, m.name) in touched or (after, m.name) in touched:
                continue
            kind = (ChangeKind.METHOD_STOPS_OVERRIDING if after is None
                    else ChangeKind.METHOD_NOW_OVERRIDES)
            self.add(kind, new_q, m.name, before, after, m.location,
                     self.new.inherited_by(new_q, m.name))


_METHOD_PRESENCE = frozenset({ChangeKind.METHOD_ADDED, ChangeKind.METHOD_REMOVED,
                              ChangeKind.METHOD_NOW_OVERRIDES, ChangeKind.METHOD_STOPS_OVERRIDING,
                              ChangeKind.MEMBER_KIND_CHANGED})


def _member_type(m: MemberDoc) -> str | None:
    return m.type_text or m.constructor


def _member_text(m: MemberDoc) -> str:
    kind = m.kind.value.replace("_", " ")
    type_text = _member_type(m)
    return f"{m.name}: {type_text} ({kind})" if type_text else f"{m.name} ({kind})"


def _method_text(m: MethodDoc) -> str:
    prefix = "" if m.kind.value == "method" else f"{m.kind.value} "
    return prefix + m.signature


def _overloads(m: MethodDoc) -> str:
    return "\n".join(m.overloads)


def _method_kind(m: MethodDoc) -> str:
    text = m.kind.value if m.alias_of is None else f"alias of {m.alias_of}"
    return f"abstract {text}" if m.is_abstract else text


def _decorators(m: MethodDoc) -> str:
    return ", ".join(f"@{d}" for d in m.decorators)


def _mro_text(mro: tuple[str, ...], error: str | None) -> str:
    text = ", ".join(mro)
    return f"{text} ({error})" if error else text


# ----------------------------------------------------------------------------------------------
# entry point


def _common_scope(old: Project, new: Project) -> tuple[tuple[str, ...], list[str]]:
    scope = tuple(p for p in old.packages if p in new.packages)
    notes = []
    if set(old.packages) != set(new.packages):
        only = sorted(set(old.packages) ^ set(new.packages))
        notes.append(f"the two sides analyse different packages; only {', '.join(scope) or '-'} "
                     f"is compared (not: {', '.join(only)})")
    if (old.model or None) != (new.model or None):
        notes.append(f"the model differs: {old.model or '-'} -> {new.model or '-'}")
    return scope, notes


def diff_projects(old: Project, new: Project) -> Diff:
    """Every change from `old` to `new`, grouped by class, in a stable order."""
    scope, notes = _common_scope(old, new)
    a, b = _Index(old, scope), _Index(new, scope)
    removed = sorted(q for q in a.classes if q not in b.classes and a.in_scope(q))
    added = sorted(q for q in b.classes if q not in a.classes and b.in_scope(q))
    moves = _match_moves(a, b, removed, added)
    differ = _Differ(a, b, {o: n for o, (n, _) in moves.items()})
    for q in sorted(set(a.classes) & set(b.classes)):
        differ.compare_class(q, q)
    for o, (n, guess) in sorted(moves.items()):
        same_name = short_name(o) == short_name(n)
        kind = ChangeKind.CLASS_MOVED if same_name else ChangeKind.CLASS_RENAMED
        differ.add(kind, n, None, o, n, b.classes[n].location, b.all_descendants(n), guess)
        differ.compare_class(o, n)
    for q in added:
        if q not in {n for n, _ in moves.values()}:
            differ.add(ChangeKind.CLASS_ADDED, q, None, None, q, b.classes[q].location)
    for q in removed:
        if q not in moves:
            differ.add(ChangeKind.CLASS_REMOVED, q, None, q, None, a.classes[q].location,
                       a.all_descendants(q))
    pairs = {q: q for q in set(a.classes) & set(b.classes)}
    pairs.update({o: n for o, (n, _) in moves.items()})
    differ.unexplained(pairs)
    context = tuple(sorted({c.cls for c in differ.out if c.cls in b.classes
                            and not b.in_scope(c.cls)}
                           | {c.cls for c in differ.out if c.cls not in b.classes
                              and not a.in_scope(c.cls)}))
    return Diff(describe_side(old), describe_side(new), _ordered(differ.out), context,
                tuple(notes))


def _ordered(changes: list[Change]) -> tuple[Change, ...]:
    return tuple(sorted(changes, key=lambda c: (c.cls, _KIND_ORDER[c.kind], c.name or "")))
