"""Attention and a module's functional steps: the calls a library function really made (with
the values passed at the call site), tensor layout, indexing, and the SDPA backend choice."""

from __future__ import annotations

from pathlib import Path

import pytest

from docgen.models.layout import index_strides, is_contiguous, view_strides
from docgen.models.values import SymTensor
from docgen.walk.decide import LayerFacts
from docgen.walk.functional import argument_value, indexing_operators
from docgen.walk.inputs import TensorAttr
from docgen.walk.sdp import sdp_backend
from docgen.walk.setting import Setting

# ------------------------------------------------------------------ layout


def test_transpose_of_a_row_major_tensor_is_not_contiguous() -> None:
    x = SymTensor((2, 5, 32))
    y = SymTensor((5, 2, 32))
    y.strides = view_strides("aten::transpose", (x, 1, 0), {}, y)
    assert y.strides == (32, 160, 1)
    assert not is_contiguous(y)


def test_transposing_a_size_one_dimension_keeps_it_contiguous() -> None:
    x = SymTensor((1, 5, 32))
    y = SymTensor((5, 1, 32))
    assert view_strides("aten::transpose", (x, 0, 1), {}, y) is None


def test_permute_back_and_view_restore_row_major() -> None:
    x = SymTensor((2, 3, 4))
    p = SymTensor((4, 2, 3))
    p.strides = view_strides("aten::permute", (x, 2, 0, 1), {}, p)
    assert p.strides == (1, 12, 4)
    back = SymTensor((2, 3, 4))
    assert view_strides("aten::permute", (p, 1, 2, 0), {}, back) is None
    assert view_strides("aten::reshape", (p, 24), {}, SymTensor((24,))) is None


def test_expand_and_select_strides() -> None:
    token = SymTensor((1, 1, 8))
    out = SymTensor((2, 1, 8))
    assert view_strides("aten::expand", (token, 2, -1, -1), {}, out) == (0, 8, 1)
    x = SymTensor((2, 7, 8))
    assert view_strides("aten::select", (x, 1, 0), {}, SymTensor((2, 8))) == (56, 1)
    assert view_strides("aten::select", (x, 0, 1), {}, SymTensor((7, 8))) is None


def test_basic_indexing_strides() -> None:
    x = SymTensor((2, 197, 768))
    first = SymTensor((2, 768))
    assert index_strides(x, (slice(None), 0), first) == (197 * 768, 1)
    assert index_strides(x, 0, SymTensor((197, 768))) is None


# ------------------------------------------------------------------ indexing


@pytest.mark.parametrize(("key", "shape", "expected"), [
    ("0", (3, 4), ["select"]),
    ("(:, 0)", (2, 197, 768), ["select"]),
    ("1:", (3, 4), ["slice"]),
    (":", (3, 4), ["slice"]),  # a lone slice always dispatches (disable_slice_optimization)
    ("(:, 1:3)", (3, 4), ["slice"]),
    ("(0:3, 1)", (3, 4), ["select"]),  # the full slice 0:3 of a size-3 dim runs nothing
    ("(None, ..., 0)", (3, 4), ["unsqueeze", "select"]),
    ("(:, :)", (3, 4), ["alias"]),
    ("...", (3, 4), ["alias"]),
    ("(:, Tensor[5] float32)", (3, 4), ["index"]),
])
def test_indexing_operators(key: str, shape: tuple[int, ...], expected: list[str]) -> None:
    assert indexing_operators(key, shape) == expected


def test_argument_values() -> None:
    assert argument_value("Tensor[2, 5, 32] float32") == TensorAttr((2, 5, 32), False)
    assert argument_value("False") is False
    assert argument_value("None") is None
    assert argument_value("(3, 768)") == (3, 768)
    assert argument_value("<Thing>") == "<Thing>"


# ------------------------------------------------------------------ SDPA backend


def _facts(backend: str = "CPU", **attrs: object) -> LayerFacts:
    q = TensorAttr((2, 4, 5, 8), False)
    base: dict[str, object] = {"query": q, "key": q, "value": q, "attn_mask": False,
                               "dropout_p": 0.0, "query:last_stride": 1,
                               "key:last_stride": 1, "value:last_stride": 1}
    base.update(attrs)
    return LayerFacts(Setting(backend), base, (2, 4, 5, 8))


def test_cpu_picks_flash_attention_for_dense_4d_inputs() -> None:
    label, why = sdp_backend(_facts())
    assert label == "flash_attention" and "use_flash_attention_cpp" in why


def test_cpu_dropout_falls_back_to_math() -> None:
    label, why = sdp_backend(_facts(dropout_p=0.1))
    assert label == "math" and "check_for_dropout" in why


def test_cpu_3d_inputs_fall_back_to_math() -> None:
    q = TensorAttr((8, 5, 8), False)
    assert sdp_backend(_facts(query=q, key=q, value=q))[0] == "math"


def test_cpu_last_stride_not_one_falls_back_to_math() -> None:
    label, why = sdp_backend(_facts(**{"key:last_stride": 64}))
    assert label == "math" and "stride" in why


def test_a_mask_and_a_gpu_stay_undecided_with_the_reason() -> None:
    label, why = sdp_backend(_facts(attn_mask=TensorAttr((5, 5), False)))
    assert label is None and "attn_mask" in why
    label, why = sdp_backend(_facts("CUDA"))
    assert label is None and "compute capability" in why


# ------------------------------------------------------------------ real torch sources


@pytest.fixture(scope="module")
def walk_module(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    """walk(call, shape, mode, grad) -> {path: Taken} for one nn module held as `self.m`."""
    from docgen.classes.project import open_project_sources
    from docgen.core.config import config_from_options
    from docgen.walk.upstream import load_shipped_edges
    from docgen.walk.walker import open_context, walk_model
    from tests.test_walk_oracle import single_module_model

    try:
        open_project_sources(config_from_options({}))
    except Exception as exc:
        pytest.skip(f"torch wheels not available: {exc}")

    def walk(call: str, shape: tuple[int, ...], mode: str = "train", grad: bool = True
             ) -> dict[str, object]:
        folder = Path(tmp_path_factory.mktemp("model"))
        cfg = config_from_options({"model": single_module_model(call, folder)})
        ctx = open_context(open_project_sources(cfg), load_shipped_edges(), ("CPU",))
        report = walk_model(ctx, cfg.model, setting=Setting(
            "CPU", "float32", True, True, mode, grad, shape))
        return {w.path: w.taken for w in report.layers}

    return walk


def _names(ops: tuple[str, ...]) -> set[str]:
    return {o.removeprefix("aten::").split(".")[0] for o in ops}


def test_need_weights_passed_false_takes_sdpa(walk_module) -> None:  # type: ignore[no-untyped-def]
    taken = walk_module("nn.MultiheadAttention(32, 4, batch_first=True)"
                        "(x, x, x, need_weights=False)", (2, 5, 32))["m:functional"]
    ops = _names(taken.forward)
    assert {"scaled_dot_product_attention", "_scaled_dot_product_flash_attention_for_cpu",
            "unflatten", "select", "matmul", "addmm"} <= ops
    assert "bmm" not in ops and "softmax" not in ops
    # the transposed (non-contiguous) 3-D input takes linear's matmul path; LinearAlgebra.cpp's
    # _matmul_impl folds it into one `mm` (should_fold: 3-D @ 2-D, the weight needs grad)
    assert "mm" in ops
    assert "_scaled_dot_product_flash_attention_for_cpu_backward" in _names(taken.backward)
    # the call passed no mask: `attn_mask.has_value()` in attention.cpp is decided false
    assert not any("attn_mask" in u.depends_on for u in taken.undecided)
    assert not any("SDPBackend" in u.condition for u in taken.undecided)


def test_need_weights_default_takes_the_explicit_softmax(walk_module) -> None:  # type: ignore[no-untyped-def]
    taken = walk_module("nn.MultiheadAttention(32, 4)(x, x, x)", (5, 2, 32),
                        mode="eval")["m:functional"]
    ops = _names(taken.forward)
    assert {"bmm", "softmax", "mean"} <= ops
    assert "scaled_dot_product_attention" not in ops
    assert "dropout" not in ops  # eval: F.multi_head_attention_forward sets dropout_p to 0
    # SoftMax.cpp's `softmax` calls `_softmax` (half_to_float only for CUDA half -> float),
    # the operator autograd records; its formula runs `_softmax_backward_data`
    assert "_softmax" in ops
    assert "_softmax_backward_data" in _names(taken.backward)
    assert not any("is_cuda" in u.condition for u in taken.undecided)


def test_training_mode_reaches_the_attention_dropout(walk_module) -> None:  # type: ignore[no-untyped-def]
    taken = walk_module("nn.MultiheadAttention(32, 4, dropout=0.1)(x, x, x)", (5, 2, 32),
                        mode="train")["m:functional"]
    assert "dropout" in _names(taken.forward)


def test_eval_without_grad_takes_the_fused_fast_path(walk_module) -> None:  # type: ignore[no-untyped-def]
    call = "nn.MultiheadAttention(32, 4, batch_first=True)(x, x, x, need_weights=False)"
    fast = walk_module(call, (2, 5, 32), mode="eval", grad=False)["m:functional"]
    assert "_native_multi_head_attention" in _names(fast.forward)
    slow = walk_module(call, (2, 5, 32), mode="eval", grad=True)["m:functional"]
    assert "_native_multi_head_attention" not in _names(slow.forward)


DIRECT_SDPA = """
from torch import nn
import torch.nn.functional as F


class Attention(nn.Module):
    def __init__(self, dim=32, heads=4):
        super().__init__()
        self.heads = heads
        self.qkv = nn.Linear(dim, dim * 3)
        self.proj = nn.Linear(dim, dim)

    def forward(self, x):
        B, N, C = x.shape
        qkv = self.qkv(x).reshape(B, N, 3, self.heads, C // self.heads).permute(2, 0, 3, 1, 4)
        q, k, v = qkv.unbind(0)
        x = F.scaled_dot_product_attention(q, k, v, dropout_p=0.0)
        return self.proj(x.transpose(1, 2).reshape(B, N, C))
"""


def test_a_model_calling_sdpa_directly(tmp_path: Path) -> None:
    """timm's Attention pattern: permuted q/k/v (not contiguous, last stride 1) reach
    flash attention on CPU; the model's own unbind and reshape are on the path."""
    from docgen.classes.project import open_project_sources
    from docgen.core.config import config_from_options
    from docgen.walk.upstream import load_shipped_edges
    from docgen.walk.walker import open_context, walk_model

    (tmp_path / "attn_model.py").write_text(DIRECT_SDPA)
    cfg = config_from_options({"model": f"{tmp_path / 'attn_model.py'}:Attention"})
    try:
        sources = open_project_sources(cfg)
    except Exception as exc:
        pytest.skip(f"torch wheels not available: {exc}")
    ctx = open_context(sources, load_shipped_edges(), ("CPU",))
    report = walk_model(ctx, cfg.model, setting=Setting("CPU", input_shape=(2, 5, 32)))
    taken = {w.path: w.taken for w in report.layers}[":functional"]
    assert {"unbind", "scaled_dot_product_attention",
            "_scaled_dot_product_flash_attention_for_cpu"} <= _names(taken.forward)
