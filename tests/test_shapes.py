"""The shape-rule table: each rule against PyTorch's documented output-size formulas."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from docgen.models.shapes import SHAPE_RULES, apply_op, broadcast_shapes, counts_macs
from docgen.models.values import CannotEvaluate, SymTensor, Unknown


def t(*shape: int) -> SymTensor:
    return SymTensor(shape)


def shape_of(op: str, *args: object, **kwargs: object) -> tuple[int, ...]:
    result, _ = apply_op(op, args, dict(kwargs))
    assert isinstance(result, SymTensor)
    return result.shape


@given(size=st.integers(1, 300), k=st.integers(1, 11), s=st.integers(1, 5),
       p=st.integers(0, 5), d=st.integers(1, 3), c_in=st.integers(1, 8),
       c_out=st.integers(1, 8))
def test_conv2d_matches_the_documented_formula(size: int, k: int, s: int, p: int, d: int,
                                               c_in: int, c_out: int) -> None:
    expected = (size + 2 * p - d * (k - 1) - 1) // s + 1
    args = (t(2, c_in, size, size + 1), t(c_out, c_in, k, k), None, (s, s), (p, p), (d, d), 1)
    if expected <= 0 or (size + 1 + 2 * p - d * (k - 1) - 1) // s + 1 <= 0:
        with pytest.raises(CannotEvaluate):
            apply_op("aten::conv2d", args, {})
        return
    out, macs = apply_op("aten::conv2d", args, {})
    width = (size + 1 + 2 * p - d * (k - 1) - 1) // s + 1
    assert out.shape == (2, c_out, expected, width)
    assert macs == 2 * c_out * expected * width * c_in * k * k


def test_grouped_conv_counts_macs_per_group() -> None:
    out, macs = apply_op("aten::conv2d", (t(1, 32, 10, 10), t(32, 1, 3, 3)),
                         {"padding": 1, "groups": 32})
    assert out.shape == (1, 32, 10, 10)
    assert macs == 32 * 10 * 10 * 1 * 9


@pytest.mark.parametrize(("size", "k", "s", "p", "ceil", "expected"), [
    (55, 3, 2, 0, False, 27),
    (112, 3, 2, 0, False, 55),
    (112, 3, 2, 0, True, 56),  # ceil_mode keeps the partial last window
    (5, 2, 2, 1, True, 3),  # ... unless it would start inside the right padding
])
def test_max_pool_floor_and_ceil_mode(size: int, k: int, s: int, p: int, ceil: bool,
                                      expected: int) -> None:
    assert shape_of("aten::max_pool2d", t(1, 3, size, size), (k, k), (s, s), (p, p), (1, 1),
                    ceil) == (1, 3, expected, expected)


def test_pool_stride_defaults_to_kernel() -> None:
    assert shape_of("aten::max_pool2d", t(1, 3, 8, 8), 2, []) == (1, 3, 4, 4)
    assert shape_of("aten::avg_pool2d", t(1, 3, 8, 8), 2, None) == (1, 3, 4, 4)


def test_adaptive_pool_keeps_none_dims() -> None:
    assert shape_of("aten::adaptive_avg_pool2d", t(1, 3, 13, 9), [6, None]) == (1, 3, 6, 9)
    assert shape_of("aten::adaptive_avg_pool2d", t(1, 3, 13, 9), 1) == (1, 3, 1, 1)


def test_linear_flatten_cat_view() -> None:
    out, macs = apply_op("aten::linear", (t(4, 7, 16), t(3, 16)), {})
    assert out.shape == (4, 7, 3) and macs == 4 * 7 * 3 * 16
    assert shape_of("aten::flatten", t(2, 3, 4, 5), 1) == (2, 60)
    assert shape_of("aten::flatten", t(2, 3, 4, 5), start_dim=1, end_dim=2) == (2, 12, 5)
    assert shape_of("aten::cat", [t(1, 2, 5), t(1, 3, 5)], 1) == (1, 5, 5)
    assert shape_of("aten::view", t(2, 3, 4), 2, -1) == (2, 12)
    assert shape_of("aten::reshape", t(2, 3, 4), (4, -1)) == (4, 6)


def test_inplace_ops_use_the_functional_rule() -> None:
    assert shape_of("aten::relu_", t(1, 2)) == (1, 2)
    assert shape_of("aten::add_", t(1, 4, 2, 2), t(1, 4, 1, 1)) == (1, 4, 2, 2)


def test_broadcasting() -> None:
    assert broadcast_shapes([(8, 1, 6), (7, 1)]) == (8, 7, 6)
    with pytest.raises(CannotEvaluate):
        broadcast_shapes([(3,), (4,)])


def test_unknown_input_is_passed_on_as_the_cause() -> None:
    cause = Unknown("why")
    with pytest.raises(CannotEvaluate) as info:
        apply_op("aten::relu", (cause,), {})
    assert info.value.cause is cause


def test_no_rule_is_an_error_not_a_guess() -> None:
    with pytest.raises(CannotEvaluate, match="no shape rule"):
        apply_op("aten::fft_fft", (t(4),), {})


def test_convolution_linear_matmul_and_attention_count_macs() -> None:
    counted = sorted(op for op in SHAPE_RULES if counts_macs(op))
    assert counted and all(op.startswith(("aten::conv", "aten::linear", "aten::matmul",
                                          "aten::mm", "aten::bmm", "aten::baddbmm",
                                          "aten::addmm", "aten::scaled_dot_product_attention",
                                          "aten::einsum"))
                           for op in counted)
    assert not counts_macs("aten::max_pool2d") and not counts_macs("aten::add")


def test_matmul_macs_follow_torch_flop_counter() -> None:
    out, macs = apply_op("aten::matmul", (t(2, 12, 197, 64), t(2, 12, 64, 197)), {})
    assert out.shape == (2, 12, 197, 197) and macs == 2 * 12 * 197 * 197 * 64
    vec, macs = apply_op("aten::matmul", (t(5, 3), t(3)), {})
    assert vec.shape == (5,) and macs == 15
    att, macs = apply_op("aten::scaled_dot_product_attention",
                         (t(1, 8, 10, 16), t(1, 8, 20, 16), t(1, 8, 20, 32)), {})
    assert att.shape == (1, 8, 10, 32) and macs == 8 * 10 * 20 * (16 + 32)


def test_convolution_checks_the_channel_count() -> None:
    with pytest.raises(CannotEvaluate, match="4 channels; the convolution expects 3"):
        apply_op("aten::conv2d", (t(1, 4, 32, 32), t(8, 3, 3, 3)), {})


def test_basic_indexing() -> None:
    from docgen.models.shapes import index_shape

    assert index_shape((2, 197, 768), (slice(None), 0)) == (2, 768)
    assert index_shape((2, 3, 4), (Ellipsis, None)) == (2, 3, 4, 1)
    assert index_shape((10,), slice(2, 8, 2)) == (3,)
    with pytest.raises(CannotEvaluate):
        index_shape((2, 3), ([0, 1],))


def test_attention_building_blocks() -> None:
    assert shape_of("aten::expand", t(1, 1, 8), 4, -1, -1) == (4, 1, 8)
    assert shape_of("aten::unflatten", t(5, 2, 24), -1, (3, 8)) == (5, 2, 3, 8)
    assert shape_of("aten::bmm", t(6, 5, 4), t(6, 4, 7)) == (6, 5, 7)
    assert shape_of("aten::matmul", t(2, 1, 5, 4), t(3, 4, 2)) == (2, 3, 5, 2)
    q, v = t(2, 8, 10, 16), t(2, 8, 12, 32)
    assert shape_of("aten::scaled_dot_product_attention", q, t(2, 8, 12, 16), v) == (2, 8, 10, 32)


def test_max_min_over_all_along_a_dim_and_element_wise() -> None:
    assert shape_of("aten::max", t(2, 3)) == ()
    (values, indices), _ = apply_op("aten::min", (t(2, 3, 4), 1), {"keepdim": True})
    assert values.shape == indices.shape == (2, 1, 4)
    assert shape_of("aten::max", t(2, 1), t(1, 5)) == (2, 5)


def test_cumsum_and_reshape_as_keep_or_take_a_shape() -> None:
    assert shape_of("aten::cumsum", t(1, 7, 7), 1) == (1, 7, 7)
    assert shape_of("aten::reshape_as", t(6, 4), t(2, 3, 4)) == (2, 3, 4)


def test_an_index_tensor_after_full_slices_replaces_its_dim() -> None:
    from docgen.models.shapes import index_shape
    assert index_shape((4, 49, 8), (slice(None), t(49, 49))) == (4, 49, 49, 8)
    assert index_shape((4, 9, 8), (slice(None), t(3), slice(0, 2))) == (4, 3, 2)
    with pytest.raises(CannotEvaluate):
        index_shape((4,), (slice(None), t(3)))


def test_reductions_of_known_values() -> None:
    from docgen.models.valued import apply_value_op, valued
    result = apply_value_op("aten::max", (valued([3.0, 7.0, 5.0]),), {})
    assert result.shape == () and result.values == [7.0]


@pytest.mark.parametrize(("op", "args", "kwargs", "expected"), [
    ("aten::repeat", (t(2, 3), 4, 1, 2), {}, (4, 2, 6)),  # a leading count adds a dim
    ("aten::repeat", (t(2, 3), (2, 2)), {}, (4, 6)),
    ("aten::repeat_interleave", (t(8, 5), 4), {"dim": 0}, (32, 5)),
    ("aten::repeat_interleave", (t(2, 3), 2), {}, (12,)),  # no dim: flattened
    ("aten::grid_sampler", (t(6, 4, 16, 16), t(6, 9, 9, 2), 0, 0, True), {}, (6, 4, 9, 9)),
    ("aten::grid_sampler", (t(1, 2, 4, 8, 8), t(1, 3, 5, 7, 3), 0, 0, False), {},
     (1, 2, 3, 5, 7)),
    # F.unfold(x, kernel_size=3, padding=1): 3*3 values per channel, one block per position
    ("aten::im2col", (t(1, 2, 6, 10), (3, 3), (1, 1), (1, 1), (1, 1)), {}, (1, 18, 60)),
    ("aten::im2col", (t(1, 2, 6, 10), (2, 2), (1, 1), (0, 0), (2, 2)), {}, (1, 8, 15)),
])
def test_repeat_grid_sample_and_unfold(op: str, args: tuple[object, ...],
                                       kwargs: dict[str, object],
                                       expected: tuple[int, ...]) -> None:
    assert shape_of(op, *args, **kwargs) == expected


def test_repeat_needs_a_count_per_dim() -> None:
    with pytest.raises(CannotEvaluate):
        apply_op("aten::repeat", (t(2, 3), 2), {})


def test_layout_predicates_answer_for_a_dense_tensor() -> None:
    assert apply_op("aten::is_contiguous", (t(2, 3),), {}) == (True, 0)
    assert apply_op("aten::is_floating_point", (t(2, 3),), {}) == (True, 0)
    assert apply_op("aten::is_complex", (t(2, 3),), {}) == (False, 0)
    with pytest.raises(CannotEvaluate):
        apply_op("aten::is_contiguous", (Unknown("x"),), {})


@pytest.mark.parametrize(("op", "args", "kwargs", "expected"), [
    # Tensor.unfold(dim, size, step): windows along dim, a new last dim of size
    ("aten::unfold", (t(1, 8, 10), 2, 4, 2), {}, (1, 8, 4, 4)),
    # F.fold: (N, C * 3 * 3, L) back to (N, C, 6, 10), L = 6 * 10 blocks with padding 1
    ("aten::col2im", (t(1, 18, 60), (6, 10), (3, 3), (1, 1), (1, 1), (1, 1)), {}, (1, 2, 6, 10)),
    ("aten::flip", (t(2, 3), (0,)), {}, (2, 3)),
])
def test_unfold_fold_and_flip(op: str, args: tuple[object, ...], kwargs: dict[str, object],
                              expected: tuple[int, ...]) -> None:
    assert shape_of(op, *args, **kwargs) == expected


@pytest.mark.parametrize(("batch_first", "bidirectional"), [(False, False), (True, True)])
def test_lstm_outputs_and_states(batch_first: bool, bidirectional: bool) -> None:
    hidden, proj, layers, directions = 20, 7, 2, 1 + bidirectional
    weights = [t(4 * hidden, 10), t(4 * hidden, proj), t(4 * hidden), t(4 * hidden),
               t(proj, hidden)]
    x = t(3, 5, 10)  # (L, N, in), or (N, L, in) with batch_first
    (out, h_n, c_n), macs = apply_op(
        "aten::lstm", (x, (None, None), weights, True, layers, 0.0, False, bidirectional,
                       batch_first), {})
    assert out.shape == (3, 5, directions * proj)
    n = 3 if batch_first else 5
    assert h_n.shape == (directions * layers, n, proj)
    assert c_n.shape == (directions * layers, n, hidden)
    assert macs == 0  # flop_counter counts no recurrent operator: neither does `_ops`


def test_gru_has_no_cell_state() -> None:
    (out, h_n), _ = apply_op("aten::gru", (t(4, 6), None, [t(3 * 8, 6), t(3 * 8, 8)], True, 1,
                                           0.0, False, False, False), {})
    assert out.shape == (4, 8) and h_n.shape == (1, 8)  # unbatched input
