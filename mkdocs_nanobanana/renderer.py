"""What a slot's image becomes: resized copies in the cache and the site, a social card,
and the <figure> HTML. Pillow work runs on the image pool it is given (Pillow releases
the GIL); what needs no Pillow is done in the calling thread.
"""

from __future__ import annotations

import hashlib
import html
import io
import threading
from concurrent.futures import Executor, Future
from pathlib import Path
from typing import TYPE_CHECKING

# Pillow is imported where pixels are touched: a warm build touches none, and skips it.
if TYPE_CHECKING:
    from PIL import Image

from . import assets, images, social
from .cache import Cache, CachedImage, sha256
from .settings import Settings
from .report import Reporter
from .slots import Rendered, Slot


def source_of(slot: Slot, settings: Settings, note: str, cached: bool = True) -> tuple[assets.Source, bool, str]:
    """The image a slot shows, whether it is a placeholder, and a hover text. Nothing is
    decoded or drawn here: the Source opens or draws it when asked. ``cached=False``:
    the placeholder, even if the cache has the image (it turned out damaged)."""
    d = slot.directive
    if cached and slot.entry is not None and d is not None:
        img = slot.entry.images[d.pick - 1]
        return assets.Source(img.sha256, img.width, img.height, img.alpha, lambda: open_checked(img)), False, ""
    model = settings.catalog.get(d.model) if d else None
    if d is None or slot.errors or model is None:
        first = slot.errors[0] if slot.errors else None
        text = f"Fix the nanobanana directive at {first.path}:{first.line}" if first else "Invalid directive"
        key = hashlib.sha256(slot.block.body.encode()).hexdigest()
        fallback = settings.catalog.model_for(settings.defaults.variant)
        size = fallback.sizes.get(settings.defaults.ratio, (1024, 1024))
        title, index, of = str(first) if first else text, 1, 1
    else:
        key = slot.request.key if slot.request else ""
        text, size, index, of, title = d.prompt, model.sizes[d.ratio], d.pick, d.num, note
    from .providers import placeholder  # a warm build shows none: it does not import the providers

    pid = placeholder.placeholder_id(key, index, text)
    return assets.Source(pid, size[0], size[1], False, lambda: placeholder.render(text, key, size, index, of)), True, title


def open_checked(img: CachedImage) -> Image.Image:
    """A cached image, its bytes checked against the sidecar's sha256 first: a file that
    changed since it was stored may still decode, into the wrong picture. Only a build
    that resizes it reads it, so the hash costs little next to the resize."""
    data = img.path.read_bytes()
    if sha256(data) != img.sha256:
        raise images.BadImage("its bytes no longer match the sha256 its sidecar recorded")
    from PIL import Image

    return Image.open(io.BytesIO(data))


class Renderer:
    def __init__(self, settings: Settings, cache: Cache, image_pool: Executor, report: Reporter | None = None) -> None:
        self.settings = settings
        self.cache = cache
        self.pool = image_pool
        self.report = report or Reporter()
        self.damaged: set[str] = set()  # source ids whose cached file did not decode: placeholders shown
        self._lock = threading.Lock()
        self._jobs: dict[tuple[str, str], Future] = {}  # (source id, file name) -> its variants
        self._source_locks: dict[str, threading.Lock] = {}
        self._slot_of_source: dict[str, Slot] = {}  # a slot that shows each source: its placeholder, if damaged
        self.out_dir = Path(settings.site_dir, *settings.output_dir.split("/"))

    def render(self, slot: Slot, note: str) -> None:
        """Make the slot's figure files (once per image and name) and then resolve its
        ``figure_ready``."""
        source, is_placeholder, title = source_of(slot, self.settings, note)
        done = slot.figure_ready
        with self._lock:
            self._slot_of_source.setdefault(source.id, slot)
        if not slot.shown:  # a card background: the card is drawn from the original, no page needs sizes of it
            if not done.done():
                done.set_result(Rendered([], is_placeholder, title))
            return
        d = slot.directive
        basename = d.name if d is not None and d.name and not slot.errors else source.id[:10]
        with self._lock:
            job = self._jobs.get((source.id, basename))
        if job is None:
            job = self._files_job(source, basename)
            with self._lock:
                job = self._jobs.setdefault((source.id, basename), job)

        def finish(f: Future) -> None:
            if done.done():
                return
            if f.exception() is not None:
                done.set_exception(f.exception())
            elif source.id in self.damaged:
                done.set_result(Rendered(f.result(), True, "the cached image is damaged: run `nanobanana verify --fix`"))
            else:
                done.set_result(Rendered(f.result(), is_placeholder, title))

        job.add_done_callback(finish)

    def _files_job(self, source: assets.Source, basename: str) -> Future:
        """The figure's files. When every derivative is cached already (a warm build) they
        are published here and now: a few hard links cost less than handing them to a
        worker, which must win the GIL back from the busy main thread after every one of
        them. Only Pillow work, which runs outside the GIL, goes to the image pool."""
        s = self.settings
        files = assets.derivative_files(source, assets.plan_widths(source.width, s.widths),
                                        assets.plan_exts(s.formats, source.alpha), s.encoding, self.cache)
        if s.publish:
            variants = assets.publish_cached(files, self.out_dir, s.output_dir, basename)
        else:
            variants = [] if all(path.exists() for path, *_ in files) else None
        if variants is None:
            return self.pool.submit(self._make_files, source, files, basename)
        job: Future = Future()
        job.set_result(variants)
        return job

    def _make_files(self, source: assets.Source, files: list[assets.DerivedFile], basename: str) -> list[assets.Variant]:
        s = self.settings
        with self._lock:
            source_lock = self._source_locks.setdefault(source.id, threading.Lock())
        with source_lock:  # two names for one image: resize it once, publish it twice
            try:
                assets.make_missing(source, files, s.encoding)
            except images.BadImage as exc:
                return self._damaged(source, basename, exc)
            except OSError as exc:
                return self._unwritable(source, files, basename, exc)
        if not s.publish:
            return []
        return assets.publish(files, self.out_dir, s.output_dir, basename)

    def _damaged(self, source: assets.Source, basename: str, exc: Exception) -> list[assets.Variant]:
        """A cached image that no longer decodes: a warning, and its placeholder instead."""
        with self._lock:
            slot = self._slot_of_source.get(source.id)
        path = next((img.path for img in (slot.entry.images if slot and slot.entry else ()) if img.sha256 == source.id), None)
        self.report.once(f"damaged {source.id}", (
            f"the cached image {path or source.id} cannot be read ({exc}); {slot.where if slot else 'its page'} shows "
            "a placeholder: run `nanobanana verify --fix` and build again to generate it anew"))
        self.damaged.add(source.id)
        if slot is None:
            return []
        stand_in, _, _ = source_of(slot, self.settings, "", cached=False)
        s = self.settings
        files = assets.derivative_files(stand_in, assets.plan_widths(stand_in.width, s.widths),
                                        assets.plan_exts(s.formats, False), s.encoding, self.cache)
        return self._make_files(stand_in, files, basename)

    def _unwritable(self, source: assets.Source, files: list[assets.DerivedFile], basename: str,
                    exc: OSError) -> list[assets.Variant]:
        """The cache cannot take the resized copies (a full disk, a read-only folder): a
        warning, and the copies encoded straight into the site."""
        s = self.settings
        self.report.once(f"unwritable {exc.errno}", (
            f"could not write resized copies into {self.cache.derived_dir} ({exc.strerror or exc}): free some space "
            "or make cache_dir writable; this build writes them into the site only, so the next one makes them again"))
        if not s.publish:
            return []
        try:
            return assets.publish_uncached(source, files, s.encoding, self.out_dir, s.output_dir, basename)
        except OSError as again:
            self.report.warn(f"could not write {basename} into {self.out_dir} either ({again.strerror or again}): "
                             "the page shows the image's alt text only")
            return []

    # -- social cards ------------------------------------------------------------------

    def card(self, page: str, background: Slot, title: str) -> str:
        """Draw (or take from the cache) the page's card and publish it; its site URL."""
        cfg, s = self.settings.social, self.settings
        source, _, _ = source_of(background, s, "")
        def drawn(src: assets.Source) -> Path:
            def draw() -> bytes:
                with assets.decoded(src) as img:
                    return social.render_card(img, title, cfg.site_name, overlay=cfg.title_overlay, font=cfg.font)

            key = social.card_key(src.id, title, cfg.site_name, social.font_id(cfg.font), cfg.title_overlay)
            return social.card_file(self.cache, key, draw)

        try:
            path = drawn(source)
        except images.BadImage:  # warned by the figure's own render; the card gets the placeholder too
            path = drawn(source_of(background, s, "", cached=False)[0])
        url = social.card_url(page, s.output_dir)
        if s.publish:
            dest = Path(s.site_dir, *url.split("/"))
            dest.parent.mkdir(parents=True, exist_ok=True)
            assets.link_or_copy(path, dest)
        return url

    # -- HTML --------------------------------------------------------------------------

    def figure(self, slot: Slot, page_url: str, eager: bool, site_url: str = "") -> str:
        """The slot's <figure>, with URLs relative to the page (absolute under
        ``site_url`` if given); waits for its files."""
        rendered: Rendered = slot.figure_ready.result()
        d = slot.directive
        if not rendered.variants:  # nothing could be written (see Renderer._unwritable)
            alt = d.alt_text if d is not None and not slot.errors else "Image not generated"
            return f'<figure class="nanobanana nanobanana-placeholder"><figcaption>{html.escape(alt)}</figcaption></figure>'

        if d is None or slot.errors:
            return assets.figure_html(
                rendered.variants, page_url=page_url, alt="Image not generated: the directive has an error",
                eager=eager, placeholder=True, title=rendered.note, site_url=site_url,
            )
        return assets.figure_html(
            rendered.variants, page_url=page_url, alt=d.alt_text, caption=d.caption, eager=eager,
            placeholder=rendered.placeholder, css_class=d.css_class, width_hint=d.width, title=rendered.note or None,
            site_url=site_url, sizes=d.sizes or self.settings.sizes,
        )
