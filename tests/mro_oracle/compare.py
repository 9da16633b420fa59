"""docgen's MROs of an oracle package read from its wheel, against Python's own.

Only the part of an MRO inside the package is compared (builtins, typing, other
distributions are dropped), and only for classes both sides know. Runtime names are mapped to
docgen's defining names through docgen's public paths, for classes whose `__module__` names
the package that re-exports them (numpy's `set_module("numpy")`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from docgen.classes.project import load_project
from docgen.classes.resolve import ModuleIndex, Resolver, base_expression
from docgen.core.config import Config
from docgen.core.records import Project
from docgen.sources.locate import SourceSet, SourceSpec, fetch_requirement, open_source
from tests.mro_oracle.pins import OraclePackage

NO_SOURCE = "<no source>"


@dataclass(frozen=True)
class Mismatch:
    qualname: str
    runtime: tuple[str, ...]
    docgen: tuple[str, ...]

    def __str__(self) -> str:
        return (f"{self.qualname}\n    runtime: {' '.join(self.runtime)}\n"
                f"    docgen:  {' '.join(self.docgen)}")


@dataclass(frozen=True)
class Comparison:
    compared: int
    mismatches: tuple[Mismatch, ...]


@dataclass(frozen=True)
class DocgenSide:
    """docgen's project of a package, and a resolver over the same sources."""

    project: Project
    resolver: Resolver


def load_docgen(pkg: OraclePackage, wheel: Path | None = None) -> DocgenSide:
    wheel = wheel or fetch_requirement(pkg.requirement)
    spec = SourceSpec(pkg.dist, str(wheel))
    # The sources are opened here: Config names them by import name (`sklearn`), which is
    # not always the distribution's name (`scikit-learn`).
    sources = SourceSet([open_source(spec)])
    cfg = Config(model="", packages=(pkg.package,), sources=(spec,), module_root="")
    return DocgenSide(load_project(cfg, sources=sources, jobs=2),
                      Resolver(ModuleIndex(sources)))


def _inside(name: str, package: str) -> bool:
    return name == package or name.startswith(f"{package}.")


def compare_mros(pkg: OraclePackage, runtime: Mapping[str, list[str]],
                 side: DocgenSide) -> Comparison:
    """Mismatches of the in-package part of the MROs.

    A runtime name is mapped to the class docgen resolves that dotted path to (numpy's
    `numpy.ma.MaskedArray` is `numpy.ma.core.MaskedArray`). An in-package class with no
    Python source (compiled: `numpy.ndarray`; made by a call: a namedtuple's base, the class
    `from_queryset(...)` returns) is NO_SOURCE on both sides: the runtime and docgen name
    such classes differently, so only their place in the MRO is compared. docgen's made
    classes are those a base written as a call resolves to; on the runtime side, a name met
    again in one MRO (`class P(namedtuple("P", ...))`) is a second class of that name.
    """
    views = {v.qualname: v for v in side.project.views}
    made = _made_classes(side.project)
    memo: dict[str, str] = {}

    def docgen_name(name: str) -> str:
        if name in made:
            return NO_SOURCE
        if name in views or not _inside(name, pkg.package):
            return name
        if name not in memo:
            target = side.resolver.resolve_absolute(name)
            found = target is not None and target.kind == "class" and target.qualname in views
            memo[name] = target.qualname if found and target else NO_SOURCE
        return memo[name]

    def own(names: list[str] | tuple[str, ...]) -> tuple[str, ...]:
        mapped = (docgen_name(n) for n in names)
        return tuple(n for n in mapped if n == NO_SOURCE or _inside(n, pkg.package))

    compared, mismatches = 0, []
    for name in sorted(runtime):
        qualname = docgen_name(name)
        if qualname not in views:
            continue
        compared += 1
        expected = own([n if n not in runtime[name][:i] else NO_SOURCE
                        for i, n in enumerate(runtime[name])])
        got = own(tuple(n if n in views else docgen_name(n)
                        for n in views[qualname].resolution_order))
        if expected != got:
            mismatches.append(Mismatch(qualname, expected, got))
    return Comparison(compared, tuple(mismatches))


def _made_classes(project: Project) -> frozenset[str]:
    """The classes docgen made for bases written as calls (made.py)."""
    return frozenset(b.target for v in project.modules for c in v.classes for b in c.bases
                     if b.target and not base_expression(b.text).replace(".", "")
                     .replace("_", "").isalnum())
