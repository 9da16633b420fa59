"""The walk on a tiny torch-shaped package: each Python pattern, pruning, bindings, drift."""

from __future__ import annotations

from pathlib import Path

import pytest

from docgen.sources.locate import SourceSet, SourceSpec, open_source
from docgen.walk.python_route import evaluate
from docgen.walk.records import FlowExpr, LayerWalk, OpNode, PyHop, Reached, WalkReport
from docgen.walk.render import sparse_only
from docgen.walk.upstream import EdgeSet, autograd_namespaced, scan_source
from docgen.walk.walker import open_context, walk_model
from tests.walk_fixtures import CONVOLUTION_CPP, torch_files

MODEL = "zoo.net:Net"


def _walk(write_package, files: dict[str, str], edges: EdgeSet | None = None,
          backends: tuple[str, ...] = ("CPU", "CUDA")) -> WalkReport:
    root: Path = write_package(files)
    sources = SourceSet([open_source(SourceSpec("torch", str(root)))])
    ctx = open_context(sources, edges or EdgeSet(), backends)
    return walk_model(ctx, MODEL)


def _layer(report: WalkReport, path: str) -> LayerWalk:
    return next(layer for layer in report.layers if layer.path == path)


def _hops(hop: PyHop) -> list[PyHop]:
    out = [hop]
    for child in hop.children:
        out.extend(_hops(child))
    return out


def _all(layer: LayerWalk) -> list[PyHop]:
    return [h for top in layer.python for h in _hops(top)]


def _names(nodes: tuple[OpNode, ...]) -> list[str]:
    out: list[str] = []
    for node in nodes:
        out.append(node.name)
        out.extend(_names(node.children))
    return out


@pytest.fixture
def report(write_package) -> WalkReport:
    return _walk(write_package, torch_files())


def test_layers_are_read_from_sequential_and_assignments(report: WalkReport) -> None:
    paths = [(layer.path, layer.qualname) for layer in report.layers]
    assert paths[:5] == [
        ("features.0", "torch.nn.modules.layers.Conv2d"),
        ("features.1", "torch.nn.modules.layers.ReLU"),
        ("features.2", "torch.nn.modules.layers.MaxPool2d"),
        ("drop", "torch.nn.modules.layers.Dropout"),
        ("fc", "torch.nn.modules.layers.Linear"),
    ]
    conv = _layer(report, "features.0")
    assert dict(conv.arguments) == {"in_channels": "3", "out_channels": "8",
                                    "kernel_size": "3", "padding": "1"}
    assert conv.location.path == "zoo/net.py"


def test_call_goes_through_the_alias_chain_to_forward(report: WalkReport) -> None:
    hops = _all(_layer(report, "features.0"))
    names = [h.name for h in hops]
    assert names[:3] == ["torch.nn.modules.module.Module.__call__",
                         "torch.nn.modules.module.Module._wrapped_call_impl",
                         "torch.nn.modules.module.Module._call_impl"]
    call_impl = hops[2]
    assert [c.name for c in call_impl.children] == [
        "torch.nn.modules.module.Module._slow_forward", "torch.nn.modules.layers.Conv2d.forward"]
    assert hops[0].kind == "alias" and hops[0].via == "__call__ = _wrapped_call_impl"
    assert "torch.nn.modules.module.Module._run_hooks" not in names  # bookkeeping not walked
    slow = [h for h in hops if h.name.endswith("_slow_forward")]
    assert slow and slow[0].branches[-1].taken is None  # tracing: shown, undecided


def test_padding_mode_branch_is_pruned_by_the_default(report: WalkReport) -> None:
    hops = _all(_layer(report, "features.0"))
    convs = [h for h in hops if h.name == "torch.nn.functional.conv2d"]
    assert len(convs) == 2
    pruned, taken = sorted(convs, key=lambda h: not h.is_pruned)
    assert pruned.is_pruned and pruned.branches[0].taken is False
    assert not taken.is_pruned and taken.branches[0].taken is True
    assert taken.children[0].name == "torch._C._VariableFunctions.conv2d"
    assert taken.children[0].location.path == "torch/_C/_VariableFunctions.pyi"
    pad = [h for h in hops if h.name == "torch.nn.functional.pad"]
    assert pad and pad[0].is_pruned


def test_padding_mode_given_keeps_the_pad_branch(write_package) -> None:
    files = torch_files()
    files["zoo/net.py"] = files["zoo/net.py"].replace(
        "padding=1)", "padding=1, padding_mode='reflect')")
    report = _walk(write_package, files)
    hops = _all(_layer(report, "features.0"))
    pad = [h for h in hops if h.name == "torch.nn.functional.pad"]
    assert pad and not pad[0].is_pruned
    assert "aten::conv2d" in _names(_layer(report, "features.0").operators)


def test_inplace_relu_reaches_relu_underscore_only(report: WalkReport) -> None:
    layer = _layer(report, "features.1")
    bindings = {h.name: h.is_pruned for h in _all(layer) if h.kind == "binding"}
    assert bindings == {"torch._C._VariableFunctions.relu_": False,
                        "torch._C._VariableFunctions.relu": True}
    assert [o.name for o in layer.operators] == ["aten::relu_"]
    relu_ = layer.operators[0]
    assert [(k.backend, k.key, k.kernel) for k in relu_.kernels] == [
        ("CPU", "CPU", "relu_"), ("CUDA", "CUDA", "relu_")]
    assert relu_.derivative is not None and relu_.derivative.inherited_from == "relu"


def test_override_guard_is_a_side_path(report: WalkReport) -> None:
    relu = next(h for h in _all(_layer(report, "features.1"))
                if h.name == "torch.nn.functional.relu")
    assert "handle_torch_function" in relu.note
    assert all("handle_torch_function" not in c.name for c in relu.children)


def test_boolean_dispatch_follows_the_argument(report: WalkReport) -> None:
    hops = _all(_layer(report, "features.2"))
    dispatch = next(h for h in hops if h.kind == "dispatch")
    sides = {c.name: c.is_pruned for c in dispatch.children}
    assert sides == {"torch.nn.functional.max_pool2d_with_indices": True,
                     "torch.nn.functional._max_pool2d": False}
    op = _layer(report, "features.2").operators[0]
    assert op.name == "aten::max_pool2d"
    assert {k.backend: k.key for k in op.kernels} == {
        "CPU": "CompositeImplicitAutograd", "CUDA": "CompositeImplicitAutograd"}
    assert op.derivative is not None and op.derivative.via_decomposition


def test_vf_forwards_to_variable_functions(report: WalkReport) -> None:
    hops = _all(_layer(report, "drop"))
    forwarders = [h for h in hops if h.kind == "forwarder"]
    assert forwarders and all(h.location.path == "torch/_VF.py" for h in forwarders)
    live = [h for h in hops if h.kind == "binding" and not h.is_pruned]
    assert [h.name for h in live] == ["torch._C._VariableFunctions.dropout"]
    assert [o.name for o in _layer(report, "drop").operators] == ["aten::dropout"]


def test_linear_binds_in_torch_c_nn(report: WalkReport) -> None:
    layer = _layer(report, "fc")
    binding = next(h for h in _all(layer) if h.kind == "binding")
    assert binding.name == "torch._C._nn.linear"
    assert binding.location.path == "torch/_C/_nn.pyi"
    assert layer.operators[0].kernels[0].key == "CompositeImplicitAutograd"


def test_forward_tensor_op_chooses_the_overload(report: WalkReport) -> None:
    flatten = _layer(report, "forward:torch.flatten")
    assert flatten.operators[0].name == "aten::flatten.using_ints"


def test_upstream_edges_hang_below_composite_kernels(write_package) -> None:
    edges = EdgeSet(origin="test")
    for edge in scan_source(CONVOLUTION_CPP, "aten/src/ATen/native/Convolution.cpp", "abc123"):
        edges.add(edge)
    report = _walk(write_package, torch_files(), edges)
    conv = _layer(report, "features.0").operators[0]
    assert conv.name == "aten::conv2d"
    below = conv.children[0]
    assert below.name == "aten::convolution" and below.reached == Reached.DECOMPOSITION
    assert below.edge is not None and below.edge.path.endswith("Convolution.cpp")
    names = {c.name: c for c in below.children}
    assert names["aten::cudnn_convolution"].condition == "case ConvBackend::Cudnn"
    assert names["aten::cudnn_convolution"].reached == Reached.UPSTREAM
    cudnn = {k.backend: k.kernel for k in names["aten::cudnn_convolution"].kernels}
    assert cudnn == {"CPU": None, "CUDA": "cudnn_convolution"}
    # convolution_overrideable is no operator of this tiny yaml and has no body: not shown.
    assert "aten::convolution_overrideable" not in names


def test_unknown_backend_key_lists_what_is_registered(write_package) -> None:
    report = _walk(write_package, torch_files(), backends=("CPU", "PrivateUse1"))
    relu_ = _layer(report, "features.1").operators[0]
    choice = relu_.kernels[1]
    assert choice.kernel is None and "CPU" in choice.rule and choice.backend == "PrivateUse1"


# ---------------------------------------------------------------- version drift


def test_old_def_call_layout(write_package) -> None:
    files = torch_files()
    files["torch/nn/modules/module.py"] = (
        "class Module:\n    def __call__(self, *input):\n        return self.forward(*input)\n")
    report = _walk(write_package, files)
    hops = _all(_layer(report, "features.1"))
    assert hops[0].name == "torch.nn.modules.module.Module.__call__"
    assert hops[0].kind == "method"
    assert hops[1].name == "torch.nn.modules.layers.ReLU.forward"
    assert [o.name for o in _layer(report, "features.1").operators] == ["aten::relu_"]


def test_call_aliases_call_impl(write_package) -> None:
    files = torch_files()
    files["torch/nn/modules/module.py"] = MODULE_OLD_ALIAS
    report = _walk(write_package, files)
    hops = _all(_layer(report, "features.1"))
    assert hops[0].via == "__call__ = _call_impl"
    assert hops[1].name.endswith("Module._call_impl")
    assert not _layer(report, "features.1").stopped


MODULE_OLD_ALIAS = '''
class Module:
    def _call_impl(self, *input):
        return self.forward(*input)

    __call__ = _call_impl
'''


def test_functional_without_boolean_dispatch(write_package) -> None:
    files = torch_files()
    text = files["torch/nn/functional.py"]
    start = text.index("max_pool2d = boolean_dispatch(")
    end = text.index(")\n", text.index('func_name="max_pool2d"')) + 2
    files["torch/nn/functional.py"] = text[:start] + (
        "def max_pool2d(input, kernel_size, stride=None, return_indices=False):\n"
        "    return torch.max_pool2d(input, kernel_size)\n") + text[end:]
    report = _walk(write_package, files)
    layer = _layer(report, "features.2")
    assert not layer.stopped
    assert [o.name for o in layer.operators] == ["aten::max_pool2d"]


def test_missing_call_reports_where_it_stopped(write_package) -> None:
    files = torch_files()
    files["torch/nn/modules/module.py"] = "class Module:\n    pass\n"
    report = _walk(write_package, files)
    layer = _layer(report, "features.1")
    assert layer.operators == ()
    assert "no __call__" in layer.stopped


def test_unrecognised_functional_pattern_stops_with_reason(write_package) -> None:
    files = torch_files()
    files["torch/nn/functional.py"] = files["torch/nn/functional.py"].replace(
        "linear = _add_docstr(torch._C._nn.linear,", "linear = _make_linear(torch._C._nn.linear,")
    report = _walk(write_package, files)
    layer = _layer(report, "fc")
    assert "not a pattern the walk follows" in layer.stopped
    assert layer.operators == ()


def test_binding_missing_from_stubs_stops(write_package) -> None:
    files = torch_files()
    files["torch/_C/_nn.pyi"] = "def pad(input, pad, mode='constant'): ...\n"
    report = _walk(write_package, files)
    layer = _layer(report, "fc")
    assert "no stub declares it" in layer.stopped


def test_broken_functional_is_a_diagnostic_not_a_crash(write_package) -> None:
    files = torch_files()
    files["torch/nn/functional.py"] = "def relu(:\n"
    report = _walk(write_package, files)
    assert any("torch/nn/functional.py" in str(d) for d in report.diagnostics)
    assert all(layer.operators == () for layer in report.layers
               if not layer.path.startswith("forward:"))


@pytest.mark.parametrize(("expr", "env", "expected"), [
    (FlowExpr("name", "inplace"), {"inplace": True}, True),
    (FlowExpr("name", "inplace"), {}, None),
    (FlowExpr("compare", "x", (FlowExpr("attr", "self.m"), FlowExpr("const", "'zeros'")), "!="),
     {"self.m": "zeros"}, False),
    (FlowExpr("not", "x", (FlowExpr("name", "a"),)), {"a": False}, True),
    (FlowExpr("or", "x", (FlowExpr("name", "a"), FlowExpr("name", "b"))), {"a": True}, True),
    (FlowExpr("and", "x", (FlowExpr("name", "a"), FlowExpr("name", "b"))), {"a": True}, None),
    (FlowExpr("and", "x", (FlowExpr("name", "a"), FlowExpr("name", "b"))), {"a": False}, False),
    (FlowExpr("call", "f()"), {}, None),
])
def test_evaluate_is_three_valued(expr: FlowExpr, env: dict, expected: bool | None) -> None:
    value = evaluate(expr, env)
    assert (None if value.__class__ is object else value) == expected


def test_method_calls_need_a_method_variant(write_package) -> None:
    files = torch_files()
    files["torchgen/packaged/ATen/native/native_functions.yaml"] += '''
- func: t(Tensor(a) self) -> Tensor(a)
  variants: function, method

- func: dim(Tensor self) -> int
  variants: method
  manual_cpp_binding: True

- func: function_only(Tensor self) -> Tensor
'''
    body = ("Tensor linear(const Tensor& input, const Tensor& weight) {\n"
            "  if (input.dim() == 2) return at::addmm(input, weight.t());\n"
            "  return input.function_only();\n}\n")
    edges = EdgeSet(origin="test")
    for edge in scan_source(body, "aten/src/ATen/native/Linear.cpp", "abc"):
        edges.add(edge)
    report = _walk(write_package, files, edges)
    below = _names(_layer(report, "fc").operators)
    assert "aten::addmm" in below and "aten::t" in below
    assert "aten::dim" not in below and "aten::function_only" not in below


def test_pages_render_without_disk_writes(report: WalkReport) -> None:
    from docgen.walk.render import render_walk_pages, walk_to_json

    pages = render_walk_pages(report)
    types = {"conv2d", "relu", "maxpool2d", "dropout", "linear", "flatten"}
    # each type's walk page, and the full map of every branch read on a page of its own
    assert set(pages) == {f"walk/{t}.md" for t in types} | {f"walk/{t}-branches.md"
                                                            for t in types}
    assert "(conv2d-branches.md)" in pages["walk/conv2d.md"]
    conv = pages["walk/conv2d-branches.md"]
    assert "<code>features.0</code>" in conv and "(conv2d.md)" in conv
    assert "<del>`functional.pad`</del>" in conv
    assert "ops.py:" in conv  # the resolution order, with its source lines
    data = walk_to_json(report)
    assert data["schema"] == 1 and data["model"] == MODEL
    layer = data["layers"][1]
    assert layer["path"] == "features.1"
    op = layer["operators"][0]
    assert op["backends"]["CPU"] == {"key": "CPU", "kernel": "relu_", "rule": "backend kernel"}
    assert op["derivative"]["inherited_from"] == "relu"


def test_walk_pages_escape_table_breakers() -> None:
    from docgen.core.escape import md_cell, md_code

    assert "|" not in md_cell("a|b") and "\n" not in md_cell("a\nb")
    assert md_code("x`y|z").startswith("<code>") and "|" not in md_code("x`y|z")

def test_edges_from_another_commit_say_so(write_package) -> None:
    files = torch_files()
    files["torch/version.py"] = "__version__ = '9.9.9'\ngit_version = 'feedfacefeedface'\n"
    edges = EdgeSet(origin="test")
    for edge in scan_source(CONVOLUTION_CPP, "aten/src/ATen/native/Convolution.cpp", "abc123"):
        edges.add(edge)
    report = _walk(write_package, files, edges)
    below = _layer(report, "features.0").operators[0].children[0]
    assert "abc123" in below.note and "feedfacefeed" in below.note
    assert "feedfacefeed" in report.upstream


def test_cli_walk_with_a_source_tree(write_package, tmp_path: Path,
                                     capsys: pytest.CaptureFixture[str]) -> None:
    import json

    from docgen.cli.main import main

    root = write_package(torch_files())
    src = tmp_path / "pytorch" / "aten/src/ATen/native"
    src.mkdir(parents=True)
    (src / "Convolution.cpp").write_text(CONVOLUTION_CPP)
    args = ["walk", "--json", "--model", MODEL, "--source", f"torch={root}",
            "--source", f"zoo={root}", "--pytorch-src", str(tmp_path / "pytorch")]
    assert main([*args, "--layer", "features.0"]) == 0
    data = json.loads(capsys.readouterr().out)
    op = data["layers"][0]["operators"][0]
    assert op["name"] == "aten::conv2d"
    child = op["children"][0]
    line = next(i for i, text in enumerate(CONVOLUTION_CPP.splitlines(), 1)
                if "return at::convolution(" in text)
    assert child["edge"] == f"aten/src/ATen/native/Convolution.cpp:{line}"
    assert child["edge_source"] == "from upstream C++"
    assert main([*args, "--pytorch-src", str(tmp_path / "missing")]) == 2


HELPER_CPP = """\
namespace at::native {
Tensor conv2d_symint(const Tensor& input, const Tensor& weight) {
  return at::convolution_symint(input, weight, {});
}
static Tensor by_backend(const Tensor& input, const Tensor& weight) {
  return at::cudnn_convolution(input, weight);
}
static Tensor sizes_only(const Tensor& input) {
  return input.view(input.sizes());
}
Tensor convolution(const Tensor& input, const Tensor& weight, const Tensor& bias) {
  if (input.is_cuda()) {
    return by_backend(input, weight);
  }
  sizes_only(input);
  return at::convolution(input, weight, bias);
}
}
"""


def test_cpp_helpers_are_walked_through_with_their_provenance(write_package) -> None:
    edges = EdgeSet(origin="test")
    for edge in scan_source(HELPER_CPP, "aten/src/ATen/native/Convolution.cpp", "abc123",
                            "someone/pytorch"):
        edges.add(edge)
    report = _walk(write_package, torch_files(), edges)
    conv2d = _layer(report, "features.0").operators[0]
    convolution = conv2d.children[0]
    assert convolution.name == "aten::convolution"  # `convolution_symint` is its C++ API
    assert convolution.source == "someone/pytorch@abc123"
    assert "a fork of pytorch/pytorch" in convolution.note
    helper = next(c for c in convolution.children if c.operator is None)
    assert helper.name == "at::native::by_backend" and helper.condition == "input.is_cuda()"
    assert "not an operator" in helper.note
    assert [c.name for c in helper.children] == ["aten::cudnn_convolution"]
    # Helpers that call no operator, and a kernel calling its own name, are not shown.
    assert [c.name for c in convolution.children] == ["at::native::by_backend"]


@pytest.mark.parametrize(("condition", "expected"), [
    ("self.is_sparse()", True),
    ("dim0 == dim1 && self.is_sparse()", True),
    ("(self.layout() == kSparseBsr || self.layout() == kSparseCsr)", True),
    ("self.layout() == kSparseBsr || self.is_cuda()", False),
    ("!self.is_sparse()", False),
    ("self.is_contiguous_or_false() && !self.is_mkldnn()", False),
    ("", False),
])
def test_sparse_only_conditions_are_folded_in_the_tree(condition: str, expected: bool) -> None:
    assert sparse_only(condition) is expected


DIRECT_CPP = """\
namespace at::native {
Tensor conv2d_symint(const Tensor& input, const Tensor& weight) {
  return at::convolution_symint(input, weight, {});
}
template <bool fast>
Tensor pick(const Tensor& input, const Tensor& weight) {
  if (fast) {
    return at::cudnn_convolution(input, weight);
  }
  return at::addmm(input, weight, weight);
}
#define DEFINE(NAME, FAST)                                 \\
Tensor NAME(const Tensor& input, const Tensor& weight) {   \\
  return pick<FAST>(input, weight);                        \\
}
DEFINE(pick_slow, false)
Tensor convolution(const Tensor& input, const Tensor& weight, const Tensor& bias) {
  return native::pick_slow(input, weight);
}
}
"""


def test_direct_kernel_calls_and_template_specialisations_are_walked(write_package) -> None:
    edges = EdgeSet(origin="test")
    for edge in scan_source(DIRECT_CPP, "aten/src/ATen/native/Convolution.cpp", "abc123"):
        edges.add(edge)
    report = _walk(write_package, torch_files(), edges)
    convolution = _layer(report, "features.0").operators[0].children[0]
    assert convolution.name == "aten::convolution"
    [direct] = convolution.children
    assert direct.name == "at::native::pick_slow" and direct.operator is None
    assert "no dispatcher hop" in direct.note
    assert direct.edge is not None and direct.edge.line == DIRECT_CPP.splitlines().index(
        "  return native::pick_slow(input, weight);") + 1
    [special] = direct.children
    assert special.name == "at::native::pick<false>"
    # `if (fast)` is false in pick<false>: only the other call is left.
    assert [c.name for c in special.children] == ["aten::addmm"]
    assert special.children[0].condition == ""


MANUAL_CPP = """\
namespace torch::autograd::generated::details {
Tensor half(const Tensor& t) {
  return at::addmm(t, t, t);
}
Tensor jvp_only(const Tensor& t) {
  return at::addmm(t, t, t);
}
Tensor conv_input_backward(const Tensor& grad, const Tensor& weight) {
  if (grad.is_cuda()) {
    return at::cudnn_convolution(grad, weight);
  }
  return half(grad);
}
}
"""


def test_backward_formula_helpers_show_what_they_call(write_package) -> None:
    """A formula calling a FunctionsManual.cpp helper lists the operators the helper's body
    calls, with file:line and condition; nested helpers are followed; forward-mode
    (`result:`) formulas are not backward."""
    files = torch_files()
    derivatives = "torchgen/packaged/autograd/derivatives.yaml"
    files[derivatives] += ("\n- name: cudnn_convolution(Tensor self, Tensor weight) -> Tensor\n"
                           "  self: conv_input_backward(grad, weight)\n"
                           "  result: jvp_only(self_t)\n")
    edges = EdgeSet(origin="test")
    path = "torch/csrc/autograd/FunctionsManual.cpp"
    for edge in autograd_namespaced(scan_source(MANUAL_CPP, path, "abc")):
        edges.add(edge)
    for edge in scan_source(HELPER_CPP, "aten/src/ATen/native/Convolution.cpp", "abc"):
        edges.add(edge)
    report = _walk(write_package, files, edges)
    convolution = _layer(report, "features.0").operators[0].children[0]
    helper = next(c for c in convolution.children if c.operator is None)
    cudnn = helper.children[0]
    assert cudnn.name == "aten::cudnn_convolution" and cudnn.derivative is not None
    calls = {(c.helper, c.operator): c for c in cudnn.derivative.calls}
    lines = MANUAL_CPP.splitlines()
    assert set(calls) == {("conv_input_backward", "aten::cudnn_convolution"),
                          ("half", "aten::addmm")}
    first = calls[("conv_input_backward", "aten::cudnn_convolution")]
    assert first.condition == "grad.is_cuda()" and first.location.path == path
    assert first.location.line == lines.index("    return at::cudnn_convolution(grad, weight);") + 1
    assert calls[("half", "aten::addmm")].location.line == 3


RECURRENT_PY = '''
from typing import NamedTuple, overload

from torch import _VF
from .module import Module


class Packed(NamedTuple):
    data: object
    sizes: object


class Rec(Module):
    def __init__(self, width, bias=True):
        self.bias = bias

    @overload
    def forward(self, input, hx=None):
        pass

    def forward(self, input, hx=None):
        orig_input = input
        sizes = None
        if isinstance(orig_input, Packed):
            input, sizes = input
        if hx is None:
            hx = (torch.zeros(1, 2, 3), torch.zeros(1, 2, 3))
        if sizes is None:
            result = _VF.rec(input, hx, self.bias, self.training)
        else:
            result = _VF.rec(input, sizes, hx, self.bias)
        return result[0]
'''


def test_a_recurrent_forward_reaches_the_overload_its_arguments_fit(write_package) -> None:
    files = torch_files()
    files["torch/nn/modules/recurrent.py"] = RECURRENT_PY
    files["torch/nn/modules/__init__.py"] = files["torch/nn/modules/__init__.py"].replace(
        "'Linear']", "'Linear', 'Rec']") + "from .recurrent import Rec\n"
    files["torch/_C/_VariableFunctions.pyi"] += "def rec(*args): ...\ndef zeros(*size): ...\n"
    files["torchgen/packaged/ATen/native/native_functions.yaml"] += (
        "\n- func: rec.data(Tensor data, Tensor batch_sizes, Tensor[] hx, bool has_biases)"
        " -> (Tensor, Tensor)\n"
        "\n- func: rec.input(Tensor input, Tensor[] hx, bool has_biases, bool train)"
        " -> (Tensor, Tensor)\n")
    files["zoo/net.py"] = ("import torch.nn as nn\n\n\nclass Net(nn.Module):\n"
                           "    def __init__(self):\n        super().__init__()\n"
                           "        self.rec = nn.Rec(4)\n\n"
                           "    def forward(self, x):\n        return self.rec(x)\n")
    layer = _layer(_walk(write_package, files), "rec")
    rec = [h for h in _all(layer) if h.kind == "binding" and h.name.endswith(".rec")]
    # the @overload stub is skipped; `sizes` stays None because a tensor is no Packed
    assert [h.is_pruned for h in rec] == [False]
    assert [(b.condition, b.taken) for b in rec[0].branches] == [("sizes is None", True)]
    # `self.bias` is a bool: it cannot bind `Tensor[] hx` of rec.data
    assert [o.name for o in layer.operators if "rec" in o.name] == ["aten::rec.input"]
