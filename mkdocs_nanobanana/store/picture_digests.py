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

from typing import Any

from .file_stat import Stat
from .stat_index import StatIndex, file_sha256

__all__: list[str] = []

DIGESTS_NAME = "card-pictures.json"
DIGESTS_VERSION = 1
DIGESTS_LOCK = "0" * 62 + "cp"  # a lock name no sha256 key is likely to be (see Cache.lock)


class PictureDigests(StatIndex[str]):
    """Digests read once; ``sha256`` learns what it must hash; ``save`` writes what it learned."""

    NAME, VERSION, LOCK = DIGESTS_NAME, DIGESTS_VERSION, DIGESTS_LOCK

    def _decode(self, raw: Any) -> tuple[Stat, str] | None:
        if (isinstance(raw, list) and len(raw) == 4 and all(isinstance(v, int) for v in raw[:3])
                and isinstance(raw[3], str) and len(raw[3]) == 64):
            return Stat(raw[0], raw[1], raw[2]), raw[3]
        return None

    def _encode(self, stat: Stat, digest: str) -> list[Any]:
        return [stat.size, stat.mtime_ns, stat.ctime_ns, digest]

    def sha256(self, path: str) -> str:
        """The picture's sha256: known by its stat, else read and hashed (and learned).
        OSError if it cannot be read."""
        stat = Stat.of(path)
        if stat is None:
            raise FileNotFoundError(path)
        known = self.known(path, stat)
        if known is not None:
            return known
        digest = file_sha256(path)
        self.remember(path, stat, digest)
        return digest
