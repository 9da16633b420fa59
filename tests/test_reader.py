"""The one reader of a model (docgen.models.reader): module tree, constructor values, forward steps.

A synthetic package `rd` is read together with the real torch wheel (its layers are torch.nn's
own classes, evaluated from torch's source). Expected values are derived in the test from what
the file states.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from docgen.classes.resolve import ModuleIndex, Resolver
from docgen.core.errors import ConfigError, DocgenError
from docgen.core.records import Severity
from docgen.models.reader import ForwardStep, ModelReading, read_model, value_text
from docgen.sources.locate import SourceSet, SourceSpec, open_source

NET = '''
import torch
import torch.nn as nn
import torch.nn.functional as F


class Block(nn.Module):
    def __init__(self, channels, scale=2):
        super().__init__()
        self.conv = nn.Conv2d(channels, channels, kernel_size=3, padding=1)
        self.bn = nn.BatchNorm2d(channels)

    def forward(self, x):
        identity = x
        out = self.bn(self.conv(x))
        out += identity
        return F.relu(out)


class Net(nn.Module):
    def __init__(self, num_classes=10, width=8):
        super().__init__()
        self.stem = nn.Conv2d(3, width, kernel_size=(5, 5), stride=2)
        self.blocks = nn.Sequential(*[Block(width) for _ in range(2)])
        self.head = nn.Linear(width * 14 * 14, num_classes)

    def forward(self, x):
        x = self.stem(x)
        x = self.blocks(x)
        x = torch.flatten(x, 1)
        x = x.view(x.size(0), -1)
        return self.head(x)


def small(**kwargs):
    return Net(num_classes=4, **kwargs)


def width():
    return 8
'''


ZOO = {
    "rd/layers/__init__.py": "from .make import make\nfrom .norm import Norm\n",
    "rd/layers/make.py": """
        import torch.nn as nn


        def make(channels, kind="conv"):
            return nn.Conv2d(channels, channels, 1) if kind == "conv" else nn.Identity()
    """,
    "rd/layers/norm.py": """
        import torch.nn as nn


        class Norm(nn.BatchNorm2d):
            pass
    """,
    "rd/zoo.py": """
        import os
        from dataclasses import asdict, dataclass, field, replace
        from enum import Enum
        from functools import partial

        import torch.nn as nn

        from rd import layers
        from rd.layers import make


        class Size(Enum):
            SMALL = {"width": 4}
            LARGE = {"width": 16}


        @dataclass
        class Cfg:
            width: int = 8
            depths: list = field(default_factory=lambda: [1, 2])
            act: str = field(default="relu")


        class Zoo(nn.Module):
            def __init__(self, size=Size.SMALL, cfg=None, norm=partial(layers.Norm, eps=1e-3)):
                super().__init__()
                if not isinstance(size, Size):
                    raise TypeError("size")
                cfg = replace(cfg or Cfg(), width=size.value["width"])
                assert asdict(cfg)["depths"] == [1, 2]
                extra = int(os.environ.get("ZOO_EXTRA", "0"))
                width = cfg.width + extra
                self.stem = nn.Conv2d(3, width, 3, padding=1)
                self.norm = norm(width) if isinstance(norm, partial) else nn.Identity()
                kinds = ("conv",) if isinstance(cfg.depths, tuple) else ("conv", "id")
                self.blocks = nn.Sequential(*[layers.make(width, k) for k in kinds])
                self.last = make(width)

            def forward(self, x):
                return self.last(self.blocks(self.norm(self.stem(x))))
    """,
}


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder: Path = tmp_path_factory.mktemp("reader")
    (folder / "rd").mkdir()
    (folder / "rd" / "__init__.py").write_text("")
    (folder / "rd" / "net.py").write_text(textwrap.dedent(NET))
    for rel, text in ZOO.items():
        (folder / rel).parent.mkdir(parents=True, exist_ok=True)
        (folder / rel).write_text(textwrap.dedent(text))
    return folder


@pytest.fixture(scope="module")
def resolver(root: Path, real_sources: SourceSet) -> Resolver:
    sources = SourceSet([open_source(SourceSpec("rd", str(root))), *real_sources.trees])
    return Resolver(ModuleIndex(sources))


@pytest.fixture(scope="module")
def reading(resolver: Resolver) -> ModelReading:
    return read_model(resolver, "rd.net:Net", (2, 3, 32, 32))


def test_layers_form_the_module_tree_in_registration_order(reading: ModelReading) -> None:
    paths = [layer.path for layer in reading.layers]
    assert paths == ["", "stem", "blocks", "blocks.0", "blocks.0.conv", "blocks.0.bn",
                     "blocks.1", "blocks.1.conv", "blocks.1.bn", "head"]
    by_path = {layer.path: layer for layer in reading.layers}
    assert by_path[""].children == ("stem", "blocks", "head")
    assert by_path["blocks"].children == ("blocks.0", "blocks.1")
    assert by_path["blocks.0"].qualname == "rd.net.Block"
    assert by_path["stem"].qualname == "torch.nn.modules.conv.Conv2d"


def test_constructor_values_by_parameter_name(reading: ModelReading) -> None:
    by_path = {layer.path: layer for layer in reading.layers}
    stem = dict(by_path["stem"].arguments)
    assert stem["in_channels"] == "3" and stem["out_channels"] == "8"
    assert stem["kernel_size"] == "(5, 5)" and stem["stride"] == "2"
    assert stem["bias"] == "True"  # a default, evaluated
    assert dict(by_path[""].arguments) == {"num_classes": "10", "width": "8"}
    assert dict(by_path["blocks.1"].arguments) == {"channels": "8", "scale": "2"}
    assert by_path["stem"].call == "nn.Conv2d(3, width, kernel_size=(5, 5), stride=2)"
    assert by_path["stem"].location is not None
    assert by_path["stem"].location.path == "rd/net.py"
    assert by_path["stem"].location.line == NET.splitlines().index(
        "        self.stem = nn.Conv2d(3, width, kernel_size=(5, 5), stride=2)") + 1


def _steps(reading: ModelReading, caller: str) -> list[ForwardStep]:
    return [s for s in reading.steps if s.caller == caller]


def test_forward_steps_are_layer_calls_and_functions_in_order(reading: ModelReading) -> None:
    root = [(s.kind, s.target) for s in _steps(reading, "")]
    assert root == [("module", "stem"), ("module", "blocks"), ("function", "torch.flatten"),
                    ("function", "torch.Tensor.view"), ("module", "head")]
    block = [(s.kind, s.target) for s in _steps(reading, "blocks.0")]
    assert block == [("module", "blocks.0.conv"), ("module", "blocks.0.bn"),
                     ("function", "operator.iadd"), ("function", "torch.nn.functional.relu")]
    size = (32 - 5) // 2 + 1
    flatten = _steps(reading, "")[2]
    assert flatten.input_shapes == ((2, 8, size, size),)
    assert flatten.output_shapes == ((2, 8 * size * size),)
    assert dict(flatten.arguments) == {"#0": f"Tensor[2, 8, {size}, {size}] float32", "#1": "1"}
    assert flatten.text == "torch.flatten(x, 1)"
    # The library function is opaque: what F.relu calls inside is not a step of the block.
    assert all(s.caller != "blocks.0" or "torch.relu" not in s.target for s in reading.steps)


def test_steps_of_torch_layers_and_macs_of_functions(reading: ModelReading) -> None:
    conv = _steps(reading, "stem")
    assert [s.kind for s in conv] == ["function"]
    assert conv[0].macs is not None and conv[0].macs > 0
    add = next(s for s in _steps(reading, "blocks.1") if s.target == "operator.iadd")
    assert add.macs == 0 and add.output_shapes == add.input_shapes[:1]
    assert reading.output_shapes == ((2, 10),) and reading.is_complete


def test_a_builder_with_defaults(resolver: Resolver) -> None:
    reading = read_model(resolver, "rd.net:small", (1, 3, 32, 32))
    assert reading.output_shapes == ((1, 4),)
    assert dict(reading.layers[0].arguments)["num_classes"] == "4"


@pytest.mark.parametrize("shape, words", [
    ((1, 4, 32, 32), "4 channels; the convolution expects 3"),
    ((1, 3, 4, 4), "empty"),
    ((1, 3, 32), "1 channels"),  # unbatched (C, H, W): C is 1
    ((1, 1, 3, 32, 32), "rank 5"),
])
def test_impossible_inputs_warn_with_the_layer_and_line(
        resolver: Resolver, shape: tuple[int, ...], words: str) -> None:
    reading = read_model(resolver, "rd.net:Net", shape)
    warnings = [d for d in reading.diagnostics if d.severity == Severity.WARNING]
    assert not reading.is_complete
    assert any(words in d.message and "layer " in d.message and d.line > 0 for d in warnings)


@pytest.mark.parametrize("model", ["rd.net:Nope", "rd.nomodule:Net", "rd.net", ":Net", "rd.net:F"])
def test_a_wrong_model_is_a_config_error(resolver: Resolver, model: str) -> None:
    with pytest.raises(ConfigError):
        read_model(resolver, model, (1, 3, 32, 32))


def test_a_model_that_is_not_a_module_is_an_error(resolver: Resolver) -> None:
    with pytest.raises(DocgenError, match=r"torch\.nn\.Module"):
        read_model(resolver, "rd.net:width", (1, 3, 32, 32))


def test_values_as_short_text() -> None:
    assert value_text((11, 11)) == "(11, 11)"
    assert value_text((3,)) == "(3,)"
    assert value_text(True) == "True" and value_text("relu") == "'relu'"
    assert value_text(list(range(100))).endswith("…") and len(value_text(list(range(100)))) == 80


@pytest.fixture(scope="module")
def cli_sources(root: Path, real_wheels: dict[str, Path]) -> list[str]:
    return ["--source", f"rd={root}", "--source", f"torch={real_wheels['torch']}"]


@pytest.mark.parametrize("shape", ["1,4,32,32", "1,3,4,4", "1,1,3,32,32"])
def test_summary_of_an_impossible_input_is_an_error(
        cli_sources: list[str], shape: str, capsys: pytest.CaptureFixture[str]) -> None:
    """An input torch would raise on is bad input: exit 2 with or without --strict, the
    table and the totals still printed, never complete."""
    import json

    from docgen.cli.main import main

    assert main(["-q", "summary", "rd.net:Net", "--input", shape, "--json", *cli_sources]) == 2
    data = json.loads(capsys.readouterr().out)
    assert data["complete"] is False and data["total_macs"] is None
    assert main(["-q", "summary", "rd.net:Net", "--input", shape, "--strict", *cli_sources]) == 2
    out = capsys.readouterr()
    assert "Total MACs:        at least" in out.out and "Traceback" not in out.err
    assert "rd/net.py:" in out.out and "layer stem (Conv2d)" in out.out
    assert "torch would raise" in out.out


@pytest.mark.parametrize("text", ["1,3,x", "", "1,-3,32,32", "a"])
def test_malformed_input_text_exits_2(cli_sources: list[str], text: str,
                                      capsys: pytest.CaptureFixture[str]) -> None:
    from docgen.cli.main import main

    assert main(["-q", "summary", "rd.net:Net", "--input", text, *cli_sources]) == 2
    assert "Traceback" not in capsys.readouterr().err


@pytest.mark.parametrize("width", [60, 80, 120])
def test_plain_text_tables_never_cut_numbers(reading: ModelReading, width: int) -> None:
    import io

    from rich.console import Console

    from docgen.summary.summarize import (
        format_count,
        render_summary_table,
        summary_from_reading,
        table_width,
    )

    summary = summary_from_reading(reading)
    out = io.StringIO()
    table = render_summary_table(summary)
    Console(file=out, width=table_width(table, width, True)).print(table)
    text = out.getvalue()
    for row in summary.rows:
        for figure in (row.params, row.macs):
            assert format_count(figure) in text, (row.path, figure)


def test_summary_in_a_pipe_is_as_wide_as_it_needs(
        cli_sources: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    from docgen.cli.main import main
    from docgen.summary.summarize import format_count

    assert main(["-q", "summary", "rd.net:Net", "--input", "2,3,32,32", *cli_sources]) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert max(len(line) for line in lines) > 80
    reading_macs = [line for line in lines if line.startswith("Total MACs:")]
    assert reading_macs and "at least" not in reading_macs[0]
    assert format_count(2 * 8 * 3 * 5 * 5 * 14 * 14) in out  # the stem's MACs, whole


def test_enums_dataclasses_partials_reexports_and_environment(resolver: Resolver) -> None:
    reading = read_model(resolver, "rd.zoo:Zoo", (1, 3, 8, 8))
    assert reading.is_complete, [str(d) for d in reading.diagnostics]
    by_path = {layer.path: layer for layer in reading.layers}
    # Size.SMALL is a member of Size (isinstance holds) whose value sets the width
    assert dict(by_path["stem"].arguments)["out_channels"] == "4"
    # isinstance against functools.partial: the partial built the norm layer, eps applied
    assert by_path["norm"].qualname == "rd.layers.norm.Norm"
    assert dict(by_path["norm"].arguments)["eps"] == "0.001"
    # isinstance against tuple (a list is no tuple): two blocks, `conv` and `id`
    assert [by_path[p].qualname.rsplit(".", 1)[-1] for p in by_path["blocks"].children] == [
        "Conv2d", "Identity"]
    # `from .make import make` in rd/layers/__init__.py rebinds the submodule's name
    assert by_path["last"].qualname == "torch.nn.modules.conv.Conv2d"
    notes = [d.message for d in reading.diagnostics if "ZOO_EXTRA" in d.message]
    assert notes and "not set" in notes[0]
    assert reading.output_shapes == ((1, 4, 8, 8),)


def test_a_model_file_in_no_package(tmp_path: Path, real_wheels: dict[str, Path],
                                    capsys: pytest.CaptureFixture[str]) -> None:
    import json

    from docgen.cli.main import main

    folder = tmp_path / "anywhere"
    folder.mkdir()
    (folder / "mymodel.py").write_text(textwrap.dedent("""
        import torch.nn as nn

        class Net(nn.Module):
            def __init__(self, classes=3):
                super().__init__()
                self.conv = nn.Conv2d(3, 4, 3)
                self.fc = nn.Linear(4 * 6 * 6, classes)

            def forward(self, x):
                return self.fc(self.conv(x).flatten(1))
    """))
    args = ["-q", "summary", f"{folder / 'mymodel.py'}:Net", "--input", "1,3,8,8", "--json",
            "--source", f"torch={real_wheels['torch']}"]
    assert main(args) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["complete"] is True
    assert data["total_params"] == (4 * 3 * 9 + 4) + (144 * 3 + 3)
    assert main([*args[:2], f"{folder / 'nothere.py'}:Net", *args[3:]]) == 2


def test_a_model_spec_with_arguments(cli_sources: list[str],
                                     capsys: pytest.CaptureFixture[str]) -> None:
    import json

    from docgen.cli.main import main

    assert main(["-q", "summary", "rd.net:small(width=4)", "--input", "1,3,32,32", "--json",
                 *cli_sources]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["output_shapes"] == [[1, 4]]
    stem = next(layer for layer in data["layers"] if layer["path"] == "stem")
    assert stem["params"] == 4 * 3 * 5 * 5 + 4
    assert main(["-q", "summary", "rd.net:small(width=undefined_name)", *cli_sources]) == 2
