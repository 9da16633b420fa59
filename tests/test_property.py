"""Property-based: random packages of classes (diamonds, cycles across modules, self-inheritance,
dynamic and unresolvable bases, odd identifiers, members through every supported pattern) go
through analysis and the snapshot round trip without an exception escaping."""

from __future__ import annotations

import keyword
import re
import shutil
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from docgen.changes.snapshot import dump_snapshot, load_snapshot
from tests.conftest import analyze_package

NAMES = st.sampled_from(["A", "B", "Ünïcode", "クラス", "_Private", "X1", "Ωmega", "Base",
                         "Module", "Tensor", "C" * 60])
ATTRS = st.sampled_from(["x", "_p", "ü", "w" * 40, "self", "__dunder__", "weight", "bias"])
# Keywords are valid attribute names only where they are strings (setattr and friends).
STRING_ATTRS = st.sampled_from(["class", "def", "None", "x y", ""])
MEMBER_FORMS = [
    "self.{a} = 1",
    "self.{a}: int = 0",
    'super().__setattr__("{a}", {{}})',
    'object.__setattr__(self, "{a}", None)',
    'setattr(self, "{a}", [])',
    'self.register_buffer("{a}", None)',
    'self.register_parameter("{a}", None)',
    "self.{a} = Parameter()",
]


@st.composite
def packages(draw: st.DrawFn) -> dict[str, str]:
    n_modules = draw(st.integers(1, 3))
    classes: list[tuple[int, str]] = []
    for i in range(draw(st.integers(1, 8))):
        classes.append((draw(st.integers(0, n_modules - 1)), f"{draw(NAMES)}{i}"))
    bodies: dict[int, list[str]] = {m: ["from .support import Parameter, make_base"]
                                    for m in range(n_modules)}
    for m in range(n_modules):
        bodies[m] += [f"from .m{o} import *" for o in range(n_modules) if o != m]
    for mod, name in classes:
        options = [c for _, c in classes] + [name, "make_base()", "Unknown", "typing.Generic",
                                             f"m{(mod + 1) % n_modules}.{classes[0][1]}"]
        bases = draw(st.lists(st.sampled_from(options), max_size=3, unique=True))
        members = draw(st.lists(st.tuples(st.sampled_from(MEMBER_FORMS), ATTRS), max_size=4))
        members += [(form, attr) for form, attr in draw(st.lists(st.tuples(
            st.sampled_from(MEMBER_FORMS[2:7]), STRING_ATTRS), max_size=2))]
        doc = draw(st.sampled_from(['"""<script>alert(1)</script> | {{ x }}"""', '""""""',
                                    '__doc__ = "a" + "b"', '"""a\\nb"""']))
        lines = [f"class {name}({', '.join(bases)}):", f"    {doc}",
                 "    def __init__(self):"]
        lines += [f"        {form.format(a=attr)}" for form, attr in members] or ["        pass"]
        lines += ["    def forward(self, x: 'dict[str, Any]' = {'a': '<b>'}) -> None:",
                  "        return None", "    __call__ = forward"]
        bodies[mod] += lines
    files = {"gen/__init__.py": "", "gen/support.py":
             "class Parameter: pass\ndef make_base():\n    return object\n"}
    for m in range(n_modules):
        files[f"gen/m{m}.py"] = "import typing\n" + "\n".join(bodies[m]) + "\n"
    return files


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(packages())
def test_random_packages_never_crash(files: dict[str, str]) -> None:
    root = Path(tempfile.mkdtemp(prefix="docgen-prop-"))
    try:
        for rel, text in files.items():
            path = root / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
        project = analyze_package(root, "gen")
        defined = {re.match(r"class (\w+)", line)[1]  # type: ignore[index]
                   for text in files.values() for line in text.splitlines()
                   if line.startswith("class ")}
        assert {c.name for c in project.classes() if c.is_selected} == defined
        for view in project.views:
            assert view.resolution_order[0] == view.qualname
            assert view.resolution_order[-1] == "builtins.object"
            cyclic = any(view.qualname == c for c in view.resolution_order[1:])
            assert not cyclic
        text = dump_snapshot(project)
        assert dump_snapshot(load_snapshot(text)) == text
        _render_without_graphviz(root)
    finally:
        shutil.rmtree(root, ignore_errors=True)


def _render_without_graphviz(root: Path) -> None:
    """DOT generation and page rendering on the same package (Graphviz itself is exercised
    by the site tests; here the DOT text and Markdown must come out without an exception)."""
    from unittest import mock

    from docgen.core.config import Config
    from docgen.site import build
    from docgen.sources.locate import SourceSpec

    cfg = Config(model="", packages=("gen",), sources=(SourceSpec("gen", str(root)),),
                 module_root="gen.support.Parameter")
    with mock.patch.object(build, "has_dot", return_value=False):
        docs = build.generate_docs(cfg, jobs=1)
    assert docs.graphviz_missing
    pages = [p for p in docs.files if p.startswith("classes/") and p != "classes/index.md"]
    assert pages
    for rel in pages:
        prose = re.sub(r"(?ms)^(`{3,}).*?^\1", "", docs.files[rel])  # code blocks show text
        assert "<script>" not in prose and "{{" not in prose, rel


def test_keywords_as_attribute_strings_are_members() -> None:
    root = Path(tempfile.mkdtemp(prefix="docgen-kw-"))
    try:
        (root / "kw").mkdir()
        (root / "kw" / "__init__.py").write_text(
            "class K:\n    def __init__(self):\n"
            + "".join(f"        setattr(self, {k!r}, 1)\n" for k in keyword.kwlist))
        project = analyze_package(root, "kw")
        [cls] = project.classes()
        assert {m.name for m in cls.members} == set(keyword.kwlist)
    finally:
        shutil.rmtree(root, ignore_errors=True)
