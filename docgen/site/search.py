"""The class page first when a class name is searched for.

Material's search (lunr) turns every word typed into a prefix query (`relu` -> `relu*`) and
scores each match by the term's rarity (lunr's idf: how many documents hold the term, in any
field). A class name that begins longer names (`ReLU` of `ReLU6`, `Module` of `ModuleList`,
`Linear` of `LinearCrossEntropyLoss`) is the common word, so the longer names' pages
outranked its own page. Each such class page gets a search boost that puts it ahead of every
page whose name it begins, by the same measure lunr uses; nothing else in the index changes.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from typing import Any

# how far ahead of the strongest longer name a class page is put (Material tokenizes the
# text of sections a little differently from this count; 1.25 left Module behind ModuleWrapper)
MARGIN = 2.0


# a class page docgen wrote: `classes/<qualified name>.html`, under the generated folder
_CLASS_PAGE = re.compile(r"(?:^|/)classes/(?!index\.html$)[^/#]+\.html$")


def rank_exact_names(entries: list[dict[str, Any]], separator: str) -> int:
    """Raise the `boost` of the class pages (whole pages, not sections, with a one-word
    title) whose name begins another class page's name, so that lunr ranks each above the
    longer names it begins; returns how many were raised. `separator` is the search index's
    tokenizer pattern."""
    split = re.compile(separator)

    def words(text: Any) -> set[str]:
        return {w for w in split.split(str(text or "").lower()) if w}

    # lunr counts a document once per field that holds the term
    found: Counter[str] = Counter()
    for entry in entries:
        for field in ("title", "text"):
            found.update(words(entry.get(field)))
        found.update({str(tag).lower() for tag in entry.get("tags") or ()})
    total = len(entries)

    def idf(word: str) -> float:
        return math.log(1 + abs((total - found[word] + 0.5) / (found[word] + 0.5)))

    pages: dict[str, dict[str, Any]] = {}
    for entry in entries:
        title = words(entry.get("title"))
        if _CLASS_PAGE.search(str(entry.get("location", ""))) and len(title) == 1:
            pages.setdefault(next(iter(title)), entry)
    raised = 0
    # longest names first: a page's rivals have their final boosts when it is weighed
    for name in sorted(pages, key=len, reverse=True):
        entry = pages[name]
        boost = float(entry.get("boost", 1))
        rivals = [float(pages[other].get("boost", 1)) * idf(other) for other in pages
                  if other != name and other.startswith(name)]
        if rivals and max(rivals) * MARGIN > boost * idf(name):
            entry["boost"] = round(max(rivals) * MARGIN / idf(name), 3)
            raised += 1
    return raised


def rank_class_pages(config: Any) -> None:
    """rank_exact_names on the entries of the site's search plugin (Material's: it keeps them
    in `search_index.entries` until it writes the index after every on_post_build of a
    higher priority)."""
    for plugin in config.plugins.values():
        entries = getattr(getattr(plugin, "search_index", None), "entries", None)
        separator = getattr(getattr(plugin, "config", None), "separator", None)
        if isinstance(entries, list) and isinstance(separator, str):
            rank_exact_names(entries, separator)
