"""What one walk reads once (sources, resolver, flows, stubs, operator tables); no walking.

Function flows and .pyi stubs are parsed on first use and kept; native_functions.yaml and
derivatives.yaml are read once per context; the C++ edges come in from upstream.py.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cached_property

from docgen.classes.parse import parse_module
from docgen.classes.resolve import ModuleIndex, Resolver
from docgen.core.errors import SourceError
from docgen.core.records import Diagnostic
from docgen.sources.locate import SourceSet
from docgen.walk.aten import (
    DERIVATIVES,
    NATIVE_FUNCTIONS,
    OperatorTable,
    read_derivatives,
    read_native_functions,
)
from docgen.walk.flow import module_flow, stub_functions
from docgen.walk.records import (
    FunctionFlow,
    ModuleFlow,
)
from docgen.walk.upstream import EdgeSet

VERSION_PY = "torch/version.py"
DEFAULT_BACKENDS = ("CPU", "CUDA")


@dataclass
class WalkContext:
    """What one walk reads once: sources, resolver, flows per module, operator tables."""

    sources: SourceSet
    edges: EdgeSet
    backends: tuple[str, ...] = DEFAULT_BACKENDS
    resolver: Resolver = field(init=False)
    flows: dict[str, ModuleFlow | None] = field(default_factory=dict)
    stubs: dict[str, dict[str, int] | None] = field(default_factory=dict)
    table: OperatorTable = field(default_factory=OperatorTable)
    diagnostics: list[Diagnostic] = field(default_factory=list)
    memo: dict[str, object] = field(default_factory=dict)  # derived once per context
    # The modules' analyses, e.g. one that reads and fills the analysis cache (a site build
    # has analysed most of them already); None: parsed here as needed.
    index: ModuleIndex | None = None

    def __post_init__(self) -> None:
        self.resolver = Resolver(self.index if self.index is not None
                                 else ModuleIndex(self.sources))

    @property
    def torch_version(self) -> str:
        return next((d.version for d in self.sources.distributions if d.name == "torch"), "?")

    @cached_property
    def torch_commit(self) -> str | None:
        """`git_version` from torch/version.py: the commit the wheel was built from."""
        if not self.sources.has_file(VERSION_PY):
            return None
        text = self.sources.read_file(VERSION_PY).decode("utf-8", "replace")
        match = re.search(r"^git_version\s*=\s*['\"]([0-9a-f]{7,40})['\"]", text, re.M)
        return match.group(1) if match else None

    def flow(self, module: str) -> ModuleFlow | None:
        if module not in self.flows:
            found = self.sources.find_module(module)
            self.flows[module] = None
            if found is not None:
                try:
                    tree = parse_module(found.tree.read_bytes(found.path), module, found.path)
                    self.flows[module] = module_flow(tree, module, found.path)
                except (SourceError, OSError) as exc:
                    self.diagnostics.append(Diagnostic(found.path, getattr(exc, "line", 1),
                                                       f"walk: {exc}"))
        return self.flows[module]

    def function(self, qualname: str) -> FunctionFlow | None:
        parts = qualname.split(".")
        for i in range(len(parts) - 1, 0, -1):
            flow = self.flow(".".join(parts[:i]))
            if flow is not None:
                return next((f for f in flow.functions if f.qualname == qualname), None)
        return None

    def stub(self, path: str) -> dict[str, int] | None:
        if path not in self.stubs:
            self.stubs[path] = None
            if self.sources.has_file(path):
                try:
                    tree = parse_module(self.sources.read_file(path), "stub", path)
                    self.stubs[path] = stub_functions(tree)
                except (SourceError, OSError) as exc:
                    self.diagnostics.append(Diagnostic(path, 1, f"walk: {exc}"))
        return self.stubs[path]


def open_context(sources: SourceSet, edges: EdgeSet,
                 backends: tuple[str, ...] = DEFAULT_BACKENDS,
                 index: ModuleIndex | None = None) -> WalkContext:
    """A context with native_functions.yaml and derivatives.yaml read once; `index` gives
    the modules' analyses (default: parsed from `sources` as needed)."""
    ctx = WalkContext(sources, edges, backends, index=index)
    for path, reader in ((NATIVE_FUNCTIONS, read_native_functions),
                         (DERIVATIVES, read_derivatives)):
        if not sources.has_file(path):
            ctx.diagnostics.append(Diagnostic(path, 1, "not in the sources read; no ATen step"))
            continue
        text = sources.read_file(path).decode("utf-8", "replace")
        if reader is read_native_functions:
            read_native_functions(text, path, ctx.table)
        else:
            read_derivatives(text, ctx.table, path)
    ctx.diagnostics.extend(ctx.table.diagnostics)
    return ctx
