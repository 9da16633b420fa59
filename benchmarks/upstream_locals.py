"""Regenerate docgen/data/upstream_locals.json: the local definitions, parameters and
same-file call arguments of C++ kernel bodies, read from the files the shipped edges were
read from, at the same commits (docgen.walk.locals.scan_locals).

    python benchmarks/upstream_locals.py --src /tmp/pytorch-src \\
        --file aten/src/ATen/native/Convolution.cpp=cyyever/pytorch@COMMIT:partial ... \\
        --out docgen/data/upstream_locals.json

With `--update docgen/data/upstream_locals.json` the files given are added to (or replace
theirs in) that file; the scopes of every other file are kept as they are.

`:partial` marks a file saved only with the functions read, at their lines (the functions
kept are listed in the data); every file's repository and commit must be the ones
docgen/data/upstream_edges.json records for it, so locals and edges describe one text.
With `--update JSON` the run starts from that locals file: the --file(s) replace its
functions of those files, every other file's functions are kept as they are.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from docgen.walk.locals import LocalsSet, locals_from_json, locals_to_json, scan_locals
from docgen.walk.upstream import AUTOGRAD_DIR, AUTOGRAD_PREFIX

EDGES = Path(__file__).resolve().parent.parent / "docgen" / "data" / "upstream_edges.json"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--src", required=True, help="folder the files were saved in")
    parser.add_argument("--file", action="append", default=[],
                        help="PATH=OWNER/REPO@COMMIT[:partial]")
    parser.add_argument("--out", required=True)
    parser.add_argument("--update", default=None, metavar="JSON",
                        help="start from this locals file: the files given replace theirs")
    args = parser.parse_args(argv)
    edge_files = json.loads(EDGES.read_text(encoding="utf-8")).get("files", {})
    scopes = LocalsSet()
    files: dict[str, object] = {}
    if args.update:
        old = json.loads(Path(args.update).read_text(encoding="utf-8"))
        again = {spec.partition("=")[0] for spec in args.file}
        kept = locals_from_json({"functions": [row for row in old.get("functions", [])
                                               if row["path"] not in again]}, "")
        for found_scopes in kept.scopes.values():
            for scope in found_scopes:
                scopes.add(scope)
        files.update({k: v for k, v in old.get("files", {}).items() if k not in again})
    for spec in args.file:
        path, _, where = spec.partition("=")
        where, _, flag = where.partition(":")
        repo, _, commit = where.partition("@")
        known = edge_files.get(path, {})
        if known.get("commit") != commit or known.get("repo") != repo:
            print(f"{path}: {repo}@{commit} is not the text the shipped edges were read "
                  f"from ({known.get('repo')}@{known.get('commit')})", file=sys.stderr)
            return 2
        text = (Path(args.src) / path).read_text(encoding="utf-8")
        found = scan_locals(text, path)
        if path.startswith(AUTOGRAD_DIR):
            found = [replace(s, name=AUTOGRAD_PREFIX + s.name, calls=tuple(
                (AUTOGRAD_PREFIX + c, n, a) for c, n, a in s.calls)) for s in found]
        for scope in found:
            scopes.add(scope)
        files[path] = {"repo": repo, "commit": commit, "partial": flag == "partial",
                       "functions": sorted(s.name for s in found)}
    origin = ("local definitions read from " + ", ".join(
        sorted({f"{v['repo']}@{str(v['commit'])[:12]}" for v in files.values()
                if isinstance(v, dict)})) + " (the shipped edges' texts)")
    data = locals_to_json(scopes, {"files": files, "origin": origin})
    Path(args.out).write_text(json.dumps(data, indent=2, sort_keys=True,
                                         ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"{args.out}: {sum(len(v) for v in scopes.scopes.values())} functions")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
