"""What a slot's image becomes: resized copies in the cache and the site, a social card,
and the <figure> HTML. Pillow work runs on the image pool it is given (Pillow releases
the GIL); what needs no Pillow is done in the calling thread.
"""

from __future__ import annotations

import contextlib
import html
import threading
from concurrent.futures import Executor, Future
from pathlib import Path
from typing import TYPE_CHECKING

# Pillow is imported where pixels are touched: a warm build touches none, and skips it.
if TYPE_CHECKING:
    pass

from ..cards import social
from ..core import image_bytes
from ..core.reporting import Reporter
from ..core.settings import Settings
from ..imaging import backdrops, copies, markup, provenance
from ..store.cache import Cache
from .card_renderer import CardRenderer
from .remote_copies import RemoteCopies
from .slot import CardPlan, Rendered, Slot
from .sources import backdrop_kind, card_key, source_of, unusable

__all__: list[str] = []


class Renderer:
    def __init__(self, settings: Settings, cache: Cache, image_pool: Executor, report: Reporter | None = None,
                 shared: RemoteCopies | None = None) -> None:
        """``shared``: the remote tier's copies and cards; what is encoded here is sent there."""
        self.settings = settings
        self.cache = cache
        self.pool = image_pool
        self.report = report or Reporter()
        self.shared = shared
        self.encoded = 0  # files Pillow encoded in this build: resized copies and cards
        self.damaged: set[str] = set()  # source ids whose cached file did not decode: placeholders shown
        self._lock = threading.Lock()
        self._jobs: dict[tuple[str, str], Future] = {}  # (source id, file name) -> its variants
        self._source_locks: dict[str, threading.Lock] = {}
        self._slot_of_source: dict[str, Slot] = {}  # a slot that shows each source: its placeholder, if damaged
        self._cpu = threading.BoundedSemaphore(settings.workers)  # renders made ``here`` at once
        self.out_dir = Path(settings.site_dir, *settings.output_dir.split("/"))
        self.backdrops = backdrops.Keeper(cache, image_pool, self._source_lock, self.damaged)
        self.cards = CardRenderer(settings, self.cache, self.report, self._made)  # social cards, counted here

    def render(self, slot: Slot, note: str, here: bool = False) -> None:
        """Make the slot's figure files (once per image and name) and then resolve its
        ``figure_ready``. ``here``: make them in this thread, not on the image pool: the
        thread that has just checked a download holds its pixels (image_bytes.take_fresh), and
        while it resizes, it sends no new request, which keeps the API from running far
        ahead of the CPU (``_here``)."""
        source, is_placeholder, title = source_of(slot, self.settings, note)
        done = slot.figure_ready
        with self._lock:
            self._slot_of_source.setdefault(source.id, slot)
        if source.provenance is not None and source.provenance.description and source.provenance.shortened:
            self.report.once(f"xmp {source.id}", (
                f"{slot.where}: the prompt is too long for the XMP packet of the published files "
                f"(provenance.include_prompt; {provenance.MAX_XMP_BYTES:,} bytes, JPEG's limit): they carry its "
                "start, marked as shortened; shorten the prompt, or set provenance.include_prompt: false"))
        if not slot.shown:  # a card-only image: the card is drawn from its cover crop, no page needs sizes of it
            if here:  # the crop, from the pixels this thread has just checked, before the card is drawn
                with self._cpu, contextlib.suppress(image_bytes.BadImage):
                    self.cards.card_cover(source)
            if not done.done():
                done.set_result(Rendered([], is_placeholder, title))
            return
        d = slot.directive
        basename = d.name if d is not None and d.name and not slot.errors else source.id[:10]
        with self._lock:
            job = self._jobs.get((source.id, basename))
        if job is None:
            job = self._files_job(source, basename, is_placeholder, here)
            with self._lock:
                job = self._jobs.setdefault((source.id, basename), job)
        # a transparent image would show its backdrop through itself once loaded
        wanted = backdrop_kind(slot, self.settings) != "none" and not source.alpha
        look = self.backdrops.job(source, job) if wanted else None

        def finish(f: Future) -> None:
            if done.done():
                return
            backdrop = look.result() if look is not None and not look.cancelled() and not look.exception() else None
            if f.exception() is not None:
                done.set_exception(f.exception())
            elif source.id in self.damaged:
                done.set_result(Rendered(f.result(), True,
                                         "the cached image is damaged: run `nanobanana verify --fix`"))
            else:
                done.set_result(Rendered(f.result(), is_placeholder, title, backdrop))

        if look is None:
            job.add_done_callback(finish)
        else:  # both known (another name's files for the same source may settle it first)
            job.add_done_callback(lambda f: look.add_done_callback(lambda _: finish(f)))

    def render_own(self, source: copies.Source, basename: str, backdrop: bool, here: bool = False,
                   cached_only: bool = False) -> Future | None:
        """A site's own picture's copies (``responsive_images``), made once per picture and
        name like a slot's; a Future of its Rendered (no variants: it could not be read,
        and the page keeps its <img>). ``here``: in this thread (a worker of the pool).
        ``cached_only``: published now if every copy is cached, else None and nothing done
        (a warm picture's one pass over its files: the links are the existence check)."""
        with self._lock:
            job = self._jobs.get((source.id, basename))
        if job is None:
            made = self._cached_job(source, basename) if cached_only else self._files_job(source, basename, False, here)
            if made is None:
                return None
            with self._lock:
                job = self._jobs.setdefault((source.id, basename), made)
        look = self.backdrops.job(source, job) if backdrop and not source.alpha else None
        done: Future = Future()

        def finish(f: Future) -> None:
            if f.exception() is not None:
                done.set_exception(f.exception())
                return
            kept = look.result() if look is not None and not look.cancelled() and not look.exception() else None
            done.set_result(Rendered(f.result(), False, "", kept))

        if look is None:
            job.add_done_callback(finish)
        else:
            job.add_done_callback(lambda f: look.add_done_callback(lambda _: finish(f)))
        return done

    def derived_files(self, source: copies.Source) -> list[copies.DerivedFile]:
        """Every resized copy of ``source`` the settings ask for, made or not (no I/O)."""
        s = self.settings
        return copies.derivative_files(source, copies.plan_widths(source.width, s.widths),
                                       copies.plan_exts(s.formats, source.alpha), source.encoding or s.encoding,
                                       self.cache)

    def _files_job(self, source: copies.Source, basename: str, is_placeholder: bool, here: bool = False) -> Future:
        """The figure's files. When every derivative is cached already (a warm build) they
        are published here and now: a few hard links cost less than handing them to a
        worker, which must win the GIL back from the busy main thread after every one of
        them. Only Pillow work, which runs outside the GIL, goes to the image pool."""
        job = self._cached_job(source, basename)
        if job is not None:
            return job
        files = self.derived_files(source)
        if here:
            return self._here(source, files, basename, not is_placeholder)
        return self.pool.submit(self._make_files, source, files, basename, not is_placeholder)

    def _cached_job(self, source: copies.Source, basename: str) -> Future | None:
        """The figure's files published now, if every derivative is cached; else None."""
        files = self.derived_files(source)
        if self.settings.publish:
            variants = copies.publish_cached(files, self.out_dir, self.settings.output_dir, basename)
        else:
            variants = [] if all(path.exists() for path, *_ in files) else None
        if variants is None:
            return None
        job: Future = Future()
        job.set_result(variants)
        return job

    def _source_lock(self, source_id: str) -> threading.Lock:
        with self._lock:
            return self._source_locks.setdefault(source_id, threading.Lock())

    def _here(self, source: copies.Source, files: list[copies.DerivedFile], basename: str, share: bool) -> Future:
        """``_make_files`` in this thread, at most ``workers`` threads at a time (the
        image pool's size), so the CPU is shared as the pool would share it."""
        job: Future = Future()
        with self._cpu:
            try:
                job.set_result(self._make_files(source, files, basename, share))
            except BaseException as exc:  # noqa: BLE001 - handed on to the page that waits, as the pool would
                job.set_exception(exc)
        return job

    def _make_files(self, source: copies.Source, files: list[copies.DerivedFile], basename: str,
                    share: bool = False) -> list[copies.Variant]:
        """``share``: send what is encoded to the remote tier (a real image, not a placeholder)."""
        s = self.settings
        # two names for one image: resize it once, publish it twice; its backdrop from the same pixels
        with self._source_lock(source.id):
            try:
                look = backdrops.path_of(self.cache, source.id)
                had_look, kept = look.exists(), []
                made = copies.make_missing(source, files, source.encoding or s.encoding, self.cache.temp.create_once,
                                           with_pixels=lambda img: kept.append(self.backdrops.keep(source.id, img)))
                self._made(made, share)
                if share and not had_look and kept and kept[0] is not None and self.shared is not None:
                    self.shared.upload([look])  # it travels with its copies: a fresh runner decodes nothing
            except image_bytes.BadImage as exc:
                return self._damaged(source, basename, exc)
            except OSError as exc:
                return self._unwritable(source, files, basename, exc)
        if not s.publish:
            return []
        return copies.publish(files, self.out_dir, s.output_dir, basename)

    def _damaged(self, source: copies.Source, basename: str, exc: Exception) -> list[copies.Variant]:
        """A cached image that no longer decodes: a warning, and its placeholder instead.
        A site's own picture that does not decode: a warning, and the page keeps its <img>."""
        if source.origin:
            self.report.once(f"damaged {source.id}", f"{source.origin} cannot be read as an image ({exc}): the page "
                             "keeps its <img> as it is (responsive_images)")
            return []
        with self._lock:
            slot = self._slot_of_source.get(source.id)
        images = slot.entry.images if slot and slot.entry else ()
        path = next((img.path for img in images if img.sha256 == source.id), None)
        self.report.once(f"damaged {source.id}", unusable(slot.where if slot else "its page", path or source.id, exc))
        self.damaged.add(source.id)
        if slot is None:
            return []
        stand_in, _, _ = source_of(slot, self.settings, "", cached=False)
        files = self.derived_files(stand_in)  # a placeholder: never transparent
        return self._make_files(stand_in, files, basename)

    def _unwritable(self, source: copies.Source, files: list[copies.DerivedFile], basename: str,
                    exc: OSError) -> list[copies.Variant]:
        """The cache cannot take the resized copies (a full disk, a read-only folder): a
        warning, and the copies encoded straight into the site."""
        s = self.settings
        self.report.once(f"unwritable {exc.errno}", (
            f"could not write resized copies into {self.cache.derived_dir} ({exc.strerror or exc}): free some space "
            "or make cache_dir writable; this build writes them into the site only, so the next one makes them again"))
        if not s.publish:
            return []
        try:
            variants = copies.publish_uncached(source, files, source.encoding or s.encoding, self.out_dir, s.output_dir,
                                               basename)
            self._made([path for path, *_ in files], share=False)  # in the site only: nothing to send
            return variants
        except OSError as again:
            self.report.warn(f"could not write {basename} into {self.out_dir} either ({again.strerror or again}): "
                             "the page shows the image's alt text only")
            return []

    def _made(self, paths: list[Path], share: bool) -> None:
        """Count what Pillow encoded; send it to the remote tier when ``share``."""
        with self._lock:
            self.encoded += len(paths)
        if share and paths and self.shared is not None:
            self.shared.upload(paths)

    # -- what a build may take from the remote tier instead of encoding it --------------

    def cached_files(self, slots: list[Slot], plans: list[CardPlan]) -> list[Path]:
        """Where the resized copies of ``slots`` with an image (and their backdrops), and
        the cards of ``plans`` whose image is known (a slot's in the cache, a page's own
        picture, none), live in the cache: named exactly as ``render`` and ``card`` name them."""
        s = self.settings
        paths: list[Path] = []
        for slot in slots:
            if slot.shown and slot.entry is not None and slot.valid:
                source = source_of(slot, s, "")[0]
                files = self.derived_files(source)
                paths.extend(path for path, *_ in files)
                if backdrop_kind(slot, s) != "none" and not source.alpha:  # else the next step decodes it
                    paths.append(backdrops.path_of(self.cache, source.id))
        paths.extend(social.card_path(self.cache, card_key(s, plan))
                     for plan in plans if plan.slot is None or (plan.slot.entry is not None and plan.slot.valid))
        return paths

    def figure(self, slot: Slot, page_url: str, eager: bool, site_url: str = "", sizes: str | None = None) -> str:
        """The slot's <figure>, with URLs relative to the page (absolute under
        ``site_url`` if given); waits for its files. ``sizes``: the page's (its layout's
        column, ``Settings.sizes_for``); a directive's own wins."""
        rendered: Rendered = slot.figure_ready.result()
        d = slot.directive
        if not rendered.variants:  # nothing could be written (see Renderer._unwritable)
            alt = d.alt_text if d is not None and not slot.errors else "Image not generated"
            return ('<figure class="nanobanana nanobanana-placeholder">'
                    f"<figcaption>{html.escape(alt)}</figcaption></figure>")

        backdrop = rendered.backdrop.style(backdrop_kind(slot, self.settings)) if rendered.backdrop else ""
        if d is None or slot.errors:
            return markup.figure_html(
                rendered.variants, page_url=page_url, alt="Image not generated: the directive has an error",
                eager=eager, placeholder=True, title=rendered.note, site_url=site_url, backdrop=backdrop,
            )
        return markup.figure_html(
            rendered.variants, page_url=page_url, alt=d.alt_text, caption=d.caption, eager=eager,
            placeholder=rendered.placeholder, css_class=d.css_class, width_hint=d.width, title=rendered.note or None,
            site_url=site_url, sizes=d.sizes or sizes or self.settings.sizes_for(), ai_label=self._ai_label(rendered),
            backdrop=backdrop,
        )

    def _ai_label(self, rendered: Rendered) -> str | None:
        """None for a placeholder (no model made it); else the site's visible label ("": none)."""
        p = self.settings.provenance
        return None if rendered.placeholder or not p.enabled else p.label
