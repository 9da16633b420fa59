"""Helpers shared by the site tests: a synthetic package full of awkward text, link checks."""

from __future__ import annotations

import posixpath
import re
from collections.abc import Mapping
from pathlib import Path

from docgen.core.config import Config
from docgen.sources.locate import SourceSpec

# The synthetic package's stand-in for torch.nn.Module: its layers are modules to the reader.
MODULE_ROOT = "pkg.layers.Base"
EVIL = "<script>alert(1)</script> | {{ jinja }} {% if x %} `tick` *star* [a](b) &amp;"

PACKAGE = {
    "pkg/__init__.py": """
        from pkg.layers import Base, Conv, Sequential, Evil
        from pkg.net import Net
    """,
    "pkg/layers.py": '''
        from typing import Any, Optional

        class Base:
            """Root of the layers."""

            def __init__(self) -> None:
                self.training = True
                self._parameters: dict[str, Any] = {}

            def register_buffer(self, name: str, value: Optional["Tensor"]) -> None:
                """Add a buffer."""

            def forward(self, x):
                raise NotImplementedError


        class _ConvNd(Base):
            """Shared convolution code.

            A :class:`Base` subclass; see :class:`pkg.layers.Conv`.

            Args:
                cin (int): input channels, :math:`C_{in}`
            """

            _hook = None

            def __init__(self, cin: int, cout: int, kernel_size: int = 3,
                         transposed: bool = False) -> None:
                super().__init__()
                if transposed:
                    self.weight = Parameter(cout, cin)
                else:
                    self.weight = Parameter(cin, cout)
                super().__setattr__("_state", {})

            def compile(self):
                self._hook = wrap(self)


        class Conv(_ConvNd):
            """A convolution."""

            def forward(self, x):
                return x


        class Sequential(Base):
            """Layers in order."""

            def __init__(self, *layers) -> None:
                super().__init__()
                for index, layer in enumerate(layers):
                    self.add_module(str(index), layer)

            def forward(self, x):
                for layer in self._modules.values():
                    x = layer(x)
                return x


        class Evil(Base):
            """EVIL"""

            odd: "dict[str, Any]" = {"|": "{{ }}"}

            def method(self, a: "Optional[Tensor]" = "<b>|</b>", b=lambda: 1) -> "<lambda>":
                """Method EVIL"""

            def __init__(self, text: str = "`|`") -> None:
                super().__init__()
                self.label = "<img src=x onerror=alert(1)>"

            def forward(self, x):
                return x


        class Parameter:
            def __init__(self, *shape): ...
    '''.replace("EVIL", EVIL.replace('"', "'")),
    "pkg/net.py": '''
        from pkg import layers as nn


        def helper():
            return 1


        class Net(nn.Base):
            """A small network."""

            def __init__(self, classes: int = 10) -> None:
                super().__init__()
                self.features = nn.Sequential(
                    nn.Conv(3, 8, kernel_size=5),
                    nn.Evil(text="<i>|</i>"),
                    nn.Conv(8, 16),
                )
                self.head = nn.Conv(16, classes)
                self.count = helper()

            def forward(self, x):
                x = self.features(x)
                x = x.flatten(1)
                return self.head(x)
    ''',
}


def synthetic_config(root: Path, **extra: object) -> Config:
    extra.setdefault("module_root", MODULE_ROOT)
    return Config(model="pkg.net:Net", packages=("pkg",),
                  sources=(SourceSpec("pkg", str(root)),), **extra)  # type: ignore[arg-type]


def synthetic_options(root: Path) -> dict[str, object]:
    return {"model": "pkg.net:Net", "packages": "pkg", "sources": {"pkg": str(root)},
            "module_root": MODULE_ROOT}


_MD_LINK = re.compile(r"\]\(([^)\s]+)\)")
_FENCED = re.compile(r"(?ms)^( *)(`{3,}).*?^\1\2 *$")
_SVG_LINK = re.compile(r'(?:xlink:href|<a href)="([^"]+)"')


def broken_links(files: Mapping[str, str], *, directory_urls: bool = False) -> list[str]:
    """Relative Markdown links, and SVG and raw-HTML links, that point at no generated page;
    fragments (diagrams, inherited tables) are checked in the page that shows them."""
    from docgen.site.fragments import inject

    served = {_served(p, directory_urls): p for p in files}
    problems = []
    for page, text in files.items():
        if not page.endswith(".md"):
            continue
        text = inject(text, page, files.get)
        prose = _FENCED.sub("", text)  # `f(x)[0](y)` in an example is code, not a link
        for target in _MD_LINK.findall(prose):
            if "://" in target or target.startswith("#"):
                continue
            resolved = posixpath.normpath(posixpath.join(posixpath.dirname(page), target))
            if resolved.split("#")[0] not in files:
                problems.append(f"{page}: {target}")
        base = posixpath.dirname(_served(page, directory_urls))
        for target in _SVG_LINK.findall(text):
            if "://" in target or target.startswith("#"):
                continue
            full = target + "index.html" if target.endswith("/") else target
            resolved = posixpath.normpath(posixpath.join(base, full))
            if resolved not in served:
                problems.append(f"{page}: svg {target}")
    return problems


def _served(page: str, directory_urls: bool) -> str:
    if not directory_urls:
        return page[:-3] + ".html" if page.endswith(".md") else page
    if posixpath.basename(page) == "index.md":
        return posixpath.join(posixpath.dirname(page), "index.html")
    return page[:-3] + "/index.html"


def with_diagrams(files: Mapping[str, str], page: str) -> str:
    """A generated page with its diagram fragments put in, as the built HTML shows them."""
    from docgen.site.fragments import inject

    def read(path: str) -> str | None:
        return files.get(path) if ".diagram-" in path else None

    return inject(files[page], page, read)
