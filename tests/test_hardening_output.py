"""docgen only replaces folders it made itself, locks per output folder, repairs a damaged
site and refuses impossible project, site and template folders (issue 15, items 1-4)."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
import yaml

from docgen.cli.main import main
from docgen.site import write
from tests.conftest import WritePackage
from tests.sitekit import PACKAGE


def _args(src: Path, project: Path, *extra: str) -> list[str]:
    return ["-q", "build", "--project", str(project), "--source", f"pkg={src}",
            "--packages", "pkg", "--model", "pkg.net:Net", "--jobs", "1", *extra]


def _one_error(caplog: pytest.LogCaptureFixture) -> str:
    errors = [r.getMessage() for r in caplog.records if r.levelname == "ERROR"]
    assert len(errors) == 1, errors
    assert "\n" not in errors[0]
    return errors[0]


@pytest.fixture
def src(write_package: WritePackage) -> Path:
    return write_package(PACKAGE)


@pytest.mark.parametrize("flag,target", [
    ("--output", "docs/guide"),  # a hand-written folder inside the project
    ("--output", "../elsewhere"),  # a folder outside the project
    ("--site-dir", "../public"),  # a site folder holding the user's files
])
def test_a_folder_docgen_did_not_make_is_never_replaced(src: Path, tmp_path: Path, flag: str,
                                                        target: str,
                                                        caplog: pytest.LogCaptureFixture) -> None:
    project = tmp_path / "proj"
    project.mkdir()
    folder = (project / target).resolve()
    folder.mkdir(parents=True)
    (folder / "important.md").write_text("my notes")
    (folder / "sub").mkdir()
    (folder / "sub" / "thesis.tex").write_text("\\documentclass{article}")
    value = str(folder) if flag == "--site-dir" else target
    assert main(_args(src, project, flag, value, "--no-mkdocs" if flag == "--output" else
                      "--strict")) == 2
    assert "not made by docgen" in _one_error(caplog)
    assert (folder / "important.md").read_text() == "my notes"
    assert (folder / "sub" / "thesis.tex").is_file()
    assert sorted(p.name for p in folder.iterdir()) == ["important.md", "sub"]


def test_empty_or_own_folders_are_replaced_and_marked(src: Path, tmp_path: Path) -> None:
    project = tmp_path / "proj"
    (project / "docs" / "generated").mkdir(parents=True)  # empty: fine
    assert main(_args(src, project)) == 0
    for folder in (project / "docs" / "generated", project / "site"):
        manifest = write.read_manifest(folder)
        assert manifest is not None and ({"index.md", "index.html"} & set(manifest))
        assert write.is_intact(folder)
    assert main(_args(src, project)) == 0  # its own folders: replaced again


@pytest.mark.parametrize("folder", ["docs/generated", "site"])
def test_a_user_file_inside_docgens_folder_makes_it_refuse(src: Path, tmp_path: Path,
                                                           folder: str,
                                                           caplog: pytest.LogCaptureFixture
                                                           ) -> None:
    project = tmp_path / "proj"
    project.mkdir()
    assert main(_args(src, project)) == 0
    added = project / folder / "extra" / "mine.txt"
    added.parent.mkdir()
    added.write_text("keep me")
    assert main(_args(src, project)) == 2
    assert "did not write (extra/mine.txt)" in _one_error(caplog)
    assert added.read_text() == "keep me"


def test_a_file_or_link_in_place_of_the_folder_is_refused(src: Path, tmp_path: Path) -> None:
    project = tmp_path / "proj"
    project.mkdir()
    (project / "site").write_text("a file")
    assert main(_args(src, project)) == 2
    assert (project / "site").read_text() == "a file"
    (project / "site").unlink()
    (tmp_path / "real").mkdir()
    (tmp_path / "real" / "keep.txt").write_text("mine")
    (project / "site").symlink_to(tmp_path / "real")  # followed: its target is checked
    assert main(_args(src, project)) == 2
    assert (project / "site").is_symlink() and (tmp_path / "real" / "keep.txt").is_file()


def test_damaged_site_is_rebuilt(src: Path, tmp_path: Path) -> None:
    project = tmp_path / "proj"
    project.mkdir()
    assert main(_args(src, project)) == 0
    site = project / "site"
    pages = sorted(p for p in site.rglob("*.html") if p.name == "index.html" and p != site
                   / "index.html")
    removed = pages[0]
    good_index = (site / "index.html").read_text(encoding="utf-8")
    removed.unlink()
    (site / "index.html").write_text("defaced", encoding="utf-8")
    assert main(_args(src, project)) == 0
    assert removed.is_file()
    assert (site / "index.html").read_text(encoding="utf-8") == good_index
    assert write.is_intact(site)


def test_lock_is_per_output_folder_in_the_users_cache(tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOCGEN_CACHE_DIR", str(tmp_path / "cache"))
    shared = tmp_path / "public"
    # Two projects building into the same site folder share its lock; other folders do not.
    assert write._lock_file(shared) == write._lock_file(tmp_path / "a" / ".." / "public")
    assert write._lock_file(shared) != write._lock_file(tmp_path / "other")
    assert write._lock_file(shared).parent == tmp_path / "cache" / "locks"
    assert not write._lock_file(shared).is_relative_to(tempfile.gettempdir()) or \
        (tmp_path / "cache").is_relative_to(tempfile.gettempdir())
    with write.output_lock([shared, tmp_path / "docs"]):
        assert (tmp_path / "cache" / "locks").stat().st_mode & 0o077 == 0
    monkeypatch.setenv("DOCGEN_CACHE_DIR", "/etc/passwd")
    with pytest.raises(write.ConfigError, match="DOCGEN_CACHE_DIR=/etc/passwd: not a folder"):
        write._lock_file(shared)
    monkeypatch.setenv("DOCGEN_CACHE_DIR", str(tmp_path / "afile" / "cache"))
    (tmp_path / "afile").write_text("x")
    with pytest.raises(write.ConfigError, match="cannot create docgen's lock folder"):
        write._lock_file(shared)


def test_second_writer_of_the_same_folder_waits(tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOCGEN_CACHE_DIR", str(tmp_path / "cache"))
    code = ("import sys, time; from pathlib import Path; from docgen.site import write\n"
            "with write.output_lock([Path(sys.argv[1])]):\n"
            "    print('locked', flush=True); time.sleep(1.5)\n")
    env = {**os.environ, "DOCGEN_CACHE_DIR": str(tmp_path / "cache")}
    holder = subprocess.Popen([sys.executable, "-c", code, str(tmp_path / "public")], env=env,
                              stdout=subprocess.PIPE, text=True)
    assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
    import time

    start = time.monotonic()
    with write.output_lock([tmp_path / "public"]):
        waited = time.monotonic() - start
    holder.wait(timeout=30)
    assert waited > 0.5
    start = time.monotonic()
    with write.output_lock([tmp_path / "other"]):
        assert time.monotonic() - start < 0.5


def test_stale_staging_cleanup_only_touches_dead_owners_of_the_same_folder(tmp_path: Path
                                                                           ) -> None:
    dest = tmp_path / "site"
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    alive = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        folders = {
            "dead": tmp_path / f".site.new-{dead.pid}-abc",
            "dead_old": tmp_path / f".site.old-{dead.pid}-abc",
            "alive": tmp_path / f".site.new-{alive.pid}-abc",
            "other_dest": tmp_path / f".site2.new-{dead.pid}-abc",
            "no_owner": tmp_path / ".site.new-xyz",
            "user": tmp_path / ".site.notes-1-2",
        }
        for folder in folders.values():
            folder.mkdir()
            (folder / "f").write_text("x")
        write.remove_stale_staging(dest)
        left = {k for k, v in folders.items() if v.exists()}
        assert left == {"alive", "other_dest", "no_owner", "user"}
    finally:
        alive.kill()
        alive.wait()


def test_missing_project_creates_nothing(src: Path, tmp_path: Path,
                                         caplog: pytest.LogCaptureFixture) -> None:
    project = tmp_path / "nowhere" / "proj"
    assert main(_args(src, project)) == 2
    assert "project folder does not exist" in _one_error(caplog)
    assert not (tmp_path / "nowhere").exists()


def test_missing_templates_folder_is_an_error(src: Path, tmp_path: Path,
                                              caplog: pytest.LogCaptureFixture) -> None:
    project = tmp_path / "proj"
    project.mkdir()
    assert main(_args(src, project, "--templates", str(tmp_path / "nope"))) == 2
    assert "templates folder does not exist" in _one_error(caplog)
    assert list(project.iterdir()) == []


def test_mkdocs_yml_site_dir_is_honoured(src: Path, tmp_path: Path) -> None:
    project = tmp_path / "proj"
    (project / "docs").mkdir(parents=True)
    (project / "docs" / "index.md").write_text("# Home\n")
    config = {"site_name": "t", "site_dir": "public",
              "plugins": ["search", {"docgen": {"model": "pkg.net:Net", "packages": "pkg",
                                                "sources": {"pkg": str(src)}, "changes": [],
                                                "walk": False, "summary": False}}]}
    (project / "mkdocs.yml").write_text(yaml.safe_dump(config), encoding="utf-8")
    assert main(["-q", "build", "--project", str(project), "--jobs", "1"]) == 0
    assert (project / "public" / "index.html").is_file()
    assert not (project / "site").exists()


@pytest.mark.parametrize("command,fmt", [("snapshot", ""), ("export", "plantuml"),
                                         ("export", "mermaid"), ("export", "dot")])
def test_out_never_replaces_a_file_docgen_did_not_write(src: Path, tmp_path: Path,
                                                        command: str, fmt: str,
                                                        caplog: pytest.LogCaptureFixture
                                                        ) -> None:
    """`--out notes.md` used to overwrite the user's file; now it is refused (exit 2, the
    file untouched) unless --force, while a file docgen wrote is replaced as before."""
    args = ["-q", command, "--source", f"pkg={src}", "--packages", "pkg", "--model",
            "pkg.net:Net", "--jobs", "1", *(["--format", fmt] if fmt else [])]
    mine = tmp_path / "notes.md"
    for text in ("my notes", '{"schema": "x", "classes": {}}', "@startuml\nA -> B\n@enduml\n"):
        mine.write_text(text)
        assert main([*args, "--out", str(mine)]) == 2
        assert "does not replace a file it did not write" in _one_error(caplog)
        assert mine.read_text() == text
        caplog.clear()
    out = tmp_path / "out.txt"
    assert main([*args, "--out", str(out)]) == 0
    first = out.read_text()
    assert main([*args, "--out", str(out)]) == 0  # docgen's own file: replaced
    assert out.read_text() == first
    assert main([*args, "--out", str(mine), "--force"]) == 0
    assert mine.read_text() == first
