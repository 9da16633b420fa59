"""Where backends are set, read from the headers in the wheel: dispatch keys, CPU capabilities,
convolution backends, the PrivateUse1 plug points, and which operators AlexNet needs per key.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from docgen.core.records import Diagnostic, Location
from docgen.sources.locate import SourceSet
from docgen.walk.aten import OperatorTable, select_kernel
from docgen.walk.records import (
    BackendsReport,
    CoverageRow,
    DispatchKeyDoc,
    OpNode,
    Reached,
    WalkReport,
)

DISPATCH_KEY_H = "torch/include/c10/core/DispatchKey.h"
DISPATCH_STUB_H = "torch/include/ATen/native/DispatchStub.h"
CONV_UTILS_H = "torch/include/ATen/native/ConvUtils.h"
BACKEND_REGISTRATION = "torch/utils/backend_registration.py"
LIBRARY_PY = "torch/library.py"
COVERAGE_KEYS = ("CPU", "CUDA", "MPS", "PrivateUse1")

_MACRO_ITEM = re.compile(r"^\s*_\((\w+),\s*(\w*)\)")
_ENUM_ITEM = re.compile(r"^\s*(\w+)\s*(?:=\s*([^,/]+))?,?\s*(?://\s*(.*))?$")


def macro_items(text: str, macro: str, path: str, group: str) -> list[DispatchKeyDoc]:
    """`_(CPU, extra)` lines of a `#define MACRO(_...)` list."""
    lines = text.splitlines()
    start = next((i for i, line in enumerate(lines) if line.startswith(f"#define {macro}(")),
                 None)
    out: list[DispatchKeyDoc] = []
    if start is None:
        return out
    for i in range(start + 1, len(lines)):
        match = _MACRO_ITEM.match(lines[i])
        if match:
            out.append(DispatchKeyDoc(match.group(1), group, Location(path, i + 1),
                                      match.group(2)))
        if not lines[i].rstrip().endswith("\\"):
            break
    return out


def enum_items(text: str, enum: str, path: str, group: str) -> list[DispatchKeyDoc]:
    """Members of `enum class NAME`, each with the `#if` (or `// ~~ section ~~`) above it."""
    lines = text.splitlines()
    start = next((i for i, line in enumerate(lines)
                  if re.match(rf"\s*enum class {enum}\b", line)), None)
    out: list[DispatchKeyDoc] = []
    if start is None:
        return out
    context, section = "", group
    for i in range(start + 1, len(lines)):
        line = lines[i].strip()
        if line.startswith("};"):
            break
        if line.startswith(("#if", "#elif", "#else")):
            context = line
            continue
        if line.startswith("#endif"):
            context = ""
            continue
        heading = re.match(r"//\s*~+\s*([^~]+?)\s*~+", line)
        if heading:
            section = heading.group(1)
            continue
        if not line or line.startswith(("//", "#", "C10_", "_(")):
            continue
        match = _ENUM_ITEM.match(line)
        if match and match.group(1) not in ("NUM_OPTIONS",):
            note = context or (f"= {match.group(2).strip()}" if match.group(2) else "")
            out.append(DispatchKeyDoc(match.group(1), section, Location(path, i + 1), note))
    return out


def find_line(text: str, pattern: str) -> int | None:
    for i, line in enumerate(text.splitlines(), 1):
        if re.search(pattern, line):
            return i
    return None


def read_keys(sources: SourceSet, diagnostics: list[Diagnostic]) -> list[DispatchKeyDoc]:
    text = _read(sources, DISPATCH_KEY_H, diagnostics)
    if not text:
        return []
    keys = macro_items(text, "C10_FORALL_BACKEND_COMPONENTS", DISPATCH_KEY_H,
                       "backend component")
    keys += macro_items(text, "C10_FORALL_FUNCTIONALITY_KEYS", DISPATCH_KEY_H,
                        "per-backend functionality")
    keys += [k for k in enum_items(text, "DispatchKey", DISPATCH_KEY_H, "functionality")
             if not k.name.startswith(("StartOf", "EndOf"))]
    return keys


def plug_points(sources: SourceSet, table: OperatorTable,
                diagnostics: list[Diagnostic]) -> list[DispatchKeyDoc]:
    """Where an out-of-tree device plugs in, each found in the sources by name."""
    out: list[DispatchKeyDoc] = []
    wanted = ((BACKEND_REGISTRATION, r"^def rename_privateuse1_backend\b",
               "rename_privateuse1_backend", "name the PrivateUse1 device (torch.<name>)"),
              (BACKEND_REGISTRATION, r"^def generate_methods_for_privateuse1_backend\b",
               "generate_methods_for_privateuse1_backend", "Tensor.<name>() and friends"),
              (LIBRARY_PY, r"^def impl\b", "torch.library.impl",
               "register a kernel for an operator and a dispatch key from Python"),
              (CONV_UTILS_H, r"\bOverrideable\b", "ConvBackend::Overrideable",
               "convolution on a device without a built-in backend goes to "
               "convolution_overrideable"))
    for path, pattern, name, comment in wanted:
        text = _read(sources, path, diagnostics)
        line = find_line(text, pattern) if text else None
        if line is not None:
            out.append(DispatchKeyDoc(name, "plug point", Location(path, line), comment))
    op = table.find("convolution_overrideable")
    if op is not None:
        out.append(DispatchKeyDoc("aten::convolution_overrideable", "plug point", op.location,
                                  "the operator a new device implements for convolution"))
    return out


def _read(sources: SourceSet, path: str, diagnostics: list[Diagnostic]) -> str:
    if not sources.has_file(path):
        diagnostics.append(Diagnostic(path, 1, "not in the sources read"))
        return ""
    return sources.read_file(path).decode("utf-8", "replace")


def _all_ops(nodes: Iterable[OpNode], inherited: str = "",
             visible: bool = True) -> Iterable[tuple[OpNode, str, bool]]:
    """Every operator below `nodes`, with its own condition or the nearest ancestor's, and
    whether autograd sees it: the bound operator and what composite-implicit kernels call,
    not what runs inside a kernel that has its own derivative."""
    for node in nodes:
        condition = node.condition or inherited
        seen = visible and node.reached in (Reached.BINDING, Reached.DECOMPOSITION)
        yield node, condition, seen
        yield from _all_ops(node.children, condition, seen)


_CALLED = re.compile(r"\b([a-z_][a-z0-9_]*)\s*\(")


def backward_ops(table: OperatorTable, formulas: Iterable[str]) -> list[str]:
    """Operators called by derivative formulas (helpers that are not operators are skipped)."""
    out: list[str] = []
    for formula in formulas:
        for name in _CALLED.findall(formula):
            base = name.removesuffix("_symint")
            op = table.find(base)
            if op is not None and not op.is_manual_binding and base not in out:
                out.append(base)
    return out


def coverage(table: OperatorTable, walk: WalkReport,
             keys: tuple[str, ...] = COVERAGE_KEYS) -> list[CoverageRow]:
    """Per operator AlexNet reaches (forward, then what its backward formulas call): the
    kernel each key gets, or none; conditional C++ routes keep their condition."""
    conditions: dict[str, str] = {}
    formulas: list[str] = []
    helper_ops: dict[str, str] = {}  # operator -> the formula helper whose body calls it
    for node, condition, visible in _all_ops(
            op for layer in walk.layers for op in layer.operators):
        if node.operator is None:
            continue
        name = node.operator.name
        if name not in conditions or not condition:
            conditions[name] = condition if name not in conditions else ""
        d = node.derivative
        if visible and d is not None and not d.via_decomposition:
            # `result*:` entries are forward-mode (JVP) formulas, not backward.
            formulas.extend(f for key, f in d.formulas if not key.startswith("result"))
            for call in d.calls:
                helper_ops.setdefault(call.operator.removeprefix("aten::"), call.helper)
    rows = [_row(table, name, "forward", cond, keys) for name, cond in conditions.items()]
    direct = [name for name in backward_ops(table, formulas) if name not in conditions]
    rows += [_row(table, name, "backward", "", keys) for name in direct]
    rows += [_row(table, name, "backward", f"via {helper} (FunctionsManual.cpp)", keys)
             for name, helper in helper_ops.items()
             if name not in conditions and name not in direct]
    return [r for r in rows if r is not None]


def _row(table: OperatorTable, name: str, needed_for: str, condition: str,
         keys: tuple[str, ...]) -> CoverageRow | None:
    op = table.find(name)
    if op is None:
        return None
    return CoverageRow(f"aten::{name}", tuple(select_kernel(table, op, k) for k in keys),
                       needed_for, condition)


def read_backends(sources: SourceSet, table: OperatorTable, walk: WalkReport,
                  keys: tuple[str, ...] = COVERAGE_KEYS) -> BackendsReport:
    diagnostics: list[Diagnostic] = []
    stub = _read(sources, DISPATCH_STUB_H, diagnostics)
    conv = _read(sources, CONV_UTILS_H, diagnostics)
    return BackendsReport(
        keys=tuple(read_keys(sources, diagnostics)),
        capabilities=tuple(enum_items(stub, "CPUCapability", DISPATCH_STUB_H, "CPU capability")
                           if stub else ()),
        conv_backends=tuple(enum_items(conv, "ConvBackend", CONV_UTILS_H, "ConvBackend")
                            if conv else ()),
        plug_points=tuple(plug_points(sources, table, diagnostics)),
        resolution_order=walk.resolution_order,
        coverage=tuple(coverage(table, walk, keys)),
        coverage_keys=keys,
        diagnostics=tuple(diagnostics),
    )
