"""The content-addressed store: Python values by key, checksummed and written atomically.

Entries are written to a temporary file and renamed into place (safe against concurrent runs
and interruptions) and carry a checksum: a damaged entry is rebuilt, never trusted.
"""

from __future__ import annotations

import hashlib
import logging
import os
import pickle
import tempfile
from pathlib import Path

log = logging.getLogger(__name__)

_MAGIC = b"docgen-analysis-1\n"


class BlobStore:
    """Python values by key in `root/xx/<key>`: checksummed, written atomically."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.hits = 0
        self.misses = 0

    def _file(self, key: str) -> Path:
        return self.root / key[:2] / key

    def load(self, key: str) -> object | None:
        file = self._file(key)
        try:
            blob = file.read_bytes()
        except OSError:
            self.misses += 1
            return None
        try:
            if not blob.startswith(_MAGIC):
                raise ValueError("bad header")
            digest, payload = blob[len(_MAGIC):len(_MAGIC) + 64], blob[len(_MAGIC) + 64:]
            if hashlib.sha256(payload).hexdigest().encode() != digest:
                raise ValueError("checksum mismatch")
            value = pickle.loads(payload)
        except Exception as exc:  # any damage means: rebuild
            log.warning("cache entry %s is damaged (%s); rebuilding it", file, exc)
            self.misses += 1
            return None
        self.hits += 1
        return value

    def store(self, key: str, value: object) -> None:
        payload = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
        blob = _MAGIC + hashlib.sha256(payload).hexdigest().encode() + payload
        file = self._file(key)
        try:
            file.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=file.parent, prefix=".tmp-")
            with os.fdopen(fd, "wb") as handle:
                handle.write(blob)
            os.replace(tmp, file)
        except OSError as exc:
            log.warning("cannot write cache entry %s: %s", file, exc)
