"""Per-backend kernel bodies: a body read in a backend's own source file is never shown
under another backend's kernel, and a backend kernel whose body was not read says so."""

from __future__ import annotations

import pytest

from docgen.core.records import Location
from docgen.sources.locate import SourceSet
from docgen.walk.aten import find_derivative
from docgen.walk.bodies import bodies_not_read, file_backend, serves
from docgen.walk.context import WalkContext
from docgen.walk.decide import LayerFacts
from docgen.walk.records import (
    DispatchEntry,
    KernelChoice,
    LayerWalk,
    OperatorDoc,
    OpNode,
    Reached,
)
from docgen.walk.setting import Setting
from docgen.walk.taken import decide_layer
from docgen.walk.upstream import load_shipped_edges
from docgen.walk.walker import open_context, walk_model

ALEXNET = "torchvision.models.alexnet:AlexNet"
# dispatch keys -> the backend whose source files may hold their kernels' bodies
_KEY_BACKEND = {"CPU": "CPU", "SparseCPU": "CPU", "QuantizedCPU": "CPU", "MkldnnCPU": "CPU",
                "NestedTensorCPU": "CPU", "SparseCsrCPU": "CPU", "CUDA": "CUDA",
                "SparseCUDA": "CUDA", "QuantizedCUDA": "CUDA", "NestedTensorCUDA": "CUDA",
                "SparseCsrCUDA": "CUDA", "MPS": "MPS", "SparseMPS": "MPS", "XPU": "XPU"}


@pytest.mark.parametrize(("path", "backend"), [
    ("aten/src/ATen/native/cuda/Dropout.cu", "CUDA"),
    ("aten/src/ATen/native/cudnn/ConvShared.cpp", "CUDA"),
    ("aten/src/ATen/native/miopen/Conv_miopen.cpp", "CUDA"),
    ("aten/src/ATen/native/cuda/Loops.cuh", "CUDA"),
    ("aten/src/ATen/native/mps/operations/Convolution.mm", "MPS"),
    ("aten/src/ATen/native/mkldnn/Conv.cpp", "CPU"),
    ("aten/src/ATen/native/cpu/Activation.cpp", "CPU"),
    ("aten/src/ATen/native/Convolution.cpp", None),
    ("torch/csrc/autograd/FunctionsManual.cpp", None),
])
def test_file_backend(path: str, backend: str | None) -> None:
    assert file_backend(path) == backend
    assert serves(path, "CUDA") is (backend in (None, "CUDA"))


def _op(name: str, dispatch: dict[str, str]) -> OperatorDoc:
    return OperatorDoc(name, f"{name}(Tensor self) -> Tensor", Location("nf.yaml", 1),
                       tuple(DispatchEntry(k, v) for k, v in dispatch.items()), "explicit")


def _node(name: str, kernels: dict[str, str], children: tuple[OpNode, ...] = (),
          path: str = "", read_in: str = "") -> OpNode:
    choices = tuple(KernelChoice(b, b, k, "direct") for b, k in kernels.items())
    return OpNode(f"aten::{name}", _op(name, kernels), Reached.UPSTREAM,
                  Location(path, 7) if path else None, "", choices, None, children,
                  read_in=read_in)


def _layer(*ops: OpNode) -> LayerWalk:
    return LayerWalk("m", "M", None, (), Location("m.py", 1), (), ops)


def test_a_cuda_file_body_is_never_shown_under_a_cpu_kernel() -> None:
    # `fused_op` has one kernel function name for both keys; its body was read in a .cu file
    inner = _node("inner", {"CPU": "inner_cpu", "CUDA": "inner_cuda"},
                  path="aten/src/ATen/native/cuda/Fused.cu", read_in="fused_kernel")
    top = _node("fused_op", {"CPU": "fused_kernel", "CUDA": "fused_kernel"}, (inner,))
    layer = _layer(top)
    cuda = decide_layer(layer, LayerFacts(Setting("CUDA", grad=False)), lambda n: ())
    assert cuda.forward == ("aten::fused_op", "aten::inner")
    cpu = decide_layer(layer, LayerFacts(Setting("CPU", grad=False)), lambda n: ())
    assert cpu.forward == ("aten::fused_op",)
    refused = next(e for e in cpu.edges if e.operator == "aten::inner")
    assert refused.decision == "not_taken" and "CUDA code" in refused.reason


def test_a_backend_kernel_without_a_body_read_says_so() -> None:
    top = _node("op", {"CPU": "op_cpu", "CUDA": "op_cuda"},
                (_node("inner", {"CPU": "inner_cpu"}, path="aten/src/ATen/native/Op.cpp",
                       read_in="op_cpu"),))
    taken = decide_layer(_layer(top), LayerFacts(Setting("CUDA", grad=False)), lambda n: ())
    read = {"op_cpu"}
    note = dict(bodies_not_read(taken, read.__contains__, "CUDA"))["aten::op"]
    assert note.startswith("CUDA body not read") and "op_cuda" in note
    on_cpu = decide_layer(_layer(top), LayerFacts(Setting("CPU", grad=False)), lambda n: ())
    assert [op for op, _ in bodies_not_read(on_cpu, read.__contains__, "CPU")] == ["aten::inner"]


@pytest.fixture(scope="module")
def ctx(real_sources: SourceSet) -> WalkContext:
    return open_context(real_sources, load_shipped_edges(), ("CPU", "CUDA"))


@pytest.mark.wheels
def test_every_shipped_body_is_attached_to_a_backend_its_file_serves(
        ctx: WalkContext) -> None:
    """Each kernel function of native_functions.yaml whose body the shipped edges hold was
    read in a file that can hold a kernel of one of its dispatch keys."""
    wrong = []
    checked = 0
    for op in ctx.table.operators.values():
        for entry in op.dispatch:
            keys = [k.strip() for k in entry.key.split(",")]
            backends = {_KEY_BACKEND.get(k) for k in keys}
            for edge in ctx.edges.calls_of(entry.kernel):
                checked += 1
                if None not in backends and not any(serves(edge.location.path, b)
                                                    for b in backends):
                    wrong.append((op.name, entry.key, entry.kernel, edge.location.path))
    assert checked > 100 and not wrong


@pytest.mark.wheels
def test_cuda_kernels_show_no_cpu_body_and_say_when_theirs_was_not_read(
        ctx: WalkContext) -> None:
    report = walk_model(ctx, ALEXNET, layer="features.0", setting=Setting("CUDA", cudnn=False))
    taken = report.layers[0].taken
    unread = dict(taken.unread)
    assert "slow_conv2d_forward_cuda" in unread["aten::_slow_conv2d_forward"]
    # the CPU kernel's calls (slow_conv2d_forward_out_cpu: compute_columns2d...) are absent
    assert taken.forward[-1] == "aten::_slow_conv2d_forward"
    cpu = walk_model(ctx, ALEXNET, layer="features.0",
                     setting=Setting("CPU", mkldnn=False)).layers[0].taken
    assert "aten::_slow_conv2d_forward" not in dict(cpu.unread)
    assert cpu.forward.index("aten::_slow_conv2d_forward") < len(cpu.forward) - 1
    dropout = walk_model(ctx, ALEXNET, layer="classifier.0",
                         setting=Setting("CUDA")).layers[0].taken
    assert not any(op.startswith("aten::bernoulli_") for op in dropout.forward)
    assert dict(dropout.unread)["aten::native_dropout"].startswith("CUDA body not read")
    assert find_derivative(ctx.table, "native_dropout") is not None


def test_a_ufunc_kernel_body_is_named_as_generated() -> None:
    top = _node("add_", {"CUDA": "ufunc_add_out (generated from ufunc_inner_loop)"})
    taken = decide_layer(_layer(top), LayerFacts(Setting("CUDA", grad=False)), lambda n: ())
    note = dict(bodies_not_read(taken, lambda k: False, "CUDA"))["aten::add_"]
    assert note.startswith("CUDA body generated at build time from the ufunc_inner_loop")
