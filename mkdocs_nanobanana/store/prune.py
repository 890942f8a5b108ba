"""What a site uses of the cache, file by file, and ``prune``: remove what no site uses.

A build writes, besides the entries it pays for, resized copies named by (source, width,
format, quality) and social cards named by a hash of their inputs. Settings change and
titles change, so the old names stay behind unless prune knows the exact names a build of
the current settings writes: build/site_use.py works them out the way the renderer does (the same
``assets`` functions), and each site's build records them in the manifest, so that a prune
from one site keeps what another site sharing the cache still shows.

Classes prune removes: entries no site uses (and candidates whose sidecar never came, once
older than any write could take), partial images of keys no site uses, resized copies not
in use (and the backdrops of sources with no copy left), cards not in use, lock files
whose key has no entry (only while no one holds them), and temp files of dead writers
(older than any write could take: in tmp/, and those earlier versions left beside their
files). Only names the cache writes, in the folders their names put them in; anything
else is listed as foreign and left alone.
"""

from __future__ import annotations

import contextlib
import os
import re
import time
from collections.abc import Iterator, Set
from dataclasses import dataclass, field
from pathlib import Path

from ..core.frozen import frozen
from .cache import Cache, SiteRecord, backdrop_name, derived_names, sharded_files
from .own_index import OwnIndex
from .temp import stray_beside

__all__: list[str] = []

try:
    import fcntl
except ImportError:  # Windows: no flock, and no lock files worth pruning
    fcntl = None  # type: ignore[assignment]

CARD_NAME_RE = re.compile(r"(?P<key>[0-9a-f]{64})\.jpg\Z")
LOCK_NAME_RE = re.compile(r"(?P<key>[0-9a-f]{64})\.lock\Z")
#: The classes prune reports, in the order it lists them.
CLASSES = ("entries", "partial", "derived", "cards", "locks", "temp")


@dataclass
class Keep:
    """What prune keeps: this site's use plus every recorded site's."""

    keys: set[str]
    derived: set[str]  # file names
    sources: set[str] = field(default_factory=set)  # all copies of these: a record from before names were recorded
    cards: set[str] | None = field(default_factory=set)  # None: some record cannot tell, keep every card

    def add(self, record: SiteRecord) -> None:
        self.keys |= record.keys
        if record.derived is None:
            self.sources |= record.sources
        else:
            self.derived |= derived_names(record.derived)
        if record.cards is None or self.cards is None:
            self.cards = None
        else:
            self.cards |= record.cards


@frozen
class Pruned:
    """What prune removed (or would), by class, with sizes; and what it left alone."""

    removed: dict[str, list[tuple[Path, int]]]
    foreign: list[Path]

    def all(self) -> list[tuple[Path, int]]:
        return [r for cls in CLASSES for r in self.removed.get(cls, [])]


def prune(cache: Cache, keep: Keep, dry_run: bool = False, settle: float = 3600.0) -> Pruned:
    """Remove (or, ``dry_run``, list) every file of the cache ``keep`` does not use;
    ``settle``: the age after which a write in progress is surely dead (``temp_age``)."""
    owned, foreign = cache.owned_files()
    claimed = {key for kind, key, _ in owned if kind == "sidecar"}
    cutoff = time.time() - settle
    removed: dict[str, list[tuple[Path, int]]] = {cls: [] for cls in CLASSES}
    shown = keep.sources | {name[:64] for name in keep.derived}  # sources some kept copy is of
    for kind, key, path in owned:
        if kind == "derived":
            unused, cls = path.name not in keep.derived and key not in keep.sources, "derived"
        elif kind == "backdrop":  # lives as long as a copy of its source; an old version goes
            unused, cls = key not in shown or path.name != backdrop_name(key), "derived"
        elif kind == "partial":  # kept while its key is in use: they were paid for
            unused, cls = key not in keep.keys, "partial"
        elif key in claimed:
            unused, cls = key not in keep.keys, "entries"
        else:  # a half entry: its sidecar never came (a killed build), or is coming
            unused, cls = path.stat().st_mtime < cutoff, "entries"
        if unused:
            removed[cls].append((path, path.stat().st_size))
    if not dry_run:
        # sidecars first: an entry stops counting before any of its files goes
        for path, _ in sorted(removed["entries"] + removed["partial"] + removed["derived"],
                              key=lambda d: d[0].suffix != ".json"):
            path.unlink(missing_ok=True)
    entries_left = claimed - {p.stem for p, _ in removed["entries"] if p.suffix == ".json"}
    for _, _, path in sharded_files(cache.root / "social", ((CARD_NAME_RE, "card"),), foreign):
        if keep.cards is not None and path.stem not in keep.cards:
            removed["cards"].append((path, path.stat().st_size))
            if not dry_run:
                path.unlink(missing_ok=True)
    # locks/ also holds the manifest's lock: not a key's, not foreign either
    for _, _, path in sharded_files(cache.root / "locks", ((LOCK_NAME_RE, "lock"),), None):
        if path.stem not in entries_left and (dry_run or _unlink_lock(path)):
            removed["locks"].append((path, 0))
    # a dead writer's temp files: by age only, like a build's cleanup, but also those
    # earlier versions left beside their files (a walk of the whole cache, here only)
    for path, size in cache.temp.old(settle) + stray_beside(cache.root, settle):
        removed["temp"].append((path, size))
        if not dry_run:
            path.unlink(missing_ok=True)
    if not dry_run and (cache.root / "own-images.json").exists():
        OwnIndex(cache).forget_missing()  # what is known of pictures that are gone
    return Pruned(removed, foreign)


def in_use(cache: Cache, keys: set[str], settle: float, claimed: Set[str] = frozenset()) -> set[str]:
    """Of ``keys`` (entries, or partial images, no site's record keeps), those a build
    under way may be using: written less than ``settle`` seconds ago (a build records
    its site only when it ends), whose key's lock is held (being bought right now), or
    which another runner has claimed in the remote store (``claimed``). Prune keeps
    them; the next prune, once they have settled, can tell."""
    cutoff = time.time() - settle
    busy = set()
    for key in keys:
        written = [cache.sidecar_path(key), cache.partial_dir / key]
        young = any(_mtime(path) > cutoff for path in written)
        if young or key in claimed or _lock_held(cache.root / "locks" / key[:2] / f"{key}.lock"):
            busy.add(key)
    return busy


def young_cards(cache: Cache, settle: float) -> set[str]:
    """The cards drawn less than ``settle`` seconds ago: a build under way may have drawn
    them for its pages (it records its site only when it ends), so prune keeps them too."""
    cutoff = time.time() - settle
    return {path.stem for _, _, path in sharded_files(cache.root / "social", ((CARD_NAME_RE, "card"),), None)
            if _mtime(path) > cutoff}


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:
        return 0.0


@contextlib.contextmanager
def _try_lock(path: Path) -> Iterator[bool | None]:
    """Hold the flock of lock file ``path`` for the block if no one else does: True (held
    here), False (a build holds it: it is paying for that key right now), None (no such
    file, or no flock on this system). Closing the file releases a lock taken here."""
    if fcntl is None:
        yield None
        return
    try:
        fd = os.open(path, os.O_RDWR)
    except OSError:
        yield None
        return
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            yield False
            return
        yield True
    finally:
        os.close(fd)


def _lock_held(path: Path) -> bool:
    """Whether a build holds this lock file's flock now (tried without waiting)."""
    with _try_lock(path) as got:
        return got is False


def _unlink_lock(path: Path) -> bool:
    """Remove a lock file no one holds, holding it meanwhile; ``Cache.lock`` checks after
    taking a lock that its file is still the one at the path, so a process that opened
    this one just before it went takes the lock again on the new file."""
    with _try_lock(path) as got:
        if not got:
            return False
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
        return True
