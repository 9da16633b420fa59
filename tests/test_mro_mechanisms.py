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
    # a rebinding by an import: the value is the imported module's constant (p.c.F = 0)
    ("F = 1\nfrom .c import F\nif F:\n    from .a import Base\nelse:\n"
     "    from .b import Base\n", "p.b.Base"),
    # sqlalchemy's `if TYPE_CHECKING or not HAS_CYEXTENSION:`, the flag set in a try body
    ("from typing import TYPE_CHECKING\nfrom .c import HAS\n"
     "if TYPE_CHECKING or not HAS:\n    from .a import Base\nelse:\n"
     "    from .b import Base\n", "p.b.Base"),
    ("from . import c\nif c.HAS and c.F != 0:\n    from .a import Base\nelse:\n"
     "    from .b import Base\n", "p.b.Base"),
    # an imported name no module gives a value: the first branch wins, as before
    ("from .c import OTHER\nif OTHER:\n    from .a import Base\nelse:\n"
     "    from .b import Base\n", "p.a.Base"),
])
def test_module_tests_decided_statically(write_package: WritePackage, source: str,
                                         expected: str) -> None:
    root = write_package({
        "p/__init__.py": "",
        "p/a.py": "class Base: pass\n",
        "p/b.py": "class Base: pass\n",
        "p/c.py": "F = 0\nOTHER = compute()\ntry:\n    import _ext\n    HAS = True\n"
                   "except ImportError:\n    HAS = False\n",
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


# ---------------------------------------------------------------------------------------------
# bases made by calls

@pytest.mark.parametrize("call", [
    "namedtuple('Point', 'x y')", "collections.namedtuple('Point', ['x', 'y'])",
    "typing.NamedTuple('Point', [('x', int)])", "nt('Point', 'x y')"])
def test_named_tuple_call_base(write_package: WritePackage, call: str) -> None:
    """`class Point(namedtuple("Point", ...))`: two classes named Point, the second a tuple."""
    root = write_package({"p/__init__.py": f"""
        import collections
        import typing
        from collections import namedtuple
        from collections import namedtuple as nt

        class Point({call}):
            pass

        class Point3(Point):
            pass
    """})
    project = analyze_package(root, "p")
    made = f"p.{call.split('(')[0].rsplit('.', 1)[-1]}-Point"
    assert _mro(project, "p.Point3") == (
        "p.Point3", "p.Point", made, "builtins.tuple", "builtins.object")
    assert find_view(project, made).resolution_order[1:] == ("builtins.tuple", "builtins.object")


def test_named_tuple_call_base_keeps_its_free_name(write_package: WritePackage) -> None:
    root = write_package({"p/__init__.py": """
        from collections import namedtuple

        class Row(namedtuple("RowBase", "a b")):
            pass
    """})
    assert _mro(analyze_package(root, "p"), "p.Row") == (
        "p.Row", "p.RowBase", "builtins.tuple", "builtins.object")


FACTORY = """
    class Base:
        @classmethod
        def from_other(cls, other, class_name=None):
            if class_name is None:
                class_name = cls.__name__ + other.__name__
            return type(class_name, (cls, Mixin), {"other": other})

    class Mixin:
        pass

    def make(first, second):
        \"\"\"A module-level factory.\"\"\"
        return type("Made", (second, first), {})
"""


@pytest.mark.parametrize(("statement", "made", "expected"), [
    # django's `class Manager(BaseManager.from_queryset(QuerySet))`
    ("class Child(Base.from_other(Other)):\n    pass\n", "p.mod.from_other-Other",
     ("p.fac.Base", "p.fac.Mixin")),
    # inherited by a subclass: `cls` is the class the method is called on
    ("class Sub(Base):\n    pass\n\nclass Child(Sub.from_other(Other)):\n    pass\n",
     "p.mod.from_other-Other", ("p.mod.Sub", "p.fac.Base", "p.fac.Mixin")),
    ("class Child(make(Other, Base)):\n    pass\n", "p.mod.make-Other-Base",
     ("p.fac.Base", "p.mod.Other")),
])
def test_factory_call_base(write_package: WritePackage, statement: str, made: str,
                           expected: tuple[str, ...]) -> None:
    root = write_package({
        "p/__init__.py": "",
        "p/fac.py": FACTORY,
        "p/mod.py": "from .fac import Base, make\n\nclass Other:\n    pass\n\n" + statement,
    })
    project = analyze_package(root, "p")
    assert _mro(project, "p.mod.Child") == ("p.mod.Child", made, *expected, "builtins.object")


def test_unknown_call_base_stays_unresolved(write_package: WritePackage) -> None:
    root = write_package({"p/__init__.py": """
        def opaque(x):
            return x

        class Child(opaque(object)):
            pass
    """})
    view = find_view(analyze_package(root, "p"), "p.Child")
    assert view.resolution_order == ("p.Child", "opaque(object)", "builtins.object")


# ---------------------------------------------------------------------------------------------
# compiled extension modules read from their Cython source

PYX = '''
# cython: language_level=3
from cpython.object cimport PyObject
cimport cython
import operator

cdef int helper(int x) except -1:
    return x + 1

cdef class OrderedSet(set):
    """Ordered, in C."""
    cdef list _list
    cdef readonly object owner

    def __init__(self, object d=None):
        set.__init__(self)

    cpdef add(self, element):
        self._list.append(element)

    @cython.boundscheck(False)
    cdef inline int _fast(self, Py_ssize_t i) nogil:
        return 0

class Plain(dict):
    __slots__ = ()

    def keys(self):
        return list(
            super().keys()
        )

cdef class Empty:
    pass
'''


def test_cython_source_reduced_line_for_line() -> None:
    from docgen.classes.cython import cython_as_python

    text = cython_as_python(PYX)
    lines = text.splitlines()
    assert len(lines) == len(PYX.splitlines())
    assert lines[9] == "class OrderedSet(set):"
    assert lines[10] == '    """Ordered, in C."""'
    assert lines[14] == "    def __init__(self, *args, **kwargs): ..."
    assert lines[17] == "    def add(self, *args, **kwargs): ..."
    assert lines[21] == "    def _fast(self, *args, **kwargs): ..."
    assert lines[24] == "class Plain(dict):"
    assert lines[27] == "    def keys(self): ..."
    assert lines[32] == "class Empty:"
    assert "cdef" not in text and "cimport" not in text and "return" not in text


@pytest.mark.parametrize(("files", "expected"), [
    # the extension is shipped: its .pyx is the module, the flag set in a try body holds
    ({"p/_ext.pyx": PYX, "p/_ext.cpython-311-x86_64-linux-gnu.so": ""},
     ("p.mod.Child", "p._ext.OrderedSet")),
    ({"p/_ext.pyx": PYX, "p/_ext.pyd": ""}, ("p.mod.Child", "p._ext.OrderedSet")),
    # no extension: the .pyx is no module, the fallback is what Python imports
    ({"p/_ext.pyx": PYX}, ("p.mod.Child", "p._py.OrderedSet")),
])
def test_compiled_module_read_from_its_cython_source(
        write_package: WritePackage, files: dict[str, str], expected: tuple[str, ...]) -> None:
    root = write_package({
        "p/__init__.py": "",
        "p/_has_ext.py": """
            try:
                from . import _ext
            except ImportError:
                HAS_EXT = False
            else:
                HAS_EXT = True
        """,
        "p/_py.py": "class OrderedSet(set):\n    pass\n",
        "p/mod.py": """
            from typing import TYPE_CHECKING
            from ._has_ext import HAS_EXT

            if TYPE_CHECKING or not HAS_EXT:
                from ._py import OrderedSet
            else:
                from ._ext import OrderedSet

            class Child(OrderedSet):
                pass
        """,
        **files,
    })
    project = analyze_package(root, "p")
    assert _mro(project, "p.mod.Child")[:2] == expected


@pytest.mark.parametrize(("files", "expected"), [
    # a pure wheel of a package with optional speedups: the extension is not shipped
    ({}, "p.fallback.Packer"),
    ({"p/_speedups.cpython-311-x86_64-linux-gnu.so": ""}, "p._speedups.Packer"),
])
def test_try_import_decided_by_what_the_sources_hold(
        write_package: WritePackage, files: dict[str, str], expected: str) -> None:
    root = write_package({
        "p/__init__.py": "",
        "p/fallback.py": "class Packer:\n    pass\n",
        "p/mod.py": """
            try:
                from ._speedups import Packer
            except ImportError:
                from .fallback import Packer

            class Child(Packer):
                pass
        """,
        **files,
    })
    # with the extension shipped (no source), its class is known by its path only
    assert _mro(analyze_package(root, "p"), "p.mod.Child")[1] == expected


@pytest.mark.parametrize(("compat", "expected"), [
    ("class Base:\n    pass\n", "p.compat.Base"),
    ("X = 1\n", "p.fallback.Base"),  # the name is not there: ImportError, the handler runs
    ("from elsewhere import *\n", "p.compat.Base"),  # names docgen cannot list: assumed
    ("def __getattr__(name):\n    return object\n", "p.compat.Base"),
])
def test_try_import_of_a_name(write_package: WritePackage, compat: str, expected: str) -> None:
    root = write_package({
        "p/__init__.py": "",
        "p/compat.py": compat,
        "p/fallback.py": "class Base:\n    pass\n",
        "p/mod.py": """
            try:
                from .compat import Base
            except ImportError:
                from .fallback import Base

            class Child(Base):
                pass
        """,
    })
    assert _mro(analyze_package(root, "p"), "p.mod.Child")[1] == expected


def test_made_classes_get_pages_that_links_reach(write_package: WritePackage) -> None:
    from docgen.site.build import generate_docs
    from tests.sitekit import PACKAGE, broken_links, synthetic_config

    root = write_package({**PACKAGE, "pkg/made.py": """
        from collections import namedtuple

        class Keys(namedtuple("Keys", "a b")):
            pass

        class Factory:
            @classmethod
            def with_mixin(cls, other):
                return type("X", (cls, other), {})

        class Mixin:
            pass

        class Made(Factory.with_mixin(Mixin)):
            pass
    """})
    files = generate_docs(synthetic_config(root), jobs=1).files
    assert {"classes/pkg.made.namedtuple-Keys.md", "classes/pkg.made.with_mixin-Mixin.md"} \
        <= set(files)
    assert "Made at run time by" in \
        files["classes/pkg.made.with_mixin-Mixin.md"]
    assert broken_links(files) == []
