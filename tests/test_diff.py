"""docgen.changes.diff on synthetic before/after packages: one case per change kind, and the rules
that keep a change on the class where it happens."""

from __future__ import annotations

import textwrap
from collections.abc import Callable, Mapping
from dataclasses import replace
from pathlib import Path

from docgen.changes.diff import Change, ChangeKind, Diff, diff_projects
from docgen.core.records import ClassDoc, Project
from tests.conftest import WritePackage, analyze_package

K = ChangeKind

BASE = textwrap.dedent("""
    class Module:
        def __init__(self):
            self._backend = None
            self._parameters = {}

        def forward(self, x):
            raise NotImplementedError

        def cuda(self):
            return self
""")


def versions(write_package: WritePackage, old: Mapping[str, str],
             new: Mapping[str, str], package: str = "pkg") -> tuple[Project, Project]:
    root = write_package({**{f"old/{k}": v for k, v in old.items()},
                          **{f"new/{k}": v for k, v in new.items()}})
    return analyze_package(root / "old", package), analyze_package(root / "new", package)


def one_version(write_package: WritePackage, source: str) -> Project:
    return analyze_package(write_package({"pkg/__init__.py": source}), "pkg")


def diff_of(write_package: WritePackage, old: Mapping[str, str],
            new: Mapping[str, str]) -> Diff:
    return diff_projects(*versions(write_package, old, new))


def kinds(diff: Diff) -> set[tuple[ChangeKind, str, str | None]]:
    return {(c.kind, c.cls, c.name) for c in diff.changes}


def only(diff: Diff, kind: ChangeKind) -> Change:
    found = [c for c in diff.changes if c.kind is kind]
    assert len(found) == 1, diff.changes
    return found[0]


def test_identical_inputs_give_an_empty_diff(write_package: WritePackage) -> None:
    diff = diff_of(write_package, {"pkg/__init__.py": BASE}, {"pkg/__init__.py": BASE})
    assert diff.changes == ()
    assert diff.notes == ()


def test_class_added_and_removed(write_package: WritePackage) -> None:
    diff = diff_of(write_package,
                   {"pkg/__init__.py": BASE + "\nclass Old(Module):\n    a = 1\n"},
                   {"pkg/__init__.py": BASE + "\nclass New(Module):\n    b = 2\n    c = 3\n"})
    assert kinds(diff) == {(K.CLASS_REMOVED, "pkg.Old", None), (K.CLASS_ADDED, "pkg.New", None)}


def test_class_moved_keeps_its_public_path(write_package: WritePackage) -> None:
    old = {"pkg/__init__.py": "from pkg.a import Linear\n",
           "pkg/a.py": "class Linear:\n    def forward(self, x):\n        return x\n",
           "pkg/b.py": ""}
    new = {"pkg/__init__.py": "from pkg.b import Linear\n",
           "pkg/a.py": "",
           "pkg/b.py": "class Linear:\n    def forward(self, x, y=None):\n        return x\n"}
    diff = diff_of(write_package, old, new)
    moved = only(diff, K.CLASS_MOVED)
    assert (moved.cls, moved.old, moved.new, moved.is_guess) == (
        "pkg.b.Linear", "pkg.a.Linear", "pkg.b.Linear", False)
    # the moved class is then compared with its old self
    assert kinds(diff) == {(K.CLASS_MOVED, "pkg.b.Linear", None),
                           (K.METHOD_SIGNATURE_CHANGED, "pkg.b.Linear", "forward")}


def test_class_moved_by_unique_name_is_a_guess(write_package: WritePackage) -> None:
    diff = diff_of(write_package,
                   {"pkg/__init__.py": "", "pkg/a.py": "class Pool:\n    k = 1\n"},
                   {"pkg/__init__.py": "", "pkg/b.py": "class Pool:\n    k = 1\n    s = 2\n"})
    moved = only(diff, K.CLASS_MOVED)
    assert moved.is_guess and (moved.old, moved.new) == ("pkg.a.Pool", "pkg.b.Pool")
    assert (K.MEMBER_ADDED, "pkg.b.Pool", "s") in kinds(diff)


def test_rename_with_same_members_is_a_guess_and_does_not_cascade(
        write_package: WritePackage) -> None:
    body = "    size = 3\n    def forward(self, x):\n        return x\n"
    old = {"pkg/__init__.py": f"class _PoolNd:\n{body}\nclass MaxPool(_PoolNd):\n    pass\n"}
    new = {"pkg/__init__.py": f"class _PoolBase:\n{body}\nclass MaxPool(_PoolBase):\n    pass\n"}
    diff = diff_of(write_package, old, new)
    renamed = only(diff, K.CLASS_RENAMED)
    assert renamed.is_guess
    assert (renamed.old, renamed.new, renamed.inherited_by) == (
        "pkg._PoolNd", "pkg._PoolBase", ("pkg.MaxPool",))
    # MaxPool's base text changed only because of the rename: not a change of its own
    assert [c.kind for c in diff.changes] == [K.CLASS_RENAMED]


def test_different_members_and_names_are_not_guessed_as_a_rename(
        write_package: WritePackage) -> None:
    diff = diff_of(write_package, {"pkg/__init__.py": "class A:\n    x = 1\n"},
                   {"pkg/__init__.py": "class B:\n    y = 1\n"})
    assert kinds(diff) == {(K.CLASS_REMOVED, "pkg.A", None), (K.CLASS_ADDED, "pkg.B", None)}


def test_class_moved_to_another_file_under_the_same_name(write_package: WritePackage) -> None:
    diff = diff_of(write_package, {"pkg/__init__.py": "", "pkg/m.py": "class A:\n    x = 1\n"},
                   {"pkg/__init__.py": "", "pkg/m/__init__.py": "class A:\n    x = 1\n"})
    moved = only(diff, K.CLASS_MOVED)
    assert (moved.old, moved.new) == ("pkg/m.py", "pkg/m/__init__.py")


RELU_2018 = BASE + """
class Threshold(Module):
    def __init__(self, threshold, value, inplace=False):
        super().__init__()
        self.threshold = threshold

    def forward(self, input):
        return input

class ReLU(Threshold):
    def __init__(self, inplace=False):
        super().__init__(0, 0, inplace)

class ReLU6(ReLU):
    pass
"""

RELU_NOW = BASE + """
class Threshold(Module):
    def __init__(self, threshold, value, inplace=False):
        super().__init__()
        self.threshold = threshold

    def forward(self, input):
        return input

class ReLU(Module):
    def __init__(self, inplace=False):
        super().__init__()
        self.inplace = inplace

    def forward(self, input):
        return input

class ReLU6(ReLU):
    pass
"""


def test_relu_leaving_threshold(write_package: WritePackage) -> None:
    """The seed notes' 2018 ReLU(Threshold) against today's ReLU(Module)."""
    diff = diff_of(write_package, {"pkg/__init__.py": RELU_2018}, {"pkg/__init__.py": RELU_NOW})
    assert kinds(diff) == {
        (K.BASES_CHANGED, "pkg.ReLU", None),
        (K.MEMBER_ADDED, "pkg.ReLU", "inplace"),
        (K.METHOD_NOW_OVERRIDES, "pkg.ReLU", "forward"),
    }
    bases = only(diff, K.BASES_CHANGED)
    assert (bases.old, bases.new, bases.inherited_by) == (
        "pkg.Threshold", "pkg.Module", ("pkg.ReLU6",))
    # ReLU6's MRO changed too, explained by ReLU's bases: no line of its own
    assert not [c for c in diff.changes if c.kind is K.MRO_CHANGED]
    forward = only(diff, K.METHOD_NOW_OVERRIDES)
    assert (forward.old, forward.new, forward.inherited_by) == (
        "pkg.Threshold", "pkg.ReLU", ("pkg.ReLU6",))
    # ReLU no longer sees Threshold's `threshold`: the bases line says so, not a member line
    assert not [c for c in diff.changes if c.name == "threshold"]


def test_removing_a_base_method_is_one_line_counting_heirs(write_package: WritePackage) -> None:
    subclasses = "".join(f"\nclass L{i}(Module):\n    def forward(self, x):\n        return x\n"
                         for i in range(30))
    old = {"pkg/__init__.py": BASE + subclasses}
    new = {"pkg/__init__.py": BASE.replace("def cuda(self):\n        return self\n", "")
           + subclasses}
    diff = diff_of(write_package, old, new)
    removed = only(diff, K.METHOD_REMOVED)
    assert len(diff.changes) == 1
    assert (removed.cls, removed.name) == ("pkg.Module", "cuda")
    assert removed.inherited_by == tuple(sorted(f"pkg.L{i}" for i in range(30)))


def test_member_changes(write_package: WritePackage) -> None:
    old = """
        class A:
            VERSION = 1
            mode = "fast"
            gone = 0
            def __init__(self):
                self.weight = None
                self.bias = Parameter()
    """
    new = """
        class A:
            VERSION = 2
            mode: Literal["fast", "slow"] = "fast"
            fresh = 1
            def __init__(self):
                self.weight = Parameter()
                self.bias = Buffer()
    """
    diff = diff_of(write_package, {"pkg/__init__.py": old}, {"pkg/__init__.py": new})
    assert kinds(diff) == {
        (K.MEMBER_VALUE_CHANGED, "pkg.A", "VERSION"),
        (K.MEMBER_TYPE_CHANGED, "pkg.A", "mode"),
        (K.MEMBER_REMOVED, "pkg.A", "gone"),
        (K.MEMBER_ADDED, "pkg.A", "fresh"),
        (K.MEMBER_KIND_CHANGED, "pkg.A", "weight"),
        (K.MEMBER_KIND_CHANGED, "pkg.A", "bias"),
    }
    value = next(c for c in diff.changes if c.name == "VERSION")
    assert (value.old, value.new) == ("1", "2")
    bias = next(c for c in diff.changes if c.name == "bias")
    assert (bias.old, bias.new) == ("parameter", "buffer")


def test_member_kind_changed(write_package: WritePackage) -> None:
    old = "class A:\n    def __init__(self):\n        self.cache = {}\n"
    new = "class A:\n    @property\n    def cache(self) -> dict:\n        return {}\n"
    change = only(diff_of(write_package, {"pkg/__init__.py": old}, {"pkg/__init__.py": new}),
                  K.MEMBER_KIND_CHANGED)
    assert (change.name, change.old, change.new) == ("cache", "instance_attribute", "property")


def test_method_turned_member_is_one_kind_change(write_package: WritePackage) -> None:
    """torch 2.14 turned Function.apply from a classmethod into a class attribute."""
    old = "class Function:\n    @classmethod\n    def apply(cls, *args):\n        return args\n"
    new = "class Function:\n    apply = _C._FunctionBase.__dict__['apply']\n"
    diff = diff_of(write_package, {"pkg/__init__.py": old}, {"pkg/__init__.py": new})
    change = only(diff, K.MEMBER_KIND_CHANGED)
    assert len(diff.changes) == 1
    assert (change.name, change.old, change.new) == ("apply", "classmethod", "class_attribute")


def test_member_moved_into_the_base(write_package: WritePackage) -> None:
    old = "class B:\n    pass\n\nclass C(B):\n    x = 1\n\nclass D(C):\n    pass\n"
    new = "class B:\n    x = 1\n\nclass C(B):\n    pass\n\nclass D(C):\n    pass\n"
    diff = diff_of(write_package, {"pkg/__init__.py": old}, {"pkg/__init__.py": new})
    assert kinds(diff) == {(K.MEMBER_ADDED, "pkg.B", "x"),
                           (K.MEMBER_DEFINED_IN_CHANGED, "pkg.C", "x")}
    assert only(diff, K.MEMBER_ADDED).inherited_by == ("pkg.C", "pkg.D")


def test_method_changes(write_package: WritePackage) -> None:
    old = """
        from typing import overload
        class A:
            def forward(self, x): ...
            def extra_repr(self): ...
            def make(self): ...
            def old_api(self): ...
            def load(self): ...
            @overload
            def to(self, device: str) -> "A": ...
            def to(self, *args): ...
    """
    new = """
        from typing import overload
        class A:
            def forward(self, x, *, scale: float = 1.0) -> int: ...
            def extra_repr(self): ...
            @staticmethod
            def make(): ...
            def new_api(self): ...
            @deprecated("use new_api")
            def load(self): ...
            @overload
            def to(self, device: str) -> "A": ...
            @overload
            def to(self, dtype: int) -> "A": ...
            def to(self, *args): ...
    """
    diff = diff_of(write_package, {"pkg/__init__.py": old}, {"pkg/__init__.py": new})
    assert kinds(diff) == {
        (K.METHOD_SIGNATURE_CHANGED, "pkg.A", "forward"),
        (K.METHOD_SIGNATURE_CHANGED, "pkg.A", "make"),
        (K.METHOD_KIND_CHANGED, "pkg.A", "make"),
        (K.METHOD_DECORATORS_CHANGED, "pkg.A", "make"),
        (K.METHOD_REMOVED, "pkg.A", "old_api"),
        (K.METHOD_ADDED, "pkg.A", "new_api"),
        (K.METHOD_DECORATORS_CHANGED, "pkg.A", "load"),
        (K.METHOD_OVERLOADS_CHANGED, "pkg.A", "to"),
    }
    kind = only(diff, K.METHOD_KIND_CHANGED)
    assert (kind.old, kind.new) == ("method", "staticmethod")


def test_method_hoisted_into_the_base(write_package: WritePackage) -> None:
    conv = "    def forward(self, x):\n        return x\n"
    no = "    pass\n"
    old = f"class _ConvNd:\n{no}\nclass Conv1d(_ConvNd):\n{conv}\nclass Conv2d(_ConvNd):\n{conv}"
    new = f"class _ConvNd:\n{conv}\nclass Conv1d(_ConvNd):\n{no}\nclass Conv2d(_ConvNd):\n{no}"
    diff = diff_of(write_package, {"pkg/__init__.py": old}, {"pkg/__init__.py": new})
    assert kinds(diff) == {(K.METHOD_ADDED, "pkg._ConvNd", "forward"),
                           (K.METHOD_STOPS_OVERRIDING, "pkg.Conv1d", "forward"),
                           (K.METHOD_STOPS_OVERRIDING, "pkg.Conv2d", "forward")}
    stop = next(c for c in diff.changes if c.cls == "pkg.Conv1d")
    assert (stop.old, stop.new) == ("pkg.Conv1d", "pkg._ConvNd")


def test_override_that_follows_a_base_change_is_not_repeated(
        write_package: WritePackage) -> None:
    old = "class B:\n    pass\n\nclass C(B):\n    def reset(self):\n        pass\n"
    new = "class B:\n    def reset(self):\n        pass\n\nclass C(B):\n    def reset(self):\n" \
          "        pass\n"
    diff = diff_of(write_package, {"pkg/__init__.py": old}, {"pkg/__init__.py": new})
    assert kinds(diff) == {(K.METHOD_ADDED, "pkg.B", "reset")}
    # C overrides it, so it inherits nothing
    assert only(diff, K.METHOD_ADDED).inherited_by == ()


# ----------------------------------------------------------------------------------------------
# consequences no source change explains: only reachable through Projects made elsewhere


def edit_class(project: Project, qualname: str, edit: Callable[[ClassDoc], ClassDoc]) -> Project:
    modules = tuple(replace(m, classes=tuple(edit(c) if c.qualname == qualname else c
                                             for c in m.classes)) for m in project.modules)
    return replace(project, modules=modules)


def test_unexplained_mro_change_is_reported(write_package: WritePackage) -> None:
    old = one_version(write_package, RELU_NOW)
    views = tuple(replace(v, resolution_order=(v.qualname, "pkg.Threshold", "builtins.object"))
                  if v.qualname == "pkg.ReLU6" else v for v in old.views)
    diff = diff_projects(old, replace(old, views=views))
    assert kinds(diff) == {(K.MRO_CHANGED, "pkg.ReLU6", None)}
    change = only(diff, K.MRO_CHANGED)
    assert (change.old, change.new) == ("pkg.ReLU6, pkg.ReLU, pkg.Module, builtins.object",
                                        "pkg.ReLU6, pkg.Threshold, builtins.object")


def test_unexplained_override_change_is_reported(write_package: WritePackage) -> None:
    old = one_version(write_package, RELU_NOW)
    views = []
    for v in old.views:
        if v.qualname == "pkg.ReLU":
            v = replace(v, methods=tuple(replace(r, overrides=None) if r.method.name == "forward"
                                         else r for r in v.methods))
        views.append(v)
    diff = diff_projects(replace(old, views=tuple(views)), old)
    change = only(diff, K.METHOD_NOW_OVERRIDES)
    assert (change.cls, change.name, change.old, change.new) == (
        "pkg.ReLU", "forward", None, "pkg.Module")


def test_group_change(write_package: WritePackage) -> None:
    old = one_version(write_package, BASE)
    new = edit_class(old, "pkg.Module", lambda c: replace(c, methods=tuple(
        replace(m, group="device") if m.name == "cuda" else m for m in c.methods)))
    change = only(diff_projects(old, new), K.METHOD_GROUP_CHANGED)
    assert (change.name, change.new) == ("cuda", "device")


def test_different_packages_are_noted_and_compared_on_the_common_part(
        write_package: WritePackage, tmp_path: Path) -> None:
    root = write_package({"pkg/__init__.py": "", "pkg/a/__init__.py": "class A:\n    x = 1\n",
                          "pkg/b/__init__.py": "class B:\n    y = 1\n"})
    whole = analyze_package(root, "pkg")
    part = analyze_package(root, "pkg.a")
    diff = diff_projects(whole, part)
    assert diff.changes == ()
    assert diff.notes and "pkg.a" in diff.notes[0]
