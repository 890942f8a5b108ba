"""A site's own pictures through the generated images' pipeline (``responsive_images``):
every ``<img>`` of a page that shows a PNG, JPEG, WebP, AVIF or still GIF file of
docs_dir becomes a ``<picture>`` of resized copies, made, cached, shared and pruned as
a generated image's are.

- Which: the page's HTML is read with html.parser (imaging/html_images.py). Left as
  they are, byte for byte: SVG and other formats, animated GIF/WebP/PNG, external URLs,
  data URIs, root-absolute paths, an ``<img>`` inside a link to something else or in
  code or in a ``<picture>`` (or with a ``srcset``) of its own, one with the class
  ``nanobanana-skip`` or ``data-nanobanana="skip"``, and every picture of a page whose
  front matter says ``nanobanana: {responsive_images: false}``. A link whose href is
  the picture's own src (a lightbox's, or an author's "click to enlarge") stays around
  the new ``<picture>``.
- When: ``start`` scans each page's Markdown for image paths when the build starts
  (``local_images``), so copies are made on the image pool while the host renders
  pages; a picture the scan missed (an include, a macro) is started when its page's
  HTML asks for it. A page waits only for its own pictures.
- Identity: a picture is its bytes' sha256, as a generated image is its entry's; the
  copies are named by it and by ``Settings.own_encoding``, so they are shared by the
  remote tier like any copy. The sha256 of an unchanged file is read from the
  store's OwnIndex (size, mtime, ctime): a warm build hashes nothing, opens no picture
  and imports no Pillow.

The social cards helper can reuse ``local_images`` (a page's Markdown -> its local
raster pictures, in order) for "the page's first ordinary image".
"""

from __future__ import annotations

import os
import posixpath
import re
import threading
from collections.abc import Callable, Iterable
from concurrent.futures import Future
from pathlib import Path
from urllib.parse import unquote

from ..cards.social import front_matter_mentions_us, read_page
from ..core.frozen import frozen
from ..core.image_bytes import BadImage
from ..core.reporting import Reporter
from ..core.request import sha256
from ..core.settings import Settings, page_label
from ..imaging import backdrops, copies, html_images, markup
from ..imaging.own_pixels import facts_of, upright
from ..store.cache import copy_spec
from ..store.file_stat import Stat
from ..store.own_index import OwnFacts, OwnIndex
from .own_choice import wants_own_pictures
from .remote_copies import RemoteCopies
from .renderer import Renderer
from .slot import Rendered

__all__: list[str] = []

#: The file endings of pictures whose copies are made (a GIF only if it is still).
RASTER = (".png", ".jpg", ".jpeg", ".webp", ".avif", ".gif")
SKIP_CLASS = "nanobanana-skip"
#: What a site's own picture's copies are named after in the site: its file's stem.
_SAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")

#: Markdown that may show a picture: ![alt](path "title"), a reference definition, <img src>.
_MD_IMAGE = re.compile(r"!\[[^\]]*\]\(\s*<?([^)\s>]+)")
_MD_REFERENCE = re.compile(r"^ {0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s|$)", re.M)
_HTML_IMG = re.compile(r"<img\b[^>]*?\bsrc\s*=\s*[\"']?([^\"'\s>]+)", re.I)

#: A host's way to find the file an <img src> of a page shows: its path, or None.
Resolve = Callable[[str], "str | None"]


def local_path(url: str) -> tuple[str, str] | None:
    """(the path part, the #fragment) of a URL that may be a local raster picture; None
    for an external URL, a data URI, a root-absolute path or another kind of file."""
    url = url.strip()
    if not url or url.startswith(("/", "#")) or re.match(r"^[A-Za-z][A-Za-z0-9+.-]*:", url):
        return None
    path, _, fragment = url.partition("#")
    path = path.partition("?")[0]
    if not path.lower().endswith(RASTER):
        return None
    return unquote(path), f"#{fragment}" if fragment else ""


def local_images(markdown: str, page: str, docs_dir: str) -> list[str]:
    """The local raster files a page's Markdown seems to show, in order (absolute paths
    of files that exist in docs_dir): a cheap scan, to start their copies early; what
    is converted is decided on the HTML. ``page``: its path in docs_dir."""
    if "![" not in markdown and "<img" not in markdown and "]:" not in markdown:
        return []
    found = [m.group(1) for rx in (_MD_IMAGE, _MD_REFERENCE, _HTML_IMG) for m in rx.finditer(markdown)]
    folder = posixpath.dirname(page)
    paths = []
    for url in found:
        local = local_path(url)
        if local is not None:
            path = in_docs(posixpath.join(folder, local[0]), docs_dir)
            if path is not None and path not in paths:
                paths.append(path)
    return paths


def opted_out(text: str) -> bool:
    """Whether a page's front matter (its text) keeps its pictures as written."""
    return front_matter_mentions_us(text) and not wants_own_pictures(read_page(text, "").meta)


def in_docs(relative: str, docs_dir: str) -> str | None:
    """``docs_dir/relative`` if it is a file inside docs_dir, else None."""
    clean = posixpath.normpath(relative)
    if clean.startswith("../") or clean == "..":
        return None
    path = os.path.join(docs_dir, *clean.split("/"))
    return path if os.path.isfile(path) else None


def groups_in_use(settings: Settings, cache, pages: Iterable) -> dict[str, frozenset[str]]:
    """The copies of the own pictures ``pages`` (PageText) show, as the manifest groups
    them, with the current settings: what ``prune`` keeps for this site. A picture's
    sha256 comes from the index while its stat vouches for it, else from its bytes."""
    if not settings.responsive_images:
        return {}
    index = OwnIndex(cache)
    groups: dict[str, set[str]] = {}
    for p in pages:
        if opted_out(p.text):
            continue
        for path in local_images(p.text, p.page, settings.docs_dir):
            stat = Stat.of(path)
            facts = index.known(path, stat) if stat is not None else None
            if facts is None:
                try:
                    data = Path(path).read_bytes()
                except OSError:
                    continue
                facts = facts_of(data, sha256(data))
            if facts.kind == "still":
                spec = copy_spec(copies.plan_widths(facts.width, settings.widths),
                                 copies.plan_exts(settings.formats, facts.alpha), settings.own_encoding.tag)
                groups.setdefault(spec, set()).add(facts.sha256)
    return {spec: frozenset(ids) for spec, ids in groups.items()}


@frozen
class OwnFigure:
    """A picture's copies, ready: what its <picture> needs."""

    facts: OwnFacts
    rendered: Rendered


class OwnImages:
    """One build's own pictures: their copies (started early, made once) and the pages' <picture>s."""

    def __init__(self, settings: Settings, renderer: Renderer, shared: RemoteCopies | None, report: Reporter) -> None:
        self.settings = settings
        self.renderer = renderer
        self.shared = shared
        self.report = report
        self.index = OwnIndex(renderer.cache)
        self._lock = threading.Lock()
        self._jobs: dict[str, Future] = {}  # path -> its OwnFigure (None: left as it is)
        self.sources: dict[str, copies.Source] = {}  # id -> a picture whose copies this build shows

    # -- the copies -------------------------------------------------------------------

    def start(self, paths: Iterable[str]) -> None:
        for path in paths:
            self.job(path)

    def job(self, path: str) -> Future:
        """The picture at ``path``: its copies' Future (started now if not yet)."""
        with self._lock:
            job = self._jobs.get(path)
            if job is not None:
                return job
            job = self._jobs[path] = Future()
        stat = Stat.of(path)
        facts = self.index.known(path, stat) if stat is not None else None
        if facts is not None and facts.kind != "still":
            job.set_result(None)
        elif facts is not None and self._cached(path, facts, job):
            pass  # a warm picture: linked into the site here, no worker
        else:
            try:
                self.renderer.pool.submit(self._work, path, stat, job)
            except RuntimeError as exc:  # the pool is shut down: the build was aborted
                job.set_exception(exc)
        return job

    def _source(self, path: str, facts: OwnFacts, data: bytes | None = None) -> copies.Source:
        def open_it():
            raw = data if data is not None else Path(path).read_bytes()
            if data is None and sha256(raw) != facts.sha256:
                raise BadImage("it changed while the build read it")
            return upright(raw)

        label = page_label(self.settings, Path(path).relative_to(self.settings.docs_dir).as_posix())
        return copies.Source(facts.sha256, facts.width, facts.height, facts.alpha, open_it,
                             encoding=self.settings.own_encoding, origin=label)

    def _basename(self, path: str, facts: OwnFacts) -> str:
        stem = _SAFE_NAME.sub("-", Path(path).stem).strip("-.")[:60] or "image"
        return f"{stem}-{facts.sha256[:8]}"

    def _cached(self, path: str, facts: OwnFacts, job: Future) -> bool:
        """Publish a picture whose copies are all in the cache, in this thread; False if
        one is missing (a worker takes what the remote tier has and makes the rest)."""
        return self._render(self._source(path, facts), path, facts, job, here=False, cached_only=True)

    def _render(self, source: copies.Source, path: str, facts: OwnFacts, job: Future, here: bool,
                cached_only: bool = False) -> bool:
        backdrop = self.settings.backdrop != "none"
        made = self.renderer.render_own(source, self._basename(path, facts), backdrop, here=here,
                                        cached_only=cached_only)
        if made is None:
            return False
        with self._lock:
            self.sources[source.id] = source
        made.add_done_callback(lambda f: job.set_exception(f.exception()) if f.exception()
                               else job.set_result(OwnFigure(facts, f.result())))
        return True

    def _work(self, path: str, stat: Stat | None, job: Future) -> None:
        """On the image pool: hash and inspect the picture, take what the remote tier has
        of its copies, make the rest."""
        try:
            data = Path(path).read_bytes()
            facts = facts_of(data, sha256(data))
            if stat is not None:
                self.index.remember(path, stat, facts)
            if facts.kind != "still":
                if facts.kind == "unreadable":
                    self.report.once(f"own {path}", f"{self._label(path)} cannot be read as an image ({facts.why}): "
                                     "the page keeps its <img> as it is (responsive_images)")
                job.set_result(None)
                return
            source = self._source(path, facts, data)
            files = self.renderer.derived_files(source)
            if self.shared is not None:
                self.shared.fetch([p for p, *_ in files] + [backdrops.path_of(self.renderer.cache, source.id)])
            self._render(source, path, facts, job, here=True)
        except OSError as exc:
            self.report.once(f"own {path}", f"could not read {self._label(path)} ({exc.strerror or exc}): the page "
                             "keeps its <img> as it is")
            job.set_result(None)
        except BaseException as exc:  # noqa: BLE001 - handed on to the page that waits
            if not job.done():
                job.set_exception(exc)

    def _label(self, path: str) -> str:
        return page_label(self.settings, Path(path).relative_to(self.settings.docs_dir).as_posix())

    def finish(self) -> dict[str, frozenset[str]]:
        """Wait for every picture's copies, keep what was learned of the files; the
        copies the build shows, as the manifest records them (site_use.derived_groups)."""
        for job in list(self._jobs.values()):
            job.exception()  # waits; a failure was the page's to raise
        try:
            self.index.save()
        except OSError as exc:
            self.report.warn(f"could not write {self.index.path} ({exc}): the next build reads the pictures again")
        s = self.settings
        groups: dict[str, set[str]] = {}
        for source in self.sources.values():
            spec = copy_spec(copies.plan_widths(source.width, s.widths), copies.plan_exts(s.formats, source.alpha),
                             s.own_encoding.tag)
            groups.setdefault(spec, set()).add(source.id)
        return {spec: frozenset(ids) for spec, ids in groups.items()}

    # -- the pages --------------------------------------------------------------------

    def pictures(self, page_html: str, page_url: str, resolve: Resolve, *, sizes: str | None,
                 eager_before: int = -1, region: str | None = None, site_url: str = "") -> tuple[str, bool]:
        """The page's HTML with each own picture as a <picture>; and whether its first
        one was made eager (it is when it comes before offset ``eager_before``; -1:
        none is). ``region``: only the <img>s inside an element of that class (a blog
        view's excerpts)."""
        chosen = [(img, where) for img in html_images.images(page_html)
                  if (region is None or region in img.classes) and (where := self._chosen(img, resolve)) is not None]
        if not chosen:
            return page_html, False
        edits: list[tuple[int, int, str]] = []
        eager = False
        for img, (path, fragment) in chosen:
            made: OwnFigure | None = self.job(path).result()
            if made is None or not made.rendered.variants:
                continue
            first = not edits and 0 <= img.tag.start < eager_before
            eager = eager or first
            look = made.rendered.backdrop.style(self.settings.backdrop) if made.rendered.backdrop else ""
            attrs = tuple((k, v) for k, v in img.tag.attrs if k not in ("src",))
            edits.append((img.tag.start, img.tag.end, markup.picture_html(
                made.rendered.variants, page_url=page_url, attrs=attrs, size=(made.facts.width, made.facts.height),
                eager=first, sizes=sizes, backdrop=look, site_url=site_url, fragment=fragment)))
        return html_images.replace_spans(page_html, edits), eager

    def _chosen(self, img: html_images.ImgTag, resolve: Resolve) -> tuple[str, str] | None:
        """(the file, the src's #fragment) of an <img> whose picture is ours to make."""
        tag = img.tag
        src = tag.get("src")
        if src is None or img.blocked or tag.get("srcset") is not None:
            return None
        if SKIP_CLASS in (tag.get("class") or "").split() or (tag.get("data-nanobanana") or "").strip() == "skip":
            return None
        if img.link is not None and (img.link.get("href") or "").strip() != src.strip():
            return None  # a link the author wrote to somewhere else: the picture stays theirs
        local = local_path(src)
        if local is None:
            return None
        path = resolve(local[0])
        return (path, local[1]) if path is not None and path.lower().endswith(RASTER) else None
