"""The static composition of a model (from the one reader): layer tree, forward steps."""

from __future__ import annotations

import pytest

from docgen.classes.project import open_project_sources
from docgen.cli.main import main
from docgen.core.config import Config
from docgen.core.errors import ConfigError
from docgen.site.build import read_model
from docgen.sources.locate import SourceSpec
from tests.sitekit import MODULE_ROOT, PACKAGE, synthetic_config


def _model(root, model: str = "pkg.net:Net"):  # type: ignore[no-untyped-def]
    cfg = Config(model=model, packages=("pkg",), sources=(SourceSpec("pkg", str(root)),),
                 module_root=MODULE_ROOT)
    return read_model(cfg, open_project_sources(cfg), None)


def test_layers_arguments_and_targets(write_package) -> None:  # type: ignore[no-untyped-def]
    model, problems = _model(write_package(PACKAGE))
    assert not [p for p in problems if p.severity == "warning"]
    assert [layer.path for layer in model.layers] == ["features", "head"]
    features = model.layers[0]
    assert features.target == "pkg.layers.Sequential" and features.arguments == ""
    assert [(c.path, c.name, c.arguments, c.target) for c in features.children] == [
        ("features.0", "Conv", "3, 8, kernel_size=5", "pkg.layers.Conv"),
        ("features.1", "Evil", 'text="<i>|</i>"', "pkg.layers.Evil"),
        ("features.2", "Conv", "8, 16", "pkg.layers.Conv"),
    ]
    assert model.layers[1].arguments == "16, classes"


def test_forward_steps_name_the_layers_they_call(write_package) -> None:  # type: ignore[no-untyped-def]
    model, _ = _model(write_package(PACKAGE))
    # The layer calls and the tensor method are steps, each with the call as written.
    assert [(s.text, s.layer) for s in model.forward] == [
        ("self.features(x)", "features"), ("x.flatten(1)", None), ("self.head(x)", "head")]


def test_unresolvable_layers_are_a_warning_with_file_and_line(write_package) -> None:  # type: ignore[no-untyped-def]
    root = write_package({
        "pkg/__init__.py": "",
        "pkg/layers.py": "class Base:\n    pass\n",
        "pkg/net.py": """
            import othermod
            from pkg.layers import Base

            class Net(Base):
                def __init__(self):
                    if True:
                        self.block = othermod.Block(4)
                    self.n = len([])

                def forward(self, x):
                    return x
        """,
    })
    model, problems = _model(root)
    assert model is not None and model.layers == ()
    warnings = [p for p in problems if p.severity == "warning"]
    assert warnings and all("othermod.Block" in w.message for w in warnings)
    lines = (root / "pkg" / "net.py").read_text().splitlines()
    line = next(i for i, text in enumerate(lines, 1) if "othermod.Block" in text)
    assert ("pkg/net.py", line) in [(w.path, w.line) for w in warnings]


def test_missing_model_class_is_a_config_error(write_package) -> None:  # type: ignore[no-untyped-def]
    root = write_package(PACKAGE)
    cfg = synthetic_config(root)
    with pytest.raises(ConfigError, match="Nope"):
        read_model(cfg.__class__(**{**cfg.__dict__, "model": "pkg.net:Nope"}),
                   open_project_sources(cfg), None)


@pytest.mark.parametrize("model", ["pkg.net:Nope", "pkg.nomodule:Net", "pkg.net"])
def test_a_wrong_model_exits_2_in_build_and_summary(write_package, tmp_path, model) -> None:  # type: ignore[no-untyped-def]
    root = write_package(PACKAGE)
    project = tmp_path / "proj"
    project.mkdir()
    common = ["--source", f"pkg={root}", "--packages", "pkg", "--model", model,
              "--module-root", MODULE_ROOT]
    assert main(["-q", "build", "--project", str(project), *common]) == 2
    assert main(["-q", "summary", *common]) == 2


def test_the_diagram_shows_what_a_written_name_evaluated_to(write_package) -> None:  # type: ignore[no-untyped-def]
    """`self.head = nn.Conv(16, classes)` with `classes: int = 10`: the node reads
    `Conv(16, classes)` and, below it, `= cout=10`; arguments written as values add nothing."""
    from docgen.site.diagrams import composition_dot

    model, _ = _model(write_package(PACKAGE))
    dot = composition_dot(model, lambda qualname: None)
    assert "16, classes" in dot and "= cout=10" in dot
    assert "= cin=" not in dot and "= kernel_size=" not in dot
