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

from docgen.config import Config
from docgen.model import Project
from docgen.project import load_project
from docgen.sources import SourceSet, SourceSpec, fetch_requirement, open_source
from tests.mro_oracle.pins import OraclePackage


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


def load_docgen_project(pkg: OraclePackage, wheel: Path | None = None) -> Project:
    wheel = wheel or fetch_requirement(pkg.requirement)
    spec = SourceSpec(pkg.dist, str(wheel))
    # The sources are opened here: Config names them by import name (`sklearn`), which is
    # not always the distribution's name (`scikit-learn`).
    cfg = Config(model="", packages=(pkg.package,), sources=(spec,), module_root="")
    return load_project(cfg, sources=SourceSet([open_source(spec)]), jobs=2)


def _inside(name: str, package: str) -> bool:
    return name == package or name.startswith(f"{package}.")


def compare_mros(pkg: OraclePackage, runtime: Mapping[str, list[str]],
                 project: Project) -> Comparison:
    views = {v.qualname: v for v in project.views}
    aliases = dict(project.aliases)

    def own(names: list[str] | tuple[str, ...]) -> tuple[str, ...]:
        mapped = (n if n in views else aliases.get(n, n) for n in names)
        return tuple(n for n in mapped if _inside(n, pkg.package))

    compared, mismatches = 0, []
    for name in sorted(runtime):
        qualname = name if name in views else aliases.get(name)
        if qualname is None or qualname not in views:
            continue
        compared += 1
        expected, got = own(runtime[name]), own(views[qualname].resolution_order)
        if expected != got:
            mismatches.append(Mismatch(qualname, expected, got))
    return Comparison(compared, tuple(mismatches))
