"""Walk and Backends records -> JSON data, rich trees and Markdown pages; writes nothing to disk.

Policy (what is shown, in which order) is decided here once, so the terminal, JSON and the
pages agree; templates only arrange.
"""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Any

import jinja2
from rich.console import Group, RenderableType
from rich.markup import escape
from rich.text import Text
from rich.tree import Tree

from docgen.core.escape import anchor, md_code, md_text
from docgen.core.jsonio import WALK_SCHEMA
from docgen.core.templating import make_environment
from docgen.walk.glue import glue_legend, glue_line
from docgen.walk.records import (
    DIRECT_NOTE,
    BackendsReport,
    BackwardCall,
    DerivativeDoc,
    KernelChoice,
    LayerWalk,
    OpNode,
    PyHop,
    WalkReport,
)
from docgen.walk.taken import is_utility
from docgen.walk.upstream import balanced, split_top

UPSTREAM_MARK = "from upstream C++"
GLUE_MARK = "generated:"


def _loc(loc: Any) -> str | None:
    return f"{loc.path}:{loc.line}" if loc is not None else None


def hop_to_json(hop: PyHop) -> dict[str, Any]:
    return {"name": hop.name, "kind": hop.kind, "location": _loc(hop.location), "via": hop.via,
            "branches": [{"condition": b.condition, "location": _loc(b.location),
                          "taken": b.taken} for b in hop.branches],
            "pruned": hop.is_pruned, "note": hop.note,
            "children": [hop_to_json(c) for c in hop.children]}


def kernel_to_json(k: KernelChoice) -> dict[str, Any]:
    return {"key": k.key, "kernel": k.kernel, "rule": k.rule}


def derivative_to_json(d: DerivativeDoc | None) -> dict[str, Any] | None:
    if d is None:
        return None
    return {"name": d.name, "location": _loc(d.location), "formulas": dict(d.formulas),
            "inherited_from": d.inherited_from, "via_decomposition": d.via_decomposition,
            "calls": [{"helper": c.helper, "operator": c.operator,
                       "location": _loc(c.location), "condition": c.condition,
                       "source": c.source} for c in d.calls]}


def op_to_json(node: OpNode) -> dict[str, Any]:
    op = node.operator
    return {
        "name": node.name,
        "schema": op.schema if op else None,
        "yaml": _loc(op.location) if op else None,
        "dispatch": {e.key: e.kernel for e in op.dispatch} if op else {},
        "dispatch_origin": op.dispatch_origin if op else None,
        "structured_delegate": op.structured_delegate if op else None,
        "autogen": list(op.autogen) if op else [],
        "reached": node.reached.value,
        "edge": _loc(node.edge),
        "edge_source": UPSTREAM_MARK if node.edge is not None else None,
        "source": node.source or None,
        "condition": node.condition,
        "backends": {k.backend: kernel_to_json(k) for k in node.kernels},
        "derivative": derivative_to_json(node.derivative),
        "note": node.note,
        "children": [op_to_json(c) for c in node.children],
    }


def layer_to_json(layer: LayerWalk) -> dict[str, Any]:
    out: dict[str, Any] = {"path": layer.path, "type": layer.type_text, "class": layer.qualname,
           "arguments": dict(layer.arguments), "location": _loc(layer.location),
           "python": [hop_to_json(h) for h in layer.python],
           "operators": [op_to_json(o) for o in layer.operators], "stopped": layer.stopped}
    taken = layer.taken
    if taken is not None:
        out["input"] = list(layer.input_shape) if layer.input_shape else None
        out["answer"] = answer_line(layer)
        out["taken"] = {
            "forward": list(taken.forward), "backward": list(taken.backward),
            "kernels": dict(taken.kernels), "backward_kernels": dict(taken.backward_kernels),
            "recorded": list(taken.recorded),
            "undecided": [{"condition": u.condition, "location": u.location,
                           "depends_on": u.depends_on} for u in taken.undecided],
            "glue": [hop.to_json() for hop in taken.glue],
            "bodies_not_read": dict(taken.unread)}
        _annotate(out["operators"], taken)
    return out


UNVISITED = ("not_taken", "not on the path: an edge above it is not taken or undecided")


def _annotate(ops: list[dict[str, Any]], taken: Any) -> None:
    """Every edge of the full tree gets `decision` and `reason` (keys are index paths)."""
    decided = {e.key: (e.decision, e.reason) for e in taken.edges}

    def visit(node: dict[str, Any], key: str) -> None:
        node["decision"], node["reason"] = decided.get(key, UNVISITED)
        for i, child in enumerate(node["children"]):
            visit(child, f"{key}/{i}")

    for i, op in enumerate(ops):
        visit(op, str(i))


def answer_line(layer: LayerWalk) -> str:
    """`features.0 · CPU float32 train, oneDNN on -> aten::mkldnn_convolution · backward
    aten::convolution_backward -> ...`: the operators whose backend kernel does the work."""
    taken = layer.taken
    setting_label = ""
    if taken is None:
        return layer.path
    kernels = dict(taken.kernels)
    work = ", ".join(f"{w} ({kernels[w].split(' (')[0]})" if w in kernels else w
                     for w in taken.work) or "no operator decided"
    text = f"{layer.path} · {{setting}} -> {work}"
    if taken.recorded:
        bkernels = dict(taken.backward_kernels)
        back = ", ".join(f"{w} ({bkernels[w].split(' (')[0]})" if w in bkernels else w
                         for w in dict.fromkeys(taken.backward_work))
        text += f" · backward {back}" if back else " · backward: formula not walked"
        if taken.choices:
            text += " (" + ", ".join(f"{e}::{v}" for e, v in taken.choices) + ")"
    if taken.undecided:
        text += f" · {len(taken.undecided)} undecided"
    return text.replace("{setting}", setting_label or "{setting}")


def walk_to_json(report: WalkReport) -> dict[str, Any]:
    out: dict[str, Any] = {
           "schema": WALK_SCHEMA, "model": report.model, "torch": report.torch_version,
           "backends": list(report.backends), "upstream": report.upstream,
           "resolution_order": [{"step": s, "location": _loc(loc)}
                                for s, loc in report.resolution_order],
           "layers": [layer_to_json(layer) for layer in report.layers],
           "diagnostics": [str(d) for d in report.diagnostics]}
    if report.setting is not None:
        out["setting"] = report.setting.to_json()
        for layer in out["layers"]:
            if "answer" in layer:
                layer["answer"] = layer["answer"].replace("{setting}", report.setting.label())
    return out


def render_taken(report: WalkReport, show_alternatives: bool = False) -> RenderableType:
    """The answer first (one line per layer), then each layer's taken path as a short tree;
    the alternatives only counted unless asked for."""
    parts: list[RenderableType] = [Text(
        f"{report.model}  (torch {report.torch_version}; {report.setting.label()})",
        style="bold")]
    for layer in report.layers:
        if layer.taken is None:
            continue
        parts.append(Text(answer_line(layer).replace("{setting}", report.setting.label()),
                          style="bold cyan"))
    for layer in report.layers:
        taken = layer.taken
        if taken is None:
            continue
        tree = Tree(Text.assemble((layer.path, "bold cyan"), f"  {escape(layer.type_text)}  ",
                                  (f"input {list(layer.input_shape)}" if layer.input_shape
                                   else "input shape not derived", "dim")))
        shown: set[str] = set()
        stack: list[Tree] = [tree]
        for depth, name, kernel, where in taken.lines:
            del stack[depth + 1:]
            stack.append(stack[-1].add(_taken_label(name, kernel, where, taken, shown)))
        if taken.backward_lines:
            back = tree.add(Text("backward", style="bold"))
            bstack: list[Tree] = [back]
            for depth, name, kernel, where in taken.backward_lines:
                del bstack[depth + 1:]
                bstack.append(bstack[-1].add(_taken_label(name, kernel, where, taken, shown)))
        for u in taken.undecided:
            tree.add(Text(f"undecided: {u.condition}  [{u.location}] depends on "
                          f"{u.depends_on}", style="yellow"))
        legend = glue_legend(taken.glue)
        if legend:
            tree.add(Text("torchgen writes the generated files at build time (not in the "
                          "wheel): " + "; ".join(legend), style="magenta dim"))
        skipped = [e for e in taken.edges if e.decision == "not_taken"]
        if skipped:
            alt = tree.add(Text(f"{len(skipped)} alternatives not taken"
                                + ("" if show_alternatives else " (--alternatives lists them)"),
                                style="dim"))
            if show_alternatives:
                for e in skipped:
                    alt.add(Text(f"{e.operator}: {e.reason}", style="dim"))
        parts.append(tree)
    return Group(*parts)


def _taken_label(name: str, kernel: str, where: str, taken: Any, shown: set[str]) -> Text:
    """An operator of the taken path; on its first line, its generated glue and, when the
    backend kernel's body was not read, that note."""
    label = Text.assemble(name, (f"  {kernel}" if kernel else "", "green"),
                          (f"  {where}" if where else "", "dim"))
    if name in shown:
        return label
    shown.add(name)
    hops = tuple(h for h in taken.glue if h.operator == name)
    if hops:
        label.append(f"\n{GLUE_MARK} {glue_line(hops)}", style="magenta")
    unread = dict(taken.unread)
    if name in unread and kernel and not is_utility(name):
        label.append(f"\n{unread[name]}", style="yellow")
    return label


# ---------------------------------------------------------------- terminal
# The terminal tree is a summary: single-step Python hops on one line each with short
# conditions, pruned branches on one line, each operator's callees expanded once per layer,
# operators without a kernel for the shown backends counted, and a layer that repeats an
# earlier one of the same type and route referred to it. --json and the pages keep all.

HOP_CONDITION = 26
OP_CONDITION = 160
_MARK = {True: "taken", False: "pruned", None: "?"}


def short(text: str, limit: int) -> str:
    """`text` on one line, cut to `limit` characters with an ellipsis."""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit - 1].rstrip() + "…"


def _short_name(hop: PyHop) -> str:
    parts = hop.name.split(".")
    if hop.kind in ("method", "alias", "function") and len(parts) > 2:
        return ".".join(parts[-2:])
    return hop.name


def _hop_label(hop: PyHop, side: list[PyHop]) -> Text:
    style = "red" if hop.kind == "stop" else ""
    text = Text(f"{hop.kind}: ", style="bold " + style if style else "bold")
    text.append(_short_name(hop) if hop.kind != "stop" else hop.note, style=style or "cyan")
    if hop.location is not None:
        text.append(f"  {_loc(hop.location)}", style="dim")
    for b in hop.branches:
        text.append(f"  [if {short(b.condition, HOP_CONDITION)}: {_MARK[b.taken]}]",
                    style="yellow" if b.taken is None else "dim")
    for other in side:
        text.append(f"  (+ {_short_name(other)})", style="dim italic")
    return text


def _pruned_label(hop: PyHop) -> Text:
    why = "; ".join(short(b.condition, HOP_CONDITION) for b in hop.branches if b.taken is False)
    return Text(f"pruned {hop.kind}: {_short_name(hop)}  {_loc(hop.location) or ''}"
                + (f"  [if {why}]" if why else ""), style="dim strike")


def _add_hop(tree: Tree, hop: PyHop) -> None:
    """A chain of single-successor hops flattened onto one level, one line per hop."""
    node: PyHop | None = hop
    while node is not None:
        if node.is_pruned:
            tree.add(_pruned_label(node))
            return
        side = [c for c in node.children
                if not c.children and c.kind not in ("binding", "stop") and not c.is_pruned]
        main = [c for c in node.children if c not in side]
        if len(main) > 1:
            branch = tree.add(_hop_label(node, side))
            for child in main:
                _add_hop(branch, child)
            return
        tree.add(_hop_label(node, side))
        node = main[0] if main else None


def backward_call_lines(calls: tuple[BackwardCall, ...]) -> list[str]:
    """One line per formula helper: `backward calls (from upstream C++ FunctionsManual.cpp:
    1727, 1732, repo@commit): mm_mat1_backward -> aten::mm, aten::t`."""
    by_helper: dict[str, list[BackwardCall]] = {}
    for call in calls:
        by_helper.setdefault(call.helper, []).append(call)
    lines = []
    for helper, group in by_helper.items():
        where = group[0].location.path
        numbers = ", ".join(str(n) for n in dict.fromkeys(c.location.line for c in group))
        ops = ", ".join(dict.fromkeys(c.operator for c in group))
        source = f", {group[0].source}" if group[0].source else ""
        lines.append(f"backward calls ({UPSTREAM_MARK} {where}:{numbers}{source}): "
                     f"{helper} -> {ops}")
    return lines


def _has_kernel(node: OpNode, backends: tuple[str, ...]) -> bool:
    if node.operator is None:
        return True
    return any(k.kernel for k in node.kernels if k.backend in backends)


def _op_label(node: OpNode, backends: tuple[str, ...], also: list[OpNode],
              first: bool = True) -> Text:
    text = Text(node.name, style="bold green")
    if node.operator is not None:
        text.append(f"  {_loc(node.operator.location)}", style="dim")
    if node.edge is not None:
        others = dict.fromkeys(o.edge.line for o in also
                               if o.edge is not None and o.edge.line != node.edge.line)
        lines = "".join(f", {line}" for line in others)
        source = f", {node.source}" if node.source else ""
        text.append(f"\n  [{UPSTREAM_MARK} {_loc(node.edge)}{lines}{source}]",
                    style="magenta")
    if node.condition:
        more = f" (and {len(also)} more call sites)" if also else ""
        text.append(f"\n  when {short(node.condition, OP_CONDITION)}{more}", style="yellow")
    for k in node.kernels:
        if k.backend in backends:
            chosen = f"{k.key}: {k.kernel}" if k.kernel else "none"
            text.append(f"\n  {k.backend} -> {chosen}", style="")
    if node.derivative is not None:
        d = node.derivative
        what = "backward via decomposition" if d.via_decomposition else (
            f"backward {_loc(d.location)}" + (f" (from {d.inherited_from})"
                                              if d.inherited_from else ""))
        text.append(f"\n  autograd: {what}", style="dim")
        for line in backward_call_lines(d.calls) if first else ():
            text.append(f"\n  {line}", style="magenta")
    if node.note and node.edge is None:
        text.append(f"\n  {node.note}", style="dim italic")
    elif node.operator is None and node.edge is not None:
        role = ("direct C++ call of a kernel function: no dispatcher hop" if DIRECT_NOTE
                in node.note else "C++ helper or renamed function, not an operator of this "
                "torch")
        text.append(f"\n  {role}", style="dim italic")
    return text


def _add_ops(tree: Tree, nodes: tuple[OpNode, ...], backends: tuple[str, ...],
             expanded: set[str]) -> None:
    hidden: list[str] = []
    # Operators first, C++ helpers after: a subtree is expanded once, at the operator route;
    # several call sites of one operator in one body are one line.
    groups: dict[str, list[OpNode]] = {}
    for node in sorted(nodes, key=lambda n: n.operator is None):
        groups.setdefault(node.name, []).append(node)
    sparse: list[str] = []
    for node, *also in groups.values():
        if not _has_kernel(node, backends):
            hidden.append(node.name)
            continue
        if all(sparse_only(n.condition) for n in (node, *also)):
            sparse.append(node.name)
            continue
        children = tuple(c for n in (node, *also) for c in n.children)
        node = replace(node, children=children)
        # backward-call lines once per operator: a repeated operator is shown short
        branch = tree.add(_op_label(node, backends, also, node.name not in expanded))
        if node.children and node.name in expanded:
            branch.add(Text("… its calls are shown above", style="dim"))
            continue
        expanded.add(node.name)
        _add_ops(branch, node.children, backends, expanded)
    if hidden:
        names = ", ".join(dict.fromkeys(hidden))
        tree.add(Text(f"(+{len(hidden)} with no {'/'.join(backends)} kernel: "
                      f"{short(names, OP_CONDITION)}; see --json)", style="dim"))
    if sparse:
        names = ", ".join(dict.fromkeys(sparse))
        tree.add(Text(f"(+{len(sparse)} called for sparse layouts only: "
                      f"{short(names, OP_CONDITION)}; see --json)", style="dim"))


# `self.is_sparse()`, `self.layout() == kSparseCsr`: a test that holds for sparse tensors only.
_SPARSE_TEST = re.compile(r"[\w.()\[\]]*\.is_sparse(?:_csr)?\(\)"
                          r"|[\w.()\[\]]*layout\(\)\s*==\s*kSparse\w*")


def sparse_only(condition: str) -> bool:
    """Whether a call condition holds only for sparse tensors: one of its `&&` terms is a
    sparse-layout test, or an `||` of such tests (the dense AlexNet path never takes it)."""
    for term in split_top(condition, "&&"):
        term = term.strip()
        while term.startswith("(") and term.endswith(")") and balanced(term[1:-1]):
            term = term[1:-1].strip()
        tests = split_top(term, "||")
        if tests and all(_SPARSE_TEST.fullmatch(t.strip()) for t in tests):
            return True
    return False



def _signature(layer: LayerWalk) -> tuple[object, ...]:
    return (layer.type_text, layer.qualname, layer.python, layer.operators)


def render_walk_tree(report: WalkReport, backends: tuple[str, ...] | None = None
                     ) -> RenderableType:
    shown = backends or report.backends
    parts: list[RenderableType] = [Text(
        f"{report.model}  (torch {report.torch_version}; C++ edges: {report.upstream})",
        style="bold")]
    first: dict[tuple[object, ...], str] = {}
    for layer in report.layers:
        args = ", ".join(f"{k}={v}" for k, v in layer.arguments)
        tree = Tree(Text.assemble((layer.path, "bold cyan"), f"  {escape(layer.type_text)}"
                                  f"({args})  ", (_loc(layer.location) or "", "dim")))
        same = first.get(_signature(layer))
        if same is not None:
            ops = ", ".join(o.name for o in layer.operators)
            tree.add(Text(f"same Python route and operators as {same} ({ops})", style="dim"))
            parts.append(tree)
            continue
        first[_signature(layer)] = layer.path
        python = tree.add(Text("Python", style="bold"))
        for hop in layer.python:
            _add_hop(python, hop)
        if layer.stopped:
            tree.add(Text(f"stopped: {layer.stopped}", style="red"))
        ops_tree = tree.add(Text("ATen", style="bold"))
        _add_ops(ops_tree, layer.operators, shown, set())
        parts.append(tree)
    return Group(*parts)


def render_backends_table(backends: BackendsReport) -> RenderableType:
    """The coverage table: per operator AlexNet reaches, the kernel each key gets."""
    from rich.table import Table

    table = Table(title="Kernels per dispatch key for the operators the model reaches",
                  title_justify="left")
    for col in ("operator", "for", "when (C++)", *backends.coverage_keys):
        table.add_column(col, overflow="fold")
    for row in backends.coverage:
        cells = [escape(f"{c.kernel} ({c.key})") if c.kernel else "[red]no kernel[/red]"
                 for c in row.cells]
        table.add_row(row.operator, row.needed_for, escape(row.condition), *cells)
    plug = Table(title="Where a new device plugs in", title_justify="left")
    for col in ("plug point", "where", "what"):
        plug.add_column(col, overflow="fold")
    for p in backends.plug_points:
        plug.add_row(escape(p.name), _loc(p.location) or "", escape(p.comment))
    caps = ", ".join(f"{c.name} ({_loc(c.location)})" for c in backends.capabilities)
    return Group(table, plug, Text(f"CPU capabilities (DispatchStub): {caps}"))


# ---------------------------------------------------------------- pages


REPOSITORIES = {"torch": "pytorch/pytorch", "torchgen": "pytorch/pytorch",
                "torchvision": "pytorch/vision"}
# The wheel's packaged copies of the yaml files, and where they live in the repository.
PACKAGED = (("torchgen/packaged/ATen/native/", "aten/src/ATen/native/"),
            ("torchgen/packaged/ATen/templates/", "aten/src/ATen/templates/"),
            ("torchgen/packaged/autograd/", "tools/autograd/"))


def source_url(path: str, line: int, versions: dict[str, str], source: str = "") -> str | None:
    """A link to `path:line`: upstream C++ at the repository@commit it was read at, wheel
    files at the release tag of the version read (packaged yaml at its repository path)."""
    if source and "@" in source:
        owner, commit = source.split("@", 1)
        return f"https://github.com/{owner}/blob/{commit}/{path}#L{line}"
    top = path.split("/", 1)[0]
    repo = REPOSITORIES.get(top)
    version = versions.get("torchvision" if top == "torchvision" else "torch")
    if repo is None or not version:
        return None
    for packaged, real in PACKAGED:
        if path.startswith(packaged):
            path = real + path.removeprefix(packaged)
    return f"https://github.com/{repo}/blob/v{version.split('+', 1)[0]}/{path}#L{line}"


def _link(text: str, url: str | None, breakable: bool = False) -> str:
    code = code_breakable(text) if breakable else md_code_text(text)
    return f"[{code}]({url})" if url else code


_BREAK_AFTER = re.compile(r"(\\_|\.|::)(?=[\w\\])")


def code_breakable(text: str) -> str:
    """Inline code that a narrow table column wraps between the parts of a name (after `.`,
    `::` or `_`), never inside a word (`Module._wrapped_c / all_impl`)."""
    return _BREAK_AFTER.sub(lambda m: m.group(1) + "<wbr>", md_code(text))


def md_code_text(text: str) -> str:
    return "`" + text.replace("`", "'").replace("|", "\\|") + "`"


def _where_link(where: str, versions: dict[str, str]) -> str:
    """`aten/.../Convolution.cpp:960 (cyyever/pytorch@021c4c1a30ae)` -> a link."""
    if not where:
        return ""
    found = re.match(r"(.+?):(\d+)(?: \((.+)\))?$", where)
    if not found:
        return md_code_text(where)
    path, line, source = found.group(1), int(found.group(2)), found.group(3) or ""
    return _link(f"{path.rsplit('/', 1)[-1]}:{line}", source_url(path, line, versions, source))


def _python_rows(layer: LayerWalk, versions: dict[str, str], class_page: Any,
                 class_url: Any) -> list[dict[str, str]]:
    """The Python hops of the taken route: not pruned, on the way to a binding."""
    rows: list[dict[str, str]] = []

    def reaches(hop: PyHop) -> bool:
        return hop.kind == "binding" or any(reaches(c) for c in hop.children
                                            if not c.is_pruned)

    def visit(hop: PyHop) -> None:
        if hop.is_pruned or hop.kind == "stop" or not reaches(hop):
            return
        owner = hop.name.rsplit(".", 1)[0]
        page = class_page(owner)
        name = ".".join(hop.name.split(".")[-2:])
        label = f"[{code_breakable(name)}]({page})" if page else code_breakable(name)
        where = _link(f"{hop.location.path.rsplit('/', 1)[-1]}:{hop.location.line}",
                      source_url(hop.location.path, hop.location.line, versions)) \
            if hop.location else ""
        rows.append({"hop": label, "kind": hop.kind, "kernel": "", "where": where,
                     "name": name, "url": class_url(owner) or ""})
        for child in hop.children:
            visit(child)

    for hop in layer.python:
        visit(hop)
    return rows


def _operator_rows(taken: Any, versions: dict[str, str], table: Any) -> list[dict[str, str]]:
    rows = []
    for depth, name, kernel, where in taken.lines:
        op = table.get(name)
        url = source_url(op.path, op.line, versions) if op else None
        rows.append({"hop": "&nbsp;" * 2 * depth + _link(name, url, breakable=True),
                     "kind": "operator" if name.startswith("aten::") else "C++ helper",
                     "kernel": code_breakable(kernel) if kernel else "",
                     "where": _where_link(where, versions), "name": name, "url": url or "",
                     "depth": str(depth)})
    return rows


def _with_glue(rows: list[dict[str, str]], glue: tuple[Any, ...],
               versions: dict[str, str]) -> list[dict[str, str]]:
    """The operator rows with, under each operator's first row, its generated hops: the
    file torchgen writes (not in the wheel), the function in it, a link to the template
    line in the wheel's torchgen and to the yaml entry."""
    out: list[dict[str, str]] = []
    done: set[str] = set()
    for row in rows:
        out.append(row)
        name = row.get("name", "")
        if name in done:
            continue
        done.add(name)
        indent = "&nbsp;" * (2 * int(row.get("depth", "0")) + 2)
        for hop in glue:
            if hop.operator != name:
                continue
            text = (f"{code_breakable(hop.file)} {code_breakable(hop.function)}" if hop.file
                    else "no autograd wrapper")
            where = []
            for label, loc in (("template", hop.template), ("entry", hop.entry)):
                if loc is not None:
                    where.append(f"{label} " + _link(
                        f"{loc.path.rsplit('/', 1)[-1]}:{loc.line}",
                        source_url(loc.path, loc.line, versions)))
            out.append({"hop": f"{indent}⚙ {text}", "kind": f"generated {hop.kind}",
                        "kernel": "", "where": ", ".join(where), "name": "", "url": "",
                        "note": hop.note})
    return out


def route_dot(python: list[dict[str, str]], operators: list[dict[str, str]],
              work: tuple[str, ...], kernels: dict[str, str]) -> str:
    """module call -> functional -> binding -> operators -> the kernel doing the work; each
    node a link."""
    lines = ["digraph route {", '  graph [rankdir=TB, nodesep=0.15, ranksep=0.12, '
             'bgcolor="transparent"];',
             '  node [shape=box, style="rounded,filled", fillcolor="#eef3fb", fontsize=10, '
             'height=0.25, margin="0.06,0.02", fontname="Helvetica"];',
             '  edge [arrowsize=0.5];']
    previous = None
    chain = [(f"py{i}", row["name"], row["url"]) for i, row in enumerate(python)]
    # operators on the way to each work operator (their ancestors), in order
    stack: list[tuple[int, dict[str, str]]] = []
    keep: list[dict[str, str]] = []
    for row in operators:
        depth = int(row["depth"])
        stack = [s for s in stack if s[0] < depth] + [(depth, row)]
        if row["name"] in work:
            for _, r in stack:
                if r not in keep:
                    keep.append(r)
    index = {id(r): i for i, r in enumerate(keep)}
    for node_id, label, url in chain:
        lines.append(f"  {node_id} [label={_dot(label)}{_href(url)}];")
        if previous:
            lines.append(f"  {previous} -> {node_id};")
        previous = node_id
    parents: dict[int, str] = {}
    stack = []
    for row in operators:
        depth = int(row["depth"])
        stack = [s for s in stack if s[0] < depth]
        if id(row) in index:
            node_id = f"op{index[id(row)]}"
            fill = ', fillcolor="#fff4d6"' if row["name"] in work else ""
            lines.append(f"  {node_id} [label={_dot(row['name'])}{_href(row['url'])}{fill}];")
            parent = next((parents[id(r)] for _, r in reversed(stack) if id(r) in parents),
                          previous)
            if parent:
                lines.append(f"  {parent} -> {node_id};")
            parents[id(row)] = node_id
            if row["name"] in work and kernels.get(row["name"]):
                lines.append(f"  k{node_id} [label={_dot(kernels[row['name']])}, "
                             'shape=note, fillcolor="#e8f6e8"];')
                lines.append(f"  {node_id} -> k{node_id} [style=dashed];")
        stack.append((depth, row))
    lines.append("}")
    return "\n".join(lines) + "\n"


def _dot(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _href(url: str) -> str:
    return f", href={_dot(url)}, target=\"_top\"" if url else ""


def _sentence(layer: LayerWalk, taken: Any, setting: Any) -> str:
    work = ", ".join(md_code_text(w) for w in taken.work) or "no operator decided"
    kernels = dict(taken.kernels)
    kernel_text = ", ".join(md_code_text(kernels[w]) for w in taken.work if w in kernels)
    text = (f"On **{setting.label()}**, {md_code_text(layer.path)} runs {work}"
            + (f" (kernel {kernel_text})" if kernel_text else "") + ".")
    if taken.recorded and taken.backward:
        bkernels = dict(taken.backward_kernels)
        work_back = list(dict.fromkeys(taken.backward_work))
        back = ", ".join(md_code_text(w) + (f" (kernel {md_code_text(bkernels[w].split(' (')[0])})"
                                            if w in bkernels else "") for w in work_back)
        # the formula's first operator, then the ones whose kernels do the work
        first = taken.backward[0]
        hops = ([] if first in work_back else [md_code_text(first)]) + ([back] if back else [])
        text += " Backward: " + " → ".join(hops)
        if taken.choices:
            text += " (chosen: " + ", ".join(md_code_text(f"{e}::{v}")
                                            for e, v in taken.choices) + ")"
        text += "."
    if taken.undecided:
        count = len(taken.undecided)
        text += (f" {count} condition{'s' if count != 1 else ''} "
                 f"depend{'s' if count == 1 else ''} on run-time facts (below).")
    return text


def render_walk_pages(report: WalkReport, backends: BackendsReport | None = None,
                      env: jinja2.Environment | None = None,
                      class_page: Any = None, draw: Any = None,
                      served: Any = None) -> dict[str, str]:
    """{relative path: Markdown}: one Walk page per layer type, and the Backends page.

    Each page answers first, per setting of `report.views`: one sentence, a route diagram
    (`draw(dot)` gives SVG; without it the DOT source is shown), the taken path as a table
    of linked hops, then the alternatives and the undecided conditions folded.
    `class_page(qualname)` gives the class page (`classes/X.md`) or None; `served(page,
    target)` the URL of `target` as served, relative to `page` (for links inside SVG)."""
    env = env or make_environment()
    class_page = class_page or (lambda qualname: None)
    served = served or (lambda page, target: _relative(page, target[:-3] + ".html"))
    versions = dict(report.versions)
    table: dict[str, Any] = {}

    def collect(nodes: tuple[OpNode, ...]) -> None:
        for n in nodes:
            if n.operator is not None:
                table.setdefault(n.name, n.operator.location)
            collect(n.children)

    for layer in report.layers:
        collect(layer.operators)
    pages: dict[str, str] = {}
    by_type: dict[str, list[int]] = {}
    for i, layer in enumerate(report.layers):
        by_type.setdefault(layer.qualname or layer.type_text, []).append(i)
    template = env.get_template("walk.md.j2")
    branches_template = env.get_template("walk_branches.md.j2")
    views = report.views or ((report.setting, tuple(la.taken for la in report.layers)),) \
        if report.setting is not None else ()
    for type_name, indices in by_type.items():
        first = report.layers[indices[0]]
        page = f"walk/{type_name.rsplit('.', 1)[-1].lower()}.md"
        python = _python_rows(
            first, versions, lambda q, page=page: _relative(page, class_page(q)),
            lambda q, page=page: served(page, class_page(q)) if class_page(q) else None)
        answers = []
        for setting, takens in views:
            taken = takens[indices[0]]
            if taken is None:
                continue
            operators = _operator_rows(taken, versions, table)
            dot = route_dot(python, operators, taken.work, dict(taken.kernels))
            answers.append({
                "label": setting.label(), "sentence": _sentence(first, taken, setting),
                "svg": draw(dot) if draw else None, "dot": dot,
                "rows": python + _with_glue(operators, taken.glue, versions),
                "has_glue": bool(taken.glue),
                "backward": _operator_rows(replace(taken, lines=taken.backward_lines),
                                           versions, table),
                "alternatives": _alternatives(taken, setting.label()),
                "undecided": [{"condition": u.condition, "where": _where_link(
                    u.location, versions), "depends_on": u.depends_on}
                    for u in taken.undecided],
                "others": [{"path": report.layers[i].path,
                            "work": ", ".join(takens[i].work) if takens[i] else ""}
                           for i in indices[1:]],
            })
        full = branches_page(page)
        labels = [setting.label() for setting, _ in views]
        notes: dict[str, str] = {}
        operators = branch_map(first, [takens[indices[0]] for _, takens in views], labels,
                               versions, notes)
        python_items = _flat_items(python_tree(
            first.python, versions, lambda q, page=page: _relative(page, class_page(q))))
        pages[page] = template.render(
            report=report, type_name=type_name, answers=answers, full=_relative(page, full),
            counts={"hops": len(python_items), "operators": len(operators) - 1,
                    "calls": sum(len(o["calls"]) for o in operators)})
        pages[full] = branches_template.render(
            report=report, type_name=type_name, layers=[report.layers[i] for i in indices],
            walk=_relative(full, page), python=python_items, top=operators[0]["calls"],
            operators=operators[1:], labels=labels, upstream_mark=UPSTREAM_MARK,
            notes=[(anchor_, reason) for reason, anchor_ in notes.items()])
    if backends is not None:
        pages["walk/backends.md"] = env.get_template("backends.md.j2").render(
            report=report, backends=backends)
    return pages


def _relative(page: str, target: str | None) -> str | None:
    if not target:
        return None
    import posixpath

    return posixpath.relpath(target, posixpath.dirname(page) or ".")


def _alternatives(taken: Any, label: str) -> list[dict[str, Any]]:
    """Edges not taken, grouped by why (the not-visited ones below them left out): one
    reason (`ConvBackend::Mkldnn chosen (...)`) rules out several calls at once, so it is
    given once with the operators it rules out. The setting's own name, which the section
    heading gives, is cut from the reasons."""
    groups: dict[str, list[str]] = {}
    for e in taken.edges:
        if e.decision != "not_taken":
            continue
        reason = e.reason.replace(f" for {label}", "").removeprefix("not taken: ")
        names = groups.setdefault(reason, [])
        if e.operator not in names:
            names.append(e.operator)
    return [{"operators": names, "reason": reason} for reason, names in groups.items()]


# ------------------------------------------------- every branch read (its own page per type)

_DECISION_WORDS = {"taken": "taken", "not_taken": "not taken", "undecided": "left to run time"}


def branches_page(page: str) -> str:
    """The page holding the full map of a walk page (`walk/linear.md` -> `walk/linear-branches.md`;
    no layer type's page ends in `-branches`, type names having no hyphen)."""
    return page.removesuffix(".md") + "-branches.md"


# A reason longer than this is given once at the end of the page (`notes`) and linked.
LONG_REASON = 160


def _decisions_text(per_setting: list[set[tuple[str, str]]], labels: list[str],
                    condition: str, notes: dict[str, str]) -> list[str]:
    """One Markdown line per group of settings that decided a call alike: `taken`, `not
    taken: why`. A call the walk did not reach on a setting (its caller not taken there)
    counts only when no occurrence of it was decided there; a setting's own name is cut from
    the reasons, so settings deciding the same way for the same reason share a line."""
    groups: dict[tuple[tuple[str, str], ...], list[str]] = {}
    for label, found in zip(labels, per_setting, strict=True):
        decided = {(d, r.replace(f" for {label}", "")) for d, r in found if d != "unreached"}
        key = tuple(sorted(decided)) or (("unreached", ""),)
        groups.setdefault(key, []).append(label)
    same = " ".join(condition.split())
    lines = []
    for key, names in groups.items():
        who = "Every setting" if len(names) == len(labels) and len(labels) > 1 else \
            "; ".join(names)
        parts = []
        for decision, reason in key:
            if decision == "unreached":
                parts.append("not reached (a call above it is not taken)")
                continue
            word = _DECISION_WORDS.get(decision, decision)
            for said in ("taken: ", "not taken: "):
                reason = reason.removeprefix(said)
            test = re.fullmatch(r"(.+) is (true|false)", reason, re.S)
            if not reason or reason == "unconditional":
                parts.append(word)
            elif test and " ".join(test.group(1).split()) == same:
                parts.append(f"{word}: the condition is {test.group(2)}")
            elif len(reason) > LONG_REASON:
                parts.append(f"{word}: " + _shortened(reason, notes, code=False))
            elif test:
                parts.append(f"{word}: {md_code(test.group(1))} is {test.group(2)}")
            else:
                parts.append(f"{word}: {md_text(reason)}")
        lines.append(f"{md_text(who)}: " + "; ".join(parts))
    return lines


def _shortened(text: str, notes: dict[str, str], code: bool = True) -> str:
    """`text` as Markdown, or when longer than LONG_REASON its head and a link to the whole,
    given once in `notes` (text -> anchor): `ConvBackend::Cudnn chosen (where, when ...)`
    keeps what comes before the parenthesis, `case ConvBackend::Cudnn [chosen in ...]` what
    comes before the bracket, anything else its first words."""
    show = md_code if code else md_text
    if len(text) <= LONG_REASON:
        return show(text)
    cut = min((text.find(mark) for mark in (" (", " [") if 0 < text.find(mark) < LONG_REASON),
              default=-1)
    head = text[:cut] if cut > 0 else text[:LONG_REASON // 2].rsplit(" ", 1)[0] + " …"
    note = notes.setdefault(text, f"why-{len(notes) + 1}")
    return f"{show(head)} ([in full](#{note}))"


def branch_map(layer: LayerWalk, takens: list[Any], labels: list[str],
               versions: dict[str, str], notes: dict[str, str]) -> list[dict[str, Any]]:
    """Every operator and C++ helper the walk of `layer` read on any backend, once each (in
    the order first reached), with its yaml lines, its kernel per backend, who calls it and
    each call it makes: the callee (an anchor on the same page), the condition, the line the
    call was read at (repository@commit for upstream C++) and its decision per setting. A
    subtree reached from several places is listed once and referenced; the decisions of all
    its occurrences are merged per setting. A long reason is put in `notes` (reason ->
    anchor), given once at the end of the page."""
    decided = [{e.key: e for e in t.edges} if t is not None else {} for t in takens]
    ops: dict[str, dict[str, Any]] = {}
    anchors: set[str] = set()

    def make_anchor(name: str) -> str:
        # no `_` in the id: Markdown would read `_..._` in a heading's attribute as emphasis
        base = "op-" + anchor(name.replace("::", "-").replace("_", "-")).strip("-")
        slug, n = base, 1
        while slug in anchors:
            n += 1
            slug = f"{base}-{n}"
        anchors.add(slug)
        return slug

    def entry(node: OpNode) -> dict[str, Any]:
        found = ops.get(node.name)
        if found is not None:
            return found
        op, der = node.operator, node.derivative
        links = []
        if op is not None:
            links.append(_link(
                f"{op.location.path.rsplit('/', 1)[-1]}:{op.location.line}",
                source_url(op.location.path, op.location.line, versions)))
        if der is not None:
            links.append(_link(
                f"{der.location.path.rsplit('/', 1)[-1]}:{der.location.line}",
                source_url(der.location.path, der.location.line, versions)))
        kernels = [f"{k.backend}: " + (f"{md_code_text(k.kernel)} ({k.key})" if k.kernel
                                       else f"none ({k.rule})") for k in node.kernels]
        backward = list(dict.fromkeys(
            f"{md_code_text(c.operator)} in {md_code_text(c.helper)} " + _link(
                f"{c.location.path.rsplit('/', 1)[-1]}:{c.location.line}",
                source_url(c.location.path, c.location.line, versions, c.source))
            for c in (der.calls if der is not None else ())))
        found = {"name": node.name, "anchor": make_anchor(node.name),
                 "kind": "operator" if op is not None else "C++ helper",
                 "links": links, "kernels": kernels, "backward": backward,
                 "callers": [], "calls": {}}
        ops[node.name] = found
        return found

    def call(parent: dict[str, Any], node: OpNode, key: str, order: int) -> None:
        where = _where_link(_node_where(node), versions)
        ident = (node.name, node.condition, where, node.reached.value, node.read_in)
        target = entry(node)
        row = parent["calls"].get(ident)
        if row is None:
            row = parent["calls"][ident] = {
                "name": node.name, "target": target["anchor"], "condition": node.condition,
                "condition_md": _shortened(node.condition, notes) if node.condition else "",
                "where": where, "reached": node.reached.value, "read_in": node.read_in,
                "note": node.note, "found": [set() for _ in takens], "order": order}
        for i, edges in enumerate(decided):
            edge = edges.get(key)
            row["found"][i].add((edge.decision, edge.reason) if edge else ("unreached", ""))
        if parent["name"] and parent["name"] not in target["callers"]:
            target["callers"].append(parent["name"])
        # the taken calls first, so the entries start with the path that runs; each list
        # of calls is put back in source order below
        for i in sorted(range(len(node.children)), key=lambda i: not taken(f"{key}/{i}")):
            call(target, node.children[i], f"{key}/{i}", i)

    def taken(key: str) -> bool:
        return any(edges[key].decision == "taken" for edges in decided if key in edges)

    top: dict[str, Any] = {"name": "", "calls": {}}
    for i in sorted(range(len(layer.operators)), key=lambda i: not taken(str(i))):
        call(top, layer.operators[i], str(i), i)
    out = [{"name": "", "anchor": "", "calls": top["calls"]}, *ops.values()]
    for item in out:
        item["calls"] = [{**row, "decisions": _decisions_text(row.pop("found"), labels,
                                                              row["condition"], notes)}
                         for row in sorted(item["calls"].values(), key=lambda r: r["order"])]
        if item["name"]:
            item["callers"] = [(name, ops[name]["anchor"]) for name in item["callers"]]
    return out


def _node_where(node: OpNode) -> str:
    if node.edge is not None:
        text = f"{node.edge.path}:{node.edge.line}" if node.edge.line else node.edge.path
        return f"{text} ({node.source})" if node.source else text
    return ""


def python_tree(hops: tuple[PyHop, ...], versions: dict[str, str], class_page: Any
                ) -> list[dict[str, Any]]:
    """The Python route as nested items: the hop linked to its class page, its source line,
    its branch conditions with what the layer's arguments decided."""
    words = {True: "taken", False: "pruned", None: "undecided"}

    def item(hop: PyHop) -> dict[str, Any]:
        owner = hop.name.rsplit(".", 1)[0]
        page = class_page(owner)
        name = ".".join(hop.name.split(".")[-2:])
        label = f"[{md_code_text(name)}]({page})" if page else md_code_text(name)
        where = _link(f"{hop.location.path.rsplit('/', 1)[-1]}:{hop.location.line}",
                      source_url(hop.location.path, hop.location.line, versions)) \
            if hop.location else ""
        return {"label": label, "kind": hop.kind, "where": where, "pruned": hop.is_pruned,
                "branches": [(b.condition, words[b.taken], _link(
                    f"{b.location.path.rsplit('/', 1)[-1]}:{b.location.line}",
                    source_url(b.location.path, b.location.line, versions)))
                    for b in hop.branches],
                "note": hop.note if hop.kind == "stop" else "",
                "children": [item(c) for c in hop.children]}

    return [item(h) for h in hops]


def _flat_items(items: list[dict[str, Any]], depth: int = 0) -> list[dict[str, Any]]:
    out = []
    for item in items:
        out.append({**item, "depth": depth})
        out.extend(_flat_items(item["children"], depth + 1))
    return out
