"""Source locating: wheels read in place, folders, installed distributions, the cache."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from docgen.core.errors import ConfigError, FetchError
from docgen.sources.locate import (
    SourceSet,
    SourceSpec,
    WheelTree,
    fetch_requirement,
    is_safe_member,
    open_installed,
    open_source,
)


def make_wheel(path: Path, name: str = "demo", version: str = "1.2.3",
               extra: dict[str, str] | None = None) -> Path:
    files = {
        f"{name}/__init__.py": "from .core import Thing\n",
        f"{name}/core.py": "class Thing:\n    '''A thing.'''\n",
        f"{name}-{version}.dist-info/METADATA": f"Metadata-Version: 2.1\nName: {name}\n"
                                                  f"Version: {version}\n",
        **(extra or {}),
    }
    with zipfile.ZipFile(path, "w") as zf:
        for member, text in files.items():
            zf.writestr(member, text)
    return path


def test_wheel_is_read_in_place(tmp_path: Path) -> None:
    wheel = make_wheel(tmp_path / "demo-1.2.3-py3-none-any.whl")
    tree = open_source(SourceSpec("demo", str(wheel)))
    assert (tree.info.name, tree.info.version, tree.info.origin) == ("demo", "1.2.3", "wheel")
    assert tree.info.spec == "wheel:demo-1.2.3-py3-none-any.whl"  # no absolute path
    sources = SourceSet([tree])
    found = sources.find_module("demo")
    assert found is not None and found.is_package
    assert sources.modules_under("demo") == ["demo", "demo.core"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["demo-1.2.3-py3-none-any.whl"]


@pytest.mark.parametrize("member", ["../evil.py", "/abs/evil.py", "demo/../../x.py", "C:/x.py"])
def test_unsafe_member_paths_are_refused(tmp_path: Path, member: str) -> None:
    assert not is_safe_member(member)
    wheel = make_wheel(tmp_path / "demo-1.2.3-py3-none-any.whl", extra={member: "x = 1\n"})
    tree = WheelTree(wheel, "test")
    assert member not in set(tree.paths())
    assert "demo/core.py" in set(tree.paths())


def test_corrupt_and_truncated_wheels_give_a_clear_error(tmp_path: Path) -> None:
    good = make_wheel(tmp_path / "demo-1.2.3-py3-none-any.whl")
    truncated = tmp_path / "trunc-1.0-py3-none-any.whl"
    truncated.write_bytes(good.read_bytes()[:40])
    garbage = tmp_path / "junk-1.0-py3-none-any.whl"
    garbage.write_bytes(b"not a zip at all")
    for path in (truncated, garbage):
        with pytest.raises(FetchError, match="not a readable wheel"):
            WheelTree(path, "test")


def test_wheel_of_the_wrong_distribution(tmp_path: Path) -> None:
    wheel = make_wheel(tmp_path / "demo-1.2.3-py3-none-any.whl")
    with pytest.raises(FetchError, match="holds distribution 'demo', not 'torch'"):
        open_source(SourceSpec("torch", str(wheel)))


def test_folder_source_and_version(tmp_path: Path) -> None:
    pkg = tmp_path / "checkout" / "mypkg"
    pkg.mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "version.py").write_text("__version__ = '0.9.1'\n")
    for folder in (tmp_path / "checkout", pkg):
        tree = open_source(SourceSpec("mypkg", str(folder)))
        assert (tree.info.version, tree.info.origin) == ("0.9.1", "folder")
    with pytest.raises(FetchError, match="holds no package 'other'"):
        open_source(SourceSpec("other", str(tmp_path / "checkout")))


def test_installed_distribution_is_located_without_import() -> None:
    import sys

    was_loaded = "pytest_xdist_not_a_module" in sys.modules
    tree = open_installed("packaging")
    assert tree.info.origin == "env"
    assert any(p.startswith("packaging/") and p.endswith(".py") for p in tree.paths())
    assert not was_loaded
    with pytest.raises(FetchError, match="not installed"):
        open_installed("surely-not-installed-dist")


def test_source_option_parsing() -> None:
    assert SourceSpec.parse("torch==2.13.0") == SourceSpec("torch", "torch==2.13.0")
    assert SourceSpec.parse("torch=env") == SourceSpec("torch", "env")
    assert SourceSpec.parse("torch=/x/y") == SourceSpec("torch", "/x/y")
    with pytest.raises(ConfigError):
        SourceSpec.parse("torch")


def test_requirement_for_another_name_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="names 'numpy'"):
        open_source(SourceSpec("torch", "numpy==1.0"))


def test_cache_hit_needs_no_download_and_offline_miss_is_explained(tmp_path: Path) -> None:
    wheels = tmp_path / "wheels"
    wheels.mkdir()
    make_wheel(wheels / "demo-1.2.3+cpu-py3-none-any.whl")
    assert fetch_requirement("demo==1.2.3", offline=True, cache=tmp_path).name.startswith(
        "demo-1.2.3")
    with pytest.raises(FetchError, match=r"not in the cache .* --offline"):
        fetch_requirement("demo==2.0", offline=True, cache=tmp_path)


def test_unresolvable_requirement_fails_cleanly_and_leaves_cache_valid(tmp_path: Path) -> None:
    with pytest.raises(FetchError, match="pip download failed"):
        fetch_requirement("docgen-surely-missing-dist==0.0.1", cache=tmp_path)
    leftovers = [p for p in (tmp_path / "wheels").iterdir()]
    assert leftovers == []
