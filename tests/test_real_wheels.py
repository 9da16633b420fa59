"""End to end on the real torch 2.13.0 / torchvision 0.28.0 wheels (read, never imported)."""

from __future__ import annotations

import json
import sys

import pytest

from docgen.changes.snapshot import dump_snapshot, load_snapshot, view_to_json
from docgen.classes.project import find_view
from docgen.core.records import MemberKind, Project

pytestmark = pytest.mark.wheels

CHAINS = {
    "torchvision.models.alexnet.AlexNet": ["AlexNet", "Module"],
    "torch.nn.Sequential": ["Sequential", "Module"],
    "torch.nn.Conv2d": ["Conv2d", "_ConvNd", "Module"],
    "torch.nn.ReLU": ["ReLU", "Module"],
    "torch.nn.MaxPool2d": ["MaxPool2d", "_MaxPoolNd", "Module"],
    "torch.nn.AdaptiveAvgPool2d": ["AdaptiveAvgPool2d", "_AdaptiveAvgPoolNd", "Module"],
    "torch.nn.Dropout": ["Dropout", "_DropoutNd", "Module"],
    "torch.nn.Linear": ["Linear", "Module"],
}


def test_analysis_leaves_torch_unimported(real_project: Project) -> None:
    """In-process: nothing in this interpreter imported torch (see test_no_torch.py for the
    test that would catch it even where torch is installed)."""
    assert "torch" not in sys.modules and "torchvision" not in sys.modules


@pytest.mark.parametrize(("name", "chain"), sorted(CHAINS.items()))
def test_alexnet_class_chains(real_project: Project, name: str, chain: list[str]) -> None:
    mro = find_view(real_project, name).resolution_order
    assert [q.rsplit(".", 1)[-1] for q in mro] == [*chain, "object"]


def test_versions_recorded(real_project: Project) -> None:
    versions = {d.name: d.version for d in real_project.distributions}
    assert versions["torch"].startswith("2.13.0")
    assert versions["torchvision"] == "0.28.0"


def test_show_json_conv2d_facts(real_project: Project) -> None:
    data = view_to_json(real_project, find_view(real_project, "torch.nn.Conv2d"))
    module = "torch.nn.modules.module.Module"
    members = {m["name"]: m for m in data["members"]}
    for name in ("weight", "bias"):
        assert members[name]["kind"] == "parameter"
        assert members[name]["defined_in"] == "torch.nn.modules.conv._ConvNd"
    for name in ("_parameters", "_buffers", "_modules", "training", "_forward_hooks",
                 "_forward_pre_hooks", "_backward_hooks", "_backward_pre_hooks"):
        assert members[name]["defined_in"] == module, name
        assert members[name]["inherited"] is True
    methods = {m["name"]: m for m in data["methods"]}
    assert methods["forward"]["defined_in"] == "torch.nn.modules.conv.Conv2d"
    assert methods["forward"]["overrides"] == module
    assert methods["_conv_forward"]["defined_in"] == "torch.nn.modules.conv.Conv2d"
    expected_groups = {"register_buffer": "adders", "to": "movers", "state_dict": "state",
                       "train": "mode", "eval": "mode", "zero_grad": "gradients",
                       "forward": "forward"}
    for name, group in expected_groups.items():
        assert methods[name]["group"] == group, name
    assert data["mro"][:3] == ["torch.nn.modules.conv.Conv2d",
                               "torch.nn.modules.conv._ConvNd", module]
    assert "torch.nn.Conv2d" in data["public_paths"]


def test_module_call_alias_chain(real_project: Project) -> None:
    view = find_view(real_project, "torch.nn.Module")
    methods = {r.method.name: r.method for r in view.methods}
    assert methods["__call__"].alias_of == "torch.nn.modules.module.Module._wrapped_call_impl"
    assert methods["forward"].alias_of == "torch.nn.modules.module._forward_unimplemented"
    members = {m.member.name: m.member for m in view.members}
    assert members["_parameters"].kind is MemberKind.INSTANCE_ATTRIBUTE
    assert "Parameter" in (members["_parameters"].type_text or "")


def test_conv2d_docstring_built_from_format_is_evaluated(real_project: Project) -> None:
    conv = next(c for c in real_project.classes() if c.qualname.endswith("conv.Conv2d"))
    assert conv.docstring.summary.startswith("Applies a 2D convolution")
    assert not conv.docstring.is_dynamic


def test_parameter_reaches_external_tensor_base(real_project: Project) -> None:
    view = find_view(real_project, "torch.nn.Parameter")
    assert view.resolution_order == ("torch.nn.parameter.Parameter", "torch._tensor.Tensor",
                                     "torch._C.TensorBase", "builtins.object")


def test_alexnet_submodules(real_project: Project) -> None:
    view = find_view(real_project, "torchvision.models.alexnet.AlexNet")
    own = {m.member.name: m.member.kind for m in view.members if not m.is_inherited}
    assert own == {"features": MemberKind.SUBMODULE, "avgpool": MemberKind.SUBMODULE,
                   "classifier": MemberKind.SUBMODULE}


def test_whole_torch_nn_is_covered_without_warnings(real_project: Project) -> None:
    selected = [c for c in real_project.classes() if c.is_selected]
    assert len(selected) > 250
    assert not [v for v in real_project.views if v.mro_error]
    assert real_project.diagnostics == ()


def test_snapshot_round_trip_is_byte_identical(real_project: Project) -> None:
    text = dump_snapshot(real_project)
    assert dump_snapshot(load_snapshot(text)) == text
    data = json.loads(text)
    assert data["schema"] == 1
    assert "/" not in "".join(d["spec"].split(":", 1)[-1] for d in data["distributions"]
                              if d["origin"] != "folder")
