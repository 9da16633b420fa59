"""`docgen diff` and `docgen check` through main(): sides, formats and exit codes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from docgen.changes.compare import LoadOptions, accept_command, config_for_snapshot
from docgen.changes.snapshot import SnapshotError, dump_snapshot, load_snapshot
from docgen.cli.main import main
from docgen.core.config import Config
from docgen.core.errors import ConfigError
from docgen.sources.locate import SourceSpec
from tests.conftest import WritePackage, analyze_package

OLD = "class Module:\n    def cuda(self):\n        return self\n\nclass Linear(Module):\n    pass\n"
NEW = "class Module:\n    pass\n\nclass Linear(Module):\n    pass\n"


@pytest.fixture
def roots(write_package: WritePackage) -> tuple[Path, Path]:
    root = write_package({"old/pkg/__init__.py": OLD, "new/pkg/__init__.py": NEW})
    return root / "old", root / "new"


@pytest.fixture
def snapshots(roots: tuple[Path, Path], tmp_path: Path) -> tuple[Path, Path]:
    out = []
    for root, name in zip(roots, ("old.json", "new.json"), strict=True):
        path = tmp_path / name
        path.write_text(dump_snapshot(analyze_package(root, "pkg")), encoding="utf-8")
        out.append(path)
    return out[0], out[1]


def test_diff_of_two_snapshots(snapshots: tuple[Path, Path],
                               capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["diff", str(snapshots[0]), str(snapshots[1])]) == 1
    out = capsys.readouterr().out
    assert "pkg.Module\n  method removed: cuda(self); inherited by 1 subclass\n" in out


def test_identical_sides_exit_0(snapshots: tuple[Path, Path],
                                capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["diff", str(snapshots[0]), str(snapshots[0]), "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["changes"] == []


def test_diff_of_two_folders(roots: tuple[Path, Path],
                             capsys: pytest.CaptureFixture[str]) -> None:
    old, new = roots
    assert main(["diff", f"pkg={old}", str(new / "pkg"), "--no-cache"]) == 1
    assert "method removed: cuda(self)" in capsys.readouterr().out


def test_snapshot_against_a_folder_borrows_its_packages(
        snapshots: tuple[Path, Path], roots: tuple[Path, Path],
        capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["diff", str(snapshots[0]), f"pkg={roots[1]}", "--format", "github",
                 "--no-cache"]) == 1
    out = capsys.readouterr().out
    assert out.startswith("::warning file=pkg/__init__.py,line=2,title=method_removed in "
                          "pkg.Module::")


@pytest.mark.parametrize("schema", [99, 0, "1", None, True, 1.0])
def test_unknown_or_older_schema_is_refused(
        snapshots: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str],
        schema: object) -> None:
    data = json.loads(snapshots[0].read_text(encoding="utf-8"))
    if schema is None:
        del data["schema"]
    else:
        data["schema"] = schema
    other = tmp_path / "other.json"
    other.write_text(json.dumps(data), encoding="utf-8")
    message = f"snapshot schema {schema!r} is not supported"
    with pytest.raises(SnapshotError, match=message.replace("'", ".")):
        load_snapshot(other.read_text(encoding="utf-8"), str(other))
    assert main(["diff", str(other), str(snapshots[1])]) == 2
    assert f"other.json: {message}" in capsys.readouterr().err


@pytest.mark.parametrize("argv", [
    ["diff", "only-one.json"],
    ["diff", "missing.json", "missing-too.json"],
    ["diff", "not a spec!", "x.json"],
    ["diff", "a.json", "b.json", "--format", "yaml"],
])
def test_usage_and_source_errors_exit_2(argv: list[str]) -> None:
    assert main(argv) == 2


def write_check_dir(tmp_path: Path, root: Path) -> Path:
    folder = tmp_path / "snapshots"
    folder.mkdir()
    (folder / "pkg.json").write_text(dump_snapshot(analyze_package(root, "pkg")),
                                     encoding="utf-8")
    return folder


def test_check_up_to_date(roots: tuple[Path, Path], tmp_path: Path,
                          capsys: pytest.CaptureFixture[str]) -> None:
    folder = write_check_dir(tmp_path, roots[0])
    argv = ["check", "--dir", str(folder), "--source", f"pkg={roots[0]}", "--no-cache"]
    assert main(argv) == 0
    assert "pkg.json: up to date" in capsys.readouterr().out


def test_check_ignores_how_a_distribution_was_found(
        roots: tuple[Path, Path], tmp_path: Path) -> None:
    folder = write_check_dir(tmp_path, roots[0])
    data = json.loads((folder / "pkg.json").read_text(encoding="utf-8"))
    data["distributions"][0].update(origin="env", spec="env")
    (folder / "pkg.json").write_text(json.dumps(data), encoding="utf-8")
    assert main(["check", "--dir", str(folder), "--source", f"pkg={roots[0]}",
                 "--no-cache"]) == 0


def test_check_reports_drift_and_how_to_accept_it(
        roots: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = write_check_dir(tmp_path, roots[0])
    argv = ["check", "--dir", str(folder), "--source", f"pkg={roots[1]}", "--no-cache"]
    assert main(argv) == 1
    out = capsys.readouterr().out
    assert "method removed: cuda(self)" in out
    assert f"to accept the change: docgen snapshot --model '' --packages pkg --source " \
           f"pkg={roots[1]} --out {folder.as_posix()}/pkg.json" in out
    assert main([*argv, "--format", "github"]) == 1
    assert "::error file=" in capsys.readouterr().out


def test_check_named_snapshot_files(roots: tuple[Path, Path], tmp_path: Path,
                                    capsys: pytest.CaptureFixture[str]) -> None:
    folder = write_check_dir(tmp_path, roots[0])
    argv = ["check", str(folder / "pkg.json"), "--source", f"pkg={roots[1]}", "--no-cache",
            "--format", "json"]
    assert main(argv) == 1
    report = json.loads(capsys.readouterr().out)
    assert [s["drift"] for s in report["snapshots"]] == [True]
    assert report["snapshots"][0]["diff"]["changes"][0]["kind"] == "method_removed"


def test_check_without_snapshots_or_with_a_broken_one_exits_2(
        roots: tuple[Path, Path], tmp_path: Path) -> None:
    assert main(["check", "--dir", str(tmp_path / "none")]) == 2
    folder = write_check_dir(tmp_path, roots[0])
    (folder / "broken.json").write_text("{", encoding="utf-8")
    assert main(["check", "--dir", str(folder), "--source", f"pkg={roots[0]}",
                 "--no-cache"]) == 2


def test_a_folder_snapshot_needs_a_source(roots: tuple[Path, Path]) -> None:
    snapshot = analyze_package(roots[0], "pkg")
    with pytest.raises(ConfigError, match="--source"):
        config_for_snapshot(snapshot, LoadOptions())


def test_snapshot_pins_drop_the_local_label(roots: tuple[Path, Path]) -> None:
    from dataclasses import replace

    from docgen.core.records import DistributionInfo

    snapshot = replace(analyze_package(roots[0], "pkg"), distributions=(
        DistributionInfo("torch", "2.13.0+cpu", "wheel", "wheel:torch-2.13.0+cpu.whl"),
        DistributionInfo("torchvision", "0.28.0", "env", "env")))
    cfg = config_for_snapshot(snapshot, LoadOptions())
    assert cfg.sources == (SourceSpec("torch", "torch==2.13.0"),
                           SourceSpec("torchvision", "torchvision==0.28.0"))


def test_accept_command_of_the_default_config_is_short() -> None:
    cfg = Config(sources=(SourceSpec("torch", "torch==2.13.0"),
                          SourceSpec("torchvision", "torchvision==0.28.0")))
    assert accept_command(cfg, "snapshots/torch-2.13.0.json") == (
        "docgen snapshot --source torch==2.13.0 --source torchvision==0.28.0 "
        "--out snapshots/torch-2.13.0.json")


def test_shipped_ci_examples_use_real_commands() -> None:
    """The pre-commit hook and the example workflow call commands and flags that exist."""
    import shlex

    import yaml

    from docgen.cli.main import build_parser

    root = Path(__file__).resolve().parent.parent
    hooks = yaml.safe_load((root / ".pre-commit-hooks.yaml").read_text(encoding="utf-8"))
    hook = next(h for h in hooks if h["id"] == "docgen-check")
    assert hook["entry"] == "docgen check" and hook["pass_filenames"] is False
    workflow = yaml.safe_load((root / "docs/examples/docgen-check.yml").read_text("utf-8"))
    runs = [s["run"] for s in workflow["jobs"]["hierarchy"]["steps"] if "run" in s]
    commands = [line.strip().split(" >", 1)[0] for run in runs for line in run.splitlines()
                if line.strip().startswith("docgen ")]
    assert len(commands) == 2
    parser = build_parser()
    for command in [hook["entry"], *commands]:
        args = parser.parse_args(shlex.split(command.replace('"$NEXT_TORCH"', "torch==2.14.1"))[1:])
        assert args.command in ("check", "diff")
