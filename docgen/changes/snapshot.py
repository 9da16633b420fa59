"""Model <-> JSON: the snapshot file CI diffs, and the `show --json` document.

One encoder and one decoder. Output is deterministic: sorted keys, two-space indent, UTF-8,
a trailing newline, a top-level schema number, no absolute paths, timestamps or tool version.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from typing import Any

from docgen.classes.hierarchy import compute_views
from docgen.core.errors import DocgenError
from docgen.core.jsonio import (
    SHOW_SCHEMA,
    SNAPSHOT_SCHEMA,
    LazyObject,
    dumps,
    iter_dumps,
    schema_of,
)
from docgen.core.records import (
    BaseRef,
    ClassDoc,
    ClassView,
    Diagnostic,
    DistributionInfo,
    DocstringDoc,
    Location,
    MemberDoc,
    MemberKind,
    MethodDoc,
    MethodKind,
    ModuleDoc,
    Project,
)

SCHEMA = SNAPSHOT_SCHEMA


class SnapshotError(DocgenError):
    """A snapshot that cannot be read: damaged, or of a schema this docgen does not know."""


def _loc(loc: Location) -> str:
    return f"{loc.path}:{loc.line}"


def _parse_loc(text: str) -> Location:
    path, _, line = text.rpartition(":")
    return Location(path, int(line))


def member_to_json(m: MemberDoc) -> dict[str, Any]:
    return {"name": m.name, "kind": m.kind.value, "type": m.type_text, "value": m.value_text,
            "constructor": m.constructor, "defined_in": m.defined_in, "location": _loc(m.location)}


def method_to_json(m: MethodDoc) -> dict[str, Any]:
    return {"name": m.name, "signature": m.signature, "kind": m.kind.value,
            "decorators": list(m.decorators), "summary": m.summary, "group": m.group,
            "alias_of": m.alias_of, "overloads": list(m.overloads), "abstract": m.is_abstract,
            "defined_in": m.defined_in, "location": _loc(m.location)}


def class_to_json(cls: ClassDoc, view: ClassView) -> dict[str, Any]:
    overrides = {r.method.name: r.overrides for r in view.methods if not r.is_inherited}
    return {
        "name": cls.name,
        "module": cls.module,
        "location": _loc(cls.location),
        "selected": cls.is_selected,
        "bases": [{"text": b.text, "target": b.target, "path": b.path} for b in cls.bases],
        "mro": list(view.resolution_order),
        "mro_error": view.mro_error,
        "public_paths": list(view.public_paths),
        "docstring": {"summary": cls.docstring.summary, "dynamic": cls.docstring.is_dynamic},
        "members": [member_to_json(m) for m in cls.members],
        "methods": [{**method_to_json(m), "overrides": overrides.get(m.name)}
                    for m in cls.methods],
    }


def project_to_json(project: Project, *, lazy: bool = False) -> dict[str, Any]:
    """The snapshot document; with `lazy`, its classes are made one at a time as
    `iter_dumps` writes them (the same text, never all in memory at once)."""
    views = {v.qualname: v for v in project.views}
    classes = {c.qualname: c for m in project.modules for c in m.classes}
    return {
        "schema": SCHEMA,
        "distributions": [{"name": d.name, "version": d.version, "origin": d.origin,
                           "spec": d.spec} for d in project.distributions],
        "packages": list(project.packages),
        "model": project.model,
        "modules": {m.name: {"path": m.path, "distribution": m.distribution,
                             "package": m.is_package} for m in project.modules},
        "classes": LazyObject(sorted(classes), lambda q: class_to_json(classes[q], views[q]))
        if lazy else {q: class_to_json(c, views[q]) for q, c in classes.items()},
        "diagnostics": [str(d) for d in project.diagnostics],
    }


def dump_snapshot(project: Project) -> str:
    return dumps(project_to_json(project))


def iter_snapshot(project: Project) -> Iterator[str]:
    """dump_snapshot's text in pieces, for writing a large snapshot in bounded memory."""
    return iter_dumps(project_to_json(project, lazy=True))


def _member(d: Mapping[str, Any]) -> MemberDoc:
    return MemberDoc(d["name"], MemberKind(d["kind"]), d["type"], d["defined_in"],
                     _parse_loc(d["location"]), d.get("value"), d.get("constructor"))


def _method(d: Mapping[str, Any]) -> MethodDoc:
    return MethodDoc(d["name"], d["signature"], MethodKind(d["kind"]), tuple(d["decorators"]),
                     d["summary"], d["defined_in"], _parse_loc(d["location"]), d["group"],
                     d.get("alias_of"), tuple(d.get("overloads", ())), d.get("abstract", False))


def project_from_json(data: Mapping[str, Any]) -> Project:
    """The Project a snapshot describes; derived tables (MRO, inheritance) are recomputed."""
    if schema_of(data) != SCHEMA:
        schema = data.get("schema") if isinstance(data, Mapping) else None
        raise SnapshotError(f"snapshot schema {schema!r} is not supported by this docgen "
                            f"(it reads schema {SCHEMA}); regenerate it with `docgen snapshot`")
    try:
        by_module: dict[str, list[ClassDoc]] = {}
        for qualname, c in data["classes"].items():
            by_module.setdefault(c["module"], []).append(ClassDoc(
                qualname=qualname, module=c["module"], name=c["name"],
                location=_parse_loc(c["location"]),
                bases=tuple(BaseRef(b["text"], b["target"], b.get("path")) for b in c["bases"]),
                docstring=DocstringDoc(c["docstring"]["summary"], c["docstring"]["dynamic"]),
                members=tuple(_member(m) for m in c["members"]),
                methods=tuple(_method(m) for m in c["methods"]),
                is_selected=c["selected"]))
        modules = tuple(
            ModuleDoc(name, m["path"], m["distribution"], tuple(by_module.get(name, ())),
                      m["package"]) for name, m in data["modules"].items())
        classes = {c.qualname: c for m in modules for c in m.classes}
        public = {q: tuple(c["public_paths"]) for q, c in data["classes"].items()}
        views = compute_views(classes, public)
        diagnostics = tuple(_diagnostic(t) for t in data.get("diagnostics", ()))
        return Project(
            distributions=tuple(DistributionInfo(**d) for d in data["distributions"]),
            packages=tuple(data["packages"]),
            model=data.get("model"),
            modules=tuple(sorted(modules, key=lambda m: m.path)),
            views=tuple(views[q] for q in sorted(views)),
            aliases=tuple(sorted((p, q) for q, ps in public.items() for p in ps)),
            diagnostics=diagnostics,
        )
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise SnapshotError(f"damaged snapshot: {type(exc).__name__}: {exc}") from exc


def _diagnostic(text: str) -> Diagnostic:
    head, _, message = text.partition(": ")
    path, _, line = head.rpartition(":")
    return Diagnostic(path, int(line) if line.isdigit() else 0, message)


def load_snapshot(text: str, origin: str = "<snapshot>") -> Project:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise SnapshotError(f"{origin}:{exc.lineno}: not JSON: {exc.msg}") from exc
    except RecursionError as exc:
        raise SnapshotError(f"{origin}:1: not a snapshot: JSON nested too deeply") from exc
    try:
        return project_from_json(data)
    except SnapshotError as exc:
        raise SnapshotError(f"{origin}: {exc}") from exc


def is_snapshot(data: bytes) -> bool:
    """Whether `data` is a file `docgen snapshot` wrote: a JSON object with an integer
    `schema` and a `classes` object (what --out may replace without --force)."""
    try:
        found = json.loads(data)
    except (ValueError, RecursionError):
        return False
    return isinstance(found, dict) and type(found.get("schema")) is int \
        and isinstance(found.get("classes"), dict)


def view_to_json(project: Project, view: ClassView) -> dict[str, Any]:
    """`docgen show --json`: own and inherited members and methods of one class."""
    classes = {c.qualname: c for c in project.classes()}
    cls = classes[view.qualname]
    return {
        "schema": SHOW_SCHEMA,
        "qualname": view.qualname,
        "public_paths": list(view.public_paths),
        "location": _loc(cls.location),
        "docstring": {"summary": cls.docstring.summary, "dynamic": cls.docstring.is_dynamic},
        "bases": [{"text": b.text, "target": b.target, "path": b.path} for b in cls.bases],
        "mro": list(view.resolution_order),
        "mro_error": view.mro_error,
        "subclasses": list(view.subclasses),
        "members": [{**member_to_json(m.member), "inherited": m.is_inherited}
                    for m in view.members],
        "methods": [{**method_to_json(r.method), "inherited": r.is_inherited,
                     "overrides": r.overrides} for r in view.methods],
        "distributions": [{"name": d.name, "version": d.version}
                          for d in project.distributions],
    }
