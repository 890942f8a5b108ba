"""What a build of a site uses in the cache, beyond its entries: the resized copies and
the cards. Every build records it in the manifest (``record_use``) so that
``nanobanana prune``, run for any site sharing the cache, keeps them: the store's
``derived_names`` reads that record back into file names.

Apart from store/prune.py, which deletes files: a warm build imports this, not that.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from ..cards import social
from ..core import card_values
from ..imaging import copies
from ..store.cache import SiteRecord, copy_spec, now_iso
from .sources import card_key, card_source_id, source_of

__all__: list[str] = []

if TYPE_CHECKING:
    from .analysis import Analysis
    from .slot import CardPlan


def derived_groups(analysis: Analysis) -> dict[str, frozenset[str]]:
    """The resized copies a build of ``analysis`` writes, compactly: "widths|exts|tag"
    -> the ids of the sources written with them (an id alone would be 8,000 names x 10 at
    20,000 pages; grouped, the manifest stays the size of the sources list)."""
    s = analysis.settings
    groups: dict[str, set[str]] = {}
    for slot in analysis.all_slots():
        if not slot.shown:  # a card-only image: the card is drawn from its cover crop
            continue
        source = source_of(slot, s, "")[0]
        widths = copies.plan_widths(source.width, s.widths)
        exts = copies.plan_exts(s.formats, source.alpha)
        spec = copy_spec(widths, exts, s.encoding.tag)
        groups.setdefault(spec, set()).add(source.id)
    cover = copy_spec([card_values.CARD_SIZE[0]], ["jpg"], social.COVER.tag)  # each card image's cover crop
    for plan in analysis.cards.values():
        if plan.has_image:
            groups.setdefault(cover, set()).add(card_source_id(plan, s))
    return {spec: frozenset(ids) for spec, ids in groups.items()}


def card_keys(analysis: Analysis, named: Mapping[int, tuple[CardPlan, str]] | None = None) -> frozenset[str]:
    """The card of every page that gets one, as ``Renderer.card`` names it; ``named``:
    the keys it named already (CardRenderer.named), by the plan's identity."""
    s = analysis.settings

    def key(plan: CardPlan) -> str:
        known = named.get(id(plan)) if named else None
        return known[1] if known is not None and known[0] is plan else card_key(s, plan)

    return frozenset(key(plan) for plan in analysis.cards.values())


def record_use(analysis: Analysis, own: dict[str, frozenset[str]] | None = None,
               named: Mapping[int, tuple[CardPlan, str]] | None = None) -> None:
    """Record the site's use of the cache in its manifest: each directive's key for the
    next ``plan`` (changed vs new), and every key and source it uses, its draft pages'
    too, so that another site sharing the cache never prunes them; ``own``: the copies of
    the site's own pictures (responsive_images), grouped as ``derived_groups`` groups them."""
    keys = {ident: s.request.key for ident, s in analysis.identities().items()
            if s.request is not None and s.blocked_by is None and not s.errors}
    used = analysis.with_drafts() if analysis.drafts else analysis
    groups = derived_groups(used)
    for spec, ids in (own or {}).items():
        groups[spec] = groups.get(spec, frozenset()) | ids
    record = SiteRecord(keys, frozenset(used.keys_in_use()), frozenset(used.sources_in_use()), now_iso(),
                        groups, card_keys(used, named))
    try:
        note = analysis.cache.record_site(analysis.settings.site, record)
    except OSError as exc:
        analysis.report.warn(f"could not write {analysis.cache.manifest_path} ({exc}); `nanobanana plan` and other "
                             "sites' `nanobanana prune` are affected")
        return
    if note:
        analysis.report.warn(note)
