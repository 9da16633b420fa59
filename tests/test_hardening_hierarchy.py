"""Inheritance of any depth: C3 is iterative and linear, whatever the declaration order
(issue 15: a 500-level chain declared leaf-first raised RecursionError)."""

from __future__ import annotations

import random
import time

import pytest

from docgen.classes.hierarchy import OBJECT, compute_views
from docgen.core.records import BaseRef, ClassDoc, DocstringDoc, Location
from tests.conftest import WritePackage, analyze_package


def _doc(name: str, bases: list[str]) -> ClassDoc:
    return ClassDoc(qualname=name, module="m", name=name, location=Location("m.py", 1),
                    bases=tuple(BaseRef(text=b, target=b) for b in bases),
                    docstring=DocstringDoc(""), members=(), methods=())


@pytest.mark.parametrize("leaf_first", [False, True])
def test_deep_chain_builds_without_recursion(write_package: WritePackage, leaf_first: bool
                                             ) -> None:
    depth = 1000
    classes = ["class C0:\n    pass\n"] + [f"class C{i}(C{i - 1}):\n    pass\n"
                                           for i in range(1, depth)]
    if leaf_first:
        classes.reverse()
    root = write_package({"deep/__init__.py": "", "deep/mod.py": "\n".join(classes)})
    start = time.perf_counter()
    project = analyze_package(root, "deep", module_root="deep.mod.C0")
    elapsed = time.perf_counter() - start
    views = {v.qualname: v for v in project.views}
    leaf = views[f"deep.mod.C{depth - 1}"]
    assert len(leaf.resolution_order) == depth + 1
    assert leaf.resolution_order[1] == f"deep.mod.C{depth - 2}"
    assert leaf.resolution_order[-1] == OBJECT and leaf.mro_error is None
    assert elapsed < 60


def test_c3_matches_python_on_random_hierarchies() -> None:
    rng = random.Random(15)
    for _trial in range(40):
        real: dict[str, type] = {}
        docs: dict[str, ClassDoc] = {}
        for i in range(30):
            names = list(real)
            picked = rng.sample(names, k=min(len(names), rng.randint(0, 3)))
            try:
                cls = type(f"K{i}", tuple(real[n] for n in picked) or (object,), {})
            except TypeError:  # Python finds no consistent MRO: docgen must say so too
                views = compute_views({**docs, f"K{i}": _doc(f"K{i}", picked)}, {})
                assert views[f"K{i}"].mro_error
                continue
            real[f"K{i}"] = cls
            docs[f"K{i}"] = _doc(f"K{i}", picked)
        views = compute_views(docs, {})
        for name, cls in real.items():
            expected = (*(c.__name__ for c in cls.__mro__[:-1]), OBJECT)
            assert views[name].resolution_order == expected


def test_cycles_are_reported_not_raised() -> None:
    docs = {n: _doc(n, [b]) for n, b in (("A", "C"), ("B", "A"), ("C", "B"), ("D", "C"))}
    views = compute_views(docs, {})
    for name in "ABC":
        assert "inheritance cycle" in (views[name].mro_error or "")
    assert views["D"].resolution_order[0] == "D"


def test_class_pages_stay_small_for_deep_and_wide_trees(write_package: WritePackage) -> None:
    from docgen.core.config import Config
    from docgen.site.build import generate_docs
    from docgen.site.pages import MAX_LISTED, MAX_ROWS
    from docgen.sources.locate import SourceSpec

    depth, width = MAX_LISTED + 50, MAX_LISTED + 20
    chain = ["class C0:\n    a0 = 0\n"] + [f"class C{i}(C{i - 1}):\n    a{i} = {i}\n"
                                            "    def m{i}(self): pass\n".format(i=i)
                                            for i in range(1, depth)]
    wide = [f"class W{i}(C0):\n    pass\n" for i in range(width)]
    root = write_package({"deep/__init__.py": "", "deep/mod.py": "\n".join(chain + wide)})
    cfg = Config(model="", packages=("deep",), sources=(SourceSpec("deep", str(root)),),
                 module_root="deep.mod.C0", changes=(), walk=False, summary=False)
    files = generate_docs(cfg, jobs=1).files
    leaf = files[f"classes/deep.mod.C{depth - 1}.md"]
    assert f"{depth + 1 - MAX_LISTED} more ancestors, not listed" in leaf
    methods = files[f"_fragments/classes/deep.mod.C{depth - 1}.inherited-methods.html"]
    listed = min(depth - 1, MAX_ROWS)  # m1 .. m(depth-2) and object's none: one per ancestor
    assert methods.count("<tr><td><code>") == min(depth - 2, MAX_ROWS)
    assert listed >= methods.count("<tr><td><code>")
    root_page = files["classes/deep.mod.C0.md"]
    assert f"and {width + 1 - MAX_LISTED} more, not listed" in root_page
    assert max(len(text) for rel, text in files.items() if rel.startswith("classes/")
               and rel != "classes/index.md") < 60_000


def test_inherited_tables_are_capped(write_package: WritePackage,
                                     monkeypatch: pytest.MonkeyPatch) -> None:
    from docgen.core.config import Config
    from docgen.site import pages
    from docgen.site.build import generate_docs
    from docgen.sources.locate import SourceSpec

    monkeypatch.setattr(pages, "MAX_ROWS", 20)
    chain = ["class C0:\n    pass\n"] + [f"class C{i}(C{i - 1}):\n    def m{i}(self): pass\n"
                                           for i in range(1, 60)]
    root = write_package({"deep/__init__.py": "", "deep/mod.py": "\n".join(chain)})
    cfg = Config(model="", packages=("deep",), sources=(SourceSpec("deep", str(root)),),
                 module_root="deep.mod.C0", changes=(), walk=False, summary=False)
    files = generate_docs(cfg, jobs=1).files
    table = files["_fragments/classes/deep.mod.C59.inherited-methods.html"]
    assert table.count("<tr><td><code>") == 20
    assert "Inherited methods (58)" in table
    assert "and 38 more, not listed" in table
