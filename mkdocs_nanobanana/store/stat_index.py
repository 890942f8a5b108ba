"""What a build knows of a user's files by their path, trusted while each file's Stat
(file_stat.py) is the one it was learned at: read once from one JSON file of the cache,
added to as the build learns, merged at its end (under the cache's lock, with what
another build sharing the cache wrote meanwhile) into that file. This machine's only:
stat fields mean nothing elsewhere, so it is never sent to the remote tier.

Two indexes are made of it: the facts of the site's own pictures (own_index.py) and the
digests of the pictures cards are drawn on (picture_digests.py). Each says how one of
its values is written in the file (``_encode``) and read back, every field typed before
use (``_decode``).
"""

from __future__ import annotations

import hashlib
import json
import threading
from pathlib import Path
from typing import Any, Generic, TypeVar

from .cache import Cache
from .file_stat import Stat

__all__: list[str] = []

V = TypeVar("V")


def file_sha256(path: str) -> str:
    """A file's sha256, read in chunks (hashlib.file_digest is Python 3.11's; 3.10 is supported)."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


class StatIndex(Generic[V]):
    """Values by path, each with the Stat it was learned at. Subclasses name the file
    (``NAME``), its format's ``VERSION`` and the cache lock that guards it (``LOCK``)."""

    NAME: str
    VERSION: int
    LOCK: str

    def __init__(self, cache: Cache) -> None:
        self.cache = cache
        self.path = cache.root / self.NAME
        self._lock = threading.Lock()
        self._known: dict[str, tuple[Stat, V]] | None = None  # read on first use
        self._learned: dict[str, tuple[Stat, V]] = {}

    def _decode(self, raw: Any) -> tuple[Stat, V] | None:
        """One entry of the file, every field typed before use; None if it is not one."""
        raise NotImplementedError

    def _encode(self, stat: Stat, value: V) -> list[Any]:
        raise NotImplementedError

    def _read(self) -> dict[str, tuple[Stat, V]]:
        try:
            data = json.loads(self.path.read_bytes().decode("utf-8"))
        except (OSError, ValueError):
            return {}
        files = data.get("files") if isinstance(data, dict) and data.get("version") == self.VERSION else None
        if not isinstance(files, dict):
            return {}
        return {str(path): entry for path, raw in files.items() if (entry := self._decode(raw)) is not None}

    def _loaded(self) -> dict[str, tuple[Stat, V]]:
        with self._lock:
            if self._known is None:
                self._known = self._read()
            return self._known

    def known(self, path: str, stat: Stat) -> V | None:
        """The value of ``path`` if its stat is the one it was learned at (in this build
        or an earlier one)."""
        known = self._loaded()
        with self._lock:
            entry = self._learned.get(path) or known.get(path)
        return entry[1] if entry is not None and entry[0] == stat else None

    def remember(self, path: str, stat: Stat, value: V) -> None:
        with self._lock:
            self._learned[path] = (stat, value)

    def save(self) -> None:
        """Merge what this build learned into the file; nothing to do when it learned
        nothing. OSError if the cache cannot take it: the next build learns them again."""
        with self._lock:
            learned, self._learned = dict(self._learned), {}
        if not learned:
            return
        with self.cache.lock(self.LOCK):
            files = {**self._read(), **learned}
            self._write(files)
        with self._lock:
            self._known = files

    def _write(self, files: dict[str, tuple[Stat, V]]) -> None:
        body = {path: self._encode(stat, value) for path, (stat, value) in sorted(files.items())}
        text = json.dumps({"version": self.VERSION, "files": body}, separators=(",", ":"), ensure_ascii=False)
        self.cache.temp.atomic_write(Path(self.path), (text + "\n").encode("utf-8"))
