"""The command line: exit codes, JSON output, deterministic snapshots, strictness."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from docgen.cli.main import main
from tests.conftest import WritePackage

PKG = {
    "zoo/__init__.py": "from .animals import Cat\n",
    "zoo/module.py": "class Module:\n    def __init__(self):\n        self.training = True\n",
    "zoo/animals.py": '''
        from zoo.module import Module
        class Cat(Module):
            """A cat | with <b>tags</b>."""
            def forward(self, x):
                return x
    ''',
}


def _args(root: Path, *extra: str) -> list[str]:
    return ["--source", f"zoo={root}", "--packages", "zoo", "--model", "zoo.animals:Cat",
            "--no-cache", "--jobs", "1", *extra]


def test_show_json_keys(write_package: WritePackage, capsys: pytest.CaptureFixture[str]) -> None:
    root = write_package(PKG)
    assert main(["show", "zoo.Cat", "--json", *_args(root)]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["mro"] == ["zoo.animals.Cat", "zoo.module.Module", "builtins.object"]
    assert {"name", "kind", "defined_in"} <= set(data["members"][0])
    method = next(m for m in data["methods"] if m["name"] == "forward")
    assert {"signature", "group", "overrides"} <= set(method)


def test_show_terminal(write_package: WritePackage, capsys: pytest.CaptureFixture[str]) -> None:
    root = write_package(PKG)
    assert main(["show", "zoo.animals.Cat", *_args(root)]) == 0
    out = capsys.readouterr().out
    assert "Cat <- Module <- object" in out
    assert "A cat | with <b>tags</b>." in out


def test_unknown_class_suggests_and_exits_2(write_package: WritePackage,
                                            caplog: pytest.LogCaptureFixture) -> None:
    root = write_package(PKG)
    assert main(["show", "zoo.Kat", *_args(root)]) == 2
    assert "did you mean: zoo.Cat" in caplog.text


def test_bad_source_exits_2(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    assert main(["show", "x.Y", "--source", f"zoo={tmp_path}/missing", "--packages", "zoo",
                 "--model", "zoo.a:B"]) == 2
    assert "no such folder or wheel" in caplog.text


def test_bad_config_reports_every_problem(caplog: pytest.LogCaptureFixture) -> None:
    assert main(["show", "x", "--model", "not a model", "--packages", "a-b,c d"]) == 2
    assert "model must look like" in caplog.text
    assert "'a-b'" in caplog.text and "'c d'" in caplog.text


def test_missing_model_class_exits_2(write_package: WritePackage,
                                     caplog: pytest.LogCaptureFixture) -> None:
    root = write_package(PKG)
    args = _args(root)
    args[args.index("zoo.animals:Cat")] = "zoo.animals:Dog"
    assert main(["show", "zoo.Cat", *args]) == 2
    assert "model class 'Dog' not found" in caplog.text


def test_snapshot_is_deterministic(write_package: WritePackage, tmp_path: Path) -> None:
    root = write_package(PKG)
    outs = [tmp_path / "a.json", tmp_path / "b.json"]
    for out in outs:
        assert main(["snapshot", "--out", str(out), *_args(root)]) == 0
    assert outs[0].read_bytes() == outs[1].read_bytes()
    text = outs[0].read_text()
    assert str(tmp_path) not in text
    assert json.loads(text)["schema"] == 1


def test_strict_turns_warnings_into_exit_1(write_package: WritePackage) -> None:
    root = write_package({**PKG, "zoo/broken.py": "def f(:\n"})
    assert main(["snapshot", "--out", "-", *_args(root)]) == 0
    assert main(["snapshot", "--out", "-", "--strict", *_args(root)]) == 1


def test_usage_error_exits_2() -> None:
    assert main(["show"]) == 2
    assert main(["no-such-command"]) == 2


def test_export_formats_offered_are_the_ones_export_writes() -> None:
    from docgen.cli.site import EXPORT_FORMATS
    from docgen.site.export import FORMATS

    assert EXPORT_FORMATS == FORMATS
