"""What `nanobanana verify --fix` does with a bad entry: it never deletes an intact paid
image. The entry stops counting (its sidecar goes), and every image file of it that is
still the image that was paid for moves to ``partial/<key>/`` first, where the next
build takes it and pays only for the rest (build/purchase.py), as after a purchase that
failed half-way.

Which files are intact:

- the sidecar is readable and describes this key: a file whose sha256 is one the sidecar
  recorded for the entry (in any position: files swapped by hand are both kept, in the
  sidecar's order) and that decodes; any other file changed since it was stored;
- the sidecar is unreadable or describes another request (it is what was damaged): a
  file that decodes, in the order of its name's index. Nothing else can tell.
"""

from __future__ import annotations

from pathlib import Path

from ..core import image_bytes
from ..core.frozen import frozen
from ..core.request import sha256
from .cache import IMAGE_NAME_RE, BadSidecar, Cache, load_sidecar, parse_sidecar

__all__: list[str] = []


@frozen
class Repaired:
    kept: int  # intact images moved to partial/
    dropped: int  # damaged image files removed with the entry


def _recorded(cache: Cache, key: str) -> list[str] | None:
    """The sha256 of each file the sidecar records, in order; None if it cannot be trusted."""
    path = cache.sidecar_path(key)
    try:
        entry = parse_sidecar(key, load_sidecar(path.read_bytes()), path.parent)
    except (OSError, BadSidecar):
        return None
    return [img.sha256 for img in entry.images] if entry.request.key == key else None


def _image_files(cache: Cache, key: str) -> list[tuple[int, Path]]:
    folder = cache.images_dir / key[:2]
    found = []
    for path in folder.glob(f"{key}-*"):
        m = IMAGE_NAME_RE.match(path.name)
        if m is not None and m["key"] == key and path.is_file() and not path.is_symlink():
            found.append((int(m["index"]), path))
    return sorted(found)


def _decodes(data: bytes) -> bool:
    try:
        image_bytes.inspect(data)
    except image_bytes.BadImage:
        return False
    return True


def intact_images(cache: Cache, key: str) -> tuple[list[bytes], int]:
    """The intact images of ``key``'s entry, in order, and how many of its files are not."""
    recorded = _recorded(cache, key)
    files = _image_files(cache, key)
    ranked: list[tuple[int, bytes]] = []
    for index, path in files:
        try:
            data = path.read_bytes()
        except OSError:
            continue
        digest = sha256(data)
        if recorded is not None:
            if digest in recorded and _decodes(data):
                ranked.append((recorded.index(digest), data))
        elif _decodes(data):
            ranked.append((index, data))
    kept = [data for _, data in sorted(ranked, key=lambda r: r[0])]
    return kept, len(files) - len(kept)


def keep_intact_and_remove(cache: Cache, key: str) -> Repaired:
    """Remove the bad entry of ``key``, its intact images kept in partial/ first (under
    the key's lock: a build storing this key meanwhile is not undone). OSError if they
    cannot be kept: then nothing is removed."""
    with cache.lock(key):
        kept, dropped = intact_images(cache, key)
        if kept:
            cache.add_partial(key, kept)
        cache.remove(key)
    return Repaired(len(kept), dropped)
