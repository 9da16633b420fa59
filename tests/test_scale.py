"""The shortcuts that make large packages fast give the answers the long way gives."""

from __future__ import annotations

import textwrap

from docgen.classes.analyze import MEMBER_CALLS, analyze_module
from docgen.classes.parse import parse_module
from tests.conftest import WritePackage, analyze_package

METHODS = '''
import torch

class Net(Module):
    """Net."""

    def __init__(self, n, flag=None):
        """Build."""
        x = n + 1
        print(x)
        if flag:
            self.a = 1
            log("a")
        elif n > 2:
            for i in range(n):
                self.register_buffer("b", torch.zeros(i))
            else:
                pass
        else:
            self.c: int = 3
        while n:
            n -= 1
        try:
            self.d = torch.ones(1)
        except ValueError:
            log("no d")
            self.add_module("e", Other())
        finally:
            del self.x
        with open("f") as self.g:
            pass
        def helper():
            self.never = 1
        cb = lambda: setattr(self, "never2", 1)
        self.h, self.i = 1, 2
        self.j += 1
        [setattr(self, "k", v) for v in range(3)]
        super().__setattr__("l", {})
        object.__setattr__(self, "m", [])
        match n:
            case 1:
                self.n = 1
            case _:
                log("other")

    def forward(self, x):
        y = self.a(x)
        return y

    @staticmethod
    def build():
        return Net(1)

    def set(self):
        if True:
            log("nothing")
        self.later = None

    class Inner:
        def __init__(self):
            for _ in ():
                log("x")
            self.z = 0
'''


def test_pruned_method_bodies_give_the_same_analysis() -> None:
    data = textwrap.dedent(METHODS).encode()
    full = analyze_module(parse_module(data, "pkg.net", "pkg/net.py", function_bodies=False),
                          name="pkg.net", path="pkg/net.py", distribution="pkg",
                          is_package=False)
    pruned = analyze_module(
        parse_module(data, "pkg.net", "pkg/net.py", function_bodies=False,
                     member_calls=MEMBER_CALLS),
        name="pkg.net", path="pkg/net.py", distribution="pkg", is_package=False)
    assert pruned == full
    members = {m.name for c in full.module.classes for m in c.members}
    assert {"a", "b", "c", "d", "e", "g", "h", "i", "j", "k", "l", "m", "n", "later",
            "z"} <= members
    assert not {"never", "never2"} & members


def test_pruning_drops_statements_that_bind_nothing() -> None:
    data = textwrap.dedent(METHODS).encode()
    tree = parse_module(data, "pkg.net", "pkg/net.py", function_bodies=False,
                        member_calls=MEMBER_CALLS)
    forward = next(n for n in tree.body[1].body if getattr(n, "name", "") == "forward")
    init = next(n for n in tree.body[1].body if getattr(n, "name", "") == "__init__")
    assert [type(s).__name__ for s in forward.body] == ["Pass"]
    assert init.doc_node is not None and init.doc_node.value == "Build."
    assert not any(type(s).__name__ == "While" for s in init.body)


def test_star_imports_bind_names_through_many_modules(write_package: WritePackage) -> None:
    files = {"pkg/__init__.py": "from .sub import *\n",
             "pkg/sub/__init__.py": "".join(f"from .m{i} import *\n" for i in range(30))
             + "from .cyc import *\n",
             "pkg/module.py": "class Module: ...\n",
             "pkg/sub/cyc.py": "from pkg.sub import *\n"}
    for i in range(30):
        files[f"pkg/sub/m{i}.py"] = (f"__all__ = ['C{i}']\nclass C{i}: ...\nclass Hidden{i}: ...\n"
                                     if i % 2 else f"class C{i}: ...\nclass _Private{i}: ...\n")
    files["pkg/sub/m29.py"] = "from .m3 import C3 as Again\n"
    project = analyze_package(write_package(files), "pkg")
    paths = {v.qualname: v.public_paths for v in project.views}
    assert paths["pkg.sub.m0.C0"] == ("pkg.C0", "pkg.sub.C0")
    assert paths["pkg.sub.m3.C3"] == ("pkg.Again", "pkg.C3", "pkg.sub.Again", "pkg.sub.C3")
    assert paths["pkg.sub.m1.Hidden1"] == ()
    assert paths["pkg.sub.m0._Private0"] == ()


# Statements whose member binding hides on a line that does not start them, in a `match`, a
# comprehension, a `with`, behind a continuation: the line filter must keep each one.
HOT_LINES = '''
class Net:
    def __init__(self, n, items):
        value = (
            n,
            [0 for self.a in items],
        )
        call(1,
             2, setattr(
                 self, "b", 3))
        self.register_buffer(
            "c", None)
        with open("x") as (self.d, other):
            pass
        with ctx() as plain, ctx() as self.e:
            pass
        *self.f, last = items
        self.g[0] = 1
        self.h.i = 2
        match n:
            case 1:
                self.j = 1
        keep = lambda: self.register_module("never", None)
        x = self.k  # for a load, nothing is bound
        async_result = [v async for self.l in items] if n else None
        if n:
            y = (lambda: 1)()
        elif (
            setattr(self, "m", 1)
        ):
            pass
        assert setattr(self, "n", 1) is None
        return add_module and self.o
'''


def test_line_filter_prunes_as_the_walk_does() -> None:
    import ast
    from pathlib import Path

    from docgen.classes.parse import _hot_lines, _keep_member_statements

    sources = [textwrap.dedent(HOT_LINES), textwrap.dedent(METHODS)]
    sources += [p.read_text() for p in sorted(Path("docgen").rglob("*.py"))]
    for text in sources:
        walked, filtered = ast.parse(text), ast.parse(text)
        _keep_member_statements(walked, MEMBER_CALLS)
        _keep_member_statements(filtered, MEMBER_CALLS, _hot_lines(text, MEMBER_CALLS))
        assert ast.dump(filtered, include_attributes=True) == \
            ast.dump(walked, include_attributes=True)
    tree = ast.parse(textwrap.dedent(HOT_LINES))
    text = textwrap.dedent(HOT_LINES)
    _keep_member_statements(tree, MEMBER_CALLS, _hot_lines(text, MEMBER_CALLS))
    kept = [s.lineno for s in tree.body[0].body[0].body]
    # all but the subscript store, the lambda, the load and the final `return`
    assert kept == [4, 8, 11, 13, 15, 17, 19, 20, 25, 26, 32], ast.unparse(tree)


def _json_values() -> object:
    from hypothesis import strategies as st

    scalars = st.none() | st.booleans() | st.integers() | st.floats() | st.text()
    return st.recursive(scalars, lambda inner: st.lists(inner, max_size=4)
                        | st.dictionaries(st.text(max_size=5), inner, max_size=4),
                        max_leaves=30)


def test_streamed_json_is_the_text_of_dumps() -> None:
    from hypothesis import given, settings
    from hypothesis import strategies as st

    from docgen.core.jsonio import dumps, iter_dumps

    @settings(max_examples=300, deadline=None)
    @given(_json_values(), st.integers(0, 4))
    def check(value: object, depth: int) -> None:
        assert "".join(iter_dumps(value, depth)) == dumps(value)

    check()


def test_a_snapshot_streamed_is_the_snapshot_dumped(write_package: WritePackage) -> None:
    from docgen.changes.snapshot import dump_snapshot, iter_snapshot

    files = {"pkg/__init__.py": "from .a import *\n",
             "pkg/a.py": "__all__ = ['B', 'C']\nclass B:\n    '''é \\u2028 \"q\"'''\n"
                         "    x: float = float('nan')\n    def f(self): ...\n"
                         "class C(B):\n    def f(self): self.y = {1: 2}\n"}
    project = analyze_package(write_package(files), "pkg")
    assert "".join(iter_snapshot(project)) == dump_snapshot(project)
