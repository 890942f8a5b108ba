"""What an image's box shows while the image loads: its dominant colour, or a ~20 px wide
blurred WebP, as an inline style on the <img> (``backdrop: color | blur | none``).

Both are computed together, once per source image, from pixels a build has decoded
anyway (to resize them), and kept beside its resized copies as
``derived/<id[:2]>/<id>-backdrop-v<VERSION>.json``: a warm build reads that small file and
decodes nothing. Not in the entry's sidecar: a placeholder has none, a sidecar is the
record of what was paid for (shared with the remote tier and checked byte for byte),
and a cache made before backdrops existed gets the file on its next build without
rewriting a sidecar another build may be reading.
"""

from __future__ import annotations

import base64
import io
import json
import re
import threading
from collections.abc import Callable
from concurrent.futures import Executor, Future
from pathlib import Path
from typing import TYPE_CHECKING

# Pillow is imported where pixels are touched: a warm build touches none, and skips it.
if TYPE_CHECKING:
    from PIL import Image

from ..core import image_bytes
from ..core.frozen import frozen
from ..store.cache import BACKDROP_VERSION, Cache
from . import copies

__all__: list[str] = []

#: Bump when the computation changes: the file name carries it, so old files are
#: recomputed and prune removes them.
VERSION = BACKDROP_VERSION  # the store names the file by it
#: Wide enough to show the picture's layout, small enough to stay a few hundred bytes.
BLUR_WIDTH = 20
BLUR_QUALITY = 50
#: The most a stored blur may hold: a larger one was not written by this module.
MAX_BLUR_CHARS = 4096

_COLOR_RE = re.compile(r"#[0-9a-f]{6}\Z")
_BLUR_RE = re.compile(r"data:image/webp;base64,[A-Za-z0-9+/]+={0,2}\Z")


@frozen
class Backdrop:
    color: str  # "#rrggbb": the most common colour of the image
    blur: str  # "data:image/webp;base64,...": the image BLUR_WIDTH px wide

    def style(self, kind: str) -> str:
        """The <img>'s inline style for ``kind``: "" for none. The colour stays under
        the blur, so a browser that will not show the data URI still shows the colour.
        Painted in the content box only (where the picture will be): a theme that pads
        its images (MkDocs' own pads 4 px) would otherwise keep a ring of it around the
        loaded picture."""
        if kind == "color":
            return f"background:{self.color} content-box"
        if kind == "blur":
            return f"background:{self.color} url({self.blur}) center/cover no-repeat content-box"
        return ""


def path_of(cache: Cache, source_id: str) -> Path:
    return cache.backdrop_path(source_id)


def compute(pixels: Image.Image) -> Backdrop:
    """The backdrop of decoded, displayable pixels (what copies.decoded yields)."""
    from PIL import Image

    width = BLUR_WIDTH
    # a very tall image stays within what WebP can hold (and its blur is cropped by cover anyway)
    height = min(max(1, round(pixels.height * width / pixels.width)), 8 * width)
    # BOX over the whole image: every pixel counts once, and it costs ~2 ms at 1344x768;
    # converted after (RGBA: a copy of every pixel first would cost more than the resize)
    small = pixels.resize((width, height), Image.Resampling.BOX).convert("RGB")
    buf = io.BytesIO()
    small.save(buf, "WEBP", quality=BLUR_QUALITY, method=6)
    return Backdrop(dominant_color(small), "data:image/webp;base64," + base64.b64encode(buf.getvalue()).decode("ascii"))


def dominant_color(small: Image.Image) -> str:
    """The most common of the image's 8 median-cut colours, as gatsby-plugin-image's
    dominantColor does: a colour the picture really has, not the grey an average of a
    colourful picture can be."""
    from PIL import Image

    palette = small.quantize(colors=8, method=Image.Quantize.MEDIANCUT)
    _, index = max(palette.getcolors() or [(1, 0)])
    assert isinstance(index, int), "a 'P' image's colours are indexes into its palette"
    r, g, b = (palette.getpalette() or [0, 0, 0])[index * 3:index * 3 + 3]
    return f"#{r:02x}{g:02x}{b:02x}"


def load(path: Path) -> Backdrop | None:
    """The stored backdrop, or None if the file is missing or is not one this module
    wrote (damaged, hand-edited: it is recomputed)."""
    try:
        return parse(json.loads(path.read_bytes().decode("utf-8")))
    except (OSError, ValueError):
        return None


def parse(data: object) -> Backdrop | None:
    """A backdrop file's JSON as a Backdrop; None if it is not one this module wrote."""
    if not isinstance(data, dict) or data.get("version") != VERSION:
        return None
    color, blur = data.get("color"), data.get("blur")
    if not isinstance(color, str) or not _COLOR_RE.match(color):
        return None
    if not isinstance(blur, str) or len(blur) > MAX_BLUR_CHARS or not _BLUR_RE.match(blur):
        return None
    return Backdrop(color, blur)


def store(cache: Cache, path: Path, backdrop: Backdrop) -> None:
    """Write it atomically (a reader sees the old file or the new one); OSError if the
    cache cannot take it."""
    data = {"version": VERSION, "color": backdrop.color, "blur": backdrop.blur}
    cache.temp.atomic_write(path, (json.dumps(data, sort_keys=True) + "\n").encode("utf-8"))
    cache.backdrop_index.changed(path.name)


class Keeper:
    """One build's backdrops, one per source: computed from pixels a resize decoded
    (``keep``), else read from the cache, else (a cache from before backdrops) computed
    once on the image pool (``job``)."""

    def __init__(self, cache: Cache, pool: Executor, source_lock: Callable[[str], threading.Lock],
                 damaged: set[str]) -> None:
        self.cache = cache
        self.pool = pool
        self._source_lock = source_lock  # the renderer's: a source is decoded by one thread at a time
        self.damaged = damaged  # the renderer's: source ids whose cached file did not decode
        self._lock = threading.Lock()
        self._jobs: dict[str, Future] = {}  # source id -> its Backdrop (None: it has none)
        self._computed: dict[str, Backdrop] = {}  # computed here, whether or not the cache took them

    def job(self, source: copies.Source, files: Future) -> Future:
        """The source's Backdrop (None: it has none), looked for once its ``files`` job is
        done: a resize that decoded the source computed it then. Otherwise it is read from
        its small file in the cache (a warm build decodes nothing), or, for a cache made
        before backdrops, computed on the image pool. Asking the pool at once instead would
        take a worker that then waits for the resize to let go of the source."""
        mine: Future = Future()
        with self._lock:
            job = self._jobs.setdefault(source.id, mine)
        if job is mine:  # else another slot of this source asked first
            files.add_done_callback(lambda _: self._settle(source, job))
        return job

    def _settle(self, source: copies.Source, job: Future) -> None:
        # a callback: an exception here would be swallowed and leave the figure waiting
        try:
            found = self._known(source.id)
            if found is not None or source.id in self.damaged:
                job.set_result(found)
                return
            inner = self.pool.submit(self._make, source)
            inner.add_done_callback(lambda f: job.set_result(None if f.cancelled() or f.exception() else f.result()))
        except BaseException:  # noqa: BLE001 - e.g. the pool is shut down: no backdrop, the figure goes on
            if not job.done():
                job.set_result(None)

    def _make(self, source: copies.Source) -> Backdrop | None:
        with self._source_lock(source.id):
            found = self._known(source.id)  # again: a resize may have computed it meanwhile
            if found is not None:
                return found
            try:
                with copies.decoded(source) as pixels:
                    return self.keep(source.id, pixels)
            except (image_bytes.BadImage, OSError):  # a damaged image: its figure's own render says so
                return None

    def _known(self, source_id: str) -> Backdrop | None:
        """Computed in this build, else stored in the cache (its index, else its file: another
        build may have stored it since the index was read); None if neither."""
        path = path_of(self.cache, source_id)
        indexed = self.cache.backdrop_index.get(path.name)
        return self._computed.get(source_id) or (parse(indexed) if indexed is not None else None) or load(path)

    def keep(self, source_id: str, pixels: Image.Image) -> Backdrop | None:
        """Compute a backdrop and keep it; a cache that cannot take the file (full, read-only)
        only means the next build computes it again. None if Pillow cannot make one: a
        figure without a backdrop, never a failed figure."""
        try:
            backdrop = compute(pixels)
        except (ValueError, OSError, MemoryError):
            return None
        with self._lock:
            self._computed[source_id] = backdrop
        try:
            store(self.cache, path_of(self.cache, source_id), backdrop)
        except OSError:
            pass
        return backdrop
