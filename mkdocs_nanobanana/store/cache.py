"""The content-addressed store of generated images.

    <cache_dir>/images/<k[:2]>/<key>-<i>.<ext>   every candidate of a request
    <cache_dir>/images/<k[:2]>/<key>.json        sidecar, written last: the entry counts
                                                 only once it exists and its files match
    <cache_dir>/derived/<h[:2]>/<h>-<w>w-q<q>[-<e>].<ext>
                                                 resized copies: source hash, width, quality
                                                 and a digest of other encoder settings
    <cache_dir>/derived/<h[:2]>/<h>-backdrop-v<n>.json
                                                 its dominant colour and a tiny blur
                                                 (see backdrops.py)
    <cache_dir>/partial/<key>/<i>.<ext>          images of a request that failed half-way:
                                                 paid for, so the next build asks only for
                                                 the rest; removed once the entry is whole

Every write goes to a temp file in ``<cache_dir>/tmp/`` and is renamed into place (see
temp.py), so a killed build leaves either a whole file or a stray ``.tmp`` (removed
once it is older than any live write could be), never a half file under a real name.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, TypeVar

from ..core import image_bytes
from ..core.errors import NanobananaError
from ..core.frozen import frozen
from ..core.request import Request, sha256
from .folder_index import SHARD_RE, FolderIndex
from .manifest_damage import BadManifest, conflict_sides, merge_newest, set_aside, unrecovered
from .temp import TEMP_DIR, TEMP_SUFFIX, TempFolder

__all__: list[str] = []

try:
    import fcntl
except ImportError:  # Windows: no cross-process lock; at worst a key is paid twice
    fcntl = None  # type: ignore[assignment]

SIDECAR_VERSION = 1


@frozen
class CachedImage:
    path: Path
    sha256: str
    bytes: int
    width: int
    height: int
    alpha: bool


@frozen
class CacheEntry:
    key: str
    request: Request
    images: tuple[CachedImage, ...]
    provider: str
    credits: int
    created: str


#: A cache key (sha256 hex); every name the cache writes starts with one.
KEY_RE = re.compile(r"[0-9a-f]{64}\Z")
_IMAGE_EXTS = "|".join(sorted(set(image_bytes.EXTENSIONS.values())))  # as a regex alternation
#: The file names an entry's candidates may have: <key>-<i>.<ext>, nothing else.
IMAGE_NAME_RE = re.compile(r"(?P<key>[0-9a-f]{64})-(?P<index>[1-9][0-9]{0,2})\.(?P<ext>" + _IMAGE_EXTS + r")\Z")


SIDECAR_NAME_RE = re.compile(r"(?P<key>[0-9a-f]{64})\.json\Z")
#: A resized copy: <source id>-<width>w-q<quality>[-<encoder digest>].<ext> (see
#: Cache.derived_name and assets.Encoding.tag).
DERIVED_NAME_RE = re.compile(r"(?P<key>[0-9a-f]{64})-[0-9]{1,5}w-q[0-9]{1,3}(?:-[0-9a-f]{8})?\.(?:webp|jpg|png|avif)\Z")
#: A source's backdrop (``backdrop_name``): what its <img> box shows while it loads.
BACKDROP_NAME_RE = re.compile(r"(?P<key>[0-9a-f]{64})-backdrop-v[0-9]{1,3}\.json\Z")
#: The layout of a backdrop file (imaging/backdrops.py writes and reads it); in its name.
BACKDROP_VERSION = 1
PARTIAL_NAME_RE = re.compile(r"[1-9][0-9]{0,2}\.(?:" + _IMAGE_EXTS + r")\Z")


def _children(folder: Path) -> list[Path]:
    try:
        return sorted(folder.iterdir())
    except (FileNotFoundError, NotADirectoryError):
        return []


def sharded_files(top: Path, kinds: tuple[tuple[re.Pattern, str], ...],
                  foreign: list[Path] | None) -> list[tuple[str, str, Path]]:
    """(kind, key, path) of each regular file ``<top>/<key[:2]>/<name>`` whose name one of
    ``kinds``' patterns (each with a ``key`` group) matches, in its key's shard; every
    other thing goes to ``foreign`` (when given), but a write in progress (a temp file)."""
    found: list[tuple[str, str, Path]] = []
    for folder in _children(top):
        if folder.is_symlink() or not folder.is_dir() or not SHARD_RE.match(folder.name):
            if foreign is not None:
                foreign.append(folder)
            continue
        for path in _children(folder):
            match = next(((kind, m) for regex, kind in kinds if (m := regex.match(path.name))), None)
            if match is None or path.is_symlink() or not path.is_file() or match[1]["key"][:2] != folder.name:
                if foreign is not None and not path.name.endswith(TEMP_SUFFIX):
                    foreign.append(path)
                continue
            found.append((match[0], match[1]["key"], path))
    return found


MANIFEST_VERSION = 2
MANIFEST_LOCK = "0" * 62 + "ma"  # a lock name no sha256 key is likely to be; see Cache.lock


@frozen
class SiteRecord:
    """What one site used at its last build (or serve rebuild), draft pages included:
    what prune keeps for it while another site prunes the shared cache."""

    directives: dict[str, str]  # directive identity -> key (for plan's "changed")
    keys: frozenset[str]
    sources: frozenset[str]  # ids of every candidate it uses (pick may switch to any)
    built: str  # ISO time of that build
    # the resized copies it shows, "widths|exts|quality" -> source ids (see
    # usage.derived_groups), and its cards' keys; None in a record written before
    # they were recorded: prune then keeps every copy of its sources, and every card
    derived: dict[str, frozenset[str]] | None = None
    cards: frozenset[str] | None = None


def _str_map(data: Any) -> dict[str, str]:
    return {str(k): str(v) for k, v in data.items()} if isinstance(data, dict) else {}


def _str_set(data: Any) -> frozenset[str]:
    return frozenset(str(v) for v in data) if isinstance(data, list) else frozenset()


def _site_record(rec: Any) -> SiteRecord:
    rec = rec if isinstance(rec, dict) else {}
    derived = rec.get("derived")
    return SiteRecord(_str_map(rec.get("directives")), _str_set(rec.get("keys")), _str_set(rec.get("sources")),
                      str(rec.get("built", "")),
                      {str(k): _str_set(v) for k, v in derived.items()} if isinstance(derived, dict) else None,
                      _str_set(rec["cards"]) if isinstance(rec.get("cards"), list) else None)


def _record_json(r: SiteRecord) -> dict[str, Any]:
    data: dict[str, Any] = {"built": r.built, "directives": dict(r.directives), "keys": sorted(r.keys),
                            "sources": sorted(r.sources)}
    if r.derived is not None:
        data["derived"] = {spec: sorted(ids) for spec, ids in r.derived.items()}
    if r.cards is not None:
        data["cards"] = sorted(r.cards)
    return data


def _sites_of(raw: bytes) -> dict[str, SiteRecord] | str:
    """The records a manifest's bytes hold, or why they are not a manifest."""
    try:
        data = load_sidecar(raw)
    except BadSidecar as exc:
        return str(exc)
    if not isinstance(data, dict):
        return f"a JSON object is expected, this is {type(data).__name__}"
    if "version" not in data:  # the first format: directive -> key
        if all(isinstance(v, str) for v in data.values()):
            return {"": SiteRecord(_str_map(data), frozenset(), frozenset(), "")}
        return "neither format this plugin writes"
    if data["version"] != MANIFEST_VERSION:
        return f"version {data['version']!r}; this plugin reads {MANIFEST_VERSION}"
    sites = data.get("sites")
    if not isinstance(sites, dict) or not all(isinstance(rec, dict) for rec in sites.values()):
        return "its 'sites' is not an object of site records"
    return {str(site): _site_record(rec) for site, rec in sites.items()}


def now_iso() -> str:
    return datetime.now(timezone.utc).replace(microsecond=0).isoformat()


class BadSidecar(NanobananaError, ValueError):
    """A sidecar that does not describe an entry this cache could have written."""


_Kind = TypeVar("_Kind")


def _field(meta: dict, name: str, kind: type[_Kind]) -> _Kind:
    value = meta.get(name)
    # bool is an int to Python, never to a sidecar
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise BadSidecar(f"field '{name}' is {type(value).__name__}, expected {kind.__name__}")
    return value


def _count(meta: dict, name: str, low: int) -> int:
    """An int field that must be at least ``low``."""
    value = _field(meta, name, int)
    if value < low:
        raise BadSidecar(f"field '{name}' is {value}, expected at least {low}")
    return value


def _file_of(key: str, index: int, f: Any, folder: Path) -> CachedImage:
    if not isinstance(f, dict):
        raise BadSidecar(f"files[{index - 1}] is {type(f).__name__}, expected an object")
    name = _field(f, "name", str)
    m = IMAGE_NAME_RE.match(name)
    if m is None or m["key"] != key or int(m["index"]) != index:
        raise BadSidecar(f"file name {name[:80]!r} is not {key[:12]}...-{index}.<png|jpg|webp>")
    digest = _field(f, "sha256", str)
    if not KEY_RE.match(digest):
        raise BadSidecar(f"file {name}: 'sha256' is not 64 lowercase hex digits")
    return CachedImage(path=folder / name, sha256=digest, bytes=_count(f, "bytes", 1),
                       width=_count(f, "width", 1), height=_count(f, "height", 1),
                       alpha=_field(f, "alpha", bool))


def load_sidecar(data: bytes) -> Any:
    """A sidecar's JSON; BadSidecar if it is not UTF-8 JSON (or nests absurdly deep)."""
    try:
        return json.loads(data.decode("utf-8"))
    except (ValueError, RecursionError) as exc:
        raise BadSidecar(f"not JSON ({type(exc).__name__})") from None


def parse_sidecar(key: str, meta: Any, folder: Path) -> CacheEntry:
    """The entry a sidecar describes, every field checked for its type before use: a
    sidecar from a remote store, or a damaged local one, is data, not trusted code paths.
    BadSidecar says what is wrong."""
    if not KEY_RE.match(key):
        raise BadSidecar(f"{key[:80]!r} is not a cache key")
    if not isinstance(meta, dict):
        raise BadSidecar(f"a sidecar is a JSON object, this is {type(meta).__name__}")
    if meta.get("version", SIDECAR_VERSION) != SIDECAR_VERSION:
        raise BadSidecar(f"sidecar version {meta.get('version')!r}; this plugin reads {SIDECAR_VERSION}")
    refs = _field(meta, "refs", list)
    if not all(isinstance(r, str) for r in refs):
        raise BadSidecar("field 'refs' must list strings")
    request = Request(model=_field(meta, "model", str), prompt=_field(meta, "prompt", str),
                      ratio=_field(meta, "ratio", str), num=_count(meta, "num", 1),
                      refs=tuple(refs), rev=_count(meta, "rev", 0))
    files = _field(meta, "files", list)
    if len(files) != request.num:
        raise BadSidecar(f"{len(files)} file(s) listed for num {request.num}")
    entry_files = tuple(_file_of(key, i, f, folder) for i, f in enumerate(files, start=1))
    return CacheEntry(key, request, entry_files, _field(meta, "provider", str), _count(meta, "credits", 0),
                      _field(meta, "created", str))


def _files_whole(entry: CacheEntry) -> bool:
    """Whether each image of ``entry`` is there at its recorded size (a stat, not a hash)."""
    for img in entry.images:
        try:
            if img.path.stat().st_size != img.bytes:
                return False
        except OSError:
            return False
    return True


class _Manifest:
    """Which sites use a cache, and what each used at its last build (manifest.json):
    what ``plan`` compares against and ``prune`` keeps for other sites. A base of Cache,
    which gives it ``root``, ``temp`` and ``lock``."""

    root: Path
    temp: TempFolder

    def lock(self, key: str):  # Cache's cross-process lock
        raise NotImplementedError

    @property
    def manifest_path(self) -> Path:
        return self.root / "manifest.json"

    def read_sites(self) -> dict[str, SiteRecord]:
        """Every site that recorded its use of this cache, by its identity (see
        settings.site_identity); none if there is no manifest. A manifest of the first
        format (one site's directives, no site named) is read as the record of an
        unnamed site "" with no keys. BadManifest if it cannot be read (see
        manifest_damage.py), with the records of both sides of a git conflict."""
        try:
            raw = self.manifest_path.read_bytes()
        except FileNotFoundError:
            return {}
        except OSError as exc:
            raise BadManifest(self.manifest_path, f"cannot be read: {exc.strerror or exc}") from None
        sites = _sites_of(raw)
        if isinstance(sites, dict):
            return sites
        sides = conflict_sides(raw.decode("utf-8", "replace"))
        read = [side for side in map(_sites_of, (t.encode("utf-8") for t in sides or ())) if isinstance(side, dict)]
        recovered = merge_newest(read, lambda r: r.built) if sides and len(read) == len(sides) else None
        raise BadManifest(self.manifest_path, "git conflict markers" if sides else sites, recovered)

    def read_manifest(self, site: str = "") -> dict[str, str]:
        """Which key each directive of ``site`` (by page and name or position) had at its
        last build: how ``plan`` tells a changed directive from a new one."""
        try:
            sites = self.read_sites()
        except BadManifest as exc:
            sites = exc.recovered or {}
        record = sites.get(site) or sites.get("")
        return dict(record.directives) if record else {}

    def record_site(self, site: str, record: SiteRecord) -> str | None:
        """Put ``site``'s record into the manifest, keeping every other site's: under a
        lock, since two builds sharing the cache may finish at the same moment. A
        damaged manifest is set aside, not overwritten; then what to tell the user."""
        with self.lock(MANIFEST_LOCK):
            sites, note = self._sites_to_keep()
            sites.pop("", None)  # the first format's record named no site: it was this one's or is stale
            sites[site] = record
            self._write_sites(sites)
            return note

    def _sites_to_keep(self) -> tuple[dict[str, SiteRecord], str | None]:
        """The records to write back, and, if the manifest was damaged (and is now set
        aside), the warning that says so."""
        try:
            return self.read_sites(), None
        except BadManifest as exc:
            aside = set_aside(self.manifest_path, exc.recovered is not None)
            if exc.recovered is not None:
                return dict(exc.recovered), (
                    f"{self.manifest_path} had git conflict markers: both sides were read, every site keeps its "
                    f"newest record, and the file as it was is kept as {aside.name}")
            return {}, (f"{self.manifest_path} is damaged ({exc.why}): it is kept as {aside.name}, and a new one "
                        "records this site only. `nanobanana prune` refuses while that file is there, as it cannot "
                        "tell what the other sites use: build every site that shares this cache, then delete it")

    def write_manifest(self, directives: dict[str, str], site: str = "") -> None:
        """Record ``site``'s directives alone (its keys are theirs): a test's shortcut."""
        self.record_site(site, SiteRecord(dict(directives), frozenset(directives.values()), frozenset(), now_iso()))

    def forget_sites(self, keep: str) -> None:
        """Drop every site's record but ``keep``'s (``prune --all-sites``), a damaged
        manifest's and those of manifests set aside too."""
        with self.lock(MANIFEST_LOCK):
            sites, _ = self._sites_to_keep()
            self._write_sites({k: v for k, v in sites.items() if k == keep})
            for aside in unrecovered(self.root):
                aside.unlink(missing_ok=True)

    def _write_sites(self, sites: dict[str, SiteRecord]) -> None:
        data = {"version": MANIFEST_VERSION, "sites": {site: _record_json(r) for site, r in sites.items()}}
        text = json.dumps(data, sort_keys=True, indent=1, ensure_ascii=False) + "\n"
        self.temp.atomic_write(self.manifest_path, text.encode("utf-8"))


class Cache(_Manifest):
    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root)
        self.images_dir = self.root / "images"
        self.derived_dir = self.root / "derived"
        self.partial_dir = self.root / "partial"
        self.temp = TempFolder(self.root / TEMP_DIR)  # every write starts there
        # every sidecar, read once a build (see folder_index.py): a warm build opens none
        self.sidecar_index = FolderIndex(self.images_dir, self.root / "index-images.json", SIDECAR_NAME_RE,
                                         self.temp.atomic_write, self._sidecar_usable)
        self.backdrop_index = FolderIndex(self.derived_dir, self.root / "index-backdrops.json", BACKDROP_NAME_RE,
                                          self.temp.atomic_write)

    # -- originals ---------------------------------------------------------------------

    def sidecar_path(self, key: str) -> Path:
        return self.images_dir / key[:2] / f"{key}.json"

    def image_path(self, key: str, index: int, ext: str) -> Path:
        return self.images_dir / key[:2] / f"{key}-{index}.{ext}"

    def save_indexes(self) -> None:
        """Write the indexes of what this process read from the files (a build's end)."""
        self.sidecar_index.save()
        self.backdrop_index.save()

    def get(self, key: str) -> CacheEntry | None:
        """The entry for ``key`` if its sidecar exists and every file has the recorded size.

        Sizes are checked with a stat, not a hash; ``verify_entries`` does the full check.
        A build reads through ``get_indexed`` instead.
        """
        try:
            entry = self._entry_from_sidecar(key, load_sidecar(self.sidecar_path(key).read_bytes()))
        except (OSError, BadSidecar):
            return None
        return entry if _files_whole(entry) else None

    def get_indexed(self, key: str) -> CacheEntry | None:
        """``get`` as a build reads the cache: from the sidecar index (folder_index.py), so
        a warm build opens no sidecar and stats no image (each file's size was checked when
        its shard was read; ``verify`` checks its sha256). A key the index does not hold is
        looked up in the files: another build may have stored it since. The index is read
        once for this Cache's life, so a build makes a Cache of its own."""
        meta = self.sidecar_index.get(f"{key}.json")
        if meta is not None:
            try:
                return self._entry_from_sidecar(key, meta)
            except BadSidecar:
                pass
        return self.get(key)

    def _sidecar_usable(self, path: Path, meta: Any) -> bool:
        key = path.name[: -len(".json")]
        try:
            return _files_whole(self._entry_from_sidecar(key, meta))
        except BadSidecar:
            return False

    def _entry_from_sidecar(self, key: str, meta: Any) -> CacheEntry:
        return parse_sidecar(key, meta, self.sidecar_path(key).parent)

    def put(self, request: Request, candidates: list[bytes], provider: str, credits: int) -> CacheEntry:
        """Store the candidates of ``request``; images first, the sidecar last.

        Raises image_bytes.BadImage (and stores nothing that counts) if any candidate is not a
        readable image.
        """
        if len(candidates) != request.num:
            raise ValueError(f"expected {request.num} images, got {len(candidates)}")
        key = request.key
        infos = [image_bytes.inspect(data) for data in candidates]
        files = []
        for i, (data, info) in enumerate(zip(candidates, infos, strict=True), start=1):
            path = self.image_path(key, i, info.ext)
            self.temp.atomic_write(path, data)
            files.append({
                "name": path.name, "sha256": sha256(data), "bytes": len(data),
                "width": info.width, "height": info.height, "alpha": info.alpha,
            })
        meta = {
            "version": SIDECAR_VERSION, "key": key, "model": request.model, "prompt": request.prompt,
            "ratio": request.ratio, "num": request.num, "refs": list(request.refs), "rev": request.rev,
            "provider": provider, "credits": credits,
            "created": datetime.now(timezone.utc).replace(microsecond=0).isoformat(),
            "files": files,
        }
        text = json.dumps(meta, sort_keys=True, indent=2, ensure_ascii=False) + "\n"
        self.temp.atomic_write(self.sidecar_path(key), text.encode("utf-8"))
        entry = self.get(key)
        assert entry is not None
        self.sidecar_index.changed(f"{key}.json")
        return entry

    def adopt(self, key: str, sidecar: bytes, files: dict[str, bytes], decode: bool = True) -> CacheEntry:
        """Store an entry made elsewhere (the remote cache), after checking every byte of
        it against its sidecar; images first, the sidecar last. ValueError says what is
        wrong, and then nothing that counts was stored. ``decode=False`` (a build): the
        sha256 is the check, as the machine that stored those bytes decoded them; the
        pixels are decoded (and checked again) only if this build resizes the image,
        which a runner that also fetches its resized copies never does."""
        entry = self._entry_from_sidecar(key, load_sidecar(sidecar))
        if entry.request.key != key:
            raise ValueError("its sidecar describes a different request")
        for img in entry.images:
            data = files.get(img.path.name)
            if data is None:
                raise ValueError(f"{img.path.name} is missing")
            if len(data) != img.bytes or sha256(data) != img.sha256:
                raise ValueError(f"{img.path.name} does not match the sha256 of its sidecar")
            if not decode:
                continue
            try:
                info = image_bytes.inspect(data)
            except image_bytes.BadImage as exc:
                raise ValueError(f"{img.path.name}: {exc}") from None
            if (info.width, info.height) != (img.width, img.height):
                raise ValueError(
                    f"{img.path.name} is {info.width}x{info.height}, its sidecar says {img.width}x{img.height}")
        for img in entry.images:
            self.temp.atomic_write(img.path, files[img.path.name])
        self.temp.atomic_write(self.sidecar_path(key), sidecar)
        stored = self.get(key)
        assert stored is not None
        self.sidecar_index.changed(f"{key}.json")
        return stored

    # -- partial entries: some of a request's images, paid for by a build that failed ---

    def _partial_files(self, key: str) -> list[tuple[int, Path]]:
        """(index, path) of the images kept for ``key``, by index; temp files aside."""
        return sorted((int(path.name.split(".", 1)[0]), path) for path in _children(self.partial_dir / key)
                      if PARTIAL_NAME_RE.match(path.name))

    def partial(self, key: str) -> list[bytes]:
        """The images kept for ``key`` so far, in the order they were paid for; a file
        that no longer reads as an image is left out (it will be asked for again)."""
        kept = []
        for _, path in self._partial_files(key):
            try:
                data = path.read_bytes()
                image_bytes.inspect(data)
            except (OSError, image_bytes.BadImage):
                continue
            kept.append(data)
        return kept

    def partial_count(self, key: str) -> int:
        """How many kept images of ``key`` a purchase would take: those ``partial`` gives
        (each decoded), not the files by name, as a file cut short is asked for again. Plan
        and the budget count this, so they agree with what the buyer pays. Cheap when there
        is no folder (nearly always); a folder's images are decoded once a process."""
        return len(self.partial(key)) if (self.partial_dir / key).is_dir() else 0

    def add_partial(self, key: str, paid: list[bytes] | tuple[bytes, ...]) -> None:
        """Keep ``paid`` images of ``key`` after those already kept (under the key's lock)."""
        start = max((i for i, _ in self._partial_files(key)), default=0) + 1
        for i, data in enumerate(paid, start=start):
            self.temp.atomic_write(self.partial_dir / key / f"{i}.{image_bytes.inspect(data).ext}", data)

    def drop_partial(self, key: str) -> None:
        """Forget the kept images of ``key`` (its whole entry is stored)."""
        folder = self.partial_dir / key
        if folder.is_dir():
            for path in folder.iterdir():
                path.unlink(missing_ok=True)
            with contextlib.suppress(OSError):
                folder.rmdir()

    def keys(self) -> Iterator[str]:
        """Keys of the sidecars in the cache (a file that only looks like one is not)."""
        if self.images_dir.is_dir():
            for sidecar in sorted(self.images_dir.glob("*/*.json")):
                if SIDECAR_NAME_RE.match(sidecar.name) and sidecar.parent.name == sidecar.stem[:2]:
                    yield sidecar.stem

    def verify_entries(self, decode: bool = False) -> dict[str, list[str]]:
        """Problems of each bad entry, by key; entries with none are left out. Each file's
        size and sha256 against its sidecar (I/O bound); with ``decode``, also a full
        decode and its pixel size (CPU bound: bytes whose hash the sidecar recorded may
        still not be an image, if they were bad when it was written). One worker a core:
        hashlib and Pillow let go of the GIL."""
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(os.cpu_count() or 1) as pool:
            found = pool.map(lambda key: (key, self._entry_problems(key, decode)), list(self.keys()))
            return {key: problems for key, problems in found if problems}

    def problems(self, key: str, decode: bool = False) -> list[str]:
        """What is wrong with the entry of ``key`` (as ``verify_entries`` checks it); [] if nothing."""
        return self._entry_problems(key, decode)

    def _entry_problems(self, key: str, decode: bool) -> list[str]:
        sidecar = self.sidecar_path(key)
        try:
            entry = self._entry_from_sidecar(key, load_sidecar(sidecar.read_bytes()))
        except (OSError, BadSidecar) as exc:
            return [f"{sidecar}: unreadable sidecar ({exc})"]
        problems = [f"{sidecar}: sidecar describes a different request"] if entry.request.key != key else []
        for img in entry.images:
            problem = _check_file(img, decode)
            if problem:
                problems.append(f"{img.path}: {problem}")
        return problems

    def remove(self, key: str) -> list[tuple[Path, int]]:
        """Delete an entry: the sidecar first, so it stops counting before its files go."""
        folder = self.images_dir / key[:2]
        files = [self.sidecar_path(key)] + sorted(folder.glob(f"{key}-*"))
        removed = []
        for path in files:
            try:
                size = path.stat().st_size
                path.unlink()
                removed.append((path, size))
            except FileNotFoundError:
                pass
        self.sidecar_index.changed(f"{key}.json")
        return removed

    def owned_files(self) -> tuple[list[tuple[str, str, Path]], list[Path]]:
        """(kind, key or source id, path) of each file whose name and folder are the
        cache's own pattern; and every other thing under images/ and derived/."""
        foreign: list[Path] = []
        owned = sharded_files(self.images_dir, ((SIDECAR_NAME_RE, "sidecar"), (IMAGE_NAME_RE, "image")), foreign)
        owned += sharded_files(self.derived_dir, ((DERIVED_NAME_RE, "derived"), (BACKDROP_NAME_RE, "backdrop")),
                               foreign)
        for folder in _children(self.partial_dir):  # partial/<key>/<i>.<ext>
            if folder.is_symlink() or not folder.is_dir() or not KEY_RE.match(folder.name):
                foreign.append(folder)
                continue
            for path in _children(folder):
                if PARTIAL_NAME_RE.match(path.name) and path.is_file() and not path.is_symlink():
                    owned.append(("partial", folder.name, path))
                elif not path.name.endswith(TEMP_SUFFIX):
                    foreign.append(path)
        return owned, foreign

    @contextlib.contextmanager
    def lock(self, key: str) -> Iterator[None]:
        """Hold the key's lock across processes (a serve and a build, two CI jobs on one
        folder), so only one of them pays for the key.

        flock locks die with their process, so a killed build leaves no stale lock.
        """
        path = self.root / "locks" / key[:2] / f"{key}.lock"
        while True:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
            if fcntl is None:
                break
            fcntl.flock(fd, fcntl.LOCK_EX)
            try:  # prune removes a lock file no one holds: then ours is orphaned, take the new one
                if os.stat(path).st_ino == os.fstat(fd).st_ino:
                    break
            except FileNotFoundError:
                pass
            os.close(fd)
        try:
            yield
        finally:
            os.close(fd)  # closing releases the flock

    # -- derivatives -------------------------------------------------------------------

    def derived_path(self, source_id: str, width: int, ext: str, tag: str) -> Path:
        return self.derived_folder(source_id) / self.derived_name(source_id, width, ext, tag)

    def derived_folder(self, source_id: str) -> Path:
        return self.derived_dir / source_id[:2]

    def backdrop_path(self, source_id: str) -> Path:
        return self.derived_folder(source_id) / backdrop_name(source_id)

    @staticmethod
    def derived_name(source_id: str, width: int, ext: str, tag: str) -> str:
        """``tag``: the copy's ``assets.Encoding.tag`` ("q82", "q82-1a2b3c4d")."""
        return f"{source_id}-{width}w-{tag}.{ext}"


def backdrop_name(source_id: str) -> str:
    return f"{source_id}-backdrop-v{BACKDROP_VERSION}.json"


def _check_file(img: CachedImage, decode: bool) -> str | None:
    try:
        data = img.path.read_bytes()
    except OSError:
        return "missing"
    if len(data) != img.bytes:
        return f"size {len(data)} bytes, sidecar says {img.bytes}"
    if sha256(data) != img.sha256:
        return "content does not match the sidecar's sha256"
    if not decode:
        return None
    try:
        info = image_bytes.inspect(data)
    except image_bytes.BadImage as exc:
        return str(exc)
    if (info.width, info.height) != (img.width, img.height):
        return f"{info.width}x{info.height} pixels, sidecar says {img.width}x{img.height}"
    return None


def copy_spec(widths: list[int], exts: list[str], tag: str) -> str:
    """How the manifest records the resized copies a group of sources is written with
    (``SiteRecord.derived``): "480,768|webp,jpg|q82-1a2b3c4d"; ``derived_names`` reads it."""
    return f"{','.join(map(str, widths))}|{','.join(exts)}|{tag}"


def derived_names(groups: dict[str, frozenset[str]]) -> set[str]:
    """The file names ``derived_groups`` stands for."""
    names: set[str] = set()
    for spec, ids in groups.items():
        try:
            widths, exts, tag = spec.split("|")
            parsed = [int(w) for w in widths.split(",")], exts.split(","), tag if tag[:1] == "q" else f"q{int(tag)}"
        except ValueError:  # a damaged record: it keeps nothing, the site's next build records it again
            continue
        for sid in ids:  # (a record written before encoder digests holds the bare quality)
            names.update(Cache.derived_name(sid, w, ext, parsed[2]) for ext in parsed[1] for w in parsed[0])
    return names
