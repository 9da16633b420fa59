"""Which kernel `scaled_dot_product_attention` runs: the `SDPBackend` its `_fused_sdp_choice`
returns, decided from one call's inputs and the setting.

attention.cpp's `scaled_dot_product_attention` asks `_fused_sdp_choice_stub` for a backend and
switches on it (`case SDPBackend::flash_attention:` -> `_scaled_dot_product_flash_attention_for
_cpu` on CPU). The stub's CPU kernel `_fused_sdp_choice_cpp` (attention.cpp, read at
cyyever/pytorch@f5d6e1de99f4) calls `select_sdp_backend_cpp` (sdp_utils_cpp.cpp, read at
ROCm/pytorch@6aedb8a0185f, release/2.8, and pytorch/pytorch@5b3ef8411316): flash attention
first, when `use_flash_attention_cpp` holds, else math when enabled. Its gates, in order:
flash enabled by the user (the default), no nested tensor, `dropout_p == 0`
(`check_for_dropout`), 4-D query/key/value, equal batch sizes and head counts, an attention
mask shape it accepts, equal head dims, non-empty sequences, last-dimension stride 1, and a
dtype among float, double, bfloat16, half.

On CUDA and XPU the choice (`select_sdp_backend` in sdp_utils.cpp, not read here) depends on
the device's compute capability and the kernels the build has: undecided, with that reason.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from docgen.walk.decide import LayerFacts

ENUM = "SDPBackend"
CPU_SOURCE = "select_sdp_backend_cpp (sdp_utils_cpp.cpp)"
_CPU_DTYPES = ("float32", "float16", "bfloat16")


def _shape(facts: LayerFacts, name: str) -> tuple[int, ...] | None:
    value = facts.attrs.get(name)
    shape = getattr(value, "shape", None)
    if isinstance(shape, tuple):
        return shape
    return facts.input_shape if name == "query" else None


def _flash_cpu(facts: LayerFacts) -> tuple[bool | None, str]:
    """use_flash_attention_cpp: (holds, the gate that decided it)."""
    q, k, v = (_shape(facts, n) for n in ("query", "key", "value"))
    dropout = facts.attrs.get("dropout_p", 0.0)
    if not isinstance(dropout, (int, float)):
        return None, "dropout_p is not known (check_for_dropout)"
    if dropout > 0:
        return False, f"dropout_p = {dropout} > 0 (check_for_dropout)"
    if q is None or k is None or v is None:
        return None, "the shapes of query, key and value are not known (check_tensor_shapes)"
    if not len(q) == len(k) == len(v) == 4:
        return False, f"query/key/value are {len(q)}-D/{len(k)}-D/{len(v)}-D, not 4-D " \
                      "(check_tensor_shapes)"
    if not (q[0] == k[0] == v[0] and q[1] == k[1] == v[1]):
        return False, "batch sizes or head counts differ (check_batch_size_and_num_heads)"
    mask = facts.attrs.get("attn_mask", False)
    if mask is not False:
        return None, "an attn_mask is passed: its shape check (check_attn_mask_shape) is " \
                     "not modelled"
    if not q[-1] == k[-1] == v[-1]:
        return False, "head dims differ (check_head_dim_size_cpp)"
    if q[-2] == 0 or k[-2] == 0:
        return False, "an empty sequence (check_nonzero_sequence_lengths)"
    last = [facts.attrs.get(f"{n}:last_stride") for n in ("query", "key", "value")]
    if any(s is None for s in last):
        return None, "the last-dimension strides are not known (check_last_dim_stride_equals_1)"
    if any(s != 1 for s in last):
        return False, "a last-dimension stride is not 1 (check_last_dim_stride_equals_1)"
    if facts.setting.dtype not in _CPU_DTYPES:
        return False, f"{facts.setting.dtype} is not a flash dtype (check_tensor_dtype)"
    return True, "4-D dense inputs, no dropout, no mask, equal head dims, " \
                 f"{facts.setting.dtype}"


def sdp_backend(facts: LayerFacts) -> tuple[str | None, str]:
    """(the SDPBackend label chosen or None, why)."""
    backend = facts.setting.backend
    if backend == "CPU":
        flash, why = _flash_cpu(facts)
        if flash is None:
            return None, f"{CPU_SOURCE}: {why}"
        if flash:
            return "flash_attention", f"{CPU_SOURCE}: use_flash_attention_cpp holds ({why}; " \
                                      "flash SDP enabled, the default)"
        return "math", f"{CPU_SOURCE}: not flash attention ({why}); math is enabled " \
                       "(the default)"
    if backend in ("CUDA", "XPU"):
        return None, f"_fused_sdp_choice for {backend} (select_sdp_backend, not read) " \
                     "depends on the device's compute capability and the attention " \
                     "kernels its build has"
    return None, f"whether _fused_sdp_choice_stub has a {backend} kernel is not read"
