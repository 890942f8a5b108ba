"""What each of a site's own pictures is (``responsive_images``), by its path, without
reading it again: ``<cache_dir>/own-images.json``.

A build needs a picture's sha256 (its copies are named by it) and its size; hashing
every photo of a large site on every build would read hundreds of megabytes for nothing.
So each file's facts are kept under its real path with the stat fields that change
whenever its bytes can have changed: size, mtime and ctime in nanoseconds (a `git
checkout`, a copy or an edit changes at least one; ctime cannot be set back by `touch`
or `cp -p`). A warm build stats each picture and reads this one file; a picture whose
stat differs is hashed and inspected again. The file is this machine's (stat fields
mean nothing elsewhere): it is never sent to the remote tier.

Written at the end of a build, only when something changed, merged under a lock with
what other builds sharing the cache wrote meanwhile; ``prune`` drops the facts of
files that are gone.
"""

from __future__ import annotations

import os
from typing import Any

from ..core.frozen import frozen
from .cache import KEY_RE
from .file_stat import Stat
from .stat_index import StatIndex, file_sha256

__all__: list[str] = []

INDEX_NAME = "own-images.json"
INDEX_VERSION = 1
INDEX_LOCK = "0" * 62 + "oi"  # a lock name no sha256 key is likely to be (see Cache.lock)
#: What a picture is: a still raster image, its copies are made; or one left as it is.
KINDS = ("still", "animated", "unreadable")


@frozen
class OwnFacts:
    """One picture as its bytes are: sha256, the size it shows at (EXIF orientation
    applied), whether it has transparency, and its kind (see KINDS)."""

    sha256: str
    width: int
    height: int
    alpha: bool
    kind: str = "still"
    why: str = ""  # for "unreadable": what Pillow said, once per build in a warning


def _facts(data: Any) -> tuple[Stat, OwnFacts] | None:
    """One entry of the file, every field typed before use; None if it is not one."""
    try:
        size, mtime, ctime, digest, width, height, alpha, kind, why = data
    except (TypeError, ValueError):
        return None
    ints = (size, mtime, ctime, width, height)
    if not all(isinstance(v, int) and not isinstance(v, bool) for v in ints) or not isinstance(alpha, bool):
        return None
    if not isinstance(digest, str) or not KEY_RE.match(digest) or kind not in KINDS or not isinstance(why, str):
        return None
    return Stat(size, mtime, ctime), OwnFacts(digest, width, height, alpha, kind, why)


class OwnIndex(StatIndex[OwnFacts]):
    """The facts a build knows, read once; ``remember`` what it learns; ``save`` at its end."""

    NAME, VERSION, LOCK = INDEX_NAME, INDEX_VERSION, INDEX_LOCK

    def _decode(self, raw: Any) -> tuple[Stat, OwnFacts] | None:
        return _facts(raw)

    def _encode(self, stat: Stat, facts: OwnFacts) -> list[Any]:
        return [stat.size, stat.mtime_ns, stat.ctime_ns, facts.sha256, facts.width, facts.height, facts.alpha,
                facts.kind, facts.why]

    def forget_missing(self) -> int:
        """Drop the facts of files that no longer exist (prune); how many."""
        with self.cache.lock(INDEX_LOCK):
            files = self._read()
            kept = {path: entry for path, entry in files.items() if os.path.exists(path)}
            if len(kept) != len(files):
                self._write(kept)
        return len(files) - len(kept)

    def verify(self, fix: bool = False) -> list[str]:
        """Every picture whose facts the stat still vouches for, hashed again: a problem
        for each whose bytes are not the ones its facts were learned from (a file
        replaced with its old size and times); with ``fix`` their facts are dropped, so
        the next build reads them again."""
        problems, bad = [], []
        for path, (stat, facts) in self._read().items():
            if Stat.of(path) != stat:
                continue  # changed or gone: the next build learns it again anyway
            try:
                digest = file_sha256(path)
            except OSError as exc:
                problems.append(f"{path}: unreadable ({exc})")
                continue
            if digest != facts.sha256:
                problems.append(f"{path}: its bytes changed but not its size and times: its copies are stale")
                bad.append(path)
        if fix and bad:
            with self.cache.lock(INDEX_LOCK):
                self._write({p: e for p, e in self._read().items() if p not in bad})
        return problems
