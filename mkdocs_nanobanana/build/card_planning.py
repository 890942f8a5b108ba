"""Where each page's social card comes from, as the site's Analysis reads its pages: a
`social: true` directive, the page's first generated image, its own picture (front
matter ``image:`` or its first Markdown image, cards/pictures.py), a prompt of its own
(a card-only slot), or nothing (a text card); the layout, the words and the front matter
fields it shows; blog views' cards; the house style a page's prompts end with. A base
of Analysis (analysis.py), which holds the state these methods read and fill.
"""

from __future__ import annotations

import fnmatch
from dataclasses import replace

from ..cards import pictures, social
from ..core.card_layouts import CardLayout, LayoutError
from ..core.card_values import CardText
from ..core.catalog import ChoiceError
from ..core.directives import Block, Directive, DirectiveError
from ..core.pages import PageText
from ..core.reporting import Reporter
from ..core.settings import Settings, page_label
from ..store.picture_digests import PictureDigests
from .slot import CardPlan, PagePicture, Slot

__all__: list[str] = []

HOME_PAGE = "index.md"  # whose card a blog view without a carded post shows


def _automatic_card(page: str, include: tuple[str, ...], exclude: tuple[str, ...]) -> bool:
    """Whether cards_include / cards_exclude (globs over src paths) let ``page`` have a
    card it did not ask for itself."""
    if include and not any(fnmatch.fnmatchcase(page, g) for g in include):
        return False
    return not any(fnmatch.fnmatchcase(page, g) for g in exclude)


class CardPlanning:
    """The card half of Analysis: its attributes are made by Analysis.__init__."""

    settings: Settings
    report: Reporter
    slots: dict[str, list[Slot]]
    card_slots: dict[str, Slot]
    cards: dict[str, CardPlan]
    card_meta: dict[str, social.PageMeta]
    _picture_digests: PictureDigests
    _texts: dict[str, str]
    _infos: dict[str, social.PageInfo]
    _styles: dict[str, str]
    _layouts: dict[str, CardLayout]

    def label(self, page: str) -> str:
        return page_label(self.settings, page)

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
            picture = self._picture(info, p) if wanted else None
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

    def _picture(self, info: social.PageInfo, p: PageText) -> PagePicture | None:
        """The page's own picture (pictures.py): front matter image, else its first
        Markdown image of a local raster file; None for none, or for an image URL."""
        docs, page = self.settings.docs_dir, p.page
        named = pictures.front_matter_image(info.meta, page, docs)
        if named.problem:
            self.report.warn(str(DirectiveError(self.label(page), info.image_line, f"{named.problem}: the card "
                                                "is drawn on the page's first image, else as a text card")))
        if named.url:
            return None
        found = named.picture
        if found is None and "![" in p.text:  # both image forms start so: most pages' texts are not cut
            found = pictures.first_image(info.body(p.text), page, docs, info.body_line)
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
