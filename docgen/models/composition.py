"""A model's static composition: the layer tree written in `__init__` and `forward`'s steps.

Reads only literal construction (`self.x = nn.Sequential(nn.Conv2d(...), ...)`,
`self.y = nn.Linear(...)`) and the statements of `forward`; it evaluates nothing. The full
constructor evaluator (parameter counts, shapes) lives elsewhere; this is what the site draws.
"""

from __future__ import annotations

from astroid import nodes

from docgen.classes.parse import parse_module
from docgen.classes.resolve import Resolver
from docgen.core.errors import SourceError
from docgen.core.records import Diagnostic, ForwardStepDoc, LayerDoc, Location, ModelDoc
from docgen.sources.locate import SourceSet


def read_composition(sources: SourceSet, resolver: Resolver, model: str,
                     ) -> tuple[ModelDoc | None, tuple[Diagnostic, ...]]:
    """The composition of `model` (`package.module:Class`); None with a warning if unreadable."""
    module, _, cls_name = model.partition(":")
    found = sources.find_module(module)
    if found is None:
        return None, (Diagnostic(module, 0, f"model module {module} not found"),)
    try:
        tree = parse_module(found.tree.read_bytes(found.path), module, found.path)
    except (OSError, SourceError) as exc:
        line = exc.line if isinstance(exc, SourceError) else 0
        return None, (Diagnostic(found.path, line, f"cannot read the model: {exc}"),)
    cls = next((n for n in tree.body if isinstance(n, nodes.ClassDef) and n.name == cls_name),
               None)
    if cls is None:
        return None, (Diagnostic(found.path, 0, f"class {cls_name} not found in {module}"),)
    reader = _Reader(resolver, module, found.path)
    layers = reader.layers(_method(cls, "__init__"))
    forward = reader.forward(_method(cls, "forward"))
    doc = ModelDoc(f"{module}.{cls_name}", Location(found.path, cls.lineno or 0), layers,
                   forward)
    return doc, tuple(reader.diagnostics)


def _method(cls: nodes.ClassDef, name: str) -> nodes.FunctionDef | None:
    return next((n for n in cls.body if isinstance(n, nodes.FunctionDef) and n.name == name),
                None)


def _dotted(node: nodes.NodeNG) -> str | None:
    parts: list[str] = []
    while isinstance(node, nodes.Attribute):
        parts.append(node.attrname)
        node = node.expr
    if not isinstance(node, nodes.Name):
        return None
    parts.append(node.name)
    return ".".join(reversed(parts))


def _self_attribute(node: nodes.NodeNG, self_name: str) -> str | None:
    """`x` for `self.x`, else None."""
    if isinstance(node, nodes.Attribute | nodes.AssignAttr) and isinstance(node.expr, nodes.Name) \
            and node.expr.name == self_name:
        return node.attrname
    return None


def _statements(body: list[nodes.NodeNG]) -> list[nodes.NodeNG]:
    """Statements in order, looking into if/else, with and try bodies."""
    out: list[nodes.NodeNG] = []
    for stmt in body:
        if isinstance(stmt, nodes.If):
            out.extend(_statements(stmt.body) + _statements(stmt.orelse))
        elif isinstance(stmt, nodes.With | nodes.Try):
            out.extend(_statements(stmt.body))
        else:
            out.append(stmt)
    return out


class _Reader:
    def __init__(self, resolver: Resolver, module: str, path: str) -> None:
        self.resolver = resolver
        self.module = module
        self.path = path
        self.diagnostics: list[Diagnostic] = []

    def layers(self, init: nodes.FunctionDef | None) -> tuple[LayerDoc, ...]:
        if init is None or not init.args.args:
            return ()
        self_name = init.args.args[0].name
        out: list[LayerDoc] = []
        for stmt in _statements(init.body):
            if not isinstance(stmt, nodes.Assign) or not isinstance(stmt.value, nodes.Call):
                continue
            for target in stmt.targets:
                attr = _self_attribute(target, self_name)
                if attr is not None:
                    layer = self.layer(attr, stmt.value)
                    if layer is not None:
                        out.append(layer)
        return tuple(out)

    def layer(self, path: str, call: nodes.Call) -> LayerDoc | None:
        """A LayerDoc for a call that builds a class; None for anything else."""
        callee = _dotted(call.func)
        if callee is None:
            return None
        target = self.resolver.resolve_in(self.module, callee)
        if target is not None and target.kind != "class":
            return None
        if target is None:
            if not callee.rsplit(".", 1)[-1][:1].isupper():
                return None  # a helper function call, not a layer
            self.diagnostics.append(Diagnostic(
                self.path, call.lineno or 0, f"layer {path}: no source defines {callee}"))
        children: list[LayerDoc] = []
        plain: list[str] = []
        for arg in call.args:
            elements = arg.elts if isinstance(arg, nodes.List | nodes.Tuple) else [arg]
            built = [self.layer(f"{path}.{len(children) + i}", e) for i, e in enumerate(elements)
                     if isinstance(e, nodes.Call)]
            if built and all(b is not None for b in built) and len(built) == len(elements):
                children.extend(b for b in built if b is not None)
            else:
                plain.append(arg.as_string())
        plain.extend(kw.as_string() for kw in call.keywords or [])
        return LayerDoc(path=path, name=callee.rsplit(".", 1)[-1], arguments=", ".join(plain),
                        callee=callee, target=target.qualname if target else None,
                        location=Location(self.path, call.lineno or 0),
                        children=tuple(children))

    def forward(self, func: nodes.FunctionDef | None) -> tuple[ForwardStepDoc, ...]:
        if func is None or not func.args.args:
            return ()
        self_name = func.args.args[0].name
        steps = []
        for stmt in _statements(func.body):
            layer = None
            for call in stmt.nodes_of_class(nodes.Call):
                layer = _self_attribute(call.func, self_name)
                if layer is not None:
                    break
            text = " ".join(stmt.as_string().split())
            steps.append(ForwardStepDoc(text, layer, Location(self.path, stmt.lineno or 0)))
        return tuple(steps)
