"""Regenerate docgen/data/upstream_edges.json: scan C++ kernel bodies of PyTorch source files.

    python benchmarks/upstream_edges.py \
        --src cyyever/pytorch=/tmp/pytorch-src-cyyever --src pytorch/pytorch=/tmp/pytorch-src \
        --file aten/src/ATen/native/Convolution.cpp=cyyever/pytorch@COMMIT ... \
        --native-functions torchgen/packaged/ATen/native/native_functions.yaml \
        --out docgen/data/upstream_edges.json

Each --file names a file, the repository it was read from (pytorch/pytorch or a fork of it)
and the commit; `:partial` after the commit marks a file saved only up to the functions read
(its line numbers are still exact). --src says in which local folder each repository's files
were saved. The scanner is docgen.walk.upstream.scan_source, the one `docgen walk --pytorch-src`
uses. A --file under torch/csrc/autograd/ (FunctionsManual.cpp, the helpers of the formulas
in derivatives.yaml) has its functions named autograd::<name>; with --derivatives only those
a backward formula reaches are kept.

`--annotate --update JSON` changes no edge: it marks the shipped edges of each --file (read at
the commit they were read at) with the loop their line sits in and with their call as written
(args, receiver, caller_params, caller_locals), which docgen/walk/loops.py follows.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Iterable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from docgen.walk.aten import read_derivatives, read_native_functions
from docgen.walk.records import DerivativeDoc, UpstreamEdge
from docgen.walk.upstream import (
    AUTOGRAD_DIR,
    AUTOGRAD_PREFIX,
    CALL_PREFIX,
    METHOD_PREFIX,
    EdgeSet,
    autograd_namespaced,
    edges_from_json,
    edges_to_json,
    line_loops,
    scan_source,
)

TARGET = "torch 2.13.0"
UPSTREAM = "pytorch/pytorch"
# Content markers of a modern PyTorch file, recorded per file in the data (`markers`).
MARKERS = ("select_conv_backend", "ConvBackend::", "native_dropout", "at::addmm",
           "std::optional", "_slow_conv2d_forward", "max_pool2d_with_indices",
           "clamp_min", "_adaptive_avg_pool2d", "is_contiguous_or_false")


def _is_kept(callee: str, operators: set[str] | None, helpers: set[str]) -> bool:
    """Method and unqualified calls are kept when they name an operator (`x_symint` is the
    SymInt C++ API of operator `x`) or, unqualified, a helper that calls one."""
    for prefix in (METHOD_PREFIX, CALL_PREFIX):
        if callee.startswith(prefix):
            name = callee.removeprefix(prefix)
            return (operators is None or name.removesuffix("_symint") in operators
                    or (prefix == CALL_PREFIX and name in helpers))
    return True


def _helpers(edges: list[UpstreamEdge], operators: set[str] | None = None) -> set[str]:
    """C++ functions whose bodies call an `at::` operator or a Tensor method that is one
    (`multiply<false>` -> `input.mul(noise)`), or call a function that does
    (`_dropout<false>` -> `_dropout_impl<false, false, inplace>`): the walk goes through
    them."""
    found = {_base(e.caller) for e in edges if not e.callee.startswith(
        (METHOD_PREFIX, CALL_PREFIX, "native::"))}
    if operators is not None:
        found |= {_base(e.caller) for e in edges if e.callee.startswith(METHOD_PREFIX)
                  and e.callee.removeprefix(METHOD_PREFIX).removesuffix("_symint")
                  in operators}
    while True:
        more = {_base(e.caller) for e in edges if e.callee.removeprefix(CALL_PREFIX) in found
                and e.callee.startswith(CALL_PREFIX)} - found
        if not more:
            return found
        found |= more


_FORMULA_CALL = re.compile(r"(?<![\w.])([a-z_][a-z0-9_]*)\s*\(")


def _base(caller: str) -> str:
    """`handle_r_to_c(ScalarType, Tensor)`, one C++ overload of a name: the name."""
    found = re.fullmatch(r"([A-Za-z_]\w*)\(.*\)", caller)
    return found.group(1) if found else caller


def _formula_reachable(edges: list[UpstreamEdge], derivatives: Iterable[DerivativeDoc]
                       ) -> list[UpstreamEdge]:
    """`edges` less the autograd:: functions no backward formula reaches."""
    todo = [AUTOGRAD_PREFIX + name for d in derivatives for inputs, formula in d.formulas
            if not inputs.startswith("result") for name in _FORMULA_CALL.findall(formula)]
    reached: set[str] = set()
    by_caller: dict[str, list[UpstreamEdge]] = {}
    for edge in edges:
        by_caller.setdefault(_base(edge.caller), []).append(edge)
    while todo:
        name = todo.pop()
        if name in reached or name not in by_caller:
            continue
        reached.add(name)
        todo.extend(e.callee.removeprefix(CALL_PREFIX) for e in by_caller[name]
                    if e.callee.startswith(CALL_PREFIX + AUTOGRAD_PREFIX))
    return [e for e in edges if not e.caller.startswith(AUTOGRAD_PREFIX) or e.caller in reached]


def _source_text(repo: str, commit: str) -> str:
    where = f"{repo}@{commit}"
    return where if repo == UPSTREAM else f"{where} (a fork of {UPSTREAM})"


def _origin(files: dict[str, dict[str, object]]) -> str:
    by_repo: dict[str, list[str]] = {}
    for info in files.values():
        by_repo.setdefault(str(info["repo"]), []).append(str(info["commit"])[:12])
    parts = []
    for repo, commits in sorted(by_repo.items()):
        fork = "" if repo == UPSTREAM else f" (a fork of {UPSTREAM})"
        parts.append(f"{repo}{fork} at commits {', '.join(sorted(set(commits)))}")
    return f"shipped edges read from {'; '.join(parts)}; not the {TARGET} tag"


def _enum_check(spec: str, texts: list[str]) -> dict[str, object]:
    """Members of a C++ enum in a header of the wheel against the values the files use."""
    header, _, name = spec.rpartition(":")
    text = Path(header).read_text(encoding="utf-8")
    body = re.search(r"enum\s+class\s+" + re.escape(name) + r"\s*\{([^}]*)\}", text)
    declared = set(re.findall(r"\b(\w+)\s*(?:=[^,]*)?,?", body.group(1))) if body else set()
    used = {m for t in texts for m in re.findall(re.escape(name) + r"::(\w+)", t)}
    return {"enum": name, "header": Path(header).name, "declared": len(declared),
            "used": len(used), "declared_not_used": sorted(declared - used),
            "used_not_declared": sorted(used - declared)}


def _annotate(update: Path, out: Path, roots: dict[str, str], specs: list[str]) -> int:
    """Mark the shipped edges of the files `specs` name with the loops their lines sit in
    and with their calls as written (args, receiver, caller_params, caller_locals: those of
    the same call in a scan of the file), changing nothing else: no edge is added or
    removed (the files must be the versions their edges were read from)."""
    data = json.loads(update.read_text(encoding="utf-8"))
    fields = ("loop", "loop_changes", "args", "receiver", "caller_params", "caller_locals")
    for item in specs:
        rel, _, spec = item.partition("=")
        repo, _, rest = spec.partition("@")
        commit = rest.partition(":")[0]
        shipped = data.get("files", {}).get(rel, {})
        if shipped.get("commit") != commit or shipped.get("repo") != repo:
            raise SystemExit(f"{rel}: shipped from {shipped.get('repo')}@"
                             f"{shipped.get('commit')}, not {repo}@{commit}")
        text = (Path(roots[repo]) / rel).read_text(encoding="utf-8")
        loops = line_loops(text)
        found = scan_source(text, rel, commit, repo)
        if rel.startswith(AUTOGRAD_DIR):
            found = autograd_namespaced(found)
        rows: dict[tuple[str, str, int], list[dict[str, object]]] = {}
        for edge in found:
            row = edges_to_json(_one(edge), {})["edges"][0]  # type: ignore[index]
            rows.setdefault((edge.caller, edge.callee, edge.location.line), []).append(row)
        seen: dict[tuple[str, str, int], int] = {}
        for row in data["edges"]:
            if row["path"] != rel:
                continue
            for name in fields:
                row.pop(name, None)
            key = (row["caller"], row["callee"], int(row["line"]))
            k = seen.get(key, 0)
            seen[key] = k + 1
            same = rows.get(key, [])
            if k < len(same):
                row.update({n: same[k][n] for n in fields if n in same[k]})
            elif int(row["line"]) in loops:
                row["loop"], row["loop_changes"] = loops[int(row["line"])]
    out.write_text(json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n",
                   encoding="utf-8")
    return 0


def _one(edge: UpstreamEdge) -> EdgeSet:
    edges = EdgeSet()
    edges.add(edge)
    return edges


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--src", action="append", required=True, metavar="REPO=DIR")
    parser.add_argument("--file", action="append", required=True,
                        metavar="PATH=REPO@COMMIT[:partial]")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--target-commit", default=None,
                        help="git_version of the torch wheel the edges are meant for")
    parser.add_argument("--native-functions", type=Path, default=None, metavar="YAML",
                        help="keep Tensor-method and unqualified calls only when they name an "
                             "operator of this native_functions.yaml or a C++ helper that "
                             "calls one (keeps the file small)")
    parser.add_argument("--enum", default=None, metavar="HEADER:NAME",
                        help="compare the members of enum NAME declared in HEADER (from the "
                             "wheel, e.g. ConvUtils.h:ConvBackend) with the NAME::X the files "
                             "use; the result is recorded as enum_check")
    parser.add_argument("--derivatives", type=Path, default=None, metavar="YAML",
                        help="keep FunctionsManual.cpp functions only when a backward formula "
                             "of this derivatives.yaml calls them, directly or through "
                             "another (with --native-functions)")
    parser.add_argument("--update", type=Path, default=None, metavar="JSON",
                        help="start from this edge file: a --file read in full replaces all "
                             "the old edges of that file, one re-read in part (:partial) the "
                             "old edges of the functions it defines; every other edge is kept")
    parser.add_argument("--annotate", action="store_true",
                        help="with --update: keep every edge and all the rest of the file as "
                             "it is, and only mark the old edges of each --file with the loop "
                             "their line sits in and the call as written (loop, loop_changes, "
                             "args, receiver, caller_params, caller_locals), read from the "
                             "file's text at the commit its edges were read at")
    args = parser.parse_args(argv)
    roots = dict(item.split("=", 1) for item in args.src)
    if args.annotate:
        if args.update is None:
            parser.error("--annotate needs --update")
        return _annotate(args.update, args.out, roots, args.file)
    operators: set[str] | None = None
    if args.native_functions is not None:
        table = read_native_functions(args.native_functions.read_text(encoding="utf-8"))
        operators = {name.split(".")[0] for name in table.operators}
    scanned: list[UpstreamEdge] = []
    texts: list[str] = []
    files: dict[str, dict[str, object]] = {}
    for item in args.file:
        rel, _, spec = item.partition("=")
        repo, _, rest = spec.partition("@")
        commit, _, flag = rest.partition(":")
        text = (Path(roots[repo]) / rel).read_text(encoding="utf-8")
        files[rel] = {"repo": repo, "commit": commit, "source": _source_text(repo, commit),
                      "complete": flag != "partial", "chars": len(text),
                      "lines": text.count("\n"),
                      "markers": [m for m in MARKERS if re.search(re.escape(m), text)]}
        found = scan_source(text, rel, commit, repo)
        scanned.extend(autograd_namespaced(found) if rel.startswith(AUTOGRAD_DIR) else found)
        texts.append(text)
    if args.derivatives is not None and operators is not None:
        table = read_derivatives(args.derivatives.read_text(encoding="utf-8"), table)
        scanned = _formula_reachable(scanned, table.derivatives.values())
    helpers = _helpers(scanned, operators)
    edges = EdgeSet()
    if args.update is not None:
        old = json.loads(args.update.read_text(encoding="utf-8"))
        # helpers defined in the parts of a file not re-read stay helpers
        helpers |= _helpers([e for es in edges_from_json(old, "").edges.values() for e in es],
                            operators)
        redone = {(e.caller, e.location.path) for e in scanned}
        # a file read again in full replaces every edge read in it before (functions the
        # new version no longer has, or names differently, go with the old version)
        replaced = {rel for rel, info in files.items() if info["complete"]}
        for rel, info in files.items():
            previous = old.get("files", {}).get(rel)
            if previous is not None and not info["complete"]:
                # the file stays described as first read; the functions re-read are listed
                info = {**previous, "reread": sorted(
                    {c for c, p in redone if p == rel}
                    | set(previous.get("reread", [])))}
                files[rel] = info
        files = {**old.get("files", {}), **files}
        for edge in edges_from_json(old, "").edges.values():
            for e in edge:
                if (e.caller, e.location.path) not in redone \
                        and e.location.path not in replaced:
                    edges.add(e)
    for edge in scanned:
        if _is_kept(edge.callee, operators, helpers):
            edges.add(edge)
    meta = {
        "origin": _origin(files),
        "target": TARGET,
        "target_commit": args.target_commit,
        "repository": UPSTREAM,
        "note": "Each file was read from the stored copy of pytorch/pytorch or of a fork of "
                "it (see files.*.source), at the commit named there, which is not the "
                "v2.13.0 tag; calls may differ from what torch 2.13.0 runs. Rerun "
                "`docgen walk --pytorch-src <v2.13.0 checkout>` for edges of that exact "
                "version.",
        "files": files,
        "enum_check": _enum_check(args.enum, texts) if args.enum else (
            json.loads(args.update.read_text(encoding="utf-8")).get("enum_check")
            if args.update is not None else None),
        "filtered_by": "native_functions.yaml of torch 2.13.0 (method and unqualified calls;"
                       " unqualified calls also kept when they name a C++ helper that calls "
                       "an at:: operator)" if operators is not None else None,
        "autograd": "functions of torch/csrc/autograd/FunctionsManual.cpp are named "
                    "autograd::<name>; kept when a backward formula of derivatives.yaml "
                    "(torch 2.13.0) reaches them" if args.derivatives else None,
    }
    args.out.write_text(json.dumps(edges_to_json(edges, meta), indent=2, sort_keys=True,
                                   ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"{len(edges)} edges from {len(files)} files -> {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
