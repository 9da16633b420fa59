"""Bad input of every kind, on every command: exit 2, exactly one line of message, never a
traceback (issue 15, "Tracebacks where a clear message and exit 2 belong")."""

from __future__ import annotations

import io
import os
import socket
import struct
import subprocess
import sys
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest

from docgen.cli.main import main

ROOT = Path(__file__).resolve().parent.parent
LONG = "/" + "a" * 300

NET = '''
class Module:
    def forward(self, x):
        return x


class Net(Module):
    """A net."""

    def __init__(self):
        self.a = 1
'''


def _wheel(path: Path, damage: str = "") -> Path:
    """A small wheel of package `pkg`; `damage` spoils its METADATA member: crc,
    encrypted or compression (patched in the central directory, which zipfile trusts)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as zf:
        zf.writestr("pkg/__init__.py", "")
        zf.writestr("pkg/net.py", NET)
        zf.writestr("pkg-1.0.dist-info/METADATA", "Metadata-Version: 2.1\nName: pkg\n"
                                                   "Version: 1.0\n")
    data = bytearray(buffer.getvalue())
    if damage:
        at = data.rfind(b"PK\x01\x02", 0, data.rfind(b"METADATA"))
        if damage == "crc":
            data[at + 16:at + 20] = struct.pack("<I", 0x12345678)
        elif damage == "encrypted":
            flags = struct.unpack_from("<H", data, at + 8)[0]
            struct.pack_into("<H", data, at + 8, flags | 0x1)
        elif damage == "compression":
            struct.pack_into("<H", data, at + 10, 97)
    path.write_bytes(bytes(data))
    return path


@pytest.fixture
def world(tmp_path: Path) -> dict[str, str]:
    """Files the bad arguments point at."""
    src = tmp_path / "src"
    (src / "pkg").mkdir(parents=True)
    (src / "pkg" / "__init__.py").write_text("")
    (src / "pkg" / "net.py").write_text(NET)
    (tmp_path / "broken" / "bad").mkdir(parents=True)
    (tmp_path / "broken" / "bad" / "__init__.py").write_text("")
    (tmp_path / "broken" / "bad" / "net.py").write_text("class Net(object)\n    pass\n")
    (tmp_path / "broken" / "bad" / "plain.py").write_text("class Net:\n    pass\n")
    (tmp_path / "adir").mkdir()
    (tmp_path / "afile").write_text("x")
    (tmp_path / "deep.json").write_text('{"schema": 1, "x": ' + "[" * 100_000 + "]" * 100_000
                                        + "}")
    (tmp_path / "latin1.json").write_bytes(b'{"schema": 1, "x": "\xff\xfe"}')
    (tmp_path / "bool.json").write_text('{"schema": true, "classes": {}}')
    (tmp_path / "list.json").write_text("[1, 2]")
    (tmp_path / "yaml").mkdir()
    (tmp_path / "yaml" / "mkdocs.yml").write_text("site_name: [unclosed\nplugins:\n  - docgen\n")
    (tmp_path / "proj").mkdir()
    for damage in ("crc", "encrypted", "compression"):
        _wheel(tmp_path / damage / "pkg-1.0-py3-none-any.whl", damage) \
            if (tmp_path / damage).mkdir() is None else None
    return {"tmp": str(tmp_path), "src": str(src)}


def _pkg(world: dict[str, str], source: str = "") -> list[str]:
    return ["--source", source or f"pkg={world['src']}", "--packages", "pkg",
            "--model", "pkg.net:Net", "--jobs", "1"]


Case = Callable[[dict[str, str]], list[str]]

CASES: dict[str, Case] = {
    # sources
    "unknown user's home": lambda w: ["show", "pkg.net.Net", *_pkg(w, "pkg=~nosuchuser/x")],
    "source path over 255": lambda w: ["show", "pkg.net.Net", *_pkg(w, f"pkg={LONG}")],
    "source missing": lambda w: ["snapshot", *_pkg(w, f"pkg={w['tmp']}/nope/")],
    "wheel missing": lambda w: ["show", "pkg.net.Net", *_pkg(w, f"pkg={w['tmp']}/x.whl")],
    "wheel bad crc": lambda w: ["show", "pkg.net.Net", *_pkg(
        w, f"pkg={w['tmp']}/crc/pkg-1.0-py3-none-any.whl")],
    "wheel encrypted": lambda w: ["snapshot", *_pkg(
        w, f"pkg={w['tmp']}/encrypted/pkg-1.0-py3-none-any.whl")],
    "wheel compression": lambda w: ["export", *_pkg(
        w, f"pkg={w['tmp']}/compression/pkg-1.0-py3-none-any.whl")],
    "not a wheel": lambda w: ["show", "pkg.net.Net", *_pkg(w, f"pkg={w['tmp']}/afile.whl")],
    "source without =": lambda w: ["show", "pkg.net.Net", "--source", "pkg"],
    "walk pytorch-src over 255": lambda w: ["walk", "--pytorch-src", LONG, *_pkg(w)],
    "walk pytorch-src not a tree": lambda w: ["walk", "--pytorch-src", w["tmp"], *_pkg(w)],
    "backends pytorch-src missing": lambda w: ["backends", "--pytorch-src",
                                               f"{w['tmp']}/none", *_pkg(w)],
    "backends option without value": lambda w: ["backends", "--backend"],
    "unknown class": lambda w: ["show", "pkg.net.Nope", *_pkg(w)],
    "bad model": lambda w: ["summary", "not a model", "--source", f"pkg={w['src']}"],
    "summary model class missing": lambda w: ["summary", *_pkg(w)[:-4], "--model",
                                              "pkg.net:Nope"],
    "walk model class missing": lambda w: ["walk", *_pkg(w)[:-4], "--model", "pkg.net:Nope"],
    "summary model file does not parse": lambda w: [
        "summary", "--source", f"bad={w['tmp']}/broken", "--packages", "bad", "--model",
        "bad.net:Net"],
    "walk model file does not parse": lambda w: [
        "walk", "--source", f"bad={w['tmp']}/broken", "--packages", "bad", "--model",
        "bad.net:Net"],
    # output files
    "snapshot out is a folder": lambda w: ["snapshot", "--out", f"{w['tmp']}/adir", *_pkg(w)],
    "snapshot out under a file": lambda w: ["snapshot", "--out", f"{w['tmp']}/afile/s.json",
                                            *_pkg(w)],
    "snapshot out empty": lambda w: ["snapshot", "--out", "", *_pkg(w)],
    "export out is a folder": lambda w: ["export", "--out", f"{w['tmp']}/adir", *_pkg(w)],
    "export out under a file": lambda w: ["export", "--out", f"{w['tmp']}/afile/x.puml",
                                          *_pkg(w)],
    "export out empty": lambda w: ["export", "--out", "", *_pkg(w)],
    # snapshots
    "diff deeply nested": lambda w: ["diff", f"{w['tmp']}/deep.json", f"{w['tmp']}/deep.json"],
    "diff not utf-8": lambda w: ["diff", f"{w['tmp']}/latin1.json", f"{w['tmp']}/deep.json"],
    "diff schema true": lambda w: ["diff", f"{w['tmp']}/bool.json", f"{w['tmp']}/bool.json"],
    "diff not an object": lambda w: ["diff", f"{w['tmp']}/list.json", f"{w['tmp']}/list.json"],
    "diff missing file": lambda w: ["diff", f"{w['tmp']}/no.json", f"{w['tmp']}/no.json"],
    "diff nonsense side": lambda w: ["diff", "???", "!!!"],
    "check deeply nested": lambda w: ["check", f"{w['tmp']}/deep.json"],
    "check not utf-8": lambda w: ["check", f"{w['tmp']}/latin1.json"],
    "check no snapshots": lambda w: ["check", "--dir", f"{w['tmp']}/adir"],
    # site
    "serve nonsense address": lambda w: ["serve", "--addr", "nonsense", "--project",
                                         f"{w['tmp']}/proj", *_pkg(w)],
    "serve port out of range": lambda w: ["serve", "--addr", ":99999", "--project",
                                          f"{w['tmp']}/proj", *_pkg(w)],
    "serve unknown host": lambda w: ["serve", "--addr", "no-such-host.invalid:8000",
                                     "--project", f"{w['tmp']}/proj", *_pkg(w)],
    "build invalid yaml": lambda w: ["build", "--project", f"{w['tmp']}/yaml", *_pkg(w)],
    "build missing project": lambda w: ["build", "--project", f"{w['tmp']}/none", *_pkg(w)],
    "build missing templates": lambda w: ["build", "--project", f"{w['tmp']}/proj",
                                          "--templates", f"{w['tmp']}/none", *_pkg(w)],
    "build output is a file": lambda w: ["build", "--project", f"{w['tmp']}/proj",
                                         "--output", f"{w['tmp']}/afile", *_pkg(w)],
    "build jobs negative": lambda w: ["build", "--jobs", "-3"],
    "build jobs not a number": lambda w: ["build", "--jobs", "many"],
    "build bad pages": lambda w: ["build", "--pages", "some"],
    # commands and arguments
    "no command": lambda w: [],
    "unknown command": lambda w: ["frobnicate"],
    "missing argument": lambda w: ["show"],
    "fetch bad requirement": lambda w: ["fetch", "torch>>>1"],
    "fetch offline": lambda w: ["fetch", "--offline", "nosuchdist==1.0"],
}

ENV_CASES: dict[str, tuple[Case, Callable[[dict[str, str]], dict[str, str]]]] = {
    "cache is a file": (lambda w: ["show", "pkg.net.Net", *_pkg(w)],
                        lambda w: {"DOCGEN_CACHE_DIR": f"{w['tmp']}/afile"}),
    "cache cannot hold a download": (lambda w: ["fetch", "nosuchdist==1.0"],
                                     lambda w: {"DOCGEN_CACHE_DIR": f"{w['tmp']}/afile/c"}),
}

# Run through the real executable: the entry point, the logging set-up and stderr as a user
# sees them. The rest go through main() in-process (the same code, faster).
SUBPROCESS = {"unknown user's home", "wheel bad crc", "diff deeply nested",
              "serve unknown host", "build invalid yaml", "snapshot out is a folder",
              "missing argument", "cache is a file"}


def _check(code: int, err: str) -> None:
    assert code == 2, err
    assert "Traceback" not in err, err
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err


def _run(argv: list[str], env: dict[str, str], capsys: pytest.CaptureFixture[str],
         monkeypatch: pytest.MonkeyPatch, through_process: bool) -> tuple[int, str]:
    if through_process:
        proc = subprocess.run([sys.executable, "-m", "docgen", *argv], cwd=ROOT,
                              env={**os.environ, "PYTHONPATH": str(ROOT), **env},
                              capture_output=True, text=True, timeout=300)
        return proc.returncode, proc.stderr
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    code = main(argv)
    return code, capsys.readouterr().err


@pytest.mark.parametrize("name", sorted([*CASES, *ENV_CASES]))
def test_bad_arguments_exit_2_with_one_line(name: str, world: dict[str, str],
                                            capsys: pytest.CaptureFixture[str],
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    if name in CASES:
        argv, env = CASES[name](world), {}
    else:
        make, make_env = ENV_CASES[name]
        argv, env = make(world), make_env(world)
    argv = ["--quiet", *argv] if argv and name not in ("no command",) else argv
    code, err = _run(argv, env, capsys, monkeypatch, name in SUBPROCESS)
    _check(code, err)
    assert not (Path(world["tmp"]) / "none").exists()


def test_serve_address_in_use_is_refused_before_building(world: dict[str, str],
                                                        capsys: pytest.CaptureFixture[str]
                                                        ) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        code = main(["-q", "serve", "--addr", f"127.0.0.1:{port}", "--project",
                     f"{world['tmp']}/proj", *_pkg(world)])
    err = capsys.readouterr().err
    _check(code, err)
    assert "cannot listen there" in err
    assert list((Path(world["tmp"]) / "proj").iterdir()) == []  # nothing was built


def test_an_unreadable_module_in_a_wheel_is_a_warning(tmp_path: Path,
                                                      capsys: pytest.CaptureFixture[str]
                                                      ) -> None:
    wheel = _wheel(tmp_path / "pkg-1.0-py3-none-any.whl")
    data = bytearray(wheel.read_bytes())
    at = data.rfind(b"PK\x01\x02", 0, data.rfind(b"pkg/__init__.py"))
    struct.pack_into("<H", data, at + 8, struct.unpack_from("<H", data, at + 8)[0] | 0x1)
    wheel.write_bytes(bytes(data))
    code = main(["show", "pkg.net.Net", "--source", f"pkg={wheel}", "--packages", "pkg",
                 "--model", "", "--jobs", "1"])
    err = capsys.readouterr().err
    assert code == 0 and "Traceback" not in err
    assert "pkg/__init__.py" in err and "encrypted" in err


def test_schema_must_be_an_integer_everywhere(tmp_path: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    from docgen.core.jsonio import schema_of

    assert [schema_of({"schema": v}) for v in (1, True, False, 1.0, "1", None)] == \
        [1, None, None, None, None, None]
    snap = tmp_path / "s.json"
    snap.write_text('{"schema": true, "classes": {}, "modules": {}, "distributions": [], '
                    '"packages": []}')
    assert main(["diff", str(snap), str(snap)]) == 2
    assert "schema True is not supported" in capsys.readouterr().err


def test_jobs_are_capped_at_the_cores() -> None:
    from docgen.cli.main import build_parser

    args = build_parser().parse_args(["build", "--jobs", "100000"])
    assert args.jobs == (os.cpu_count() or 1)


@pytest.mark.parametrize("command", ["summary", "walk"])
def test_a_missing_model_or_one_that_does_not_parse_is_named(
        command: str, world: dict[str, str], capsys: pytest.CaptureFixture[str]) -> None:
    """The walk used to fall back to an empty walk (exit 0) for a class the model file does
    not define, and the summary named a file that does not parse "not found"."""
    assert main(["--quiet", command, *_pkg(world)[:-4], "--model", "pkg.net:Nope"]) == 2
    assert "net.py defines no 'Nope'" in capsys.readouterr().err
    assert main(["--quiet", command, "--source", f"bad={world['tmp']}/broken", "--packages",
                 "bad", "--model", "bad.net:Net"]) == 2
    assert "bad/net.py:1: syntax error" in capsys.readouterr().err
    # a class that is no Module: the user's mistake, not a limit of the reading
    assert main(["--quiet", command, "--source", f"bad={world['tmp']}/broken", "--packages",
                 "bad", "--model", "bad.plain:Net"]) == 2
    assert "is not a torch.nn.Module" in capsys.readouterr().err
    # a model spec's argument that cannot be evaluated is quoted from the spec
    assert main(["--quiet", command, *_pkg(world)[:-4], "--model",
                 "pkg.net:Net(k=__import__('os'))"]) == 2
    assert "`__import__('os')`" in capsys.readouterr().err


def test_build_names_a_model_file_that_does_not_parse(world: dict[str, str],
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    """It used to say "model class 'Net' not found in bad.net"; nothing is written."""
    project = Path(world["tmp"]) / "proj"
    assert main(["--quiet", "build", "--project", str(project), "--source",
                 f"bad={world['tmp']}/broken", "--packages", "bad", "--model", "bad.net:Net",
                 "--jobs", "1"]) == 2
    assert "bad/net.py:1: syntax error" in capsys.readouterr().err
    assert not any(project.iterdir())
