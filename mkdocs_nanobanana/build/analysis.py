"""What a site's directives need, read from its pages: no threads, no network, no image work.

``Analysis.read`` turns every page into Slots (one per directive, plus card-only
images from front matter or the card template), checks them site-wide (unique names,
refs to known names, no ref cycles), and resolves each valid one to the Request it would
pay for, looking it up in the local cache. ``nanobanana plan``, ``prune`` and ``verify``
use nothing else; a build hands the result to the scheduler.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable
from pathlib import Path

from ..cards import social
from ..core import image_bytes
from ..core.card_layouts import CardLayout
from ..core.directives import (
    Block,
    Directive,
    DirectiveError,
    check_names,
    is_name_ref,
    parse_page,
    ref_order,
    resolve_ref_path,
)
from ..core.directives import scan as find_blocks
from ..core.pages import PageText
from ..core.reporting import Reporter
from ..core.request import Request, sha256, styled
from ..core.settings import Settings
from ..store.cache import Cache, CacheEntry
from ..store.picture_digests import PictureDigests
from ..store.spill import Spill
from .card_planning import CardPlanning
from .slot import CardPlan, Slot
from .sources import source_of

__all__: list[str] = []

CARD_IDENTITY = "social-card"  # a card-only slot's name in the manifest and the plan


class Analysis(CardPlanning):
    def __init__(self, settings: Settings, cache: Cache, report: Reporter) -> None:
        self.settings = settings
        self.cache = cache
        self.report = report
        self.slots: dict[str, list[Slot]] = {}  # page -> its directives, in page order
        self.card_slots: dict[str, Slot] = {}  # page -> its card-only image
        self.cards: dict[str, CardPlan] = {}  # page -> its card
        self.card_meta: dict[str, social.PageMeta] = {}  # page -> what its link preview says
        self.named: dict[str, Slot] = {}  # name -> the valid slot that has it
        self._ref_hashes: dict[str, str] = {}  # file -> sha256, read once a build
        self._picture_digests = PictureDigests(cache)  # a page's own picture -> sha256, by its stat
        self._entries: dict[str, CacheEntry] = {}  # key -> its entry, read once a build (hits only)
        self.spill = Spill.of(cache.root, (settings.docs_dir, settings.site_dir))
        self._kept: dict[str, int] = {}  # key -> kept images a purchase would take, counted once a build
        self._ref_problems: dict[str, str | None] = {}  # file -> why it is not an image we can send, checked once
        self._pages: dict[str, PageText] = {}  # what ``read`` read, less what ``release`` let go
        self._texts: dict[str, str] = {}  # page -> its whole file text, as ``read`` read it
        self.drafts: list[PageText] = []  # draft_docs pages a build skips and serve shows: in use all the same
        self._infos: dict[str, social.PageInfo] = {}  # page -> its front matter, title and description, read once
        self._styles: dict[str, str] = {}  # page -> the house style its prompts end with
        self._layouts: dict[str, CardLayout] = {}  # a page's own layout (name or file) -> read once a build

    def all_slots(self) -> list[Slot]:
        """Every slot, page images first (they win the budget), then card-only images."""
        return [s for slots in self.slots.values() for s in slots] + list(self.card_slots.values())

    # -- reading -----------------------------------------------------------------------

    @property
    def pages(self) -> list[PageText]:
        """The pages ``read`` read (less those ``release`` let go)."""
        return list(self._pages.values())

    def read(self, pages: list[PageText]) -> None:
        """Read and check every directive and work out its Request; warn each error."""
        self._pages = {p.page: p for p in pages}
        self._texts = {p.page: p.text for p in pages if p.first_line == 1}
        for p in pages:
            self.add_page(p)
        if self.settings.social.enabled:
            for p in pages:
                self._plan_card(p)
            with contextlib.suppress(OSError):  # a cache that cannot take it: hashed again next time
                self._picture_digests.save()
        valid = [(d, s) for s in self.all_slots() if (d := s.directive) is not None and not s.errors]
        slot_of = {id(d): s for d, s in valid}
        directives = [d for d, _ in valid]
        for d, err in check_names(directives):
            slot_of[id(d)].errors.append(err)
        self.named = {d.name: s for d, s in valid if d.name and not s.errors}
        for d in ref_order(directives):
            self.resolve(slot_of[id(d)])
        for slot in self.all_slots():
            self._warn_errors(slot)

    def _warn_errors(self, slot: Slot) -> None:
        for e in slot.errors:
            self.report.warn(str(e))

    def add_page(self, p: PageText) -> list[Slot]:
        blocks, directives, errors = parse_page(
            p.text, self.label(p.page), p.page, self.settings.catalog, self.settings.defaults, p.first_line
        )
        slots = [
            Slot(p.page, block, d, [e for e in errors if block.start <= e.line <= block.end])
            for block, d in zip(blocks, directives, strict=True)
        ]
        for e in errors:  # an unclosed fence has no block of its own
            if not any(s.block.start <= e.line <= s.block.end for s in slots):
                self.report.warn(str(e))
        self.slots[p.page] = slots
        return slots

    def reread(self, page: str, text: str, first_line: int) -> tuple[list[tuple[Block, Slot]], list[Slot]]:
        """Each block of the page as rendered now, with its slot, matched to ``read`` by
        order; and the slots made now, if another plugin changed the page's directives
        since (they still need their image work started)."""
        known = self.slots.get(page)
        if known is not None and self.unchanged(page, text):
            return [(s.block, s) for s in known], []  # the blocks ``read`` found, at the same file lines
        blocks, _ = find_blocks(text, self.label(page), first_line)
        fresh: list[Slot] = []
        if known is None or len(known) != len(blocks):
            known = fresh = self.add_page(PageText(page, text, first_line))
            for s in fresh:
                self.resolve(s)
                self._warn_errors(s)
        return list(zip(blocks, known, strict=True)), fresh

    def text_read(self, page: str) -> str | None:
        """The page's file text as ``read`` got it (front matter included), or None."""
        return self._texts.get(page)

    def release(self, page: str) -> None:
        """The host has the page's Markdown and its directives are swapped: let go of its
        text, which a large site held for the whole build. A page rendered again after this
        is read again. Not with draft pages: the build reads every page again at its end
        (``with_drafts``), for what they all use."""
        if not self.drafts:
            self._pages.pop(page, None)
            self._texts.pop(page, None)

    def unchanged(self, page: str, markdown: str) -> bool:
        """Whether ``markdown`` is the page as ``read`` got it, less its front matter: no
        plugin changed it since, so its directives are the ones read."""
        text = self._texts.get(page)
        if text is None or not text.endswith(markdown):
            return False
        first = text.count("\n", 0, len(text) - len(markdown)) + 1  # the file line ``markdown`` starts at
        return all(s.block.start >= first for s in self.slots.get(page, ()))

    # -- social cards ------------------------------------------------------------------

    # -- requests ----------------------------------------------------------------------

    def resolve(self, slot: Slot) -> None:
        """The Request of a valid directive: ref files hashed, #names followed, the
        local cache asked. A ref to a #name whose image is not known yet leaves the slot
        ``blocked_by`` it; resolve again once it is."""
        d = slot.directive
        if d is None or slot.errors:
            return
        hashes, files = [], []
        file_refs: list[tuple[str, str]] = []  # (ref, path) of the refs that are files
        slot.blocked_by = None
        for ref in d.refs:
            if is_name_ref(ref):
                target = self.named.get(ref[1:])
                picked = target.shown_image() if target is not None else None
                if picked is None:
                    slot.blocked_by = slot.blocked_by or ref  # wait for the first one first
                    hashes.append(f"pending:{ref}")
                    continue
                hashes.append(picked.sha256)
                files.append(str(picked.path))
            else:
                try:
                    path = resolve_ref_path(ref, d.page, self.settings.docs_dir)
                    digest = _hashed(path, self._ref_hashes)
                except ValueError as exc:
                    slot.errors.append(DirectiveError(d.path, d.line_of("refs"), str(exc)))
                    return
                hashes.append(digest)
                files.append(path)
                file_refs.append((ref, path))
        slot.request = Request(model=d.model, prompt=styled(d.prompt, self.page_style(slot.page)), ratio=d.ratio,
                               num=d.num, refs=tuple(hashes), rev=d.rev)
        slot.refs = tuple(files)
        if slot.blocked_by is None:
            slot.entry = self._cached(slot.request.key)
        if slot.entry is None and file_refs:
            self._check_ref_images(slot, d, file_refs)

    def _cached(self, key: str) -> CacheEntry | None:
        """The cache's entry for ``key``, from its index (a warm build opens no sidecar),
        once a build however many directives (or, for the manifest, draft pages) ask. A miss is asked again: the
        entry may be bought later in the build."""
        entry = self._entries.get(key)
        if entry is None:
            # bought by a build whose cache_dir could not take it: held, once it checks out (store/spill.py)
            entry = self.cache.get_indexed(key) or self.spill.entry(key)
            if entry is not None:
                self._entries[key] = entry
        return entry

    def _check_ref_images(self, slot: Slot, d: Directive, file_refs: list[tuple[str, str]]) -> None:
        """Refuse a ref file (``file_refs``: the directive's ref, its path) that is not an
        image we can send, before anything is paid for. Only a slot whose image is not
        cached is checked: a cached key holds the hash of the very bytes that were checked
        and sent when it was bought, so a warm build decodes no ref (nor imports Pillow)."""
        for ref, path in file_refs:
            if path not in self._ref_problems:
                try:
                    image_bytes.inspect(Path(path).read_bytes())
                    self._ref_problems[path] = None
                except image_bytes.BadImage as exc:
                    self._ref_problems[path] = str(exc)
            problem = self._ref_problems[path]
            if problem is not None:
                slot.errors.append(DirectiveError(d.path, d.line_of("refs"), f"ref '{ref}' is not an image we can read "
                                                  f"({problem}): use a PNG, JPEG or WebP file"))
                slot.request, slot.refs = None, ()
                return

    def cost(self, slot: Slot) -> int:
        """Credits (budget units) to generate the slot's image."""
        d = slot.directive
        return self.settings.catalog.of(d.model).credits * self.to_buy(slot) if d else 0

    def price(self, slots: Iterable[Slot]) -> float:
        """USD to generate these slots' images, at each model's real price."""
        return sum(self.settings.catalog.of(d.model).usd * self.to_buy(s) for s in slots if (d := s.directive))

    def to_buy(self, slot: Slot) -> int:
        """How many images a purchase of the slot pays for: ``num``, less those a build
        that failed half-way already paid for (kept in the cache, see Buyer)."""
        d = slot.directive
        if d is None:
            return 0
        key = slot.request.key if slot.request is not None else None
        if key is not None and key not in self._kept:
            self._kept[key] = self.cache.partial_count(key)  # the buyer's rule: decode-checked
        return max(0, d.num - self._kept.get(key, 0)) if key is not None else d.num

    # -- queries -----------------------------------------------------------------------

    @staticmethod
    def identity(slot: Slot, ordinal: int) -> str:
        """A directive's name across builds: its page and its name, or its position."""
        d = slot.directive
        return f"{slot.page}#{d.name}" if d is not None and d.name else f"{slot.page}@{ordinal}"

    def identities(self) -> dict[str, Slot]:
        ids = {self.identity(s, i): s for slots in self.slots.values() for i, s in enumerate(slots, 1)}
        ids.update({f"{page}#{CARD_IDENTITY}": s for page, s in self.card_slots.items()})
        return ids

    def unknown_keys(self) -> list[str]:
        """Keys of valid slots the local cache lacks: what the remote tier may hold."""
        return [s.request.key for s in self.all_slots()
                if s.request is not None and s.entry is None and not s.errors and s.blocked_by is None]

    def sources_in_use(self) -> set[str]:
        """Ids of every image a build would show or could switch to by ``pick``: what
        ``prune`` keeps derivatives of."""
        ids: set[str] = set()
        for s in self.all_slots():
            if s.entry is not None:
                ids.update(img.sha256 for img in s.entry.images)
            else:
                ids.add(source_of(s, self.settings, "")[0].id)
        return ids

    def keys_in_use(self) -> set[str]:
        return {s.request.key for s in self.all_slots() if s.request is not None and s.blocked_by is None}


    def with_drafts(self) -> Analysis:
        """The site read again with its draft pages, quietly (a build does not show them,
        so their errors are not this build's): what they use."""
        whole = Analysis(self.settings, self.cache, Reporter(lambda _message: None))
        whole._entries, whole._ref_hashes = self._entries, self._ref_hashes  # read once a build: not again here
        whole.read(self.pages + self.drafts)
        return whole


def _hashed(path: str, known: dict[str, str]) -> str:
    """A reference file's sha256, read once a build (``known`` keeps them)."""
    if path not in known:
        known[path] = sha256(Path(path).read_bytes())
    return known[path]

