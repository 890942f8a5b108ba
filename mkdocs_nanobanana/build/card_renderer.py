"""A page's social card: drawn on its slot's image, its own picture or nothing (a text
card), taken from the cache when it is there (cards are named by a hash of all they are
drawn from, see sources.card_key), published into the site; and the preview
`nanobanana card` draws. Pillow work runs on the renderer's image pool.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from ..cards import drawing, social
from ..core import card_values, image_bytes
from ..core.card_values import CardStyle
from ..core.reporting import Reporter
from ..core.settings import Settings, page_label
from ..imaging import copies
from ..store.cache import Cache
from .slot import CardPlan
from .sources import card_key, source_of, unusable

# Pillow is imported where pixels are touched: a warm build touches none, and skips it.
if TYPE_CHECKING:
    from PIL import Image

__all__: list[str] = []


class CardRenderer:
    """The cards of one build, on its Renderer's cache, settings and reporter; ``made``
    counts what Pillow encoded and sends it to the remote tier (``Renderer._made``)."""

    def __init__(self, settings: Settings, cache: Cache, report: Reporter,
                 made: Callable[[list[Path], bool], None]) -> None:
        self.settings = settings
        self.cache = cache
        self.report = report
        self._made = made
        # id(plan) -> (plan, its card's key) as ``card`` named it: site_use.card_keys takes the
        # key from here rather than hash every card's layers a second time. A card on a
        # slot's image keeps the key of its cached image, the one card_keys would compute
        # (the slot's entry is set before its card is drawn), even if that image turns out
        # damaged and the card is drawn on the placeholder instead.
        self.named: dict[int, tuple[CardPlan, str]] = {}
        self._folders: set[str] = set()  # the site's folders of cards made this build

    def cached(self, page: str, plan: CardPlan) -> str | None:
        """``card`` for a card the cache holds (every card of a warm build): published now,
        in the calling thread, and its site URL; None if it must be drawn (``card``, on
        the image pool). A pool task for each card cost more than the card itself (its
        key, one stat, one link): with it gone, a warm 500-page build ran 1.33 G
        instructions more than MkDocs alone, not 1.61 G (callgrind, back to back)."""
        s = self.settings
        src = source_of(plan.slot, s, "")[0] if plan.slot is not None else None
        key = card_key(s, plan, src.id if src else None)
        path = social.card_path(self.cache, key)
        if not path.exists():
            return None
        self.named[id(plan)] = (plan, key)
        return self._publish(page, path)

    def card(self, page: str, plan: CardPlan) -> str:
        """Draw (or take from the cache) the page's card and publish it; its site URL."""
        s = self.settings
        style = s.social.style(plan.layout)
        if plan.slot is None:
            path = self._drawn(page, plan, style, None, share=True, remember=True)
        else:
            source, is_placeholder, _ = source_of(plan.slot, s, "")
            try:
                path = self._drawn(page, plan, style, source, share=not is_placeholder, remember=True)
            except image_bytes.BadImage as exc:  # the card gets the placeholder, as the figure does
                entry = plan.slot.entry  # the figure's own render may have said it already
                shown = entry.images if entry else ()
                image = next((img.path for img in shown if img.sha256 == source.id), source.id)
                self.report.once(f"damaged {source.id}", unusable(plan.slot.where, image, exc))
                path = self._drawn(page, plan, style, source_of(plan.slot, s, "", cached=False)[0], share=False)
        return self._publish(page, path)

    def _publish(self, page: str, path: Path) -> str:
        """Link the card file into the site (unless it was drawn there already); its URL.
        Plain strings, no Path: a warm build publishes a card a page."""
        s = self.settings
        url = social.card_url(page, s.output_dir)
        dest = os.path.join(s.site_dir, *url.split("/"))
        if s.publish and os.fspath(path) != dest:  # else drawn straight into the site (the cache cannot take it)
            folder = os.path.dirname(dest)
            if folder not in self._folders:  # a section's cards share one: a mkdir each, not one a card
                os.makedirs(folder, exist_ok=True)
                self._folders.add(folder)
            copies.link_or_copy(path, dest)
        return url

    def _drawn(self, page: str, plan: CardPlan, style: CardStyle, src: copies.Source | None, share: bool,
               remember: bool = False) -> Path:
        """The card file, drawn on ``src`` (a slot's image; None: the page's picture or
        none) only if the cache lacks it; what is drawn is sent to the remote tier when
        ``share`` (a placeholder's card is not); ``remember``: its key goes into ``named``."""
        # a title or logo drawn over a generated image makes a composite
        made = src.provenance.on_card(style.card_layout.name != "only_image") if src and src.provenance else None
        drew: list[bytes] = []  # card_file draws only when the cache lacks the card

        def draw() -> bytes:
            warn = lambda message: self.report.once(f"card {message}", message)  # noqa: E731
            image = self.card_image(page, plan, style, src)
            try:
                data = drawing.render_card(image, plan.text, style, warn, xmp=made.xmp() if made else None,
                                           on_missing=lambda chars: self._missing_glyphs(page, chars))
            except (OSError, ValueError, MemoryError) as exc:  # Pillow's, drawing in memory: not the disk's
                raise image_bytes.BadImage(f"the card cannot be drawn ({type(exc).__name__}: {exc})") from None
            drew.append(data)
            return data

        key = card_key(self.settings, plan, src.id if src else None)
        if remember:
            self.named[id(plan)] = (plan, key)
        try:
            path = social.card_file(self.cache, key, draw)
        except OSError as exc:  # a full disk, a read-only cache: drawn all the same, into the site only
            return self._uncached_card(page, drew[0] if drew else draw(), exc)
        if drew:
            self._made([path], share)
        return path

    def _uncached_card(self, page: str, data: bytes, exc: OSError) -> Path:
        """The cache cannot take a card: a warning, and the card kept beside the site's
        own copy of it (under site_dir's output folder), drawn again by the next build."""
        self.report.once(f"unwritable card {exc.errno}", (
            f"could not write social cards into {self.cache.root / 'social'} ({exc.strerror or exc}): free some space "
            "or make cache_dir writable; this build writes them into the site only, so the next one draws them again"))
        path = Path(os.path.join(self.settings.site_dir, *social.card_url(page, self.settings.output_dir).split("/")))
        if self.settings.publish:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
        self._made([path], False)  # not shared: the cache could not take it
        return path

    def card_preview(self, page: str, plan: CardPlan, style: CardStyle, grid: bool = False) -> bytes:
        """``nanobanana card``: the page's card as a PNG, drawn now and kept nowhere, on its
        card image where the cache has it, else on its placeholder (the API is never
        called); ``grid``: the layout designer's overlay (drawing.overlay)."""
        src = source_of(plan.slot, self.settings, "")[0] if plan.slot is not None else None

        def warn(message: str) -> None:
            self.report.once(f"card {message}", message)

        def draw(on: copies.Source | None) -> bytes:
            return drawing.render_card(self.card_image(page, plan, style, on), plan.text, style, warn, grid=grid,
                                       fmt="PNG", on_missing=lambda chars: self._missing_glyphs(page, chars))
        try:
            return draw(src)
        except image_bytes.BadImage as exc:  # a damaged cached image: its placeholder, as a build shows
            assert plan.slot is not None
            self.report.once(f"damaged {plan.slot.where}", unusable(plan.slot.where, src.id if src else "", exc))
            return draw(source_of(plan.slot, self.settings, "", cached=False)[0])

    def card_image(self, page: str, plan: CardPlan, style: CardStyle, src: copies.Source | None) -> Image.Image | None:
        """What the card is drawn on: its slot's image (its cached cover crop, or the
        whole image when the layout wants more of it), the page's own picture, or None
        (a text card; also a picture that cannot be read, with a warning)."""
        if src is None and plan.picture is not None:
            try:
                src = self._picture_source(plan.picture.path, plan.picture.sha256)
            except image_bytes.BadImage as exc:
                self.report.once(f"picture {plan.picture.path}", (
                    f"{page_label(self.settings, page)}: its picture {plan.picture.path} cannot be read ({exc}): its "
                    "card is drawn as a text card"))
                return None
        if src is None:
            return None
        if drawing.needs_source(style.card_layout, drawing.facts(plan.text, style, True)):
            with copies.decoded(src) as img:
                return img.copy()
        return self.card_cover(src)

    @staticmethod
    def _picture_source(path: str, digest: str) -> copies.Source:
        """The page's own picture as a Source: its size as it shows (EXIF orientation
        applied) from its header, its pixels upright and in RGB colours when opened, as
        its responsive copies are (imaging/own_pixels); BadImage if it is no image."""
        try:
            data = Path(path).read_bytes()
        except OSError as exc:
            raise image_bytes.BadImage(f"{type(exc).__name__}: {exc}") from None
        from ..imaging import own_pixels  # here: only a card drawn on a page's own picture needs it

        facts = own_pixels.facts_of(data, digest)
        if facts.kind == "unreadable":
            raise image_bytes.BadImage(facts.why or "not an image")
        return copies.Source(digest, facts.width, facts.height, facts.alpha, lambda: own_pixels.upright(data))

    def _missing_glyphs(self, page: str, chars: dict[str, str]) -> None:
        """One warning a page: the scripts of the characters no installed font has, and the fix."""
        from ..cards import typeset  # loaded by the drawing that found them

        by_script: dict[str, list[str]] = {}
        for ch, script in chars.items():
            by_script.setdefault(script, []).append(ch)
        scripts = ", ".join(f"{script} ({''.join(found[:12])})" for script, found in by_script.items())
        packages = " ".join(dict.fromkeys(typeset.script_of(found[0])[1] for found in by_script.values()))
        self.report.once(f"glyphs {page} {scripts}", (
            f"{page_label(self.settings, page)}: no font on this machine has the {scripts} characters of its social "
            f"card: they are left out of the card rather than drawn as boxes; install fonts that have them "
            f"(Debian, Ubuntu: apt-get install {packages}) or set social.font to one"))

    def card_cover(self, src: copies.Source) -> Image.Image:
        """The card image scaled and cropped to the card's size, kept in the cache as a
        copy of its own (social.COVER): a card drawn again (a new title, site name or
        layout; a page added) decodes 1200x630 JPEG pixels instead of the whole source,
        and does not resize it. BadImage if the source cannot be read."""
        from PIL import Image

        path = self.cache.derived_path(src.id, card_values.CARD_SIZE[0], "jpg", social.COVER.tag)
        try:
            with Image.open(path) as kept:
                kept.load()
                if kept.size == card_values.CARD_SIZE:
                    return kept
        except (OSError, SyntaxError, ValueError, Image.DecompressionBombError):
            pass  # not made yet, or damaged: made (again) from the source
        with copies.decoded(src) as img:
            try:
                cover = drawing.cover(img)
            except (OSError, ValueError, MemoryError) as exc:
                raise image_bytes.BadImage(f"{type(exc).__name__}: {exc}") from None
        with contextlib.suppress(OSError):  # a full disk or read-only cache: the card is drawn all the same
            path.unlink(missing_ok=True)  # a damaged one: create_once keeps a file that is there
            self.cache.temp.create_once(path, copies.encode(cover, "jpg", social.COVER))
        return cover

    # -- HTML --------------------------------------------------------------------------
