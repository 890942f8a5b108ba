"""What a built page holds: its nanobanana <figure>s (and the files they name) and its
<head>'s social meta tags."""

from __future__ import annotations

import posixpath
from html.parser import HTMLParser
from pathlib import Path

from PIL import Image


class Figures(HTMLParser):
    """Collects every nanobanana <figure> of a page: its classes, <source>s, <img>, caption."""

    def __init__(self):
        super().__init__()
        self.figures: list[dict] = []
        self._in_caption = False

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "figure" and "nanobanana" in (a.get("class") or "").split():
            self.figures.append({"class": a["class"].split(), "sources": [], "img": None, "caption": None})
        elif self.figures and tag == "source":
            self.figures[-1]["sources"].append(a)
        elif self.figures and tag == "img" and self.figures[-1]["img"] is None:
            self.figures[-1]["img"] = a
        elif self.figures and tag == "figcaption":
            self._in_caption = True

    def handle_endtag(self, tag):
        if tag == "figcaption":
            self._in_caption = False

    def handle_data(self, data):
        if self._in_caption:
            self.figures[-1]["caption"] = (self.figures[-1]["caption"] or "") + data


def figures(html: str) -> list[dict]:
    p = Figures()
    p.feed(html)
    return p.figures


def srcset_urls(srcset: str) -> list[tuple[str, int]]:
    out = []
    for part in srcset.split(","):
        url, w = part.strip().rsplit(" ", 1)
        out.append((url, int(w[:-1])))
    return out


def check_files(site_dir: Path, page_file: str, fig: dict) -> None:
    """Every URL of a figure resolves from the page to a real file of the stated width."""
    base = posixpath.dirname(page_file)
    img = fig["img"]
    for url, w in srcset_urls(img["srcset"]) + [u for s in fig["sources"] for u in srcset_urls(s["srcset"])]:
        assert not url.startswith("/") and "://" not in url, url
        path = site_dir / posixpath.normpath(posixpath.join(base, url))
        assert path.is_file(), f"{url} from {page_file} -> {path}"
        with Image.open(path) as im:
            assert im.width == w
    src = site_dir / posixpath.normpath(posixpath.join(base, img["src"]))
    with Image.open(src) as im:
        assert (str(im.width), str(im.height)) == (img["width"], img["height"])


class Head(HTMLParser):
    def __init__(self):
        super().__init__()
        self.meta: list[dict] = []

    def handle_starttag(self, tag, attrs):
        if tag == "meta":
            self.meta.append(dict(attrs))


def tags(html: str) -> dict[str, list[str]]:
    """The page's og:, twitter: and article: meta tags, name -> contents in page order."""
    p = Head()
    p.feed(html[: html.lower().index("</head>")])
    out: dict[str, list[str]] = {}
    for m in p.meta:
        name = m.get("property") or m.get("name")
        if name and name.startswith(("og:", "twitter:", "article:")):
            out.setdefault(name, []).append(m.get("content", ""))
    return out
