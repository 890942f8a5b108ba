"""Which missing images a build may pay for, and what it says of the others: within
max_credits (targets of a #name before the images that refine them), serve's session
budget, or none offline (one warning with the cost and the fix). A base of Scheduler
(scheduler.py), which holds the state these methods read and fill.
"""

from __future__ import annotations

from ..core.reporting import Reporter
from ..core.settings import Settings
from .analysis import Analysis
from .budget import Ask, Budget
from .progress import Progress
from .purchase import Buyer
from .slot import Slot

__all__: list[str] = []

SERVE_BUDGET_NOTE = "placeholder: not generated: max_credits for this serve session reached"


def offline_cause(settings: Settings) -> str:
    """Why a build generates nothing, as the user would say it."""
    if settings.mode_set_by == "environment":
        return f"NANOBANANA_MODE={settings.mode} is set in the environment"
    if settings.mode_set_by == "no key":
        return f"{settings.api_key_env} is not set (mode: auto)"
    return f"mode: {settings.mode} is set in {settings.config_name}"


def offline_fix(settings: Settings) -> str:
    """The one fix that applies to ``offline_cause``."""
    if settings.mode_set_by == "environment":
        return "Unset NANOBANANA_MODE (or set it to live) and build again, or run `nanobanana generate`."
    if settings.mode_set_by == "no key":
        return f"Export {settings.api_key_env} (the API key) and build again, or run `nanobanana generate`."
    return (f"Set mode: auto in {settings.config_name} (with {settings.api_key_env} exported) and build again, "
            "or run `nanobanana generate`.")


def too_big_note(ask: Ask, max_credits: int) -> str:
    """The hover text of an image whose cost alone is over ``max_credits``."""
    return f"placeholder: needs {ask.cost} credits, more than max_credits {max_credits}"


def say_offline(settings: Settings, analysis: Analysis, report: Reporter, missing: list[Slot]) -> None:
    """One warning for the images an offline build leaves as placeholders: how many, what
    they would cost, why nothing is generated and the fix for that cause."""
    unique = list({s.resolved_request().key: s for s in missing}.values())
    if unique:
        credits = sum(analysis.cost(s) for s in unique)
        report.warn(
            f"{len(unique)} image(s) are placeholders: {offline_cause(settings)}, so nothing is generated "
            f"({credits} credits ~ ${analysis.price(unique):.2f} to generate them). {offline_fix(settings)}"
        )


def chain_order(slots: list[Slot], named: dict[str, Slot]) -> list[Slot]:
    """``slots`` in page order, but with the #name each one waits for (if it is among
    them) placed just before it, and that one's own target before that: the order a
    budget walks, so a target comes before the images that refine it, wherever its page
    is. ``check_names`` refused every cycle; ``placed`` would stop one all the same."""
    among = {id(s) for s in slots}
    ordered: list[Slot] = []
    placed: set[int] = set()
    for first in slots:
        chain = []
        s: Slot | None = first
        while s is not None and id(s) not in placed:
            placed.add(id(s))
            chain.append(s)
            target = named.get(s.blocked_by[1:]) if s.blocked_by else None
            s = target if target is not None and id(target) in among else None
        ordered.extend(reversed(chain))
    return ordered


class Approval:
    """The budget half of Scheduler: its attributes are made by Scheduler.__init__."""

    settings: Settings
    analysis: Analysis
    report: Reporter
    buyer: Buyer | None
    defer: bool
    budget: Budget
    session_budget: Budget | None
    progress: Progress | None
    over_session_budget: int
    _notes: dict[int, str]

    def _approve(self, slots: list[Slot]) -> None:
        """Mark which missing images may be paid for: all of them under serve (its
        background keeps the session's budget), none offline, else within max_credits."""
        missing = [s for s in slots if s.missing]
        if self.defer:
            self._approve_deferred(missing)
            return
        if self.buyer is None:
            if self.settings.placeholders == "warn":  # allow: quiet; fail: listed at the end
                say_offline(self.settings, self.analysis, self.report, missing)
            return
        asks = self._asks(missing)
        approved, refused = self.budget.approve(asks.values())
        keys = {a.key for a in approved}
        for s in missing:
            s.approved = asks[id(s)].key in keys
        if self.progress is not None:
            self.progress.expect(keys)
        self._say_too_big([a for a in refused if self.budget.too_big(a)], asks)
        never = self._never_fits(refused, missing, asks)
        over = [a for a in refused if a.key not in never]
        if over:
            slot_of = {asks[id(s)].key: s for s in missing}
            need = sum(a.cost for a in over)
            price = self.analysis.price(slot_of[a.key] for a in over)
            self.report.warn(
                f"max_credits ({self.settings.max_credits}) reached: {len(over)} image(s) needing {need} more "
                f"credits (~${price:.2f}) are placeholders, from {over[0].where} on. Raise max_credits "
                "or build again to continue."
            )

    def _approve_deferred(self, missing: list[Slot]) -> None:
        """Serve: its background pays, within the session's budget. An image that budget
        can no longer pay for says so on its placeholder, instead of "being generated"."""
        if self.session_budget is None:
            for s in missing:
                s.approved = True
            return
        asks = self._asks(missing)
        approved, refused = self.session_budget.approve(asks.values(), commit=False)
        keys = {a.key for a in approved}
        for s in missing:
            ask = asks[id(s)]
            s.approved = ask.key in keys
            if not s.approved:
                self._notes[id(s)] = (too_big_note(ask, self.session_budget.max_credits)
                                      if self.session_budget.too_big(ask) else SERVE_BUDGET_NOTE)
        self.over_session_budget += len(refused)

    def _asks(self, missing: list[Slot]) -> dict[int, Ask]:
        """What each missing image asks of a budget, by id(slot), targets first
        (``chain_order``): a slot that waits for a #name asks after its target's ask, so
        the budget never approves an image whose target it refused. A slot that waits
        has no key yet: it is an image of its own."""
        asks: dict[int, Ask] = {}
        for s in chain_order(missing, self.analysis.named):
            target = self.analysis.named.get(s.blocked_by[1:]) if s.blocked_by else None
            after = asks[id(target)].key if target is not None and id(target) in asks else None
            asks[id(s)] = Ask(s.key or f"pending:{id(s)}", self.analysis.cost(s), s.where, after)
        return asks

    def _never_fits(self, refused: list[Ask], missing: list[Slot], asks: dict[int, Ask]) -> set[str]:
        """Keys of the refused asks that no build within max_credits can pay for: too big,
        or waiting on an image that is (targets come first, so one pass follows a whole
        chain). "Build again" would not help them; the waiting ones say why on their
        placeholder."""
        never = {a.key for a in refused if self.budget.too_big(a)}
        for a in refused:
            if a.after is not None and a.after in never:
                never.add(a.key)
        for s in missing:
            ask = asks[id(s)]
            if ask.after is not None and ask.key in never:
                self._notes[id(s)] = f"placeholder: waiting for {s.blocked_by}, which needs more than max_credits"
        return never

    def _say_too_big(self, too_big: list[Ask], asks: dict[int, Ask]) -> None:
        """Images that no build within max_credits can pay for: each said on its own, as
        "build again" would not help them."""
        big = {a.key for a in too_big}
        for ident, ask in asks.items():
            if ask.key in big:
                self._notes[ident] = too_big_note(ask, self.settings.max_credits)
        for a in too_big:
            self.report.warn(f"{a.where} needs {a.cost} credits, more than max_credits {self.settings.max_credits}: "
                             "raise max_credits to generate it")
