"""Faults during a build: killed builds, concurrent builds, full disks and unwritable folders
leave the previous output complete and usable, and the next build succeeds."""

from __future__ import annotations

import errno
import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from docgen.cli.main import main
from tests.conftest import WritePackage
from tests.sitekit import PACKAGE

ROOT = Path(__file__).resolve().parent.parent


def _args(src: Path, project: Path, *extra: str) -> list[str]:
    return ["-q", "build", "--project", str(project), "--source", f"pkg={src}",
            "--packages", "pkg", "--model", "pkg.net:Net", "--jobs", "1", *extra]


def _digest(folder: Path) -> dict[str, str]:
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def _assert_complete_site(site: Path, expected_files: set[str]) -> None:
    files = {p.relative_to(site).as_posix() for p in site.rglob("*") if p.is_file()}
    assert files == expected_files
    index = json.loads((site / "search" / "search_index.json").read_text(encoding="utf-8"))
    assert index["docs"]
    for page in site.rglob("*.html"):
        assert page.read_text(encoding="utf-8").rstrip().endswith("</html>"), page


def _staging_leftovers(project: Path) -> list[str]:
    return sorted(p.name for p in project.rglob(".*") if ".new-" in p.name or ".old-" in p.name)


def _spawn(args: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-m", "docgen", *args], cwd=ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


@pytest.fixture
def built(write_package: WritePackage, tmp_path: Path) -> tuple[Path, Path]:
    src = write_package(PACKAGE)
    project = tmp_path / "proj"
    project.mkdir()
    assert main(_args(src, project)) == 0
    return src, project


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGINT])
def test_killed_builds_leave_previous_output_intact(built: tuple[Path, Path],
                                                    sig: signal.Signals) -> None:
    src, project = built
    site, docs = project / "site", project / "docs" / "generated"
    site_files = set(_digest(site))
    docs_before = _digest(docs)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    layers = src / "pkg" / "layers.py"
    kill_points = (0.05, 0.3, 0.8, 1.5, 2.5, 4.0)
    for i, delay in enumerate(kill_points):
        # A real change each time, so the build has MkDocs work to do when it is killed.
        layers.write_text(layers.read_text() + f"\n# change {sig.name} {i}\n")
        proc = _spawn(_args(src, project, "--no-cache"), env)
        time.sleep(delay)
        proc.send_signal(sig)
        proc.wait(timeout=120)
        _assert_complete_site(site, site_files)
        after = _digest(docs)
        assert after == docs_before or set(after) == set(docs_before)
    assert main(_args(src, project)) == 0
    _assert_complete_site(site, site_files)
    assert _staging_leftovers(project) == []


def test_two_builds_at_once_both_finish_consistently(built: tuple[Path, Path]) -> None:
    src, project = built
    site_files = set(_digest(project / "site"))
    layers = src / "pkg" / "layers.py"
    layers.write_text(layers.read_text() + "\n# concurrent\n")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    procs = [_spawn(_args(src, project), env) for _ in range(2)]
    codes = [p.wait(timeout=300) for p in procs]
    assert codes == [0, 0], [p.stderr.read() if p.stderr else b"" for p in procs]
    _assert_complete_site(project / "site", site_files)
    assert _staging_leftovers(project) == []
    docs = _digest(project / "docs" / "generated")
    assert main(_args(src, project, "--no-mkdocs")) == 0
    assert _digest(project / "docs" / "generated") == docs


def test_full_disk_is_a_clear_error_and_loses_nothing(built: tuple[Path, Path],
                                                       monkeypatch: pytest.MonkeyPatch,
                                                       caplog: pytest.LogCaptureFixture) -> None:
    src, project = built
    docs = project / "docs" / "generated"
    before = _digest(docs)
    real_write = Path.write_text

    def no_space(self: Path, *args: object, **kwargs: object) -> int:
        if ".generated.new-" in str(self):
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(self))
        return real_write(self, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(Path, "write_text", no_space)
    layers = src / "pkg" / "layers.py"
    layers.write_text(layers.read_text() + "\n# disk full\n")
    assert main(_args(src, project)) == 2
    assert "No space left on device" in caplog.text
    assert "previous generated/ is left as it was" in caplog.text
    assert _digest(docs) == before
    assert _staging_leftovers(project) == []


def test_unwritable_output_folder_is_a_clear_error(built: tuple[Path, Path],
                                                    caplog: pytest.LogCaptureFixture) -> None:
    src, project = built
    blocker = project / "blocked"
    blocker.write_text("a file where a folder should be")
    assert main(_args(src, project, "--output", "blocked/generated")) == 2
    assert "cannot write there" in caplog.text
    assert (project / "site" / "index.html").is_file()
