"""The rows of `nanobanana plan` (and of generate's and review's listings): each
directive's state, cost and why, from an Analysis. Credits add up to exactly what
``generate`` pays."""

from __future__ import annotations

from collections.abc import Set as AbstractSet
from dataclasses import replace
from typing import TYPE_CHECKING

from ..cards import social
from ..core.frozen import frozen
from ..core.request import Request, style_of, styled
from .slot import Slot

__all__: list[str] = []

if TYPE_CHECKING:
    from .analysis import Analysis


@frozen
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


def plan(analysis: Analysis, on_remote: AbstractSet[str] = frozenset()) -> list[PlanRow]:
    """Every directive's state: cached, missing, changed (since the last build) or
    error. Its credits add up to exactly what ``generate`` pays: a directive whose
    image another one already asks for costs nothing more ("same image as ...")."""
    last = analysis.cache.read_manifest(analysis.settings.site)
    first_at: dict[str, str] = {}  # key -> where the first directive that asks for it is
    rows = []
    for ident, s in analysis.identities().items():
        row = _row(analysis, ident, s, last, on_remote)
        key = row.key
        if row.credits and key is not None:
            if key in first_at:
                row = replace(row, credits=0, usd=0.0, note=_joined(row.note, f"same image as {first_at[key]}"))
            else:
                first_at[key] = row.where
        rows.append(row)
    return rows


def _row(analysis: Analysis, ident: str, s: Slot, last: dict[str, str], on_remote: AbstractSet[str]) -> PlanRow:
    d = s.directive
    if d is None or s.errors:
        first = s.errors[0] if s.errors else None
        return PlanRow(str(first).split(": ", 1)[0] if first else s.where, None, "", "", 0, "error", 0, None,
                       first.message if first else "invalid directive")
    key = s.key
    if s.entry is not None:
        state, cost, note = "cached", 0, ""
    elif key in on_remote:
        state, cost, note = "cached", 0, "remote"
    else:
        changed = key is not None and last.get(ident) not in (None, key)
        state, cost = ("changed" if changed else "missing"), analysis.cost(s)
        note = f"after {s.blocked_by}" if s.blocked_by else ""
        if changed:
            note = _joined(_why_restyled(analysis, s, last[ident]), note)
    if not s.shown:
        why = _why_new_card(analysis, s, last[ident]) if state == "changed" and "style" not in note else ""
        note = _joined("social card", why, note)
    return PlanRow(d.where, d.name, d.model, d.ratio, d.num, state, cost, key, note,
                   round(analysis.price([s]), 4) if cost else 0.0)

def _why_restyled(analysis: Analysis, s: Slot, old_key: str) -> str:
    """"new image: the style changed" when the house style is all that changed since the
    last build (a new ``style:``, or the page's own): the image is bought again."""
    old = analysis.cache.get(old_key)
    if old is None or s.request is None or s.directive is None:
        return ""
    before, now = old.request, s.request
    was, style = style_of(before.prompt, s.directive.prompt), analysis.page_style(s.page)
    if was is None or was == style or (before.model, before.ratio, before.num, before.refs, before.rev) != \
            (now.model, now.ratio, now.num, now.refs, now.rev):
        return ""
    return f"new image: the style changed ({_short(was) or 'none'!r} -> {_short(style) or 'none'!r})"


def _short(text: str, limit: int = 40) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _why_new_card(analysis: Analysis, s: Slot, old_key: str) -> str:
    """Why a card-only image is a new paid image: a renamed page whose card prompt
    has ``{title}`` says so. The last build's prompt is in its entry's sidecar."""
    meta, template = analysis.card_meta[s.page], analysis.settings.social.prompt_template
    title, description = meta.title, meta.description  # what card_source filled the template with
    style = analysis.page_style(s.page)
    filled = social.filled(template, title, description)
    if s.request is None or filled is None or s.request.prompt != styled(filled, style):
        return ""  # a front matter prompt: plan shows it like a directive
    old = analysis.cache.get(old_key)
    before = old.request if old else None
    if before is not None and style:  # the template's fields as they were, without the style
        base = before.prompt.removesuffix("\n\n" + style)
        before = Request(before.model, base, before.ratio, before.num, before.refs, before.rev)
    after = Request(s.request.model, filled, s.request.ratio)
    return social.why_new_card_image(template, before, after, title, description)


def _joined(*notes: str) -> str:
    return ", ".join(n for n in notes if n)
