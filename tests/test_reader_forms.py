"""The Python forms and operators that segmentation, video and optical-flow models use, on a
synthetic package read with the real torch wheel: `del` of items and attributes (torchvision's
IntermediateLayerGetter), OrderedDict outputs, interpolation back to the input's size, and a
forward that takes two inputs (RAFT), one `--input` per input.

Expected values are derived in the test from what the file states.
"""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest

from docgen.classes.resolve import ModuleIndex, Resolver
from docgen.core.records import Severity
from docgen.models.reader import read_model
from docgen.sources.locate import SourceSet, SourceSpec, open_source
from docgen.summary.summarize import summary_from_reading

FORMS = '''
import operator
from collections import OrderedDict
from functools import reduce

import torch
import torch.nn as nn
import torch.nn.functional as F


class Getter(nn.ModuleDict):
    """Keeps the children of `model` up to the last one named in `return_layers`."""

    def __init__(self, model, return_layers):
        wanted = {str(k): str(v) for k, v in return_layers.items()}
        layers = OrderedDict()
        for name, module in model.named_children():
            layers[name] = module
            if name in wanted:
                del wanted[name]
            if not wanted:
                break
        super().__init__(layers)
        self.return_layers = return_layers

    def forward(self, x):
        out = OrderedDict()
        for name, module in self.items():
            x = module(x)
            if name in self.return_layers:
                out[self.return_layers[name]] = x
        return out


class Trunk(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 8, 3, stride=2, padding=1)
        self.conv2 = nn.Conv2d(8, 16, 3, stride=2, padding=1)
        self.fc = nn.Linear(16, 10)  # after the last layer returned: dropped


class Seg(nn.Module):
    def __init__(self, classes=5):
        super().__init__()
        self.backbone = Getter(Trunk(), {"conv1": "aux", "conv2": "out"})
        self.head = nn.Conv2d(16, classes, 1)
        self.scratch = nn.Linear(4, 4)
        del self.scratch

    def forward(self, x):
        size = x.shape[-2:]
        features = self.backbone(x)
        result = OrderedDict()
        out = self.head(features["out"])
        result["out"] = F.interpolate(out, size=size, mode="bilinear", align_corners=False)
        return result


def prod(values):
    return reduce(operator.mul, values, 1)


class NoInplace(nn.Module):
    def forward(self, x):
        return x


def make_act(layer, inplace=True):
    try:
        return layer(inplace=inplace)
    except TypeError:  # the layer takes no `inplace`
        return layer()


SIZES = [2, 3]
SIZES = SIZES + [4]  # a rebinding reads the earlier value


class Tricks(nn.Module):
    def __init__(self):
        super().__init__()
        self.proj = nn.Linear(prod(SIZES), 4)
        self.proj.weight.data *= 0.5
        self.act = make_act(NoInplace)
        self.rnn = nn.LSTM(4, 6, batch_first=True)
        self.forward = self.forward_fast

    def forward_fast(self, x):
        out, _ = self.rnn(self.act(self.proj(x)))
        return out


class Probe(nn.Module):
    """Runs its body once while being built to learn its width (as SSD's backbone probe)."""

    def __init__(self):
        super().__init__()
        self.body = nn.Conv2d(3, 4, 3)
        with torch.no_grad():
            probe = self.body(torch.zeros(1, 3, 32, 32))
        self.head = nn.Linear(probe.shape[1], 2)

    def forward(self, x):
        return self.head(self.body(x).mean((2, 3)))


class Flow(nn.Module):
    def __init__(self):
        super().__init__()
        self.encoder = nn.Conv2d(3, 4, 3, padding=1)

    def forward(self, image1, image2, iterations=2):
        pair = torch.cat([self.encoder(image1), self.encoder(image2)], dim=0)
        return pair.repeat(iterations, 1, 1, 1)
'''


REGISTRY = '''
import sys
from collections import defaultdict, deque
from dataclasses import dataclass, field, replace

_cfgs = {}
_names = defaultdict(deque)


@dataclass
class Cfg:
    input_size: tuple = (3, 224, 224)
    tags: deque = field(default_factory=deque)


def register(fn):
    """Registers the default cfg the defining module declares for `fn`."""
    module = sys.modules[fn.__module__]
    _names[fn.__module__].appendleft(fn.__name__)
    if hasattr(module, "default_cfgs") and fn.__name__ in module.default_cfgs:
        _cfgs[fn.__name__] = replace(module.default_cfgs[fn.__name__], tags=_names[fn.__module__])
    return fn


def cfg_of(name):
    return _cfgs.get(name, Cfg())
'''

ZOO = '''
import torch.nn as nn

from fm.registry import Cfg, cfg_of, register

default_cfgs = {"net_240": Cfg(input_size=(3, 240, 240))}


class Net(nn.Module):
    def __init__(self, img_size=224):
        super().__init__()
        self.patch = nn.Conv2d(3, 8, 16, stride=16)
        self.pos = nn.Parameter(torch.zeros(1, 8, img_size // 16, img_size // 16))
        self.pretrained_cfg = {"input_size": (3, img_size, img_size)}

    def forward(self, x):
        return self.patch(x) + self.pos


def _create(variant):
    cfg = cfg_of(variant)
    return Net(img_size=cfg.input_size[-1])


@register
def net_240():
    return _create("net_240")


@register
def net_default():
    return _create("net_default")
'''


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder: Path = tmp_path_factory.mktemp("forms")
    (folder / "fm").mkdir()
    (folder / "fm" / "__init__.py").write_text("")
    (folder / "fm" / "models.py").write_text(textwrap.dedent(FORMS))
    (folder / "fm" / "registry.py").write_text(textwrap.dedent(REGISTRY))
    (folder / "fm" / "zoo.py").write_text("import torch\n" + textwrap.dedent(ZOO))
    return folder


@pytest.fixture(scope="module")
def resolver(root: Path, real_sources: SourceSet) -> Resolver:
    sources = SourceSet([open_source(SourceSpec("fm", str(root))), *real_sources.trees])
    return Resolver(ModuleIndex(sources))


def _conv(c_in: int, c_out: int, k: int) -> int:
    return c_out * c_in * k * k + c_out


def test_deleted_items_and_attributes_shape_the_module_tree(resolver: Resolver) -> None:
    reading = read_model(resolver, "fm.models:Seg", (1, 3, 32, 48))
    assert reading.is_complete, [str(d) for d in reading.diagnostics]
    paths = [layer.path for layer in reading.layers]
    assert paths == ["", "backbone", "backbone.conv1", "backbone.conv2", "head"]
    summary = summary_from_reading(reading)
    assert summary.total_params == _conv(3, 8, 3) + _conv(8, 16, 3) + _conv(16, 5, 1)
    # an OrderedDict output has the shapes of its values; interpolate goes back to the input
    assert reading.output_shapes == ((1, 5, 32, 48),)
    backbone = next(layer for layer in reading.layers if layer.path == "backbone")
    assert backbone.output_shapes == ((1, 8, 16, 24), (1, 16, 8, 12))
    macs = 8 * 16 * 24 * 3 * 9 + 16 * 8 * 12 * 8 * 9 + 5 * 8 * 12 * 16
    assert summary.total_macs == macs


def test_a_forward_of_two_inputs_takes_one_shape_each(resolver: Resolver) -> None:
    reading = read_model(resolver, "fm.models:Flow", ((1, 3, 8, 8), (2, 3, 8, 8)))
    assert reading.is_complete, [str(d) for d in reading.diagnostics]
    assert reading.input_shape == (1, 3, 8, 8)
    assert reading.more_inputs == ((2, 3, 8, 8),)
    assert reading.output_shapes == ((6, 4, 8, 8),)  # (1 + 2) images, repeated twice
    summary = summary_from_reading(reading)
    assert summary.total_macs == (1 + 2) * 4 * 8 * 8 * 3 * 9


def test_a_missing_input_takes_the_last_shape_and_says_so(resolver: Resolver) -> None:
    reading = read_model(resolver, "fm.models:Flow", (1, 3, 8, 8))
    assert reading.output_shapes == ((4, 4, 8, 8),)
    notes = [d for d in reading.diagnostics if "image2" in d.message]
    assert notes and notes[0].severity == Severity.INFO
    assert "[1, 3, 8, 8]" in notes[0].message and notes[0].path == "fm/models.py"


def test_input_once_per_input_on_the_command_line(root: Path, real_wheels: dict[str, Path],
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    from docgen.cli.main import main

    sources = ["--source", f"fm={root}", "--source", f"torch={real_wheels['torch']}"]
    assert main(["-q", "summary", "fm.models:Flow", "--input", "1,3,8,8", "--input", "2,3,8,8",
                 "--json", *sources]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["input_shapes"] == [[1, 3, 8, 8], [2, 3, 8, 8]]
    assert data["output_shapes"] == [[6, 4, 8, 8]]
    assert main(["-q", "summary", "fm.models:Flow", "--input", "1,3,8,8", "--input", "2,x",
                 *sources]) == 2


@pytest.mark.parametrize(("builder", "side"), [("net_240", 240), ("net_default", 224)])
def test_a_registering_decorator_runs_and_the_model_declares_its_input(
        resolver: Resolver, builder: str, side: int) -> None:
    """`@register` (timm's `@register_model`) runs as on import: `sys.modules[fn.__module__]`,
    the module's `default_cfgs`, `defaultdict`/`deque`, `dataclasses.replace`. Without an
    input, the model's own `pretrained_cfg['input_size']` is the input (batch 1)."""
    reading = read_model(resolver, f"fm.zoo:{builder}")
    assert reading.is_complete, [str(d) for d in reading.diagnostics]
    assert reading.input_shape == (1, 3, side, side)
    assert reading.output_shapes == ((1, 8, side // 16, side // 16),)
    pos = next(t for t in reading.layers[0].tensors if t.name == "pos")
    assert pos.shape == (1, 8, side // 16, side // 16)
    said = [d.message for d in reading.diagnostics if d.message.startswith("input [1, 3")]
    assert said and "pretrained_cfg" in said[0]


def test_without_a_declared_input_the_default_is_used_and_said(resolver: Resolver) -> None:
    reading = read_model(resolver, "fm.models:Seg")
    assert reading.input_shape == (1, 3, 224, 224)
    assert any("the default" in d.message and d.severity == Severity.INFO
               for d in reading.diagnostics)


def test_try_except_type_error_rebinding_data_and_an_instance_forward(
        resolver: Resolver) -> None:
    """`except TypeError` catches a call with unfitting arguments (timm's create_act), a
    top-level rebinding reads the earlier value, `w.data *= s` keeps the shape, an instance's
    own `forward` attribute is what its call runs, and nn.LSTM's `_VF.lstm` has its shapes."""
    reading = read_model(resolver, "fm.models:Tricks", (2, 5, 24))
    assert reading.is_complete, [str(d) for d in reading.diagnostics]
    by_path = {layer.path: layer for layer in reading.layers}
    assert dict(by_path["proj"].arguments)["in_features"] == str(2 * 3 * 4)
    assert by_path["act"].qualname == "fm.models.NoInplace"
    assert reading.output_shapes == ((2, 5, 6),)
    lstm = 4 * 6 * 4 + 4 * 6 * 6 + 2 * 4 * 6
    assert summary_from_reading(reading).total_params == (24 * 4 + 4) + lstm


def test_calls_made_while_building_are_not_counted(resolver: Resolver) -> None:
    reading = read_model(resolver, "fm.models:Probe", (1, 3, 8, 8))
    assert reading.is_complete, [str(d) for d in reading.diagnostics]
    body = next(layer for layer in reading.layers if layer.path == "body")
    assert body.output_shapes == ((1, 4, 6, 6),) and not body.notes  # one call, the forward's
    assert summary_from_reading(reading).total_macs == 4 * 6 * 6 * 3 * 9 + 2 * 4
    assert [s.target for s in reading.steps if s.kind == "module"] == ["body", "head"]
