"""Hostile sources cannot exhaust memory, hang the build or leak files: only regular files
inside the source root are read, each up to a size limit (declared and actual, in folders and
wheels), and what is skipped is reported as `path: reason` (issue 15, resource exhaustion)."""

from __future__ import annotations

import io
import logging
import os
import struct
import subprocess
import sys
import time
import tracemalloc
import zipfile
from pathlib import Path

import pytest

from docgen.core.config import Config
from docgen.core.errors import FetchError
from docgen.site.build import generate_docs
from docgen.sources import locate
from docgen.sources.locate import SourceSpec, WheelTree
from tests.conftest import WritePackage, analyze_package

ROOT = Path(__file__).resolve().parent.parent


def _hostile_folder(write_package: WritePackage, tmp_path: Path) -> Path:
    root = write_package({"pkg/__init__.py": "", "pkg/real.py": "class Real:\n    pass\n",
                          "pkg/big.py": "x = 1\n" + "#" * 5000 + "\nclass Big:\n    pass\n"})
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.py").write_text("class Secret:\n    '''password: hunter2'''\n")
    (outside / "dir").mkdir()
    (outside / "dir" / "leak.py").write_text("class Leak:\n    pass\n")
    pkg = root / "pkg"
    (pkg / "secret.py").symlink_to(outside / "secret.py")
    (pkg / "leakdir").symlink_to(outside / "dir")
    (pkg / "zero.py").symlink_to("/dev/zero")
    (pkg / "alias.py").symlink_to(pkg / "real.py")  # inside the root: fine
    os.mkfifo(pkg / "fifo.py")
    return root


def test_only_regular_files_inside_the_root_are_read(write_package: WritePackage,
                                                     tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch,
                                                     caplog: pytest.LogCaptureFixture) -> None:
    root = _hostile_folder(write_package, tmp_path)
    monkeypatch.setattr(locate, "MAX_FILE_BYTES", 4000)
    caplog.set_level(logging.WARNING, logger="docgen")
    start = time.perf_counter()
    project = analyze_package(root, "pkg", module_root="pkg.real.Real")
    assert time.perf_counter() - start < 60  # the FIFO and /dev/zero never block
    names = {v.qualname for v in project.views}
    assert "pkg.real.Real" in names and "pkg.alias.Real" in names
    assert not {"pkg.secret.Secret", "pkg.leakdir.leak.Leak", "pkg.big.Big"} & names
    text = caplog.text + "\n".join(str(d) for d in project.diagnostics)
    assert "secret.py: skipped: symbolic link leading outside the source folder" in text
    assert "leakdir: skipped: symbolic link leading outside the source folder" in text
    assert "zero.py: skipped: symbolic link leading outside the source folder" in text
    assert "fifo.py: skipped: not a regular file" in text
    assert "pkg/big.py:1: skipped: cannot read: too large (5,027 bytes; docgen reads files " \
        "up to 4,000 bytes)" in text


def test_a_fifo_replacing_a_listed_file_does_not_hang(tmp_path: Path) -> None:
    (tmp_path / "p").mkdir()
    os.mkfifo(tmp_path / "p" / "late.py")
    with pytest.raises(OSError, match="not a regular file"):
        locate.read_regular_file(tmp_path, "p/late.py")
    (tmp_path / "p" / "dev.py").symlink_to("/dev/zero")
    with pytest.raises(OSError, match="outside the source folder"):
        locate.read_regular_file(tmp_path, "p/dev.py")


def test_hostile_folder_builds_through_the_cli_without_hanging(write_package: WritePackage,
                                                               tmp_path: Path) -> None:
    root = _hostile_folder(write_package, tmp_path)
    project = tmp_path / "proj"
    project.mkdir()
    proc = subprocess.run(
        [sys.executable, "-m", "docgen", "build", "--no-mkdocs", "--project", str(project),
         "--source", f"pkg={root}", "--packages", "pkg", "--model", "", "--jobs", "1"],
        cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)}, capture_output=True,
        text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr and "fifo.py: skipped" in proc.stderr
    generated = "".join(p.read_text() for p in (project / "docs" / "generated").rglob("*.md"))
    assert "hunter2" not in generated and "Secret" not in generated


def _wheel_bytes(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return buffer.getvalue()


def test_wheel_members_over_the_limit_are_skipped(tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(locate, "MAX_FILE_BYTES", 1 << 20)
    big = b"x = 1\n" + b"#" * (40 << 20)  # 40 MB that deflate to about 40 kB
    wheel = tmp_path / "pkg-1.0-py3-none-any.whl"
    wheel.write_bytes(_wheel_bytes({
        "pkg/__init__.py": b"", "pkg/big.py": big, "pkg/ok.py": b"class Ok:\n    pass\n",
        "pkg-1.0.dist-info/METADATA": b"Name: pkg\nVersion: 1.0\n"}))
    tree = WheelTree(wheel, "wheel")
    with pytest.raises(OSError, match="too large"):
        tree.read_bytes("pkg/big.py")
    # A member whose header lies about its size is still stopped while it inflates.
    data = bytearray(wheel.read_bytes())
    at = data.rfind(b"PK\x01\x02", 0, data.rfind(b"pkg/big.py"))
    struct.pack_into("<I", data, at + 24, 100)  # declared uncompressed size: 100 bytes
    wheel.write_bytes(bytes(data))
    tracemalloc.start()
    with pytest.raises(OSError):
        WheelTree(wheel, "wheel").read_bytes("pkg/big.py")
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < 8 << 20
    assert WheelTree(wheel, "wheel").read_bytes("pkg/ok.py").startswith(b"class Ok")


def test_metadata_zip_bomb_is_a_clear_error(tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(locate, "MAX_FILE_BYTES", 1 << 20)
    wheel = tmp_path / "pkg-1.0-py3-none-any.whl"
    wheel.write_bytes(_wheel_bytes({"pkg/__init__.py": b"", "pkg-1.0.dist-info/METADATA":
                                    b"Name: pkg\n" + b" " * (30 << 20)}))
    with pytest.raises(FetchError, match="METADATA: too large"):
        WheelTree(wheel, "wheel")


def test_huge_docstring_is_truncated_on_pages(write_package: WritePackage) -> None:
    paragraph = "word " * 400_000  # 2 MB, one paragraph, no sentence end
    root = write_package({"pkg/__init__.py": "",
                          "pkg/mod.py": f'class Huge:\n    """{paragraph}"""\n\n'
                                        f'    def m(self, x: "{"A" * 50_000}" = 1):\n'
                                        f'        """{paragraph}"""\n'})
    cfg = Config(model="", packages=("pkg",), sources=(SourceSpec("pkg", str(root)),),
                 module_root="pkg.mod.Huge", changes=(), walk=False, summary=False)
    docs = generate_docs(cfg, jobs=1)
    assert max(len(text) for text in docs.files.values()) < 100_000
    page = docs.files["classes/pkg.mod.Huge.md"]
    assert page.count("truncated by docgen: 1,999,999 characters") == 2  # class and method
    assert "truncated by docgen: 50,018 characters" in page  # the signature
