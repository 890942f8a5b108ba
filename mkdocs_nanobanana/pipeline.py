"""One build's image work, independent of any site generator.

``scan`` reads every page's directives up front, checks them site-wide (names, refs,
cycles), works out what each one needs, and starts all of it at once: cache hits go
straight to resizing, missing images to the provider (at most ``concurrency`` calls in
flight, within ``max_credits``). A page then asks ``figure`` for its own images only, and
waits only for those.

Each slot (one directive on one page) has two futures: ``entry`` resolves once its image
is known (cached, generated, or not to be had), ``done`` once its figure is rendered.
A directive that refines another by ``#name`` waits on its target's ``entry`` through a
callback, so no worker ever blocks on another and a bounded pool cannot deadlock.
"""

from __future__ import annotations

import hashlib
import threading
from collections import Counter
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from PIL import Image

from . import assets, images, social
from .cache import Cache, CacheEntry, Request, sha256
from .directives import (
    Block,
    Directive,
    DirectiveError,
    check_names,
    is_name_ref,
    parse_page,
    ref_order,
    resolve_ref_path,
)
from .directives import scan as scan_blocks
from .providers import placeholder
from .settings import Settings
from .generation import GenerationJob, Generator
from .remote import RemoteCache, RemoteError, open_remote
from .providers.base import AuthError, CreditsError, Provider, StopSignal


@dataclass(frozen=True)
class PageText:
    page: str  # source path relative to docs_dir, POSIX
    text: str
    first_line: int = 1


@dataclass(frozen=True)
class Rendered:
    variants: list[assets.Variant]
    placeholder: bool
    note: str  # why it is a placeholder, shown as the image's title


@dataclass(eq=False)
class Slot:
    """One directive occurrence on one page, valid or not."""

    page: str
    block: Block
    directive: Directive | None
    errors: list[DirectiveError] = field(default_factory=list)
    request: Request | None = None
    refs: tuple[str, ...] = ()  # files of the reference images, in order
    entry: CacheEntry | None = None
    blocked_by: str | None = None  # a #name whose image is not known yet
    approved: bool = False  # within max_credits: may be paid for
    shown: bool = True  # False: only a social card's background, no figure on a page
    entry_future: Future = field(default_factory=Future)  # -> CacheEntry | None
    done: Future = field(default_factory=Future)  # -> Rendered

    @property
    def where(self) -> str:
        return self.directive.where if self.directive else f"{self.page}:{self.block.start}"


@dataclass(frozen=True)
class PlanRow:
    """What one directive needs, for ``nanobanana plan``."""

    where: str
    name: str | None
    model: str
    ratio: str
    num: int
    state: str  # cached | missing | changed | error
    credits: int  # to generate it now; 0 when cached
    key: str | None
    note: str = ""
    usd: float = 0.0  # to generate it now, at the provider's price


class Pipeline:
    def __init__(self, settings: Settings, warn: Callable[[str], None] = print, provider: Provider | None = None,
                 defer: bool = False) -> None:
        """``provider``: generate missing images during this build (live mode).
        ``defer``: generate nothing, but collect the missing images in ``deferred`` for
        someone who will (the background generation of `mkdocs serve`)."""
        self.settings = settings
        self.warn = warn
        self.provider = provider if settings.mode == "live" and not defer else None
        self.defer = defer
        self.deferred: dict[str, GenerationJob] = {}  # key -> job, in page order
        self.cache = Cache(settings.cache_dir)
        self.remote = self._open_remote()
        self.generator = Generator(self.provider, self.cache, settings, warn, remote=self.remote) if self.provider else None
        self.slots: dict[str, list[Slot]] = {}
        self.stop = self.generator.stop if self.generator else StopSignal()
        self._image_pool = ThreadPoolExecutor(settings.workers, thread_name_prefix="nanobanana-img")
        # twice the API's concurrency: a thread that downloads, checks and stores an answer
        # must not hold back the next request (the provider caps requests in flight)
        self._net_pool = ThreadPoolExecutor(settings.concurrency * 2, thread_name_prefix="nanobanana-api")
        self._renders: dict[tuple[str, str], Future] = {}
        self._source_locks: dict[str, threading.Lock] = {}
        self._generations: dict[str, Future] = {}
        self._named: dict[str, Slot] = {}
        self._status: dict[str, str] = self.generator.status if self.generator else {}  # key -> cached | generated | failed
        self._lock = threading.RLock()
        self._ref_hashes: dict[str, str] = {}
        self.card_slots: dict[str, Slot] = {}  # cards from front matter or the template
        self.cards: dict[str, tuple[Slot, str]] = {}  # page -> (background slot, title)
        self._card_jobs: dict[str, Future] = {}  # page -> site-relative URL of its card
        self.cache.clean_temp()

    def _open_remote(self) -> RemoteCache | None:
        if not self.settings.remote_cache:
            return None
        try:
            return open_remote(self.settings.remote_cache, self.settings.remote_cache_options)
        except RemoteError as exc:
            self.warn(f"{exc}; building with the local cache only")
            return None

    # -- scanning ----------------------------------------------------------------------

    def label(self, page: str) -> str:
        return f"{self.settings.docs_label}/{page}" if self.settings.docs_label else page

    def all_slots(self) -> list[Slot]:
        """Every slot, page images first (they win the budget), then card-only images."""
        return [s for slots in self.slots.values() for s in slots] + list(self.card_slots.values())

    def scan(self, pages: list[PageText]) -> None:
        """Read every page's directives, check them site-wide, and start all image work."""
        self.analyse(pages)
        self.start()

    def analyse(self, pages: list[PageText]) -> None:
        """Read and check every directive and work out its Request; start nothing.

        Errors are reported through ``warn``. After this, ``plan`` tells what each
        directive needs.
        """
        for p in pages:
            self._add_page(p)
        if self.settings.social.enabled:
            for p in pages:
                self._plan_card(p)
        slot_of = {id(s.directive): s for s in self.all_slots() if s.directive and not s.errors}
        valid = [s.directive for s in slot_of.values()]
        for d, err in check_names(valid):
            slot_of[id(d)].errors.append(err)
        self._named = {s.directive.name: s for s in slot_of.values() if s.directive.name and not s.errors}
        for d in ref_order(valid):
            self._resolve(slot_of[id(d)])
        for slot in self.all_slots():
            for e in slot.errors:
                self.warn(str(e))

    def start(self) -> None:
        """Start all image work: cache hits to resizing, missing images to the provider."""
        self._fetch_remote(self.all_slots())
        self._approve(self.all_slots())
        for slot in self.all_slots():
            self._advance(slot)
        for page, (slot, title) in self.cards.items():
            self._start_card(page, slot, title)

    def _fetch_remote(self, slots: list[Slot]) -> None:
        """What the local cache lacks, from the remote cache, many at a time."""
        if self.remote is None:
            return
        missing = [s for s in slots if s.request is not None and s.entry is None and not s.errors and s.blocked_by is None]
        found = self.remote.fetch_many((s.request.key for s in missing), self.cache, self.warn)
        for s in missing:
            s.entry = found.get(s.request.key)

    def _start_card(self, page: str, slot: Slot, title: str) -> None:
        """Draw the page's card once its background is known (its slot's ``done``)."""
        job: Future = Future()
        self._card_jobs[page] = job

        def draw(_f: Future) -> None:
            try:
                inner = self._image_pool.submit(self._render_card, page, slot, title)
            except RuntimeError as exc:  # the pool is shut down: the build was aborted
                job.set_exception(exc)
                return
            inner.add_done_callback(lambda f: job.set_exception(f.exception()) if f.exception() else job.set_result(f.result()))

        slot.done.add_done_callback(draw)

    def _render_card(self, page: str, slot: Slot, title: str) -> str:
        cfg, s = self.settings.social, self.settings
        source, _, _ = self._source(slot, "")
        key = social.card_key(source.id, title, cfg.site_name, social.font_id(cfg.font), cfg.title_overlay)

        def draw() -> bytes:
            with source.open() as background:
                return social.render_card(background, title, cfg.site_name, overlay=cfg.title_overlay, font=cfg.font)

        path = social.card_file(self.cache, key, draw)
        url = social.card_url(page, s.output_dir)
        if s.publish:
            dest = Path(s.site_dir, *url.split("/"))
            dest.parent.mkdir(parents=True, exist_ok=True)
            assets._link_or_copy(path, dest)
        return url

    def card_for(self, page: str) -> tuple[str, str] | None:
        """(site-relative URL, title) of the page's card, or None; the file is ready once
        ``finish`` returns."""
        plan = self.cards.get(page)
        return (social.card_url(page, self.settings.output_dir), plan[1]) if plan else None

    def _add_page(self, p: PageText) -> list[Slot]:
        blocks, directives, errors = parse_page(
            p.text, self.label(p.page), p.page, self.settings.catalog, self.settings.defaults, p.first_line
        )
        slots = [
            Slot(p.page, block, d, [e for e in errors if block.start <= e.line <= block.end])
            for block, d in zip(blocks, directives)
        ]
        for e in errors:  # an unclosed fence has no block of its own
            if not any(s.block.start <= e.line <= s.block.end for s in slots):
                self.warn(str(e))
        self.slots[p.page] = slots
        return slots

    def _plan_card(self, p: PageText) -> None:
        """Decide where the page's card comes from; a prompt becomes a card-only slot."""
        cfg = self.settings.social
        slots = self.slots.get(p.page, [])
        ordinals = [i for i, s in enumerate(slots) if s.directive is not None and s.directive.social]
        if not (cfg.generate or ordinals or social.front_matter_mentions_us(p.text)):
            return  # no card can come from this page: leave its front matter unread
        info = social.read_page(p.text, p.page)
        path = self.label(p.page)
        try:
            source = social.card_source(info, ordinals, generate=cfg.generate, template=cfg.prompt_template,
                                        site_description=cfg.site_description)
        except social.SocialError as exc:
            self.warn(str(DirectiveError(path, info.meta_line, str(exc))))
            return
        if source is None:
            return
        if source.ordinal is not None:
            self.cards[p.page] = (slots[source.ordinal], source.title)
            return
        variant = source.variant or cfg.variant
        ratio = source.ratio or cfg.ratio
        catalog = self.settings.catalog
        block = Block(info.meta_line, info.meta_line, "", source.prompt or "")
        errors = []
        if variant not in catalog.variants:
            errors.append(DirectiveError(path, info.meta_line, f"social card variant '{variant}': use {' or '.join(catalog.variants)}"))
            model = catalog.model_for(cfg.variant)
        else:
            model = catalog.model_for(variant)
        if ratio not in model.sizes:
            errors.append(DirectiveError(path, info.meta_line, f"social card ratio '{ratio}' is not offered by {model.id}: use one of {', '.join(model.ratios)}"))
        d = Directive(path=path, page=p.page, line=info.meta_line, prompt=source.prompt or "", model=model.id,
                      ratio=ratio if not errors else cfg.ratio, alt=source.title)
        slot = Slot(p.page, block, d, errors, shown=False)
        self.card_slots[p.page] = slot
        self.cards[p.page] = (slot, source.title)

    def _resolve(self, slot: Slot) -> None:
        """The Request of a valid directive: ref files hashed, #names followed."""
        d = slot.directive
        if d is None or slot.errors:
            return
        hashes, files = [], []
        slot.blocked_by = None
        for ref in d.refs:
            if is_name_ref(ref):
                target = self._named.get(ref[1:])
                entry = target.entry if target is not None else None
                if entry is None:
                    slot.blocked_by = slot.blocked_by or ref  # wait for the first one first
                    hashes.append(f"pending:{ref}")
                    continue
                picked = entry.images[target.directive.pick - 1]
                hashes.append(picked.sha256)
                files.append(str(picked.path))
            else:
                try:
                    path, digest = self._hash_ref_file(ref, d.page)
                except ValueError as exc:
                    slot.errors.append(DirectiveError(d.path, d.line_of("refs"), str(exc)))
                    return
                hashes.append(digest)
                files.append(path)
        slot.request = Request(model=d.model, prompt=d.prompt, ratio=d.ratio, num=d.num, refs=tuple(hashes), rev=d.rev)
        slot.refs = tuple(files)
        if slot.blocked_by is None:
            slot.entry = self.cache.get(slot.request.key)

    def _hash_ref_file(self, ref: str, page: str) -> tuple[str, str]:
        path = resolve_ref_path(ref, page, self.settings.docs_dir)
        if path not in self._ref_hashes:
            data = Path(path).read_bytes()
            try:
                images.inspect(data)
            except images.BadImage as exc:
                raise ValueError(f"ref '{ref}' is not an image we can read ({exc}): use a PNG, JPEG or WebP file") from None
            self._ref_hashes[path] = sha256(data)
        return path, self._ref_hashes[path]

    def _cost(self, slot: Slot) -> int:
        """Credits (budget units) to generate the slot's image."""
        d = slot.directive
        return self.settings.catalog.get(d.model).credits * d.num if d else 0

    def _price(self, slots) -> float:
        """USD to generate these slots' images, at each model's real price."""
        return sum(self.settings.catalog.get(s.directive.model).usd * s.directive.num for s in slots if s.directive)

    def _approve(self, slots: list[Slot]) -> None:
        """Decide, in page order, which missing images may be paid for within max_credits.

        Generation stops at the first image that does not fit, so what gets generated is
        predictable from the page order; the rest are placeholders, with one warning.
        """
        if self.defer:  # the background generation keeps the budget, across rebuilds
            for s in slots:
                s.approved = s.request is not None and s.entry is None and not s.errors
            return
        if self.provider is None:
            missing = {s.request.key: s for s in slots if s.request and not s.entry and not s.errors}
            if missing:
                credits = sum(self._cost(s) for s in missing.values())
                self.warn(
                    f"{len(missing)} image(s) are placeholders: mode is {self.settings.mode}, so nothing "
                    f"is generated ({credits} credits ~ ${self._price(missing.values()):.2f} to generate them). Set "
                    f"{self.settings.api_key_env} (the variable named by api_key_env) and build again."
                )
            return
        left = self.settings.max_credits
        decided: dict[str, bool] = {}  # one decision per key: a repeat costs nothing more
        over: list[Slot] = []
        for s in slots:
            if s.request is None or s.entry is not None or s.errors:
                continue
            key = s.request.key if s.blocked_by is None else f"{id(s)}"  # pending keys are not known yet
            if key not in decided:
                cost = self._cost(s)
                decided[key] = not over and cost <= left
                if decided[key]:
                    left -= cost
                else:
                    over.append(s)
            s.approved = decided[key]
        if over:
            need = sum(self._cost(s) for s in over)
            self.warn(
                f"max_credits ({self.settings.max_credits}) reached: {len(over)} image(s) needing {need} more "
                f"credits (~${self._price(over):.2f}) are placeholders, from {over[0].where} on. Raise max_credits "
                "or build again to continue."
            )

    # -- moving a slot along -----------------------------------------------------------

    def _advance(self, slot: Slot) -> None:
        if slot.done.done():
            return
        if slot.directive is None or slot.errors:
            self._settle(slot, None, "")
        elif slot.entry is not None:
            self._settle(slot, slot.entry, "")
        elif slot.blocked_by is not None:
            target = self._named.get(slot.blocked_by[1:])
            if target is None or self.provider is None:
                self._settle(slot, None, f"placeholder: waiting for {slot.blocked_by}")
            elif not slot.approved:
                self._settle(slot, None, "placeholder: over max_credits")
            else:
                target.entry_future.add_done_callback(lambda _f: self._guarded(slot, self._after_target, slot))
        elif slot.approved and self.defer:
            self.deferred.setdefault(slot.request.key, GenerationJob(slot.request, slot.refs, slot.where, self._cost(slot)))
            self._settle(slot, None, "placeholder: being generated in the background; the page reloads when it is ready")
        elif slot.approved and self.provider is not None:
            job = self._generation(slot)
            job.add_done_callback(lambda f: self._guarded(slot, self._on_generated, slot, f))
        else:
            why = "placeholder: over max_credits" if self.provider is not None else "placeholder: not generated yet"
            self._settle(slot, None, why)

    def _guarded(self, slot: Slot, fn: Callable, *args) -> None:
        """Run a callback; if it fails, fail the slot. concurrent.futures swallows exceptions
        raised in callbacks, which would leave the page waiting forever."""
        try:
            fn(*args)
        except BaseException as exc:  # noqa: BLE001 - handed on to the page that waits
            for fut in (slot.entry_future, slot.done):
                if not fut.done():
                    fut.set_exception(exc)

    def _on_generated(self, slot: Slot, job: Future) -> None:
        exc = job.exception()
        if exc is not None:
            # not a provider answer (those are handled in _generate): a disk or cache fault
            self.warn(f"{slot.where}: could not store the generated image ({type(exc).__name__}: {exc})")
            self._status[slot.request.key] = "failed"
            self._settle(slot, None, "placeholder: generation failed")
        else:
            self._settle(slot, job.result(), self._why_missing())

    def _after_target(self, slot: Slot) -> None:
        with self._lock:
            self._resolve(slot)
        if slot.entry is None and not slot.errors and slot.blocked_by is None:
            self._fetch_remote([slot])
        if slot.errors:
            for e in slot.errors:
                self.warn(str(e))
        elif slot.blocked_by is not None and self._named[slot.blocked_by[1:]].entry_future.done():
            # the target could not be generated: this one cannot be either
            self._settle(slot, None, f"placeholder: {slot.blocked_by} could not be generated")
            return
        self._advance(slot)

    def _why_missing(self) -> str:
        reason = self.stop.reason
        if isinstance(reason, AuthError):
            return "placeholder: the API refused the key"
        if isinstance(reason, CreditsError):
            return "placeholder: out of credits"
        return "placeholder: generation failed"

    def _settle(self, slot: Slot, entry: CacheEntry | None, note: str) -> None:
        """The slot's image is known: record it, then render its figure."""
        slot.entry = entry
        if not slot.entry_future.done():
            slot.entry_future.set_result(entry)
        source, is_placeholder, title = self._source(slot, note)
        if not slot.shown:  # a card background: the card is drawn from the original, no page needs sizes of it
            if not slot.done.done():
                slot.done.set_result(Rendered([], is_placeholder, title))
            return
        d = slot.directive
        basename = d.name if d is not None and d.name and not slot.errors else source.id[:10]
        with self._lock:
            job = self._renders.get((source.id, basename))
        if job is None:
            job = self._render_job(source, basename)
            with self._lock:
                job = self._renders.setdefault((source.id, basename), job)

        def finish(f: Future) -> None:
            if f.exception() is not None:
                if not slot.done.done():
                    slot.done.set_exception(f.exception())
            elif not slot.done.done():
                slot.done.set_result(Rendered(f.result(), is_placeholder, title))

        job.add_done_callback(finish)

    # -- generation --------------------------------------------------------------------

    def _generation(self, slot: Slot) -> Future:
        key = slot.request.key
        with self._lock:
            job = self._generations.get(key)
            if job is None:
                job = self._net_pool.submit(self.generator.generate, slot.request, slot.refs, slot.where)
                self._generations[key] = job
        return job

    # -- rendering ---------------------------------------------------------------------

    def _source(self, slot: Slot, note: str) -> tuple[assets.Source, bool, str]:
        """The image a slot shows, whether it is a placeholder, and a hover text."""
        d = slot.directive
        if slot.entry is not None and d is not None:
            img = slot.entry.images[d.pick - 1]
            return assets.Source(img.sha256, img.width, img.height, img.alpha, lambda: Image.open(img.path)), False, ""
        model = self.settings.catalog.get(d.model) if d else None
        if d is None or slot.errors or model is None:
            first = slot.errors[0] if slot.errors else None
            text = f"Fix the nanobanana directive at {first.path}:{first.line}" if first else "Invalid directive"
            key = hashlib.sha256(slot.block.body.encode()).hexdigest()
            fallback = self.settings.catalog.model_for(self.settings.defaults.variant)
            size = fallback.sizes.get(self.settings.defaults.ratio, (1024, 1024))
            title, index, of = str(first) if first else text, 1, 1
        else:
            key = slot.request.key if slot.request else ""
            text, size, index, of, title = d.prompt, model.sizes[d.ratio], d.pick, d.num, note
        pid = placeholder.placeholder_id(key, index, text)
        return assets.Source(pid, size[0], size[1], False, lambda: placeholder.render(text, key, size, index, of)), True, title

    def _render_job(self, source: assets.Source, basename: str) -> Future:
        """The figure's files. When every derivative is cached already (a warm build) they
        are published here and now: a few hard links cost less than handing them to a
        worker, which must win the GIL back from the busy main thread after every one of
        them. Only Pillow work, which runs outside the GIL, goes to the image pool."""
        s = self.settings
        files = assets.derivative_files(source, assets.plan_widths(source.width, s.widths),
                                        assets.plan_exts(s.formats, source.alpha), s.quality, self.cache)
        if s.publish:
            variants = assets.publish_cached(files, self._out_dir, s.output_dir, basename)
        else:
            variants = [] if all(path.exists() for path, *_ in files) else None
        if variants is None:
            return self._image_pool.submit(self._render, source, files, basename)
        job: Future = Future()
        job.set_result(variants)
        return job

    @property
    def _out_dir(self) -> Path:
        return Path(self.settings.site_dir, *self.settings.output_dir.split("/"))

    def _render(self, source: assets.Source, files: list[assets.DerivedFile], basename: str) -> list[assets.Variant]:
        s = self.settings
        with self._lock:
            source_lock = self._source_locks.setdefault(source.id, threading.Lock())
        with source_lock:  # two names for one image: resize it once, publish it twice
            assets.make_missing(source, files, s.quality)
        if not s.publish:
            return []
        return assets.publish(files, self._out_dir, s.output_dir, basename)

    # -- pages -------------------------------------------------------------------------

    def slots_for(self, page: str, text: str, first_line: int = 1) -> list[tuple[Block, Slot]]:
        """Each block of the page as rendered now, with its slot, matched to the scan by order.

        If another plugin changed the page's directives since the scan, the page is read
        again and its images started now.
        """
        blocks, _ = scan_blocks(text, self.label(page), first_line)
        known = self.slots.get(page)
        if known is None or len(known) != len(blocks):
            known = self._add_page(PageText(page, text, first_line))
            for s in known:
                self._resolve(s)
                for e in s.errors:
                    self.warn(str(e))
            self._approve(known)
            for s in known:
                self._advance(s)
        return list(zip(blocks, known))

    def figure(self, slot: Slot, page_url: str, eager: bool) -> str:
        rendered: Rendered = slot.done.result()
        d = slot.directive
        if d is None or slot.errors:
            return assets.figure_html(
                rendered.variants, page_url=page_url, alt="Image not generated: the directive has an error",
                eager=eager, placeholder=True, title=rendered.note,
            )
        return assets.figure_html(
            rendered.variants, page_url=page_url, alt=d.alt_text, caption=d.caption, eager=eager,
            placeholder=rendered.placeholder, css_class=d.css_class, width_hint=d.width, title=rendered.note or None,
        )

    # -- planning ----------------------------------------------------------------------

    @staticmethod
    def identity(slot: Slot, ordinal: int) -> str:
        d = slot.directive
        return f"{slot.page}#{d.name}" if d is not None and d.name else f"{slot.page}@{ordinal}"

    def identities(self) -> dict[str, Slot]:
        ids = {self.identity(s, i): s for slots in self.slots.values() for i, s in enumerate(slots, 1)}
        ids.update({f"{page}#social-card": s for page, s in self.card_slots.items()})
        return ids

    def plan(self) -> list[PlanRow]:
        """Every directive's state after ``analyse``: cached, missing, changed or error."""
        last = self.cache.read_manifest()
        on_remote = self._remote_has([s.request.key for s in self.all_slots()
                                      if s.request and s.entry is None and not s.errors and s.blocked_by is None])
        rows = []
        for ident, s in self.identities().items():
            d = s.directive
            if d is None or s.errors:
                first = s.errors[0] if s.errors else None
                rows.append(PlanRow(str(first).split(": ", 1)[0] if first else s.where, None, "", "", 0, "error", 0, None,
                                    first.message if first else "invalid directive"))
                continue
            key = s.request.key if s.request and s.blocked_by is None else None
            if s.entry is not None:
                state, cost, note = "cached", 0, ""
            elif key in on_remote:
                state, cost, note = "cached", 0, "remote"
            else:
                changed = key is not None and last.get(ident) not in (None, key)
                state, cost = ("changed" if changed else "missing"), self._cost(s)
                note = f"after {s.blocked_by}" if s.blocked_by else ""
            if s in self.card_slots.values():
                note = "social card" + (f", {note}" if note else "")
            rows.append(PlanRow(d.where, d.name, d.model, d.ratio, d.num, state, cost, key, note,
                                round(self._price([s]), 4) if cost else 0.0))
        return rows

    def _remote_has(self, keys: list[str]) -> set[str]:
        """The keys the remote cache holds (a look-up each, many at a time, no download)."""
        if self.remote is None or not keys:
            return set()

        def has(key: str) -> bool:
            try:
                return self.remote.has(key)
            except RemoteError:
                return False

        with ThreadPoolExecutor(min(8, len(keys))) as pool:
            return {k for k, yes in zip(keys, pool.map(has, keys)) if yes}

    def sources_in_use(self) -> set[str]:
        """Ids of every image a build would show or could switch to by ``pick``: what
        ``prune`` keeps derivatives of."""
        ids = set()
        for s in self.all_slots():
            if s.entry is not None:
                ids.update(img.sha256 for img in s.entry.images)
            else:
                ids.add(self._source(s, "")[0].id)
        return ids

    def keys_in_use(self) -> set[str]:
        return {s.request.key for s in self.all_slots() if s.request is not None and s.blocked_by is None}

    def remember(self) -> None:
        """Record each directive's key for the next ``plan`` (changed vs new)."""
        keys = {ident: s.request.key for ident, s in self.identities().items()
                if s.request is not None and s.blocked_by is None and not s.errors}
        try:
            self.cache.write_manifest(keys)
        except OSError as exc:
            self.warn(f"could not write {self.cache.manifest_path} ({exc}); only `nanobanana plan` is affected")

    # -- the end -----------------------------------------------------------------------

    def counts(self) -> Counter:
        c: Counter = Counter()
        seen: set[str] = set()
        for s in self.all_slots():
            if s.errors or s.request is None:
                c["failed"] += 1
                continue
            key = s.request.key
            if key in seen:
                continue
            seen.add(key)
            status = self._status.get(key)
            if status is None:
                status = "cached" if s.entry is not None else "placeholder"
            c[status] += 1
        c["credits"] = self.generator.credits_spent if self.generator else 0
        return c

    def summary(self) -> str:
        """SPEC section 7's summary line, less the "nanobanana: " its logger puts first."""
        c = self.counts()
        ph = c["placeholder"]
        return (
            f"{c['cached']} cached, {c['generated']} generated ({c['credits']} credits ~ ${self.generator.usd_spent if self.generator else 0:.2f}), "
            f"{ph} placeholder{'s' if ph != 1 else ''}, {c['failed']} failed"
            + (f"; remote cache: {self.remote.fetched} fetched, {self.remote.uploaded} uploaded" if self.remote else "")
        )

    def finish(self) -> str:
        """Wait for every image, stop the workers, and return the summary line."""
        try:
            for slot in self.all_slots():
                slot.done.result()
            for job in self._card_jobs.values():
                job.result()
        finally:
            self.close()
        self.remember()
        if isinstance(self.stop.reason, CreditsError):
            left = sum(1 for s in self.all_slots() if s.approved and s.entry is None and not s.errors)
            self.warn(f"out of credits: {left} image(s) were left as placeholders; top up and build again")
        return self.summary()

    def close(self, wait: bool = True) -> None:
        """Stop the workers (``wait=False``: a failed build, drop what has not started)."""
        self._net_pool.shutdown(wait=wait, cancel_futures=True)
        self._image_pool.shutdown(wait=wait, cancel_futures=True)
        if self.generator is not None:
            self.generator.close()

    def abort(self) -> None:
        self.close(wait=False)
