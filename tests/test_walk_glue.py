"""The generated glue on a taken path (python bindings, VariableType, redispatch,
Register<Key>.cpp), read from the wheel's torchgen: never counted as operators."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from docgen.cli.main import main
from docgen.sources.locate import SourceSet
from docgen.walk.context import WalkContext
from docgen.walk.glue import glue_facts, read_glue, shard_of
from docgen.walk.setting import Setting
from docgen.walk.upstream import load_shipped_edges
from docgen.walk.walker import open_context, walk_model

ALEXNET = "torchvision.models.alexnet:AlexNet"

GEN_PYTHON = '''
def gen(fm):
    create_python_bindings(
        fm,
        methods,
        is_py_variable_method,
        None,
        "python_variable_methods.cpp",
        method=True,
        symint=symint,
    )
    create_python_bindings_sharded(
        fm,
        functions,
        is_py_torch_function,
        "torch",
        "python_torch_functions.cpp",
        method=False,
        num_shards=7,
        symint=symint,
    )


def get_pycname(name: BaseOperatorName) -> str:
    return f"THPFoo_{name}"
'''


def test_generated_files_are_read_from_the_generators_not_a_table() -> None:
    files = {"torchgen/packaged/autograd/gen_python_functions.py": GEN_PYTHON,
             "torchgen/packaged/autograd/templates/python_torch_functions.cpp":
                 "// head\n\n${py_methods}\n"}
    facts = read_glue(files.get)
    torch_file = facts.bindings["torch"]
    assert (torch_file.name, torch_file.shards) == ("python_torch_functions.cpp", 7)
    assert torch_file.generator is not None and torch_file.generator.line == 12
    assert torch_file.template is not None and torch_file.template.line == 3
    assert facts.bindings["method"].shards == 0 and facts.pycname == "THPFoo_"
    assert facts.variable_type is None and facts.register is None  # not in these sources
    assert not facts.stable_hash  # utils.py not read: shards are not named


def test_shard_replays_torchgens_stable_hash() -> None:
    # sha1 of the latin-1 bytes read little-endian, modulo the shard count
    assert {shard_of("conv2d", 3), shard_of("add", 4)} <= set(range(4))
    assert shard_of("x", 1) == 0
    assert len({shard_of(name, 10) for name in ("a", "b", "c", "d", "e", "f", "g")}) > 1


@pytest.fixture(scope="module")
def ctx(real_sources: SourceSet) -> WalkContext:
    return open_context(real_sources, load_shipped_edges(), ("CPU", "CUDA"))


@pytest.mark.wheels
def test_the_wheels_torchgen_names_each_generated_file(ctx: WalkContext) -> None:
    facts = glue_facts(ctx)
    assert facts.bindings["torch"].name == "python_torch_functions.cpp"
    assert facts.bindings["torch"].shards == 3
    assert facts.bindings["torch.nn"].name == "python_nn_functions.cpp"
    assert facts.bindings["method"].name == "python_variable_methods.cpp"
    assert facts.variable_type is not None and facts.variable_type.shards == 10
    assert facts.register is not None and facts.register.shard_count("CPU") == 4
    assert facts.register.shard_count("CUDA") == 1
    assert facts.stable_hash and facts.redispatch is not None
    assert {"CPU", "CUDA", "CompositeExplicitAutograd"} <= facts.register_keys
    for gen in (facts.bindings["torch"], facts.variable_type, facts.register):
        assert gen.template is not None and gen.template.path.startswith("torchgen/packaged/")
        assert gen.generator is not None and gen.generator.path.startswith("torchgen/")


def _layer(ctx: WalkContext, path: str, setting: Setting):  # type: ignore[no-untyped-def]
    report = walk_model(ctx, ALEXNET, layer=path, setting=setting)
    return report.layers[0]


@pytest.mark.wheels
def test_conv_on_cuda_names_binding_autograd_redispatch_and_registration(
        ctx: WalkContext) -> None:
    layer = _layer(ctx, "features.0", Setting("CUDA"))
    hops = {(h.operator, h.kind): h for h in layer.taken.glue}
    binding = hops[("aten::conv2d", "binding")]
    assert binding.file.startswith("python_torch_functions_")
    assert binding.function == "THPVariable_conv2d"
    assert binding.entry is not None and binding.entry.path.endswith("native_functions.yaml")
    assert "not in the wheel" in binding.note
    autograd = hops[("aten::convolution", "autograd")]
    assert autograd.file.startswith("VariableType_")
    assert autograd.entry is not None and autograd.entry.path.endswith("derivatives.yaml")
    assert hops[("aten::convolution", "redispatch")].file.startswith("Operators_")
    cudnn = hops[("aten::cudnn_convolution", "registration")]
    assert cudnn.file == "RegisterCUDA_0.cpp"
    assert cudnn.function == "wrapper_CUDA__cudnn_convolution"
    assert hops[("aten::convolution", "registration")].file.startswith(
        "RegisterCompositeExplicitAutograd_")
    # conv2d is CompositeImplicitAutograd: no wrapper of its own
    assert hops[("aten::conv2d", "autograd")].file == ""
    # the glue never counts as an operator of the path
    functions = {h.function for h in layer.taken.glue} | {h.file for h in layer.taken.glue}
    assert not functions & set(layer.taken.forward)
    assert all(name.startswith("aten::") for name in layer.taken.forward)


@pytest.mark.wheels
def test_grad_off_has_no_autograd_wrapper_and_cpu_uses_cpu_registrations(
        ctx: WalkContext) -> None:
    layer = _layer(ctx, "features.0", Setting("CPU", grad=False))
    kinds = {h.kind for h in layer.taken.glue}
    assert "autograd" not in kinds and "redispatch" not in kinds
    # mkldnn_convolution's yaml entry registers it for CompositeExplicitAutograd
    files = {h.file for h in layer.taken.glue if h.operator == "aten::mkldnn_convolution"}
    assert files == {"RegisterCompositeExplicitAutograd_0.cpp"}
    pool = _layer(ctx, "features.2", Setting("CPU", grad=False))
    files = {h.file for h in pool.taken.glue
             if h.operator == "aten::max_pool2d_with_indices"}
    assert len(files) == 1 and next(iter(files)).startswith("RegisterCPU_")


@pytest.mark.wheels
def test_linear_binding_is_the_nn_module_file(ctx: WalkContext) -> None:
    layer = _layer(ctx, "classifier.1", Setting("CPU"))
    binding = next(h for h in layer.taken.glue if h.kind == "binding")
    assert (binding.operator, binding.file) == ("aten::linear", "python_nn_functions.cpp")
    assert "torch._C._nn.linear" in binding.note


@pytest.mark.wheels
def test_json_adds_the_glue_without_renaming_the_contract(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    code = main(["walk", "--layer", "features.0", "--backend", "CUDA", "--json"])
    assert code == 0
    data = json.loads(capsys.readouterr().out)
    taken = data["layers"][0]["taken"]
    assert {"forward", "backward", "kernels", "undecided", "glue"} <= set(taken)
    kinds = {g["kind"] for g in taken["glue"]}
    assert {"binding", "autograd", "redispatch", "registration"} <= kinds
    assert all(g["template"] and g["generator"] for g in taken["glue"] if g["file"])
