"""The decided walk on the real torch 2.13.0 / torchvision 0.28.0 wheels: one taken path per
layer and setting, its JSON contract, the backend check, and the condition evaluator."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from docgen.cli.main import main
from docgen.sources.locate import SourceSet
from docgen.walk.context import WalkContext
from docgen.walk.decide import Decider, LayerFacts, choose, read_arms
from docgen.walk.records import WalkReport
from docgen.walk.render import walk_to_json
from docgen.walk.setting import Setting
from docgen.walk.upstream import load_shipped_edges
from docgen.walk.walker import open_context, walk_model

ALEXNET = "torchvision.models.alexnet:AlexNet"
CONV = {"in_channels": 3, "out_channels": 64, "kernel_size": (11, 11), "stride": (4, 4),
        "padding": (2, 2), "dilation": (1, 1), "groups": 1, "bias": True, "transposed": False}


def _facts(**setting: object) -> LayerFacts:
    return LayerFacts(Setting(**setting), dict(CONV), (2, 3, 224, 224))  # type: ignore[arg-type]


# ------------------------------------------------------------------ evaluator, no wheels


@pytest.mark.parametrize(("condition", "expected"), [
    ("bias.defined() && !(at::isComplexType(input_.scalar_type()))", True),
    ("input.dim() == 4 && params.groups == 1", True),
    ("!(input.is_mkldnn()) && (input.ndimension() == 5 || params.transposed)", False),
    ("at::symint::size<T>(input, 1) == groups", False),
    ("input.scalar_type() == at::kFloat", True),
    ("weight.layout() == c10::kStrided", True),
    ("k == 3 && !input.is_mkldnn()", False),
    ("cudnn_enabled", True),
    ("bias->defined() && (bias->dim() == 1 || bias->squeeze().dim() == 1)", True),
])
def test_conditions_decided_from_the_layer_and_setting(condition: str, expected: bool) -> None:
    assert Decider(_facts()).decide(condition).value is expected


def test_unknown_atoms_leave_the_condition_undecided_with_what_it_depends_on() -> None:
    decision = Decider(_facts()).decide("input.dim() == 4 && stride.has_value_or(x)")
    assert decision.value is None and decision.depends_on == ("stride.has_value_or(x)",)
    # a false conjunct decides even beside an unknown one
    assert Decider(_facts()).decide("input.dim() == 5 && mystery()").value is False


def test_use_mkldnn_follows_the_switch_dtype_and_backend() -> None:
    assert _facts().use_mkldnn() is True
    assert _facts(mkldnn=False).use_mkldnn() is False
    assert _facts(dtype="bfloat16").use_mkldnn() is False
    assert _facts(backend="CUDA").use_mkldnn() is False
    assert _facts(backend="CUDA").use_cudnn() is True
    assert _facts(backend="CUDA", cudnn=False).use_cudnn() is False


def test_selector_arms_are_tried_in_source_order() -> None:
    conditions = [
        "case E::Cudnn [chosen in sel:10 when params.use_cudnn(input, weight)]",
        "case E::Mkldnn [chosen in sel:20 when params.use_mkldnn(input, weight)]",
        "case E::Slow [chosen in sel:30 when input.device().is_cpu() || input.is_cuda()]",
    ]
    arms = read_arms(conditions)
    assert [a.line for a in arms] == [10, 20, 30]
    assert choose(arms, _facts())["E"][0] == "Mkldnn"
    assert choose(arms, _facts(mkldnn=False))["E"][0] == "Slow"
    assert choose(arms, _facts(backend="CUDA"))["E"][0] == "Cudnn"
    assert choose(arms, _facts(backend="CUDA", cudnn=False))["E"][0] == "Slow"
    facts = _facts()
    facts.choices = choose(arms, facts)
    assert Decider(facts).decide("bias.defined() && " + conditions[1]).value is True
    assert Decider(facts).decide(conditions[0]).value is False


def test_a_selector_result_held_in_a_variable_is_decided_from_its_arms() -> None:
    from docgen.walk.upstream import scan_source

    text = """
enum class Kind { Gpu, Plain };
Kind pick(const Tensor& input) {
  if (input.is_cuda() && input.dim() == 4) {
    return Kind::Gpu;
  }
  return Kind::Plain;
}
Tensor run(const Tensor& input) {
  Kind kind = pick(input);
  if (kind == Kind::Gpu) {
    return at::gpu_op(input);
  }
  return at::plain_op(input);
}
"""
    edges = {e.callee: e for e in scan_source(text, "x.cpp", "c0ffee")
             if e.caller == "run" and not e.callee.startswith("call:")}
    assert "[chosen in pick:5 when" in edges["gpu_op"].condition
    arms = read_arms(e.condition for e in edges.values())
    # Kind::Plain is compared with nowhere: when no arm read holds, each label read is false
    assert [a.label for a in arms] == ["Kind::Gpu"]
    decided = {}
    for backend in ("CPU", "CUDA"):
        facts = _facts(backend=backend)
        facts.choices = choose(arms, facts)
        decided[backend] = {name: Decider(facts).decide(e.condition).value
                            for name, e in edges.items()}
    assert decided["CPU"] == {"gpu_op": False, "plain_op": True}
    assert decided["CUDA"] == {"gpu_op": True, "plain_op": False}


# ------------------------------------------------------------------ real wheels



@pytest.fixture(scope="module")
def ctx(real_sources: SourceSet) -> WalkContext:
    return open_context(real_sources, load_shipped_edges(), ("CPU", "CUDA"))


def _walk(ctx: WalkContext, **setting: object) -> WalkReport:
    return walk_model(ctx, ALEXNET, setting=Setting(input_shape=(2, 3, 224, 224),
                                                    **setting))  # type: ignore[arg-type]


def _taken(report: WalkReport, path: str):  # type: ignore[no-untyped-def]
    return next(w for w in report.layers if w.path == path).taken


@pytest.mark.wheels
@pytest.mark.parametrize(("setting", "work", "absent"), [
    ({}, "aten::mkldnn_convolution", "aten::thnn_conv2d"),
    ({"mkldnn": False}, "aten::thnn_conv2d", "aten::mkldnn_convolution"),
    ({"backend": "CUDA"}, "aten::cudnn_convolution", "aten::mkldnn_convolution"),
    ({"backend": "CUDA", "cudnn": False}, "aten::thnn_conv2d", "aten::cudnn_convolution"),
])
def test_conv_takes_one_kernel_per_setting(ctx: WalkContext, setting: dict[str, object],
                                           work: str, absent: str) -> None:
    taken = _taken(_walk(ctx, **setting), "features.0")
    assert work in taken.forward and absent not in taken.forward
    assert "aten::_conv_depthwise2d" not in taken.forward
    assert taken.forward[:3] == ("aten::conv2d", "aten::convolution", "aten::_convolution")
    assert "aten::convolution_backward" in taken.backward
    assert taken.recorded == ("aten::convolution",)


@pytest.mark.wheels
def test_cuda_kernels_come_from_the_cuda_bodies(ctx: WalkContext) -> None:
    taken = _taken(_walk(ctx, backend="CUDA", cudnn=False), "features.0")
    kernels = dict(taken.kernels)
    assert kernels["aten::thnn_conv2d"].endswith("(CompositeImplicitAutograd)")
    forward = kernels.get("aten::_slow_conv2d_forward", "")
    assert "cuda" in forward and "cpu" not in forward


@pytest.mark.wheels
def test_dropout_follows_mode_and_template_arguments(ctx: WalkContext) -> None:
    train = _taken(_walk(ctx), "classifier.0")
    assert {"aten::bernoulli_.float", "aten::bernoulli_.Tensor"} & set(train.forward)
    assert any(op.startswith("aten::mul.") for op in train.forward)
    assert not any(op.startswith("aten::mul_") for op in train.forward)  # multiply<false>
    evaluated = _taken(_walk(ctx, mode="eval"), "classifier.0")
    assert not any("bernoulli" in op for op in evaluated.forward)


@pytest.mark.wheels
def test_linear_early_return_is_decided(ctx: WalkContext) -> None:
    taken = _taken(_walk(ctx), "classifier.1")
    assert "aten::addmm" in taken.forward and "aten::matmul" not in taken.forward
    assert "aten::mm" in taken.backward


@pytest.mark.wheels
def test_no_grad_has_no_backward(ctx: WalkContext) -> None:
    taken = _taken(_walk(ctx, grad=False), "features.0")
    assert taken.backward == () and taken.recorded == ()


@pytest.mark.wheels
def test_json_contract(ctx: WalkContext) -> None:
    data = walk_to_json(_walk(ctx, backend="CUDA"))
    assert data["setting"] == {"backend": "CUDA", "dtype": "float32", "cudnn": True,
                               "mkldnn": True, "mode": "train", "grad": True,
                               "input": [2, 3, 224, 224]}
    for layer in data["layers"]:
        assert {"path", "type", "class", "taken", "answer"} <= set(layer)
        assert set(layer["taken"]) >= {"forward", "backward", "kernels", "undecided"}
        for u in layer["taken"]["undecided"]:
            assert set(u) == {"condition", "location", "depends_on"}

        def check(node: dict[str, object]) -> None:
            assert node["decision"] in ("taken", "not_taken", "undecided"), node["name"]
            assert node["reason"]
            for child in node["children"]:  # type: ignore[attr-defined]
                check(child)

        for op in layer["operators"]:
            check(op)
    first = data["layers"][0]
    assert first["answer"].startswith("features.0 · CUDA float32 train, cuDNN on -> ")
    assert "aten::cudnn_convolution" in first["answer"]


@pytest.mark.wheels
@pytest.mark.parametrize("backend", ["cuda", "NONSENSE", "Cpu"])
def test_bad_backend_exits_2_listing_the_valid_ones(real_wheels: dict[str, Path],
                                                    capsys: pytest.CaptureFixture[str],
                                                    backend: str) -> None:
    args = [a for name, path in real_wheels.items() for a in ("--source", f"{name}={path}")]
    assert main(["walk", "--layer", "features.0", "--backend", backend, *args]) == 2
    err = capsys.readouterr().err
    assert "valid: CPU, CUDA, MPS, XPU, PrivateUse1, Meta" in err
    assert "Traceback" not in err


@pytest.mark.wheels
def test_cli_answer_first_and_json(real_wheels: dict[str, Path],
                                   capsys: pytest.CaptureFixture[str]) -> None:
    args = [a for name, path in real_wheels.items() for a in ("--source", f"{name}={path}")]
    assert main(["walk", "--layer", "features.0", "--mkldnn", "off", *args]) == 0
    out = capsys.readouterr().out
    answer = next(line for line in out.splitlines() if line.startswith("features.0 ·"))
    assert "oneDNN off" in answer
    assert main(["walk", "--json", "--layer", "features.0", "--mode", "eval", *args]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["setting"]["mode"] == "eval"
    assert main(["walk", "--mode", "sideways", *args]) == 2


@pytest.mark.wheels
def test_backends_command_checks_its_keys_too(real_wheels: dict[str, Path],
                                              capsys: pytest.CaptureFixture[str]) -> None:
    args = [a for name, path in real_wheels.items() for a in ("--source", f"{name}={path}")]
    assert main(["backends", "--backend", "cuda", *args]) == 2
    assert "case-sensitive" in capsys.readouterr().err


@pytest.mark.wheels
def test_cpp_calls_reach_the_functional_overload_and_out_calls_the_out_one(
        ctx: WalkContext) -> None:
    # convolution_backward calls at::_slow_conv2d_backward(..., output_mask): the overload
    # that writes no argument; its kernel's at::sum_out(grad_bias, ...) is sum's out= overload
    taken = _taken(_walk(ctx, mkldnn=False), "features.0")
    assert "aten::_slow_conv2d_backward.output_mask" in taken.backward
    assert "aten::_slow_conv2d_backward.grad_input" not in taken.backward
    assert any(op.startswith("aten::sum.") and op.endswith("out") for op in taken.backward)


def test_a_call_on_both_arms_of_an_if_else_is_taken_either_way() -> None:
    from docgen.walk.records import OpNode, Reached
    from docgen.walk.taken import merge_complementary

    def edge(condition: str, name: str = "aten::slice.Tensor") -> OpNode:
        return OpNode(name, None, Reached.UPSTREAM, None, condition, (), None, (),
                      read_in="narrow_symint")

    children = (edge("cond1 || cond2"), edge("k > 0 && GUARD(end.sym_ne(0))"),
                edge("k > 0 && !(GUARD(end.sym_ne(0)))"), edge("k > 0 && !(other)"),
                edge("x && y", "aten::mul.Tensor"), edge("x && !y", "aten::add.Tensor"))
    merged = merge_complementary(children)
    assert set(merged) == {1, 2}
    first = merged[1]
    assert not isinstance(first, int) and first.condition == "k > 0" and merged[2] == 1


def test_a_call_on_both_arms_of_an_if_with_a_conjunction_is_taken_either_way() -> None:
    # `if (a && b.c() && d) { r.narrow(...) } else { r.narrow(...) }` under `e`: the if's
    # terms are recorded one by one, the else arm holds their negated conjunction
    from docgen.walk.records import OpNode, Reached
    from docgen.walk.taken import merge_complementary

    def edge(condition: str, name: str = "aten::narrow") -> OpNode:
        return OpNode(name, None, Reached.UPSTREAM, None, condition, (), None, (),
                      read_in="cat_out_cpu")

    children = (edge("a && b.c(m) && d && !(e == 0)"), edge("!(a && b.c(m) && d) && !(e == 0)"),
                edge("a && d && f"), edge("!(a && b.c(m) && d) && f"))
    merged = merge_complementary(children)
    assert set(merged) == {0, 1}
    first = merged[0]
    assert not isinstance(first, int) and first.condition == "!(e == 0)" and merged[1] == 0


def test_a_cpp_call_reaches_the_overload_its_argument_kinds_fit() -> None:
    # `input.mean({-1, -2}, true)` is mean.dim, `x.div_(n)` with an int64_t is div_.Scalar,
    # as C++ overload resolution among the operator's overloads picks them
    from docgen.walk.walker import takes_arguments

    mean = "mean(Tensor self, *, ScalarType? dtype=None) -> Tensor"
    mean_dim = ("mean.dim(Tensor self, int[1]? dim, bool keepdim=False, *, "
                "ScalarType? dtype=None) -> Tensor")
    names_dim = ("mean.names_dim(Tensor self, Dimname[1] dim, bool keepdim=False, *, "
                 "ScalarType? dtype=None) -> Tensor")
    assert [takes_arguments(s, "int[], bool", skip=1) for s in (mean, mean_dim, names_dim)] \
        == [False, True, False]
    div_tensor = "div_.Tensor(Tensor(a!) self, Tensor other) -> Tensor(a!)"
    div_scalar = "div_.Scalar(Tensor(a!) self, Scalar other) -> Tensor(a!)"
    assert not takes_arguments(div_tensor, "int", skip=1)
    assert takes_arguments(div_scalar, "int", skip=1)
    assert takes_arguments(div_tensor, "?", skip=1) and takes_arguments(div_tensor, "")
    # a parameter left over without a default cannot be skipped
    assert not takes_arguments("f(Tensor self, int a, int b) -> Tensor", "int", skip=1)


def test_counts_known_only_by_a_lower_bound_compare_where_they_can() -> None:
    from docgen.walk.decide import AtLeast, _cmp

    threads = AtLeast(2)
    assert _cmp(threads, 1, "==") is False and _cmp(threads, 1, ">") is True
    assert _cmp(threads, 4, "==") is None and _cmp(1, threads, "<") is True
    assert _cmp(AtLeast(1), 1, ">=") is True and _cmp(AtLeast(1), 1, "==") is None


def test_a_functional_calls_result_size_is_what_it_returns() -> None:
    # cat_out_cpu's serial fast path: `result.numel() < GRAIN_SIZE || get_num_threads() == 1`
    # is the size of what cat returns, not of its first input; threads from BUILD_FACTS
    from docgen.walk.decide import Decider, LayerFacts
    from docgen.walk.setting import Setting

    facts = LayerFacts(Setting("CPU"), {}, (2, 1, 768), output_shape=(2, 197, 768))
    test = "result.numel() < at::internal::GRAIN_SIZE || at::get_num_threads() == 1"
    assert Decider(facts).decide(test).value is False
    small = LayerFacts(Setting("CPU"), {}, (2, 1, 768), output_shape=(2, 2, 768))
    assert Decider(small).decide(test).value is True


def test_use_nnpack_is_decided_from_its_definition() -> None:
    # ConvParams::use_nnpack: CPU float32, not dilated or transposed, 4-D, kernel < 17,
    # padding < kernel, and a batch of at least 16
    from docgen.walk.decide import LayerFacts
    from docgen.walk.setting import Setting

    attrs = {"kernel_size": (3, 3), "padding": (1, 1), "stride": (1, 1), "dilation": (1, 1),
             "groups": 1, "in_channels": 3, "out_channels": 8, "transposed": False}
    assert LayerFacts(Setting("CPU"), attrs, (2, 3, 32, 32)).use_nnpack() is False
    assert LayerFacts(Setting("CPU"), attrs, (16, 3, 32, 32)).use_nnpack() is True
    dilated = {**attrs, "dilation": (2, 2)}
    assert LayerFacts(Setting("CPU"), dilated, (16, 3, 32, 32)).use_nnpack() is False
    assert LayerFacts(Setting("CUDA"), attrs, (16, 3, 32, 32)).use_nnpack() is False


def test_mixed_type_is_false_for_a_layer_of_one_dtype() -> None:
    # ATen/native/cpu/mixed_data_type.h: a parameter of another dtype than the input's
    decider = Decider(LayerFacts(Setting(dtype="bfloat16")))
    assert decider.decide("!(is_mixed_type(self, weight, bias))").value is True


def test_a_conditional_value_takes_the_arm_its_test_picks() -> None:
    # mkldnn/RNN.cpp: `auto num_directions = bidirectional ? 2 : 1;` then
    # `num_directions == 1 ? layer_output[0] : at::cat(layer_output, -1)`
    decider = Decider(LayerFacts(Setting(), attrs={"arg:bidirectional": True}))
    assert decider.decide("(bidirectional ? 2 : 1) == 1").value is False
    assert decider.decide("!((bidirectional ? 2 : 1) == 1)").value is True
    assert decider.decide("(unknown_flag ? 2 : 1) == 1").value is None


def test_a_factory_tensor_requires_no_grad() -> None:
    # nn.LSTM's forward: `hx = (torch.zeros(...), torch.zeros(...))` requires no grad
    from docgen.walk.python_route import TensorShape
    from docgen.walk.walker import _needs_no_grad
    assert _needs_no_grad((TensorShape((2, 3, 20)), TensorShape((2, 3, 20))))
    assert not _needs_no_grad((TensorShape((2,)), TensorShape((2,), requires_grad=True)))
    assert not _needs_no_grad(())
    assert not _needs_no_grad(1.5)


def test_a_python_call_reaches_the_overload_its_arguments_fit() -> None:
    """As Python's argument parser does: keyword names, how many positional arguments, the
    required parameters and literal types choose the overload; a Tensor method's receiver is
    `self`, not its first argument."""
    from types import SimpleNamespace

    from docgen.walk.aten import read_native_functions
    from docgen.walk.python_route import BindingUse
    from docgen.walk.records import CallSite, FlowExpr
    from docgen.walk.walker import TENSOR_METHODS, choose_overload

    table = read_native_functions(
        "- func: mean(Tensor self, *, ScalarType? dtype=None) -> Tensor\n"
        "- func: mean.dim(Tensor self, int[1]? dim, bool keepdim=False, *, "
        "ScalarType? dtype=None) -> Tensor\n"
        "- func: add.Tensor(Tensor self, Tensor other, *, Scalar alpha=1) -> Tensor\n"
        "- func: add.Scalar(Tensor self, Scalar other, Scalar alpha=1) -> Tensor\n"
        "- func: view(Tensor(a) self, SymInt[] size) -> Tensor(a)\n")
    ctx = SimpleNamespace(table=table)

    def pick(name: str, args: tuple[str, ...] = (), kwargs: tuple[str, ...] = (),
             namespace: str = TENSOR_METHODS) -> str | None:
        call = CallSite(name, 1, tuple(FlowExpr("const", a) for a in args),
                        tuple((k, FlowExpr("const", "1")) for k in kwargs), ())
        return choose_overload(ctx, BindingUse(name, namespace, call, False))  # type: ignore[arg-type]

    assert pick("mean") == "mean"
    assert pick("mean", kwargs=("dim",)) == "mean.dim"
    assert pick("mean", args=("1",)) == "mean.dim"
    assert pick("mean", kwargs=("dtype",)) == "mean"
    assert pick("mean", args=("x", "1"), namespace="torch._C._VariableFunctions") == "mean.dim"
    assert pick("add", args=("1",)) == "add.Scalar"  # an int never binds a Tensor
    assert pick("view", args=("2", "3")) == "view"  # a list parameter takes several numbers


def test_a_scalar_bound_to_a_number_is_read_through_its_accessors() -> None:
    # addmm_impl_cpu_(result, result, self, mat2, 0, 1) from mm_out_cpu: `beta` is 0
    from docgen.walk.decide import Decider, LayerFacts
    from docgen.walk.setting import Setting

    decider = Decider(LayerFacts(Setting("CPU"), {}, (1, 4)))
    assert decider.decide("0.toComplexDouble() == 0.0").value is True
    assert decider.decide("(1).toDouble() != 0.0").value is True
    assert decider.decide("beta.toComplexDouble() == 0.0").value is None  # beta unknown


def test_a_formulas_conditional_arms_are_edges_under_their_condition() -> None:
    from docgen.walk.taken import formula_arms

    silu = ("GradMode::is_enabled() ? infinitely_differentiable_silu_backward(grad, self) : "
            "silu_backward(grad, self)")
    assert formula_arms(silu) == [
        ("(GradMode::is_enabled())", "infinitely_differentiable_silu_backward(grad, self)"),
        ("!(GradMode::is_enabled())", "silu_backward(grad, self)")]
    nested = "grad.defined() ? (GradMode::is_enabled() ? a(grad) : b(grad)) : c()"
    assert [c for c, _ in formula_arms(nested)] == [
        "(grad.defined()) && (GradMode::is_enabled())",
        "(grad.defined()) && !(GradMode::is_enabled())", "!(grad.defined())"]
    assert formula_arms("mm_mat1_backward(grad, self)") == [("", "mm_mat1_backward(grad, self)")]


def test_grad_mode_is_off_inside_the_engine() -> None:
    forward = LayerFacts(Setting(), {}, (2, 3))
    backward = LayerFacts(Setting(), {}, (2, 3), in_backward=True)
    assert Decider(forward).decide("at::GradMode::is_enabled()").value is True
    assert Decider(backward).decide("GradMode::is_enabled()").value is False
    assert Decider(LayerFacts(Setting(grad=False), {}, (2, 3))).decide(
        "GradMode::is_enabled()").value is False


@pytest.mark.wheels
def test_stochastic_depth_and_silu_in_train(tmp_path: Path) -> None:
    """A leaf calling a library function outside torch (torchvision.ops.stochastic_depth) is
    walked through the calls it made; SiLU's backward takes the formula's no-grad-mode arm.
    The convolution's parameters make what reaches SiLU and StochasticDepth require grad."""
    from docgen.classes.project import open_project_sources
    from docgen.core.config import config_from_options

    (tmp_path / "sd_net.py").write_text(
        "from torch import nn\nfrom torchvision.ops import StochasticDepth\n\n\n"
        "class Net(nn.Module):\n    def __init__(self):\n        super().__init__()\n"
        "        self.conv = nn.Conv2d(4, 4, 1)\n"
        "        self.act = nn.SiLU()\n        self.sd = StochasticDepth(0.2, 'row')\n\n"
        "    def forward(self, x):\n        return self.sd(self.act(self.conv(x)))\n")
    cfg = config_from_options({"model": f"{tmp_path / 'sd_net.py'}:Net",
                               "sources": {"torchvision": "torchvision==0.28.0"},
                               "packages": ["torch.nn", "torchvision.ops", "sd_net"]})
    ctx = open_context(open_project_sources(cfg), load_shipped_edges(), ("CPU",))
    train = walk_model(ctx, cfg.model, setting=Setting(input_shape=(2, 4, 8, 8)))
    act, sd = _taken(train, "act"), _taken(train, "sd")
    assert "aten::silu_backward" in act.backward
    assert not any(op.startswith("aten::sigmoid") for op in act.backward)
    assert {"bernoulli_", "div_", "mul"} <= {op.removeprefix("aten::").split(".")[0]
                                            for op in sd.forward}
    assert any(op.startswith("aten::mul") for op in sd.backward)
    evaluated = walk_model(ctx, cfg.model, setting=Setting(mode="eval", input_shape=(2, 4, 8, 8)))
    assert _taken(evaluated, "sd").forward == ()
