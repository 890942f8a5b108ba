"""What a build of a site uses in the cache, beyond its entries: the resized copies and
the cards. Every build records it in the manifest (``Analysis.remember``) so that
``nanobanana prune``, run for any site sharing the cache, keeps them: ``derived_names``
reads that record back into file names.

Apart from pruning.py, which deletes files: a warm build imports this, not that.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from . import assets, cards, social
from .cache import Cache
from .renderer import card_key, source_of

if TYPE_CHECKING:
    from .analysis import Analysis


def derived_groups(analysis: "Analysis") -> dict[str, frozenset[str]]:
    """The resized copies a build of ``analysis`` writes, compactly: "widths|exts|tag"
    -> the ids of the sources written with them (an id alone would be 8,000 names x 10 at
    20,000 pages; grouped, the manifest stays the size of the sources list)."""
    s = analysis.settings
    groups: dict[str, set[str]] = {}
    for slot in analysis.all_slots():
        if not slot.shown:  # a card background: the card is drawn from the original
            continue
        source = source_of(slot, s, "")[0]
        widths = assets.plan_widths(source.width, s.widths)
        exts = assets.plan_exts(s.formats, source.alpha)
        spec = f"{','.join(map(str, widths))}|{','.join(exts)}|{s.encoding.tag}"
        groups.setdefault(spec, set()).add(source.id)
    cover = f"{cards.CARD_SIZE[0]}|jpg|{social.COVER.tag}"  # each card background's cover crop
    for plan in analysis.cards.values():
        groups.setdefault(cover, set()).add(source_of(plan.slot, s, "")[0].id)
    return {spec: frozenset(ids) for spec, ids in groups.items()}


def card_keys(analysis: "Analysis") -> frozenset[str]:
    """The card of every page that gets one, as ``Renderer.card`` names it."""
    s = analysis.settings
    return frozenset(card_key(s, plan, source_of(plan.slot, s, "")[0].id) for plan in analysis.cards.values())


def derived_names(groups: dict[str, frozenset[str]]) -> set[str]:
    """The file names ``derived_groups`` stands for."""
    names = set()
    for spec, ids in groups.items():
        try:
            widths, exts, tag = spec.split("|")
            parsed = [int(w) for w in widths.split(",")], exts.split(","), tag if tag[:1] == "q" else f"q{int(tag)}"
        except ValueError:  # a damaged record: it keeps nothing, the site's next build records it again
            continue
        for sid in ids:  # (a record written before encoder digests holds the bare quality)
            names.update(Cache.derived_name(sid, w, ext, parsed[2]) for ext in parsed[1] for w in parsed[0])
    return names
