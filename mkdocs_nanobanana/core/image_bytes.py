"""Checks on image bytes before anything trusts them: format, real size and shape, full
decode."""

from __future__ import annotations

import hashlib
import io
import threading
import warnings
from collections import OrderedDict
from collections.abc import Callable
from typing import TYPE_CHECKING, TypeVar

from .errors import NanobananaError
from .frozen import frozen

__all__: list[str] = []

# Pillow is imported where pixels are touched: a warm build touches none, and skips it.
if TYPE_CHECKING:
    from PIL import Image

#: Largest image accepted, in pixels. The biggest catalog output (4K class) is ~17 MP;
#: anything far above that is a decompression bomb or not what we asked for.
MAX_PIXELS = 40_000_000
#: The longest side we can publish: WebP's limit (libwebp's WEBP_MAX_DIMENSION), the
#: smallest of the formats we write (JPEG's is 65,500, AVIF's and PNG's larger). A longer
#: side is stored, then fails every build's resize ("Image size exceeds WebP limit").
MAX_SIDE = 16_383
#: The most one side may be a multiple of the other. No model offers a ratio past 8:1
#: (the catalog's widest is 21:9); a 2x40,000 strip is no picture anyone asked for, and
#: its copies and card would be a column of a few pixels stretched across a page.
MAX_ASPECT = 16
T = TypeVar("T")

EXTENSIONS = {"PNG": "png", "JPEG": "jpg", "WEBP": "webp", "GIF": "gif", "AVIF": "avif"}
MIME_TYPES = {"png": "image/png", "jpg": "image/jpeg", "webp": "image/webp", "gif": "image/gif", "avif": "image/avif"}


class BadImage(NanobananaError, ValueError):
    """Bytes that are not a usable image."""


@frozen
class ImageInfo:
    ext: str  # file extension without the dot: png, jpg, webp, ...
    width: int
    height: int
    alpha: bool

    @property
    def mime(self) -> str:
        return MIME_TYPES[self.ext]


def has_alpha(img: Image.Image) -> bool:
    return img.mode in ("RGBA", "LA", "PA") or (img.mode == "P" and "transparency" in img.info)


#: Modes whose samples go past 255 (16-bit PNG greys open as I;16, 32-bit ints as I):
#: Pillow's convert() clips them to white instead of scaling them.
_WIDE_MODES = ("I;16", "I;16L", "I;16B", "I;16N", "I", "F")


def displayable(img: Image.Image, alpha: bool) -> Image.Image:
    """``img`` as 8-bit RGB, or RGBA when ``alpha``: the modes every encoder takes, with
    16-bit and 32-bit greys scaled to 0-255 (not clipped to white), a palette's
    transparency kept, and CMYK, YCbCr, 1-bit and LA turned into colours properly."""
    if img.mode in _WIDE_MODES:
        wide = img if img.mode in ("I", "F") else img.convert("I")
        top = 65535 if img.mode.startswith("I") else 1.0  # PNG goes to 16 bits; floats are 0-1
        img = wide.point(lambda v: v * (255 / top)).convert("L")
    target = "RGBA" if alpha else "RGB"
    return img if img.mode == target else img.convert(target)


def shape_problem(width: int, height: int) -> str | None:
    """What makes an image of this size one we cannot publish, or None."""
    if width < 1 or height < 1:
        return f"it is {width}x{height} pixels"
    if max(width, height) > MAX_SIDE:
        return f"it is {width}x{height} pixels, and no side may be longer than {MAX_SIDE:,} (WebP's limit)"
    if max(width, height) > MAX_ASPECT * min(width, height):
        return f"it is {width}x{height} pixels, a strip more than {MAX_ASPECT} times as long as it is wide"
    return None


def inspect(data: bytes) -> ImageInfo:
    """Format and real pixel size of ``data``, after a full decode; BadImage otherwise.

    Bytes that passed once are not decoded again (a download is checked where it
    arrives and again by the cache that stores it): hashing them is far cheaper than
    decoding them.
    """
    if not data:
        raise BadImage("empty file")
    digest = hashlib.sha256(data).digest()
    with _passed_lock:
        known = _passed.get(digest)
    if known is not None:
        return known
    info = _decode(data, digest.hex())
    with _passed_lock:
        _passed[digest] = info
        while len(_passed) > 4096:
            _passed.popitem(last=False)
    return info


_passed: OrderedDict[bytes, ImageInfo] = OrderedDict()  # sha256 -> what inspect found
_passed_lock = threading.Lock()

#: The pixels a thread last decoded to check them, by sha256 (hex), in a thread that
#: runs ``keeping_fresh``: a build's download is checked, stored and then resized by the
#: same thread (renderer.Renderer.render with ``here``), which takes them instead of
#: decoding the file a second time (a fifth of an image's CPU). Per thread, so nothing
#: waits on it; two at most, and only in threads that will take them.
_fresh = threading.local()
FRESH_PER_THREAD = 2  # a num: 2 answer's images


def keeping_fresh(fn: Callable[..., T], *args) -> T:
    """``fn(*args)``, with the images this thread checks meanwhile kept for ``take_fresh``."""
    _fresh.keep = True
    try:
        return fn(*args)
    finally:
        _fresh.keep = False


def _keep_fresh(sha256_hex: str, img: Image.Image) -> None:
    if not getattr(_fresh, "keep", False):
        return
    kept: OrderedDict[str, Image.Image] = getattr(_fresh, "pixels", None) or OrderedDict()
    kept[sha256_hex] = img
    while len(kept) > FRESH_PER_THREAD:
        kept.popitem(last=False)
    _fresh.pixels = kept


def take_fresh(sha256_hex: str) -> Image.Image | None:
    """The decoded pixels of the image with this sha256 if this thread checked it last,
    else None. Whatever else the thread kept is dropped: it is not coming next."""
    kept = getattr(_fresh, "pixels", None)
    if not kept:
        return None
    img = kept.pop(sha256_hex, None)
    kept.clear()
    return img


def _decode(data: bytes, sha256_hex: str) -> ImageInfo:
    from PIL import Image, UnidentifiedImageError

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as img:
                # The header gives the size before any pixel is decoded: refuse bombs here.
                if img.width * img.height > MAX_PIXELS:
                    raise BadImage(f"{img.width}x{img.height} pixels is over the {MAX_PIXELS:,}-pixel limit")
                shape = shape_problem(img.width, img.height)
                if shape:  # before any pixel is decoded too: a 2x40,000 strip is no bomb, but no image to publish
                    raise BadImage(shape)
                fmt = img.format or ""
                img.load()  # a truncated or corrupt file fails here, not later in a worker
                alpha = has_alpha(img)
                size = img.size
                _keep_fresh(sha256_hex, img)  # loaded pixels outlive the file's closing
    except BadImage:
        raise
    except UnidentifiedImageError:  # its message names a BytesIO object, useless to a user
        raise BadImage("not an image in a format we read (PNG, JPEG, WebP)") from None
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise BadImage(f"not a readable image ({exc})") from None
    ext = EXTENSIONS.get(fmt)
    if ext is None:
        raise BadImage(f"unsupported image format {fmt or 'unknown'}")
    return ImageInfo(ext=ext, width=size[0], height=size[1], alpha=alpha)


def to_png(data: bytes) -> bytes:
    """``data`` (an image ``inspect`` accepts) as a PNG: the first frame of an animation,
    its alpha kept. For APIs that take fewer formats than we read."""
    from PIL import Image

    with Image.open(io.BytesIO(data)) as img:
        img.seek(0)
        frame = img.convert("RGBA" if has_alpha(img) else "RGB")
    buf = io.BytesIO()
    frame.save(buf, "PNG")
    return buf.getvalue()
