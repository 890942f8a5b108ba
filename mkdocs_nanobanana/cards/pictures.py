"""The page's own picture, as its card's image: front matter ``image:`` naming a local
file, else the page's first ordinary Markdown image of a local raster file.

Front matter ``image`` is read as mkdocs-rss-plugin reads it (util.py ``get_image``: the
file relative to the page's folder, its URL under site_url) and as Material's blog
writes it; a path with a leading slash, or one not found beside the page, is looked for
under docs_dir. A URL is never downloaded. Images in fenced code, inline code and HTML
comments are not the page's; nor is a directive's (its image is planned already).
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import unquote, urlsplit

from ..core.frozen import frozen

__all__: list[str] = []

#: What Pillow decodes from a file, of what pages show: the formats a card may be drawn on.
RASTER = (".png", ".jpg", ".jpeg", ".webp", ".gif")
_SCHEME_RE = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:|^//")
_FENCE_RE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
_COMMENT_RE = re.compile(r"<!--.*?-->", re.DOTALL)
_CODE_SPAN_RE = re.compile(r"(`+).+?\1", re.DOTALL)
_INLINE_IMAGE_RE = re.compile(r"!\[[^\]]*\]\(\s*(<[^>]*>|[^)\s]+)(?:\s+(?:\"[^\"]*\"|'[^']*'|\([^)]*\)))?\s*\)")
_REF_IMAGE_RE = re.compile(r"!\[([^\]]*)\](?:\[([^\]]*)\])?")
_REF_DEF_RE = re.compile(r"^ {0,3}\[([^\]]+)\]:\s*(<[^>]*>|\S+)", re.MULTILINE)


@frozen
class Picture:
    """Where a page's own picture is, and how a message names where the page says so."""

    path: str  # absolute
    origin: str  # "front matter image" or "line 12"


@frozen
class FrontMatterImage:
    """What front matter ``image`` is: none, a URL (left as it is), or a file (``picture``)
    or a name that is no raster file here (``problem``)."""

    url: str | None = None
    picture: Picture | None = None
    problem: str | None = None


def is_url(value: str) -> bool:
    return bool(_SCHEME_RE.match(value.strip()))


def _local(value: str, page: str, docs_dir: str) -> str | None:
    """The file a page-relative (or docs_dir-relative, with a leading slash) link names."""
    target = unquote(urlsplit(value.strip().strip("<>")).path)
    if not target:
        return None
    candidates = [os.path.join(docs_dir, target.lstrip("/"))] if target.startswith("/") else [
        os.path.join(docs_dir, os.path.dirname(page), target), os.path.join(docs_dir, target)]
    return next((os.path.normpath(c) for c in candidates if os.path.isfile(c)), None)


def front_matter_image(meta: Mapping[str, Any], page: str, docs_dir: str) -> FrontMatterImage:
    value = meta.get("image")
    if not isinstance(value, str) or not value.strip():
        return FrontMatterImage()
    if is_url(value):
        return FrontMatterImage(url=value.strip())
    path = _local(value, page, docs_dir)
    if path is None:
        return FrontMatterImage(problem=f"front matter image {value!r} is not a file (relative to the page or to "
                                        "docs_dir)")
    if not path.lower().endswith(RASTER):
        return FrontMatterImage(problem=f"front matter image {value!r} is not a raster image "
                                        f"({', '.join(RASTER)}): cards are drawn on pixels")
    return FrontMatterImage(picture=Picture(path, "front matter image"))


def first_image(body: str, page: str, docs_dir: str, first_line: int = 1) -> Picture | None:
    """The first Markdown image of the page (``![alt](path)`` or ``![alt][ref]``) that
    is a local raster file; None if there is none. ``first_line``: the file line the
    body starts at, for the picture's origin."""
    if "![" not in body:  # both forms start so: most pages show no picture, and are not read line by line
        return None
    refs = {m.group(1).strip().lower(): m.group(2) for m in _REF_DEF_RE.finditer(body)}
    for number, line in _prose_lines(_COMMENT_RE.sub(lambda m: "\n" * m.group(0).count("\n"), body)):
        line = _CODE_SPAN_RE.sub("", line)
        for link in _links(line, refs):
            if is_url(link) or not link.lower().split("?")[0].split("#")[0].endswith(RASTER):
                continue
            path = _local(link, page, docs_dir)
            if path is not None:
                return Picture(path, f"line {first_line + number}")
    return None


def _links(line: str, refs: dict[str, str]) -> list[str]:
    """The image links of a line, in order: inline ones and references."""
    found = [(m.start(), m.group(1)) for m in _INLINE_IMAGE_RE.finditer(line)]
    inline = {start for start, _ in found}
    for m in _REF_IMAGE_RE.finditer(line):
        if m.start() in inline:
            continue
        ref = (m.group(2) or m.group(1)).strip().lower()
        if ref in refs:
            found.append((m.start(), refs[ref]))
    return [link for _, link in sorted(found)]


def _prose_lines(body: str):
    """(index, line) of the lines outside fenced code blocks."""
    fence: str | None = None
    for number, line in enumerate(body.split("\n")):
        m = _FENCE_RE.match(line)
        if fence is not None:
            if m and m.group(1)[0] == fence[0] and len(m.group(1)) >= len(fence):
                fence = None
            continue
        if m:
            fence = m.group(1)
            continue
        # indented lines are read too: admonitions' and content tabs' bodies are indented
        yield number, line
