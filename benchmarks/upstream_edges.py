"""Regenerate docgen/data/upstream_edges.json: scan C++ kernel bodies of a PyTorch source tree.

    python benchmarks/upstream_edges.py --pytorch-src /tmp/pytorch-src \
        --file aten/src/ATen/native/Convolution.cpp=COMMIT[:partial] ... \
        --out docgen/data/upstream_edges.json

Each --file names a file under the tree and the upstream commit it was read at; `:partial`
marks a file saved only up to the functions read (its line numbers are still exact). The
scanner is docgen.upstream.scan_source, the same one `docgen walk --pytorch-src` uses.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from docgen.aten import read_native_functions
from docgen.upstream import (
    CALL_PREFIX,
    METHOD_PREFIX,
    EdgeSet,
    edges_to_json,
    scan_source,
)

TARGET = "torch 2.13.0"


def _is_kept(callee: str, operators: set[str] | None) -> bool:
    for prefix in (METHOD_PREFIX, CALL_PREFIX):
        if callee.startswith(prefix):
            return operators is None or callee.removeprefix(prefix) in operators
    return True


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pytorch-src", required=True, type=Path)
    parser.add_argument("--file", action="append", required=True, metavar="PATH=COMMIT[:partial]")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--target-commit", default=None,
                        help="git_version of the torch wheel the edges are meant for")
    parser.add_argument("--native-functions", type=Path, default=None, metavar="YAML",
                        help="keep Tensor-method and unqualified calls only when they name an "
                             "operator of this native_functions.yaml (keeps the file small)")
    args = parser.parse_args(argv)
    operators: set[str] | None = None
    if args.native_functions is not None:
        table = read_native_functions(args.native_functions.read_text(encoding="utf-8"))
        operators = {name.split(".")[0] for name in table.operators}
    edges = EdgeSet()
    files: dict[str, dict[str, object]] = {}
    for item in args.file:
        rel, _, spec = item.partition("=")
        commit, _, flag = spec.partition(":")
        text = (args.pytorch_src / rel).read_text(encoding="utf-8")
        files[rel] = {"commit": commit, "complete": flag != "partial", "chars": len(text),
                      "lines": text.count("\n")}
        for edge in scan_source(text, rel, commit):
            if _is_kept(edge.callee, operators):
                edges.add(edge)
    commits = sorted({str(f["commit"])[:12] for f in files.values()})
    meta = {
        "origin": f"shipped edges read from pytorch/pytorch at commits {', '.join(commits)} "
                  f"(not the {TARGET} tag; may differ from it)",
        "target": TARGET,
        "target_commit": args.target_commit,
        "repository": "pytorch/pytorch",
        "note": "Each file was read at the commit the source index stored for it, which is not "
                "the v2.13.0 tag; calls may differ from what torch 2.13.0 runs. Rerun "
                "`docgen walk --pytorch-src <v2.13.0 checkout>` for edges of that exact version.",
        "files": files,
        "filtered_by": "native_functions.yaml of torch 2.13.0 (method and unqualified calls)"
        if operators is not None else None,
    }
    args.out.write_text(json.dumps(edges_to_json(edges, meta), indent=2, sort_keys=True,
                                   ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"{len(edges)} edges from {len(files)} files -> {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
