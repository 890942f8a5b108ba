"""One read of a sharded folder of small JSON files per build, instead of one per file.

The cache keeps an entry's sidecar in ``images/<k[:2]>/<key>.json``. A warm build needs
every one its site shows: read one by one, that is an open, a read and a JSON parse per
image, and a stat of each image file, 5,000 of each on a 5,000-image site. A FolderIndex
keeps what those files hold in one file beside them, with each shard folder's
modification time when it was read:

- the first lookup in a shard stats its folder: if the folder has the recorded mtime, the
  shard is taken from the index, none of its files opened (adding, replacing or removing
  a file in a folder changes its mtime, and every write of the cache is a rename into
  place, see temp.py);
- a shard that changed, or that the index lacks, is listed and read again, that shard
  only; the index is saved at the build's end (``save``) when one was;
- a name the index does not hold is for its caller to look up in the files (another build
  may have written it since): so a file added in the same clock tick as a shard's read,
  which the mtime cannot show, costs a read, never a wrong answer.

Builds sharing a cache need no lock: each writes (atomically) a whole index that was true
when it looked, and a shard changed after its look has a newer mtime, so the next build
reads it again. The files stay the source of truth: ``nanobanana verify`` compares the
two, and deleting the index costs one cold read. A shard whose mtime is younger than
``SETTLE_NS`` at its read is not trusted next time (a removal in the same clock tick).
"""

from __future__ import annotations

import json
import os
import re
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

__all__: list[str] = []

INDEX_VERSION = 1
#: How old a shard's mtime must be to be trusted: Linux stamps files with a clock that
#: ticks every few milliseconds.
SETTLE_NS = 50_000_000

#: A shard folder's name: the first two hex digits of the names in it (store/cache.py's layout).
SHARD_RE = re.compile(r"[0-9a-f]{2}\Z")

Shard = tuple[int | None, dict[str, Any]]  # (its folder's mtime_ns if trusted, file name -> JSON)


class FolderIndex:
    """What the files of ``top``'s shard folders whose names ``name_re`` matches hold
    (their JSON), by file name. ``usable(path, data)`` is asked of each file read from a
    changed shard (the cache: are the images its sidecar lists there, at their sizes?);
    a file it refuses is left out. ``write`` stores the index file atomically."""

    def __init__(self, top: Path, index_file: Path, name_re: re.Pattern[str],
                 write: Callable[[Path, bytes], None],
                 usable: Callable[[Path, Any], bool] = lambda path, data: True) -> None:
        self.top, self.index_file, self.name_re = top, index_file, name_re
        self._write, self._usable = write, usable
        self._recorded: dict[str, Shard] | None = None  # the index file, read at the first lookup
        self._checked: dict[str, Shard] = {}  # shards looked at by this process
        self.shards_read = 0  # shards this process listed and read from their files

    def get(self, name: str) -> Any | None:
        """The JSON of file ``name`` (in shard ``name[:2]``), None if the index holds none."""
        return self._shard(name[:2])[1].get(name)

    def changed(self, name: str) -> None:
        """This process wrote or removed file ``name``: its shard is read again at the next
        lookup in it (as at the next build, since its mtime changed), so what a lookup
        finds is always what the files held when their shard was read."""
        self._checked.pop(name[:2], None)

    def save(self) -> None:
        """Write the index if this process read a shard from its files (a warm build that
        found every shard as recorded writes nothing)."""
        if not self.shards_read or self._recorded is None:
            return
        shards = {**self._recorded, **self._checked}
        doc = {"version": INDEX_VERSION, "about": "a cache of the JSON files beside it; safe to delete",
               "shards": {s: {"mtime_ns": m, "files": f} for s, (m, f) in sorted(shards.items())}}
        try:
            self._write(self.index_file, json.dumps(doc, separators=(",", ":")).encode("utf-8"))
        except OSError:
            pass  # a read-only cache: each build reads the shards it needs, as before the index
        self.shards_read = 0

    def differences(self) -> dict[str, str]:
        """What the index file says that the files do not (``verify``), by file name: a
        file it lists that is gone or differs, one it lacks, in each shard it trusts."""
        problems = {}
        for shard, (mtime, files) in sorted(self._read_index().items()):
            if mtime is None:
                continue  # not trusted: read again at the next lookup anyway
            now = self._read_shard(shard)
            for name in sorted(set(files) | set(now)):
                if files.get(name) != now.get(name):
                    what = "lists" if name not in now else "lacks" if name not in files else "differs from"
                    problems[name] = f"{self.index_file.name} {what} {shard}/{name}"
        return problems

    def forget(self) -> None:
        """Remove the index file: the next build reads every shard it needs."""
        self._recorded, self._checked = None, {}
        self.index_file.unlink(missing_ok=True)

    # -- loading -----------------------------------------------------------------------

    def _shard(self, shard: str) -> Shard:
        found = self._checked.get(shard)
        if found is not None:
            return found
        if self._recorded is None:
            self._recorded = self._read_index()
        try:
            mtime: int | None = (self.top / shard).stat().st_mtime_ns
        except OSError:
            mtime = None  # no such shard (yet): nothing in it
        kept = self._recorded.get(shard)
        if mtime is not None and kept is not None and kept[0] == mtime:
            found = kept
        else:  # stat before listing: a file added meanwhile leaves a newer mtime than this
            files = self._read_shard(shard) if mtime is not None else {}
            trusted = mtime if mtime is not None and time.time_ns() - mtime > SETTLE_NS else None
            found = (trusted, files)
            self.shards_read += mtime is not None
        self._checked[shard] = found
        return found

    def _read_shard(self, shard: str) -> dict[str, Any]:
        folder = self.top / shard
        files: dict[str, Any] = {}
        try:
            names = sorted(os.listdir(folder))
        except OSError:
            return files
        for name in names:
            if not self.name_re.match(name) or name[:2] != shard:
                continue
            path = folder / name
            try:
                data = json.loads(path.read_bytes().decode("utf-8"))
            except (OSError, ValueError, RecursionError):
                continue  # a damaged file is looked at (and reported) by its own reader
            if self._usable(path, data):
                files[name] = data
        return files

    def _read_index(self) -> dict[str, Shard]:
        """The index file's shards; {} when it is missing, damaged or of another version
        (then every shard is read from its files)."""
        try:
            doc = json.loads(self.index_file.read_bytes().decode("utf-8"))
        except (OSError, ValueError, RecursionError):
            return {}
        if not isinstance(doc, dict) or doc.get("version") != INDEX_VERSION or not isinstance(doc.get("shards"), dict):
            return {}
        out: dict[str, Shard] = {}
        for shard, value in doc["shards"].items():
            if (isinstance(value, dict) and isinstance(value.get("files"), dict)
                    and isinstance(value.get("mtime_ns"), (int, type(None))) and SHARD_RE.match(str(shard))):
                out[shard] = (value["mtime_ns"], value["files"])
        return out
