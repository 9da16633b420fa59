"""Backends page facts read from synthetic headers, and the per-key coverage table."""

from __future__ import annotations

import textwrap

from docgen.sources.locate import SourceSet, SourceSpec, open_source
from docgen.walk.backends import (
    COVERAGE_KEYS,
    backward_ops,
    enum_items,
    macro_items,
    read_backends,
)
from docgen.walk.upstream import EdgeSet, scan_source
from docgen.walk.walker import open_context, walk_model
from tests.walk_fixtures import CONVOLUTION_CPP, torch_files

DISPATCH_KEY_H = textwrap.dedent('''
    #pragma once
    #define C10_FORALL_BACKEND_COMPONENTS(_, extra) \\
      _(CPU, extra)                                 \\
      _(CUDA, extra)                                \\
      _(PrivateUse1, extra)                         \\
      _(Meta, extra)

    #define C10_FORALL_FUNCTIONALITY_KEYS(_) \\
      _(Dense, )                             \\
      _(Sparse, Sparse)                      \\
      _(AutogradFunctionality, Autograd)

    enum class DispatchKey : uint16_t {
      // ~~~~~~~~~~~~~ UNDEFINED ~~~~~~~~~~~~~ //
      Undefined = 0,
      CatchAll = Undefined,
      // ~~~~~~~~~~~~~ Functionality Keys ~~~~~~~~~~~~~ //
      Dense,
      BackendSelect,
      Python,
      EndOfFunctionalityKeys, // End of functionality keys.
      // ~~~~~~~~~~~~~ Alias Dispatch Keys ~~~~~~~~~~~~~ //
      Autograd,
      CompositeImplicitAutograd, // registered at
      CompositeExplicitAutograd, // registered at
      StartOfAliasKeys = Autograd,
    };
''')

DISPATCH_STUB_H = textwrap.dedent('''
    enum class CPUCapability {
      DEFAULT = 0,
    #if defined(HAVE_SVE_CPU_DEFINITION)
      SVE256 = 1,
    #else
      AVX2 = 1,
      AVX512 = 2,
    #endif
      NUM_OPTIONS
    };
''')

CONV_UTILS_H = "enum class ConvBackend {\n  Cudnn,\n  Overrideable,\n  Slow2d,\n};\n"


def test_macro_and_enum_items_have_lines() -> None:
    comps = macro_items(DISPATCH_KEY_H, "C10_FORALL_BACKEND_COMPONENTS", "k.h", "backend")
    assert [c.name for c in comps] == ["CPU", "CUDA", "PrivateUse1", "Meta"]
    lines = DISPATCH_KEY_H.splitlines()
    assert all(c.name in lines[c.location.line - 1] for c in comps)
    funcs = macro_items(DISPATCH_KEY_H, "C10_FORALL_FUNCTIONALITY_KEYS", "k.h", "per-backend")
    assert [(f.name, f.comment) for f in funcs] == [
        ("Dense", ""), ("Sparse", "Sparse"), ("AutogradFunctionality", "Autograd")]
    keys = {k.name: k for k in enum_items(DISPATCH_KEY_H, "DispatchKey", "k.h", "x")}
    assert keys["CompositeImplicitAutograd"].group == "Alias Dispatch Keys"
    assert keys["Dense"].group == "Functionality Keys"
    caps = enum_items(DISPATCH_STUB_H, "CPUCapability", "s.h", "CPU capability")
    assert [(c.name, c.comment) for c in caps] == [
        ("DEFAULT", "= 0"), ("SVE256", "#if defined(HAVE_SVE_CPU_DEFINITION)"),
        ("AVX2", "#else"), ("AVX512", "#else")]


def test_backward_ops_skip_helpers(write_package) -> None:
    root = write_package(torch_files())
    ctx = open_context(SourceSet([open_source(SourceSpec("torch", str(root)))]), EdgeSet())
    ops = backward_ops(ctx.table, ["grad.defined() ? convolution_backward_symint(grad) : x",
                                   "threshold_backward(grad, result, 0)"])
    assert ops == []  # neither is an operator of the tiny yaml
    ops = backward_ops(ctx.table, ["relu(grad) + native_dropout(grad, p, t)"])
    assert ops == ["relu", "native_dropout"]


def test_read_backends_on_synthetic_headers(write_package) -> None:
    files = torch_files()
    files["torch/include/c10/core/DispatchKey.h"] = DISPATCH_KEY_H
    files["torch/include/ATen/native/DispatchStub.h"] = DISPATCH_STUB_H
    files["torch/include/ATen/native/ConvUtils.h"] = CONV_UTILS_H
    files["torch/utils/backend_registration.py"] = (
        "def _helper():\n    pass\n\n\ndef rename_privateuse1_backend(name):\n    pass\n")
    root = write_package(files)
    sources = SourceSet([open_source(SourceSpec("torch", str(root)))])
    edges = EdgeSet(origin="t")
    for edge in scan_source(CONVOLUTION_CPP, "aten/src/ATen/native/Convolution.cpp", "c"):
        edges.add(edge)
    ctx = open_context(sources, edges)
    report = walk_model(ctx, "zoo.net:Net")
    backends = read_backends(sources, ctx.table, report)
    groups = {k.name: k.group for k in backends.keys}
    assert groups["PrivateUse1"] == "backend component"
    assert groups["Sparse"] == "per-backend functionality"
    plug = {p.name: p for p in backends.plug_points}
    assert plug["rename_privateuse1_backend"].location.line == 5
    assert plug["ConvBackend::Overrideable"].location.path.endswith("ConvUtils.h")
    assert any("torch/library.py" in str(d) for d in backends.diagnostics)  # missing file
    rows = {r.operator: r for r in backends.coverage}
    assert backends.coverage_keys == COVERAGE_KEYS
    relu_ = {c.backend: c.kernel for c in rows["aten::relu_"].cells}
    assert relu_ == {"CPU": "relu_", "CUDA": "relu_", "MPS": None, "XPU": None,
                     "PrivateUse1": None}
    assert rows["aten::cudnn_convolution"].condition == "case ConvBackend::Cudnn"
    # convolution has a formula and is what autograd sees below the composite conv2d.
    assert "aten::native_dropout" not in rows  # dropout's formula is not reached here
    assert all(r.needed_for == "forward" for r in backends.coverage)


def test_backward_rows_come_from_formulas_autograd_sees(write_package) -> None:
    files = torch_files()
    files["torchgen/packaged/ATen/native/native_functions.yaml"] += (
        "\n- func: threshold_backward(Tensor grad_output, Tensor self, Scalar t) -> Tensor\n"
        "  dispatch:\n    CPU, CUDA: threshold_backward_out\n")
    files["torchgen/packaged/autograd/derivatives.yaml"] += (
        "\n- name: cudnn_convolution(Tensor self, Tensor weight) -> Tensor\n"
        "  self: cudnn_only_backward(grad)\n  result: relu(self_t)\n")
    root = write_package(files)
    sources = SourceSet([open_source(SourceSpec("torch", str(root)))])
    edges = EdgeSet(origin="t")
    for edge in scan_source(CONVOLUTION_CPP, "aten/src/ATen/native/Convolution.cpp", "c"):
        edges.add(edge)
    ctx = open_context(sources, edges)
    report = walk_model(ctx, "zoo.net:Net")
    rows = {r.operator: r for r in read_backends(sources, ctx.table, report).coverage}
    # relu_ inherits relu's formula, which calls threshold_backward: needed for backward.
    assert rows["aten::threshold_backward"].needed_for == "backward"
    cells = {c.backend: c.kernel for c in rows["aten::threshold_backward"].cells}
    assert cells["CPU"] == "threshold_backward_out" and cells["PrivateUse1"] is None
    # cudnn_convolution runs inside convolution's kernel (which has its own formula), and a
    # `result:` entry is forward-mode: neither adds a backward row.
    assert not any(r.operator == "aten::relu" and r.needed_for == "backward"
                   for r in rows.values())
