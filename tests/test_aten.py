"""native_functions.yaml / derivatives.yaml reading and the dispatcher's kernel choice."""

from __future__ import annotations

import textwrap

import pytest

from docgen.walk.aten import (
    find_derivative,
    kernels_of,
    operator_name,
    read_derivatives,
    read_native_functions,
    read_resolution_order,
    select_kernel,
)
from tests.walk_fixtures import OPS_PY

YAML = textwrap.dedent('''
    # a comment line
    - func: relu(Tensor self) -> Tensor
      variants: function, method
      dispatch:
        CPU, CUDA: relu
        MPS: relu_mps
        SparseCPU, SparseCUDA: relu_sparse
      tags: [core, pointwise]

    - func: relu_(Tensor(a!) self) -> Tensor(a!)
      dispatch:
        CPU, CUDA: relu_
      autogen: relu.out

    - func: dropout(Tensor input, float p, bool train) -> Tensor

    - func: convolution(Tensor input) -> Tensor
      dispatch:
        CompositeExplicitAutograd: convolution
      autogen: convolution.out

    - func: both(Tensor input) -> Tensor
      dispatch:
        CompositeExplicitAutogradNonFunctional: both_nf
        CompositeExplicitAutograd: both_ex

    - func: max_pool2d(Tensor self) -> Tensor
      dispatch:
        CompositeImplicitAutograd: max_pool2d
        MPS: mps_max_pool2d

    - func: addmm(Tensor self) -> Tensor
      structured_delegate: addmm.out
      dispatch:
        SparseCPU: addmm_sparse

    - func: addmm.out(Tensor self, *, Tensor(a!) out) -> Tensor(a!)
      structured: True
      dispatch:
        CPU: addmm_out_cpu
        CUDA: addmm_out_cuda

    - func: add.Tensor(Tensor self, Tensor other) -> Tensor
      structured_delegate: add.out

    - func: add.out(Tensor self, Tensor other, *, Tensor(a!) out) -> Tensor(a!)
      structured: True
      ufunc_inner_loop:
        Generic: add (AllAndComplex, BFloat16, Half)
      dispatch:
        MPS: add_out_mps

    - func: cudnn_only(Tensor self) -> Tensor
      dispatch:
        CUDA: cudnn_only
''')


@pytest.fixture
def table():
    return read_native_functions(YAML, "nf.yaml")


def test_entries_have_their_yaml_line(table) -> None:
    lines = YAML.splitlines()
    for name, op in table.operators.items():
        assert lines[op.location.line - 1].startswith(f"- func: {name}(")
    assert table.find("aten::relu").location.path == "nf.yaml"


def test_comma_keys_split_into_entries(table) -> None:
    relu = table.find("relu")
    assert {(e.key, e.kernel) for e in relu.dispatch} >= {
        ("CPU", "relu"), ("CUDA", "relu"), ("MPS", "relu_mps"), ("SparseCUDA", "relu_sparse")}
    assert relu.tags == ("core", "pointwise")
    assert table.find("relu_").autogen == ("relu.out",)


def test_entry_without_dispatch_is_composite_implicit(table) -> None:
    op = table.find("dropout")
    assert op.dispatch_origin == "implicit"
    assert [(e.key, e.kernel) for e in op.dispatch] == [("CompositeImplicitAutograd", "dropout")]


@pytest.mark.parametrize(("name", "backend", "key", "kernel"), [
    ("relu", "CPU", "CPU", "relu"),
    ("relu", "MPS", "MPS", "relu_mps"),
    ("convolution", "CUDA", "CompositeExplicitAutograd", "convolution"),
    ("both", "CPU", "CompositeExplicitAutogradNonFunctional", "both_nf"),
    ("max_pool2d", "CPU", "CompositeImplicitAutograd", "max_pool2d"),
    ("max_pool2d", "MPS", "MPS", "mps_max_pool2d"),
    ("dropout", "PrivateUse1", "CompositeImplicitAutograd", "dropout"),
    ("addmm", "CUDA", "CUDA", "addmm_out_cuda"),
    ("addmm", "SparseCPU", "SparseCPU", "addmm_sparse"),
    ("cudnn_only", "CPU", None, None),
])
def test_select_kernel_follows_resolution_order(table, name, backend, key, kernel) -> None:
    choice = select_kernel(table, table.find(name), backend)
    assert (choice.key, choice.kernel) == (key, kernel)


def test_structured_delegate_and_ufunc_kernels(table) -> None:
    add = table.find("add.Tensor")
    assert add.dispatch_origin == "structured_delegate"
    keys = {e.key: e.kernel for e in kernels_of(table, add)}
    assert keys["MPS"] == "add_out_mps"
    assert "ufunc_inner_loop" in keys["CPU"] and "ufunc_inner_loop" in keys["CUDA"]
    choice = select_kernel(table, add, "CUDA")
    assert "structured_delegate add.out" in choice.rule


def test_missing_kernel_says_what_is_registered(table) -> None:
    choice = select_kernel(table, table.find("cudnn_only"), "CPU")
    assert choice.kernel is None and "CUDA" in choice.rule


def test_bad_yaml_is_a_diagnostic() -> None:
    table = read_native_functions("- func: a(Tensor x) -> Tensor\n- [unclosed\n", "bad.yaml")
    assert table.operators == {}
    assert table.diagnostics and table.diagnostics[0].path == "bad.yaml"


def test_entry_without_func_is_skipped_with_warning() -> None:
    table = read_native_functions("- variants: method\n- func: b(Tensor x) -> Tensor\n", "x")
    assert list(table.operators) == ["b"]
    assert table.diagnostics[0].line == 1


DERIVATIVES = textwrap.dedent('''
    - name: relu(Tensor self) -> Tensor
      self: threshold_backward(grad, result, 0)
      result: auto_element_wise

    - name: view(Tensor(a) self, SymInt[] size) -> Tensor(a)
      dispatch:
        Default:
          self: grad.reshape_symint(self.sym_sizes())
''')


def test_derivatives_and_inplace_inheritance(table) -> None:
    read_derivatives(DERIVATIVES, table, "d.yaml")
    relu = find_derivative(table, "relu")
    assert relu.location.line == 2 and dict(relu.formulas)["self"].startswith("threshold_back")
    inplace = find_derivative(table, "aten::relu_")
    assert inplace.inherited_from == "relu" and inplace.formulas == relu.formulas
    assert dict(find_derivative(table, "view").formulas)["self"].startswith("grad.reshape")
    assert find_derivative(table, "dropout") is None


def test_operator_name() -> None:
    assert operator_name("conv2d.padding(Tensor input) -> Tensor") == "conv2d.padding"


def test_resolution_order_is_read_from_ops_py() -> None:
    steps = read_resolution_order(OPS_PY)
    assert [s.split(" ", 1)[0] for s, _ in steps] == ["1", "2.2", "2.3", "backend"]
    lines = OPS_PY.splitlines()
    assert all("#" in lines[loc.line - 1] for _, loc in steps)
