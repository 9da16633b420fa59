"""Synthetic packages in, model fragments out: members, methods, bases, MRO, bad input."""

from __future__ import annotations

from pathlib import Path

import pytest

from docgen.classes.project import find_view
from docgen.core.records import MemberKind, MethodKind, Project
from tests.conftest import WritePackage, analyze_package

MODULE_BASE = {
    "pkg/__init__.py": """
        from .module import Module
        from .layers import *
        from . import layers as layers
    """,
    "pkg/module.py": '''
        from collections import OrderedDict

        def _forward_unimplemented(self, *input) -> None:
            """Define the computation performed at every call."""
            raise NotImplementedError

        class Module:
            """Base class for all modules."""
            training: bool
            _parameters: dict[str, "Parameter | None"]
            dump_patches: bool = False

            def __init__(self) -> None:
                super().__setattr__("training", True)
                super().__setattr__("_parameters", {})
                object.__setattr__(self, "_buffers", OrderedDict())
                setattr(self, "_modules", {})

            def _call_impl(self, *args, **kwargs):
                return self.forward(*args, **kwargs)

            __call__ = _call_impl
            forward = _forward_unimplemented

            def register_buffer(self, name, tensor):
                """Add a buffer to the module."""

            def train(self, mode: bool = True) -> "Module":
                return self

            @property
            def device_hint(self) -> str:
                return "cpu"

            @staticmethod
            def helper(x):
                return x

            @classmethod
            def build(cls):
                return cls()
    ''',
    "pkg/parameter.py": """
        class Tensor:
            pass

        class Parameter(Tensor):
            pass
    """,
    "pkg/layers.py": '''
        import pkg.module as m
        from typing import overload, Generic, TypeVar
        from .parameter import Parameter
        from .module import Module as Base

        __all__ = ["Conv", "ConvNd", "Linear", "Holder"]
        T = TypeVar("T")
        notes = {"extra": "more"}

        class ConvNd(Base):
            __constants__ = ["stride", "padding"]

            def __init__(self, stride, padding, bias=True):
                super().__init__()
                self.stride = stride
                self.padding: tuple[int, ...] = padding
                self.weight = Parameter()
                if bias:
                    self.bias = Parameter()
                else:
                    self.register_parameter("bias", None)
                self.register_buffer("running_mean", None)

        class Conv(ConvNd):
            __doc__ = r"""Applies a convolution.

            {extra}
            """.format(**notes)

            def forward(self, x):
                """Run the convolution."""
                return x

            @overload
            def pad(self, x: int) -> int: ...
            @overload
            def pad(self, x: str) -> str: ...
            def pad(self, x):
                return x

        class Linear(m.Module, Generic[T]):
            def __init__(self):
                super().__init__()
                self.inner = Conv(1, 2)

            def forward(self, x):
                return x

        class Holder(Linear):
            class Inner:
                pass
    ''',
}


@pytest.fixture
def project(write_package: WritePackage) -> Project:
    return analyze_package(write_package(MODULE_BASE), "pkg")


def _members(project: Project, name: str) -> dict[str, tuple[MemberKind, str | None, str, bool]]:
    view = find_view(project, name)
    return {m.member.name: (m.member.kind, m.member.type_text,
                            m.member.defined_in.rsplit(".", 1)[-1], m.is_inherited)
            for m in view.members}


def test_setattr_forms_create_instance_members(project: Project) -> None:
    members = _members(project, "pkg.module.Module")
    assert members["training"][:2] == (MemberKind.INSTANCE_ATTRIBUTE, "bool")
    assert members["_parameters"][:2] == (MemberKind.INSTANCE_ATTRIBUTE,
                                          "dict[str, 'Parameter | None']")
    assert members["_buffers"][:2] == (MemberKind.INSTANCE_ATTRIBUTE, "OrderedDict")
    assert members["_modules"][:2] == (MemberKind.INSTANCE_ATTRIBUTE, "dict")
    assert members["dump_patches"][:2] == (MemberKind.CLASS_ATTRIBUTE, "bool")
    assert members["device_hint"][:2] == (MemberKind.PROPERTY, "str")


def test_parameters_buffers_constants_and_inheritance(project: Project) -> None:
    members = _members(project, "pkg.Conv")
    assert members["weight"] == (MemberKind.PARAMETER, "Parameter", "ConvNd", True)
    assert members["bias"][0] is MemberKind.PARAMETER
    assert members["running_mean"][0] is MemberKind.BUFFER
    assert members["stride"][0] is MemberKind.CONSTANT
    assert members["padding"][:2] == (MemberKind.CONSTANT, "tuple[int, ...]")
    assert members["_parameters"][2:] == ("Module", True)


def test_submodule_detected_through_resolved_constructor(project: Project) -> None:
    assert _members(project, "pkg.Linear")["inner"][0] is MemberKind.SUBMODULE


def test_methods_aliases_overloads_and_overrides(project: Project) -> None:
    view = find_view(project, "pkg.Conv")
    methods = {r.method.name: r for r in view.methods}
    forward = methods["forward"]
    assert forward.method.defined_in == "pkg.layers.Conv"
    assert forward.overrides == "pkg.module.Module"
    assert forward.method.summary == "Run the convolution."
    assert forward.method.group == "forward"
    call = methods["__call__"]
    assert call.method.kind is MethodKind.ALIAS
    assert call.method.alias_of == "pkg.module.Module._call_impl"
    assert call.is_inherited
    module_forward = find_view(project, "pkg.module.Module").methods
    alias = next(r.method for r in module_forward if r.method.name == "forward")
    assert alias.alias_of == "pkg.module._forward_unimplemented"
    assert alias.summary == "Define the computation performed at every call."
    assert methods["pad"].method.overloads == ("pad(self, x: int) -> int",
                                               "pad(self, x: str) -> str")
    assert methods["helper"].method.kind is MethodKind.STATICMETHOD
    assert methods["build"].method.kind is MethodKind.CLASSMETHOD
    assert methods["register_buffer"].method.group == "adders"
    assert methods["train"].method.group == "mode"
    assert "device_hint" not in methods


def test_bases_resolve_through_aliases_reexports_and_generics(project: Project) -> None:
    assert find_view(project, "pkg.Conv").resolution_order == (
        "pkg.layers.Conv", "pkg.layers.ConvNd", "pkg.module.Module", "builtins.object")
    linear = next(c for c in project.classes() if c.name == "Linear")
    assert [(b.text, b.target, b.path) for b in linear.bases] == [
        ("m.Module", "pkg.module.Module", "pkg.module.Module"),
        ("Generic[T]", None, "typing.Generic")]
    assert find_view(project, "pkg.Linear").resolution_order == (
        "pkg.layers.Linear", "pkg.module.Module", "typing.Generic", "builtins.object")


def test_public_paths_and_lookup_by_public_name(project: Project) -> None:
    view = find_view(project, "pkg.Conv")
    assert view.qualname == "pkg.layers.Conv"
    assert "pkg.Conv" in view.public_paths
    assert find_view(project, "pkg.layers.Conv") == view


def test_dynamic_docstring_first_line(project: Project) -> None:
    conv = next(c for c in project.classes() if c.name == "Conv")
    assert conv.docstring.summary == "Applies a convolution."
    assert not conv.docstring.is_dynamic


def test_nested_classes_and_subclasses(project: Project) -> None:
    assert find_view(project, "pkg.layers.Holder.Inner").resolution_order[-1] == \
        "builtins.object"
    assert find_view(project, "pkg.Linear").subclasses == ("pkg.layers.Holder",)


def test_diamond_mro(write_package: WritePackage) -> None:
    root = write_package({"d/__init__.py": """
        class A: pass
        class B(A): pass
        class C(A): pass
        class D(B, C): pass
    """})
    view = find_view(analyze_package(root, "d"), "d.D")
    assert view.resolution_order == ("d.D", "d.B", "d.C", "d.A", "builtins.object")
    assert view.mro_error is None


def test_inconsistent_mro_reported_not_raised(write_package: WritePackage) -> None:
    root = write_package({"bad/__init__.py": """
        class A: pass
        class B(A): pass
        class C(A, B): pass
        class OK(B): pass
    """})
    project = analyze_package(root, "bad")
    view = find_view(project, "bad.C")
    assert view.mro_error and "consistent" in view.mro_error
    assert any("bad.C" in d.message for d in project.diagnostics)
    assert find_view(project, "bad.OK").mro_error is None


def test_inheritance_cycle_across_modules(write_package: WritePackage) -> None:
    root = write_package({
        "cyc/__init__.py": "",
        "cyc/a.py": "from cyc.b import B\nclass A(B): pass\n",
        "cyc/b.py": "from cyc.a import A\nclass B(A): pass\nclass Self(Self): pass\n",
    })
    project = analyze_package(root, "cyc")
    assert "cycle" in (find_view(project, "cyc.a.A").mro_error or "")
    assert find_view(project, "cyc.b.B").mro_error


def test_unresolvable_and_dynamic_bases_stay_external(write_package: WritePackage) -> None:
    root = write_package({"ext/__init__.py": """
        import torch._C as _C
        from somewhere import make_base
        class X(make_base()): pass
        class Y(_C.TensorBase): pass
        class Z(Exception): pass
    """})
    project = analyze_package(root, "ext")
    bases = {c.name: c.bases[0] for c in project.classes()}
    assert bases["X"].target is None and bases["X"].text == "make_base()"
    assert bases["Y"].target is None and bases["Y"].path == "torch._C.TensorBase"
    assert find_view(project, "ext.Y").resolution_order == (
        "ext.Y", "torch._C.TensorBase", "builtins.object")
    assert bases["Z"].path == "Exception"


@pytest.mark.parametrize(("content", "reason"), [
    (b"class Broken(:\n    pass\n", "syntax error"),
    (b"x = 1\ny = '\xff\xfe'\n", "not valid utf-8"),
    (b"type Alias = list[int]\n", "syntax error"),  # Python 3.12-only syntax on 3.11
    (b"def f[T](x: T) -> T:\n    return x\n", "syntax error"),
])
def test_bad_files_warn_with_line_and_rest_is_analysed(write_package: WritePackage,
                                                        content: bytes, reason: str) -> None:
    root = write_package({"b/__init__.py": "", "b/good.py": "class Good: pass\n"})
    (root / "b" / "broken.py").write_bytes(content)
    project = analyze_package(root, "b")
    assert [c.name for c in project.classes()] == ["Good"]
    [diag] = project.diagnostics
    assert diag.path == "b/broken.py" and diag.line >= 1
    assert reason in diag.message.lower()


def test_non_utf8_reports_the_line(write_package: WritePackage, tmp_path: Path) -> None:
    root = write_package({"u/__init__.py": ""})
    (root / "u" / "latin.py").write_bytes(b"a = 1\nb = 2\nc = '\xe9'\n")
    [diag] = analyze_package(root, "u").diagnostics
    assert (diag.path, diag.line) == ("u/latin.py", 3)


def test_pep263_encoding_is_honoured(write_package: WritePackage) -> None:
    root = write_package({"e/__init__.py": ""})
    (root / "e" / "latin.py").write_bytes(
        b"# -*- coding: latin-1 -*-\nclass Caf\xe9:\n    '''Caf\xe9 class.'''\n")
    project = analyze_package(root, "e")
    assert not project.diagnostics
    assert [c.docstring.summary for c in project.classes()] == ["Café class."]


def test_dynamic_docstring_from_elsewhere_is_marked(write_package: WritePackage) -> None:
    root = write_package({"dd/__init__.py": """
        from other import notes, make_doc
        class A:
            __doc__ = "{title} line\\nrest".format(**notes)
        class B:
            __doc__ = "Known first line.\\n{x}".format(**notes)
        class C:
            __doc__ = make_doc()
    """})
    docs = {c.name: c.docstring for c in analyze_package(root, "dd").classes()}
    assert docs["A"].is_dynamic and docs["A"].summary == ""
    assert (docs["B"].summary, docs["B"].is_dynamic) == ("Known first line.", False)
    # the known text is kept, the unknown field marked, and the text flagged as partial
    assert docs["B"].text == "Known first line.\n[x: filled in at run time]"
    assert docs["B"].is_partial and not docs["C"].text
    assert docs["C"].is_dynamic


def test_assignments_keep_every_branch_default_and_setter(write_package: WritePackage) -> None:
    root = write_package({"br/__init__.py": """
        class M:
            hook = None
            def __init__(self, transposed, bias):
                super().__setattr__("_params", {})
                if transposed:
                    self.weight = make((1, 2))
                else:
                    self.weight = make((2, 1))
                if bias:
                    self.bias = 1
                elif not transposed:
                    object.__setattr__(self, "bias", 2)
            def compile(self):
                self.hook = wrap(self)
    """})
    (cls,) = analyze_package(root, "br").classes()
    members = {m.name: m for m in cls.members}
    weight = [(a.value_text, a.condition, a.scope) for a in members["weight"].assignments]
    assert weight == [("make((1, 2))", "transposed", "__init__"),
                      ("make((2, 1))", "not transposed", "__init__")]
    hook = [(a.value_text, a.scope) for a in members["hook"].assignments]
    assert hook == [("None", "class"), ("wrap(self)", "compile")]
    assert [a.via for a in members["_params"].assignments] == ["super().__setattr__"]
    bias = [(a.condition, a.via) for a in members["bias"].assignments]
    assert bias == [("bias", None), ("not bias and not transposed", "object.__setattr__")]


def test_star_import_respects_all(write_package: WritePackage) -> None:
    root = write_package({
        "s/__init__.py": "from .impl import *\n",
        "s/impl.py": "__all__ = ['Public']\nclass Public: pass\nclass Hidden: pass\n",
    })
    project = analyze_package(root, "s")
    assert find_view(project, "s.Public").qualname == "s.impl.Public"
    assert "s.Hidden" not in dict(project.aliases)
