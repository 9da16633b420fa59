"""Producing and reading the committed oracle files `tests/data/oracles/mro/<dist>-<version>`.

Each is the JSON that runtime.py writes; gzipped (`.json.gz`, mtime 0 so the bytes are
reproducible) when over GZIP_OVER bytes.
"""

from __future__ import annotations

import gzip
import json
import subprocess
import tempfile
from pathlib import Path
from typing import Any

from tests.mro_oracle.pins import OraclePackage

ORACLE_DIR = Path(__file__).resolve().parents[1] / "data" / "oracles" / "mro"
RUNTIME_SCRIPT = Path(__file__).resolve().with_name("runtime.py")
GZIP_OVER = 1_500_000


def oracle_file(pkg: OraclePackage, folder: Path = ORACLE_DIR) -> Path:
    """The committed file of `pkg`, gzipped or not (the plain name when neither exists)."""
    plain = folder / f"{pkg.dist}-{pkg.version}.json"
    packed = plain.with_name(plain.name + ".gz")
    return packed if packed.exists() else plain


def run_runtime(python: Path, pkg: OraclePackage) -> str:
    """The oracle JSON text for `pkg`, computed by `python` (the oracle venv's)."""
    with tempfile.TemporaryDirectory(prefix="mro-oracle-") as tmp:
        out = Path(tmp) / "out.json"
        proc = subprocess.run(
            [str(python), str(RUNTIME_SCRIPT), pkg.package, pkg.dist, pkg.version, str(out)],
            capture_output=True, text=True, check=False, timeout=900, cwd=tmp,
            env={"PYTHONHASHSEED": "0", "PATH": "/usr/bin:/bin"})
        if proc.returncode != 0:
            raise RuntimeError(f"runtime oracle for {pkg.requirement} failed: "
                               f"{proc.stderr.strip()[-2000:]}")
        return out.read_text(encoding="utf-8")


def encode_oracle(text: str) -> tuple[str, bytes]:
    """(file suffix, bytes) as committed."""
    data = text.encode("utf-8")
    if len(data) <= GZIP_OVER:
        return ".json", data
    return ".json.gz", gzip.compress(data, compresslevel=9, mtime=0)


def write_oracle(pkg: OraclePackage, text: str, folder: Path = ORACLE_DIR) -> Path:
    suffix, data = encode_oracle(text)
    folder.mkdir(parents=True, exist_ok=True)
    for old in (folder / f"{pkg.dist}-{pkg.version}.json",
                folder / f"{pkg.dist}-{pkg.version}.json.gz"):
        old.unlink(missing_ok=True)
    path = folder / f"{pkg.dist}-{pkg.version}{suffix}"
    path.write_bytes(data)
    return path


def read_oracle_text(path: Path) -> str:
    data = path.read_bytes()
    return (gzip.decompress(data) if path.suffix == ".gz" else data).decode("utf-8")


def load_oracle(pkg: OraclePackage) -> dict[str, Any]:
    return json.loads(read_oracle_text(oracle_file(pkg)))
