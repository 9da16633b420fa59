"""docgen on a hostile corpus: time, CPU, peak memory and the largest file written.

    python -m benchmarks.hostile [--classes 10000] [--depth 1000] [--json results.json]

Each case is a synthetic package written to a temporary folder; docgen runs on it as a user
would (`docgen snapshot`, and `docgen build --no-mkdocs` for the pages), in a fresh process
with an empty cache. The cases: many classes (a package of `--classes` classes in 100
modules, each a Module subclass with members and methods; as many in one module, beside one
class of as many attributes), an inheritance chain `--depth` deep declared root-first and
leaf-first, huge docstrings and signatures (a 7.6 MB file, under the 8 MiB source limit), and
bombs (a wheel member that inflates past the limit, a METADATA
zip bomb: the first is skipped with a warning, the second is exit 2). The largest file
written is checked against the limits the README states (a class page about 60 KB plus its
own members and methods; the class index about 350 bytes per class).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import zipfile
from pathlib import Path

from benchmarks.bench import run_child

ROOT = Path(__file__).resolve().parent.parent


def write_many(root: Path, classes: int) -> None:
    pkg = root / "many"
    pkg.mkdir(parents=True)
    (pkg / "__init__.py").write_text("from .m0 import Module\n")
    per = max(1, classes // 100)
    for m in range(100):
        lines = ["class Module:\n    def __init__(self):\n        self.training = True\n"
                 if m == 0 else "from .m0 import Module\n"]
        for i in range(per):
            base = "Module" if i == 0 else f"C{m}_{i - 1}"
            lines.append(f"class C{m}_{i}({base}):\n    '''Class {i} of module {m}.'''\n"
                         f"    x{i}: int = {i}\n    def __init__(self, a={i}):\n"
                         f"        super().__init__()\n        self.a{i} = a\n"
                         f"    def forward(self, x):\n        return x\n")
        (pkg / f"m{m}.py").write_text("\n".join(lines))


def write_flat(root: Path, classes: int) -> None:
    """All the classes in one module, and one class with as many attributes."""
    pkg = root / "flat"
    pkg.mkdir(parents=True)
    (pkg / "__init__.py").write_text("from .mod import *\n")
    body = "".join(f"    x{i} = {i}\n" for i in range(classes))
    (pkg / "mod.py").write_text("".join(f"class C{i}:\n    x = {i}\n" for i in range(classes))
                                + f"class Big:\n{body}    class Inner:\n        pass\n")


def write_chain(root: Path, depth: int, leaf_first: bool) -> None:
    pkg = root / "chain"
    pkg.mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    classes = ["class C0:\n    a0 = 0\n"] + [
        f"class C{i}(C{i - 1}):\n    a{i} = {i}\n    def m{i}(self): pass\n"
        for i in range(1, depth)]
    if leaf_first:
        classes.reverse()
    (pkg / "mod.py").write_text("\n".join(classes))


def write_huge(root: Path) -> None:
    pkg = root / "huge"
    pkg.mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    paragraph = "word " * 750_000  # 3.75 MB, one paragraph, no sentence end
    (pkg / "mod.py").write_text(
        f'class Huge:\n    """{paragraph}"""\n\n'
        f'    def m(self, x: "{"A" * 100_000}" = 1):\n        """{paragraph}"""\n')


def write_bombs(root: Path) -> tuple[Path, Path]:
    member = root / "bomb-1.0-py3-none-any.whl"
    with zipfile.ZipFile(member, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("bomb/__init__.py", "class Fine:\n    pass\n")
        zf.writestr("bomb/big.py", b"x = 1\n" + b"#" * (200 << 20))
        zf.writestr("bomb-1.0.dist-info/METADATA", "Name: bomb\nVersion: 1.0\n")
    metadata = root / "meta-1.0-py3-none-any.whl"
    with zipfile.ZipFile(metadata, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("meta/__init__.py", "")
        zf.writestr("meta-1.0.dist-info/METADATA", b"Name: meta\n" + b" " * (200 << 20))
    return member, metadata


def largest_file(folder: Path) -> tuple[str, int]:
    """The largest page written (the marker, a manifest of every file, is reported apart)."""
    files = [p for p in folder.rglob("*") if p.is_file() and p.name != ".docgen-output"]
    if not files:
        return "", 0
    big = max(files, key=lambda p: p.stat().st_size)
    return big.relative_to(folder).as_posix(), big.stat().st_size


def run_docgen(args: list[str], cwd: Path) -> dict[str, object]:
    cache = tempfile.mkdtemp(prefix="docgen-hostile-cache-")
    os.makedirs(f"{cache}/wheels")
    argv = [sys.executable, "-m", "docgen", "-q", *args]
    try:
        seconds, peak, _out, cpu = run_child("", env={"DOCGEN_CACHE_DIR": cache}, cwd=cwd,
                                             argv=argv)
        code = 0
    except RuntimeError as exc:  # a refused input: measured the same way, exit code kept
        seconds, peak, cpu, code = 0.0, 0.0, 0.0, int(str(exc).split("(")[1].split(")")[0])
    return {"seconds": round(seconds, 2), "cpu_s": round(cpu, 2), "peak_mb": round(peak),
            "exit": code}


def measure_case(name: str, source: str, package: str, work: Path) -> dict[str, object]:
    out = work / f"{name}-out"
    snap = run_docgen(["snapshot", "--source", source, "--packages", package, "--model", "",
                       "--no-cache", "--out", str(out / "snapshot.json")], work)
    project = work / f"{name}-site"
    project.mkdir()
    build = run_docgen(["build", "--no-mkdocs", "--project", str(project), "--source", source,
                        "--packages", package, "--model", "", "--no-cache"], work)
    snap["snapshot_mb"] = round((out / "snapshot.json").stat().st_size / 1e6, 2) \
        if (out / "snapshot.json").exists() else None
    pages = project / "docs" / "generated"
    path, size = largest_file(pages) if pages.exists() else ("", 0)
    build["largest_page"] = path
    build["largest_page_kb"] = round(size / 1e3, 1)
    marker = pages / ".docgen-output"
    build["marker_kb"] = round(marker.stat().st_size / 1e3, 1) if marker.exists() else None
    index = pages / "classes" / "index.md"
    build["class_index_kb"] = round(index.stat().st_size / 1e3, 1) if index.exists() else None
    return {"case": name, "snapshot": snap, "build": build}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--classes", type=int, default=10_000)
    parser.add_argument("--depth", type=int, default=1000)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="docgen-hostile-"))
    cases = []
    write_many(work / "src-many", args.classes)
    cases.append(("many", f"many={work / 'src-many'}", "many"))
    write_flat(work / "src-flat", args.classes)
    cases.append(("flat", f"flat={work / 'src-flat'}", "flat"))
    for leaf_first in (False, True):
        name = "chain-leaf-first" if leaf_first else "chain-root-first"
        write_chain(work / f"src-{name}", args.depth, leaf_first)
        cases.append((name, f"chain={work / f'src-{name}'}", "chain"))
    write_huge(work / "src-huge")
    cases.append(("huge", f"huge={work / 'src-huge'}", "huge"))
    member, metadata = write_bombs(work)
    cases.append(("member-bomb", f"bomb={member}", "bomb"))
    cases.append(("metadata-bomb", f"meta={metadata}", "meta"))
    results = []
    for name, source, package in cases:
        result = measure_case(name, source, package, work)
        print(json.dumps(result), f"load {os.getloadavg()[0]:.1f}", flush=True)
        results.append(result)
    if args.json is not None:
        args.json.write_text(json.dumps(results, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
