"""The analysis cache: hits on unchanged files, damaged entries rebuilt (never trusted),
concurrent writers, and a broken wheel on the command line leaving the cache valid."""

from __future__ import annotations

import multiprocessing
from pathlib import Path

import pytest

from docgen.changes.snapshot import dump_snapshot
from docgen.classes.cache import AnalysisCache, analyze_many
from docgen.cli.main import main
from docgen.sources.locate import SourceSet, SourceSpec, open_source
from tests.conftest import WritePackage, analyze_package

PKG = {
    "c/__init__.py": "from .a import A\n",
    "c/a.py": "class A:\n    def __init__(self):\n        self.x = 1\n",
    "c/b.py": "from .a import A\nclass B(A):\n    pass\n",
}


def _sources(root: Path) -> SourceSet:
    return SourceSet([open_source(SourceSpec("c", str(root)))])


def test_unchanged_files_hit_and_changed_ones_miss(write_package: WritePackage,
                                                   tmp_path: Path) -> None:
    root = write_package(PKG)
    cache = AnalysisCache(tmp_path / "cache")
    names = ["c", "c.a", "c.b"]
    list(analyze_many(_sources(root), names, cache=cache, jobs=1))
    assert (cache.hits, cache.misses) == (0, 3)
    (root / "c" / "b.py").write_text("from .a import A\nclass B(A):\n    y = 2\n")
    again = AnalysisCache(tmp_path / "cache")
    list(analyze_many(_sources(root), names, cache=again, jobs=1))
    assert (again.hits, again.misses) == (2, 1)


@pytest.mark.parametrize("damage", ["flip", "truncate", "garbage", "empty"])
def test_damaged_entries_are_rebuilt(write_package: WritePackage, tmp_path: Path,
                                     damage: str, caplog: pytest.LogCaptureFixture) -> None:
    root = write_package(PKG)
    cache = AnalysisCache(tmp_path / "cache")
    expected = [a.module for a in analyze_many(_sources(root), ["c.a"], cache=cache, jobs=1)]
    [entry] = [p for p in (tmp_path / "cache" / "analysis").rglob("*") if p.is_file()]
    blob = entry.read_bytes()
    entry.write_bytes({"flip": blob[:-1] + bytes([blob[-1] ^ 0xFF]),
                       "truncate": blob[: len(blob) // 2],
                       "garbage": b"\x00" * 100, "empty": b""}[damage])
    again = AnalysisCache(tmp_path / "cache")
    got = [a.module for a in analyze_many(_sources(root), ["c.a"], cache=again, jobs=1)]
    assert got == expected
    assert again.hits == 0 and "damaged" in caplog.text
    third = AnalysisCache(tmp_path / "cache")
    list(analyze_many(_sources(root), ["c.a"], cache=third, jobs=1))
    assert third.hits == 1  # the rebuilt entry is whole again


def _fill(args: tuple[str, str]) -> str:
    root, cache_dir = args
    cache = AnalysisCache(Path(cache_dir))
    sources = SourceSet([open_source(SourceSpec("c", root))])
    return repr([a.module for a in analyze_many(sources, ["c", "c.a", "c.b"], cache=cache,
                                                 jobs=1)])


def test_concurrent_writers_leave_a_valid_cache(write_package: WritePackage,
                                                tmp_path: Path) -> None:
    root = write_package(PKG)
    with multiprocessing.get_context("fork").Pool(4) as pool:
        results = pool.map(_fill, [(str(root), str(tmp_path / "cache"))] * 8)
    assert len(set(results)) == 1
    cache = AnalysisCache(tmp_path / "cache")
    list(analyze_many(_sources(root), ["c", "c.a", "c.b"], cache=cache, jobs=1))
    assert (cache.hits, cache.misses) == (3, 0)
    assert not [p for p in (tmp_path / "cache").rglob(".tmp-*")]


def test_cached_and_uncached_projects_are_identical(write_package: WritePackage) -> None:
    root = write_package(PKG)
    assert dump_snapshot(analyze_package(root, "c")) == dump_snapshot(analyze_package(root, "c"))


def test_broken_wheel_on_the_command_line_exits_2(tmp_path: Path,
                                                  caplog: pytest.LogCaptureFixture) -> None:
    wheel = tmp_path / "torch-2.13.0-cp311-cp311-linux_x86_64.whl"
    wheel.write_bytes(b"PK\x03\x04 truncated")
    assert main(["show", "torch.nn.Conv2d", "--source", f"torch={wheel}",
                 "--source", f"torchvision={wheel}"]) == 2
    assert "not a readable wheel" in caplog.text
