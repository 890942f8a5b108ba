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

import hashlib
import json
import os
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .cache import KEY_RE, Cache

__all__: list[str] = []

INDEX_NAME = "own-images.json"
INDEX_VERSION = 1
INDEX_LOCK = "0" * 62 + "oi"  # a lock name no sha256 key is likely to be (see Cache.lock)
#: What a picture is: a still raster image, its copies are made; or one left as it is.
KINDS = ("still", "animated", "unreadable")


@dataclass(frozen=True)
class Stat:
    size: int
    mtime_ns: int
    ctime_ns: int

    @classmethod
    def of(cls, path: str) -> Stat | None:
        try:
            st = os.stat(path)
        except OSError:
            return None
        return cls(st.st_size, st.st_mtime_ns, st.st_ctime_ns)


@dataclass(frozen=True)
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


class OwnIndex:
    """The facts a build knows, read once; ``remember`` what it learns; ``save`` at its end."""

    def __init__(self, cache: Cache) -> None:
        self.cache = cache
        self.path = cache.root / INDEX_NAME
        self._lock = threading.Lock()
        self._known: dict[str, tuple[Stat, OwnFacts]] | None = None  # read on first use
        self._learned: dict[str, tuple[Stat, OwnFacts]] = {}

    def _read(self) -> dict[str, tuple[Stat, OwnFacts]]:
        try:
            data = json.loads(self.path.read_bytes().decode("utf-8"))
        except (OSError, ValueError):
            return {}
        files = data.get("files") if isinstance(data, dict) and data.get("version") == INDEX_VERSION else None
        if not isinstance(files, dict):
            return {}
        return {str(path): entry for path, raw in files.items() if (entry := _facts(raw)) is not None}

    def _loaded(self) -> dict[str, tuple[Stat, OwnFacts]]:
        with self._lock:
            if self._known is None:
                self._known = self._read()
            return self._known

    def get(self, path: str, stat: Stat) -> OwnFacts | None:
        """The facts of ``path`` if its stat is the one they were learned at."""
        entry = self._loaded().get(path)
        return entry[1] if entry is not None and entry[0] == stat else None

    def remember(self, path: str, stat: Stat, facts: OwnFacts) -> None:
        with self._lock:
            self._learned[path] = (stat, facts)

    def save(self) -> None:
        """Merge what this build learned into the file (under the cache's lock, with what
        another build wrote meanwhile); nothing to do when it learned nothing. OSError if
        the cache cannot take it: the next build hashes those pictures again."""
        with self._lock:
            learned, self._learned = dict(self._learned), {}
        if not learned:
            return
        with self.cache.lock(INDEX_LOCK):
            files = {**self._read(), **learned}
            self._write(files)
        with self._lock:
            self._known = files

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
                digest = _file_sha256(path)
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

    def _write(self, files: dict[str, tuple[Stat, OwnFacts]]) -> None:
        body = {path: [s.size, s.mtime_ns, s.ctime_ns, f.sha256, f.width, f.height, f.alpha, f.kind, f.why]
                for path, (s, f) in sorted(files.items())}
        text = json.dumps({"version": INDEX_VERSION, "files": body}, separators=(",", ":"), ensure_ascii=False)
        self.cache.temp.atomic_write(Path(self.path), (text + "\n").encode("utf-8"))


def _file_sha256(path: str) -> str:
    """A file's sha256, read in chunks (hashlib.file_digest is Python 3.11's; 3.10 is supported)."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()
