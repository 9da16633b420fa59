"""A model's composition for the site: the layer tree and the root forward's steps.

Made from the one reader (reader.py): the module tree the static evaluator built, each
layer with the class it is and the call that made it, and the data flow of the model's own
`forward`. What cannot be read is a diagnostic; the site then shows no composition. Only the
reader's warnings reach the site (its info lines are the summary's notes).
"""

from __future__ import annotations

from collections.abc import Sequence

from docgen.classes.resolve import Resolver
from docgen.core.config import DEFAULT_MODULE_ROOT
from docgen.core.errors import ConfigError, DocgenError
from docgen.core.names import short_name
from docgen.core.records import (
    Diagnostic,
    ForwardStepDoc,
    LayerDoc,
    Location,
    ModelDoc,
)
from docgen.models.reader import LayerNode, ModelReading, read_model
from docgen.models.steps import MODULE

COMPOSITION_INPUT = (1, 3, 224, 224)


def read_composition(resolver: Resolver, model: str,
                     input_shape: tuple[int, ...] = COMPOSITION_INPUT,
                     module_root: str = DEFAULT_MODULE_ROOT,
                     ) -> tuple[ModelDoc | None, tuple[Diagnostic, ...]]:
    """The composition of `model` (`package.module:Name`); None with a diagnostic if it cannot
    be evaluated. A model name that names nothing is the user's error: ConfigError."""
    try:
        reading = read_model(resolver, model, input_shape, module_root)
    except ConfigError:
        raise
    except DocgenError as exc:
        return None, (_problem(model, exc),)
    # Info lines (a skipped `init.*_` call, an input shape assumed) explain the figures; they
    # belong to the summary's notes, not to the site's warnings.
    warnings = tuple(d for d in reading.diagnostics if d.severity.matters)
    return composition_from_reading(reading), warnings


def composition_from_reading(reading: ModelReading) -> ModelDoc:
    """The layer tree (LayerDoc) and the root forward's steps (ForwardStepDoc) of a reading."""
    nodes = {node.path: node for node in reading.layers}
    root = reading.layers[0]
    layers = tuple(_layer_doc(nodes[path], nodes) for path in root.children)
    forward = tuple(ForwardStepDoc(step.text or step.target,
                                   step.target if step.kind == MODULE else None,
                                   step.location or Location("<unknown>", 0))
                    for step in reading.steps if step.caller == "")
    return ModelDoc(root.qualname, root.location or Location("<unknown>", 0), layers, forward)


def _layer_doc(node: LayerNode, nodes: dict[str, LayerNode]) -> LayerDoc:
    children = tuple(_layer_doc(nodes[path], nodes) for path in node.children if path in nodes)
    callee, _, rest = node.call.partition("(")
    arguments = "" if children else rest[:-1] if rest.endswith(")") else rest
    return LayerDoc(path=node.path, name=short_name(node.qualname), arguments=arguments,
                    callee=callee, target=node.qualname,
                    location=node.location or Location("<unknown>", 0), children=children,
                    values=node.arguments)


def _problem(model: str, exc: DocgenError) -> Diagnostic:
    text = str(exc)
    path, line = model.partition(":")[0], 0
    head, sep, rest = text.partition(": ")
    where, colon, number = head.rpartition(":")
    if sep and colon and number.isdigit():
        path, line, text = where, int(number), rest
    return Diagnostic(path, line, f"cannot read the model {model}: {text}")


def evaluated_arguments(written: str, values: Sequence[tuple[str, str]]
                        ) -> list[tuple[str, str, str]]:
    """(parameter, expression as written, evaluated value) for each written argument whose
    text is not already its value: `p=dropout` -> ("p", "dropout", "0.5"). Positional
    arguments pair with the parameters in signature order, keywords by name."""
    if not values or not written.strip():
        return []
    names = [n for n, _ in values]
    value_of = dict(values)
    out = []
    for i, arg in enumerate(_split_arguments(written)):
        key, eq, expr = arg.partition("=")
        if eq and key.strip().isidentifier() and not expr.startswith("="):
            name, expr = key.strip(), expr.strip()
        elif arg.startswith("*"):
            continue
        elif i < len(names):
            name, expr = names[i], arg
        else:
            continue
        value = value_of.get(name)
        if value is not None and value != expr:
            out.append((name, expr, value))
    return out


def _split_arguments(text: str) -> list[str]:
    """`a, f(b, c), d=[1, 2]` -> ["a", "f(b, c)", "d=[1, 2]"] (top-level commas only)."""
    parts: list[str] = []
    current: list[str] = []
    depth, quote = 0, ""
    for ch in text:
        if quote:
            if ch == quote:
                quote = ""
        elif ch in "'\"":
            quote = ch
        elif ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
        elif ch == "," and depth == 0:
            parts.append("".join(current).strip())
            current = []
            continue
        current.append(ch)
    if "".join(current).strip():
        parts.append("".join(current).strip())
    return parts
