"""Resized copies and social cards on the remote tier, beside the entries: a machine with
an empty local cache takes them from the bucket instead of encoding them again.

A copy's local name already says everything that makes its bytes (source, width, format,
quality, encoder settings; a card's, a hash of its inputs), so the remote object has the
same name under the remote root (``derived/...``, ``social/...``). The name carries no
hash of the bytes, so the object does: one line ``nanobanana-copy sha256=<hex>``, then the
bytes. A reader checks that hash and the file's format signature before the bytes go into
the local cache (atomically, as every cache write): a truncated, damaged or foreign object
is refused, warned about, made here again and replaced. No Pillow: checking a copy is a
hash, so a build that only downloads imports none.

Fetches happen in one batch, in parallel, before the renderer would encode; only what the
local cache lacks is asked for, so a warm build makes no request at all. Uploads run in
the background and are awaited when the build closes; a failure is a warning.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from ..core.reporting import Reporter
from ..core.request import sha256
from ..store.cache import KEY_RE, Cache, CacheEntry
from ..store.remote import BadRemoteEntry, RemoteCache, RemoteError
from .slot import CardPlan, Slot

__all__: list[str] = []

#: The cache files of some slots' copies and of some cards, as the renderer names them.
FilesOf = Callable[[list[Slot], list[CardPlan]], list[Path]]

HEADER = b"nanobanana-copy sha256="
#: The first bytes of each format we write (no decode: a copy is checked by its hash).
SIGNATURES = {"jpg": ((0, b"\xff\xd8\xff"),), "png": ((0, b"\x89PNG\r\n\x1a\n"),),
              "webp": ((0, b"RIFF"), (8, b"WEBP")), "avif": ((4, b"ftyp"),),
              "json": ((0, b"{"),)}  # a backdrop (backdrops.py), validated again when it is read


def wrap(data: bytes) -> bytes:
    """The remote object of a copy: its hash line, then its bytes."""
    return HEADER + sha256(data).encode("ascii") + b"\n" + data


def unwrap(obj: bytes, ext: str) -> bytes:
    """The bytes of a remote copy, checked against its hash line and its format's
    signature; BadRemoteEntry says what is wrong."""
    head, newline, data = obj.partition(b"\n")
    digest = head[len(HEADER):].decode("ascii", "replace")
    if not newline or not head.startswith(HEADER) or not KEY_RE.match(digest):
        raise BadRemoteEntry("no sha256 line")
    if sha256(data) != digest:
        raise BadRemoteEntry("its bytes do not match their sha256 (truncated or changed)")
    if not all(data[at:at + len(magic)] == magic for at, magic in SIGNATURES.get(ext, ((0, b"\0"),))):
        raise BadRemoteEntry(f"not a .{ext} file")
    return data


class RemoteCopies:
    """One build's exchange of resized copies and cards with the remote tier."""

    def __init__(self, remote: RemoteCache, cache: Cache, report: Reporter, concurrency: int = 16) -> None:
        self.remote = remote
        self.cache = cache
        self.report = report
        self.concurrency = concurrency  # small objects: latency, not bandwidth, bounds them
        self.fetched = 0
        self.uploaded = 0
        self._upload_failures: list[str] = []
        self._asked: set[Path] = set()  # asked of the store in this build, found or not
        self._lock = threading.Lock()
        self._uploads = ThreadPoolExecutor(4, thread_name_prefix="nanobanana-share")

    def _relative(self, path: Path) -> str:
        return path.relative_to(self.cache.root).as_posix()

    # -- fetching ----------------------------------------------------------------------

    def fill(self, slots: list[Slot], cards: list[CardPlan], files_of: FilesOf) -> None:
        """What the local cache lacks of ``slots`` and the ``cards`` drawn on them, from
        the remote tier: entries, and the copies and cards ``files_of`` names for them.
        An entry's copies are fetched by the worker that fetched the entry, as soon as it
        has it, so small and large downloads overlap; then whatever else is missing."""
        by_key: dict[str, list[Slot]] = {}
        for slot in slots:
            key = slot.key  # None while a #name ref is pending
            if key is not None and slot.missing:
                by_key.setdefault(key, []).append(slot)

        def arrived(key: str, entry: CacheEntry) -> None:
            owners = by_key[key]
            for slot in owners:
                slot.entry = entry
            for path in self._missing(files_of(owners, [c for c in cards if c.slot is not None and c.slot in owners])):
                self._fetch_one(path)

        self.remote.fetch_many(by_key, self.cache, self.report.warn, arrived)
        self.fetch(files_of(slots, cards))

    def _missing(self, paths: Iterable[Path]) -> list[Path]:
        """Those of ``paths`` not here and not asked for yet (a refused one is made here)."""
        with self._lock:
            return [p for p in dict.fromkeys(paths) if p not in self._asked and not p.exists()]

    def fetch(self, paths: Iterable[Path]) -> int:
        """Of ``paths`` (copies and cards in the local cache), take those missing here from
        the remote tier; how many arrived. A warm build only stats its files."""
        missing = self._missing(paths)
        if not missing or self.remote.off:
            return 0
        with ThreadPoolExecutor(min(self.concurrency, len(missing)), thread_name_prefix="nanobanana-share") as pool:
            return sum(pool.map(self._fetch_one, missing))

    def _fetch_one(self, path: Path) -> bool:
        relative = self._relative(path)
        with self._lock:
            self._asked.add(path)
        try:
            obj = self.remote.read_object(relative)
        except RemoteError as exc:
            self.report.once("shared copies: store", f"remote cache {self.remote.url} failed ({exc}); resized "
                             "copies and cards it lacks here are made locally")
            return False
        if obj is None:
            return False
        try:
            data = unwrap(obj, path.suffix[1:])
        except BadRemoteEntry as exc:
            self.report.warn(f"remote cache object {relative} is unusable ({exc}): it is made here again and replaced")
            return False
        try:
            self.cache.temp.create_once(path, data)
        except OSError as exc:  # a full disk, a read-only cache: the renderer says so when it tries
            self.report.once("shared copies: disk", f"could not store {relative} from the remote cache ({exc})")
            return False
        with self._lock:
            self.fetched += 1
        return True

    # -- uploading ---------------------------------------------------------------------

    def upload(self, paths: Iterable[Path]) -> None:
        """Send copies or a card just made here, in the background (``close`` awaits them)."""
        if self.remote.off:
            return
        for path in paths:
            try:
                self._uploads.submit(self._upload_one, path)
            except RuntimeError:  # closed: the build is over or aborted
                return

    def _upload_one(self, path: Path) -> None:
        try:
            self.remote.write_object(self._relative(path), wrap(path.read_bytes()))
        except (RemoteError, OSError) as exc:
            with self._lock:
                self._upload_failures.append(str(exc))
            return
        with self._lock:
            self.uploaded += 1

    def close(self, wait: bool = True) -> None:
        """Await the uploads (``wait=False``: drop those not started); one warning if any failed."""
        self._uploads.shutdown(wait=wait, cancel_futures=not wait)
        failures = self._upload_failures
        if failures:
            self.report.warn(f"could not upload {len(failures)} resized copies or cards to the remote cache "
                             f"({failures[0]}); other machines will make them again")

    def counts(self) -> str:
        return f"resized copies and cards: {self.fetched} fetched, {self.uploaded} uploaded"
