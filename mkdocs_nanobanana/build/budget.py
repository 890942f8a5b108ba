"""max_credits: which missing images may be paid for, decided in page order.

One rule for a build and for serve's background generation: walk the asks in page
order, approve each while it fits, and stop at the first one that does not, so what gets
generated is predictable from the page order. An ask that can never fit (its cost alone
is over max_credits) does not stop the walk: it is refused on its own (``too_big``), or it
would hold back every image after it in every build. An ask that waits on another one (an
image that refines a #name: ``Ask.after``) is approved only after it: asks come targets
first (approval.chain_order), and one whose target is refused is refused too, blocking
nothing, as it could not be made anyway. A key asked twice is one image and costs
once, within one call and across calls (a page that another plugin changed is approved
again while its first images may still be in flight). Serve keeps one Budget for the
whole session and refunds what was not paid for (found in the cache meanwhile, or failed).
"""

from __future__ import annotations

import threading
from collections.abc import Iterable

from ..core.frozen import frozen

__all__: list[str] = []


@frozen
class Ask:
    """One image someone wants paid for."""

    key: str
    cost: int  # credits
    where: str  # page:line, for messages
    after: str | None = None  # the key of the ask it waits on (its #name's image), if any


class Budget:
    def __init__(self, max_credits: int) -> None:
        self.max_credits = max_credits
        self.left = max_credits
        self._spent = 0  # approved and not refunded: left may be clamped at 0, this is not
        self._approved: set[str] = set()  # keys paid for out of this budget, not refunded
        self._lock = threading.Lock()

    def approve(self, asks: Iterable[Ask], commit: bool = True) -> tuple[list[Ask], list[Ask]]:
        """(approved, over), one Ask per key each, in the order given. ``commit=False``:
        only say what would be approved now (serve's placeholders), spending nothing."""
        approved: list[Ask] = []
        over: list[Ask] = []
        seen: set[str] = set()
        taken: set[str] = set()  # approved by this walk
        blocked = False
        with self._lock:
            left = self.left
            for ask in asks:
                if ask.key in seen:
                    continue
                seen.add(ask.key)
                if ask.key in self._approved:
                    approved.append(ask)  # approved before: it costs nothing more
                elif ask.after is not None and ask.after not in self._approved and ask.after not in taken:
                    over.append(ask)  # its target is refused: it cannot be made now, so it takes nothing
                elif self.too_big(ask):
                    over.append(ask)  # refused, but it blocks nothing: it never fits
                elif blocked or ask.cost > left:
                    blocked = True
                    over.append(ask)
                else:
                    left -= ask.cost
                    approved.append(ask)
                    taken.add(ask.key)
                    if commit:
                        self.left -= ask.cost
                        self._spent += ask.cost
                        self._approved.add(ask.key)
        return approved, over

    def too_big(self, ask: Ask) -> bool:
        """True if no budget of this size can ever pay for ``ask``. Not under max_credits 0,
        which means "spend nothing": one message says so, not one per image."""
        return 0 < self.max_credits < ask.cost

    def resize(self, max_credits: int) -> None:
        """A new max_credits (mkdocs.yml edited under serve): what was spent stays spent."""
        with self._lock:
            self.max_credits = max_credits
            self.left = max(0, max_credits - self._spent)

    def refund(self, ask: Ask) -> None:
        """Give back what an approved ask did not cost after all."""
        with self._lock:
            if ask.key in self._approved:
                self._approved.discard(ask.key)
                self.left += ask.cost
                self._spent -= ask.cost
