"""MkDocs hooks `docgen build` adds to the configuration it runs MkDocs with (its own plugin is
left out there, the pages being generated already): fragments read from the docs folder."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from docgen.site.fragments import inject


def on_post_page(output: str, *, page: Any, config: Any) -> str:
    docs = Path(config["docs_dir"])

    def read(path: str) -> str | None:
        file = docs / path
        return file.read_text(encoding="utf-8") if file.is_file() else None

    return inject(output, page.file.src_uri, read)
