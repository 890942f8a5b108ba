"""Atomic writes into the cache through one small folder of temp files, ``<cache>/tmp/``.

Every cache file is written whole to a temp file there and then renamed (or hard-linked)
into place: a killed build leaves a whole file or a stray temp file, never a half file
under a real name. The folder lies inside the cache, on the same file system, so the
rename stays atomic; and since every temp file is in it, cleaning up after killed
builds lists that one folder, never the tens of thousands of files in images/ and
derived/ (72,801 at 20,000 pages).

A temp file goes by age only (``temp_age``): a process id means nothing across
containers or machines sharing the folder, and a live writer's temp file must never go.
Versions before this folder wrote ``.<name>.<writer>.<random>.tmp`` beside the file;
``stray_beside`` finds those, for ``prune`` only (a walk of the whole cache).
"""

from __future__ import annotations

import functools
import itertools
import os
import re
import socket
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from ..core.frozen import frozen

__all__: list[str] = []

TEMP_DIR = "tmp"
TEMP_SUFFIX = ".tmp"
_T = TypeVar("_T")


# the writer's host and pid in a temp file's name say whose it was to a person looking
# (cleanup goes by age only); a random part and a serial make it unique without
# mkstemp's random names, drawn in Python for every file (a fresh runner writes 1,900)
_WRITER = f"{re.sub(r'[^A-Za-z0-9-]', '-', socket.gethostname())[:32]}-{os.getpid()}-{os.urandom(3).hex()}"
_SERIAL = itertools.count()  # next() on it is atomic under the GIL: no lock for the writers' threads
# open(2)'s mode, which the kernel narrows by the umask as for any file the user makes
# (mkstemp's 0o600 would need a chmod: the site hard-links these files, and a web server
# running as another user must read them)
_CREATE = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_BINARY", 0)


def temp_age(timeout: float, retries: int) -> float:
    """How old a temp file must be before it is surely no live writer's: longer than the
    longest paid call (every attempt timing out), and never under an hour."""
    return max(timeout * (retries + 1), 3600.0)


@frozen
class TempFolder:
    """``<cache>/tmp``: where every write of the cache starts."""

    path: Path

    def _temp_file(self, path: Path, data: bytes) -> str:
        """A temp file holding ``data`` for ``path``, readable like any file the user
        makes. The folder is made only when the first open finds it missing, not before
        every write: a fresh runner's build made 5,636 mkdir calls that way, now 1,487."""
        fd, tmp = _create(self.path, path.name)
        try:
            view = memoryview(data)
            while view:  # write(2) may take less than it was given
                view = view[os.write(fd, view):]
        except BaseException:
            os.close(fd)
            os.unlink(tmp)
            raise
        os.close(fd)
        return tmp

    def atomic_write(self, path: Path, data: bytes) -> None:
        """Write ``data`` to ``path`` so that readers see the old file or the whole new one."""
        tmp = self._temp_file(path, data)
        try:
            _in_folder(path.parent, lambda: os.replace(tmp, path))
        except BaseException:
            _unlink_quietly(tmp)
            raise

    def create_once(self, path: Path, data: bytes) -> None:
        """Write a content-addressed file that, once there, is never replaced.

        The temp file is hard-linked into place, which fails if the name exists: a reader
        (or a hard link into the site) never sees the file swapped under it. Replacing it
        would not be safe: link(2) of a name that is being renamed over fails with ENOENT.
        """
        tmp = self._temp_file(path, data)
        try:
            _in_folder(path.parent, lambda: _link_once(tmp, path))
        finally:
            _unlink_quietly(tmp)

    def old(self, older_than: float) -> list[tuple[Path, int]]:
        """(path, bytes) of each temp file here older than ``older_than`` seconds: a
        killed writer's. Lists this folder only."""
        cutoff, found = time.time() - older_than, []
        try:
            with os.scandir(self.path) as listing:
                for item in listing:
                    if item.name.endswith(TEMP_SUFFIX) and item.is_file(follow_symlinks=False):
                        stat = item.stat(follow_symlinks=False)
                        if stat.st_mtime < cutoff:
                            found.append((Path(item.path), stat.st_size))
        except (FileNotFoundError, NotADirectoryError):
            pass
        return found

    def clean(self, older_than: float) -> int:
        """Remove the temp files killed builds left, those older than ``older_than``
        seconds (see ``temp_age``); every build does this, so it lists this folder only."""
        removed = 0
        for path, _ in self.old(older_than):
            try:
                path.unlink()
                removed += 1
            except OSError:
                pass
        return removed


def stray_beside(root: Path, older_than: float) -> list[tuple[Path, int]]:
    """(path, bytes) of the temp files earlier versions wrote beside their files
    (``.<name>.<writer>.<random>.tmp`` in any folder of the cache) that are older than
    ``older_than`` seconds: a walk of the whole cache, so ``prune`` does it, never a build."""
    cutoff, found = time.time() - older_than, []
    for folder, dirs, names in os.walk(root):
        if folder == os.fspath(root):
            dirs[:] = [d for d in dirs if d != TEMP_DIR]  # TempFolder.old lists that one
        for name in names:
            if not (name.startswith(".") and name.endswith(TEMP_SUFFIX)):
                continue
            path = os.path.join(folder, name)
            try:
                stat = os.lstat(path)
            except OSError:
                continue
            if stat.st_mtime < cutoff and os.path.isfile(path) and not os.path.islink(path):
                found.append((Path(path), stat.st_size))
    return found


def _create(folder: Path, name: str) -> tuple[int, str]:
    """A new file in ``folder`` for ``name``, open for writing, and its path."""
    for _ in range(100):
        tmp = os.path.join(folder, f"{name}.{_WRITER}.{next(_SERIAL)}{TEMP_SUFFIX}")
        try:
            return _in_folder(folder, functools.partial(os.open, tmp, _CREATE, 0o666)), tmp
        except FileExistsError:  # a killed writer's file of the same name: take the next name
            continue
    raise FileExistsError(f"no free temp file name in {folder}")


def _in_folder(folder: Path | str, act: Callable[[], _T]) -> _T:
    """``act()``, which puts a file in ``folder``; if the folder is missing (the first
    file of it), it is made and ``act`` tried once more. Making it only then, not before
    every write, spares a mkdir and a stat a file."""
    try:
        return act()
    except FileNotFoundError:
        os.makedirs(folder, exist_ok=True)
        return act()


def _link_once(tmp: str, path: Path) -> None:
    try:
        os.link(tmp, path)
    except FileExistsError:
        pass  # another writer made the same file first
    except FileNotFoundError:
        raise  # the folder is missing: _in_folder makes it
    except OSError:
        if not path.exists():  # no hard links here: fall back to a plain rename
            os.replace(tmp, path)


def _unlink_quietly(path: str) -> None:
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
