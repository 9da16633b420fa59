"""Where backends are set, read from the headers in the wheel: dispatch keys, CPU capabilities,
convolution backends, the PrivateUse1 plug points, and which operators AlexNet needs per key.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import replace

from docgen.core.records import Diagnostic, Location
from docgen.sources.locate import SourceSet
from docgen.walk.aten import OperatorTable, kernels_of, select_kernel
from docgen.walk.records import (
    BackendsReport,
    CoverageRow,
    DispatchKeyDoc,
    KernelChoice,
    OperatorDoc,
    OpNode,
    Reached,
    WalkReport,
)

DISPATCH_KEY_H = "torch/include/c10/core/DispatchKey.h"
DISPATCH_STUB_H = "torch/include/ATen/native/DispatchStub.h"
CONV_UTILS_H = "torch/include/ATen/native/ConvUtils.h"
BACKEND_REGISTRATION = "torch/utils/backend_registration.py"
LIBRARY_PY = "torch/library.py"
ATEN_CONFIG_H = "torch/include/ATen/Config.h"
KLEIDIAI_H = "torch/include/ATen/native/kleidiai/kai_kernels.h"
ACL_UTILS_H = "torch/include/ATen/native/quantized/cpu/ACLUtils.h"
COVERAGE_KEYS = ("CPU", "CUDA", "MPS", "XPU", "PrivateUse1")
# The rule of a coverage cell whose operator is on a route other backends take only.
NOT_REACHED = "not reached: a device-specific route, taken on"
# Keys a kernel registered for another tensor layout lives under: `SparseCPU` for `CPU`.
LAYOUT_PREFIXES = ("Sparse", "SparseCsr", "Quantized", "NestedTensor", "Mkldnn")
# The architecture a CPUCapability's `#if` branch is compiled for (DispatchStub.h).
_CAPABILITY_ARCH = (("HAVE_VSX_CPU_DEFINITION", "ppc64le"),
                    ("HAVE_ZVECTOR_CPU_DEFINITION", "s390x"),
                    ("HAVE_SVE_CPU_DEFINITION", "aarch64"))

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
    keys += _classified(text, [k for k in enum_items(text, "DispatchKey", DISPATCH_KEY_H,
                                                     "functionality")
                               if not k.name.startswith(("StartOf", "EndOf"))])
    return _deduplicated(keys)


def _classified(text: str, keys: list[DispatchKeyDoc]) -> list[DispatchKeyDoc]:
    """Enum members by their place in `enum class DispatchKey`: runtime functionality keys
    (before EndOfFunctionalityKeys), alias keys (Autograd, Composite*: they only name a set
    of keys a kernel is registered to), and synonyms (`CPUTensorId = CPU`)."""
    end = find_line(text, r"^\s*EndOfFunctionalityKeys\b") or 0
    out = []
    for k in keys:
        if k.comment.startswith("= "):
            out.append(replace(k, group="synonym"))
        elif end and k.location.line > end:
            out.append(replace(k, group="alias"))
        else:
            out.append(replace(k, group="functionality"))
    return out


def _deduplicated(keys: list[DispatchKeyDoc]) -> list[DispatchKeyDoc]:
    """One row per key name: a functionality that is per-backend (`Sparse`, listed in the
    FORALL macro and the enum) keeps the enum's place and says it is per-backend."""
    by_name: dict[str, DispatchKeyDoc] = {}
    for k in keys:
        old = by_name.get(k.name)
        if old is None:
            by_name[k.name] = k
        elif old.group == "per-backend functionality":
            by_name[k.name] = replace(k, group=old.group, comment=k.comment or old.comment)
    return list(by_name.values())


def runtime_order(keys: Iterable[DispatchKeyDoc]) -> list[DispatchKeyDoc]:
    """Functionality keys, highest priority first: for a tensor's key set the dispatcher
    runs the kernel of the highest key present (DispatchKeySet::highestPriorityTypeId), and
    a higher key's kernel (Autograd) redispatches to the next one (down to the backend)."""
    runtime = [k for k in keys if k.group in ("functionality", "per-backend functionality")
               and k.location.path == DISPATCH_KEY_H and k.name not in ("Undefined",)]
    runtime.sort(key=lambda k: k.location.line, reverse=True)
    return runtime


def capability_arch(cap: DispatchKeyDoc) -> str:
    """The architecture a CPUCapability value is compiled for, from its `#if` branch."""
    for macro, arch in _CAPABILITY_ARCH:
        if macro in cap.comment:
            return arch
    if cap.comment.startswith("#else"):
        return "x86-64"
    return "all"


def build_flags(sources: SourceSet, diagnostics: list[Diagnostic]) -> list[DispatchKeyDoc]:
    """`#define AT_X_ENABLED() 0|1` of ATen/Config.h: what this wheel was built with."""
    text = _read(sources, ATEN_CONFIG_H, diagnostics)
    out = []
    for i, line in enumerate(text.splitlines(), 1):
        m = re.match(r"#define\s+(AT_\w+_ENABLED)\(\)\s+(\d)", line)
        if m:
            out.append(DispatchKeyDoc(m.group(1), "build flag", Location(ATEN_CONFIG_H, i),
                                      m.group(2)))
    return out


def arm_paths(sources: SourceSet, table: OperatorTable,
              diagnostics: list[Diagnostic]) -> list[DispatchKeyDoc]:
    """Where Arm's libraries sit, each found in the wheel: KleidiAI micro-kernels behind
    their own operators, ACL (Arm Compute Library) under oneDNN and quantized CPU ops."""
    out: list[DispatchKeyDoc] = []
    for path, pattern, name, comment in (
            (KLEIDIAI_H, r"namespace at::native::kleidiai", "at::native::kleidiai",
             "KleidiAI micro-kernels (int4 packing and matmul), compiled when "
             "AT_KLEIDIAI_ENABLED()"),
            (ACL_UTILS_H, r"^\s*#if AT_MKLDNN_ACL_ENABLED", "ACLUtils.h",
             "quantized CPU operators through the Arm Compute Library, when "
             "AT_MKLDNN_ACL_ENABLED()")):
        if not sources.has_file(path):
            continue
        text = sources.read_file(path).decode("utf-8", "replace")
        line = find_line(text, pattern) or 1
        out.append(DispatchKeyDoc(name, "arm", Location(path, line), comment))
    for name, comment in (("_dyn_quant_matmul_4bit", "the operator whose CPU kernel calls "
                           "KleidiAI (4-bit weights, dynamic quantization)"),
                          ("_dyn_quant_pack_4bit_weight", "packs weights for it"),
                          ("mkldnn_convolution", "convolution on CPU through oneDNN; on "
                           "aarch64 builds oneDNN runs ACL primitives")):
        op = table.find(name)
        if op is not None:
            out.append(DispatchKeyDoc(f"aten::{name}", "arm", op.location, comment))
    return out


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
    cells = tuple(_cell(table, op, k) for k in keys)
    if condition and any(c.kernel is not None and c.key == c.backend for c in cells):
        # a device-specific route (cuDNN, MPS, ...): taken only where its kernel exists
        cells = tuple(replace(c, rule=f"{NOT_REACHED} {condition}") if c.kernel is None else c
                      for c in cells)
    return CoverageRow(f"aten::{name}", cells, needed_for, condition)


def _cell(table: OperatorTable, op: OperatorDoc, key: str) -> KernelChoice:
    """`select_kernel`, and when the dense key has nothing: a kernel registered for another
    layout on that backend (`_indices` has SparseCPU / SparseCUDA kernels only)."""
    choice = select_kernel(table, op, key)
    if choice.kernel is not None:
        return choice
    entries = {e.key: e.kernel for e in kernels_of(table, op)}
    for prefix in LAYOUT_PREFIXES:
        variant = f"{prefix}{key}"
        if variant in entries:
            return KernelChoice(key, variant, entries[variant],
                                f"{variant} kernel only: {prefix} tensors on {key}")
    return choice


def coverage_summary(rows: Iterable[CoverageRow], keys: tuple[str, ...]
                     ) -> list[tuple[str, int, int, int, int]]:
    """Per key: how many operators have a kernel of its own, a composite one, one for
    another layout only (SparseCPU for CPU), none; device-specific routes the key never
    takes (cudnn_convolution on CPU) are not counted."""
    counts = {k: [0, 0, 0, 0] for k in keys}
    for row in rows:
        for c in row.cells:
            if c.backend not in counts or c.rule.startswith(NOT_REACHED):
                continue
            slot = 3 if c.kernel is None else 0 if c.key == c.backend else \
                1 if (c.key or "").startswith("Composite") else 2
            counts[c.backend][slot] += 1
    return [(k, *counts[k]) for k in keys]  # type: ignore[misc]


def read_backends(sources: SourceSet, table: OperatorTable, walk: WalkReport,
                  keys: tuple[str, ...] = COVERAGE_KEYS) -> BackendsReport:
    diagnostics: list[Diagnostic] = []
    stub = _read(sources, DISPATCH_STUB_H, diagnostics)
    conv = _read(sources, CONV_UTILS_H, diagnostics)
    keys_read = read_keys(sources, diagnostics)
    rows = tuple(coverage(table, walk, keys))
    caps = enum_items(stub, "CPUCapability", DISPATCH_STUB_H, "CPU capability") if stub else []
    return BackendsReport(
        keys=tuple(keys_read),
        capabilities=tuple(replace(c, group=capability_arch(c)) for c in caps),
        conv_backends=tuple(enum_items(conv, "ConvBackend", CONV_UTILS_H, "ConvBackend")
                            if conv else ()),
        plug_points=tuple(plug_points(sources, table, diagnostics)),
        resolution_order=walk.resolution_order,
        coverage=rows,
        coverage_keys=keys,
        coverage_summary=tuple(coverage_summary(rows, keys)),
        diagnostics=tuple(diagnostics),
        runtime_order=tuple(runtime_order(keys_read)),
        build_flags=tuple(build_flags(sources, diagnostics)),
        arm_paths=tuple(arm_paths(sources, table, diagnostics)),
    )
