"""What `forward` does, recorded while the evaluator runs it: submodule calls and functional steps.

A step is recorded where a module's forward (or a helper of the model's own code it calls)
calls a submodule, or calls a library function on tensors: an ATen operator (`torch.flatten`),
a `torch.*` function read from source (`torch.nn.functional.relu`), a tensor method
(`x.view`) or a Python operator on tensors (`x + identity`). A library function is opaque:
what it does inside is its own business, so nothing under it is recorded. Each step keeps the
values it received and returned and the multiply-accumulates counted while it ran.

What a library function calls while it runs (the operators, tensor methods, Python operators
and tensor indexing inside `F.multi_head_attention_forward`, and the library functions it
calls, each with their own) is kept in its step's `inner`, in call order: not steps of the
model, but the evaluated route the walk follows down to the operators. Tensor indexing
(`x[:, 0]`) is a step of its own kind, INDEX.

This module holds the recorder and its mutable records; reader.py turns them into the frozen
records other features use.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from docgen.core.records import Location
from docgen.models.values import ModuleInstance, SymTensor

MODULE = "module"
FUNCTION = "function"
INDEX = "index"  # basic indexing of a tensor (`x[:, 0]`): target operator.getitem
LIBRARY_ROOTS = ("torch",)


@dataclass(eq=False)
class TensorMethod:
    """`x.view` as a value: calling it runs the ATen operator of that name on `x`."""

    name: str
    tensor: SymTensor
    run: Any  # (args, kwargs) -> result

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.run(args, kwargs)


@dataclass(eq=False)
class StepRecord:
    """One step while it runs; `result` and the MAC figures are filled in when it ends."""

    caller: ModuleInstance | None
    kind: str
    target: str
    module: ModuleInstance | None
    arguments: tuple[tuple[str, Any], ...]
    text: str
    location: Location | None
    result: Any = None
    failure: str | None = None
    macs: int = 0
    macs_unknown: list[tuple[str, str]] = field(default_factory=list)
    macs_before: tuple[int, int] = (0, 0)
    inner: list[StepRecord] = field(default_factory=list)  # calls made while it ran


class StepRecorder:
    """Collects steps in execution order (a step is listed when it starts)."""

    def __init__(self) -> None:
        self.records: list[StepRecord] = []
        self.opaque = 0  # > 0 while a library function runs: its insides are not steps
        self.open: list[StepRecord] = []  # the library steps running, outermost first
        self.location: Location | None = None  # the statement being evaluated
        self.call_site: tuple[str, Location] | None = None  # the call expression of a layer

    def begin(self, caller: ModuleInstance | None, kind: str, target: str,
              module: ModuleInstance | None, args: tuple[Any, ...], kwargs: dict[str, Any],
              text: str, location: Location | None) -> StepRecord | None:
        if caller is None or (self.opaque and (not self.open or kind == MODULE)):
            return None
        arguments = tuple((f"#{i}", v) for i, v in enumerate(args)) + tuple(kwargs.items())
        record = StepRecord(caller, kind, target, module, arguments, text,
                            location or self.location)
        record.macs_before = (caller.macs, len(caller.macs_unknown))
        if self.opaque:
            self.open[-1].inner.append(record)
        else:
            self.records.append(record)
        if kind != MODULE:
            self.open.append(record)
        return record

    def end(self, record: StepRecord | None, result: Any, failure: str | None = None) -> None:
        if record is None:
            return
        if record in self.open:
            del self.open[self.open.index(record):]
        record.result = result
        record.failure = failure
        caller = record.caller
        if caller is not None and record.kind == FUNCTION:
            macs, unknown = record.macs_before
            record.macs = caller.macs - macs
            record.macs_unknown = caller.macs_unknown[unknown:]


def has_tensor(values: Any, depth: int = 0) -> bool:
    """Whether a tensor is among `values` (looking one level into lists, tuples and dicts)."""
    if isinstance(values, SymTensor):
        return True
    if depth > 1:
        return False
    if isinstance(values, dict):
        values = list(values.values())
    if isinstance(values, (list, tuple)):
        return any(has_tensor(v, depth + 1) for v in values)
    return False
