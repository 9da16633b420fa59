"""Names of things: the short form of a dotted qualified name, computed in one place."""

from __future__ import annotations


def short_name(qualname: str) -> str:
    """`torch.nn.modules.conv.Conv2d` -> `Conv2d`."""
    return qualname.rsplit(".", 1)[-1]


def parent_name(qualname: str) -> str:
    """`torch.nn.modules.conv.Conv2d` -> `torch.nn.modules.conv` ('' for a top-level name)."""
    return qualname.rpartition(".")[0]
