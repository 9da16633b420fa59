"""Acceptance: torchvision 0.28.0's own weight metadata, read statically from the wheel.

Every builder that has a weights enum is built with its first weights entry that states
figures (`weights=ResNet50_Weights.IMAGENET1K_V1`, which sets num_classes, image_size and the
like as the real builder does) at the entry's evaluation size, and compared with the entry's
`num_params` and `_ops` (GMACs, 3 decimals: torchvision's flop counter convention).

- classification, segmentation, video and optical-flow builders: exact on both (RAFT with
  its two images, see FLOW_SIZE);
- detection: parameters exact when the module tree is built whole; MACs exact when complete,
  otherwise no total (warnings); a clear error at worst, never a crash.

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
# The optical-flow entries name no crop size; their `_ops` are for two 512x512 images: solving
# MACs(h, w) = a * hw + b * (hw)^2 (the correlation volume is quadratic) on figures docgen
# computes at other sizes (which the runtime oracle confirms: raft_small 8.789 G at 224x224,
# 47.096 G at 360x720) gives h * w = 512 * 512 for raft_small and raft_large alike.
FLOW_SIZE = 512


@dataclass(frozen=True)
class Case:
    module: str  # torchvision.models.resnet
    builder: str
    weights: str  # ResNet50_Weights.IMAGENET1K_V1
    num_params: int
    ops: float
    size: tuple[int, ...] | tuple[tuple[int, ...], ...]  # the evaluation input(s)

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


def _eval_size(call: ast.AST | None, consts: dict[str, Any], video: bool
               ) -> tuple[int, ...] | tuple[tuple[int, ...], ...]:
    """The image size the entry's transforms evaluate at (crop_size, else resize_size); two
    images for optical flow."""
    sizes = {}
    if isinstance(call, ast.Call):
        sizes = {k.arg: _literal(k.value, consts) for k in call.keywords}
    if isinstance(call, ast.Name) and call.id == "OpticalFlow":
        return ((1, 3, FLOW_SIZE, FLOW_SIZE),) * 2
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
                    ) -> dict[str, list[tuple[str, Any, Any, Any]]]:
    out: dict[str, list[tuple[str, Any, Any, Any]]] = {}
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


DENSE = ("segmentation", "video", "optical_flow")


@pytest.mark.wheels
@pytest.mark.parametrize("case", [c for c in CASES if c.family in DENSE], ids=lambda c: c.builder)
def test_segmentation_video_and_flow_builders_are_exact(resolver: Resolver, case: Case) -> None:
    """IntermediateLayerGetter (`del return_layers[name]`, OrderedDict outputs), interpolate to
    the input's size, tensor_split, repeat_interleave, RAFT's two inputs, grid_sample, unfold."""
    summary = summary_from_reading(read_model(resolver, case.spec, case.size))
    warnings = [str(d) for d in summary.diagnostics if d.severity.value == "warning"]
    assert summary.is_complete, warnings[:3]
    assert summary.total_params == case.num_params
    assert summary.total_macs is not None
    assert round(summary.total_macs / 1e9, 3) == case.ops


@pytest.mark.wheels
@pytest.mark.parametrize("case", [c for c in CASES if c.family == "detection"],
                         ids=lambda c: c.builder)
def test_detection_builders_are_honest(resolver: Resolver, case: Case) -> None:
    """The module tree is evaluated whole (parameters exact); what forward does with the
    data (proposals, NMS over boxes whose number depends on the image) is never claimed."""
    try:
        summary = summary_from_reading(read_model(resolver, case.spec, case.size))
    except DocgenError as exc:
        assert str(exc) and "Traceback" not in str(exc)  # a clear error, never a traceback
        return
    if summary.total_params is not None:
        assert summary.total_params == case.num_params
    # torch runs every builder at its size: no operator may be said to reject its input
    assert not [str(d) for d in summary.diagnostics if d.severity.value == "error"]
    if summary.is_complete:
        assert summary.total_macs is not None
        assert round(summary.total_macs / 1e9, 3) == case.ops
    else:
        assert summary.total_macs is None
        assert any(d.severity.value == "warning" for d in summary.diagnostics)
        # "at least N": what is known never exceeds the truth (nothing counted twice, nothing
        # that ran while building: SSD probes its backbone in __init__)
        assert round(summary.known_macs / 1e9, 3) <= case.ops
