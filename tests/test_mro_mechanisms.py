"""The mechanisms that bring docgen's MROs to Python's own on real packages (the runtime
oracle, tests/test_mro_oracle.py): each on a small synthetic package."""

from __future__ import annotations

import pytest

from docgen.classes.project import find_view
from docgen.core.records import Project
from tests.conftest import WritePackage, analyze_package


def _mro(project: Project, name: str) -> tuple[str, ...]:
    return find_view(project, name).resolution_order


# ---------------------------------------------------------------------------------------------
# module-level tests decided statically

@pytest.mark.parametrize(("source", "expected"), [
    # numpy.distutils.tests: a script-only branch is never taken on import
    ("is_standalone = __name__ == '__main__' and __package__ is None\n"
     "if is_standalone:\n    from .a import Base\nelse:\n    from .b import Base\n", "p.b.Base"),
    ("if __name__ == 'p.mod':\n    from .a import Base\nelse:\n    from .b import Base\n",
     "p.a.Base"),
    ("if __package__ != 'p':\n    from .a import Base\nelse:\n    from .b import Base\n",
     "p.b.Base"),
    ("FLAG = 0\nif not FLAG:\n    from .b import Base\nelse:\n    from .a import Base\n",
     "p.b.Base"),
    ("V = (1, 2)\nif V >= (1, 3):\n    from .a import Base\nelif 1 in V:\n"
     "    from .b import Base\n", "p.b.Base"),
    # the default environment: no variable is set
    ("import os\nif os.environ.get('NO_EXT'):\n    from .a import Base\nelse:\n"
     "    from .b import Base\n", "p.b.Base"),
    ("import os\nif 'NO_EXT' in os.environ or os.getenv('X', '1') == '0':\n"
     "    from .a import Base\nelse:\n    from .b import Base\n", "p.b.Base"),
    # a constant set in a try body holds (docgen assumes the imports there work)
    ("try:\n    import zlib\n    HAS = True\nexcept ImportError:\n    HAS = False\n"
     "if HAS:\n    from .b import Base\nelse:\n    from .a import Base\n", "p.b.Base"),
    # branches that disagree leave the name unknown: the first branch wins, as before
    ("if cond:\n    F = 1\nelse:\n    F = 0\nif F:\n    from .a import Base\nelse:\n"
     "    from .b import Base\n", "p.a.Base"),
    # a rebinding by an import makes the value unknown again
    ("F = 0\nfrom .c import F\nif F:\n    from .a import Base\nelse:\n"
     "    from .b import Base\n", "p.a.Base"),
])
def test_module_tests_decided_statically(write_package: WritePackage, source: str,
                                         expected: str) -> None:
    root = write_package({
        "p/__init__.py": "",
        "p/a.py": "class Base: pass\n",
        "p/b.py": "class Base: pass\n",
        "p/c.py": "F = 1\n",
        "p/mod.py": source + "\nclass Child(Base):\n    pass\n",
    })
    assert _mro(analyze_package(root, "p"), "p.mod.Child")[1] == expected


# ---------------------------------------------------------------------------------------------
# external bases whose own bases are facts, not sources

def test_protocol_brings_generic_in_its_place(write_package: WritePackage) -> None:
    """sqlalchemy's AssociationProxy: Protocol's own MRO holds Generic, so Generic (and what
    follows it) comes after the protocol, not right after the first generic base."""
    root = write_package({"p/__init__.py": """
        from typing import Generic, TypeVar
        from typing_extensions import Protocol
        T = TypeVar("T")

        class Last:
            pass

        class Options(Generic[T], Last):
            pass

        class Proto(Protocol[T]):
            pass

        class Child(Options[T], Proto[T]):
            pass
    """})
    assert _mro(analyze_package(root, "p"), "p.Child") == (
        "p.Child", "p.Options", "p.Proto", "typing_extensions.Protocol", "typing.Generic",
        "p.Last", "builtins.object")


@pytest.mark.parametrize("base", ["NamedTuple", "typing.NamedTuple"])
def test_named_tuple_class_is_a_tuple(write_package: WritePackage, base: str) -> None:
    root = write_package({"p/__init__.py": f"""
        import typing
        from typing import NamedTuple

        class Point({base}):
            x: int
            y: int

        class Point3(Point):
            z: int = 0
    """})
    project = analyze_package(root, "p")
    assert _mro(project, "p.Point") == ("p.Point", "builtins.tuple", "builtins.object")
    assert _mro(project, "p.Point3") == (
        "p.Point3", "p.Point", "builtins.tuple", "builtins.object")
