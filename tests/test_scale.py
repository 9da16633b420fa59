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
