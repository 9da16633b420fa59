"""The walk and the Backends page on the real torch 2.13.0 / torchvision 0.28.0 wheels."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from docgen.cli.main import main
from docgen.sources.locate import SourceSet
from docgen.walk.backends import read_backends
from docgen.walk.context import WalkContext
from docgen.walk.records import LayerWalk, OpNode, WalkReport
from docgen.walk.render import render_walk_pages, walk_to_json
from docgen.walk.upstream import load_shipped_edges
from docgen.walk.walker import open_context, walk_model

pytestmark = pytest.mark.wheels

ALEXNET = "torchvision.models.alexnet:AlexNet"


@pytest.fixture(scope="module")
def ctx(real_sources: SourceSet) -> WalkContext:
    return open_context(real_sources, load_shipped_edges())


@pytest.fixture(scope="module")
def report(ctx: WalkContext) -> WalkReport:
    return walk_model(ctx, ALEXNET)


def _layer(report: WalkReport, path: str) -> LayerWalk:
    return next(layer for layer in report.layers if layer.path == path)


def _reached(nodes: tuple[OpNode, ...], backend: str | None = None) -> dict[str, OpNode]:
    """Operators below `nodes`; with a backend, only those that have a kernel for it."""
    out: dict[str, OpNode] = {}
    for node in nodes:
        kernels = {k.backend: k for k in node.kernels}
        if backend is None or node.operator is None or kernels[backend].kernel:
            out.setdefault(node.name, node)
        out.update({k: v for k, v in _reached(node.children, backend).items() if k not in out})
    return out


def test_every_alexnet_layer_is_walked(report: WalkReport) -> None:
    paths = [layer.path for layer in report.layers]
    assert paths[:3] == ["features.0", "features.1", "features.2"]
    assert {"avgpool", "classifier.1", "classifier.6", "forward:torch.flatten"} <= set(paths)
    for layer in report.layers:
        assert layer.operators, f"{layer.path}: {layer.stopped}"
        assert not layer.stopped, layer.path


def _chain(nodes: tuple[OpNode, ...], *names: str) -> list[OpNode]:
    """The nodes along `names`, each a child of the one before; [] when the walk has no
    such route."""
    for node in nodes:
        if node.name == names[0]:
            if len(names) == 1:
                return [node]
            rest = _chain(node.children, *names[1:])
            if rest:
                return [node, *rest]
    return []


def _kernel(node: OpNode, backend: str) -> str | None:
    return {k.backend: k.kernel for k in node.kernels}[backend]


def test_conv2d_reaches_cudnn_on_cuda_and_mkldnn_on_cpu(report: WalkReport) -> None:
    ops = _layer(report, "features.0").operators
    cuda = _reached(ops, "CUDA")
    assert {"aten::conv2d", "aten::convolution", "aten::_convolution",
            "aten::cudnn_convolution", "aten::_slow_conv2d_forward"} <= set(cuda)
    assert cuda["aten::_slow_conv2d_forward"].kernels[1].kernel == "slow_conv2d_forward_cuda"
    cpu = _reached(ops, "CPU")
    assert "aten::mkldnn_convolution" in cpu and "aten::cudnn_convolution" not in cpu
    cudnn = _reached(ops)["aten::cudnn_convolution"]
    assert cudnn.edge is not None and cudnn.edge.path.endswith("Convolution.cpp")
    assert "use_cudnn" in cudnn.condition


def test_conv2d_route_goes_through_convolution_and_the_backend_switch(
        report: WalkReport) -> None:
    ops = _layer(report, "features.0").operators
    route = _chain(ops, "aten::conv2d", "aten::convolution", "aten::_convolution",
                   "aten::cudnn_convolution")
    assert route, "conv2d -> convolution -> _convolution -> cudnn_convolution"
    cudnn = route[-1]
    assert _kernel(cudnn, "CUDA") == "cudnn_convolution" and _kernel(cudnn, "CPU") is None
    assert "case ConvBackend::Cudnn" in cudnn.condition
    assert "_select_conv_backend" in cudnn.condition  # where Cudnn is chosen, read too
    # No cuDNN: the slow path, through the C++ helper that handles groups.
    slow = _chain(route[2].children, "at::native::_convolution_nogroup_backend",
                  "aten::thnn_conv2d", "aten::_slow_conv2d_forward")
    assert slow and "case ConvBackend::Slow2d" in slow[1].condition
    assert slow[0].operator is None and "not an operator" in slow[0].note
    assert _kernel(slow[2], "CPU") and _kernel(slow[2], "CUDA")
    mkldnn = _chain(route[2].children, "aten::mkldnn_convolution")
    assert mkldnn and "case ConvBackend::Mkldnn" in mkldnn[0].condition
    assert _kernel(mkldnn[0], "CPU")
    # conv2d itself does not call mkldnn_convolution (it did in code of 2019).
    assert "aten::mkldnn_convolution" not in {c.name for c in route[0].children}


def test_upstream_edges_carry_their_repository_and_commit(report: WalkReport) -> None:
    below = [n for layer in report.layers for n in _reached(layer.operators).values()
             if n.edge is not None]
    assert below
    for node in below:
        repo, _, commit = node.source.partition("@")
        assert "/" in repo and len(commit) == 12, node.name
        assert repo in node.note and commit in node.note
    conv = _reached(_layer(report, "features.0").operators)["aten::convolution"]
    assert "a fork of pytorch/pytorch" in conv.note


def test_linear_dropout_and_pooling_routes(report: WalkReport) -> None:
    linear = _chain(_layer(report, "classifier.1").operators, "aten::linear", "aten::addmm")
    assert linear and linear[1].edge is not None
    assert linear[1].edge.path.endswith("Linear.cpp")
    dropout = _chain(_layer(report, "classifier.0").operators, "aten::dropout",
                     "aten::native_dropout")
    assert dropout and "is_fused_kernel_acceptable" in dropout[1].condition
    assert _kernel(dropout[1], "CUDA") == "native_dropout_cuda"
    pool = _chain(_layer(report, "features.2").operators, "aten::max_pool2d",
                  "aten::max_pool2d_with_indices")
    assert pool and _kernel(pool[1], "CPU") and _kernel(pool[1], "CUDA")
    # `_adaptive_avg_pool2d_symint(...)` in the C++ body is operator _adaptive_avg_pool2d.
    avg = _chain(_layer(report, "avgpool").operators, "aten::adaptive_avg_pool2d",
                 "aten::_adaptive_avg_pool2d")
    assert avg and avg[1].edge is not None


def test_conv2d_python_route_and_binding(report: WalkReport) -> None:
    hop = _layer(report, "features.0").python[0]
    assert hop.name == "torch.nn.modules.module.Module.__call__" and hop.kind == "alias"
    text = json.dumps(walk_to_json(report))
    assert "torch/_C/_VariableFunctions.pyi" in text and "torch/nn/modules/conv.py" in text


def test_relu_inplace_and_linear_addmm(report: WalkReport) -> None:
    assert [o.name for o in _layer(report, "features.1").operators] == ["aten::relu_"]
    linear = _reached(_layer(report, "classifier.1").operators)
    assert "aten::linear" in linear and "aten::addmm" in linear
    addmm = linear["aten::addmm"]
    assert {k.backend: k.kernel for k in addmm.kernels} == {
        "CPU": "addmm_out_cpu", "CUDA": "addmm_out_cuda"}


def test_dropout_and_pooling_bindings(report: WalkReport) -> None:
    assert _layer(report, "classifier.0").operators[0].name == "aten::dropout"
    assert _layer(report, "features.2").operators[0].name == "aten::max_pool2d"
    assert _layer(report, "avgpool").operators[0].name == "aten::adaptive_avg_pool2d"
    assert _layer(report, "forward:torch.flatten").operators[0].name == \
        "aten::flatten.using_ints"


def test_one_layer_and_unknown_layer(ctx: WalkContext) -> None:
    one = walk_model(ctx, ALEXNET, layer="classifier.1")
    assert [layer.path for layer in one.layers] == ["classifier.1"]
    from docgen.core.errors import LookupFailed

    with pytest.raises(LookupFailed):
        walk_model(ctx, ALEXNET, layer="features.99")


def test_backends_page_is_read_from_headers(ctx: WalkContext, report: WalkReport,
                                            real_sources: SourceSet) -> None:
    backends = read_backends(real_sources, ctx.table, report)
    names = {k.name: k for k in backends.keys}
    assert names["PrivateUse1"].group == "backend component"
    assert names["CompositeImplicitAutograd"].location.path.endswith("DispatchKey.h")
    assert {"DEFAULT", "AVX2", "SVE256"} <= {c.name for c in backends.capabilities}
    assert "Overrideable" in {c.name for c in backends.conv_backends}
    assert any(p.name == "rename_privateuse1_backend" for p in backends.plug_points)
    rows = {r.operator: r for r in backends.coverage}
    cells = {c.backend: c for c in rows["aten::addmm"].cells}
    assert cells["CPU"].kernel == "addmm_out_cpu" and cells["PrivateUse1"].kernel is None
    assert rows["aten::convolution_backward"].needed_for == "backward"
    # aten::mm is reached in forward only under a condition (linear's matmul path, whose
    # body LinearAlgebra.cpp folds into mm; AlexNet's 2-D inputs take addmm), and in
    # backward inside mm_mat1_backward/mm_mat2_backward, which addmm's formula calls.
    assert rows["aten::mm"].needed_for == "forward"
    assert rows["aten::mm"].condition
    pages = render_walk_pages(report, backends)
    assert {"walk/conv2d.md", "walk/linear.md", "walk/backends.md"} <= set(pages)
    # the full map of every branch read is on a page of its own, linked from the walk page
    assert "(conv2d-branches.md)" in pages["walk/conv2d.md"]
    assert "from upstream C++" in pages["walk/conv2d-branches.md"]
    assert "PrivateUse1" in pages["walk/backends.md"]


def _sources(real_wheels: dict[str, Path]) -> list[str]:
    return [arg for name, path in real_wheels.items() for arg in ("--source", f"{name}={path}")]


def test_walk_for_site_returns_both_reports(real_sources: SourceSet) -> None:
    from docgen.walk.walker import walk_for_site

    report, backends = walk_for_site(real_sources, ALEXNET)
    pages = render_walk_pages(report, backends)
    walks = {p for p in pages if not p.endswith("-branches.md")} - {"walk/backends.md"}
    assert len(walks) == 7 and "walk/backends.md" in pages
    assert set(pages) - walks - {"walk/backends.md"} == {
        p.removesuffix(".md") + "-branches.md" for p in walks}
    # Linear's full tree repeats subtrees (thousands of rows): its map lists each operator
    # or helper once, every call links to an entry on the page, decided per setting
    linear = next(la for la in report.layers if la.type_text.endswith("Linear"))
    names: set[str] = set()

    def collect(nodes: tuple[Any, ...]) -> int:
        count = 0
        for node in nodes:
            names.add(node.name)
            count += 1 + collect(node.children)
        return count

    assert collect(linear.operators) > 5 * len(names)  # the tree is mostly repeats
    text = pages["walk/linear-branches.md"]
    headings = re.findall(r"^### (.+) \{: #([\w.-]+) \}$", text, re.M)
    assert len(headings) == len(names) == len({h for h, _ in headings})
    ids = {i for _, i in headings} | set(re.findall(r'<span id="(why-\d+)"></span>', text))
    targets = set(re.findall(r"\]\(#([\w.-]+)\)", text))
    assert targets and targets <= ids
    assert "native_functions.yaml#L" in text and "derivatives.yaml#L" in text
    assert re.search(r"github\.com/[\w-]+/pytorch/blob/[0-9a-f]{12}/aten/src/", text)
    addmm = text.split("{: #op-aten-linear }", 1)[1].split("\n### ", 1)[0]
    assert re.search(r"\(#op-aten-addmm\)[^\n]*Every setting: taken", addmm)
    assert re.search(r"\(#op-aten-mkldnn-linear\)[^\n]*Every setting: not taken", addmm)


def test_cli_walk_json_one_layer(capsys: pytest.CaptureFixture[str],
                                 real_wheels: dict[str, Path]) -> None:
    code = main(["walk", "--json", "--layer", "features.1", *_sources(real_wheels)])
    assert code == 0
    data = json.loads(capsys.readouterr().out)
    layer = data["layers"][0]
    assert layer["path"] == "features.1" and layer["type"] == "nn.ReLU"
    op = layer["operators"][0]
    assert op["name"] == "aten::relu_" and op["yaml"].startswith("torchgen/packaged/")
    assert set(op["backends"]) == {"CPU", "CUDA"}


def test_cli_walk_tree_and_bad_layer(capsys: pytest.CaptureFixture[str],
                                     real_wheels: dict[str, Path]) -> None:
    assert main(["walk", "--layer", "features.0", "--backend", "CUDA",
                 *_sources(real_wheels)]) == 0
    out = capsys.readouterr().out
    # the taken path for CUDA only: cuDNN's kernel, with where each edge was read
    assert "aten::cudnn_convolution" in out and "cyyever/pytorch@" in out
    assert "mkldnn_convolution" not in out and "_conv_depthwise2d" not in out.split(
        "alternatives not taken")[0]
    assert main(["walk", "--layer", "nope", *_sources(real_wheels)]) == 2


def test_cli_walk_tree_is_compact(capsys: pytest.CaptureFixture[str],
                                  real_wheels: dict[str, Path]) -> None:
    assert main(["walk", "--full", *_sources(real_wheels)]) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    # One line per hop of Module.__call__ -> _wrapped_call_impl -> _call_impl -> forward,
    # with short conditions; the full ones stay in --json.
    call_impl = next(i for i, line in enumerate(lines) if "Module._call_impl" in line)
    assert "_global_forward_pre_hooks" not in out
    assert any("Conv2d.forward" in line for line in lines[call_impl + 1:call_impl + 6])
    assert "same Python route and operators as features.0" in out
    # Sparse-layout branches are folded into one line each; TensorShape.cpp's view/reshape
    # bodies, ConvolutionMM2d's direct calls, the backward calls of formula helpers (once per
    # operator), Convolution.cpp read whole (the backend selector's predicates with the
    # operators they call, `use_nnpack` -> `_nnpack_available`; the grouped slow path's
    # `subtensor` -> `narrow` and `cat`) and LinearAlgebra.cpp's matmul and addmm bodies
    # make it ~2170 lines.
    assert len(lines) < 2400, len(lines)
    assert main(["walk", "--json", "--layer", "features.0", *_sources(real_wheels)]) == 0
    assert "_global_forward_pre_hooks" in capsys.readouterr().out


def test_flatten_reaches_view_through_a_direct_reshape_call(report: WalkReport) -> None:
    """TensorShape.cpp: flatten calls `native::reshape_symint` (a plain C++ call, so a profiler
    shows aten::flatten -> aten::view on a contiguous tensor), whose contiguous branch is
    `self.view_symint(...)`."""
    layer = _layer(report, "forward:torch.flatten")
    route = _chain(layer.operators, "aten::flatten.using_ints", "at::native::reshape_symint",
                   "aten::view")
    assert route, [o.name for o in layer.operators]
    _, reshape, view = route
    assert reshape.operator is None and "no dispatcher hop" in reshape.note
    assert reshape.edge is not None and reshape.edge.path.endswith("TensorShape.cpp")
    assert "cyyever/pytorch@" in reshape.source
    assert view.edge is not None and view.edge.path.endswith("TensorShape.cpp")
    assert "is_contiguous" in view.condition
    assert _kernel(view, "CPU") == "view"
    # The dim() == 0 branch calls the reshape operator through the dispatcher instead.
    dispatched = _chain(layer.operators, "aten::flatten.using_ints", "aten::reshape")
    assert dispatched and "dim() == 0" in dispatched[1].condition


def test_dropout_cpu_path_goes_through_the_templated_helper(report: WalkReport) -> None:
    """Dropout.cpp: `dropout` -> `_dropout<false>` (defined by ALIAS_SPECIALIZATION) ->
    `_dropout_impl<false, false, false>` (its own `inplace` bound too), whose alpha-dropout
    branch is decided away."""
    layer = _layer(report, "classifier.0")
    route = _chain(layer.operators, "aten::dropout", "at::native::_dropout<false>",
                   "at::native::_dropout_impl<false, false, false>")
    assert route, [o.name for o in layer.operators]
    impl = route[-1]
    calls = _reached(impl.children)
    # `noise.bernoulli_(1 - p)` and `noise.div_(1 - p)` with `double p`: a double argument
    # picks the `.float` and `.Scalar` overloads, never `.Tensor`
    assert {"aten::bernoulli_.float", "aten::div_.Scalar", "aten::empty_like",
            "aten::mul.Tensor"} <= set(calls)
    assert "aten::bernoulli_.Tensor" not in calls and "aten::div_.Tensor" not in calls
    assert "aten::add_.Tensor" not in calls  # only under `if (alpha_dropout)`
    for node in calls.values():
        assert node.edge is not None and node.edge.path.endswith("Dropout.cpp"), node.name
        assert node.edge.line > 0
    # `multiply<inplace>(input, noise)` is the file's own template, not aten::multiply; its
    # `inplace` is bound from the caller's specialisation.
    assert "at::native::multiply<false>" in calls and "aten::multiply" not in calls


def test_addmm_backward_calls_mm_through_functions_manual(report: WalkReport) -> None:
    """derivatives.yaml: addmm's mat1/mat2 formulas call mm_mat1_backward/mm_mat2_backward,
    whose bodies in FunctionsManual.cpp call `.mm(`; the jvp (`result:`) formula is not a
    backward and adds nothing."""
    route = _chain(_layer(report, "classifier.1").operators, "aten::linear", "aten::addmm")
    assert route
    derivative = route[1].derivative
    assert derivative is not None and derivative.calls
    by_helper: dict[str, set[str]] = {}
    for call in derivative.calls:
        assert call.location.path == "torch/csrc/autograd/FunctionsManual.cpp"
        assert call.location.line > 0 and "cyyever/pytorch@" in call.source
        by_helper.setdefault(call.helper, set()).add(call.operator)
    assert "aten::mm" in by_helper["mm_mat1_backward"]
    assert "aten::mm" in by_helper["mm_mat2_backward"]
    formulas = dict(derivative.formulas)
    assert all(helper + "(" in " ".join(formulas.values()) for helper in by_helper)


LIBRARY_LEAVES = '''\
from torch import nn
from torchvision.ops import StochasticDepth


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3)
        self.drop = StochasticDepth(0.2, "row")
        self.flat = nn.Flatten(1)

    def forward(self, x):
        return self.flat(self.drop(self.conv(x)))
'''


@pytest.mark.parametrize(("mode", "expected"), [
    ("train", {"drop": {"bernoulli_", "div_", "mul"}, "flat": {"flatten"}}),
    ("eval", {"drop": set(), "flat": {"flatten"}})])
def test_library_leaf_is_walked_through_the_calls_its_forward_made(
        tmp_path: Path, mode: str, expected: dict[str, set[str]]) -> None:
    """A leaf whose forward is torchvision's (StochasticDepth -> ops.stochastic_depth) or
    reaches no binding through torch's Python (nn.Flatten's `input.flatten`) is walked
    through the calls the model reader saw it make, with the values they got: `div_` by the
    survival rate, `mul` with the noise; nothing in eval, where it returns its input."""
    from docgen.classes.project import open_project_sources
    from docgen.core.config import config_from_options
    from docgen.walk.setting import Setting
    from docgen.walk.taken import UTILITY_OPERATORS

    (tmp_path / "net.py").write_text(LIBRARY_LEAVES)
    cfg = config_from_options({"model": f"{tmp_path / 'net.py'}:Net",
                               "packages": ["torch.nn", "torchvision.ops"]})
    ctx = open_context(open_project_sources(cfg), load_shipped_edges(), ("CPU",))
    report = walk_model(ctx, cfg.model, setting=Setting(
        "CPU", mode=mode, input_shape=(2, 3, 16, 16)))
    for path, ops in expected.items():
        layer = _layer(report, path)
        assert layer.taken is not None
        found = {n.removeprefix("aten::").split(".")[0] for n in layer.taken.forward}
        assert found - UTILITY_OPERATORS == ops, (path, layer.taken.forward)


def test_cli_walk_of_an_input_torch_rejects_exits_2(capsys: pytest.CaptureFixture[str],
                                                     real_wheels: dict[str, Path]) -> None:
    """As `docgen summary` does: an input an operator rejects is bad input, named by the
    model's line, exit 2, and the walk is still printed."""
    assert main(["walk", "--input", "1,4,224,224", *_sources(real_wheels)]) == 2
    out = capsys.readouterr()
    assert "torch would raise" in out.err and "alexnet.py:" in out.err
    assert "features.0" in out.out and "Traceback" not in out.err
