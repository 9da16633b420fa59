"""The C++ kernel-body scanner and the shipped edge file."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from docgen.core.errors import SourceError
from docgen.walk.upstream import (
    EdgeSet,
    autograd_namespaced,
    bind_condition,
    blank_comments_and_strings,
    edges_from_json,
    edges_to_json,
    function_bodies,
    load_shipped_edges,
    scan_source,
    scan_tree,
)
from tests.walk_fixtures import CONVOLUTION_CPP

PATH = "aten/src/ATen/native/Convolution.cpp"


def _line_of(text: str, needle: str) -> int:
    return next(i for i, line in enumerate(text.splitlines(), 1) if needle in line)


def test_calls_are_found_with_their_lines_and_callers() -> None:
    edges = scan_source(CONVOLUTION_CPP, PATH, "c0ffee")
    found = {(e.caller, e.callee): e for e in edges if ":" not in e.callee}
    assert set(found) == {
        ("conv2d_symint", "convolution"), ("convolution", "cudnn_convolution"),
        ("convolution", "convolution_overrideable"), ("convolution", "mkldnn_convolution"),
        ("convolution", "_slow_conv2d_forward")}
    edge = found[("conv2d_symint", "convolution")]
    assert edge.location.line == _line_of(CONVOLUTION_CPP, "return at::convolution(")
    assert edge.commit == "c0ffee" and edge.location.path == PATH


def test_comments_strings_and_macros_are_not_calls() -> None:
    callees = {e.callee for e in scan_source(CONVOLUTION_CPP, PATH, "")}
    assert "not_a_call" not in callees and "fake" not in callees
    macro = "#define X(a) \\\n  at::macro_call(a)\nvoid f() { at::real(1); }\n"
    assert [e.callee for e in scan_source(macro, PATH, "")] == ["real"]


def test_conditions_case_if_else() -> None:
    found = {e.callee: e.condition for e in scan_source(CONVOLUTION_CPP, PATH, "")}
    assert found["cudnn_convolution"] == "case ConvBackend::Cudnn"
    assert found["convolution_overrideable"] == "case ConvBackend::Overrideable"
    assert found["mkldnn_convolution"] == "input.is_mkldnn()"
    assert found["_slow_conv2d_forward"] == "!(input.is_mkldnn())"


def test_single_statement_if_and_nested_blocks() -> None:
    text = ("Tensor f(const Tensor& x) {\n  if (x.dim() == 2) return at::addmm(x);\n"
            "  if (a) {\n    for (int i = 0; i < 2; i++) {\n      at::cat(x);\n    }\n  }\n"
            "  return at::matmul(x);\n}\n")
    found = {e.callee: e.condition for e in scan_source(text, "f.cpp", "")
             if ":" not in e.callee}
    # code after `if (...) return` runs only when the early return did not
    assert found == {"addmm": "x.dim() == 2", "cat": "a && !(x.dim() == 2)",
                     "matmul": "!(x.dim() == 2)"}


def test_function_bodies_skip_classes_and_lambdas() -> None:
    text = ("namespace at { namespace native {\nstruct P { bool f() const { return at::no(); } };"
            "\nTensor g() {\n  auto l = [&]() { return at::inner(); };\n  return l();\n}\n}}\n")
    clean = blank_comments_and_strings(text)
    assert [b.name for b in function_bodies(clean)] == ["g"]
    # a member function is read under its struct's name; a lambda stays part of its function
    assert [(e.caller, e.callee) for e in scan_source(text, "g.cpp", "")] == [
        ("P::f", "no"), ("g", "inner"), ("g", "call:l")]


def test_method_and_unqualified_calls_are_marked() -> None:
    text = ("Tensor f(const Tensor& x, const Tensor& w) {\n  auto t = w.t();\n"
            "  if (x.dim() > 1) return _adaptive(x, static_cast<int>(1));\n"
            "  return x->mul_(t);\n}\n")
    callees = [e.callee for e in scan_source(text, "f.cpp", "")]
    # in the order they run: the if's condition before the call it guards
    assert callees == ["method:t", "method:dim", "call:_adaptive", "method:mul_"]


def test_blanking_keeps_offsets_and_lines() -> None:
    text = 'a /* x\ny */ "s\\"t" // c\nb'
    clean = blank_comments_and_strings(text)
    assert len(clean) == len(text) and clean.count("\n") == text.count("\n")
    assert clean.split() == ["a", "b"]


def test_json_round_trip() -> None:
    edges = EdgeSet(origin="t")
    for edge in scan_source(CONVOLUTION_CPP, PATH, "abc"):
        edges.add(edge)
    data = json.loads(json.dumps(edges_to_json(edges, {"origin": "t"})))
    back = edges_from_json(data, "t")
    assert back.edges == edges.edges and len(back) == len(edges)


def test_scan_tree_and_bad_tree(tmp_path: Path) -> None:
    target = tmp_path / "aten/src/ATen/native"
    target.mkdir(parents=True)
    (target / "Convolution.cpp").write_text(CONVOLUTION_CPP)
    edges = scan_tree(tmp_path)
    assert edges.calls_of("conv2d_symint")[0].callee == "convolution"
    assert edges.calls_of("conv2d") == []
    with pytest.raises(SourceError):
        scan_tree(tmp_path / "nothing")


def test_symint_kernel_falls_back_to_plain_name() -> None:
    edges = EdgeSet()
    for edge in scan_source("Tensor conv2d(const Tensor& x) { return at::convolution(x); }",
                            PATH, ""):
        edges.add(edge)
    assert [e.callee for e in edges.calls_of("conv2d_symint")] == ["convolution"]


def test_shipped_edges_name_their_commits() -> None:
    edges = load_shipped_edges()
    assert len(edges) > 0 and "pytorch/pytorch" in edges.origin
    assert all(len(e.commit) == 40 for rows in edges.edges.values() for e in rows)
    callees = {e.callee for e in edges.calls_of("_convolution")}
    assert {"cudnn_convolution", "mkldnn_convolution"} <= callees


MODERN_SWITCH = """\
namespace at::native {
template <typename T>
static ConvBackend _select_conv_backend(const Tensor& input, const ConvParams<T>& params) {
  if (params.use_cudnn(input)) {
    if (params.transposed) {
      return ConvBackend::CudnnTranspose;
    } else {
      return ConvBackend::Cudnn;
    }
  }
  return ConvBackend::Slow2d;
}
static Tensor nogroup(const Tensor& input, const ConvBackend backend) {
  auto kernel_size = input.sizes().slice(2);
  switch (backend) {
    case ConvBackend::Slow2d:
      return at::thnn_conv2d(input, kernel_size);
    default:
      TORCH_CHECK(false, "unsupported ", at::not_a_call(input));
  }
}
Tensor _convolution(const Tensor& input, const ConvParams<int64_t>& params) {
  ConvBackend backend = _select_conv_backend(input, params);
  switch (backend) {
    case ConvBackend::Cudnn:
      check_same_type(input);
      output = at::cudnn_convolution(
          input.contiguous(), params.padding);
      break;
    case ConvBackend::Empty:
    {
      output = at::_unsafe_view(input, -1);
      break;
    }
    case ConvBackend::Slow2d:
    case ConvBackend::SlowDilated2d:
      if (params.groups == 1) {
        output = nogroup(input, backend);
      }
      break;
  }
  return _dropout<false>(output, 0.5, true);
}
}
"""


def test_modern_switch_cases_name_where_the_backend_is_chosen() -> None:
    edges = scan_source(MODERN_SWITCH, PATH, "c0ffee", "someone/pytorch")
    found = {(e.caller, e.callee): e for e in edges}
    cudnn = found[("_convolution", "cudnn_convolution")]
    chosen = _line_of(MODERN_SWITCH, "return ConvBackend::Cudnn;")
    assert cudnn.condition == (f"case ConvBackend::Cudnn [chosen in _select_conv_backend:"
                               f"{chosen} when !(params.transposed) && "
                               f"params.use_cudnn(input)]")
    assert cudnn.repo == "someone/pytorch" and cudnn.commit == "c0ffee"
    # A case whose statements sit in their own block does not run into the next label.
    assert found[("_convolution", "_unsafe_view")].condition == "case ConvBackend::Empty"
    # A group of labels is kept as a group (no choice annotation), under the inner `if`.
    assert found[("_convolution", "call:nogroup")].condition == (
        "params.groups == 1 && case ConvBackend::Slow2d / case ConvBackend::SlowDilated2d")
    assert found[("nogroup", "thnn_conv2d")].condition.startswith(
        "case ConvBackend::Slow2d [chosen in _select_conv_backend:")


def test_checks_array_methods_and_templated_helpers() -> None:
    callees = {(e.caller, e.callee) for e in scan_source(MODERN_SWITCH, PATH, "")}
    assert ("nogroup", "not_a_call") not in callees  # inside TORCH_CHECK(...)
    assert ("nogroup", "method:slice") not in callees  # IntArrayRef::slice
    assert ("_convolution", "call:_dropout") in callees  # `_dropout<false>(...)`
    assert ("_convolution", "method:contiguous") in callees


def test_edges_keep_their_repository_through_json() -> None:
    edges = EdgeSet(origin="t")
    for edge in scan_source(MODERN_SWITCH, PATH, "c0ffee", "someone/pytorch"):
        edges.add(edge)
    again = edges_from_json(edges_to_json(edges, {}), "t")
    assert {e.repo for rows in again.edges.values() for e in rows} == {"someone/pytorch"}


def test_shipped_file_records_where_each_file_was_read() -> None:
    from importlib import resources

    data = json.loads(resources.files("docgen.data").joinpath("upstream_edges.json")
                      .read_text(encoding="utf-8"))
    files = data["files"]
    assert {"aten/src/ATen/native/Convolution.cpp", "aten/src/ATen/native/Dropout.cpp",
            "aten/src/ATen/native/Linear.cpp"} <= set(files)
    for info in files.values():
        repo, commit = info["repo"], info["commit"]
        assert info["source"].startswith(f"{repo}@{commit}") and len(commit) == 40
        assert repo == "pytorch/pytorch" or info["source"].endswith(
            "(a fork of pytorch/pytorch)")
    assert "select_conv_backend" in files["aten/src/ATen/native/Convolution.cpp"]["markers"]
    assert "native_dropout" in files["aten/src/ATen/native/Dropout.cpp"]["markers"]
    # Every ConvBackend value the Convolution.cpp read uses is declared by the wheel's header.
    assert data["enum_check"]["enum"] == "ConvBackend"
    assert data["enum_check"]["used_not_declared"] == []
    rows = data["edges"]
    assert all(row["repo"] == files[row["path"]]["repo"] for row in rows)


TEMPLATED_CPP = """\
namespace at::native {
namespace {
template<bool twice, bool scaled, typename T>
Tensor impl(T& input, double p) {
  if (p == 0) {
    return input;
  }
  Tensor noise = at::empty_like(input);
  if (scaled) {
    noise.mul_(p);
  } else {
    noise.div_(p);
  }
  if (twice && p > 1) {
    noise.add_(1);
  }
  return input.mul(noise);
}

#define ALIAS(NAME, TWICE, SCALED)                        \\
template <bool flag, typename... Args>                    \\
Tensor NAME(Args&&... args) {                             \\
  return impl<TWICE, SCALED, flag>(std::forward<Args>(args)...); \\
}

ALIAS(_plain, false, false)
ALIAS(_scaled, false, true)
} // namespace

Tensor plain(const Tensor& input, double p) {
  return _plain<false>(input, p);
}

Tensor direct(const Tensor& input) {
  return native::plain(input, 0.5);
}
} // namespace at::native
"""


def test_macro_defined_functions_and_template_specialisations() -> None:
    edges = scan_source(TEMPLATED_CPP, "t.cpp", "c0ffee")
    by_caller: dict[str, dict[str, tuple[int, str]]] = {}
    for e in edges:
        by_caller.setdefault(e.caller, {})[e.callee] = (e.location.line, e.condition)
    # The macro's invocations define `_plain` and `_scaled`, read at the #define's lines.
    call_line = _line_of(TEMPLATED_CPP, "return impl<TWICE")
    assert by_caller["_plain"] == {"call:impl<false, false, flag>": (call_line, "")}
    assert by_caller["_scaled"] == {"call:impl<false, true, flag>": (call_line, "")}
    # `_plain<false>(...)` names the specialisation of the macro-made template.
    assert by_caller["plain"]["call:_plain<false>"][0] == _line_of(TEMPLATED_CPP,
                                                                   "_plain<false>(input")
    # ... whose own template argument is bound in the calls it makes: impl<..., false>
    assert by_caller["_plain<false>"] == {"call:impl<false, false, false>": (call_line, "")}
    # In impl<false, false, ...> the `scaled` branch and `twice && ...` are decided away;
    # what the template leaves open stays a condition.
    plain = by_caller["impl<false, false, flag>"]
    assert plain["method:div_"] == (_line_of(TEMPLATED_CPP, "noise.div_"), "!(p == 0)")
    assert "method:mul_" not in plain and "method:add_" not in plain
    assert plain["empty_like"] == (_line_of(TEMPLATED_CPP, "at::empty_like"), "!(p == 0)")
    scaled = by_caller["impl<false, true, flag>"]
    assert "method:mul_" in scaled and "method:div_" not in scaled
    # The template itself keeps every call with its conditions.
    assert by_caller["impl"]["method:add_"][1] == "twice && p > 1 && !(p == 0)"
    # `native::plain(...)` inside namespace at::native: a direct kernel call.
    assert "native::plain" in by_caller["direct"]


def test_a_macro_without_a_function_body_defines_nothing() -> None:
    text = "#define CALL(x) at::hidden(x)\nnamespace at::native {\nCALL(1)\n}\n"
    assert scan_source(text, "m.cpp", "") == []


@pytest.mark.parametrize(("condition", "binding", "expected"), [
    ("alpha", {"alpha": "false"}, None),
    ("!(alpha)", {"alpha": "false"}, ""),
    ("!(!alpha)", {"alpha": "true"}, ""),
    ("twice && p > 1", {"twice": "true"}, "p > 1"),
    ("twice && p > 1", {"twice": "false"}, None),
    ("(a || b) && x.is_cuda()", {"a": "false", "b": "true"}, "x.is_cuda()"),
    ("p == 1", {"alpha": "false"}, "p == 1"),
    ("", {"alpha": "false"}, ""),
])
def test_bind_condition_decides_terms_of_bound_parameters(
        condition: str, binding: dict[str, str], expected: str | None) -> None:
    assert bind_condition(condition, binding) == expected


def test_functions_manual_helpers_are_namespaced() -> None:
    text = ("namespace torch::autograd::generated::details {\n"
            "Tensor scale(const Tensor& t) { return t.mul(2); }\n"
            "Tensor norm_backward(const Tensor& g, const Tensor& m) {\n"
            "  return scale(g.mm(m));\n}\n}\n")
    edges = autograd_namespaced(scan_source(text, "torch/csrc/autograd/FunctionsManual.cpp",
                                            ""))
    found = {(e.caller, e.callee) for e in edges}
    assert ("autograd::norm_backward", "call:autograd::scale") in found
    assert ("autograd::norm_backward", "method:mm") in found
    assert ("autograd::scale", "method:mul") in found
    assert not any(e.caller == "norm_backward" for e in edges)  # not the ATen kernel's name


def _conditions(source: str) -> dict[str, str]:
    text = "namespace at { namespace native {\n" + source + "\n}}\n"
    return {e.callee: e.condition for e in scan_source(text, "x.cpp", "c")}


def test_early_returns_negate_the_code_after_them() -> None:
    found = _conditions("""
Tensor f(const Tensor& input, const Tensor& bias) {
  if (input.is_mkldnn()) return at::mkldnn_linear(input);
  if (input.dim() == 2 && bias.defined()) {
    return at::addmm(bias, input);
  }
  if (ok) {
    if (input.is_contiguous()) {
      return at::view(input);
    }
  }
  return at::matmul(input);
}""")
    assert found["addmm"] == "input.dim() == 2 && bias.defined() && !(input.is_mkldnn())"
    assert found["matmul"] == ("!(input.is_mkldnn()) && !(input.dim() == 2 && bias.defined())"
                               " && !(ok && input.is_contiguous())")


def test_else_if_chains_negate_the_earlier_arms() -> None:
    found = _conditions("""
Tensor f(const Tensor& x) {
  if (a) {
    at::relu(x);
  } else if (b) {
    at::gelu(x);
  } else if (c) {
    at::silu(x);
  } else {
    at::tanh(x);
  }
}""")
    assert found["gelu"] == "b && !(a)"
    assert found["silu"] == "c && !(b) && !(a)"
    assert found["tanh"] == "!(c) && !(b) && !(a)"


def test_ternary_arms_and_local_booleans() -> None:
    found = _conditions("""
Tensor f(const Tensor& x, bool is_batched) {
  const auto fusable = x.defined() && x.dim() == 1;
  if (fusable) {
    at::add(x, x);
  }
  return is_batched ? at::clone(x) : x.squeeze(0);
}""")
    assert found["method:squeeze"] == "!(is_batched)"
    assert found["clone"] == "is_batched"
    assert found["add"] == "(x.defined() && x.dim() == 1)"


def test_static_assert_overloads_and_template_arguments_bound_down_the_calls() -> None:
    text = """namespace at::native {
template<bool inplace>
Tensor& twice(Tensor& x) {
  static_assert(inplace, "overload");
  return x.mul_(2);
}
template<bool inplace>
Tensor twice(const Tensor& x) {
  static_assert(!inplace, "overload");
  return x.mul(2);
}
template<bool scaled, bool inplace>
Tensor impl(const Tensor& x) {
  if constexpr (scaled) {
    at::relu(x);
  }
  return twice<inplace>(x);
}
Tensor entry(const Tensor& x) {
  return impl<false, false>(x);
}
}
"""
    edges = scan_source(text, "t.cpp", "c")
    by_caller: dict[str, dict[str, str]] = {}
    for e in edges:
        by_caller.setdefault(e.caller, {})[e.callee] = e.condition
    assert by_caller["twice"] == {"method:mul_": "inplace", "method:mul": "!inplace"}
    assert by_caller["impl"]["call:twice<inplace>"] == ""
    assert by_caller["impl"]["relu"] == "scaled"
    assert by_caller["impl<false, false>"] == {"call:twice<false>": ""}  # relu decided away
    assert by_caller["twice<false>"] == {"method:mul": ""}


def test_ternary_inside_an_argument_list() -> None:
    found = _conditions("""
Tensor f(const Tensor& x, bool b) {
  return std::make_tuple(b ? x : x.unsqueeze(0), b);
}""")
    assert found["method:unsqueeze"] == "!(b)"


# A recurrent kernel in the shape RNN.cpp has: a template picks the layer, the layer calls
# its cell through a base reference, the cell calls its parameters through a template type.
RECURRENT_CPP = """namespace at::native {
namespace {
struct Params {
  const Tensor& w;
  Tensor project(const Tensor& x) const { return at::linear(x, w); }
};
template <typename hidden_t, typename params_t>
struct Step {
  virtual hidden_t operator()(const Tensor& x, const hidden_t& h, const params_t& p) const = 0;
};
template <typename params_t>
struct Gated : Step<Tensor, params_t> {
  Tensor operator()(const Tensor& x, const Tensor& h, const params_t& p) const override {
    auto gates = p.project(x).sigmoid_();
    return gates * h;
  }
};
template <typename params_t>
struct Plain : Step<Tensor, params_t> {
  Tensor operator()(const Tensor& x, const Tensor& h, const params_t& p) const override {
    return p.project(x).relu();
  }
};
template <typename hidden_t, typename params_t>
struct Loop {
  Loop(Step<hidden_t, params_t>& step) : step_(step) {}
  hidden_t operator()(const Tensor& x, const hidden_t& h, const params_t& p) const {
    return step_(x, h, p);
  }
  Step<hidden_t, params_t>& step_;
};
std::vector<Params> collect(TensorList ws) { return {}; }
template <typename StepT, template <typename, typename> class LoopT, typename params_t>
Tensor run(const Tensor& x, const Tensor& h, const std::vector<params_t>& ps) {
  StepT step;
  return LoopT<Tensor, params_t>{step}(x, h, ps[0]);
}
}  // namespace
DEFINE_DISPATCH(fast_stub);
Tensor recurrent(const Tensor& x, const Tensor& h, TensorList ws) {
  if (at::cudnn_is_acceptable(x)) {
    Tensor out;
    fast_stub(x.device().type(), out, x);
    return out;
  }
  auto ps = collect(ws);
  auto out = run<Gated<Params>, Loop>(x, h, ps);
  return out[0];
}
Tensor recurrent(const Tensor& x, const Tensor& lengths, const Tensor& h, TensorList ws) {
  auto ps = collect(ws);
  return run<Plain<Params>, Loop>(x, h, ps);
}
void fast_kernel(Tensor& out, const Tensor& x) { out = at::tanh(x); }
REGISTER_ALL_CPU_DISPATCH(fast_stub, &fast_kernel)
}  // namespace at::native
"""


def _callees_below(edges: list, caller: str) -> list[str]:
    return [e.callee for e in edges if e.caller == caller]


def test_templates_members_and_function_objects_are_resolved() -> None:
    edges = scan_source(RECURRENT_CPP, "aten/src/ATen/native/Recurrent.cpp", "c0ffee", "o/r")
    by_caller: dict[str, list[str]] = {}
    for e in edges:
        by_caller.setdefault(e.caller, []).append(e.callee)
    first = "recurrent(Tensor, Tensor, Tensor[])"
    # the two C++ overloads of one kernel name are told apart by their parameter kinds
    assert first in by_caller and "recurrent(Tensor, Tensor, Tensor, Tensor[])" in by_caller
    run = next(c for c in by_caller[first] if c.startswith("call:run<"))
    # explicit template arguments, and params_t deduced from `collect`'s return type
    assert run == "call:run<Gated<Params>, Loop, Params>"
    loop = next(c for c in by_caller[run.removeprefix("call:")] if "Loop" in c)
    # the temporary `LoopT<...>{step}` keeps which concrete step it was built with
    assert loop == "call:Loop<Tensor, Params>::operator()[step_: Gated<Params>]"
    # a virtual call through `Step<...>&` runs the step bound on the way, not Plain
    step = by_caller[loop.removeprefix("call:")]
    assert "call:Gated<Params>::operator()" in step
    assert not any("Plain" in c for c in step)
    gated = by_caller["Gated<Params>::operator()"]
    assert "call:Params::project" in gated and "method:sigmoid_" in gated
    assert "method:mul" in gated  # `gates * h`: Tensor operator* is aten::mul
    assert by_caller["Params::project"] == ["linear"]
    # a DispatchStub call reaches the function registered for it, under its device
    stub = [e for e in edges if e.caller == "fast_stub"]
    assert [(e.callee, e.condition) for e in stub] == [("call:fast_kernel", "device.is_cpu()")]


def test_code_after_a_nested_return_runs_only_where_it_did_not_return() -> None:
    text = ("Tensor f(const Tensor& x, bool a, bool b) {\n  if (a) {\n    if (b) {\n"
            "      at::warn_only(x);\n    } else {\n      return at::fast(x);\n    }\n  }\n"
            "  return at::slow(x);\n}\n")
    found = {e.callee: e.condition for e in scan_source(text, "f.cpp", "")}
    assert found["fast"] == "!(b) && a"
    assert found["slow"] == "!(a && !(b))"


def test_a_local_size_is_read_as_the_size_it_holds() -> None:
    text = ("std::vector<Tensor> f(const Tensor& self, int64_t dim) {\n"
            "  const auto n = self.size(dim);\n  if (n == 0) {\n    return {};\n  }\n"
            "  return self.unsafe_split(1, dim);\n}\n")
    found = {e.callee: e.condition for e in scan_source(text, "f.cpp", "")}
    assert found["method:unsafe_split"] == "!((self.size(dim)) == 0)"


def test_a_call_in_a_returned_conjunction_runs_when_evaluation_reaches_it() -> None:
    # ConvParams::use_nnpack: `return enabled() && at::_nnpack_available() && ...;`
    text = ("struct P {\n  bool use(const Tensor& input) const {\n"
            "    return at::globalContext().userEnabledNNPACK() &&\n"
            "           at::_nnpack_available() &&\n           input.dim() == 4;\n  }\n};\n")
    found = {e.callee: e.condition for e in scan_source(text, "c.cpp", "")}
    assert found["_nnpack_available"] == "at::globalContext().userEnabledNNPACK()"


def test_sizes_of_a_tensor_are_no_tensor_operands() -> None:
    # `auto k = w.ndimension(); int64_t dim = k - 2;` and `t.sizes()[d] / g` are integer
    # arithmetic: no aten::sub / aten::div
    text = ("Tensor f(const Tensor& w, const Tensor& t, int64_t d, int64_t g) {\n"
            "  auto k = w.ndimension();\n  int64_t dim = k - 2;\n"
            "  int64_t n = t.sizes()[d] / g;\n  return t * w;\n}\n")
    callees = [e.callee for e in scan_source(text, "f.cpp", "")]
    assert "sub" not in callees and "div" not in callees and "mul" in callees


def test_calls_record_the_kinds_of_their_arguments() -> None:
    text = ("Tensor f(const Tensor& input, int64_t n) {\n"
            "  int64_t prod = 1;\n  auto out = input.mean({-1, -2}, /* keepdim = */ true);\n"
            "  at::sum_out(out, input, n, false).div_(prod);\n  return out.mul(0.5);\n}\n")
    edges = scan_source(text, "f.cpp", "")
    kinds = {e.callee: e.arguments for e in edges}
    assert kinds["method:mean"] == "int[], bool"
    assert kinds["method:div_"] == "int"
    assert kinds["sum_out"] == "?, Tensor, int, bool"
    assert kinds["method:mul"] == "float"
    # and in the order they run: the receiver's call before the method called on it
    order = [e.callee for e in edges if e.location.line == 4]
    assert order.index("sum_out") < order.index("method:div_")


def test_structured_kernels_are_told_from_same_named_overloads() -> None:
    text = ("TORCH_IMPL_FUNC(mean_out)\n(const Tensor& self, OptionalIntArrayRef opt_dim,"
            " bool keepdim, std::optional<ScalarType> opt_dtype, const Tensor& result) {\n"
            "  at::sum_out(result, self, opt_dim, keepdim).div_(2);\n}\n"
            "Tensor& mean_out(const Tensor& self, DimnameList dim, bool keepdim,"
            " std::optional<ScalarType> opt_dtype, Tensor& result) {\n"
            "  return at::mean_out(result, self, dimnames_to_positions(self, dim), keepdim);\n}\n")
    edges = EdgeSet()
    for edge in scan_source(text, "r.cpp", ""):
        edges.add(edge)
    # mean.dim's kernel is the structured one: the operator's kinds pick its body
    picked = {e.callee for e in edges.calls_of("mean_out", "Tensor, int[]?, bool, ScalarType?")}
    assert "sum_out" in picked and "mean_out" not in picked


def test_a_block_then_a_return_is_an_early_return() -> None:
    # `if (c) { if (d) { ... } return x; }`: the nested block ends a statement of its own,
    # so the block returns and what follows runs only when `c` does not hold
    text = ("Tensor f(const Tensor& input, bool fast) {\n"
            "  if (fast) {\n    if (input.numel() != 0) {\n      at::relu(input);\n    }\n"
            "    return input;\n  }\n  return at::sigmoid(input);\n}\n")
    found = {e.callee: e.condition for e in scan_source(text, "f.cpp", "")}
    assert found["sigmoid"] == "!(fast)"


def test_a_braced_list_in_a_call_does_not_end_the_statement() -> None:
    # the else arm of `c ? at::empty({n}, o) : at::mean(...)` is taken when `c` does not hold
    text = ("Tensor f(const Tensor& self, bool c) {\n"
            "  Tensor m = c ? at::empty({self.size(1)}, self.options()) : at::mean(self);\n"
            "  return m;\n}\n")
    found = {e.callee: e.condition for e in scan_source(text, "f.cpp", "")}
    assert found["empty"] == "c"
    assert found["mean"] == "!(c)"


def test_sizes_counts_and_pointers_of_a_tensor_are_not_tensors() -> None:
    # `input.numel() / n` divides integers; `auto p = input.const_data_ptr<T>()` is a
    # pointer, so `p + k` is pointer arithmetic, not aten::add
    text = ("Tensor f(const Tensor& input, int64_t n) {\n"
            "  int64_t m = input.numel() / n;\n"
            "  auto p = input.const_data_ptr<float>();\n"
            "  auto s = input.strides()[1];\n"
            "  g(p + m * s);\n"
            "  return input * 2;\n}\n")
    callees = [e.callee for e in scan_source(text, "f.cpp", "")
               if not e.callee.startswith(("method:", "call:"))]
    assert callees == ["mul"]


def test_a_lambda_parameter_hides_a_tensor_of_the_same_name() -> None:
    # Normalization.cpp: `cpu_kernel(iter, [=](scalar_t input, param_t mean) -> scalar_t {
    # return (input - mean) * w; })` computes on scalars, though `input` is a Tensor outside
    text = ("Tensor f(const Tensor& input, const Tensor& mean) {\n"
            "  cpu_kernel(iter, [=](scalar_t input, param_t mean) -> scalar_t {\n"
            "    return (input - mean) * 2;\n  });\n"
            "  g([&](const Tensor& input) { return input + 1; });\n"
            "  return input - mean;\n}\n")
    found = [(e.callee, e.location.line) for e in scan_source(text, "f.cpp", "")
             if not e.callee.startswith(("method:", "call:"))]
    assert found == [("add", 5), ("sub", 6)]


def test_an_arithmetic_argument_has_the_kind_of_its_operands() -> None:
    # Dropout.cpp's `noise.bernoulli_(1 - p)` / `noise.div_(1 - p)` with `double p`: a double
    # (bernoulli_.float, div_.Scalar), though `alpha * a * p` above reads like `a *p`
    text = ("Tensor f(const Tensor& input, double p, int64_t n) {\n"
            "  auto noise = at::empty_like(input);\n  noise.bernoulli_(1 - p);\n"
            "  double a = 1. / (alpha * a * p + 1);\n  noise.div_(1 - p);\n"
            "  noise.mul_(n * 2);\n  return noise.add(input - input);\n}\n")
    kinds = [(e.callee, e.arguments) for e in scan_source(text, "f.cpp", "")]
    assert ("method:bernoulli_", "float") in kinds
    assert ("method:div_", "float") in kinds
    assert ("method:mul_", "int") in kinds
    assert ("method:add", "") in kinds  # Tensor arithmetic: no scalar kind claimed
