"""What a site's directives need, read from its pages: no threads, no network, no image work.

``Analysis.read`` turns every page into Slots (one per directive, plus card-only
images from front matter or the card template), checks them site-wide (unique names,
refs to known names, no ref cycles), and resolves each valid one to the Request it would
pay for, looking it up in the local cache. ``nanobanana plan``, ``prune`` and ``verify``
use nothing else; a build hands the result to the scheduler.
"""

from __future__ import annotations

import contextlib
import fnmatch
from collections.abc import Iterable
from dataclasses import replace
from pathlib import Path

from ..cards import pictures, social
from ..core import image_bytes
from ..core.card_layouts import CardLayout, LayoutError
from ..core.card_values import CardText
from ..core.catalog import ChoiceError
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
from ..core.settings import Settings, page_label
from ..store.cache import Cache, CacheEntry
from ..store.picture_digests import PictureDigests
from ..store.spill import Spill
from .renderer import source_of
from .slot import CardPlan, PagePicture, Slot

__all__: list[str] = []

CARD_IDENTITY = "social-card"  # a card-only slot's name in the manifest and the plan
HOME_PAGE = "index.md"  # whose card a blog view without a carded post shows


def _automatic_card(page: str, include: tuple[str, ...], exclude: tuple[str, ...]) -> bool:
    """Whether cards_include / cards_exclude (globs over src paths) let ``page`` have a
    card it did not ask for itself."""
    if include and not any(fnmatch.fnmatchcase(page, g) for g in include):
        return False
    return not any(fnmatch.fnmatchcase(page, g) for g in exclude)


class Analysis:
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
        self.pages: list[PageText] = []  # what ``read`` read
        self._texts: dict[str, str] = {}  # page -> its whole file text, as ``read`` read it
        self.drafts: list[PageText] = []  # draft_docs pages a build skips and serve shows: in use all the same
        self._infos: dict[str, social.PageInfo] = {}  # page -> its front matter, title and description, read once
        self._styles: dict[str, str] = {}  # page -> the house style its prompts end with
        self._layouts: dict[str, CardLayout] = {}  # a page's own layout (name or file) -> read once a build

    def label(self, page: str) -> str:
        return page_label(self.settings, page)

    def all_slots(self) -> list[Slot]:
        """Every slot, page images first (they win the budget), then card-only images."""
        return [s for slots in self.slots.values() for s in slots] + list(self.card_slots.values())

    # -- reading -----------------------------------------------------------------------

    def read(self, pages: list[PageText]) -> None:
        """Read and check every directive and work out its Request; warn each error."""
        self.pages = list(pages)
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

    def unchanged(self, page: str, markdown: str) -> bool:
        """Whether ``markdown`` is the page as ``read`` got it, less its front matter: no
        plugin changed it since, so its directives are the ones read."""
        text = self._texts.get(page)
        if text is None or not text.endswith(markdown):
            return False
        first = text.count("\n", 0, len(text) - len(markdown)) + 1  # the file line ``markdown`` starts at
        return all(s.block.start >= first for s in self.slots.get(page, ()))

    # -- social cards ------------------------------------------------------------------

    def _info(self, p: PageText) -> social.PageInfo:
        if p.page not in self._infos:
            self._infos[p.page] = social.read_page(p.text, p.page)
        return self._infos[p.page]

    def _plan_card(self, p: PageText) -> None:
        """Decide where the page's card comes from; a prompt becomes a card-only slot."""
        cfg = self.settings.social
        slots = self.slots.get(p.page, [])
        ordinals = [i for i, s in enumerate(slots) if s.directive is not None and s.directive.social]
        first = None
        if cfg.source in ("first_image", "auto"):
            first = next((i for i, s in enumerate(slots) if s.valid), None)
        if cfg.source in ("none", "first_image") and not (ordinals or first is not None
                                                          or social.front_matter_mentions_us(p.text)):
            return  # no card can come from this page: leave its front matter unread
        info = self._info(p)
        path = self.label(p.page)
        automatic = _automatic_card(p.page, cfg.include, cfg.exclude)
        try:
            wanted = cfg.source == "auto" and first is None and not ordinals and automatic
            picture = self._picture(info, p.page) if wanted else None
            source = social.card_source(info, ordinals, source=cfg.source, template=cfg.prompt_template,
                                        site_description=cfg.site_description, first_image=first,
                                        picture=picture.path if picture else None, automatic=automatic)
            layout = self._layout(source.layout) if source is not None and source.layout else None
        except social.SocialError as exc:
            self.report.warn(str(DirectiveError(path, info.meta_line, str(exc))))
            return
        if source is None:
            return
        self.card_meta[p.page] = social.page_meta(info, source.title, cfg.site_description)
        slot = None
        if source.ordinal is not None:
            slot = slots[source.ordinal]
        elif source.prompt is not None:
            slot = self.card_slots[p.page] = self._card_slot(p.page, path, info.meta_line, source)
        # the description Material's cards print: the card's own, the page's, the site's
        words = CardText(source.title, cfg.site_name, source.description or info.description or cfg.site_description,
                         _fields(info.meta, (layout or cfg.layout).meta_keys))
        self.cards[p.page] = CardPlan(slot, words, layout, picture if source.picture else None, source.image_url)

    def in_layout(self, page: str, layout: CardLayout) -> CardPlan:
        """The page's card drawn in ``layout`` instead (``nanobanana card --layout``): the
        front matter fields that layout shows read again."""
        plan = self.cards[page]
        info = self._infos.get(page)
        fields = _fields(info.meta, layout.meta_keys) if info is not None else plan.text.fields
        return replace(plan, layout=layout, text=replace(plan.text, fields=fields))

    def _picture(self, info: social.PageInfo, page: str) -> PagePicture | None:
        """The page's own picture (pictures.py): front matter image, else its first
        Markdown image of a local raster file; None for none, or for an image URL."""
        docs = self.settings.docs_dir
        named = pictures.front_matter_image(info.meta, page, docs)
        if named.problem:
            self.report.warn(str(DirectiveError(self.label(page), info.image_line, f"{named.problem}: the card "
                                                "is drawn on the page's first image, else as a text card")))
        if named.url:
            return None
        found = named.picture or pictures.first_image(info.body, page, docs, info.body_line)
        if found is None:
            return None
        try:
            return PagePicture(found.path, self._picture_digests.sha256(found.path))
        except OSError:
            return None

    def _layout(self, value: str) -> CardLayout:
        """A page's own layout, read once a build; SocialError names what is wrong with it."""
        if value not in self._layouts:
            try:
                self._layouts[value] = self.settings.social.layout_named(value, "front matter nanobanana.social.layout")
            except LayoutError as exc:
                raise social.SocialError(str(exc)) from None
        return self._layouts[value]

    def page_style(self, page: str) -> str:
        """The house style the page's prompts end with: its front matter's, else the site's."""
        if page not in self._styles:
            style = self.settings.style
            text = self._texts.get(page)
            if text is not None and social.front_matter_mentions_us(text):
                info = self._info(PageText(page, text))
                try:
                    own = social.page_style(info.meta)
                except social.SocialError as exc:
                    self.report.warn(str(DirectiveError(self.label(page), info.meta_line, str(exc))))
                    own = None
                style = style if own is None else own
            self._styles[page] = style
        return self._styles[page]

    def plan_view_card(self, page: str, title: str, posts: list[str]) -> CardPlan | None:
        """A blog view's card (Material's blog index, archive, category, author and
        pagination pages, which its blog plugin makes after the pages were read): the
        card image of the first of its ``posts`` that has a card, else the home page's
        card's (none: a text card); cards_include/cards_exclude apply. Nothing new is paid
        for. None if the view gets no card (or has one of its own already)."""
        cfg = self.settings.social
        if not cfg.enabled or page in self.cards or not _automatic_card(page, cfg.include, cfg.exclude):
            return None
        known = next((self.cards[p] for p in [*posts, HOME_PAGE] if p in self.cards), None)
        if known is None:
            return None
        plan = self.cards[page] = CardPlan(known.slot, CardText(title, cfg.site_name, cfg.site_description),
                                           picture=known.picture)
        self.card_meta[page] = social.PageMeta(title, cfg.site_description)
        return plan

    def _card_slot(self, page: str, path: str, line: int, source: social.CardSource) -> Slot:
        """A card-only image: a directive of its own that no page shows."""
        cfg, catalog = self.settings.social, self.settings.catalog
        ratio = source.ratio or cfg.ratio
        try:
            model, errors = catalog.choose(ratio=ratio, variant=source.variant or cfg.variant), []
        except ChoiceError as exc:
            model, errors = catalog.model_for(cfg.variant), [DirectiveError(path, line, f"social card: {exc}")]
        d = Directive(path=path, page=page, line=line, prompt=source.prompt or "", model=model.id,
                      ratio=ratio if not errors else cfg.ratio, alt=source.title)
        return Slot(page, Block(line, line, "", source.prompt or ""), d, errors, shown=False)

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


def _fields(meta, keys: tuple[str, ...]) -> tuple[tuple[str, str], ...]:
    """The front matter fields a layout shows (``{meta.author}``), as text."""
    out = []
    for key in keys:
        value = meta.get(key)
        if isinstance(value, (list, tuple)):
            value = ", ".join(str(v) for v in value)
        elif hasattr(value, "isoformat"):
            value = value.isoformat()
        out.append((key, "" if value is None else " ".join(str(value).split())))
    return tuple(out)


def _hashed(path: str, known: dict[str, str]) -> str:
    """A reference file's sha256, read once a build (``known`` keeps them)."""
    if path not in known:
        known[path] = sha256(Path(path).read_bytes())
    return known[path]

