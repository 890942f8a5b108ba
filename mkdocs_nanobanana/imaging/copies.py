"""Resized, re-encoded copies of a source image, and publishing them into the site
(markup.py writes the <figure><picture> that shows them).

The derivative cache is keyed by the source's identity (sha256 of the original, or a
placeholder's id), the width, the format and the ``Encoding``, so a warm build only stats
files: it never decodes an image to learn its size (sizes follow from the source's).
"""

from __future__ import annotations

import contextlib
import errno
import io
import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

# Pillow is imported where pixels are touched: a warm build touches none, and skips it.
if TYPE_CHECKING:
    from PIL import Image

    from .provenance import Provenance

from ..core import image_bytes
from ..core.frozen import frozen
from ..core.settings import AvifSettings, Encoding
from ..store.cache import Cache

__all__: list[str] = []

T = TypeVar("T")

#: Config format name -> file extension.
FORMAT_EXT = {"webp": "webp", "jpeg": "jpg", "png": "png", "avif": "avif"}
_PIL_FORMAT = {"webp": "WEBP", "jpg": "JPEG", "png": "PNG", "avif": "AVIF"}


@frozen
class Source:
    """An image to derive from: its identity, its real size, and how to open it."""

    id: str
    width: int
    height: int
    alpha: bool
    open: Callable[[], Image.Image]
    provenance: Provenance | None = None  # written into every copy (the Encoding names the choice)
    encoding: Encoding | None = None  # how its copies are encoded; None: the site's (a generated image's)
    origin: str = ""  # a site's own picture: its docs path, for messages


@frozen
class Variant:
    """One derivative as published in the site."""

    url: str  # relative to site_dir, POSIX
    width: int
    height: int
    ext: str


def plan_widths(source_width: int, widths: tuple[int, ...] | list[int]) -> list[int]:
    """Configured widths that fit the source; the source width stands in for larger ones."""
    fit = sorted({w for w in widths if w <= source_width})
    if any(w > source_width for w in widths) or not fit:
        fit.append(source_width)
    return sorted(set(fit))


def plan_exts(formats: tuple[str, ...] | list[str], alpha: bool) -> list[str]:
    """File extensions to write, best first; JPEG cannot hold transparency, so PNG replaces it."""
    exts = []
    for fmt in formats:
        ext = FORMAT_EXT[fmt]
        if alpha and ext == "jpg":
            ext = "png"
        if ext not in exts:
            exts.append(ext)
    return exts


def scaled_height(width: int, source: Source) -> int:
    return max(1, round(source.height * width / source.width))


def encode(img: Image.Image, ext: str, enc: Encoding, xmp: bytes | None = None) -> bytes:
    """The copy's bytes; with ``xmp``, that packet is written into the file."""
    quality = enc.quality
    meta: dict = {"xmp": xmp} if xmp else {}
    if enc.option("own", ""):  # a site's own picture: its colour profile and kept EXIF (own_pixels.upright)
        meta.update({k: img.info[k] for k in ("icc_profile", "exif") if img.info.get(k)})
    buf = io.BytesIO()
    if ext == "jpg":
        # baseline: the same pixels as progressive at a third of the CPU, 1-3% more bytes
        img.convert("RGB").save(buf, "JPEG", quality=quality, optimize=True, **meta)
    elif ext == "png":
        img.save(buf, "PNG", compress_level=6, pnginfo=_png_xmp(xmp) if xmp else None,
                 **{k: v for k, v in meta.items() if k != "xmp"})
    elif ext == "webp":
        # libwebp's effort 0: as close to the exact resize as effort 2 or its default 4
        # (SSIM), bytes within 5%, at 60% of effort 2's CPU; encoding is most of a cold
        # build's local work (bench: cold_cpu's recipe)
        img.save(buf, "WEBP", quality=quality, method=0, **meta)
    elif ext == "avif":
        # one thread: the image pool already keeps every core busy with one image each
        avif = AvifSettings(int(enc.option("avif_quality", str(AvifSettings.quality))),
                            int(enc.option("avif_speed", str(AvifSettings.speed))))
        img.save(buf, "AVIF", quality=avif.quality, speed=avif.speed, max_threads=1, **meta)
    else:
        img.save(buf, _PIL_FORMAT[ext], quality=quality, **meta)
    return buf.getvalue()


def _png_xmp(xmp: bytes):
    """PNG has no xmp= on save: the packet goes in the iTXt chunk XMP readers look for."""
    from PIL import PngImagePlugin

    info = PngImagePlugin.PngInfo()
    info.add_itxt("XML:com.adobe.xmp", xmp.decode("utf-8"), zip=False)
    return info


#: (cache file, width, height, ext) of one derivative.
DerivedFile = tuple[Path, int, int, str]


def derivative_files(source: Source, widths: list[int], exts: list[str], enc: Encoding,
                     cache: Cache) -> list[DerivedFile]:
    """Every derivative of ``source``, made or not: where it lives in the cache and its
    size, which follows from the source's (no file is opened)."""
    folder = cache.derived_folder(source.id)  # one Path join a source, not two a file
    return [(folder / cache.derived_name(source.id, w, ext, enc.tag), w, scaled_height(w, source), ext)
            for ext in exts for w in widths]


@contextlib.contextmanager
def decoded(source: Source) -> Iterator[Image.Image]:
    """The source's pixels, ready to resize; BadImage if its file is gone or damaged (a
    cached image whose bytes changed since they were checked)."""
    from PIL import Image

    shape = image_bytes.shape_problem(source.width, source.height)
    if shape:  # stored before this check (or fetched by hash, undecoded): known from its sidecar
        raise image_bytes.BadImage(shape)
    try:
        img = source.open()
        img.load()
        if img.size != (source.width, source.height):  # a remote image is checked by hash, not decoded, when fetched
            raise image_bytes.BadImage(
                f"it is {img.width}x{img.height} pixels, its sidecar says {source.width}x{source.height}")
        pixels = image_bytes.displayable(img, source.alpha)
    except image_bytes.BadImage:
        raise
    except (OSError, SyntaxError, ValueError, MemoryError, Image.DecompressionBombError) as exc:
        raise image_bytes.BadImage(f"{type(exc).__name__}: {exc}") from None
    with img:
        yield pixels


def make_missing(source: Source, files: list[DerivedFile], enc: Encoding, write: Callable[[Path, bytes], object],
                 with_pixels: Callable[[Image.Image], None] | None = None) -> list[Path]:
    """Write those of ``files`` that are not there yet, one resize per size, each with
    ``write`` (``Cache.temp.create_once`` for the cache); the paths encoded. If it decodes
    the source, ``with_pixels`` sees the pixels first (what else needs them, so they are
    decoded once). BadImage if the source cannot be read; OSError if a copy cannot be
    written."""
    todo: dict[tuple[int, int], list[tuple[Path, str]]] = {}  # size -> files of that size
    for path, w, h, ext in files:
        if not path.exists():
            todo.setdefault((w, h), []).append((path, ext))
    encoded: list[Path] = []
    if todo:
        xmp = source.provenance.xmp() if source.provenance else None
        with decoded(source) as img:
            if with_pixels is not None:
                with_pixels(img)
            made: list[Image.Image] = []  # the copies resized so far, widest first
            for size in sorted(todo, reverse=True):  # one resize, encoded in every format
                resized = _pixel_work(resize, img, size, made)
                made.append(resized)
                for path, ext in todo[size]:
                    write(path, _pixel_work(encode, resized, ext, enc, xmp))  # OSError from write: the disk's
                    encoded.append(path)
    return encoded


def _pixel_work(work: Callable[..., T], *args: Any) -> T:
    """``work(*args)`` (a resize, an encode: in memory, no file), its failure a BadImage:
    what an encoder refuses (a side past its limit), or memory running out, is a fact of
    this image, which then shows a placeholder, not a traceback that ends the build."""
    try:
        return work(*args)
    except (OSError, ValueError, MemoryError, SyntaxError) as exc:
        raise image_bytes.BadImage(f"{type(exc).__name__}: {exc}") from None


#: A copy at least this many times the wanted width is resized from instead of the
#: source: LANCZOS from there keeps every frequency the smaller copy can show (SSIM
#: >= 0.997 against a resize from the source) at a fraction of the pixels read.
CASCADE_FACTOR = 2


def resize(source: Image.Image, size: tuple[int, int], made: list[Image.Image]) -> Image.Image:
    """``source`` at ``size`` (LANCZOS), from the narrowest of the ``made`` copies that
    is at least CASCADE_FACTOR times as wide, else from the source itself."""
    from PIL import Image

    if size == source.size:
        return source
    wide_enough = [copy for copy in made if copy.width >= CASCADE_FACTOR * size[0]]
    start = min(wide_enough, key=lambda copy: copy.width) if wide_enough else source
    return start.resize(size, Image.Resampling.LANCZOS)


def publish_uncached(source: Source, files: list[DerivedFile], enc: Encoding, out_dir: Path, url_dir: str,
                     basename: str) -> list[Variant]:
    """When the cache cannot take the copies (a full disk, a read-only cache_dir): encode
    them straight into the built site. OSError if the site cannot take them either."""
    out_dir.mkdir(parents=True, exist_ok=True)
    in_site = [(out_dir / f"{basename}-{w}.{ext}", w, h, ext) for _, w, h, ext in files]
    for path, *_ in in_site:
        path.unlink(missing_ok=True)  # a hard link of an earlier build's cached copy
    make_missing(source, in_site, enc, lambda path, data: path.write_bytes(data))
    return [Variant(url=f"{url_dir}/{path.name}", width=w, height=h, ext=ext) for path, w, h, ext in in_site]


def publish(files: list[DerivedFile], out_dir: Path, url_dir: str, basename: str) -> list[Variant]:
    """Hard-link (or copy, across file systems) derivatives into the built site."""
    out_dir.mkdir(parents=True, exist_ok=True)
    out = os.fspath(out_dir)  # plain strings: a warm build publishes thousands of files
    variants = []
    for path, w, h, ext in files:
        name = f"{basename}-{w}.{ext}"
        link_or_copy(path, f"{out}/{name}")
        variants.append(Variant(url=f"{url_dir}/{name}", width=w, height=h, ext=ext))
    return variants


def publish_cached(files: list[DerivedFile], out_dir: Path, url_dir: str, basename: str) -> list[Variant] | None:
    """``publish``, if every derivative is in the cache already: a warm image costs a few
    hard links and no Pillow. None when one has to be made first (what was linked by then
    is linked again, harmlessly, once it is)."""
    try:
        return publish(files, out_dir, url_dir, basename)
    except FileNotFoundError:
        return None


def link_or_copy(src: Path | str, dest: Path | str) -> None:
    """``dest`` becomes ``src``: one link(2) in a freshly cleaned site, the common case."""
    if _link(src, dest) or os.path.samefile(src, dest):
        return  # linked; or published already (a --dirty build, another job a moment ago)
    with contextlib.suppress(FileNotFoundError):
        os.unlink(dest)  # a stale file of an earlier (--dirty) build
    _link(src, dest)  # False: another job published the same file a moment ago


#: Where these come from link(2), a copy does instead (another file system, no hard links).
_NO_LINK = (errno.EXDEV, errno.EPERM, errno.EMLINK, errno.ENOTSUP, errno.EACCES)


def _link(src: Path | str, dest: Path | str) -> bool:
    """Hard-link ``src`` at ``dest``, or copy it where links cannot be made; False if
    ``dest`` exists (a copy replaces it). A missing ``src`` raises FileNotFoundError."""
    try:
        os.link(src, dest)
    except FileExistsError:
        return False
    except OSError as exc:
        if exc.errno not in _NO_LINK:
            raise
        shutil.copyfile(src, dest)
    return True


# --------------------------------------------------------------------------- HTML


