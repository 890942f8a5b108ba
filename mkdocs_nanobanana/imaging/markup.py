"""The ``<figure><picture>`` a page shows for an image's copies, and the URLs in it
(relative to the page, or absolute under site_url for feeds)."""

from __future__ import annotations

import functools
import html
import posixpath
import re
from collections.abc import Callable
from urllib.parse import quote

from ..core.image_bytes import MIME_TYPES
from .copies import Variant

__all__: list[str] = []


def relative_url(target: str, page_url: str) -> str:
    """``target`` (relative to the site root) as seen from the page at ``page_url``.

    Page URLs are MkDocs-style: ``""``, ``posts/a/`` (directory URLs) or ``posts/a.html``.
    Relative URLs keep the site working under a sub-path and opened from disk.
    """
    folder, name = posixpath.split(target)
    return _folder_prefix(folder, page_url) + name


def _folder_prefix(folder: str, page_url: str) -> str:
    """What comes before a file's name in ``folder`` (relative to the site root) as seen
    from the page at ``page_url``: "" for the page's own folder, else ``up/``."""
    base = page_url if page_url.endswith("/") else posixpath.dirname(page_url)
    up = _relative_folder(folder or ".", base or ".")
    return "" if up == "." else f"{up}/"


def url_path(path: str) -> str:
    """A file path as a URL path: a space, '#', '?', '%' or ',' in a page or folder name
    would end the URL (or split a srcset) if left as it is."""
    return quote(path, safe="/")


def absolute_url(target: str, site_url: str) -> str:
    """``target`` (relative to the site root) under ``site_url``, percent-encoded."""
    return site_url.rstrip("/") + "/" + url_path(target)


@functools.lru_cache(maxsize=4096)
def _relative_folder(folder: str, base: str) -> str:
    """posixpath.relpath(folder, base) for two folders relative to the site root, worked
    out from their parts: relpath asks the OS for the working directory twice a call, and
    a large site has as many page folders as pages (500 pages: 700 calls, 65 ms)."""
    to, start = posixpath.normpath(folder).split("/"), posixpath.normpath(base).split("/")
    if ".." in to or ".." in start or not folder or not base or folder[0] == "/" or base[0] == "/":
        return posixpath.relpath(folder, base)  # not two plain site folders: as relpath sees them
    to, start = [p for p in to if p != "."], [p for p in start if p != "."]
    common = 0
    for a, b in zip(to, start, strict=False):
        if a != b:
            break
        common += 1
    return "/".join([".."] * (len(start) - common) + to[common:]) or "."


def _linker(page_url: str, site_url: str) -> Callable[[str], str]:
    """The attribute value of a site file's URL in a page's <picture>: relative to
    ``page_url``, or under ``site_url``. An image's copies share one folder, whose
    relative URL is worked out once a picture, not once a copy."""
    folders: dict[str, str] = {}

    def link(url: str) -> str:
        if site_url:
            return html.escape(absolute_url(url, site_url))
        folder, name = posixpath.split(url)
        if folder not in folders:
            folders[folder] = url_path(_folder_prefix(folder, page_url))
        return html.escape(folders[folder] + url_path(name))

    return link


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

    link = _linker(page_url, site_url)

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


#: The class of an own picture's <picture> (a generated image's is its <figure class="nanobanana">).
OWN_PICTURE_CLASS = "nanobanana-picture"
#: Attributes of an author's <img> that the <picture> writes itself.
_OWN_PICTURE_ATTRS = ("src", "srcset", "sizes")


def _pixels(value: str | None) -> int | None:
    """A width or height attribute in CSS pixels ("300", "300px"), else None ("50%")."""
    text = (value or "").strip().lower().removesuffix("px").strip()
    return int(text) if text.isdigit() and int(text) > 0 else None


def picture_html(
    variants: list[Variant],
    *,
    page_url: str,
    attrs: tuple[tuple[str, str | None], ...],
    size: tuple[int, int],
    eager: bool = False,
    sizes: str | None = None,
    backdrop: str = "",
    site_url: str = "",
    fragment: str = "",
) -> str:
    """The <picture> of an author's own <img> (``responsive_images``): its copies as
    ``figure_html`` writes a generated image's (a <source> per format, best first, the
    last format as the <img>), and the author's attributes kept: alt, title, classes,
    data-*, and a width or height of theirs, which wins over ``size`` (the picture's own
    size: the layout stays the original's). ``fragment`` ("#only-light") stays on the
    src, where Material's CSS looks for it."""
    exts = list(dict.fromkeys(v.ext for v in variants))
    by_ext = {ext: sorted((v for v in variants if v.ext == ext), key=lambda v: v.width) for ext in exts}
    given = {k: v for k, v in attrs}
    width_hint = _pixels(given.get("width"))
    if width_hint or not sizes:
        shown = width_hint or size[0]
        sizes = f"(max-width: {shown}px) 100vw, {shown}px"

    link = _linker(page_url, site_url)

    def srcset(ext: str) -> str:
        return ", ".join(f"{link(v.url)} {v.width}w" for v in by_ext[ext])

    fallback = by_ext[exts[-1]][-1]
    own: list[tuple[str, str | None]] = [("alt", given.get("alt") or "")]
    if "width" not in given and "height" not in given:
        own += [("width", str(size[0])), ("height", str(size[1]))]
    own += [(k, v) for k, v in attrs if k not in _OWN_PICTURE_ATTRS and k != "alt" and k != "style"]
    style = "; ".join(filter(None, (backdrop, (given.get("style") or "").strip())))
    if style:
        own.append(("style", style))
    if "loading" not in given:
        own += [("loading", "eager"), ("fetchpriority", "high")] if eager else [("loading", "lazy")]
    if "decoding" not in given:
        own.append(("decoding", "async"))
    rest = " ".join(k if v is None else f'{k}="{html.escape(v)}"' for k, v in own)
    lines = [f'<picture class="{OWN_PICTURE_CLASS}">']
    for ext in exts[:-1]:
        lines.append(f'<source type="{MIME_TYPES[ext]}" srcset="{srcset(ext)}" sizes="{html.escape(sizes)}">')
    lines.append(f'<img src="{link(fallback.url)}{html.escape(fragment)}" srcset="{srcset(exts[-1])}" '
                 f'sizes="{html.escape(sizes)}" {rest}>')
    lines.append("</picture>")
    return "".join(lines)
