"""The autograd engine's own backward work (walk/engine.py): gradient accumulation and the
reduction of broadcast gradients, decided from the model reader's data flow."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from docgen.classes.resolve import ModuleIndex, Resolver
from docgen.models.reader import ModelReading, read_model
from docgen.sources.locate import SourceSet, SourceSpec, open_source
from docgen.walk.decide import Decider, LayerFacts
from docgen.walk.engine import (
    GradFlow,
    Operand,
    broadcasts,
    is_grad_shaped,
    outer_call,
    read_grad_flows,
    reduced_operands,
    returns_alias,
    schema_tensors,
)
from docgen.walk.setting import Setting
from docgen.walk.upstream import load_shipped_edges
from docgen.walk.walker import open_context, walk_model

NET = '''
import torch
import torch.nn as nn


class Net(nn.Module):
    """x read by conv (first) and `out += x` (last), with an in-place relu between; the
    sum read by the pool (first) and `scale * out` (last); a parameter broadcast."""

    def __init__(self):
        super().__init__()
        self.stem = nn.Conv2d(3, 8, 3, padding=1)
        self.conv = nn.Conv2d(8, 8, 3, padding=1)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = nn.Conv2d(8, 8, 3, padding=1)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Conv2d(8, 8, 1)
        self.offset = nn.Parameter(torch.zeros(1, 8, 1, 1))
        self.head = nn.Linear(8 * 16 * 16, 5)

    def forward(self, x):
        x = self.stem(x)
        out = self.relu(self.conv(x))
        out = self.conv2(out)
        out += x
        scale = torch.sigmoid(self.fc(self.pool(out)))
        y = scale * out + self.offset
        return self.head(torch.flatten(y, 1))
'''


@pytest.fixture(scope="module")
def sources(tmp_path_factory: pytest.TempPathFactory, real_sources: SourceSet) -> SourceSet:
    folder: Path = tmp_path_factory.mktemp("engine")
    (folder / "eng").mkdir()
    (folder / "eng" / "__init__.py").write_text("")
    (folder / "eng" / "net.py").write_text(textwrap.dedent(NET))
    return SourceSet([open_source(SourceSpec("eng", str(folder))), *real_sources.trees])


@pytest.fixture(scope="module")
def reading(sources: SourceSet) -> ModelReading:
    return read_model(Resolver(ModuleIndex(sources)), "eng.net:Net", (2, 3, 16, 16))


def _by_layer(reading: ModelReading) -> dict[str, GradFlow]:
    out: dict[str, GradFlow] = {}
    for index, flow in read_grad_flows(reading).items():
        step = reading.steps[index]
        key = step.target if step.kind == "module" else f"{step.caller}:functional"
        out[key] = out[key].merged(flow) if key in out else flow
    return out


@pytest.mark.wheels
def test_every_reader_but_the_last_accumulates(reading: ModelReading) -> None:
    flows = _by_layer(reading)
    accumulating = {k for k, f in flows.items() if f.accumulations}
    # conv reads x before `out += x`; the pool reads the sum before `scale * out`
    assert accumulating == {"conv", "pool"}
    assert all(len(flows[k].accumulations) == 1 for k in accumulating)
    # the in-place relu returns a new version of conv's output: no second reader of it
    assert not flows.get("relu", GradFlow()).accumulations


@pytest.mark.wheels
def test_operands_of_another_shape_than_the_output(reading: ModelReading) -> None:
    flows = _by_layer(reading)
    root = flows[":functional"].operands
    assert [(o.operator, o.position, o.shape) for o in root] == [
        ("mul", 0, (2, 8, 1, 1)), ("add", 1, (1, 8, 1, 1))]
    head = flows["head"]
    assert [(o.name, o.shape) for o in head.operands] == [("bias", (5,))]
    assert head.returns_output and not flows["conv"].returns_output


def test_grad_shaped_formulas() -> None:
    assert is_grad_shaped("grad")
    assert is_grad_shaped("maybe_multiply(grad, beta.conj())")
    assert is_grad_shaped("mul_tensor_backward(grad, other, self.scalar_type())")
    assert is_grad_shaped("handle_r_to_c(other.scalar_type(), maybe_multiply(-grad, alpha))")
    assert not is_grad_shaped("mm_mat1_backward(grad, mat2, self.sym_sizes(), self.sym_strides())")
    assert not is_grad_shaped("at::sum_to(grad, self.sym_sizes())")
    assert not is_grad_shaped("zeros_like(self)")


def test_broadcasting_and_schema_tensors() -> None:
    assert broadcasts((5,), (2, 5)) and broadcasts((2, 8, 1, 1), (2, 8, 4, 4))
    assert not broadcasts((5, 3), (2, 5)) and not broadcasts((2, 2, 5), (2, 5))
    assert schema_tensors("addmm(Tensor self, Tensor mat1, Tensor mat2, *, Scalar beta=1, "
                          "Scalar alpha=1) -> Tensor") == ["self", "mat1", "mat2"]
    assert schema_tensors("cat(Tensor[] tensors, int dim=0) -> Tensor") == []


def test_reduced_operands_follow_the_formula_of_the_bound_input() -> None:
    mul = (("self", "mul_tensor_backward(grad, other, self.scalar_type())"),
           ("other", "mul_tensor_backward(grad, self, other.scalar_type())"))
    first = Operand("mul", 0, (2, 8, 1, 1), (2, 8, 4, 4), "#0")
    flow = GradFlow((), (first,))
    schema = "mul.Tensor(Tensor self, Tensor other) -> Tensor"
    assert reduced_operands(flow, "aten::mul.Tensor", schema, mul) == [(first, False)]
    expand = (("self", "at::sum_to(grad, self.sym_sizes())"),)
    token = Operand("expand", 0, (1, 1, 8), (2, 1, 8), "#0")
    assert reduced_operands(GradFlow((), (token,)), "aten::expand", "expand(Tensor(a) self, "
                            "SymInt[] size, *, bool implicit=False) -> Tensor(a)",
                            expand) == [(token, True)]
    assert reduced_operands(flow, "aten::add.Tensor", schema, mul) == []  # another step's op
    mm = (("self", "mm_mat1_backward(grad, mat2, self.sym_sizes(), self.sym_strides())"),)
    bias = GradFlow((), (Operand("", None, (5,), (2, 5), "bias"),))
    assert reduced_operands(bias, "aten::mm", "mm(Tensor self, Tensor mat2) -> Tensor",
                            mm) == []


def test_gradient_contiguity_decides_kernel_branches() -> None:
    condition = "is_contiguous_in_any_format(input) && is_contiguous_in_any_format(grad_out_)"
    facts = LayerFacts(Setting())
    assert Decider(facts).decide(condition).value is True
    facts.grad_contiguous = False
    assert Decider(facts).decide(condition).value is False
    assert Decider(facts).decide("grad_output.is_contiguous()").value is False
    assert Decider(facts).decide("input.is_contiguous()").value is True


VIEWS = '''
import torch
import torch.nn as nn


class Views(nn.Module):
    """h read by sigmoid, tanh and (last) a view; g read by sigmoid and (last) neg."""

    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(8, 8)
        self.fc2 = nn.Linear(8, 8)

    def forward(self, x):
        h = self.fc(x)
        a = torch.sigmoid(h)
        b = torch.tanh(h)
        v = h.view(-1)
        g = self.fc2(x)
        c = torch.sigmoid(g)
        d = torch.neg(g)
        return a.sum() + b.sum() + v.sum() + c.sum() + d.sum()
'''


def test_the_outer_call_of_a_formula_and_aliasing_schemas() -> None:
    assert outer_call("grad.reshape_symint(self.sym_sizes())") == "method:reshape"
    assert outer_call("grad.t()") == "method:t"
    assert outer_call("select_backward_symint(grad, self.sym_sizes(), dim, index)") == \
        "select_backward"
    assert outer_call("grad.t() + grad") is None  # not one call
    assert outer_call("maybe_multiply(grad, beta.conj()) * 2") is None
    assert returns_alias("t(Tensor(a) self) -> Tensor(a)")
    assert not returns_alias("add_.Tensor(Tensor(a!) self, Tensor other) -> Tensor(a!)")
    assert not returns_alias("select_backward(Tensor grad_output, SymInt[] input_sizes, "
                             "int dim, SymInt index) -> Tensor")


@pytest.mark.wheels
def test_a_stored_view_gradient_is_accumulated_out_of_place(
        tmp_path: Path, real_sources: SourceSet) -> None:
    """input_buffer.cpp `can_accumulate_inplace`: the gradient ViewBackward0 stores is
    `grad.reshape(...)`, a view sharing its storage, so the first accumulation into it is
    `add` and the next (into the sum it made) `add_`; neg's gradient is fresh: `add_`."""
    (tmp_path / "views").mkdir()
    (tmp_path / "views" / "__init__.py").write_text("")
    (tmp_path / "views" / "net.py").write_text(VIEWS)
    sources = SourceSet([open_source(SourceSpec("views", str(tmp_path))),
                         *real_sources.trees])
    reading = read_model(Resolver(ModuleIndex(sources)), "views.net:Views", (4, 8),
                         training=True, grad=True)
    flow = _by_layer(reading)[":functional"]
    assert [(s.operator, s.position) if s else None for _, s in flow.accumulated()] == [
        ("view", 0), None, ("neg", 0)]
    ctx = open_context(sources, load_shipped_edges(), ("CPU",))
    report = walk_model(ctx, "views.net:Views", setting=Setting(input_shape=(4, 8)))
    taken = {w.path: w.taken for w in report.layers}[":functional"]
    assert taken.backward.count("aten::add.Tensor") == 1
    assert taken.backward.count("aten::add_.Tensor") == 2
    assert any("out of place" in line[1] and "grad.reshape_symint" in line[1]
               for line in taken.backward_lines)


@pytest.mark.wheels
def test_walk_adds_the_engine_work_to_the_layers_backward(sources: SourceSet) -> None:
    ctx = open_context(sources, load_shipped_edges(), ("CPU",))
    report = walk_model(ctx, "eng.net:Net", setting=Setting(input_shape=(2, 3, 16, 16)))
    taken = {w.path: w.taken for w in report.layers}
    assert "aten::add_.Tensor" in taken["conv"].backward
    assert "aten::add_.Tensor" in taken["pool"].backward
    assert "aten::add_.Tensor" not in taken["conv2"].backward
    assert "aten::sum.dim_IntList" in taken["head"].backward
    assert taken[":functional"].backward.count("aten::sum.dim_IntList") == 2
    assert any("autograd engine" in line[1] for line in taken["head"].backward_lines)
    no_grad = walk_model(ctx, "eng.net:Net", setting=Setting(input_shape=(2, 3, 16, 16),
                                                             grad=False))
    assert all(not w.taken.backward for w in no_grad.layers)


def test_cpp_operators_on_tensors_are_calls_of_their_aten_operators() -> None:
    from docgen.walk.upstream import expression_operators, scan_source

    source = """
namespace at::native {
Tensor helper(const Tensor& t) { return t; }
Tensor k(const Tensor& grad, const T& other, int64_t n, c10::SymInt numel) {
  int64_t m = n * 3 - 1;
  auto scaled = numel * 2;
  auto out = grad * other.conj();
  Tensor acc = at::zeros({m});
  acc += out;
  return helper(acc) / std::move(scaled);
}
}
"""
    found = [(e.callee, e.location.line) for e in scan_source(source, "k.cpp", "c")
             if e.callee in ("mul", "div", "add_", "sub")]
    assert found == [("mul", 7), ("add_", 9), ("div", 10)]
    # derivatives.yaml formulas: grad, result and the schema's tensors are Tensors
    assert [op for op, _ in expression_operators(
        "grad.expand_symint(self.sym_sizes()) / self.sym_numel()", {"grad", "self"})] == ["div"]
    assert expression_operators("self.sym_numel() - 1", {"grad"}) == []
    # a Tensor's rank, sizes or element count is no Tensor, whatever its object
    assert expression_operators("input.ndimension() - 1", {"input"}) == []
    assert expression_operators("tensor1.sizes().slice(0, 2) - 1", {"tensor1"}) == []
    assert expression_operators("self.sym_numel() / result.sym_numel()",
                                {"self", "result"}) == []
    assert [op for op, _ in expression_operators(
        "grad.expand_symint(self.sym_sizes()) / self.sym_numel()", {"grad", "self"})] == ["div"]


@pytest.mark.wheels
def test_shipped_helpers_multiply_and_divide() -> None:
    edges = load_shipped_edges().edges
    assert any(e.callee == "mul" for e in edges["autograd::mul_tensor_backward"])
    assert any(e.callee == "div" for e in edges["autograd::mean_backward"])


def test_a_call_in_a_condition_runs_when_evaluation_reaches_it() -> None:
    from docgen.walk.upstream import scan_source, short_circuit

    assert short_circuit("a || (b && f(") == ["!(a)", "b"]
    assert short_circuit("x(p, q && ") == ["q"]
    assert short_circuit("a && b || ") == ["!(a && b)"]
    source = """
namespace at::native {
Tensor k(const Tensor& input, bool flag) {
  if (flag && at::_nnpack_available()) {
    return at::relu(input);
  } else if (at::cudnn_is_acceptable(input) || input.dim() == 3) {
    return at::tanh(input);
  }
  return input;
}
}
"""
    found = {e.callee: e.condition for e in scan_source(source, "k.cpp", "c")}
    assert found["_nnpack_available"] == "flag"
    assert found["cudnn_is_acceptable"] == "!(flag && at::_nnpack_available())"
    assert found["method:dim"].startswith("!(at::cudnn_is_acceptable(input))")


def test_a_template_called_with_types_only_is_the_template() -> None:
    from docgen.walk.upstream import scan_source

    source = """
namespace at::native {
template <typename scalar_t, typename param_t>
Tensor backward_template(const Tensor& grad_out_) {
  return at::sum(grad_out_);
}
Tensor backward_cpu(const Tensor& grad_out) {
  return AT_DISPATCH_FLOATING_TYPES(grad_out.scalar_type(), "b", [&] {
    return backward_template<scalar_t, opmath_t>(grad_out);
  });
}
template <bool inplace>
Tensor multiply(const Tensor& a) { return a.mul(a); }
template <bool inplace>
Tensor drop(const Tensor& a) { return multiply<inplace>(a); }
}
"""
    calls = {(e.caller, e.callee) for e in scan_source(source, "b.cpp", "c")}
    # the template itself, or its specialisation for the lambda's types, whose edges are the
    # template's: either way the body's `sum` is reached
    reached = [c.removeprefix("call:") for a, c in calls
               if a == "backward_cpu" and c.startswith("call:backward_template")]
    assert reached and all((name, "sum") in calls for name in reached)
    # a template argument of the caller is bound where the caller is specialised
    assert ("drop", "call:multiply<inplace>") in calls


def test_an_argument_of_a_composite_call_is_bound_like_a_parameter() -> None:
    """F.linear's bias reaches addmm's `self` (or add_'s `other`) inside linear's kernel: the
    engine reduces it after the recorded operator's formula, as for nn.Linear's bias."""
    addmm = (("self", "maybe_multiply(grad, beta.conj())"),
             ("mat1", "mm_mat1_backward(grad, mat2, self.sym_sizes(), self.sym_strides())"))
    schema = "addmm(Tensor self, Tensor mat1, Tensor mat2, *, Scalar beta=1) -> Tensor"
    bias = Operand("linear", 2, (96,), (5, 2, 96), "#2")
    flow = GradFlow((), (bias,))
    assert reduced_operands(flow, "aten::addmm", schema, addmm, "aten::linear") == [
        (bias, False)]
    assert reduced_operands(flow, "aten::addmm", schema, addmm) == []  # not reached by it
    # another call's operand is not this node's
    assert reduced_operands(flow, "aten::addmm", schema, addmm, "aten::conv2d") == []


ATTENTION = '''
from torch import nn


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.m = nn.MultiheadAttention(32, 4, batch_first=True)

    def forward(self, x):
        return self.m(x, x, x, need_weights=False)
'''


@pytest.mark.wheels
def test_the_calls_inside_a_library_function_are_the_readers(
        tmp_path: Path, real_sources: SourceSet) -> None:
    """F.multi_head_attention_forward: the packed projection is read by three `proj[i]`
    (two accumulations), and the biases of its two `linear` calls are broadcast."""
    (tmp_path / "att").mkdir()
    (tmp_path / "att" / "__init__.py").write_text("")
    (tmp_path / "att" / "net.py").write_text(ATTENTION)
    sources = SourceSet([open_source(SourceSpec("att", str(tmp_path))), *real_sources.trees])
    reading = read_model(Resolver(ModuleIndex(sources)), "att.net:Net", (2, 5, 32),
                         training=True, grad=True)
    flow = _by_layer(reading)["m:functional"]
    assert len(flow.accumulations) == 2
    assert all("`operator.getitem` in the forward of m" in why for why in flow.accumulations)
    assert sorted((o.operator, o.position, o.shape) for o in flow.operands
                  if o.operator == "linear") == [("linear", 2, (32,)), ("linear", 2, (96,))]


MASKED = '''
import torch.nn as nn


class Masked(nn.Module):
    """An attention-style mask made from the input by a factory, compared and filled: none
    of it requires grad; `scores + mask` does (it reads the linear layer's output)."""

    def __init__(self):
        super().__init__()
        self.proj = nn.Linear(6, 6)

    def forward(self, x):
        scores = self.proj(x)
        mask = x.new_zeros((4, 6))
        mask = mask.masked_fill(mask != 0, -100.0)
        return scores + mask
'''


@pytest.mark.wheels
def test_a_mask_made_by_a_factory_and_a_comparison_requires_no_grad(
        tmp_path: Path, real_sources: SourceSet) -> None:
    from docgen.walk.engine import grad_values
    from docgen.walk.taken import UTILITY_OPERATORS

    (tmp_path / "msk").mkdir()
    (tmp_path / "msk" / "__init__.py").write_text("")
    (tmp_path / "msk" / "net.py").write_text(textwrap.dedent(MASKED))
    sources = SourceSet([open_source(SourceSpec("msk", str(tmp_path))), *real_sources.trees])
    reading = read_model(Resolver(ModuleIndex(sources)), "msk.net:Masked", (2, 4, 6))
    steps = {s.target: s for s in reading.steps if s.caller == ""}
    # `mask != 0` is the element-wise aten::ne on a tensor, not a Python bool
    assert steps["operator.ne"].input_shapes == ((4, 6),)
    needs = grad_values(reading)
    assert not set(steps["torch.Tensor.masked_fill"].reads) & needs
    assert set(steps["operator.add"].reads) & needs
    ctx = open_context(sources, load_shipped_edges(), ("CPU",))
    walk = next(w for w in walk_model(ctx, "msk.net:Masked", setting=Setting(
        "CPU", input_shape=(2, 4, 6))).layers if w.path == ":functional")
    forward = {n.removeprefix("aten::").split(".")[0] for n in walk.taken.forward}
    assert {"ne", "masked_fill", "add"} <= forward - UTILITY_OPERATORS
    backward = {n.removeprefix("aten::").split(".")[0] for n in walk.taken.backward}
    # AddBackward0 only: no MaskedFillBackward0 for the mask
    assert "masked_fill" not in backward


VIEW_KINDS = '''
import torch
import torch.nn as nn


class Kinds(nn.Module):
    """h and g read by two `cat`s (the last one's CatBackward0 stores `narrow` views); p read
    by sigmoid and (last) `permute`; t read by tanh and (last) `t + u`, whose AddBackward0
    passes on the gradient `v.permute` returns; k read by tanh and (last) `k + u`, whose
    sum two readers use (the engine's own sum: fresh); m read by sigmoid and tanh."""

    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(8, 8)
        self.fc2 = nn.Linear(8, 8)
        self.fc3 = nn.Linear(8, 8)
        self.fc4 = nn.Linear(8, 8)
        self.fc5 = nn.Linear(8, 8)

    def forward(self, x):
        h = self.fc(x)
        g = self.fc2(x)
        first = torch.cat([h, g], 1)
        second = torch.cat([h, g], 1)
        p = self.fc3(x)
        a = torch.sigmoid(p)
        b = p.permute(1, 0)
        t = self.fc4(x)
        c = torch.tanh(t)
        v = t + x
        w = v.permute(1, 0)
        k = self.fc5(x)
        d = torch.tanh(k)
        m = k + x
        n = torch.sigmoid(m) + torch.tanh(m)
        return (first.sum() + second.sum() + a.sum() + b.sum() + c.sum() + w.sum()
                + d.sum() + n.sum())
'''


@pytest.mark.wheels
def test_what_a_formula_returns_decides_add_or_add_(
        tmp_path: Path, real_sources: SourceSet) -> None:
    """A stored gradient that is a view is added to out of place: CatBackward0's
    `cat_tensors_backward` returns `grad.narrow(...)` pieces, PermuteBackward0's
    `permute_backwards` `grad.permute(...)` (FunctionsManual.cpp helpers whose only
    Tensor-making calls are aliasing ones); AddBackward0 passes its own gradient on, so
    what it stores is what the reader of its output returned (a view of `v.permute`'s; a
    fresh sum where two read it)."""
    (tmp_path / "kinds").mkdir()
    (tmp_path / "kinds" / "__init__.py").write_text("")
    (tmp_path / "kinds" / "net.py").write_text(VIEW_KINDS)
    sources = SourceSet([open_source(SourceSpec("kinds", str(tmp_path))),
                         *real_sources.trees])
    ctx = open_context(sources, load_shipped_edges(), ("CPU",))
    report = walk_model(ctx, "kinds.net:Kinds", setting=Setting(input_shape=(4, 8)))
    taken = {w.path: w.taken for w in report.layers}[":functional"]
    lines = [line[1] for line in taken.backward_lines if "autograd engine" in line[1]]
    out_of_place = [line for line in lines if "out of place" in line]
    # h and g (narrow), p (permute), t (the permute behind t + x); not k
    assert len(out_of_place) == 4, lines
    assert sum("cat_tensors_backward" in line and "aten::narrow" in line
               for line in out_of_place) == 2
    assert sum("permute_backwards" in line for line in out_of_place) == 2
    assert taken.backward.count("aten::add.Tensor") >= 4
    assert len(lines) == 6  # k's and m's accumulations: in place
    assert taken.backward.count("aten::add_.Tensor") == 2


SKIP = '''
import torch
import torch.nn as nn


class Skip(nn.Module):
    """h read by tanh and (last) an nn.Identity, whose output `permute` reads."""

    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(8, 8)
        self.skip = nn.Identity()

    def forward(self, x):
        h = self.fc(x)
        a = torch.tanh(h)
        s = self.skip(h)
        return a.sum() + s.permute(1, 0).sum()
'''


@pytest.mark.wheels
def test_a_leaf_that_calls_nothing_passes_the_gradient_on(
        tmp_path: Path, real_sources: SourceSet) -> None:
    """nn.Identity records no node: what the buffer of h stores is the gradient its output
    got, `permute_backwards`' view, so tanh's node adds out of place."""
    (tmp_path / "skip").mkdir()
    (tmp_path / "skip" / "__init__.py").write_text("")
    (tmp_path / "skip" / "net.py").write_text(SKIP)
    sources = SourceSet([open_source(SourceSpec("skip", str(tmp_path))),
                         *real_sources.trees])
    reading = read_model(Resolver(ModuleIndex(sources)), "skip.net:Skip", (4, 8),
                         training=True, grad=True)
    stored = [s for _, s in _by_layer(reading)[":functional"].accumulated()]
    assert len(stored) == 1 and stored[0] is not None and stored[0].operator == ""
    assert stored[0].then is not None and stored[0].then.operator == "permute"
    ctx = open_context(sources, load_shipped_edges(), ("CPU",))
    report = walk_model(ctx, "skip.net:Skip", setting=Setting(input_shape=(4, 8)))
    taken = {w.path: w.taken for w in report.layers}[":functional"]
    assert "aten::add.Tensor" in taken.backward
    assert "aten::add_.Tensor" not in taken.backward


@pytest.mark.wheels
def test_an_input_that_requires_grad_is_a_leaf_of_the_data_flow(
        tmp_path: Path, real_sources: SourceSet) -> None:
    """Setting.input_grad (`x.requires_grad_()` before the call): the readers of the input
    accumulate into its buffer, as they do for a value computed from a parameter."""
    (tmp_path / "skip").mkdir()
    (tmp_path / "skip" / "__init__.py").write_text("")
    (tmp_path / "skip" / "net.py").write_text(SKIP)
    sources = SourceSet([open_source(SourceSpec("skip", str(tmp_path))),
                         *real_sources.trees])
    resolver = Resolver(ModuleIndex(sources))
    plain = read_model(resolver, "skip.net:Skip", (4, 8), training=True, grad=True)
    given = read_model(resolver, "skip.net:Skip", (4, 8), training=True, grad=True,
                       input_grad=True)
    assert set(given.grad_leaves) - set(plain.grad_leaves) == {given.steps[0].reads[0]}
    no_grad = read_model(resolver, "skip.net:Skip", (4, 8), grad=False, input_grad=True)
    assert set(no_grad.grad_leaves) == set(plain.grad_leaves)
    ctx = open_context(sources, load_shipped_edges(), ("CPU",))
    off = walk_model(ctx, "skip.net:Skip", setting=Setting(input_shape=(4, 8)))
    on = walk_model(ctx, "skip.net:Skip", setting=Setting(input_shape=(4, 8), input_grad=True))
    assert "aten::add_.Tensor" not in {w.path: w.taken for w in off.layers}["fc"].backward
    # x is read by fc only: one reader, nothing to add; its own gradient is computed
    assert {w.path: w.taken for w in on.layers}["fc"].backward == \
        {w.path: w.taken for w in off.layers}["fc"].backward


BATCHED = '''
import torch
import torch.nn as nn


class Scores(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(8, 8)

    def forward(self, x):
        q = self.fc(x)
        return q @ q.transpose(-2, -1)
'''


@pytest.mark.wheels
def test_a_python_matmul_reaches_the_batched_arm_by_its_operands_ranks(
        tmp_path: Path, real_sources: SourceSet) -> None:
    """`q @ k^T` on 4-D tensors: matmul's kernel parameters `tensor1`/`tensor2` are the
    schema's `self`/`other`, so _matmul_impl's rank tests are decided (LinearAlgebra.cpp):
    neither 2-D nor folded, `bmm`."""
    (tmp_path / "scores").mkdir()
    (tmp_path / "scores" / "__init__.py").write_text("")
    (tmp_path / "scores" / "net.py").write_text(BATCHED)
    sources = SourceSet([open_source(SourceSpec("scores", str(tmp_path))),
                         *real_sources.trees])
    ctx = open_context(sources, load_shipped_edges(), ("CPU",))
    report = walk_model(ctx, "scores.net:Scores", setting=Setting(input_shape=(2, 3, 5, 8)))
    taken = {w.path: w.taken for w in report.layers}[":functional"]
    assert "aten::bmm" in taken.forward and "aten::mm" not in taken.forward
    assert "aten::bmm" in taken.backward


READ_BY_FACTORY = '''
import torch
import torch.nn as nn


class Masked(nn.Module):
    """h read by tanh and by `new_zeros` and `==` (a factory and a comparison: no node)."""

    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(8, 8)

    def forward(self, x):
        h = self.fc(x)
        a = torch.tanh(h)
        mask = h.new_zeros((4, 8))
        same = h == a
        return a.sum() + mask.sum() + same.sum()
'''


@pytest.mark.wheels
def test_a_factory_or_a_comparison_reading_a_value_adds_no_gradient(
        tmp_path: Path, real_sources: SourceSet) -> None:
    (tmp_path / "masked").mkdir()
    (tmp_path / "masked" / "__init__.py").write_text("")
    (tmp_path / "masked" / "net.py").write_text(READ_BY_FACTORY)
    sources = SourceSet([open_source(SourceSpec("masked", str(tmp_path))),
                         *real_sources.trees])
    reading = read_model(Resolver(ModuleIndex(sources)), "masked.net:Masked", (4, 8),
                         training=True, grad=True)
    assert not any(f.accumulations for f in _by_layer(reading).values())
