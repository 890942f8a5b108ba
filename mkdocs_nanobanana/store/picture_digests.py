"""The sha256 of each page's own picture a card is drawn on, by its path and stat, so a
warm build names those cards without reading the pictures: ``<cache_dir>/card-pictures.json``.

A card on a page's own picture (front matter ``image:``, or its first Markdown image) is
named by the picture's bytes; hashing every photo on every build would read them all
for nothing. As store/own_index.py does for responsive images, the digest is kept with
the stat fields that change whenever the bytes can (size, mtime and ctime in
nanoseconds); a picture whose stat differs is hashed again. This machine's only (stat
fields mean nothing elsewhere); written once a build, when something was learned, under
the cache's lock, merged with what another build wrote meanwhile.
"""

from __future__ import annotations

import hashlib
import json
import threading
from pathlib import Path

from .cache import Cache
from .file_stat import Stat

__all__: list[str] = []

DIGESTS_NAME = "card-pictures.json"
DIGESTS_VERSION = 1
DIGESTS_LOCK = "0" * 62 + "cp"  # a lock name no sha256 key is likely to be (see Cache.lock)


class PictureDigests:
    """Digests read once; ``sha256`` learns what it must hash; ``save`` writes what it learned."""

    def __init__(self, cache: Cache) -> None:
        self.cache = cache
        self.path = cache.root / DIGESTS_NAME
        self._lock = threading.Lock()
        self._known: dict[str, tuple[Stat, str]] | None = None
        self._learned: dict[str, tuple[Stat, str]] = {}

    def _read(self) -> dict[str, tuple[Stat, str]]:
        try:
            data = json.loads(self.path.read_bytes().decode("utf-8"))
        except (OSError, ValueError):
            return {}
        files = data.get("files") if isinstance(data, dict) and data.get("version") == DIGESTS_VERSION else None
        out: dict[str, tuple[Stat, str]] = {}
        for path, raw in (files.items() if isinstance(files, dict) else ()):
            if (isinstance(raw, list) and len(raw) == 4 and all(isinstance(v, int) for v in raw[:3])
                    and isinstance(raw[3], str) and len(raw[3]) == 64):
                out[str(path)] = (Stat(raw[0], raw[1], raw[2]), raw[3])
        return out

    def sha256(self, path: str) -> str:
        """The picture's sha256: known by its stat, else read and hashed (and learned).
        OSError if it cannot be read."""
        stat = Stat.of(path)
        if stat is None:
            raise FileNotFoundError(path)
        with self._lock:
            if self._known is None:
                self._known = self._read()
            entry = self._learned.get(path) or self._known.get(path)
        if entry is not None and entry[0] == stat:
            return entry[1]
        digest = hashlib.sha256()
        with open(path, "rb") as f:
            for chunk in iter(lambda: f.read(1 << 20), b""):
                digest.update(chunk)
        with self._lock:
            self._learned[path] = (stat, digest.hexdigest())
        return digest.hexdigest()

    def save(self) -> None:
        """Merge what was learned into the file; nothing when nothing was. A cache that
        cannot take it (OSError) only means the next build hashes those pictures again."""
        with self._lock:
            learned, self._learned = dict(self._learned), {}
        if not learned:
            return
        with self.cache.lock(DIGESTS_LOCK):
            files = {**self._read(), **learned}
            body = {p: [s.size, s.mtime_ns, s.ctime_ns, d] for p, (s, d) in sorted(files.items())}
            text = json.dumps({"version": DIGESTS_VERSION, "files": body}, separators=(",", ":"), ensure_ascii=False)
            self.cache.temp.atomic_write(Path(self.path), (text + "\n").encode("utf-8"))
        with self._lock:
            self._known = files
