"""A model that asks the evaluator for a huge value or an endless loop: refused before it is
made, reported as a warning naming the model's line, the summary marked incomplete, and the
rest of the model read (no memory exhausted, no hang)."""

from __future__ import annotations

import tracemalloc
from pathlib import Path

import pytest

from docgen.classes.resolve import ModuleIndex, Resolver
from docgen.core.records import Severity
from docgen.models.limits import MAX_ITEMS, bounded, check_arguments, check_binary
from docgen.models.reader import read_model
from docgen.models.values import TooLarge
from docgen.sources.locate import SourceSet, SourceSpec, open_source

# Each bomb is assigned to a size of the layer after it, so the value is really needed.
BOMBS = {
    "repeat": "len([0] * 10**10)",
    "power": "10 ** 10 ** 9",
    "shift": "1 << 10**9",
    "ljust": 'len("a".ljust(10**10))',
    "list": "len(list(range(10**9)))",
    "sum": "sum(range(10**12))",
    "comprehension": "len([i for i in range(10**9)])",
    "starred": "max(*range(10**9))",
    "while": None,
}


def _model(name: str) -> str:
    expr = BOMBS[name]
    size = (["n = 4", "while True:", "    n += 1"] if expr is None else [f"n = {expr}"])
    size += ["pass"] * (3 - len(size))  # the layer that needs `n` stays on line 11
    lines = ["from torch import nn", "", "", "class Net(nn.Module):",
             "    def __init__(self):", "        super().__init__()",
             *(f"        {line}" for line in size),
             "        self.big = nn.Linear(n, 4)", "        self.ok = nn.Linear(4, 3)", "",
             "    def forward(self, x):", "        return self.ok(x)"]
    return "\n".join(lines) + "\n"


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder: Path = tmp_path_factory.mktemp("bombs")
    (folder / "bombs").mkdir()
    (folder / "bombs" / "__init__.py").write_text("")
    for name in BOMBS:
        (folder / "bombs" / f"{name}.py").write_text(_model(name))
    return folder


@pytest.mark.parametrize("name", sorted(BOMBS))
def test_a_value_too_large_is_refused_and_reported(name: str, root: Path,
                                                   real_sources: SourceSet) -> None:
    sources = SourceSet([open_source(SourceSpec("bombs", str(root))), *real_sources.trees])
    tracemalloc.start()
    try:
        reading = read_model(Resolver(ModuleIndex(sources)), f"bombs.{name}:Net", (2, 4))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 200 * 2**20, peak  # nothing near the value asked for was made
    warnings = [d for d in reading.diagnostics if d.severity == Severity.WARNING]
    assert any(d.path.endswith(f"bombs/{name}.py") and d.line in (7, 8) for d in warnings), \
        [str(d) for d in reading.diagnostics]
    assert not reading.is_complete
    # the rest of the model is read: the layer after the refused value, and the output
    paths = {node.path: node for node in reading.layers}
    assert "ok" in paths and reading.output_shapes == ((2, 3),)


def test_limits_let_ordinary_values_through() -> None:
    check_binary("mul", [0] * 10, 1000)
    check_binary("pow", 2, 64)
    check_binary("lshift", 1, 62)
    check_arguments(sum, (range(MAX_ITEMS),), {})
    assert bounded(range(5)) == [0, 1, 2, 3, 4]
    for name, left, right in (("mul", "ab", MAX_ITEMS), ("pow", 3, 10**6),
                              ("lshift", 1, 10**6)):
        with pytest.raises(TooLarge):
            check_binary(name, left, right)
    with pytest.raises(TooLarge):
        check_arguments(list, (range(10**30),), {})
    with pytest.raises(TooLarge):
        bounded(iter(range(MAX_ITEMS + 1)))
