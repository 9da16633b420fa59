"""C++ loops read around kernel calls (upstream.loop_around) and how many times the walk
decides they run (Decider.loop_runs)."""

from docgen.walk.decide import Decider, LayerFacts
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
