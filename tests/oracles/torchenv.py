"""Imports torchvision inside the oracle venv even when its C++ extension cannot load.

PyPI's torchvision 0.28.0 wheel is the CUDA build: its `_C.so` links libc10_cuda, which the
CPU torch wheel lacks, and torchvision's import then fails registering fake kernels for
`torchvision::nms` / `qnms`. The classification models never call torchvision's C++ ops, so
declaring those two schemas (no kernels) is enough to import it; any real call would fail.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import torch

_STUB_SCHEMAS = ("nms(Tensor dets, Tensor scores, float iou_threshold) -> Tensor",
                 "qnms(Tensor dets, Tensor scores, float iou_threshold) -> Tensor")
_stub_library: torch.library.Library | None = None


def import_torchvision() -> ModuleType:
    """torchvision, with the two op schemas declared when its extension does not load."""
    global _stub_library
    spec = importlib.util.find_spec("torchvision")
    if spec is None or spec.origin is None:
        raise ModuleNotFoundError("torchvision")
    if not _extension_loads(Path(spec.origin).parent / "_C.so") and _stub_library is None:
        _stub_library = torch.library.Library("torchvision", "DEF")
        for schema in _STUB_SCHEMAS:
            _stub_library.define(schema)
    import torchvision

    return torchvision


def _extension_loads(path: Path) -> bool:
    try:
        torch.ops.load_library(str(path))
    except OSError:
        return False
    return True
