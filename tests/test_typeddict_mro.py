"""A TypedDict class's MRO is Python's (cls, dict, object); its declared bases stay on record."""

from __future__ import annotations

from tests.conftest import WritePackage, analyze_package


def test_typeddict_mro_is_dict_and_declared_bases_stay(write_package: WritePackage) -> None:
    root = write_package({
        "pkg/__init__.py": "",
        "pkg/module.py": "class Module: ...\n",
        "pkg/td.py": """
            import typing
            from typing_extensions import TypedDict as TD

            class Base(typing.TypedDict, total=False):
                a: int

            class Child(Base):
                b: str

            class Other(TD):
                c: int

            class Mixed(Child, Other):
                d: int

            class Plain(dict):
                pass
        """})
    project = analyze_package(root, "pkg")
    views = {v.qualname: v for v in project.views}
    for name in ("Base", "Child", "Other", "Mixed"):
        assert views[f"pkg.td.{name}"].resolution_order == (
            f"pkg.td.{name}", "builtins.dict", "builtins.object")
    assert views["pkg.td.Plain"].resolution_order == (
        "pkg.td.Plain", "dict", "builtins.object")
    docs = {c.qualname: c for m in project.modules for c in m.classes}
    assert [b.target for b in docs["pkg.td.Mixed"].bases] == ["pkg.td.Child", "pkg.td.Other"]
    assert "pkg.td.Child" in views["pkg.td.Base"].subclasses
    # members still come from the declared bases
    assert {m.member.name for m in views["pkg.td.Child"].members} >= {"a", "b"}
