"""ATen operator tables: native_functions.yaml and derivatives.yaml with line numbers, and the
dispatcher's choice of kernel per backend key; it reads YAML text and never walks Python.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

import yaml

from docgen.core.records import Diagnostic, Location
from docgen.walk.records import DerivativeDoc, DispatchEntry, KernelChoice, OperatorDoc

NATIVE_FUNCTIONS = "torchgen/packaged/ATen/native/native_functions.yaml"
DERIVATIVES = "torchgen/packaged/autograd/derivatives.yaml"
OPS_PY = "torch/_ops.py"

IMPLICIT = "CompositeImplicitAutograd"
EXPLICIT = "CompositeExplicitAutograd"
EXPLICIT_NONFUNCTIONAL = "CompositeExplicitAutogradNonFunctional"

_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@dataclass
class OperatorTable:
    """Operators by overload name (`conv2d`, `conv2d.padding`), with derivative entries."""

    operators: dict[str, OperatorDoc] = field(default_factory=dict)
    derivatives: dict[str, DerivativeDoc] = field(default_factory=dict)
    diagnostics: list[Diagnostic] = field(default_factory=list)
    _index: dict[str, list[OperatorDoc]] = field(default_factory=dict, repr=False,
                                                  compare=False)
    _index_size: int = field(default=-1, repr=False, compare=False)

    def find(self, name: str) -> OperatorDoc | None:
        """`aten::conv2d`, `conv2d` or `conv2d.padding`; None when the table has no entry."""
        return self.operators.get(name.removeprefix("aten::"))

    def overloads(self, base: str) -> list[OperatorDoc]:
        """Every overload of `base` (`aten::mean` -> mean, mean.dim, ...), in table order."""
        return list(self._by_base().get(base.removeprefix("aten::"), ()))

    def _by_base(self) -> dict[str, list[OperatorDoc]]:
        # Indexed once per size of the table (it is filled once, then only read): a walk
        # asks for overloads thousands of times, a scan of 2,500 operators each time.
        if self._index_size != len(self.operators):
            index: dict[str, list[OperatorDoc]] = {}
            for key, op in self.operators.items():
                index.setdefault(key.split(".")[0], []).append(op)
            self._index, self._index_size = index, len(self.operators)
        return self._index


def operator_name(schema: str) -> str:
    """`conv2d.padding(Tensor input, ...) -> Tensor` -> `conv2d.padding`."""
    return schema.split("(", 1)[0].strip()


def _compose(text: str, path: str, diagnostics: list[Diagnostic]) -> yaml.Node | None:
    try:
        return yaml.compose(text, Loader=_LOADER)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else 1
        diagnostics.append(Diagnostic(path, line, f"cannot read YAML: {exc}"))
        return None


def _scalar(node: yaml.Node | None) -> str:
    return str(node.value) if isinstance(node, yaml.ScalarNode) else ""


def _items(node: yaml.Node) -> Iterable[tuple[str, yaml.Node]]:
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            yield _scalar(key), value


def _dispatch(node: yaml.Node | None) -> tuple[DispatchEntry, ...]:
    out = []
    for keys, value in _items(node) if node is not None else ():
        for key in keys.split(","):
            if key.strip():
                out.append(DispatchEntry(key.strip(), _scalar(value)))
    return tuple(out)


def _listish(node: yaml.Node | None) -> tuple[str, ...]:
    if isinstance(node, yaml.SequenceNode):
        return tuple(_scalar(n) for n in node.value)
    return tuple(s.strip() for s in _scalar(node).split(",") if s.strip())


UFUNC_KEYS = ("CPU", "CUDA")  # torchgen/model.py UFUNC_DISPATCH_KEYS


def _ufunc_kernels(fields: dict[str, yaml.Node], schema: str) -> tuple[DispatchEntry, ...]:
    """An entry with `ufunc_inner_loop` gets generated CPU and CUDA kernels (torchgen)."""
    if "ufunc_inner_loop" not in fields:
        return ()
    own = {k for k, _ in _items(fields["dispatch"])} if "dispatch" in fields else set()
    name = operator_name(schema).replace(".", "_")
    return tuple(DispatchEntry(key, f"ufunc_{name} (generated from ufunc_inner_loop)")
                 for key in UFUNC_KEYS if key not in own)


def _operator(entry: yaml.Node, path: str) -> OperatorDoc | None:
    fields = dict(_items(entry))
    schema = _scalar(fields.get("func"))
    if not schema:
        return None
    dispatch = _dispatch(fields.get("dispatch")) + _ufunc_kernels(fields, schema)
    delegate = _scalar(fields.get("structured_delegate")) or None
    origin = "explicit"
    if not dispatch and delegate is None:
        # torchgen/model.py: no dispatch table and no delegate means CompositeImplicitAutograd
        # with a kernel named after the operator.
        dispatch = (DispatchEntry(IMPLICIT, operator_name(schema).split(".")[0]),)
        origin = "implicit"
    elif delegate is not None and not dispatch:
        origin = "structured_delegate"
    return OperatorDoc(
        name=operator_name(schema), schema=schema,
        location=Location(path, entry.start_mark.line + 1), dispatch=dispatch,
        dispatch_origin=origin, structured_delegate=delegate,
        autogen=_listish(fields.get("autogen")),
        python_module=_scalar(fields.get("python_module")) or None,
        tags=_listish(fields.get("tags")),
        variants=_listish(fields.get("variants")) or ("function",),
        is_manual_binding=_scalar(fields.get("manual_cpp_binding")).lower() == "true")


def read_native_functions(text: str, path: str = NATIVE_FUNCTIONS,
                          table: OperatorTable | None = None) -> OperatorTable:
    """Every entry of native_functions.yaml, keyed by overload name; bad entries are warnings."""
    table = table or OperatorTable()
    root = _compose(text, path, table.diagnostics)
    if not isinstance(root, yaml.SequenceNode):
        if root is not None:
            table.diagnostics.append(Diagnostic(path, 1, "expected a list of operators"))
        return table
    for entry in root.value:
        op = _operator(entry, path)
        if op is None:
            table.diagnostics.append(Diagnostic(path, entry.start_mark.line + 1,
                                                "entry without a func: schema, skipped"))
        else:
            table.operators.setdefault(op.name, op)
    return table


def read_derivatives(text: str, table: OperatorTable, path: str = DERIVATIVES) -> OperatorTable:
    """Backward formulas per overload from derivatives.yaml, added to `table`."""
    root = _compose(text, path, table.diagnostics)
    if not isinstance(root, yaml.SequenceNode):
        return table
    for entry in root.value:
        fields = dict(_items(entry))
        schema = _scalar(fields.get("name"))
        if not schema:
            continue
        formulas = tuple((k, _scalar(v)) for k, v in fields.items()
                         if k not in ("name", "dispatch", "output_differentiability")
                         and isinstance(v, yaml.ScalarNode))
        if not formulas and "dispatch" in fields:
            default = dict(_items(fields["dispatch"])).get("Default")
            formulas = tuple((k, _scalar(v)) for k, v in _items(default)) if default else ()
        name = operator_name(schema)
        table.derivatives[name] = DerivativeDoc(name, Location(path, entry.start_mark.line + 1),
                                                formulas)
    return table


def find_derivative(table: OperatorTable, name: str) -> DerivativeDoc | None:
    """The formula of `name`; an in-place op (`relu_`) without its own entry uses the
    functional op's (torchgen/api/autograd.py matches them by the base name)."""
    name = name.removeprefix("aten::")
    if name in table.derivatives:
        return table.derivatives[name]
    base, dot, overload = name.partition(".")
    if base.endswith("_") and not base.endswith("__"):
        functional = base[:-1] + dot + overload
        found = table.derivatives.get(functional)
        if found is not None:
            return DerivativeDoc(found.name, found.location, found.formulas,
                                 inherited_from=functional)
    return None


def kernels_of(table: OperatorTable, op: OperatorDoc) -> tuple[DispatchEntry, ...]:
    """The dispatch table that registers kernels for `op`: its own, or its structured
    delegate's (the functional op shares the `.out` entry's kernels)."""
    if op.structured_delegate:
        delegate = table.find(op.structured_delegate)
        if delegate is not None:
            own = {e.key for e in op.dispatch}
            return (*op.dispatch, *(e for e in delegate.dispatch if e.key not in own))
    return op.dispatch


def select_kernel(table: OperatorTable, op: OperatorDoc, backend: str) -> KernelChoice:
    """The key and kernel the dispatcher runs for `backend`, in torch/_ops.py's resolve_key
    order: the backend's own kernel, then CompositeExplicitAutogradNonFunctional, then
    CompositeExplicitAutograd, then CompositeImplicitAutograd (only with no backend kernel)."""
    entries = {e.key: e.kernel for e in kernels_of(table, op)}
    own = {e.key for e in op.dispatch}
    via = f" (via structured_delegate {op.structured_delegate})" \
        if op.structured_delegate and backend not in own else ""
    if backend in entries:
        return KernelChoice(backend, backend, entries[backend], f"backend kernel{via}")
    for key in (EXPLICIT_NONFUNCTIONAL, EXPLICIT):
        if key in entries:
            return KernelChoice(backend, key, entries[key], key)
    if IMPLICIT in entries:
        return KernelChoice(backend, IMPLICIT, entries[IMPLICIT],
                            "CompositeImplicitAutograd: decomposes into other operators")
    others = ", ".join(sorted(entries)) or "none"
    return KernelChoice(backend, None, None, f"no kernel for {backend} (registered: {others})")


_STEP = re.compile(r"#\s*(\d(?:\.\d)?)\.?\s+(.*)")


def read_resolution_order(text: str, path: str = OPS_PY) -> tuple[tuple[str, Location], ...]:
    """The numbered steps of `resolve_key` in torch/_ops.py, as documented in its comments."""
    lines = text.splitlines()
    start = next((i for i, line in enumerate(lines) if line.startswith("def resolve_key")), None)
    if start is None:
        return ()
    steps: list[tuple[str, Location]] = []
    for i in range(start + 1, len(lines)):
        line = lines[i]
        if line and not line[0].isspace():
            break
        match = _STEP.search(line.strip())
        if match:
            steps.append((f"{match.group(1)} {match.group(2)}", Location(path, i + 1)))
        elif line.strip() == "# Backend fallback":
            steps.append(("backend fallback", Location(path, i + 1)))
    return tuple(steps)
