"""timm 1.0.31 against the runtime oracle (tests/data/oracles/counts/timm-1.0.31.json).

The oracle was recorded in a test-only venv with torch and timm (`timm.create_model(name)`,
parameters and MACs by torch.utils.flop_counter); docgen reads the same models statically.
What is held here: no model is wrong while the summary says it is complete, every model that
is not exact says so (warnings, no exact total), and the exact ones stay exact (a floor that
only rises as the evaluator grows).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from docgen.classes.resolve import ModuleIndex, Resolver
from docgen.core.errors import DocgenError
from docgen.models.reader import read_model
from docgen.sources.locate import SourceSet, SourceSpec, fetch_requirement, open_source
from docgen.summary.summarize import summary_from_reading

ORACLE = Path(__file__).parent / "data" / "oracles" / "counts" / "timm-1.0.31.json"
EXACT_FLOOR = 22  # measured: 22 of 38 exact; the rest honestly incomplete or a clear error


def _models() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(ORACLE.read_text(encoding="utf-8"))
    models: dict[str, Any] = data["models"]
    return models


@pytest.fixture(scope="module")
def resolver(real_wheels: dict[str, Path]) -> Resolver:
    try:
        timm = fetch_requirement("timm==1.0.31")
    except Exception as exc:  # pragma: no cover - depends on the machine
        pytest.skip(f"timm wheel unavailable: {exc}")
    sources = SourceSet([open_source(SourceSpec("torch", str(real_wheels["torch"]))),
                         open_source(SourceSpec("timm", str(timm)))])
    return Resolver(ModuleIndex(sources))


def _spec(resolver: Resolver, name: str, record: dict[str, Any]) -> str:
    """The builder's module: where `timm.models.<name>` resolves (registry name = function)."""
    target = resolver.resolve_absolute(f"timm.models.{name}")
    module = target.qualname.rpartition(".")[0] if target else record["type"].rpartition(".")[0]
    return f"{module}:{name}"


@pytest.mark.wheels
def test_timm_models_are_exact_or_honest(resolver: Resolver) -> None:
    exact, problems = [], []
    for name, record in sorted(_models().items()):
        try:
            reading = read_model(resolver, _spec(resolver, name, record), tuple(record["input"]))
        except DocgenError as exc:
            assert str(exc) and "Traceback" not in str(exc)
            continue
        summary = summary_from_reading(reading)
        if summary.total_params == record["num_params"] and summary.total_macs == record["macs"]:
            exact.append(name)
        elif summary.is_complete:
            problems.append(f"{name}: complete but {summary.total_params} params, "
                            f"{summary.total_macs} MACs; oracle {record['num_params']}, "
                            f"{record['macs']}")
        else:
            assert summary.total_params is None or summary.total_macs is None \
                or summary.total_params != record["num_params"] \
                or summary.total_macs != record["macs"]
            assert any(d.severity.value == "warning" for d in summary.diagnostics), name
    assert not problems
    assert len(exact) >= EXACT_FLOOR, exact
