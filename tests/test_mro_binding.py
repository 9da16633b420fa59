"""Which class a base name denotes, as Python decides it: one case per mechanism the runtime
MRO oracle (tests/test_mro_oracle.py) found docgen getting wrong."""

from __future__ import annotations

import pytest

from docgen.classes.project import find_view
from docgen.core.records import Project
from tests.conftest import WritePackage, analyze_package


def _mro(project: Project, name: str) -> tuple[str, ...]:
    return find_view(project, name).resolution_order


def test_later_class_statement_rebinds_an_imported_name(write_package: WritePackage) -> None:
    """django.forms.renderers: `from ...django import DjangoTemplates`, then
    `class DjangoTemplates(EngineMixin, BaseRenderer)` that later classes subclass."""
    root = write_package({
        "p/__init__.py": "",
        "p/other.py": "class Base: pass\n",
        "p/mod.py": """
            from .other import Base

            class Base(Base):
                pass

            class Child(Base):
                pass
        """,
    })
    project = analyze_package(root, "p")
    assert _mro(project, "p.mod.Child") == (
        "p.mod.Child", "p.mod.Base", "p.other.Base", "builtins.object")


def test_opaque_value_does_not_hide_a_class(write_package: WritePackage) -> None:
    """`Base = decorate(Base)`: nothing known of the value, the class is the better guess."""
    root = write_package({"p/__init__.py": """
        class Base: pass
        Base = decorate(Base)
        class Child(Base): pass
    """})
    assert _mro(analyze_package(root, "p"), "p.Child") == (
        "p.Child", "p.Base", "builtins.object")


@pytest.mark.parametrize(("source", "expected"), [
    # try/except ImportError: the try body is what runs when the import works
    ("try:\n    from .a import Base\nexcept ImportError:\n    from .b import Base\n", "p.a.Base"),
    # if/else: the first branch wins
    ("if cond:\n    from .a import Base\nelse:\n    from .b import Base\n", "p.a.Base"),
    # if TYPE_CHECKING: the else branch is the one that runs
    ("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from .a import Base\n"
     "else:\n    from .b import Base\n", "p.b.Base"),
    # a later plain statement rebinds what a branch bound
    ("try:\n    from .a import Base\nexcept ImportError:\n    pass\nfrom .b import Base\n",
     "p.b.Base"),
])
def test_branches_bind_what_runs(write_package: WritePackage, source: str, expected: str) -> None:
    root = write_package({
        "p/__init__.py": "",
        "p/a.py": "class Base: pass\n",
        "p/b.py": "class Base: pass\n",
        "p/mod.py": source + "\nclass Child(Base):\n    pass\n",
    })
    assert _mro(analyze_package(root, "p"), "p.mod.Child")[1] == expected


def test_nested_class_base_is_looked_up_in_the_class_body(write_package: WritePackage) -> None:
    """sqlalchemy's `JSON.JSONIndexType(JSONElementType)` beside `class JSONElementType`."""
    root = write_package({"p/__init__.py": """
        class Inner:
            pass

        class Outer:
            class Inner:
                pass

            class Sub(Inner):
                pass

            class Deeper:
                class Sub2(Inner):  # class bodies do not nest: the module's Inner
                    pass
    """})
    project = analyze_package(root, "p")
    assert _mro(project, "p.Outer.Sub") == ("p.Outer.Sub", "p.Outer.Inner", "builtins.object")
    assert _mro(project, "p.Outer.Deeper.Sub2") == (
        "p.Outer.Deeper.Sub2", "p.Inner", "builtins.object")


def test_class_body_names_bound_later_are_not_seen(write_package: WritePackage) -> None:
    root = write_package({"p/__init__.py": """
        class Inner:
            pass

        class Outer:
            class Sub(Inner):  # Outer.Inner does not exist yet
                pass

            class Inner:
                pass
    """})
    assert _mro(analyze_package(root, "p"), "p.Outer.Sub")[1] == "p.Inner"


def test_inherited_nested_class(write_package: WritePackage) -> None:
    """sqlalchemy's `Enum.Comparator(String.Comparator)`, where String inherits Comparator
    from Concatenable."""
    root = write_package({"p/__init__.py": """
        class Concatenable:
            class Comparator:
                pass

        class String(Concatenable):
            pass

        class Enum(String):
            class Comparator(String.Comparator):
                pass
    """})
    assert _mro(analyze_package(root, "p"), "p.Enum.Comparator") == (
        "p.Enum.Comparator", "p.Concatenable.Comparator", "builtins.object")


def test_external_base_path_is_followed_out_of_the_sources(write_package: WritePackage) -> None:
    """requests' `from .compat import MutableMapping`: the base is collections.abc's, not
    a name inside the package; star imports and `X = object` aliases are followed too."""
    root = write_package({
        "p/__init__.py": "",
        "p/compat.py": "from collections.abc import MutableMapping\nSchedulerGet = object\n",
        "p/star.py": "from .compat import *\n",
        "p/mod.py": """
            from .compat import SchedulerGet
            from .star import MutableMapping

            class Dict(MutableMapping):
                pass

            class Sched(SchedulerGet):
                pass
        """,
    })
    project = analyze_package(root, "p")
    assert _mro(project, "p.mod.Dict") == (
        "p.mod.Dict", "collections.abc.MutableMapping", "builtins.object")
    assert _mro(project, "p.mod.Sched") == ("p.mod.Sched", "builtins.object")
