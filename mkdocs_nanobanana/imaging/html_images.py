"""The ``<img>``s of a page's HTML, found with Python's own HTML parser (html.parser), and
edits that change only the tags they are about: every other byte of the page stays as
it was.

Three uses:

- ``images``: each ``<img>`` with its attributes, where it stands, and what it is
  inside (a link, code, a ``<picture>`` of its own...): what ``responsive_images``
  may turn into a ``<picture>`` (build/own_images.py decides).
- ``hoist_links``: a lightbox (mkdocs-glightbox, and any that wraps an ``<img>`` in an
  ``<a>``) that wrapped the ``<img>`` inside a ``<picture>`` made ``picture > a > img``,
  where browsers ignore the ``<source>``s and load the fallback JPEG: the ``<a>`` is
  moved around the whole ``<picture>``.
- ``fix_srcsets``: Zensical's blog views rewrite each ``src`` of a post's excerpt for
  the view's URL, and leave ``srcset`` as the post page had it, which resolves above the
  site's root: under a sub-path, every ``<source>`` 404s. Our URLs are rewritten for the
  page's own URL, src and srcset alike.
"""

from __future__ import annotations

import bisect
import html
import re
from html.parser import HTMLParser

from ..core.frozen import frozen
from .markup import relative_url

__all__: list[str] = []

VOID = frozenset(("area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param", "source",
                  "track", "wbr"))
#: An <img> inside one of these is not ours to change: code shows it, a <picture> (an
#: author's or ours) has its own sources, the others are not the page's flow.
BLOCKING = frozenset(("code", "pre", "picture", "svg", "math", "noscript", "template", "textarea", "video", "audio",
                      "object"))

Attrs = tuple[tuple[str, str | None], ...]


@frozen
class Tag:
    name: str
    attrs: Attrs
    start: int  # offsets of the tag's text in the page
    end: int

    def get(self, name: str) -> str | None:
        return next((v for k, v in self.attrs if k == name), None)


@frozen
class ImgTag:
    tag: Tag
    link: Tag | None  # the nearest <a> around it, if any
    blocked: str | None  # the nearest BLOCKING element around it, if any
    classes: frozenset[str]  # of every element around it (the region a caller asks for)


@frozen
class Picture:
    tag: Tag  # the <picture> start tag
    inside: tuple[Tag, ...]  # the start and end tags ("/a") within it, in order
    close: Tag  # its </picture>


class _Scan(HTMLParser):
    """Start and end tags with their offsets: the <img>s with what is around them, and
    the <picture>s with the tags inside them."""

    def __init__(self, text: str) -> None:
        super().__init__(convert_charrefs=True)
        self._lines = [0] + [m.end() for m in re.finditer("\n", text)]
        self.text = text
        self.stack: list[Tag] = []  # the elements open here
        self.images: list[ImgTag] = []
        self.pictures: list[Picture] = []
        self._open: list[tuple[Tag, list[Tag]]] = []  # <picture>s open here, with the tags inside

    def _offset(self) -> int:
        line, column = self.getpos()
        return self._lines[line - 1] + column

    def handle_starttag(self, tag: str, attrs: list) -> None:
        start = self._offset()
        node = Tag(tag, tuple(attrs), start, start + len(self.get_starttag_text() or ""))
        if tag == "img":
            link = next((t for t in reversed(self.stack) if t.name == "a"), None)
            blocked = next((t.name for t in reversed(self.stack) if t.name in BLOCKING), None)
            classes = frozenset(c for t in self.stack for c in (t.get("class") or "").split())
            self.images.append(ImgTag(node, link, blocked, classes))
        if self._open:
            self._open[-1][1].append(node)
        if tag == "picture":
            self._open.append((node, []))
        if tag not in VOID:
            self.stack.append(node)

    def handle_startendtag(self, tag: str, attrs: list) -> None:
        self.handle_starttag(tag, attrs)
        if tag not in VOID and self.stack and self.stack[-1].name == tag:
            self.stack.pop()
            if tag == "picture":
                self._open.pop()

    def handle_endtag(self, tag: str) -> None:
        start = self._offset()
        node = Tag("/" + tag, (), start, (self.text.find(">", start) + 1) or len(self.text))
        for i in range(len(self.stack) - 1, -1, -1):  # an end tag closes what it matches, and what is open in it
            if self.stack[i].name == tag:
                closed = self.stack[i:]
                del self.stack[i:]
                break
        else:
            return  # a stray end tag
        if tag == "picture":
            opened = self._open.pop() if self._open and self._open[-1][0] is closed[0] else None
            if opened is not None:
                self.pictures.append(Picture(opened[0], tuple(opened[1]), node))
        elif self._open:
            self._open[-1][1].append(node)


def _scan(text: str) -> _Scan:
    scan = _Scan(text)
    scan.feed(text)
    scan.close()
    return scan


def images(text: str) -> list[ImgTag]:
    """Every <img> of ``text``, in page order."""
    return _scan(text).images if "<img" in text else []


def replace_spans(text: str, edits: list[tuple[int, int, str]]) -> str:
    """``text`` with each (start, end) span replaced, in one pass; spans must not overlap."""
    if not edits:
        return text
    out, at = [], 0
    for start, end, new in sorted(edits):
        out += [text[at:start], new]
        at = end
    out.append(text[at:])
    return "".join(out)


def start_tag(name: str, attrs: Attrs) -> str:
    """A start tag written as Python-Markdown writes one: ``<img alt="a" src="b">``."""
    parts = [name] + [k if v is None else f'{k}="{html.escape(v)}"' for k, v in attrs]
    return "<" + " ".join(parts) + ">"


# -- a lightbox's <a> inside a <picture> --------------------------------------------


def hoist_links(text: str) -> str:
    """Each ``<picture>`` whose ``<img>`` a lightbox wrapped in an ``<a>`` (``picture > a
    > img``) becomes ``a > picture > img``: browsers then choose among the ``<source>``s
    again. Pages without one are returned as they are, unparsed."""
    if not _link_inside_picture(text):
        return text
    edits: list[tuple[int, int, str]] = []
    for picture in _scan(text).pictures:
        opened = next((t for t in picture.inside if t.name == "a"), None)
        closed = next((t for t in picture.inside if t.name == "/a"), None)
        if opened is None or closed is None or closed.start < opened.start:
            continue
        a_start, a_end = text[opened.start:opened.end], text[closed.start:closed.end]
        edits += [(picture.tag.start, picture.tag.start, a_start), (opened.start, opened.end, ""),
                  (closed.start, closed.end, ""), (picture.close.end, picture.close.end, a_end)]
    return replace_spans(text, edits)


def _link_inside_picture(text: str) -> bool:
    """Whether some ``<picture>`` holds an ``<a``: found with str.find, not a regex that
    looks ahead at every character (this runs on every page of every build). Our
    pictures and Python-Markdown's tags are written in lower case."""
    start = text.find("<picture")
    while start != -1:
        end = text.find("</picture>", start)
        inside = text[start:end if end != -1 else len(text)]
        if re.search(r"<a[\s>]", inside, re.I):
            return True
        start = text.find("<picture", end) if end != -1 else -1
    return False


# -- Zensical's blog views ------------------------------------------------------------


def _rooted(url: str, folder: str) -> str | None:
    """``url`` as a path from the site's root, if it is one of ours: every leading ../
    and ./ dropped (each of our URLs climbs to the root, however deep the page), then
    ``folder`` (output_dir) must start it."""
    path = re.sub(r"^(?:\.\.?/)+", "", url)
    return path if path.startswith(folder.rstrip("/") + "/") and "://" not in url else None


def _srcset(value: str, folder: str, page_url: str) -> str:
    out = []
    for candidate in value.split(","):
        url, _, descriptor = candidate.strip().partition(" ")
        rooted = _rooted(url, folder)
        out.append(f"{relative_url(rooted, page_url) if rooted else url} {descriptor.strip()}".strip())
    return ", ".join(out)


def fix_srcsets(text: str, page_url: str, folder: str, view: bool = False) -> str:
    """Our <picture>s' URLs (src and srcset of every <source> and <img>, those under
    ``folder``) made relative to ``page_url``, the built file's path in the site. With
    ``view`` (a blog view, which shows several posts' excerpts), only the first of the
    page's pictures loads eagerly."""
    if "<picture" not in text:
        return text
    edits: list[tuple[int, int, str]] = []
    first = True
    for picture in _scan(text).pictures:
        for tag in picture.inside:
            if tag.name not in ("source", "img") or not tag.get("srcset"):
                continue
            attrs = []
            for k, v in tag.attrs:
                if k == "srcset" and v:
                    v = _srcset(v, folder, page_url)
                elif k == "src" and v and (rooted := _rooted(v, folder)):
                    v = relative_url(rooted, page_url)
                elif view and tag.name == "img" and k == "loading":
                    v = "eager" if first else "lazy"
                elif view and tag.name == "img" and k == "fetchpriority":
                    continue
                attrs.append((k, v))
            if view and tag.name == "img":
                if first:
                    attrs.append(("fetchpriority", "high"))
                first = False
            new = start_tag(tag.name, tuple(attrs))
            if new != start_tag(tag.name, tag.attrs):
                edits.append((tag.start, tag.end, new))
    return replace_spans(text, edits)


def line_of(text: str, offset: int) -> int:
    """The 1-based line of ``offset`` in ``text`` (for messages)."""
    return bisect.bisect_right([m.end() for m in re.finditer("\n", text)], offset) + 1
