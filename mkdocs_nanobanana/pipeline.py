"""One build's image work, independent of any site generator.

``scan`` reads every page's directives up front, checks them site-wide (names, refs,
cycles), resolves what each one needs, and starts the image work in a thread pool at once.
A page then asks ``figure`` for its own images only, and waits only for those.
"""

from __future__ import annotations

import hashlib
import os
import threading
from collections import Counter
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from PIL import Image

from . import assets, images
from .cache import Cache, CacheEntry, Request, sha256
from .catalog import Catalog, usd
from .directives import (
    Block,
    Defaults,
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


@dataclass(frozen=True)
class Settings:
    """Plain values the pipeline needs; the host adapter fills them from its config."""

    docs_dir: str
    site_dir: str
    cache_dir: str
    output_dir: str = "assets/nanobanana"
    docs_label: str = "docs"  # how messages name docs_dir, e.g. docs/page.md:3
    mode: str = "offline"
    widths: tuple[int, ...] = (480, 768, 1024)
    formats: tuple[str, ...] = ("webp", "jpeg")
    quality: int = 82
    workers: int = max(1, os.cpu_count() or 1)
    defaults: Defaults = Defaults()
    catalog: Catalog = field(default_factory=Catalog)


@dataclass(frozen=True)
class PageText:
    page: str  # source path relative to docs_dir, POSIX
    text: str
    first_line: int = 1


@dataclass(frozen=True)
class Rendered:
    variants: list[assets.Variant]
    placeholder: bool


@dataclass
class Slot:
    """One directive occurrence on one page, valid or not."""

    page: str
    block: Block
    directive: Directive | None
    errors: list[DirectiveError] = field(default_factory=list)
    request: Request | None = None
    entry: CacheEntry | None = None
    blocked_by: str | None = None  # a #name ref whose image is not available yet
    job: Future[Rendered] | None = None


class Pipeline:
    def __init__(self, settings: Settings, warn: Callable[[str], None] = print) -> None:
        self.settings = settings
        self.warn = warn
        self.cache = Cache(settings.cache_dir)
        self.slots: dict[str, list[Slot]] = {}
        self._pool = ThreadPoolExecutor(max_workers=settings.workers, thread_name_prefix="nanobanana")
        self._jobs: dict[tuple[str, str], Future[Rendered]] = {}
        self._lock = threading.Lock()
        self._ref_hashes: dict[str, str] = {}
        self.cache.clean_temp()

    # -- scanning ----------------------------------------------------------------------

    def label(self, page: str) -> str:
        return f"{self.settings.docs_label}/{page}" if self.settings.docs_label else page

    def scan(self, pages: list[PageText]) -> None:
        """Read every page's directives, check them site-wide, and start the image work."""
        for p in pages:
            self._add_page(p)
        slot_of = {id(s.directive): s for s in self.all_slots() if s.directive and not s.errors}
        valid = [s.directive for s in slot_of.values()]
        for d, err in check_names(valid):
            slot_of[id(d)].errors.append(err)
        named = {s.directive.name: s for s in slot_of.values() if s.directive.name}
        for d in ref_order(valid):
            self._resolve(slot_of[id(d)], named)
        for slots in self.slots.values():
            for slot in slots:
                self._start(slot)
        self._report()

    def _add_page(self, p: PageText) -> list[Slot]:
        blocks, directives, errors = parse_page(
            p.text, self.label(p.page), p.page, self.settings.catalog, self.settings.defaults, p.first_line
        )
        slots = []
        for block, d in zip(blocks, directives):
            errs = [e for e in errors if block.start <= e.line <= block.end]
            slots.append(Slot(p.page, block, d, errs))
        if len(errors) > sum(len(s.errors) for s in slots):
            # An unclosed fence has no block: keep its error on a slot-less record.
            loose = [e for e in errors if not any(s.block.start <= e.line <= s.block.end for s in slots)]
            for e in loose:
                self.warn(str(e))
        self.slots[p.page] = slots
        return slots

    def _resolve(self, slot: Slot, named: dict[str, Slot]) -> None:
        """Work out the Request of a valid directive: ref bytes hashed, #names followed."""
        d = slot.directive
        assert d is not None
        if slot.errors:
            return
        hashes = []
        for ref in d.refs:
            if is_name_ref(ref):
                target = named.get(ref[1:])
                if target is None or target.errors or target.entry is None:
                    slot.blocked_by = ref
                    hashes.append(f"pending:{target.request.key if target and target.request else ref}")
                    continue
                hashes.append(target.entry.images[target.directive.pick - 1].sha256)
            else:
                try:
                    hashes.append(self._hash_ref_file(ref, d.page))
                except ValueError as exc:
                    slot.errors.append(DirectiveError(d.path, d.line_of("refs"), str(exc)))
                    return
        slot.request = Request(model=d.model, prompt=d.prompt, ratio=d.ratio, num=d.num, refs=tuple(hashes), rev=d.rev)
        if slot.blocked_by is None:
            slot.entry = self.cache.get(slot.request.key)

    def _hash_ref_file(self, ref: str, page: str) -> str:
        path = resolve_ref_path(ref, page, self.settings.docs_dir)
        if path not in self._ref_hashes:
            data = Path(path).read_bytes()
            try:
                images.inspect(data)
            except images.BadImage as exc:
                raise ValueError(f"ref '{ref}' is not an image we can read ({exc}): use a PNG, JPEG or WebP file") from None
            self._ref_hashes[path] = sha256(data)
        return self._ref_hashes[path]

    # -- image work --------------------------------------------------------------------

    def _source(self, slot: Slot) -> tuple[assets.Source, bool, str]:
        """The image a slot shows, whether it is a placeholder, and a hover text."""
        d = slot.directive
        if slot.entry is not None and d is not None:
            img = slot.entry.images[d.pick - 1]
            return assets.Source(img.sha256, img.width, img.height, img.alpha, lambda: Image.open(img.path)), False, ""
        model = self.settings.catalog.get(d.model) if d else None
        if d is None or slot.errors or model is None:
            text = f"Fix the nanobanana directive at {slot.errors[0].path}:{slot.errors[0].line}" if slot.errors else "Invalid directive"
            key = hashlib.sha256(slot.block.body.encode()).hexdigest()
            size = self.settings.catalog.model_for(self.settings.defaults.variant).sizes.get(self.settings.defaults.ratio, (1024, 1024))
            title = str(slot.errors[0]) if slot.errors else text
            index, of = 1, 1
        else:
            text, key, size = d.prompt, slot.request.key if slot.request else "", model.sizes[d.ratio]
            index, of = d.pick, d.num
            title = f"placeholder: waiting for {slot.blocked_by}" if slot.blocked_by else "placeholder: not generated yet"
        pid = placeholder.placeholder_id(key, index, text)
        return (
            assets.Source(pid, size[0], size[1], False, lambda: placeholder.render(text, key, size, index, of)),
            True,
            title,
        )

    def _start(self, slot: Slot) -> None:
        source, is_placeholder, _ = self._source(slot)
        d = slot.directive
        basename = d.name if d is not None and d.name and not slot.errors else source.id[:10]
        job_key = (source.id, basename)
        with self._lock:
            job = self._jobs.get(job_key)
            if job is None:
                job = self._pool.submit(self._render, source, basename, is_placeholder)
                self._jobs[job_key] = job
        slot.job = job

    def _render(self, source: assets.Source, basename: str, is_placeholder: bool) -> Rendered:
        s = self.settings
        files = assets.ensure_derivatives(
            source, assets.plan_widths(source.width, s.widths), assets.plan_exts(s.formats, source.alpha),
            s.quality, self.cache,
        )
        out_dir = Path(s.site_dir, *s.output_dir.split("/"))
        return Rendered(assets.publish(files, out_dir, s.output_dir, basename), is_placeholder)

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
            named = {s.directive.name: s for s in self.all_slots() if s.directive and s.directive.name and not s.errors}
            for s in known:
                if s.directive and not s.errors:
                    self._resolve(s, named)
                self._start(s)
                for e in s.errors:
                    self.warn(str(e))
        return list(zip(blocks, known))

    def figure(self, slot: Slot, page_url: str, eager: bool) -> str:
        assert slot.job is not None
        rendered = slot.job.result()
        d = slot.directive
        _, _, title = self._source(slot) if rendered.placeholder else (None, None, None)
        if d is None or slot.errors:
            return assets.figure_html(
                rendered.variants, page_url=page_url, alt="Image not generated: the directive has an error",
                eager=eager, placeholder=True, title=title,
            )
        return assets.figure_html(
            rendered.variants, page_url=page_url, alt=d.alt_text, caption=d.caption, eager=eager,
            placeholder=rendered.placeholder, css_class=d.css_class, width_hint=d.width, title=title,
        )

    # -- reporting ---------------------------------------------------------------------

    def all_slots(self) -> list[Slot]:
        return [s for slots in self.slots.values() for s in slots]

    def _report(self) -> None:
        for slot in self.all_slots():
            for e in slot.errors:
                self.warn(str(e))
        missing = self._missing()
        if missing:
            credits = sum(self.settings.catalog.get(r.model).credits * r.num for r in missing.values())
            self.warn(
                f"{len(missing)} image(s) are placeholders: mode is {self.settings.mode}, so nothing "
                f"is generated ({credits} credits ~ ${usd(credits):.2f} to generate them). "
                "Set NANOBANANA_API_KEY (or the variable named by api_key_env) and build again."
            )

    def _missing(self) -> dict[str, Request]:
        return {
            s.request.key: s.request for s in self.all_slots()
            if s.request is not None and s.entry is None and not s.errors
        }

    def counts(self) -> Counter[str]:
        c: Counter[str] = Counter()
        seen: set[str] = set()
        for s in self.all_slots():
            if s.errors or s.request is None:
                c["failed"] += 1
                continue
            if s.request.key in seen:
                continue
            seen.add(s.request.key)
            c["cached" if s.entry is not None else "placeholder"] += 1
        return c

    def summary(self) -> str:
        """SPEC section 7's summary line, less the "nanobanana: " its logger puts first."""
        c = self.counts()
        generated, credits = c["generated"], c["credits"]
        ph = c["placeholder"]
        return (
            f"{c['cached']} cached, {generated} generated ({credits} credits ~ ${usd(credits):.2f}), "
            f"{ph} placeholder{'s' if ph != 1 else ''}, {c['failed']} failed"
        )

    def finish(self) -> str:
        """Wait for every image, stop the workers, and return the summary line."""
        try:
            for job in list(self._jobs.values()):
                job.result()
        finally:
            self._pool.shutdown(wait=True, cancel_futures=True)
        return self.summary()

    def abort(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)


MODES = ("auto", "live", "offline")


class ModeError(ValueError):
    """The mode cannot run as asked (a bad NANOBANANA_MODE, live without a key)."""


def resolve_mode(configured: str, environ: dict[str, str] | os._Environ[str], api_key_env: str) -> str:
    """``live`` or ``offline``: env NANOBANANA_MODE wins, ``auto`` is live when the key is set.

    Never reads more of the key than whether it is set.
    """
    mode = environ.get("NANOBANANA_MODE", "").strip().lower() or configured
    if mode not in MODES:
        raise ModeError(f"NANOBANANA_MODE={mode!r} is not a mode: use one of {', '.join(MODES)}")
    has_key = bool(environ.get(api_key_env, "").strip())
    if mode == "auto":
        return "live" if has_key else "offline"
    if mode == "live" and not has_key:
        raise ModeError(
            f"mode is live but the environment variable {api_key_env} is not set: export it "
            "(the API key), or use mode: offline to build with placeholders"
        )
    return mode
