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
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

# Pillow is imported where pixels are touched: a warm build touches none, and skips it.
if TYPE_CHECKING:
    from PIL import Image

from .cache import Cache

#: Bump when the computation changes: the file name carries it, so old files are
#: recomputed and prune removes them.
VERSION = 1
#: Wide enough to show the picture's layout, small enough to stay a few hundred bytes.
BLUR_WIDTH = 20
BLUR_QUALITY = 50
#: The most a stored blur may hold: a larger one was not written by this module.
MAX_BLUR_CHARS = 4096

_COLOR_RE = re.compile(r"#[0-9a-f]{6}\Z")
_BLUR_RE = re.compile(r"data:image/webp;base64,[A-Za-z0-9+/]+={0,2}\Z")


@dataclass(frozen=True)
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
    return cache.derived_folder(source_id) / file_name(source_id)


def file_name(source_id: str) -> str:
    return f"{source_id}-backdrop-v{VERSION}.json"


def compute(pixels: Image.Image) -> Backdrop:
    """The backdrop of decoded, displayable pixels (what assets.decoded yields)."""
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
    r, g, b = (palette.getpalette() or [0, 0, 0])[index * 3:index * 3 + 3]
    return f"#{r:02x}{g:02x}{b:02x}"


def load(path: Path) -> Backdrop | None:
    """The stored backdrop, or None if the file is missing or is not one this module
    wrote (damaged, hand-edited: it is recomputed)."""
    try:
        data = json.loads(path.read_bytes().decode("utf-8"))
    except (OSError, ValueError):
        return None
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
    text = json.dumps({"version": VERSION, "color": backdrop.color, "blur": backdrop.blur}, sort_keys=True)
    cache.temp.atomic_write(path, (text + "\n").encode("utf-8"))
