"""What a built page holds: its nanobanana <figure>s (and the files they name) and its
<head>'s social meta tags."""

from __future__ import annotations

import posixpath
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urljoin, urlsplit

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


class _ImageURLs(HTMLParser):
    """Every image URL of a page: each <img>'s and <source>'s src and srcset candidates."""

    def __init__(self):
        super().__init__()
        self.urls: list[tuple[str, str, str]] = []  # (tag, attribute, URL)

    def handle_starttag(self, tag, attrs):
        if tag not in ("img", "source"):
            return
        a = dict(attrs)
        if a.get("src"):
            self.urls.append((tag, "src", a["src"]))
        for candidate in (a.get("srcset") or "").split(","):
            if candidate.strip():
                self.urls.append((tag, "srcset", candidate.split()[0]))


def unresolved_image_urls(site_dir: Path, site_url: str) -> tuple[int, list[str]]:
    """Each image URL of every page of the site, resolved as a browser does against the
    page's URL when the site is served at ``site_url`` (a sub-path too), must name a
    file of site_dir under that path: (how many URLs, the ones that do not)."""
    root = urlsplit(site_url).path
    total, bad = 0, []
    for page in sorted(site_dir.rglob("*.html")):
        rel = page.relative_to(site_dir).as_posix()
        page_url = urljoin(site_url, rel.removesuffix("index.html"))
        parser = _ImageURLs()
        parser.feed(page.read_text(encoding="utf-8"))
        for tag, attribute, url in parser.urls:
            if url.startswith("data:"):
                continue
            total += 1
            path = urlsplit(urljoin(page_url, url)).path
            if not (path.startswith(root) and (site_dir / unquote(path[len(root):])).is_file()):
                bad.append(f"{rel}: <{tag} {attribute}> {url} -> {path}")
    return total, bad
