"""What a slot's image becomes: resized copies in the cache and the site, a social card,
and the <figure> HTML. Pillow work runs on the image pool it is given (Pillow releases
the GIL); what needs no Pillow is done in the calling thread.
"""

from __future__ import annotations

import hashlib
import threading
from concurrent.futures import Executor, Future
from pathlib import Path

from PIL import Image

from . import assets, social
from .cache import Cache
from .providers import placeholder
from .settings import Settings
from .slots import Rendered, Slot


def source_of(slot: Slot, settings: Settings, note: str) -> tuple[assets.Source, bool, str]:
    """The image a slot shows, whether it is a placeholder, and a hover text. Nothing is
    decoded or drawn here: the Source opens or draws it when asked."""
    d = slot.directive
    if slot.entry is not None and d is not None:
        img = slot.entry.images[d.pick - 1]
        return assets.Source(img.sha256, img.width, img.height, img.alpha, lambda: Image.open(img.path)), False, ""
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
    pid = placeholder.placeholder_id(key, index, text)
    return assets.Source(pid, size[0], size[1], False, lambda: placeholder.render(text, key, size, index, of)), True, title


class Renderer:
    def __init__(self, settings: Settings, cache: Cache, image_pool: Executor) -> None:
        self.settings = settings
        self.cache = cache
        self.pool = image_pool
        self._lock = threading.Lock()
        self._jobs: dict[tuple[str, str], Future] = {}  # (source id, file name) -> its variants
        self._source_locks: dict[str, threading.Lock] = {}
        self.out_dir = Path(settings.site_dir, *settings.output_dir.split("/"))

    def render(self, slot: Slot, note: str) -> None:
        """Make the slot's figure files (once per image and name) and then resolve its
        ``figure_ready``."""
        source, is_placeholder, title = source_of(slot, self.settings, note)
        done = slot.figure_ready
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
                                        assets.plan_exts(s.formats, source.alpha), s.quality, self.cache)
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
            assets.make_missing(source, files, s.quality)
        if not s.publish:
            return []
        return assets.publish(files, self.out_dir, s.output_dir, basename)

    # -- social cards ------------------------------------------------------------------

    def card(self, page: str, background: Slot, title: str) -> str:
        """Draw (or take from the cache) the page's card and publish it; its site URL."""
        cfg, s = self.settings.social, self.settings
        source, _, _ = source_of(background, s, "")
        key = social.card_key(source.id, title, cfg.site_name, social.font_id(cfg.font), cfg.title_overlay)

        def draw() -> bytes:
            with source.open() as img:
                return social.render_card(img, title, cfg.site_name, overlay=cfg.title_overlay, font=cfg.font)

        path = social.card_file(self.cache, key, draw)
        url = social.card_url(page, s.output_dir)
        if s.publish:
            dest = Path(s.site_dir, *url.split("/"))
            dest.parent.mkdir(parents=True, exist_ok=True)
            assets.link_or_copy(path, dest)
        return url

    # -- HTML --------------------------------------------------------------------------

    @staticmethod
    def figure(slot: Slot, page_url: str, eager: bool, site_url: str = "") -> str:
        """The slot's <figure>, with URLs relative to the page (absolute under
        ``site_url`` if given); waits for its files."""
        rendered: Rendered = slot.figure_ready.result()
        d = slot.directive
        if d is None or slot.errors:
            return assets.figure_html(
                rendered.variants, page_url=page_url, alt="Image not generated: the directive has an error",
                eager=eager, placeholder=True, title=rendered.note, site_url=site_url,
            )
        return assets.figure_html(
            rendered.variants, page_url=page_url, alt=d.alt_text, caption=d.caption, eager=eager,
            placeholder=rendered.placeholder, css_class=d.css_class, width_hint=d.width, title=rendered.note or None,
            site_url=site_url,
        )
