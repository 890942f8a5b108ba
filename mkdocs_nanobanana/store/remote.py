"""A second cache tier on object storage, shared by every machine that builds the site.

Any fsspec URL works: ``s3://bucket/prefix`` (s3fs), ``gs://`` (gcsfs), ``az://``
(adlfs), ``file:///shared/folder``, ``memory://``. Credentials come from each backend's
usual environment, never from mkdocs.yml.

Layout under the URL:

    images/<k2>/<key>.json      the entry's sidecar, byte for byte the local one
    blobs/<s2>/<sha256>         each image, named by the sha256 of its bytes
    derived/<s2>/<name>         a resized copy, under its local name (source, width, format,
                                encoder settings): a line with the sha256 of its bytes, then
                                the bytes (see build/remote_copies.py)
    social/<k2>/<key>.jpg       a social card, under its local name (a hash of its inputs),
                                the same way

Images are content-addressed, so two machines that paid for one key at the same moment
can never mix their files: whichever sidecar lands describes blobs that exist. A sidecar
is written last and never replaced, and every byte fetched is checked against it before
it is stored locally, so a half-uploaded or damaged entry never counts.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from ..core.errors import NanobananaError
from .cache import (
    BACKDROP_NAME_RE,
    DERIVED_NAME_RE,
    KEY_RE,
    BadSidecar,
    Cache,
    CacheEntry,
    load_sidecar,
    parse_sidecar,
)

__all__: list[str] = []

MAX_FAILURES = 3  # in a row: then the remote tier is off for the rest of the build


class RemoteError(NanobananaError):
    """The remote store could not be reached or used; the build goes on without it."""


class BadRemoteEntry(NanobananaError):
    """A remote entry does not match its sidecar; it is ignored (and regenerated)."""


def open_remote(url: str, options: Mapping[str, Any]) -> RemoteCache:
    try:
        import fsspec
    except ImportError:
        raise RemoteError("remote_cache needs fsspec: pip install 'mkdocs-nanobanana[remote]', "
                          "plus the backend for your URL (s3fs, gcsfs or adlfs)") from None
    try:
        fs, root = fsspec.core.url_to_fs(url, **dict(options))
    except ImportError as exc:  # fsspec names the missing backend package
        raise RemoteError(f"remote_cache {url}: {exc}") from None
    except Exception as exc:  # noqa: BLE001 - any backend's own error type
        raise RemoteError(f"remote_cache {url}: {type(exc).__name__}: {exc}") from None
    return RemoteCache(fs, root.rstrip("/"), url)


class RemoteCache:
    def __init__(self, fs, root: str, url: str, concurrency: int = 8) -> None:
        self.fs = fs
        self.root = root
        self.url = url
        self.concurrency = concurrency
        self._lock = threading.Lock()
        self._failures = 0
        self.off = False  # set after MAX_FAILURES failures in a row
        self.fetched = 0
        self.uploaded = 0
        self._bad: set[str] = set()  # keys whose remote entry failed its check: replaceable

    # -- paths -------------------------------------------------------------------------

    def sidecar_path(self, key: str) -> str:
        return f"{self.root}/images/{key[:2]}/{key}.json"

    def blob_path(self, digest: str) -> str:
        return f"{self.root}/blobs/{digest[:2]}/{digest}"

    def object_path(self, relative: str) -> str:
        """A resized copy or a card: its path relative to the cache folder, under the root."""
        return f"{self.root}/{relative}"

    # -- guarded calls -----------------------------------------------------------------

    def _call(self, what: str, fn: Callable, *args):
        """One call to the store; a FileNotFoundError passes, anything else is a RemoteError."""
        if self.off:
            raise RemoteError("the remote cache is off for this build after repeated failures")
        try:
            result = fn(*args)
        except FileNotFoundError:
            self._ok()
            raise
        except Exception as exc:  # noqa: BLE001 - botocore, aiohttp, OSError...: all "the store failed"
            with self._lock:
                self._failures += 1
                if self._failures >= MAX_FAILURES:
                    self.off = True
            raise RemoteError(f"{what}: {type(exc).__name__}: {exc}") from None
        self._ok()
        return result

    def _ok(self) -> None:
        with self._lock:
            self._failures = 0

    # -- reading -----------------------------------------------------------------------

    def has(self, key: str) -> bool:
        return bool(self._call("look up", self.fs.exists, self.sidecar_path(key)))

    def has_many(self, keys: Iterable[str]) -> set[str]:
        """The keys the store holds: a look-up each, ``concurrency`` at a time, no
        download. A look-up that fails counts as absent."""
        keys = list(dict.fromkeys(keys))

        def held(key: str) -> bool:
            try:
                return self.has(key)
            except RemoteError:
                return False

        if not keys:
            return set()
        with ThreadPoolExecutor(min(self.concurrency, len(keys)), thread_name_prefix="nanobanana-remote") as pool:
            return {k for k, yes in zip(keys, pool.map(held, keys), strict=True) if yes}

    def read_object(self, relative: str) -> bytes | None:
        """The object at ``relative`` (see ``object_path``); None if the store has none."""
        try:
            return self._call("read", self.fs.cat_file, self.object_path(relative))
        except FileNotFoundError:
            return None

    def fetch(self, key: str, cache: Cache, decode: bool = True) -> CacheEntry | None:
        """The entry from the remote store, checked and stored locally; None if absent.
        ``decode=False``: checked by sha256 only (see Cache.adopt)."""
        try:
            sidecar = self._call("read", self.fs.cat_file, self.sidecar_path(key))
        except FileNotFoundError:
            return None
        try:  # every field checked before a name or a hash of it is used in a path
            described = parse_sidecar(key, load_sidecar(sidecar), cache.sidecar_path(key).parent)
        except BadSidecar as exc:
            with self._lock:
                self._bad.add(key)
            raise BadRemoteEntry(f"unusable sidecar ({exc})") from None
        names = {img.path.name: img.sha256 for img in described.images}
        blobs = {}
        for name, digest in names.items():
            try:
                blobs[name] = self._call("read", self.fs.cat_file, self.blob_path(digest))
            except FileNotFoundError:
                with self._lock:
                    self._bad.add(key)
                raise BadRemoteEntry(f"{name} is missing") from None
        with cache.lock(key):
            try:
                entry = cache.adopt(key, sidecar, blobs, decode)
            except (ValueError, KeyError, TypeError) as exc:
                with self._lock:
                    self._bad.add(key)
                raise BadRemoteEntry(str(exc)) from None
        with self._lock:
            self.fetched += 1
        return entry

    def fetch_many(self, keys: Iterable[str], cache: Cache, warn: Callable[[str], None],
                   arrived: Callable[[str, CacheEntry], None] | None = None) -> dict[str, CacheEntry]:
        """Every key the store has, fetched ``concurrency`` at a time and checked by sha256
        (a build decodes an image only if it resizes it). A bad entry is warned about and
        left out (so it is generated again); a store that fails is warned about once and
        left alone. ``arrived(key, entry)`` runs in the worker that fetched it, at once."""
        keys = list(dict.fromkeys(keys))
        found: dict[str, CacheEntry] = {}
        warned = threading.Event()

        def one(key: str) -> None:
            try:
                entry = self.fetch(key, cache, decode=False)
            except BadRemoteEntry as exc:
                warn(f"remote cache entry {key[:12]} is unusable ({exc}): it is ignored and the image generated again")
                return
            except RemoteError as exc:
                if not warned.is_set():
                    warned.set()
                    warn(f"remote cache {self.url} failed ({exc}); building with the local cache only")
                return
            if entry is not None:
                found[key] = entry
                if arrived is not None:
                    arrived(key, entry)

        if keys:
            with ThreadPoolExecutor(min(self.concurrency, len(keys)), thread_name_prefix="nanobanana-remote") as pool:
                list(pool.map(one, keys))
        return found

    # -- writing -----------------------------------------------------------------------

    def upload(self, entry: CacheEntry, cache: Cache) -> bool:
        """Blobs first, the sidecar last. A good entry already there is left as it is
        (False); one this build found damaged is replaced."""
        sidecar_path = self.sidecar_path(entry.key)
        if entry.key not in self._bad and self._call("look up", self.fs.exists, sidecar_path):
            return False
        for img in entry.images:
            blob = self.blob_path(img.sha256)
            if not self._call("look up", self.fs.exists, blob):
                self._put(blob, img.path.read_bytes())
        self._put(sidecar_path, cache.sidecar_path(entry.key).read_bytes())
        with self._lock:
            self.uploaded += 1
            self._bad.discard(entry.key)
        return True

    def write_object(self, relative: str, data: bytes) -> None:
        """Put ``data`` at ``relative``, replacing what is there: one PUT, whole or not at all
        on an object store; a reader checks the object's own hash line either way."""
        self._put(self.object_path(relative), data)

    def _put(self, path: str, data: bytes) -> None:
        if getattr(self.fs, "auto_mkdir", True) is False:  # a local folder: object stores have no folders
            self._call("upload", self.fs.makedirs, path.rsplit("/", 1)[0], True)
        self._call("upload", self.fs.pipe_file, path, data)

    # -- maintenance -------------------------------------------------------------------

    def keys(self) -> list[str]:
        paths = self._call("list", self.fs.glob, f"{self.root}/images/*/*.json")
        keys = (p.rsplit("/", 1)[1][: -len(".json")] for p in paths)
        return sorted(k for k in keys if KEY_RE.match(k))  # anything else is not an entry of ours

    def _blobs(self) -> list[str]:
        return sorted(self._call("list", self.fs.glob, f"{self.root}/blobs/*/*"))

    def verify_entries(self, scratch: Cache) -> dict[str, list[str]]:
        """Problems of each bad remote entry, by key; checked by adopting each into
        ``scratch`` (a throwaway local cache), exactly as a build would."""
        bad: dict[str, list[str]] = {}
        for key in self.keys():
            try:
                self.fetch(key, scratch)
            except BadRemoteEntry as exc:
                bad[key] = [f"{self.sidecar_path(key)}: {exc}"]
        return bad

    def _prune_copies(self, sources: set[str], cards: set[str] | None, dry_run: bool) -> list[tuple[str, int]]:
        """Copies (and backdrops) of images not in ``sources``, and cards not in ``cards``:
        only names this plugin writes, in their shard."""
        removed: list[tuple[str, int]] = []
        found = self._call("list", self.fs.glob, f"{self.root}/derived/*/*")
        found += self._call("list", self.fs.glob, f"{self.root}/social/*/*.jpg") if cards is not None else []
        for path in sorted(found):
            folder, _, name = path.rpartition("/")
            if not folder.endswith("/" + name[:2]):
                continue
            if folder.startswith(f"{self.root}/derived/"):
                ours = DERIVED_NAME_RE.match(name) or BACKDROP_NAME_RE.match(name)  # a copy, or its image's backdrop
                unused = ours is not None and name[:64] not in sources
            else:  # found only when ``cards`` is given
                key = name[:-len(".jpg")]  # social/<k2>/<key>.jpg
                unused = cards is not None and KEY_RE.match(key) is not None and key not in cards
            if unused:
                removed.append((path, int(self._call("stat", self.fs.size, path) or 0)))
                if not dry_run:
                    self._call("remove", self.fs.rm_file, path)
        return removed

    def remove(self, key: str) -> None:
        self._call("remove", self.fs.rm_file, self.sidecar_path(key))

    def prune(self, keep_keys: set[str], dry_run: bool = False,
              keep_cards: set[str] | None = None) -> list[tuple[str, int]]:
        """Remove sidecars no directive uses, then blobs no kept sidecar names, then the
        resized copies of images no kept sidecar names, and the cards not in
        ``keep_cards`` (None: every card stays, as a card's key needs its image's hash,
        which a machine without the image cannot know)."""
        removed: list[tuple[str, int]] = []
        kept_blobs: set[str] = set()
        for key in self.keys():
            path = self.sidecar_path(key)
            if key in keep_keys:
                try:
                    meta = load_sidecar(self._call("read", self.fs.cat_file, path))
                    kept_blobs.update(f["sha256"] for f in meta["files"]
                                      if isinstance(f, dict) and isinstance(f.get("sha256"), str))
                except (FileNotFoundError, BadSidecar, KeyError, TypeError):
                    pass
                continue
            removed.append((path, int(self._call("stat", self.fs.size, path) or 0)))
            if not dry_run:
                self._call("remove", self.fs.rm_file, path)
        for blob in self._blobs():
            name = blob.rsplit("/", 1)[1]
            if KEY_RE.match(name) and name not in kept_blobs:  # only what we could have written
                removed.append((blob, int(self._call("stat", self.fs.size, blob) or 0)))
                if not dry_run:
                    self._call("remove", self.fs.rm_file, blob)
        return removed + self._prune_copies(kept_blobs, keep_cards, dry_run)
