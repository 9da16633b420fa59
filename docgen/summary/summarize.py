"""A model's layers, output shapes, parameters and MACs, from source alone.

Assembles the static evaluation (evaluate.py builds the module tree from the constructor code
and runs `forward` over symbolic shapes) into a frozen `ModelSummary`, and renders it as a
rich table, JSON or Markdown. The site calls `summarize_model` / `summarize_config`.
"""

from __future__ import annotations

import logging
from typing import Any

from docgen.classes.resolve import ModuleIndex, Resolver
from docgen.core.config import Config
from docgen.core.errors import ConfigError, DocgenError
from docgen.core.records import (
    Diagnostic,
    LayerRow,
    Location,
    ModelSummary,
    Severity,
    TensorDoc,
)
from docgen.models.evaluate import Evaluator, ModelRaise
from docgen.models.shapes import counts_macs
from docgen.models.values import CallSite, CannotEvaluate, ModuleInstance, SymTensor, Unknown

log = logging.getLogger(__name__)

DEFAULT_INPUT = (1, 3, 224, 224)
BYTES_PER_PARAM = 4  # float32


def parse_input_shape(text: str) -> tuple[int, ...]:
    """`1,3,224,224` -> (1, 3, 224, 224); ConfigError on anything else."""
    try:
        shape = tuple(int(part) for part in text.replace("x", ",").split(","))
    except ValueError:
        shape = ()
    if not shape or any(d <= 0 for d in shape):
        raise ConfigError(f"--input expects positive sizes like 1,3,224,224, got {text!r}")
    return shape


def build_model(evaluator: Evaluator, model: str) -> ModuleInstance:
    """Evaluate the builder or class named `module:name` with its default arguments."""
    module_name, _, name = model.partition(":")
    module = evaluator.source_module(module_name)
    if module is None or not name:
        raise ConfigError(f"model {model!r}: module {module_name!r} not found in the sources")
    try:
        builder = evaluator.module_global(module, name)
        result = evaluator.call(builder, (), {})
    except CannotEvaluate as exc:
        raise DocgenError(f"model {model!r} cannot be evaluated: {exc.reason}") from exc
    except ModelRaise as exc:
        raise DocgenError(f"{exc.location}: building {model} raises: {exc.message}") from exc
    if not isinstance(result, ModuleInstance):
        reason = result.describe() if isinstance(result, Unknown) else repr(result)
        raise DocgenError(f"model {model!r} did not evaluate to a torch.nn.Module: {reason}")
    if result.call_site is None:
        line = getattr(module.defs.get(name), "lineno", 0)
        result.call_site = CallSite(f"{name}()", Location(module.path, line))
    return result


def summarize_model(resolver: Resolver, model: str,
                    input_shape: tuple[int, ...] = DEFAULT_INPUT) -> ModelSummary:
    """The summary of `model` (`package.module:Class` or `:builder`) for one input shape."""
    evaluator = Evaluator(resolver)
    root = build_model(evaluator, model)
    for _, module in root.walk():
        module.training = False  # model.eval(): the inference graph, as torchvision counts it
    output = evaluator.call_module(root, (SymTensor(input_shape),), {})
    rows = tuple(_row(path, module) for path, module in root.walk())
    diagnostics = tuple(sorted(evaluator.diagnostics,
                               key=lambda d: (d.severity != Severity.WARNING, d.path, d.line)))
    params = _total(r.params for r in rows)
    return ModelSummary(
        model=model,
        input_shape=tuple(input_shape),
        rows=rows,
        output_shapes=_shapes(output),
        total_params=params,
        trainable_params=_total(r.trainable for r in rows),
        total_buffers=_total(_buffer_count(m) for _, m in root.walk()),
        total_macs=_total(r.macs for r in rows),
        param_bytes=None if params is None else params * BYTES_PER_PARAM,
        diagnostics=diagnostics,
        distributions=resolver.index.sources.distributions,
    )


def summarize_config(cfg: Config, input_shape: tuple[int, ...] = DEFAULT_INPUT
                     ) -> ModelSummary:
    """Open the sources `cfg` names and summarise its model."""
    from docgen.classes.project import open_project_sources

    if not cfg.model:
        raise ConfigError("no model given (use MODULE:CLASS or MODULE:builder)")
    sources = open_project_sources(cfg)
    return summarize_model(Resolver(ModuleIndex(sources)), cfg.model, input_shape)


def _total(values: Any) -> int | None:
    total = 0
    for value in values:
        if value is None:
            return None
        total += value
    return total


def _shapes(value: Any) -> tuple[tuple[int, ...], ...] | None:
    if isinstance(value, SymTensor):
        return (value.shape,)
    if isinstance(value, (tuple, list)) and any(isinstance(v, SymTensor) for v in value) \
            and all(isinstance(v, SymTensor) or v is None for v in value):
        return tuple(v.shape for v in value if v is not None)  # (output, None) pairs
    return None


def _buffer_count(module: ModuleInstance) -> int | None:
    return _total(b.numel() if isinstance(b, SymTensor) else None
                  for b in module.buffers.values() if b is not None)


def _tensor_doc(name: str, value: Any, is_buffer: bool) -> TensorDoc:
    if isinstance(value, SymTensor):
        return TensorDoc(name, value.shape, value.origin, is_buffer,
                         value.requires_grad and not is_buffer)
    reason = value.describe() if isinstance(value, Unknown) else f"not a tensor: {value!r}"
    return TensorDoc(name, None, None, is_buffer, False, reason)


def _row(path: str, module: ModuleInstance) -> LayerRow:
    tensors = tuple(
        [_tensor_doc(n, v, False) for n, v in module.parameters.items() if v is not None]
        + [_tensor_doc(n, v, True) for n, v in module.buffers.items() if v is not None])
    notes = [f"{t.name}: shape not derived: {t.note}" for t in tensors if t.shape is None]
    notes += [f"self.{name} not evaluated: {u.describe()}" for name, u in module.unknown.items()]
    params = trainable = None
    if not notes:
        weights = [t for t in tensors if not t.is_buffer]
        params = sum(_numel(t.shape) for t in weights)
        trainable = sum(_numel(t.shape) for t in weights if t.is_trainable)
    shapes = _output_shapes(module, notes)
    macs: int | None = module.macs
    for op, reason in module.macs_unknown:
        notes.append(f"{op}: {reason}")
        if counts_macs(op):
            macs = None
    site = module.call_site
    return LayerRow(
        path=path, depth=path.count(".") + 1 if path else 0, qualname=module.cls.qualname,
        call=site.text if site else "", location=site.location if site else None,
        output_shapes=shapes, params=params, trainable=trainable, macs=macs,
        ops=tuple(dict.fromkeys(module.ops)), tensors=tensors, notes=tuple(notes))


def _numel(shape: tuple[int, ...] | None) -> int:
    count = 1
    for dim in shape or ():
        count *= dim
    return count


def _output_shapes(module: ModuleInstance, notes: list[str]) -> tuple[tuple[int, ...], ...] | None:
    if not module.outputs:
        notes.append("not called by forward: no output shape")
        return None
    if len(module.outputs) > 1:
        notes.append(f"called {len(module.outputs)} times; shape of the last call")
    last = module.outputs[-1]
    shapes = _shapes(last)
    if shapes is None:
        why = last.describe() if isinstance(last, Unknown) else f"returns {type(last).__name__}"
        notes.append(f"output shape not derived: {why}")
    return shapes


# ----------------------------------------------------------------- output formats

def format_shape(shapes: tuple[tuple[int, ...], ...] | None) -> str:
    if shapes is None:
        return "?"
    return ", ".join("x".join(str(d) for d in s) or "scalar" for s in shapes)


def format_call(text: str, width: int = 60) -> str:
    """A constructor call for a table cell: long container calls are cut, not wrapped."""
    return text if len(text) <= width else text[:width - 1].rstrip() + "…"


def format_count(value: int | None) -> str:
    return "?" if value is None else f"{value:,}"


def _location(loc: Location | None) -> str | None:
    return str(loc) if loc else None


def summary_to_json(summary: ModelSummary) -> dict[str, Any]:
    from docgen.core.jsonio import SUMMARY_SCHEMA

    return {
        "schema": SUMMARY_SCHEMA,
        "model": summary.model,
        "input_shape": list(summary.input_shape),
        "output_shapes": _json_shapes(summary.output_shapes),
        "total_params": summary.total_params,
        "trainable_params": summary.trainable_params,
        "total_buffers": summary.total_buffers,
        "total_macs": summary.total_macs,
        "param_bytes": summary.param_bytes,
        "complete": summary.is_complete,
        "distributions": [{"name": d.name, "version": d.version}
                          for d in summary.distributions],
        "layers": [_row_json(r) for r in summary.rows],
        "diagnostics": [{"location": f"{d.path}:{d.line}", "message": d.message,
                         "severity": d.severity.value} for d in summary.diagnostics],
    }


def _json_shapes(shapes: tuple[tuple[int, ...], ...] | None) -> list[list[int]] | None:
    return None if shapes is None else [list(s) for s in shapes]


def _row_json(row: LayerRow) -> dict[str, Any]:
    return {
        "path": row.path, "depth": row.depth, "class": row.qualname, "call": row.call,
        "location": _location(row.location), "output_shapes": _json_shapes(row.output_shapes),
        "params": row.params, "trainable": row.trainable, "macs": row.macs,
        "ops": list(row.ops), "notes": list(row.notes),
        "tensors": [{"name": t.name, "shape": None if t.shape is None else list(t.shape),
                     "location": _location(t.location), "buffer": t.is_buffer,
                     "trainable": t.is_trainable, "note": t.note} for t in row.tensors],
    }


def render_summary_table(summary: ModelSummary) -> Any:
    """A rich renderable: the layer table, the totals and the warnings."""
    from rich.console import Group
    from rich.markup import escape
    from rich.table import Table
    from rich.text import Text

    table = Table(title=f"{summary.model}  input {format_shape((summary.input_shape,))}",
                  title_justify="left")
    for col, justify in (("Layer", "left"), ("Type", "left"), ("Constructor", "left"),
                         ("Output shape", "right"), ("Params", "right"),
                         ("Trainable", "right"), ("MACs", "right")):
        # Only the constructor call may wrap: paths, shapes and counts stay on one line.
        table.add_column(col, justify=justify, overflow="fold",  # type: ignore[arg-type]
                         no_wrap=col != "Constructor", min_width=12 if col == "Constructor"
                         else None)
    for row in summary.rows:
        name = "  " * row.depth + (row.path or "(model)")
        table.add_row(escape(name), row.qualname.rsplit(".", 1)[-1], escape(format_call(row.call)),
                      format_shape(row.output_shapes), format_count(row.params),
                      format_count(row.trainable), format_count(row.macs))
    return Group(table, Text(_totals_text(summary)), *_warning_lines(summary.diagnostics))


def _totals_text(summary: ModelSummary) -> str:
    macs = summary.total_macs
    mem = summary.param_bytes
    caveat = [] if summary.is_complete else [
        "Incomplete: the statements below were not evaluated; counts cover what was."]
    return "\n".join([
        *caveat,
        f"Total params:      {format_count(summary.total_params)}",
        f"Trainable params:  {format_count(summary.trainable_params)}",
        f"Buffers (numel):   {format_count(summary.total_buffers)}",
        f"Total MACs:        {format_count(macs)}"
        + ("" if macs is None else f" ({macs / 1e9:.3f} G)"),
        "Params size (MB):  " + ("?" if mem is None else f"{mem / 2**20:.2f}"),
        f"Output shape:      {format_shape(summary.output_shapes)}",
    ])


def _warning_lines(diagnostics: tuple[Diagnostic, ...]) -> list[Any]:
    from rich.text import Text

    warnings = [d for d in diagnostics if d.severity == Severity.WARNING]
    if not warnings:
        return []
    return [Text(f"{len(warnings)} thing(s) could not be evaluated:", style="yellow"),
            *(Text(f"  {d}", style="yellow") for d in warnings)]


def render_summary_markdown(summary: ModelSummary, env: Any,
                            links: dict[str, str] | None = None) -> str:
    """The Markdown table of templates/summary.md.j2 rendered in the Jinja environment `env`.

    `links` maps a layer class qualname to the URL of its page (the site knows them).
    """
    template = env.get_template("summary.md.j2")
    return str(template.render(summary=summary, links=links or {}, format_shape=format_shape,
                               format_count=format_count, format_call=format_call))
