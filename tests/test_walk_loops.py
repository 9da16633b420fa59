"""C++ loops read around kernel calls (upstream.loop_around) and how many times the walk
decides they run (Decider.loop_runs)."""

from docgen.walk.decide import Decider, LayerFacts
from docgen.walk.loops import (
    Frame,
    LoopFlow,
    contiguity,
    enter,
    schema_args,
    sequence_of,
    stated_rank,
    unbound,
)
from docgen.walk.records import OpNode, Reached
from docgen.walk.setting import Setting
from docgen.walk.upstream import edges_from_json, edges_to_json, line_loops, scan_source

SOURCE = """
namespace at { namespace native {
Tensor step(const Tensor& x, const Tensor& w) {
  return at::linear(x, w);
}
std::vector<Tensor> layer(const std::vector<Tensor>& xs, const Tensor& w, Tensor h) {
  std::vector<Tensor> out;
  auto first = at::relu(w);
  for (const auto& x : xs) {
    h = at::tanh(at::linear(x, w) + h);
    out.push_back(h);
  }
  return out;
}
Tensor stack(const Tensor& x, int64_t num_layers, Tensor* it) {
  Tensor y = x;
  for (const auto l : c10::irange(num_layers)) {
    y = at::sigmoid(*(it++));
    if (l > 0) {
      y = at::mul(y, x);
    }
  }
  while (y.dim() > 2) {
    y = at::sum(y, 0);
  }
  return y;
}
}}
"""


def _edges():
    return {(e.callee, e.location.line): e for e in scan_source(SOURCE, "a.cpp", "c", "r")}


def test_calls_in_a_loop_body_name_the_loop_and_what_it_changes() -> None:
    edges = _edges()
    assert edges[("linear", 4)].loop == ""  # in no loop
    assert edges[("relu", 8)].loop == ""  # before the loop
    tanh = edges[("tanh", 10)]
    assert tanh.loop == "for (const auto& x : xs)"
    assert tanh.loop_changes.split(", ") == ["x", "h"]
    # a nested block inside the loop is still in it; the loop variable and stepped names
    mul = edges[("mul", 20)]
    assert mul.loop == "for (const auto l : c10::irange(num_layers))"
    assert set(mul.loop_changes.split(", ")) == {"l", "y", "it"}
    assert edges[("sum", 24)].loop == "while (y.dim() > 2)"


def test_loops_survive_the_edge_file_and_are_read_per_line() -> None:
    from docgen.walk.upstream import EdgeSet
    edges = EdgeSet()
    for e in _edges().values():
        edges.add(e)
    back = edges_from_json(edges_to_json(edges, {}), "")
    loops = {(e.callee, e.loop) for es in back.edges.values() for e in es if e.loop}
    assert ("tanh", "for (const auto& x : xs)") in loops
    by_line = line_loops(SOURCE)
    assert by_line[10][0] == "for (const auto& x : xs)" and 8 not in by_line
    # an old edge file without the fields reads as calls in no loop
    row = {"caller": "f", "callee": "g", "path": "a.cpp", "line": 1}
    old = edges_from_json({"edges": [row]}, "")
    assert [e.loop for es in old.edges.values() for e in es] == [""]


def _decider(**attrs: object) -> Decider:
    setting = Setting("CPU", "float32", True, False, "train", True, (5, 3, 10))
    return Decider(LayerFacts(setting, attrs=dict(attrs), input_shape=(5, 3, 10)))


def test_a_loop_over_a_module_value_runs_that_many_times() -> None:
    header = "for (const auto l : c10::irange(num_layers))"
    assert _decider(num_layers=2).loop_runs(header).value is True
    once = _decider(num_layers=1).loop_runs(header)
    assert once.value is False and "runs 1 time " in once.reason
    unknown = _decider().loop_runs(header)
    assert unknown.value is None and unknown.depends_on == ("num_layers",)
    assert _decider().loop_runs("for (int i = 0; i < 3; i++)").value is True


def test_a_loop_over_a_sequence_is_undecided_with_its_reason() -> None:
    found = _decider(num_layers=2).loop_runs("for (const auto& input : step_inputs)")
    assert found.value is None and "does not read" in found.reason


# ------------------------------------------------------------------ calls as written

CELL = """
namespace at { namespace native {
struct Params {
  Tensor linear_hh(const Tensor& h) const {
    return at::linear(h, w_hh, b_hh_);
  }
};
Tensor flat(const Tensor& input, const Tensor& weight, const Tensor& bias) {
  const auto rows = input.size(0);
  const auto flattened = input.view_symint({rows, input.size(-1)});
  return at::addmm(bias, flattened, weight.t());
}
std::vector<Tensor> layer(const std::vector<Tensor>& steps, Tensor hidden,
                          const Params& params, bool flag) {
  std::vector<Tensor> out;
  for (const auto& input : steps) {
    hidden = cell_(input, hidden, params, flag);
    out.push_back(hidden);
  }
  return out;
}
}}
"""


def test_edges_carry_their_call_as_written_and_their_callers_scope() -> None:
    edges = {(e.callee, e.location.line): e for e in scan_source(CELL, "c.cpp", "c", "r")}
    linear = edges[("linear", 5)]
    assert linear.args == ("h", "w_hh", "b_hh_")
    addmm = edges[("addmm", 11)]
    assert addmm.args == ("bias", "flattened", "weight.t()")
    assert addmm.caller_params == ("input", "weight", "bias")
    assert ("flattened", "input.view_symint({rows, input.size(-1)})") in addmm.caller_locals
    t = edges[("method:t", 11)]
    assert t.receiver == "weight" and t.args == ()


def _flow(**kw: object) -> LoopFlow:
    return LoopFlow(5, "for (const auto& input : steps)", "c.cpp:18", **kw)  # type: ignore


def test_what_an_iteration_reads_unchanged_follows_arguments_parameters_and_locals() -> None:
    def never(name: str) -> bool:  # the ATen operators of this test
        return name in ("t", "addmm", "linear", "view_symint")

    loop = _flow(changes=frozenset({"input", "hidden"}))
    assert loop.is_fixed("params", never) and not loop.is_fixed("hidden", never)
    assert not loop.is_fixed("input", never)
    # into `flat(input, weight, bias)` called with a changing input and fixed weights
    node = OpNode("at::native::flat", None, Reached.UPSTREAM, None, "", (), None,
                  call_args=("x", "w", "b"))
    outer = _flow(changes=frozenset({"x"}))
    inner = enter(outer, node, None, ("input", "weight", "bias"),
                  (("rows", "input.size(0)"), ("flattened", "input.view_symint({rows, 2})"),
                   ("kept", "bias")), never, "c.cpp:12")
    assert inner is not None and inner.fixed_params == {"weight", "bias"}
    assert inner.is_fixed("bias", never) and inner.is_fixed("kept", never)
    assert not inner.is_fixed("flattened", never)  # made from the changing input
    assert not inner.is_fixed("weight.t()", never)  # an operator: a new tensor each time
    assert not inner.is_fixed("unknown_local", never)  # a free function has no members
    # a member function called on an unchanged object: its members are unchanged
    member = OpNode("at::native::Params::linear_hh", None, Reached.UPSTREAM, None, "", (),
                    None, call_args=("hidden",), call_receiver="params")
    inside = enter(loop, member, None, ("h",), (), never, "c.cpp:18")
    assert inside is not None and inside.is_fixed("w_hh", never)
    assert not inside.is_fixed("h", never)
    assert enter(None, member, None, ("h",), (), never, "") is None  # in no loop


def test_ranks_a_body_states_and_schema_arguments() -> None:
    local = (("flat", "input.view_symint({rows, cols})"),)
    assert stated_rank("flat", local) == 2
    assert stated_rank("x.reshape({a, b, c})", ()) == 3
    assert stated_rank("input", local) is None
    schema = "addmm(Tensor self, Tensor mat1, Tensor mat2, *, Scalar beta=1) -> Tensor"
    assert schema_args(schema) == [("Tensor", "self"), ("Tensor", "mat1"),
                                   ("Tensor", "mat2")]
    assert schema_args("t(Tensor(a) self) -> Tensor(a)") == [("Tensor", "self")]
    assert schema_args("linear(Tensor input, Tensor weight, Tensor? bias=None) -> Tensor")[2] \
        == ("Tensor", "bias")


def test_a_range_for_over_an_unbound_tensor_is_one_iteration_per_slice() -> None:
    header = "for (const auto& input : step_inputs)"
    params = ("step_inputs", "hidden", "params")
    assert sequence_of(header, params, ("inputs_w.unbind(0)", "h", "p")) == \
        "inputs_w.unbind(0)"
    assert unbound("inputs_w.unbind(0)") == ("inputs_w", 0)
    assert unbound("x.unbind()") == ("x", 0)
    assert sequence_of(header, ("other",), ("a",)) is None
    assert sequence_of("for (const auto l : c10::irange(n))", params, ()) is None


def test_a_layout_is_followed_out_to_the_operators_input() -> None:
    # linear(input, ...) <- linear_ih(inputs) <- lstm's `input = batch_first ?
    # _input.transpose(0, 1) : _input`
    frames = [Frame(("input", "weight", "bias_opt"), (), ("inputs", "w_ih", "b_ih_")),
              Frame(("inputs",), (), ("input",)),
              Frame(("_input", "hx", "batch_first"),
                    (("input", "batch_first ? _input.transpose(0, 1) : _input"),), (),
                    top=True)]

    def decide(flag: bool):  # the module's batch_first
        return lambda condition: flag if condition == "batch_first" else None

    value, why = contiguity("input", frames, decide(True), True, (3, 5, 10))
    assert value is False and "swaps dimensions 0 and 1" in why
    assert contiguity("input", frames, decide(False), True, (3, 5, 10))[0] is True
    # a size-1 dimension swapped keeps the layout: not decided
    assert contiguity("input", frames, decide(True), True, (1, 5, 10))[0] is None
    # the condition not decided, or a hop not read: left undecided
    assert contiguity("input", frames, lambda c: None, True, (3, 5, 10))[0] is None
    assert contiguity("input", frames[:2], decide(True), True, (3, 5, 10))[0] is None
    assert contiguity("hx", frames[2:], decide(True), True, (3, 5, 10))[0] is None


def test_a_name_a_loop_changes_is_its_value_before_the_loop_in_the_first_iteration() -> None:
    # apply_layer_stack: `auto layer_input = input; for (...) { layer(layer_input, ...);
    # layer_input = layer_output.outputs; }`: the first layer reads the stack's input
    frames = [Frame(("inputs",), (), ("layer_input",)),
              Frame(("input",), (("layer_input", "input"),
                                 ("layer_input", "layer_output.outputs")), ("x",),
                    first_pass=frozenset({"layer_input", "layer_output"})),
              Frame(("x",), (), (), top=True)]
    assert contiguity("inputs", frames, lambda c: None, True, (3, 5, 10)) == \
        (True, "the operator's input")
    # not changed by a loop around the call: two definitions, not followed
    plain = [frames[0], Frame(frames[1].params, frames[1].locals, ("x",)), frames[2]]
    assert contiguity("inputs", plain, lambda c: None, True, (3, 5, 10))[0] is None
