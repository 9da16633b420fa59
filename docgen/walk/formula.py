"""The part of a derivatives.yaml formula a plain `loss.backward()` runs; no operators.

A formula may choose between two backward implementations with a `?:` on facts of the
backward pass itself: `GradMode::is_enabled() ? infinitely_differentiable_silu_backward(grad,
self) : silu_backward(grad, self)`. The engine runs every node with grad mode set to the
graph task's `create_graph` (GraphTask's grad mode, torch/csrc/autograd/engine.cpp), so under
a plain `backward()` (no `create_graph`, what the walk assumes) `GradMode::is_enabled()` is
false and the second arm runs. `grad` (`grads[0]`) is defined for a node on the taken path;
an operator's other outputs (`grads[1]`, `grads[2]`: native_group_norm's mean and rstd) are
taken as read by nothing that requires grad, so their gradients are undefined: the kernels
that call such an operator keep only its first output (`std::get<0>(at::native_group_norm(
...))` in group_norm.cpp). A condition on anything else keeps both arms.
"""

from __future__ import annotations

import re

from docgen.walk.decide import split_top, ternary

_GRADS = re.compile(r"grads\[(\d+)\]\.defined\(\)")
_GRAD_MODE = ("GradMode::is_enabled()", "at::GradMode::is_enabled()")


def plain_backward_formula(formula: str) -> str:
    """`formula` with each top-level `c ? a : b` replaced by its arm where `c` is decided
    for a plain backward(); undecided conditions keep the whole expression."""
    text = _unwrapped(formula.strip())
    arms = ternary(text)
    if arms is None:
        return text
    condition, first, second = arms
    value = backward_fact(condition)
    if value is None:
        return text
    return plain_backward_formula(first if value else second)


def backward_fact(condition: str) -> bool | None:
    """The value of a formula's condition in a plain backward(), or None."""
    text = _unwrapped(condition.strip())
    for sep, decisive in (("||", True), ("&&", False)):
        parts = split_top(text, sep)
        if len(parts) > 1:
            values = [backward_fact(p) for p in parts]
            if any(v is decisive for v in values):
                return decisive
            return None if any(v is None for v in values) else not decisive
    if text.startswith("!"):
        value = backward_fact(text[1:])
        return None if value is None else not value
    if text in _GRAD_MODE:
        return False
    if text == "grad.defined()":
        return True
    found = _GRADS.fullmatch(text)
    if found is not None:
        return found.group(1) == "0"
    return None


def _unwrapped(text: str) -> str:
    """`(a ? b : c)` -> `a ? b : c` (one pair of brackets around the whole text)."""
    while text.startswith("(") and text.endswith(")"):
        depth = 0
        for i, ch in enumerate(text):
            depth += {"(": 1, ")": -1}.get(ch, 0)
            if depth == 0 and i < len(text) - 1:
                return text
        text = text[1:-1].strip()
    return text
