"""Resized, re-encoded copies of a source image, and the <figure><picture> that shows them.

The derivative cache is keyed by the source's identity (sha256 of the original, or a
placeholder's id), the width, the format and the ``Encoding``, so a warm build only stats
files: it never decodes an image to learn its size (sizes follow from the source's).
"""

from __future__ import annotations

import contextlib
import errno
import functools
import html
import io
import os
import posixpath
import re
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Iterator
from urllib.parse import quote

# Pillow is imported where pixels are touched: a warm build touches none, and skips it.
if TYPE_CHECKING:
    from PIL import Image

    from .provenance import Provenance

from .cache import Cache
from . import images
from .images import MIME_TYPES
from .settings import AvifSettings, Encoding

#: Config format name -> file extension.
FORMAT_EXT = {"webp": "webp", "jpeg": "jpg", "png": "png", "avif": "avif"}
_PIL_FORMAT = {"webp": "WEBP", "jpg": "JPEG", "png": "PNG", "avif": "AVIF"}


@dataclass(frozen=True)
class Source:
    """An image to derive from: its identity, its real size, and how to open it."""

    id: str
    width: int
    height: int
    alpha: bool
    open: Callable[[], Image.Image]
    provenance: Provenance | None = None  # written into every copy (the Encoding names the choice)


@dataclass(frozen=True)
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
    meta = {"xmp": xmp} if xmp else {}
    buf = io.BytesIO()
    if ext == "jpg":
        # baseline: the same pixels as progressive at a third of the CPU, 1-3% more bytes
        img.convert("RGB").save(buf, "JPEG", quality=quality, optimize=True, **meta)
    elif ext == "png":
        img.save(buf, "PNG", compress_level=6, pnginfo=_png_xmp(xmp) if xmp else None)
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
        img.save(buf, _PIL_FORMAT[ext], quality=quality)
    return buf.getvalue()


def _png_xmp(xmp: bytes):
    """PNG has no xmp= on save: the packet goes in the iTXt chunk XMP readers look for."""
    from PIL import PngImagePlugin

    info = PngImagePlugin.PngInfo()
    info.add_itxt("XML:com.adobe.xmp", xmp.decode("utf-8"), zip=False)
    return info


#: (cache file, width, height, ext) of one derivative.
DerivedFile = tuple[Path, int, int, str]


def derivative_files(source: Source, widths: list[int], exts: list[str], enc: Encoding, cache: Cache) -> list[DerivedFile]:
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

    try:
        img = source.open()
        img.load()
        if img.size != (source.width, source.height):  # a remote image is checked by hash, not decoded, when fetched
            raise images.BadImage(f"it is {img.width}x{img.height} pixels, its sidecar says {source.width}x{source.height}")
        pixels = images.displayable(img, source.alpha)
    except images.BadImage:
        raise
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as exc:
        raise images.BadImage(f"{type(exc).__name__}: {exc}") from None
    with img:
        yield pixels


def make_missing(source: Source, files: list[DerivedFile], enc: Encoding, write: Callable[[Path, bytes], None],
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
                resized = resize(img, size, made)
                made.append(resized)
                for path, ext in todo[size]:
                    write(path, encode(resized, ext, enc, xmp))
                    encoded.append(path)
    return encoded


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


def relative_url(target: str, page_url: str) -> str:
    """``target`` (relative to the site root) as seen from the page at ``page_url``.

    Page URLs are MkDocs-style: ``""``, ``posts/a/`` (directory URLs) or ``posts/a.html``.
    Relative URLs keep the site working under a sub-path and opened from disk.
    """
    base = page_url if page_url.endswith("/") else posixpath.dirname(page_url)
    folder, name = posixpath.split(target)
    up = _relative_folder(folder or ".", base or ".")
    return name if up == "." else f"{up}/{name}"


def url_path(path: str) -> str:
    """A file path as a URL path: a space, '#', '?', '%' or ',' in a page or folder name
    would end the URL (or split a srcset) if left as it is."""
    return quote(path, safe="/")


def absolute_url(target: str, site_url: str) -> str:
    """``target`` (relative to the site root) under ``site_url``, percent-encoded."""
    return site_url.rstrip("/") + "/" + url_path(target)


@functools.lru_cache(maxsize=4096)
def _relative_folder(folder: str, base: str) -> str:
    # relpath asks the OS for the working directory twice per call; a page has a dozen
    # URLs, all in one or two folders
    return posixpath.relpath(folder, base)


def figure_html(
    variants: list[Variant],
    *,
    page_url: str,
    alt: str,
    caption: str | None = None,
    eager: bool = False,
    placeholder: bool = False,
    css_class: tuple[str, ...] = (),
    width_hint: int | None = None,
    title: str | None = None,
    site_url: str = "",
    sizes: str | None = None,
    ai_label: str | None = None,
    backdrop: str = "",
) -> str:
    """The <figure><picture> of one image: a <source> per format, best first, and the
    last format as the <img> fallback, with width/height so the page does not jump.
    URLs are relative to ``page_url``, or absolute under ``site_url`` when it is given
    (for a feed, read away from the site). ``ai_label``: the image was generated: the
    figure says so to scripts (data-ai-generated) and, when the text is not empty, to
    readers, at the end of its caption. ``backdrop``: the <img>'s inline style, what its
    box shows until the image paints (backdrops.Backdrop.style)."""
    exts = list(dict.fromkeys(v.ext for v in variants))
    by_ext = {ext: sorted((v for v in variants if v.ext == ext), key=lambda v: v.width) for ext in exts}
    largest = max(v.width for v in variants)
    if width_hint or not sizes:  # a width hint says how wide it shows, whatever the theme
        shown = min(width_hint, largest) if width_hint else largest
        sizes = f"(max-width: {shown}px) 100vw, {shown}px"

    def link(url: str) -> str:
        return html.escape(absolute_url(url, site_url) if site_url else url_path(relative_url(url, page_url)))

    def srcset(ext: str) -> str:
        return ", ".join(f"{link(v.url)} {v.width}w" for v in by_ext[ext])

    classes = ["nanobanana"] + (["nanobanana-placeholder"] if placeholder else []) + list(css_class)
    fallback = by_ext[exts[-1]][-1]
    loading = 'loading="eager" fetchpriority="high"' if eager else 'loading="lazy"'
    ai_attr = ' data-ai-generated="true"' if ai_label is not None else ""
    lines = [f'<figure class="{html.escape(" ".join(classes))}"{ai_attr}>', "<picture>"]
    for ext in exts[:-1]:
        lines.append(f'<source type="{MIME_TYPES[ext]}" srcset="{srcset(ext)}" sizes="{html.escape(sizes)}">')
    title_attr = f' title="{html.escape(title)}"' if title else ""
    style_attr = f' style="{html.escape(backdrop)}"' if backdrop else ""
    lines.append(
        f'<img src="{link(fallback.url)}" srcset="{srcset(exts[-1])}" '
        f'sizes="{html.escape(sizes)}" width="{fallback.width}" height="{fallback.height}" '
        f'alt="{html.escape(alt)}"{title_attr}{style_attr} {loading} decoding="async">'
    )
    lines.append("</picture>")
    badge = f'<span class="nanobanana-ai-label">{html.escape(ai_label)}</span>' if ai_label else ""
    if caption or badge:
        lines.append(f"<figcaption>{' '.join(filter(None, (html.escape(caption or ''), badge)))}</figcaption>")
    lines.append("</figure>")
    return "\n".join(lines)


def embed(page_html: str, figures: dict[str, str], token: str) -> str:
    """Put each figure where its token stands, in one pass over the page (a page with
    thousands of images must not be copied once per image). ``token`` is a regular
    expression for every token of the build: one pattern, compiled once, not one per page.
    A token alone in a <p> takes the <p> with it: a <figure> inside a <p> is invalid HTML.
    A token with no figure here is left as it is."""
    if not figures:
        return page_html
    pattern = re.compile(rf"<p>\s*({token})\s*</p>|({token})")
    return pattern.sub(lambda m: figures.get(m.group(1) or m.group(2), m.group(0)), page_html)
