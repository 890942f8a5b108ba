"""Where bought images go when the cache cannot take them (a full disk, a read-only or
unwritable cache_dir): a spill folder, laid out as a cache of its own, and adopted into
the cache by a later build, so a full disk never makes anyone pay for an image twice.

    <cache_dir>.spill/                                   next to the cache: another file
                                                         system when cache_dir is a mount
    <system temp>/nanobanana-spill/<sha256(cache_dir)[:16]>/
                                                         if that cannot take them either

Both names follow from cache_dir alone, so the next build (or another process on the
same machine) finds them. A folder inside docs_dir or site_dir is never used: MkDocs
would publish it, or empty it. A spilled entry is adopted (``adopt_into``) or used in
place (``entry``) only after the checks a download gets: every file's sha256 against its
sidecar, a full decode and its pixel size, and the sidecar's request hashing to its key
(``Cache.adopt``, ``Cache.problems``); an entry that fails them is removed, never shown.
"""

from __future__ import annotations

import contextlib
import errno
import os
import shutil
import tempfile
from pathlib import Path

from ..core.frozen import frozen
from ..core.request import Request, sha256
from .cache import KEY_RE, BadSidecar, Cache, CacheEntry

__all__: list[str] = []

SPILL_SUFFIX = ".spill"
#: The errors of a disk that cannot take a write. Anything else (a bug, a bad image) is
#: not the disk's and is not spilled.
UNWRITABLE = frozenset(getattr(errno, name) for name in ("ENOSPC", "EDQUOT", "EROFS", "EACCES", "EPERM", "EFBIG")
                       if hasattr(errno, name))  # EDQUOT: not on every platform


def unwritable(exc: OSError) -> bool:
    """Whether ``exc`` says the disk cannot take a write (full, read-only, not ours)."""
    return exc.errno in UNWRITABLE


def _inside(path: Path, folder: str) -> bool:
    real, top = os.path.realpath(path), os.path.realpath(folder)
    return real == top or real.startswith(top.rstrip(os.sep) + os.sep)


def why(exc: OSError) -> str:
    return exc.strerror or str(exc)


@frozen
class Spill:
    """The spill folders of one cache_dir, in the order they are tried."""

    folders: tuple[Path, ...]

    @classmethod
    def of(cls, cache_root: str | os.PathLike[str], keep_out: tuple[str, ...] = ()) -> Spill:
        """The spill folders of ``cache_root``, less any inside ``keep_out`` (docs_dir, site_dir)."""
        root = Path(os.path.abspath(cache_root))
        beside = root.with_name(root.name + SPILL_SUFFIX)
        in_temp = Path(tempfile.gettempdir()) / "nanobanana-spill" / sha256(os.fspath(root).encode())[:16]
        return cls(tuple(f for f in (beside, in_temp) if not any(_inside(f, out) for out in keep_out if out)))

    def holding(self, entry: CacheEntry) -> Cache | None:
        """The spill folder, as a Cache, that holds ``entry`` (None: not a spilled entry)."""
        path = entry.images[0].path
        return next((Cache(f) for f in self.folders if path.is_relative_to(f)), None)

    def _existing(self) -> list[Cache]:
        return [Cache(folder) for folder in self.folders if folder.is_dir()]

    def keep(self, request: Request, images: list[bytes], provider: str, credits: int) -> CacheEntry:
        """Store the entry in the first folder that takes it; the last OSError if none does."""
        failure: OSError = OSError(errno.ENOENT, "no spill folder outside docs_dir and site_dir")
        for folder in self.folders:
            try:
                return Cache(folder).put(request, images, provider, credits)
            except OSError as exc:
                failure = exc
        raise failure

    def keep_partial(self, key: str, paid: list[bytes] | tuple[bytes, ...]) -> Path:
        """Keep images of a purchase that failed half-way (``Cache.add_partial``) in the
        first folder that takes them; that folder, or the last OSError."""
        failure: OSError = OSError(errno.ENOENT, "no spill folder outside docs_dir and site_dir")
        for folder in self.folders:
            try:
                Cache(folder).add_partial(key, paid)
                return folder
            except OSError as exc:
                failure = exc
        raise failure

    def partial(self, key: str) -> list[bytes]:
        """The spilled images kept for ``key`` that decode (``Cache.partial``'s rule)."""
        return [data for spill in self._existing() for data in spill.partial(key)]

    def drop_partial(self, key: str) -> None:
        """Forget the spilled images kept for ``key``: its whole entry is stored."""
        for spill in self._existing():
            with contextlib.suppress(OSError):
                spill.drop_partial(key)

    def entry(self, key: str) -> CacheEntry | None:
        """A spilled entry of ``key`` that passes a download's checks (sha256, decode), or
        None: what a build shows and keeps while the cache still cannot take it."""
        for spill in self._existing():
            if spill.sidecar_path(key).is_file() and not spill.problems(key, decode=True):
                return spill.get(key)
        return None

    @contextlib.contextmanager
    def lock(self, key: str):
        """The key's lock where the cache cannot hold one (read-only): in the first spill
        folder that can, so two builds of this machine still do not both pay for it."""
        failure: OSError | None = None
        for folder in self.folders:
            try:
                held = Cache(folder).lock(key)
                held.__enter__()
            except OSError as exc:
                failure = exc
                continue
            try:
                yield
            finally:
                held.__exit__(None, None, None)
            return
        assert failure is not None, "a spill has at least one folder"
        raise failure

    def adopt_into(self, cache: Cache) -> list[str]:
        """Move every spilled entry into ``cache`` once it checks out; what happened, to
        say. An entry stays where it is while the cache cannot take it (it is used from
        there); one that fails the checks is removed: it is not the image it claims."""
        said: list[str] = []
        for spill in self._existing():
            adopted, bad, stuck = 0, [], None
            for key in list(spill.keys()):
                try:
                    with cache.lock(key):
                        problem = _adopt_one(spill, cache, key)
                except OSError as exc:  # the cache still cannot take it: it is used from the spill
                    stuck = exc
                    break
                if problem is None:
                    adopted += 1
                else:
                    bad.append(problem)
                spill.remove(key)
            if adopted:
                said.append(f"adopted {adopted} image entr{'y' if adopted == 1 else 'ies'} that an earlier build "
                            f"kept in {spill.root} (checked by sha256 and decode): nothing is paid for them again")
            said += [f"{spill.root}: {problem}: removed, not adopted" for problem in bad]
            if stuck is not None:
                said.append(f"images kept in {spill.root} stay there: cache_dir {cache.root} still cannot take them "
                            f"({why(stuck)}); builds use them from there until it can")
            elif _adopt_partials(spill, cache) and not any(spill.keys()):
                shutil.rmtree(spill.root, ignore_errors=True)  # all adopted: nothing to keep
        return said


def _adopt_partials(spill: Cache, cache: Cache) -> bool:
    """Move the spill's partial images into the cache's partial/ (those that decode, as
    the buyer takes them); True if none is left behind."""
    for folder in sorted(spill.partial_dir.iterdir()) if spill.partial_dir.is_dir() else []:
        key = folder.name
        if not KEY_RE.match(key):
            continue
        try:
            with cache.lock(key):
                cache.add_partial(key, spill.partial(key))
        except OSError:  # the cache cannot take them yet: they stay, and builds take them from the spill
            return False
        spill.drop_partial(key)
    return True


def _adopt_one(spill: Cache, cache: Cache, key: str) -> str | None:
    """Adopt one spilled entry into ``cache`` (under the key's lock); why not, if it fails
    the checks. OSError if the cache cannot take it."""
    if cache.get(key) is not None:
        return None  # another build adopted it first (or bought it): the spill copy goes
    try:
        sidecar = spill.sidecar_path(key).read_bytes()
        entry = spill.get(key)
        if entry is None:
            raise BadSidecar("a file is missing or has another size than its sidecar says")
        files = {img.path.name: img.path.read_bytes() for img in entry.images}
        cache.adopt(key, sidecar, files, decode=True)
    except (BadSidecar, ValueError) as exc:
        return f"{key[:12]}...: {exc}"
    except OSError as exc:
        if unwritable(exc):
            raise
        return f"{key[:12]}...: {why(exc)}"
    return None
