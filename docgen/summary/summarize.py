"""A model's layers, output shapes, parameters and MACs, from source alone.

Assembles the static evaluation (evaluate.py builds the module tree from the constructor code
and runs `forward` over symbolic shapes) into a frozen `ModelSummary`, and renders it as a
rich table, JSON or Markdown. The site calls `summarize_model` / `summarize_config`.
"""

from __future__ import annotations

import logging
from typing import Any

from docgen.classes.resolve import ModuleIndex, Resolver
from docgen.core.config import DEFAULT_MODULE_ROOT, Config
from docgen.core.errors import ConfigError
from docgen.core.names import short_name
from docgen.core.records import (
    Diagnostic,
    DistributionInfo,
    LayerRow,
    Location,
    ModelSummary,
    Severity,
)
from docgen.models.reader import (
    DEFAULT_INPUT,
    ForwardStep,
    InputShapes,
    LayerNode,
    ModelReading,
    read_model,
)
from docgen.models.steps import FUNCTION, LIBRARY_ROOTS

log = logging.getLogger(__name__)

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


def summarize_model(resolver: Resolver, model: str,
                    input_shape: InputShapes | None = DEFAULT_INPUT,
                    module_root: str = DEFAULT_MODULE_ROOT) -> ModelSummary:
    """The summary of `model` (`package.module:Class` or `:builder`) for one input shape, or
    one shape per input of its forward; None: the input the model declares (its timm
    pretrained cfg's input_size), else DEFAULT_INPUT."""
    return summary_from_reading(read_model(resolver, model, input_shape, module_root),
                                resolver.index.sources.distributions)


def summary_from_reading(reading: ModelReading,
                         distributions: tuple[DistributionInfo, ...] = ()) -> ModelSummary:
    """The summary's rows and totals from the model reader's records.

    One row per layer, depth first; after a layer's subtree, one row per functional step of
    its forward (`x + identity`, `torch.flatten`, attention matmuls) when the layer's class is
    the model's own (torch.nn layers are leaves: their insides are the layer). A step's MACs
    are taken out of its caller's row, so every MAC is counted in exactly one row.
    """
    layers = {layer.path: layer for layer in reading.layers}
    steps: dict[str, list[ForwardStep]] = {}
    for step in reading.steps:
        caller = layers.get(step.caller)
        if step.kind == FUNCTION and caller is not None and not _is_library(caller.qualname):
            steps.setdefault(step.caller, []).append(step)
    rows: list[LayerRow] = []
    for layer in reading.layers:
        rows.append(_layer_row(layer, steps.get(layer.path, [])))
    rows = _place_steps(rows, steps)
    params = _total(r.params for r in rows)
    if not reading.is_built_completely:
        params = None
    macs = _total(r.macs for r in rows) if reading.is_complete else None
    return ModelSummary(
        model=reading.model,
        input_shape=reading.input_shape,
        more_inputs=reading.more_inputs,
        rows=tuple(rows),
        output_shapes=reading.output_shapes,
        total_params=params,
        trainable_params=None if params is None else _total(r.trainable for r in rows),
        total_buffers=_total(_buffer_count(layer) for layer in reading.layers),
        total_macs=macs,
        param_bytes=None if params is None else params * BYTES_PER_PARAM,
        diagnostics=reading.diagnostics,
        distributions=distributions,
        known_params=sum(r.params or 0 for r in rows),
        known_macs=sum(r.macs or 0 for r in rows),
        rows_without_params=sum(1 for r in rows if r.params is None),
        rows_without_macs=sum(1 for r in rows if r.macs is None),
    )


def summarize_config(cfg: Config, input_shape: InputShapes | None = DEFAULT_INPUT,
                     cache: Any = None) -> ModelSummary:
    """Open the sources `cfg` names and summarise its model; `cache` (an AnalysisCache) keeps
    the modules' analyses between runs."""
    from docgen.classes.project import open_project_sources

    if not cfg.model:
        raise ConfigError("no model given (use MODULE:CLASS or MODULE:builder)")
    sources = open_project_sources(cfg)
    index = ModuleIndex(sources, cache.get if cache else None, cache.put if cache else None)
    return summarize_model(Resolver(index), cfg.model, input_shape, cfg.module_root)


def _is_library(qualname: str) -> bool:
    return qualname.split(".")[0] in LIBRARY_ROOTS


def _layer_row(layer: LayerNode, steps: list[ForwardStep]) -> LayerRow:
    macs = layer.macs
    if macs is not None:
        for step in steps:
            macs = None if step.macs is None else macs - step.macs
            if macs is None:
                break
    return LayerRow(
        path=layer.path, depth=layer.depth, qualname=layer.qualname, call=layer.call,
        location=layer.location, output_shapes=layer.output_shapes, params=layer.params,
        trainable=layer.trainable, macs=macs, ops=layer.ops, tensors=layer.tensors,
        notes=layer.notes)


def _step_row(step: ForwardStep, depth: int) -> LayerRow:
    notes = list(step.notes)
    if step.output_shapes is None and not notes:
        notes.append("output shape not derived")
    return LayerRow(
        path=step.caller, depth=depth, qualname=step.target, call=step.text,
        location=step.location, output_shapes=step.output_shapes, params=0, trainable=0,
        macs=step.macs, ops=(), tensors=(), notes=tuple(notes), kind=FUNCTION)


def _place_steps(rows: list[LayerRow], steps: dict[str, list[ForwardStep]]) -> list[LayerRow]:
    """Each layer's step rows go right after the rows of its subtree."""
    out: list[LayerRow] = []
    open_layers: list[LayerRow] = []

    def close_until(depth: int) -> None:
        while open_layers and open_layers[-1].depth >= depth:
            layer = open_layers.pop()
            out.extend(_step_row(s, layer.depth + 1) for s in steps.get(layer.path, []))

    for row in rows:
        close_until(row.depth)
        out.append(row)
        open_layers.append(row)
    close_until(0)
    return out


def _total(values: Any) -> int | None:
    total = 0
    for value in values:
        if value is None:
            return None
        total += value
    return total


def _buffer_count(layer: LayerNode) -> int | None:
    return _total(None if t.shape is None else _numel(t.shape)
                  for t in layer.tensors if t.is_buffer)


def _numel(shape: tuple[int, ...]) -> int:
    count = 1
    for dim in shape:
        count *= dim
    return count


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


def format_total(summary: ModelSummary, what: str) -> str:
    """A total, or "at least N (k layers unknown)" when some rows lack their figure."""
    if what == "params":
        exact, known, missing = (summary.total_params, summary.known_params,
                                 summary.rows_without_params)
    else:
        exact, known, missing = summary.total_macs, summary.known_macs, summary.rows_without_macs
    if exact is not None:
        return f"{exact:,}"
    why = f"{missing} row{'s' if missing != 1 else ''} unknown" if missing \
        else "incomplete: see the warnings"
    return f"at least {known:,} ({why})"


def row_label(row: LayerRow) -> str:
    """The first cell of a row: the layer path, or the call of a functional step."""
    if row.kind == FUNCTION:
        return f"· {row.call or short_name(row.qualname)}"
    return row.path or "(model)"


def _location(loc: Location | None) -> str | None:
    return str(loc) if loc else None


def summary_to_json(summary: ModelSummary) -> dict[str, Any]:
    from docgen.core.jsonio import SUMMARY_SCHEMA

    return {
        "schema": SUMMARY_SCHEMA,
        "model": summary.model,
        "input_shape": list(summary.input_shape),
        "input_shapes": [list(summary.input_shape), *(list(s) for s in summary.more_inputs)],
        "output_shapes": _json_shapes(summary.output_shapes),
        "total_params": summary.total_params,
        "trainable_params": summary.trainable_params,
        "total_buffers": summary.total_buffers,
        "total_macs": summary.total_macs,
        "known_params": summary.known_params,
        "known_macs": summary.known_macs,
        "rows_without_params": summary.rows_without_params,
        "rows_without_macs": summary.rows_without_macs,
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
        "path": row.path, "depth": row.depth, "kind": row.kind, "class": row.qualname,
        "call": row.call,
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

    inputs = format_shape((summary.input_shape, *summary.more_inputs))
    table = Table(title=f"{summary.model}  input {inputs}",
                  title_justify="left")
    cells = [("  " * row.depth + row_label(row), short_name(row.qualname),
              "" if row.kind == FUNCTION else format_call(row.call),
              format_shape(row.output_shapes), format_count(row.params),
              format_count(row.trainable), format_count(row.macs)) for row in summary.rows]
    for i, (col, justify) in enumerate((
            ("Layer", "left"), ("Type", "left"), ("Constructor", "left"),
            ("Output shape", "right"), ("Params", "right"), ("Trainable", "right"),
            ("MACs", "right"))):
        # Shapes and counts are never cut or folded: their columns are as wide as their
        # widest cell; names and calls fold onto more lines when the terminal is narrow.
        is_figure = justify == "right"
        widest = max([len(col), *(len(c[i]) for c in cells)])
        table.add_column(col, justify=justify,  # type: ignore[arg-type]
                         overflow="ignore" if is_figure else "fold", no_wrap=is_figure,
                         min_width=widest if is_figure else None)
    for name, kind, call, *figures in cells:
        table.add_row(escape(name), kind, escape(call), *figures)
    return Group(table, Text(_totals_text(summary)), *_warning_lines(summary.diagnostics))


def table_width(table: Any, available: int, is_terminal: bool) -> int:
    """The width to print `table` at: never so narrow that a shape or a count is cut.

    A terminal keeps its width while the table fits (long names fold); a pipe or a file
    gets the table's natural width, so every line stays one line.
    """
    from rich.console import Console

    measure = Console(width=10_000).measure(table)
    return max(available, measure.minimum) if is_terminal else max(available, measure.maximum)


def _totals_text(summary: ModelSummary) -> str:
    macs = summary.total_macs
    mem = summary.param_bytes
    caveat = [] if summary.is_complete else [
        "Incomplete: the warnings below were not evaluated; counts cover what was."]
    return "\n".join([
        *caveat,
        f"Total params:      {format_total(summary, 'params')}",
        f"Trainable params:  {format_count(summary.trainable_params)}",
        f"Buffers (numel):   {format_count(summary.total_buffers)}",
        f"Total MACs:        {format_total(summary, 'macs')}"
        + ("" if macs is None else f" ({macs / 1e9:.3f} G)"),
        "Params size:       " + ("?" if mem is None
                                 else f"{mem / 2**20:.2f} MiB ({mem / 1e6:.2f} MB)"),
        f"Output shape:      {format_shape(summary.output_shapes)}",
    ])


def _warning_lines(diagnostics: tuple[Diagnostic, ...]) -> list[Any]:
    from rich.text import Text

    errors = [d for d in diagnostics if d.severity == Severity.ERROR]
    warnings = [d for d in diagnostics if d.severity == Severity.WARNING]
    lines: list[Any] = []
    if errors:
        lines += [Text(f"{len(errors)} operator(s) reject the input (torch would raise):",
                       style="red"), *(Text(f"  {d}", style="red") for d in errors)]
    if warnings:
        lines += [Text(f"{len(warnings)} thing(s) could not be evaluated:", style="yellow"),
                  *(Text(f"  {d}", style="yellow") for d in warnings)]
    return lines


def render_summary_markdown(summary: ModelSummary, env: Any,
                            links: dict[str, str] | None = None) -> str:
    """The Markdown table of templates/summary.md.j2 rendered in the Jinja environment `env`.

    `links` maps a layer class qualname to the URL of its page (the site knows them).
    """
    template = env.get_template("summary.md.j2")
    return str(template.render(summary=summary, links=links or {}, format_shape=format_shape,
                               format_count=format_count, format_call=format_call,
                               format_total=format_total, row_label=row_label))
