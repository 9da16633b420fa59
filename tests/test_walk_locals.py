"""C++ local definitions and call arguments: conditions written on locals are decided from
what the locals were computed from (batchify's dim_count_batch, compute_columns2d's
kernel_height), and conditions are shown without redundant parentheses."""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path

import pytest

from docgen.sources.locate import SourceSet
from docgen.walk.decide import Decider, LayerFacts
from docgen.walk.inputs import TensorAttr
from docgen.walk.locals import (
    LocalsSet,
    ScopeTracker,
    load_shipped_locals,
    rewrite,
    scan_locals,
    scan_locals_tree,
    schema_defaults,
    tidy_condition,
)
from docgen.walk.setting import Setting
from docgen.walk.upstream import load_shipped_edges
from docgen.walk.walker import open_context, walk_model

ALEXNET = "torchvision.models.alexnet:AlexNet"
SOURCE = """namespace at::native {
static std::tuple<Tensor, bool> batchify(
    const Tensor& input,
    const int64_t num_spatial_dims,
    const std::string& func_name) {
  const auto dim_count_no_batch = num_spatial_dims + 1;
  const auto dim_count_batch = dim_count_no_batch + 1;
  const auto is_batched = (input.dim() == dim_count_batch);
  int64_t twice = 1;
  int64_t twice = 2;
  return std::make_tuple(is_batched ? input : input.unsqueeze(0), is_batched);
}

Tensor conv2d_like(const Tensor& input_, IntArrayRef kernel_size) {
  auto [input, is_batched] = batchify(input_, /*num_spatial_dims=*/ 2, "conv2d");
  return input;
}

Tensor conv1d_like(const Tensor& input_) {
  auto [input, is_batched] = batchify(input_, 1, "conv1d");
  return input;
}
}
"""
PATH = "aten/src/ATen/native/Conv.cpp"


def _scopes() -> LocalsSet:
    out = LocalsSet("test")
    for scope in scan_locals(SOURCE, PATH):
        out.add(scope)
    return out


def test_scanner_reads_params_locals_and_call_arguments() -> None:
    scope = _scopes().find("batchify")
    assert scope is not None
    assert scope.params == ("input", "num_spatial_dims", "func_name")
    assert ("dim_count_batch", "dim_count_no_batch + 1", 7) in scope.locals
    assert "twice" not in {name for name, _, _ in scope.locals}  # defined twice: left out
    caller = _scopes().find("conv2d_like")
    assert caller is not None
    # the blanked string literal keeps its position: three arguments for three parameters
    assert caller.calls == (("batchify", 15, ("input_", "2", "")),)


@pytest.mark.parametrize(("caller", "line", "rank", "unsqueezed"), [
    ("conv2d_like", 15, 4, False),  # batched 4-D input to conv2d: no unsqueeze
    ("conv2d_like", 15, 3, True),  # unbatched 3-D input: unsqueeze(0)
    ("conv1d_like", 20, 3, False),  # the same body called by conv1d with 1 spatial dim
])
def test_a_condition_on_locals_is_decided_through_the_callers_argument(
        caller: str, line: int, rank: int, unsqueezed: bool) -> None:
    tracker = ScopeTracker(_scopes())
    tracker.enter("batchify", caller, PATH, line)
    condition = tracker.rewrite("!(((input.dim() == dim_count_batch)))", "batchify", PATH, 11)
    assert "dim_count_batch" not in condition
    facts = LayerFacts(Setting("CPU"), {}, (1,) * rank)
    assert Decider(facts).decide(condition).value is unsqueezed


def test_locals_defined_below_the_condition_are_not_used() -> None:
    scope = _scopes().find("batchify")
    assert rewrite("dim_count_batch == 4", scope, 6) == "dim_count_batch == 4"
    assert rewrite("dim_count_batch == 4", scope, 9) == \
        "((num_spatial_dims + 1) + 1) == 4"


def test_an_unbound_local_stays_undecided_and_named() -> None:
    scope = _scopes().find("batchify")
    condition = rewrite("!(is_batched)", scope, 11)  # no caller: the parameter is unknown
    decision = Decider(LayerFacts(Setting("CPU"), {}, (1, 3, 8, 8))).decide(condition)
    assert decision.value is None and decision.depends_on == ("num_spatial_dims",)


@pytest.mark.parametrize(("text", "tidy"), [
    ("!(((input.dim() == dim_count_batch))) && !(input.is_nested())",
     "!(input.dim() == dim_count_batch) && !input.is_nested()"),
    ("(a && b)", "a && b"),
    ("((a == b)) && c", "(a == b) && c"),
    ("f((x))", "f(x)"),
    ("at::isComplexType(input_.scalar_type())", "at::isComplexType(input_.scalar_type())"),
    ("a && (b || c)", "a && (b || c)"),
    ("(int64_t)x == 1", "(int64_t)x == 1"),
    ("unbalanced (", "unbalanced ("),
])
def test_tidy_condition(text: str, tidy: str) -> None:
    assert tidy_condition(text) == tidy


def test_scan_locals_tree_reads_a_source_folder(tmp_path: Path) -> None:
    target = tmp_path / "aten/src/ATen/native/Conv.cpp"
    target.parent.mkdir(parents=True)
    target.write_text(SOURCE, encoding="utf-8")
    found = scan_locals_tree(tmp_path)
    assert found.find("batchify") is not None and "1 files" in found.origin


def test_shipped_locals_were_read_from_the_texts_of_the_shipped_edges() -> None:
    data = json.loads(resources.files("docgen.data").joinpath("upstream_edges.json")
                      .read_text(encoding="utf-8"))
    meta = json.loads(resources.files("docgen.data").joinpath("upstream_locals.json")
                      .read_text(encoding="utf-8"))
    edges = load_shipped_edges()
    scopes = load_shipped_locals()
    assert meta["files"]
    for path, info in meta["files"].items():
        assert data["files"][path]["commit"] == info["commit"]
        assert data["files"][path]["repo"] == info["repo"]
    # every recorded call of a helper sits on a line where the edges saw that call
    checked = 0
    for found in scopes.scopes.values():
        for scope in found:
            for callee, line, _ in scope.calls:
                lines = {e.location.line for e in edges.edges.get(scope.name, ())
                         if e.callee == f"call:{callee}"}
                if lines:
                    checked += 1
                    assert line in lines, (scope.name, callee, line)
    assert checked >= 3


@pytest.fixture(scope="module")
def ctx(real_sources: SourceSet):  # type: ignore[no-untyped-def]
    return open_context(real_sources, load_shipped_edges(), ("CPU", "CUDA"))


@pytest.mark.wheels
@pytest.mark.parametrize("setting", [Setting("CUDA"), Setting("CUDA", cudnn=False),
                                     Setting("CPU"), Setting("CPU", mkldnn=False)])
def test_conv_layers_leave_no_local_undecided(ctx, setting: Setting) -> None:  # type: ignore[no-untyped-def]
    report = walk_model(ctx, ALEXNET, layer="features.0", setting=setting)
    taken = report.layers[0].taken
    texts = " ".join(f"{u.condition} {u.depends_on}" for u in taken.undecided)
    for local in ("dim_count_batch", "kernel_height", "stride_width", "is_channels_last"):
        assert local not in texts
    assert "aten::unsqueeze" not in taken.forward
    for u in taken.undecided:
        assert "(((" not in u.condition


@pytest.mark.wheels
def test_slow_conv_columns_are_decided_from_the_kernel_size(ctx) -> None:  # type: ignore[no-untyped-def]
    report = walk_model(ctx, ALEXNET, layer="features.0", setting=Setting("CPU", mkldnn=False))
    taken = report.layers[0].taken
    decided = {e.key: e for e in taken.edges}
    columns = [e for e in decided.values() if e.operator == "aten::empty.memory_format"
               and "kernel_size" in e.reason]
    assert columns and all(e.decision == "taken" for e in columns)  # an 11x11 kernel
    views = [e for e in decided.values() if e.operator == "aten::detach"]
    assert views and all(e.decision == "not_taken" for e in views)


def test_a_value_set_again_above_the_condition_is_not_substituted() -> None:
    source = """namespace at::native {
Tensor transpose(const Tensor& self, int64_t dim0, int64_t dim1) {
  auto ndims = self.dim();
  dim0 = maybe_wrap_dim(dim0, ndims);
  int64_t n = 3;
  n /= 2;
  if (dim0 == dim1) { return self.alias(); }
  return self;
}
}"""
    scope = scan_locals(source, PATH)[0]
    assert scope.assigned == (("dim0", 4), ("n", 6))
    bound = {"dim0": "0", "dim1": "1"}
    assert rewrite("dim0 == dim1 && n == 3", scope, 7, bound) == "dim0 == 1 && n == 3"
    assert rewrite("dim0 == dim1 && n == 3", scope, 4, bound) == "0 == 1 && n == 3"


def test_a_helper_parameter_bound_to_a_callers_name_is_that_object() -> None:
    # subtensor(input, 1, groups, g): `tensor.defined()` in its body is `input.defined()`;
    # an object bound to an expression is that expression
    from docgen.walk.locals import FunctionScope, rewrite

    scope = FunctionScope("subtensor", "c.cpp", ("tensor", "dim"), (), (), ())
    assert rewrite("!tensor.defined()", scope, 10, {"tensor": "input", "dim": "1"}) \
        == "!input.defined()"
    assert rewrite("tensor.defined()", scope, 10, {"tensor": "a.b()"}) == "a.b().defined()"


# A kernel calling an operator whose kernel folds by ranks (the shape of Linear.cpp's
# `at::matmul(input, weight.t())` and LinearAlgebra.cpp's matmul / should_fold): written for
# these tests, not copied.
FOLD = """namespace at::native {
static bool can_fold(const Tensor& a, const Tensor& b, bool has_out) {
  const auto a_larger = a.dim() >= b.dim();
  const auto big = a_larger ? MaybeOwned<Tensor>::borrowed(a) : MaybeOwned<Tensor>::owned(b.mT());
  if (!(big->dim() >= 3)) {
    return false;
  }
  if (b.requires_grad() && !has_out) {
    return true;
  }
  return false;
}
static Tensor prod_impl(Tensor& out, const Tensor& a, const Tensor& b) {
  const auto rank_a = a.dim();
  const bool has_out = out.defined();
  if (rank_a == 2) {
    return a.mm(b);
  } else if (can_fold(a, b, has_out)) {
    return at::_unsafe_view(a.reshape({-1, a.size(-1)}).mm(b), {1});
  }
  return a.bmm(b);
}
Tensor prod(const Tensor & a, const Tensor & b) {
  at::Tensor result, unused;
  result = at::native::prod_impl(unused, a, b);
  return result;
}
Tensor caller(const Tensor& input, const Tensor& weight) {
  auto output = at::prod(input, weight.t());
  return output;
}
}
"""


def test_declared_tensors_returns_and_operator_calls_are_read() -> None:
    scopes = {s.name: s for s in scan_locals(FOLD, "x/Fold.cpp")}
    assert ("unused", "Tensor()", 24) in scopes["prod"].locals
    assert ("prod_impl", 25, ("unused", "a", "b")) in scopes["prod"].calls  # at::native::
    assert ("prod", 29, ("input", "weight.t()")) in scopes["caller"].calls  # at::prod(
    values = [(v, line) for v, line, _ in scopes["can_fold"].returns]
    assert values == [("false", 6), ("true", 9), ("false", 11)]
    assert scopes["can_fold"].returns[1][2].startswith("b.requires_grad() && !has_out")
    assert not scopes["prod_impl"].returns  # returns a Tensor, not a predicate


def test_an_operator_kernel_gets_its_callers_arguments_and_predicates_expand() -> None:
    found = LocalsSet()
    for scope in scan_locals(FOLD, "x/Fold.cpp"):
        found.add(scope)
    tracker = ScopeTracker(found)
    tracker.enter_kernel("prod", "prod", "caller", "x/Fold.cpp", 29)
    assert tracker.bound["prod"] == {"a": "input", "b": "weight.t()"}
    tracker.enter("prod_impl", "prod", "x/Fold.cpp", 25)
    assert tracker.bound["prod_impl"]["out"] == "Tensor()"
    text = tracker.rewrite("can_fold(a, b, has_out) && !(rank_a == 2)", "prod_impl",
                           "x/Fold.cpp", 18)
    assert "can_fold" not in text and "input.dim() == 2" in text
    facts = LayerFacts(Setting(), {"input": TensorAttr((5, 2, 32), False),
                                   "weight": TensorAttr((96, 32), False)}, (5, 2, 32))
    assert Decider(facts).decide(text).value is True  # 3-D input, a weight needing grad
    facts.setting = Setting(grad=False)
    assert Decider(facts).decide(text).value is False
    two_d = LayerFacts(Setting(), {"input": TensorAttr((10, 32), False),
                                   "weight": TensorAttr((96, 32), False)}, (10, 32))
    assert Decider(two_d).decide(text).value is False


def test_an_operator_python_called_binds_its_kernel_to_the_schema_names() -> None:
    """`q @ k` reaches the kernel `prod(a, b)` with the operator's arguments in schema
    order: `a` is `self`, `b` `other`, which the layer's facts describe."""
    found = LocalsSet()
    for scope in scan_locals(FOLD, "x/Fold.cpp"):
        found.add(scope)
    tracker = ScopeTracker(found)
    tracker.enter_operator_kernel("prod", "prod(Tensor self, Tensor other) -> Tensor")
    assert tracker.bound["prod"] == {"a": "self", "b": "other"}
    tracker.enter("prod_impl", "prod", "x/Fold.cpp", 25)
    text = tracker.rewrite("rank_a == 2", "prod_impl", "x/Fold.cpp", 21)
    assert text == "self.dim() == 2"
    four_d = LayerFacts(Setting(), {"self": TensorAttr((2, 3, 5, 8), False),
                                    "other": TensorAttr((2, 3, 8, 5), False)}, (2, 3, 5, 8))
    assert Decider(four_d).decide(text).value is False
    two_d = LayerFacts(Setting(), {"self": TensorAttr((5, 8), False),
                                   "other": TensorAttr((8, 5), False)}, (5, 8))
    assert Decider(two_d).decide(text).value is True
    # a schema whose names do not match the kernel's count binds nothing (and forgets an
    # earlier binding: the kernel was reached another way)
    tracker.enter_operator_kernel("prod", "prod(Tensor self) -> Tensor")
    assert "prod" not in tracker.bound


def test_decider_reads_ternaries_ranks_and_undefined_tensors() -> None:
    facts = LayerFacts(Setting(), {"weight": TensorAttr((96, 32), False)}, (5, 2, 32))
    decider = Decider(facts)
    assert decider.decide("Tensor().defined()").value is False
    assert decider.decide("weight.t().dim() == 2").value is True
    assert decider.decide("(input.dim() > weight.dim() ? MaybeOwned<Tensor>::borrowed(input)"
                          " : MaybeOwned<Tensor>::owned(weight.mT()))->dim() == 3").value
    assert decider.decide("input.dim() == 2 ? weight.dim() == 2 : input.dim() == 4"
                          ).value is False


RECURRENT = """namespace at::native {
template<typename hidden_type>
std::tuple<Tensor, Tensor> impl(const Tensor& input, const hidden_type& hidden,
                                TensorList params) {
  auto [hx, cx] = unpack_hidden(hidden);
  return rnn(input, params, hx, cx);
}
std::tuple<Tensor, Tensor> rnn(const Tensor& input_, TensorList weight, const Tensor& hx_,
                               const Tensor& cx_) {
  auto hx = hx_.contiguous();
  auto input = input_;
  input = input.transpose(0, 1);
  for (const auto layer : c10::irange(2)) {
    auto layer_hx = hx[layer];
    auto layer_w = weight[layer];
    auto step = at::mul(input, layer_hx);
  }
}
void entry(const Tensor& input, TensorList hx, TensorList params) {
  auto result = impl(input, std::make_tuple(hx[0], hx[1]), params);
}
}
"""
RPATH = "aten/src/ATen/native/mkldnn/R.cpp"


def _line(text: str, needle: str) -> int:
    return next(i for i, line in enumerate(text.splitlines(), 1) if needle in line)


def test_the_roots_of_a_tensor_follow_locals_unpacking_and_arguments() -> None:
    scopes = LocalsSet()
    for scope in scan_locals(RECURRENT, RPATH):
        scopes.add(scope)
    tracker = ScopeTracker(scopes)
    tracker.enter("impl", "entry", RPATH, _line(RECURRENT, "auto result = impl("))
    tracker.enter("rnn", "impl<hidden_type>", RPATH, _line(RECURRENT, "return rnn("))
    # hx[layer] <- hx_.contiguous() <- impl's `auto [hx, cx] = unpack_hidden(hidden)` <-
    # entry's std::make_tuple(hx[0], hx[1]): a parameter of the function the path began at
    assert tracker.roots("rnn", RPATH, _line(RECURRENT, "layer_hx = hx[layer]")) == {"hx"}
    assert tracker.roots("rnn", RPATH, _line(RECURRENT, "layer_w =")) == {"params"}
    # `input` is set again before the line: its value depends on the path
    assert tracker.roots("rnn", RPATH, _line(RECURRENT, "at::mul(input")) is None
    # no local defined at the line: nothing said
    assert tracker.roots("rnn", RPATH, _line(RECURRENT, "for (const auto layer")) is None


ADDMM = """namespace at::native {
static void impl_(Tensor &result, const Tensor &self, Tensor m1, const Scalar& beta) {
  auto m1_sizes = m1.sizes();
  if (m1_sizes[1] == 0) {
    if (beta.toComplexDouble() == 0.0) {
      result.zero_();
    }
  }
}

TORCH_IMPL_FUNC(addmm_like_out)(const Tensor& self, const Tensor& mat1, const Scalar& beta,
                                const Scalar& alpha, const Tensor& result) {
  auto b_self = expand_size(self, {mat1.sizes()[0]}, "addmm_out");
  impl_(const_cast<Tensor&>(result), *b_self, mat1, beta);
}

Tensor linear_like(const Tensor& input, const Tensor& bias) {
  return at::addmm_like(bias, input);
}
}
"""


def test_a_call_leaving_out_arguments_gives_the_kernel_the_schema_defaults() -> None:
    """`at::addmm(*bias, input, weight.t())` leaves out `beta` and `alpha`: the kernel gets
    the schema's `beta=1`; the structured kernel's `result` stays unbound; a factory's
    schema (TensorOptions packs several arguments in C++) binds nothing that way."""
    assert schema_defaults("addmm(Tensor self, Tensor mat1, Tensor mat2, *, Scalar beta=1, "
                           "Scalar alpha=1) -> Tensor") == {"beta": "1", "alpha": "1"}
    assert schema_defaults("sum.dim_IntList(Tensor self, int[1]? dim, bool keepdim=False, *, "
                           "ScalarType? dtype=None) -> Tensor") == {"keepdim": "false"}
    assert schema_defaults("empty.memory_format(SymInt[] size, *, ScalarType? dtype=None, "
                           "Layout? layout=None, Device? device=None, bool? pin_memory=None, "
                           "MemoryFormat? memory_format=None) -> Tensor") is None
    found = LocalsSet()
    for scope in scan_locals(ADDMM, "x/Addmm.cpp"):
        found.add(scope)
    schema = ("addmm_like(Tensor self, Tensor mat1, *, Scalar beta=1, Scalar alpha=1) "
              "-> Tensor")
    tracker = ScopeTracker(found)
    tracker.enter_kernel("addmm_like_out", "addmm_like", "linear_like", "x/Addmm.cpp", 18,
                         schema)
    assert tracker.bound["addmm_like_out"] == {
        "self": "bias", "mat1": "input", "beta": "1", "alpha": "1"}
    tracker.enter("impl_", "addmm_like_out", "x/Addmm.cpp", 14)
    facts = LayerFacts(Setting(), {}, (2, 9216))
    for condition, value in (("beta.toComplexDouble() == 0.0", False),
                             ("m1_sizes[1] == 0", False),   # input.sizes()[1]: 9216
                             ("!(result.numel() == 0)", True),  # const_cast<Tensor&>(result)
                             ("self.is_same(self)", True)):
        text = tracker.rewrite(condition, "impl_", "x/Addmm.cpp", 5)
        assert Decider(facts).decide(text).value is value, (condition, text)
    # without the schema, a call of fewer arguments than parameters binds nothing
    bare = ScopeTracker(found)
    bare.enter_kernel("addmm_like_out", "addmm_like", "linear_like", "x/Addmm.cpp", 18)
    assert "addmm_like_out" not in bare.bound


def test_casts_and_dereferences_are_the_tensor_itself() -> None:
    decider = Decider(LayerFacts(Setting(), {}, (2, 5)))
    assert decider.decide("(const_cast<Tensor&>(result)).numel() == 0").value is False
    assert decider.decide("(*b_self).is_same((const_cast<Tensor&>(b_self)))").value is True
    assert decider.decide("b_self.is_same(result)").value is None  # which tensor: not known
    assert decider.decide("input.sizes()[1] == 0").value is False
    assert decider.decide("iter.numel() == 0").value is False  # an iterator over the layer
    assert Decider(LayerFacts(Setting(), {}, (0, 5))).decide("iter.numel() == 0").value \
        is None


@pytest.mark.wheels
def test_linear_leaves_only_run_time_conditions_undecided(ctx) -> None:  # type: ignore[no-untyped-def]
    """AlexNet's classifier.1 (29 undecided before): addmm's `beta` (the schema default 1),
    `m1_sizes[1]` (the input's 9216 features) and `result.numel()` are decided."""
    report = walk_model(ctx, ALEXNET, layer="classifier.1", setting=Setting("CPU"))
    undecided = report.layers[0].taken.undecided
    texts = " ".join(f"{u.condition} {u.depends_on}" for u in undecided)
    assert len(undecided) <= 11
    assert "beta.toComplexDouble()" not in " ".join(u.depends_on for u in undecided)
    assert "numel()" not in " ".join(u.depends_on for u in undecided if "iter" not in
                                     u.depends_on)
    assert "sizes()[1]" not in texts
