"""UML class diagrams in the formats pyreverse writes (PlantUML, Mermaid, DOT), from docgen's model.

Same classes as the site, same visibility rules: own attributes and methods (private ones
included), generalisation arrows to the direct bases that are part of the export.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping

from docgen.core.records import ClassDoc, ClassView, MethodDoc, Project
from docgen.site.diagrams import OBJECT, DotGraph, direct_bases, uml_label

FORMATS = ("plantuml", "mermaid", "dot")


def export_closure(project: Project, roots: Iterable[str]) -> list[str]:
    """`roots` and all their ancestors known to the project, in a stable order."""
    views = {v.qualname: v for v in project.views}
    names: set[str] = set()
    for root in roots:
        names.update(q for q in views[root].resolution_order if q in views)
    return sorted(names)


def export_classes(project: Project, names: Iterable[str], fmt: str) -> str:
    """`names` (qualified) as one class diagram in `fmt` (plantuml, mermaid or dot)."""
    views = {v.qualname: v for v in project.views}
    classes = {c.qualname: c for c in project.classes()}
    chosen = [q for q in sorted(set(names)) if q in classes]
    writer: Callable[[list[str], Mapping[str, ClassDoc], Mapping[str, ClassView]], str] = {
        "plantuml": _plantuml, "mermaid": _mermaid, "dot": _dot}[fmt]
    return writer(chosen, classes, views)


def _edges(chosen: list[str], views: Mapping[str, ClassView]) -> list[tuple[str, str]]:
    shown = set(chosen)
    return [(q, b) for q in chosen for b in direct_bases(views.get(q), views)
            if b in shown and b != OBJECT]


def _ident(qualname: str) -> str:
    return "C_" + re.sub(r"\W", "_", qualname)


def _params(method: MethodDoc) -> str:
    """Parameter names only (as pyreverse shows them), without self/cls or defaults."""
    inside = method.signature.partition("(")[2].rpartition(")")[0]
    names = []
    depth = 0
    current = ""
    for ch in inside + ",":
        if ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
        if ch == "," and depth == 0:
            name = re.split(r"[:=]", current, maxsplit=1)[0].strip()
            if name and name not in ("self", "cls"):
                names.append(name)
            current = ""
        else:
            current += ch
    return ", ".join(names)


def _returns(method: MethodDoc) -> str:
    _, sep, ret = method.signature.rpartition(") -> ")
    return ret.strip() if sep else ""


def _plain(text: str) -> str:
    """Braces and newlines start syntax in PlantUML/Mermaid class bodies; keep them out."""
    return " ".join(text.replace("{", "(").replace("}", ")").split())


def _visibility(name: str) -> str:
    return "-" if name.startswith("_") and not name.endswith("__") else "+"


def _plantuml(chosen: list[str], classes: Mapping[str, ClassDoc],
              views: Mapping[str, ClassView]) -> str:
    lines = ["@startuml", "set namespaceSeparator none", "hide empty members"]
    for q in chosen:
        cls = classes[q]
        abstract = "abstract " if any(m.is_abstract for m in cls.methods) else ""
        lines.append(f'{abstract}class "{_plain(cls.name)}" as {_ident(q)} {{')
        for m in cls.members:
            kind = f" <<{m.kind.value}>>" if m.kind.value in ("parameter", "buffer",
                                                                "submodule") else ""
            typ = f" : {_plain(m.type_text)}" if m.type_text else ""
            lines.append(f"  {_visibility(m.name)}{_plain(m.name)}{typ}{kind}")
        for meth in cls.methods:
            ret = f" : {_plain(_returns(meth))}" if _returns(meth) else ""
            static = "{static} " if meth.kind.value == "staticmethod" else ""
            abstract_m = "{abstract} " if meth.is_abstract else ""
            lines.append(f"  {static}{abstract_m}{_visibility(meth.name)}"
                         f"{_plain(meth.name)}({_plain(_params(meth))}){ret}")
        lines.append("}")
    for sub, base in _edges(chosen, views):
        lines.append(f"{_ident(base)} <|-- {_ident(sub)}")
    lines.append("@enduml")
    return "\n".join(lines) + "\n"


def _mermaid_type(text: str) -> str:
    return _plain(text).replace("[", "~").replace("]", "~")


def _mermaid(chosen: list[str], classes: Mapping[str, ClassDoc],
             views: Mapping[str, ClassView]) -> str:
    lines = ["classDiagram"]
    for q in chosen:
        cls = classes[q]
        label = re.sub(r"[^\w.]", "_", cls.name)
        lines.append(f'  class {_ident(q)}["{label}"] {{')
        for m in cls.members:
            typ = f"{_mermaid_type(m.type_text)} " if m.type_text else ""
            lines.append(f"    {_visibility(m.name)}{typ}{_plain(m.name)}")
        for meth in cls.methods:
            ret = f" {_mermaid_type(_returns(meth))}" if _returns(meth) else ""
            lines.append(f"    {_visibility(meth.name)}{_plain(meth.name)}"
                         f"({_mermaid_type(_params(meth))}){ret}")
        lines.append("  }")
    for sub, base in _edges(chosen, views):
        lines.append(f"  {_ident(base)} <|-- {_ident(sub)}")
    return "\n".join(lines) + "\n"


def _dot(chosen: list[str], classes: Mapping[str, ClassDoc],
         views: Mapping[str, ClassView]) -> str:
    g = DotGraph("classes", {"rankdir": "BT"})
    for q in chosen:
        g.html_node(q, uml_label(classes[q], views[q]), shape="plain", tooltip=q)
    for sub, base in _edges(chosen, views):
        g.edge(sub, base, arrowhead="empty")
    return g.source()
