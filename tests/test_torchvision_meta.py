"""Acceptance: torchvision 0.28.0's own weight metadata, read statically from the wheel.

Every builder that has a weights enum is built with its first weights entry that states
figures (`weights=ResNet50_Weights.IMAGENET1K_V1`, which sets num_classes, image_size and the
like as the real builder does) at the entry's evaluation size, and compared with the entry's
`num_params` and `_ops` (GMACs, 3 decimals: torchvision's flop counter convention).

- classification builders: exact on both;
- segmentation, video, optical flow: run without a traceback; exact when the summary says it
  is complete, otherwise honestly incomplete (warnings, no total given as exact);
- detection: an honest result or a clear error, never a crash, never wrong while complete.

Nothing here imports torch or torchvision; the expected figures are the wheel's own.
"""

from __future__ import annotations

import ast
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from docgen.classes.resolve import ModuleIndex, Resolver
from docgen.core.errors import DocgenError
from docgen.models.reader import read_model
from docgen.sources.locate import SourceSet, fetch_requirement
from docgen.summary.summarize import summary_from_reading
from tests.conftest import TORCHVISION_REQ

VIDEO_FRAMES = 16  # torchvision's video `_ops` are for 16-frame clips


@dataclass(frozen=True)
class Case:
    module: str  # torchvision.models.resnet
    builder: str
    weights: str  # ResNet50_Weights.IMAGENET1K_V1
    num_params: int
    ops: float
    size: tuple[int, ...]  # the evaluation input

    @property
    def family(self) -> str:
        parts = self.module.split(".")
        return parts[2] if len(parts) > 3 else "classification"

    @property
    def spec(self) -> str:
        return f"{self.module}:{self.builder}(weights={self.weights})"


def _constants(tree: ast.Module) -> dict[str, Any]:
    """Module-level literals and dicts of literals (`_COMMON_META = {...}`)."""
    out: dict[str, Any] = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name):
            out[node.targets[0].id] = _literal(node.value, out)
    return out


def _literal(node: ast.AST, consts: dict[str, Any]) -> Any:
    if isinstance(node, ast.Name):
        return consts.get(node.id)
    if isinstance(node, ast.Dict):
        value: dict[Any, Any] = {}
        for key, item in zip(node.keys, node.values, strict=True):
            if key is None:
                value.update(_literal(item, consts) or {})
            elif isinstance(key, ast.Constant):
                value[key.value] = _literal(item, consts)
        return value
    try:
        return ast.literal_eval(node)  # type: ignore[arg-type]
    except (ValueError, TypeError, SyntaxError):
        return None


def _eval_size(call: ast.AST | None, consts: dict[str, Any], video: bool) -> tuple[int, ...]:
    """The image size the entry's transforms evaluate at (crop_size, else resize_size)."""
    sizes = {}
    if isinstance(call, ast.Call):
        sizes = {k.arg: _literal(k.value, consts) for k in call.keywords}
    size = sizes.get("crop_size") or sizes.get("resize_size") or 224
    if isinstance(size, (list, tuple)):
        h, w = (size[0], size[-1])
    else:
        h = w = size
    return (1, 3, VIDEO_FRAMES, h, w) if video else (1, 3, h, w)


def _cases(wheel: Path) -> list[Case]:
    cases = []
    with zipfile.ZipFile(wheel) as zf:
        names = sorted(n for n in zf.namelist()
                       if n.startswith("torchvision/models/") and n.endswith(".py"))
        for name in names:
            tree = ast.parse(zf.read(name))
            consts = _constants(tree)
            module = name[:-3].replace("/", ".")
            entries = _weight_entries(tree, consts, ".video." in module)
            for builder, weights_class in _builders(tree):
                first = next((e for e in entries.get(weights_class, []) if e[1] is not None),
                             None)
                if first is not None:
                    entry, params, ops, size = first
                    cases.append(Case(module, builder, f"{weights_class}.{entry}", params,
                                      ops, size))
    return cases


def _weight_entries(tree: ast.Module, consts: dict[str, Any], video: bool
                    ) -> dict[str, list[tuple[str, Any, Any, tuple[int, ...]]]]:
    out: dict[str, list[tuple[str, Any, Any, tuple[int, ...]]]] = {}
    for node in tree.body:
        if not (isinstance(node, ast.ClassDef) and node.name.endswith("_Weights")):
            continue
        for stmt in node.body:
            if isinstance(stmt, ast.Assign) and isinstance(stmt.value, ast.Call):
                keywords = {k.arg: k.value for k in stmt.value.keywords}
                meta = _literal(keywords["meta"], consts) if "meta" in keywords else {}
                meta = meta or {}
                target = stmt.targets[0]
                assert isinstance(target, ast.Name)
                out.setdefault(node.name, []).append((
                    target.id, meta.get("num_params"), meta.get("_ops"),
                    _eval_size(keywords.get("transforms"), consts, video)))
    return out


def _builders(tree: ast.Module) -> list[tuple[str, str]]:
    out = []
    for node in tree.body:
        if isinstance(node, ast.FunctionDef) and not node.name.startswith("_"):
            for arg in node.args.kwonlyargs:
                if arg.arg == "weights" and arg.annotation is not None:
                    text = ast.unparse(arg.annotation)
                    out.append((node.name, text.removeprefix("Optional[").removesuffix("]")))
    return out


def _all_cases() -> list[Case]:
    try:
        return _cases(fetch_requirement(TORCHVISION_REQ))
    except Exception:  # pragma: no cover - no wheel on this machine: nothing to compare
        return []


CASES = _all_cases()


@pytest.fixture(scope="module")
def resolver(real_sources: SourceSet) -> Resolver:
    return Resolver(ModuleIndex(real_sources))


def test_the_wheel_gives_cases_of_every_family() -> None:
    if not CASES:
        pytest.skip("torchvision wheel unavailable")
    families = {c.family for c in CASES}
    assert {"classification", "segmentation", "video", "detection", "optical_flow"} <= families
    assert sum(c.family == "classification" for c in CASES) >= 70


@pytest.mark.wheels
@pytest.mark.parametrize("case", [c for c in CASES if c.family == "classification"],
                         ids=lambda c: c.builder)
def test_classification_builders_are_exact(resolver: Resolver, case: Case) -> None:
    summary = summary_from_reading(read_model(resolver, case.spec, case.size))
    warnings = [str(d) for d in summary.diagnostics if d.severity.value == "warning"]
    assert summary.is_complete, warnings[:3]
    assert summary.total_params == case.num_params
    assert summary.total_macs is not None
    assert round(summary.total_macs / 1e9, 3) == case.ops


@pytest.mark.wheels
@pytest.mark.parametrize("case", [c for c in CASES if c.family != "classification"],
                         ids=lambda c: c.builder)
def test_other_builders_are_exact_or_honestly_incomplete(resolver: Resolver,
                                                         case: Case) -> None:
    try:
        summary = summary_from_reading(read_model(resolver, case.spec, case.size))
    except DocgenError as exc:
        assert case.family == "detection", str(exc)  # a clear error, never a traceback
        assert str(exc)
        return
    if summary.is_complete:
        assert summary.total_params == case.num_params
        assert summary.total_macs is not None
        assert round(summary.total_macs / 1e9, 3) == case.ops
    else:
        assert summary.total_macs is None or summary.total_params is None
        assert any(d.severity.value == "warning" for d in summary.diagnostics)
