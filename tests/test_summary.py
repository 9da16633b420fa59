"""docgen summary: constructor evaluation, shape rules, counts, CLI; synthetic and real models.

Synthetic model files are written with `write_package` and read together with the real torch
wheel (their layers are torch.nn's own classes, evaluated from torch's source). Expected
counts are computed in the test from the layer sizes the file states, never copied from a
run of docgen.
"""

from __future__ import annotations

import ast
import json
import math
import zipfile
from collections.abc import Callable, Mapping
from pathlib import Path

import pytest

from docgen.classes.resolve import ModuleIndex, Resolver
from docgen.cli.main import main
from docgen.core.records import ModelSummary, Severity
from docgen.sources.locate import SourceSet, SourceSpec, open_source
from docgen.summary.summarize import render_summary_markdown, summarize_model, summary_to_json
from tests.conftest import WritePackage

Summarize = Callable[..., ModelSummary]


def conv_params(c_in: int, c_out: int, k: int, bias: bool = True, groups: int = 1) -> int:
    return c_out * (c_in // groups) * k * k + (c_out if bias else 0)


def linear_params(n_in: int, n_out: int, bias: bool = True) -> int:
    return n_out * n_in + (n_out if bias else 0)


def conv_out(size: int, k: int, s: int = 1, p: int = 0) -> int:
    return (size + 2 * p - k) // s + 1


@pytest.fixture
def summarize(write_package: WritePackage, real_sources: SourceSet) -> Summarize:
    """Write a synthetic package `mm` and summarise `mm.<spec>` over it and the real torch."""

    def run(files: Mapping[str, str], spec: str, shape: tuple[int, ...] = (1, 3, 32, 32)
            ) -> ModelSummary:
        root = write_package({"mm/__init__.py": "", **files})
        sources = SourceSet([open_source(SourceSpec("mm", str(root))), *real_sources.trees])
        return summarize_model(Resolver(ModuleIndex(sources)), f"mm.{spec}", shape)

    return run


def rows(summary: ModelSummary) -> dict[str, object]:
    return {r.path: r for r in summary.rows if r.kind == "layer"}


def warnings(summary: ModelSummary) -> list[str]:
    return [str(d) for d in summary.diagnostics if d.severity == Severity.WARNING]


HEADER = """
import torch
import torch.nn as nn
from collections import OrderedDict
from functools import partial
"""


@pytest.mark.wheels
def test_loop_over_config_list_with_helper_function(summarize: Summarize) -> None:
    cfg = [8, "M", 16, 16, "M"]
    summary = summarize({"mm/net.py": HEADER + f'''
CFGS = {{"tiny": {cfg!r}}}

def make_layers(cfg, batch_norm=False):
    layers = []
    in_channels = 3
    for v in cfg:
        if v == "M":
            layers += [nn.MaxPool2d(kernel_size=2, stride=2)]
        else:
            conv = nn.Conv2d(in_channels, v, kernel_size=3, padding=1)
            if batch_norm:
                layers += [conv, nn.BatchNorm2d(v), nn.ReLU(inplace=True)]
            else:
                layers += [conv, nn.ReLU(inplace=True)]
            in_channels = v
    return nn.Sequential(*layers)

class Net(nn.Module):
    def __init__(self, features, num_classes=10):
        super().__init__()
        self.features = features
        self.fc = nn.Linear(16 * 8 * 8, num_classes)

    def forward(self, x):
        x = self.features(x)
        x = torch.flatten(x, 1)
        return self.fc(x)

def _net(name, batch_norm, **kwargs):
    return Net(make_layers(CFGS[name], batch_norm=batch_norm), **kwargs)

def net_bn(**kwargs):
    return _net("tiny", True, **kwargs)
'''}, "net:net_bn")
    by_path = rows(summary)
    convs = [(3, 8), (8, 16), (16, 16)]
    expected = sum(conv_params(i, o, 3) + 2 * o for i, o in convs) + linear_params(1024, 10)
    assert summary.total_params == expected
    assert by_path["features.0"].qualname == "torch.nn.modules.conv.Conv2d"
    assert by_path["features.1"].qualname == "torch.nn.modules.batchnorm.BatchNorm2d"
    assert by_path["features.3"].output_shapes == ((1, 8, 16, 16),)
    assert by_path["fc"].output_shapes == ((1, 10),)
    macs = 32 * 32 * 8 * 3 * 9 + 16 * 16 * 16 * 8 * 9 + 16 * 16 * 16 * 16 * 9 + 1024 * 10
    assert summary.total_macs == macs
    assert summary.total_buffers == sum(2 * o + 1 for _, o in convs)
    assert not warnings(summary)


@pytest.mark.wheels
def test_ordered_dict_partial_comprehension_and_module_list(summarize: Summarize) -> None:
    summary = summarize({"mm/blocks.py": HEADER + '''
class Block(nn.Module):
    expansion = 2

    def __init__(self, c, norm_layer=None):
        super().__init__()
        if norm_layer is None:
            norm_layer = nn.BatchNorm2d
        self.conv = nn.Conv2d(c, c * self.expansion // 2, 3, padding=1, bias=False)
        self.bn = norm_layer(c)
        self.relu = nn.ReLU(inplace=True)

    def forward(self, x):
        identity = x
        out = self.relu(self.bn(self.conv(x)))
        out += identity
        return out

class Net(nn.Module):
    def __init__(self, widths=(4, 4), eps=1e-3):
        super().__init__()
        norm = partial(nn.BatchNorm2d, eps=eps)
        self.stem = nn.Sequential(OrderedDict([
            ("conv", nn.Conv2d(3, widths[0], kernel_size=3, stride=2, padding=1)),
            ("act", nn.ReLU()),
        ]))
        self.blocks = nn.ModuleList([Block(w, norm_layer=norm) for w in widths])
        self.heads = nn.ModuleList()
        for i in range(2):
            self.heads.append(nn.Linear(widths[-1], 5 + i))

    def forward(self, x):
        x = self.stem(x)
        for block in self.blocks:
            x = block(x)
        x = x.mean([2, 3])
        return torch.cat([head(x) for head in self.heads], 1)
'''}, "blocks:Net")
    by_path = rows(summary)
    assert set(by_path) >= {"stem.conv", "stem.act", "blocks.0.conv", "blocks.1.bn",
                            "heads.0", "heads.1"}
    assert by_path["stem.conv"].output_shapes == ((1, 4, 16, 16),)
    assert by_path["blocks.1"].output_shapes == ((1, 4, 16, 16),)
    assert "aten::add_" in by_path["blocks.0"].ops
    assert by_path["heads.1"].output_shapes == ((1, 6),)
    assert summary.output_shapes == ((1, 11),)
    expected = (conv_params(3, 4, 3) + 2 * (conv_params(4, 4, 3, bias=False) + 8)
                + linear_params(4, 5) + linear_params(4, 6))
    assert summary.total_params == expected
    assert by_path["stem.conv"].call.startswith("nn.Conv2d(3, widths[0]")


@pytest.mark.wheels
def test_setattr_getattr_module_dict_and_view(summarize: Summarize) -> None:
    summary = summarize({"mm/dyn.py": HEADER + '''
import torch.nn.functional as F

class Net(nn.Module):
    def __init__(self, depth=3, width=6):
        super().__init__()
        channels = [3] + [width] * depth
        for i, (c_in, c_out) in enumerate(zip(channels, channels[1:]), start=1):
            setattr(self, f"conv{i}", nn.Conv2d(c_in, c_out, 3, stride=2, padding=1))
        self.depth = depth
        self.heads = nn.ModuleDict({"cls": nn.Linear(width * 4 * 4, 5),
                                    "box": nn.Linear(width * 4 * 4, 4)})

    def forward(self, x):
        for i in range(1, self.depth + 1):
            x = F.relu(getattr(self, f"conv{i}")(x))
        x = x.view(x.size(0), -1)
        outs = {name: head(x) for name, head in self.heads.items()}
        return torch.cat((outs["cls"], outs["box"]), dim=1)
'''}, "dyn:Net")
    by_path = rows(summary)
    assert [p for p in by_path if p.startswith("conv")] == ["conv1", "conv2", "conv3"]
    assert by_path["conv3"].output_shapes == ((1, 6, 4, 4),)
    assert by_path["heads.box"].output_shapes == ((1, 4),)
    assert summary.output_shapes == ((1, 9),)
    assert summary.total_params == (conv_params(3, 6, 3) + 2 * conv_params(6, 6, 3)
                                    + linear_params(96, 5) + linear_params(96, 4))
    assert summary.is_complete


@pytest.mark.wheels
def test_user_parameter_layer_is_counted_from_its_source(summarize: Summarize) -> None:
    summary = summarize({"mm/custom.py": HEADER + '''
class Scale(nn.Module):
    def __init__(self, channels, rank):
        super().__init__()
        self.w = nn.Parameter(torch.randn(channels, rank))
        self.frozen = nn.Parameter(torch.zeros(rank), requires_grad=False)
        self.register_buffer("count", torch.tensor(0))

    def forward(self, x):
        return x * 2

class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.scale = Scale(3, 7)

    def forward(self, x):
        return self.scale(x)
'''}, "custom:Net")
    row = rows(summary)["scale"]
    assert row.params == 3 * 7 + 7
    assert row.trainable == 3 * 7
    assert row.output_shapes == ((1, 3, 32, 32),)
    weight = next(t for t in row.tensors if t.name == "w")
    assert weight.shape == (3, 7)
    assert weight.location is not None and weight.location.path == "mm/custom.py"
    assert summary.total_buffers == 1


@pytest.mark.wheels
def test_unevaluable_statement_is_reported_with_its_location(summarize: Summarize) -> None:
    source = HEADER + '''
import secrets

class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3)
        self.head = nn.Linear(secrets.choice([1, 2]), 3)

    def forward(self, x):
        return self.conv(x)
'''
    summary = summarize({"mm/bad.py": source}, "bad:Net")
    line = next(i for i, text in enumerate(source.splitlines(), 1) if "secrets.choice" in text)
    head = rows(summary)["head"]
    assert head.params is None and summary.total_params is None
    assert any(f"mm/bad.py:{line}" in n and "secrets.choice" in n for n in head.notes)
    assert any(w.startswith("torch/nn/modules/linear.py:") and f"mm/bad.py:{line}" in w
               for w in warnings(summary))
    reported = [str(d) for d in summary.diagnostics]
    assert any(d.startswith(f"mm/bad.py:{line}:") and "secrets.choice" in d for d in reported)
    assert rows(summary)["conv"].params == conv_params(3, 4, 3)
    assert not summary.is_complete and summary_to_json(summary)["complete"] is False


@pytest.mark.wheels
def test_unknown_reaches_the_layer_that_uses_it_with_its_first_cause(summarize: Summarize
                                                                      ) -> None:
    source = HEADER + """
import secrets

class Net(nn.Module):
    def __init__(self):
        super().__init__()
        a = secrets.randbelow(3)
        b = 8 if a else 4
        self.fc = nn.Linear(b, 2)

    def forward(self, x):
        return x
"""
    summary = summarize({"mm/cause.py": source}, "cause:Net")
    line = next(i for i, text in enumerate(source.splitlines(), 1) if "randbelow" in text)
    notes = rows(summary)["fc"].notes
    assert notes and all(f"mm/cause.py:{line}" in n for n in notes if "not evaluated" in n)


@pytest.mark.wheels
def test_names_set_in_an_undecided_branch_become_unknown(summarize: Summarize) -> None:
    summary = summarize({"mm/branch.py": HEADER + """
import secrets

class Net(nn.Module):
    def __init__(self):
        super().__init__()
        width = 4
        if secrets.randbelow(2):
            width = 8
        self.fc = nn.Linear(width, 2)
        self.ok = nn.Linear(3, 2)

    def forward(self, x):
        return self.ok(x)
"""}, "branch:Net", (1, 3))
    by_path = rows(summary)
    assert by_path["fc"].params is None
    assert any("width may be set by `if secrets.randbelow(2):`" in n for n in by_path["fc"].notes)
    assert by_path["ok"].params == linear_params(3, 2)
    assert not summary.is_complete


@pytest.mark.wheels
def test_helper_of_another_module_filling_kwargs_is_evaluated(summarize: Summarize) -> None:
    summary = summarize({
        "mm/util.py": """
            def overwrite(kwargs, name, value):
                kwargs[name] = value

            def log_usage(obj):
                pass
            """,
        "mm/wide.py": HEADER + """
from mm.util import overwrite, log_usage

class Net(nn.Module):
    def __init__(self, width=4):
        super().__init__()
        log_usage(self)
        self.conv = nn.Conv2d(3, width, 1)

    def forward(self, x):
        return self.conv(x)

def wide(**kwargs):
    overwrite(kwargs, "width", 16)
    nn.init.zeros_(torch.empty(3))
    return Net(**kwargs)
"""}, "wide:wide")
    assert rows(summary)["conv"].params == conv_params(3, 16, 1)
    assert summary.is_complete


@pytest.mark.wheels
def test_raise_reached_in_construction_is_an_error(summarize: Summarize) -> None:
    from docgen.core.errors import DocgenError

    with pytest.raises(DocgenError, match="groups must be a positive integer"):
        summarize({"mm/raise_.py": HEADER + '''
def build():
    return nn.Conv2d(3, 4, 3, groups=0)
'''}, "raise_:build")


@pytest.mark.wheels
def test_shape_not_derived_is_said_in_the_row(summarize: Summarize) -> None:
    summary = summarize({"mm/small.py": HEADER + '''
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 4, kernel_size=7)

    def forward(self, x):
        return self.conv(x)
'''}, "small:Net", (1, 3, 4, 4))
    row = rows(summary)["conv"]
    assert row.output_shapes is None
    assert any("empty" in n for n in row.notes)
    assert row.macs is None and summary.total_macs is None


# ----------------------------------------------------------------- real torchvision models

def _weights_meta(wheel: Path, module: str, weights_class: str) -> dict[str, float]:
    """num_params and _ops of IMAGENET1K_V1, read from the torchvision source with ast."""
    with zipfile.ZipFile(wheel) as zf:
        tree = ast.parse(zf.read(f"torchvision/models/{module}.py"))
    for node in ast.walk(tree):
        if isinstance(node, ast.ClassDef) and node.name == weights_class:
            for call in ast.walk(node):
                if isinstance(call, ast.Dict):
                    values = {k.value: v for k, v in zip(call.keys, call.values, strict=True)
                              if isinstance(k, ast.Constant)}
                    if "_ops" in values:
                        found = {k: ast.literal_eval(values[k]) for k in ("_ops", "num_params")
                                 if k in values}
                        if "num_params" not in found:  # shared in a **_COMMON_META dict
                            found["num_params"] = _module_constant(tree, "num_params")
                        return found
    raise AssertionError(f"no meta for {weights_class}")


def _module_constant(tree: ast.Module, key: str) -> int:
    for node in ast.walk(tree):
        if isinstance(node, ast.Dict):
            for k, v in zip(node.keys, node.values, strict=False):
                if isinstance(k, ast.Constant) and k.value == key:
                    return int(ast.literal_eval(v))
    raise AssertionError(key)


REAL_MODELS = [
    ("alexnet", "AlexNet", "AlexNet_Weights"),
    ("vgg", "vgg16", "VGG16_Weights"),
    ("resnet", "resnet18", "ResNet18_Weights"),
    ("squeezenet", "squeezenet1_0", "SqueezeNet1_0_Weights"),
    ("mobilenetv2", "mobilenet_v2", "MobileNet_V2_Weights"),
    ("densenet", "densenet121", "DenseNet121_Weights"),
    ("resnet", "resnext50_32x4d", "ResNeXt50_32X4D_Weights"),  # kwargs filled by a helper
]


@pytest.fixture(scope="module")
def real_resolver(real_sources: SourceSet) -> Resolver:
    return Resolver(ModuleIndex(real_sources))


@pytest.mark.wheels
@pytest.mark.parametrize(("module", "builder", "weights"), REAL_MODELS)
def test_real_models_match_torchvision_weights_meta(
        module: str, builder: str, weights: str, real_wheels: dict[str, Path],
        real_sources: SourceSet) -> None:
    meta = _weights_meta(real_wheels["torchvision"], module, weights)
    summary = summarize_model(Resolver(ModuleIndex(real_sources)),
                              f"torchvision.models.{module}:{builder}")
    assert summary.total_params == meta["num_params"]
    assert summary.total_macs is not None
    assert round(summary.total_macs / 1e9, 3) == pytest.approx(meta["_ops"], abs=0.0011)
    assert summary.output_shapes == ((1, 1000),)


@pytest.mark.wheels
def test_vit_parameters_and_macs_match_torchvision_ops(
        real_wheels: dict[str, Path], real_resolver: Resolver) -> None:
    meta = _weights_meta(real_wheels["torchvision"], "vision_transformer", "ViT_B_16_Weights")
    summary = summarize_model(real_resolver, "torchvision.models.vision_transformer:vit_b_16")
    assert summary.total_params == meta["num_params"]
    assert summary.output_shapes == ((1, 1000),) and summary.is_complete
    # torchvision's figure counts the attention matmuls too (Q.K^T and A.V, 197x197x768 per
    # layer), as torch.utils.flop_counter does: so does docgen.
    assert summary.total_macs is not None
    assert round(summary.total_macs / 1e9, 3) == meta["_ops"]
    steps = [r for r in summary.rows if r.kind == "function"]
    assert any(r.qualname == "operator.add" for r in steps)


@pytest.mark.wheels
def test_alexnet_rows(real_resolver: Resolver) -> None:
    summary = summarize_model(real_resolver, "torchvision.models.alexnet:AlexNet")
    by_path = rows(summary)
    first = by_path["features.0"]
    assert first.output_shapes == ((1, 64, conv_out(224, 11, 4, 2), conv_out(224, 11, 4, 2)),)
    assert first.call == "nn.Conv2d(3, 64, kernel_size=11, stride=4, padding=2)"
    assert first.location is not None and first.location.path == "torchvision/models/alexnet.py"
    assert first.ops == ("aten::conv2d",)
    assert [t.shape for t in first.tensors] == [(64, 3, 11, 11), (64,)]
    assert by_path["classifier.6"].output_shapes == ((1, 1000),)
    assert by_path["avgpool"].ops == ("aten::adaptive_avg_pool2d",)
    assert summary.param_bytes == 4 * (summary.total_params or 0)
    assert not warnings(summary)
    paths = [r.path for r in summary.rows]
    assert paths[:3] == ["", "features", "features.0"]


@pytest.mark.wheels
def test_markdown_table_links_layer_classes(real_resolver: Resolver) -> None:
    from docgen.core.templating import make_environment

    summary = summarize_model(real_resolver, "torchvision.models.alexnet:AlexNet")
    env = make_environment()
    text = render_summary_markdown(
        summary, env, {"torch.nn.modules.conv.Conv2d": "../torch.nn.Conv2d.md"})
    table = [line for line in text.splitlines() if line.startswith("|")]
    assert len(table) == 2 + len(summary.rows) + 2 + 5
    assert "[Conv2d](../torch.nn.Conv2d.md)" in text
    assert f"| {summary.total_params:,} |" in text
    assert all(line.count("|") - line.count("\\|") == 8 for line in table[:2 + len(summary.rows)])


@pytest.mark.wheels
def test_input_shape_changes_shapes_not_params(real_resolver: Resolver) -> None:
    small = summarize_model(real_resolver, "torchvision.models.alexnet:AlexNet", (2, 3, 128, 128))
    big = summarize_model(real_resolver, "torchvision.models.alexnet:AlexNet")
    assert small.total_params == big.total_params
    assert rows(small)["features.0"].output_shapes == ((2, 64, conv_out(128, 11, 4, 2),
                                                         conv_out(128, 11, 4, 2)),)
    assert small.output_shapes == ((2, 1000),)


@pytest.mark.wheels
def test_cli_json_and_table(capsys: pytest.CaptureFixture[str],
                            real_wheels: dict[str, Path]) -> None:
    assert main(["summary", "torchvision.models.vgg:vgg16", "--json", "--offline"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["total_params"] == sum(r["params"] for r in data["layers"])
    assert data["total_macs"] == sum(r["macs"] for r in data["layers"])
    assert data["input_shape"] == [1, 3, 224, 224]
    assert data["layers"][1]["path"] == "features"
    assert main(["summary", "--input", "1,3,64,64", "--offline"]) == 0
    out = capsys.readouterr().out
    assert "features.0" in out and "Total params" in out and "Conv2d" in out
    # float32 parameters: 2**20-byte MiB and 10**6-byte MB, each labelled as what it is
    assert main(["summary", "--offline"]) == 0
    assert "233.08 MiB (244.40 MB)" in capsys.readouterr().out


@pytest.mark.wheels
def test_cli_strict_fails_on_unevaluated_statements(write_package: WritePackage,
                                                   real_wheels: dict[str, Path]) -> None:
    root = write_package({"mm/__init__.py": "", "mm/net.py": HEADER + """
import secrets

class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(secrets.randbelow(9), 2)

    def forward(self, x):
        return self.fc(x)
"""})
    args = ["summary", "mm.net:Net", "--source", f"mm={root}", "--input", "1,4", "--offline"]
    assert main(args) == 0
    assert main([*args, "--strict"]) == 1


def test_cli_rejects_bad_input_shape(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["summary", "--input", "1,x,3", "--offline"]) == 2


@pytest.mark.wheels
@pytest.mark.parametrize(("shape", "why"), [
    ("1,4,224,224", "has 4 channels; the convolution expects 3"),
    ("1,3,1,1", "convolution output would be empty"),
    ("1,3,62,62", "pooling output would be empty"),
    ("1,3,224,224,2", "input of rank 5 for a 2-d convolution"),
])
def test_cli_input_the_model_rejects_is_an_error(shape: str, why: str,
                                                  capsys: pytest.CaptureFixture[str],
                                                  real_wheels: dict[str, Path]) -> None:
    """An input torch would raise on: exit 2, an error naming the model's line and the
    operator, the table still printed, and never `complete`."""
    assert main(["summary", "--input", shape, "--offline"]) == 2
    captured = capsys.readouterr()
    errors = [line for line in captured.err.splitlines() if line.startswith("ERROR:")]
    assert len(errors) == 1 and why in errors[0]
    assert "torchvision/models/alexnet.py:" in errors[0] and "Traceback" not in captured.err
    assert "features.0" in captured.out
    assert main(["summary", "--input", shape, "--offline", "--json"]) == 2
    data = json.loads(capsys.readouterr().out)
    assert data["complete"] is False
    assert [d["severity"] for d in data["diagnostics"]].count("error") == 1


def test_json_has_totals_at_top_level() -> None:
    summary = ModelSummary("m:M", (1,), (), None, 3, 3, 0, 5, 12, ())
    data = summary_to_json(summary)
    assert data["total_params"] == 3 and data["total_macs"] == 5
    assert math.isclose(data["param_bytes"], 12)


@pytest.mark.wheels
def test_deepcopied_block_args_are_popped_per_copy(summarize: Summarize) -> None:
    summary = summarize({"mm/net.py": HEADER + '''
from copy import deepcopy

def _repeat(args, n):
    return [deepcopy(args) for _ in range(n)]

class Net(nn.Module):
    def __init__(self):
        super().__init__()
        blocks = []
        c = 3
        for ba in _repeat({"kind": "conv", "out": 4}, 3):
            kind = ba.pop("kind")
            blocks.append(nn.Conv2d(c, ba["out"], 1) if kind == "conv" else nn.Identity())
            c = ba["out"]
        self.blocks = nn.Sequential(*blocks)

    def forward(self, x):
        return self.blocks(x)
'''}, "net:Net")
    assert summary.total_params == conv_params(3, 4, 1) + 2 * conv_params(4, 4, 1)
    assert not warnings(summary)


@pytest.mark.wheels
def test_len_of_a_tensor_and_reflected_operators_on_known_values(summarize: Summarize) -> None:
    summary = summarize({"mm/net.py": HEADER + '''
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        stages = len(torch.unique(torch.tensor([8, 8, 16, 32])))  # 3
        powers = (2 ** torch.arange(3)).tolist()  # [1, 2, 4]
        rest = (10 - torch.arange(3)).tolist()  # [10, 9, 8]
        self.fc = nn.Linear(stages + powers[1] + rest[1], 2)

    def forward(self, x):
        return self.fc(x)
'''}, "net:Net", (1, 14))
    assert summary.total_params == linear_params(14, 2)
    assert not warnings(summary)


@pytest.mark.wheels
def test_top_level_registrations_of_an_imported_module_run(summarize: Summarize) -> None:
    summary = summarize({"mm/registry.py": '''
_blocks = dict(plain=None)

def register_block(name, fn):
    _blocks[name] = fn

def create_block(name, **kwargs):
    assert name in _blocks, name
    return _blocks[name](**kwargs)
''', "mm/net.py": HEADER + '''
from mm.registry import create_block, register_block

class Block(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.conv = nn.Conv2d(c, c, 1)

    def forward(self, x):
        return self.conv(x)

register_block("mine", Block)
undefined_helper("a failing registration is no warning")

class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.block = create_block("mine", c=3)

    def forward(self, x):
        return self.block(x)
'''}, "net:Net")
    assert summary.total_params == conv_params(3, 3, 1)
    assert not warnings(summary)


@pytest.mark.wheels
def test_partial_of_a_partial_and_isinstance_of_type(summarize: Summarize) -> None:
    summary = summarize({"mm/net.py": HEADER + '''
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        inner = partial(nn.Conv2d, kernel_size=1)
        outer = partial(inner, bias=False)
        assert isinstance(nn.Conv2d, type) and not isinstance(inner, type)
        if outer.func is nn.Conv2d and outer.keywords == {"kernel_size": 1, "bias": False}:
            self.conv = outer(3, 4)

    def forward(self, x):
        return self.conv(x)
'''}, "net:Net")
    assert summary.total_params == conv_params(3, 4, 1, bias=False)
    assert not warnings(summary)
