"""One build's image work in flight: the thread pools, each slot's life, and shutdown.

A slot's life, top to bottom (``next_state`` decides, ``_advance`` acts):

    NEW -> INVALID       the directive has an error: an error placeholder is drawn
        -> CACHED        its image is in the cache (local, or fetched from the remote tier)
        -> AFTER_TARGET  it refines a #name whose image is not known yet: when the target
                         settles, the slot is resolved again and goes round once more
        -> DEFERRED      serve: the background generation will buy it; a placeholder now
        -> BUYING        approved within max_credits: a provider call on the network pool
        -> PLACEHOLDER   offline, over budget, or its target could not be had
    then SETTLED: ``image_known`` resolves (CacheEntry or None) and the renderer makes
    the figure's files on the image pool, resolving ``figure_ready``.

A state that needs a value takes it at the change, asserted there with the slot named
(``next_state`` only goes there when it exists): BUYING and DEFERRED the slot's Request
(``Slot.resolved_request``), BUYING the build's Buyer, AFTER_TARGET the target's slot.
What runs after the change gets them as arguments, never as an Optional to check.

No worker ever blocks on another: a slot that waits for its target does so through a
callback on the target's ``image_known``, so a bounded pool cannot deadlock.
"""

from __future__ import annotations

import contextlib
import threading
from collections import Counter
from collections.abc import Callable, Sequence
from concurrent.futures import CancelledError, Future, ThreadPoolExecutor, wait

from ..core.reporting import Reporter
from ..core.request import Request
from ..core.settings import Settings
from ..providers.base import AccountError, AuthError, CreditsError, StopSignal
from ..store.cache import CacheEntry
from ..store.remote import RemoteCache
from .analysis import Analysis
from .approval import Approval
from .budget import Budget
from .fleet import Purchases
from .progress import Progress
from .purchase import Buyer, Purchase
from .remote_copies import RemoteCopies
from .renderer import Renderer
from .site_use import record_use
from .slot import CardPlan, Slot, State

__all__: list[str] = []

DEFERRED_NOTE = "placeholder: being generated in the background; the page reloads when it is ready"


def next_state(slot: Slot, *, buying: bool, deferring: bool, target_exists: bool) -> State:
    """Where a slot goes next. ``buying``: this build may pay (live, not serve);
    ``deferring``: serve's background generation pays instead; ``target_exists``: the
    #name the slot waits for (if any) is a valid directive."""
    if slot.directive is None or slot.errors:
        return State.INVALID
    if slot.entry is not None:
        return State.CACHED
    if slot.blocked_by is not None:
        return State.AFTER_TARGET if target_exists and buying and slot.approved else State.PLACEHOLDER
    if slot.approved and deferring:
        return State.DEFERRED
    if slot.approved and buying:
        return State.BUYING
    return State.PLACEHOLDER


def placeholder_note(slot: Slot, *, buying: bool, target_exists: bool) -> str:
    """Why a slot in State.PLACEHOLDER has no image, as its hover text."""
    if slot.blocked_by is not None and (not target_exists or not buying):
        return f"placeholder: waiting for {slot.blocked_by}"
    return "placeholder: over max_credits" if buying else "placeholder: not generated yet"


def summary_line(c: Counter, usd: float, encoded: int) -> str:
    """Images by outcome, what was spent, and how many files Pillow encoded."""
    ph = c["placeholder"]
    return (f"{c['cached']} cached, {c['generated']} generated ({c['credits']} credits ~ ${usd:.2f}), "
            f"{ph} placeholder{'s' if ph != 1 else ''}, {c['failed']} failed, encoded {encoded}")


def _guarded(slot: Slot, fn: Callable[..., object], *args: object) -> None:
    """Run a callback; if it fails, fail the slot. concurrent.futures swallows exceptions
    raised in callbacks, which would leave the page waiting forever."""
    try:
        fn(*args)
    except BaseException as exc:  # noqa: BLE001 - handed on to the page that waits
        for fut in (slot.image_known, slot.figure_ready):
            if not fut.done():
                fut.set_exception(exc)


class Scheduler(Approval):
    def __init__(self, settings: Settings, analysis: Analysis, report: Reporter, *, buyer: Buyer | None = None,
                 defer: bool = False, remote: RemoteCache | None = None, session_budget: Budget | None = None,
                 progress: bool = True) -> None:
        """``buyer``: generate missing images in this build (live mode). ``defer``: generate
        nothing, but collect the missing images in ``deferred`` for serve's background,
        those that ``session_budget`` (serve's, if given) can still pay for. ``progress``:
        say how far the purchases are now and then (progress.py; `generate` has its bar)."""
        self.settings = settings
        self.analysis = analysis
        self.report = report
        self.buyer = buyer if not defer else None
        self.defer = defer
        self.remote = remote
        self.stop = self.buyer.stop if self.buyer else StopSignal()
        self.progress = Progress(self.buyer, report.info) if self.buyer is not None and progress else None
        self.status: dict[str, str] = self.buyer.status if self.buyer else {}  # key -> cached | generated | failed
        self.deferred: dict[str, Purchase] = {}  # key -> purchase, in page order
        self.budget = Budget(settings.max_credits)
        self.session_budget = session_budget
        self.over_session_budget = 0  # serve: images the session's budget can no longer pay for
        self._image_pool = ThreadPoolExecutor(settings.workers, thread_name_prefix="nanobanana-img")
        # twice the API's concurrency: a thread that downloads, checks and stores an answer
        # must not hold back the next request (the provider caps requests in flight)
        self._net_pool = ThreadPoolExecutor(settings.concurrency * 2, thread_name_prefix="nanobanana-api")
        self.shared = RemoteCopies(remote, analysis.cache, report) if remote is not None else None
        self.renderer = Renderer(settings, analysis.cache, self._image_pool, report, self.shared)
        self._purchases = Purchases(self._net_pool.submit, self.stop)  # key -> the one purchase of it (fleet.py)
        # page -> the drawing of its card, while it is drawn or if it failed (``finish``
        # raises its error): one that succeeded is let go (a Future holds a Condition and
        # a lock, 2.5 KB a card, 50 MB at 20,000 pages)
        self._cards: dict[str, Future] = {}
        self._lock = threading.RLock()
        self._notes: dict[int, str] = {}  # id(slot) -> why it stays a placeholder, when the state does not tell

    # -- starting ----------------------------------------------------------------------

    def start(self) -> None:
        """Start all image work: cache hits to resizing, missing images to the provider."""
        slots = self.analysis.all_slots()
        self._fetch_remote(slots, list(self.analysis.cards.values()))
        self.start_slots(slots)
        for page, plan in self.analysis.cards.items():
            self.start_card(page, plan)

    def start_slots(self, slots: list[Slot]) -> None:
        self._approve(slots)
        for slot in slots:
            self._advance(slot)

    def _fetch_remote(self, slots: list[Slot], cards: Sequence[CardPlan] = ()) -> None:
        """What the local cache lacks, from the remote cache, many at a time: entries, then
        the resized copies and ``cards`` drawn on them elsewhere, before
        the renderer would encode them."""
        if self.shared is not None:
            self.shared.fill(slots, list(cards), self.renderer.cached_files)

    def placeholders(self) -> list[tuple[Slot, str]]:
        """After ``finish``: every slot whose figure (or card) shows a placeholder, with why."""
        done = [(s, s.figure_ready.result()) for s in self.analysis.all_slots()
                if s.figure_ready.done() and not s.figure_ready.exception()]
        return [(slot, rendered.note) for slot, rendered in done if rendered.placeholder]

    # -- a slot's life -----------------------------------------------------------------

    def _advance(self, slot: Slot) -> None:
        if slot.figure_ready.done():
            return
        target = self.analysis.named.get(slot.blocked_by[1:]) if slot.blocked_by else None
        buyer = self.buyer
        slot.state = next_state(slot, buying=buyer is not None, deferring=self.defer, target_exists=target is not None)
        if slot.state is State.INVALID:
            self._settle(slot, None, "")
        elif slot.state is State.CACHED:
            self._settle(slot, slot.entry, "")
        elif slot.state is State.AFTER_TARGET:
            assert target is not None, f"{slot.where}: after a target, but {slot.blocked_by} has no slot"
            target.image_known.add_done_callback(lambda _f: _guarded(slot, self._after_target, slot))
        elif slot.state is State.DEFERRED:
            request = slot.resolved_request()
            self.deferred.setdefault(request.key, Purchase(request, slot.refs, slot.where, self.analysis.cost(slot),
                                                           self.analysis.to_buy(slot)))
            self._settle(slot, None, DEFERRED_NOTE)
        elif slot.state is State.BUYING:
            assert buyer is not None, f"{slot.where}: buying in a build that pays for nothing"
            request = slot.resolved_request()
            job = self._purchase(buyer, request, slot)
            job.add_done_callback(lambda f: _guarded(slot, self._on_bought, slot, request.key, f))
        else:
            note = self._notes.get(id(slot)) or placeholder_note(slot, buying=buyer is not None,
                                                                 target_exists=target is not None)
            self._settle(slot, None, note)

    def _after_target(self, slot: Slot) -> None:
        """The #name this slot refines has settled: resolve the slot again and move on."""
        with self._lock:
            self.analysis.resolve(slot)
        if not slot.errors and slot.blocked_by is None:
            self._fetch_remote([slot])
        for e in slot.errors:
            self.report.warn(str(e))
        target = self.analysis.named[slot.blocked_by[1:]] if not slot.errors and slot.blocked_by else None
        if target is not None and target.image_known.done():
            # the target settled without an image: this one cannot be had either
            return self._settle(slot, None, f"placeholder: {slot.blocked_by} could not be generated")
        self._advance(slot)

    def _purchase(self, buyer: Buyer, request: Request, slot: Slot) -> Future[CacheEntry | None]:
        """The one call that buys ``request`` (the slot's), shared by every slot that wants it."""
        with self._lock:
            job = self._purchases.get(request.key)
            if job is None:
                job = self._purchases.start(buyer, request, slot.refs, slot.where, self.analysis.to_buy(slot))
        return job

    def _on_bought(self, slot: Slot, key: str, job: Future[CacheEntry | None]) -> None:
        exc = job.exception()
        if exc is not None:
            # not a provider answer (those are handled by the Buyer): a disk or cache fault
            self.report.warn(f"{slot.where}: could not store the generated image ({type(exc).__name__}: {exc})")
            self.status[key] = "failed"
            self._settle(slot, None, "placeholder: generation failed")
        else:
            self._settle(slot, job.result(), self._why_missing(), here=True)  # its pixels are at hand

    def _why_missing(self) -> str:
        reason = self.stop.reason
        if isinstance(reason, AuthError):
            return "placeholder: the API refused the key"
        if isinstance(reason, CreditsError):
            return "placeholder: out of credits"
        if isinstance(reason, AccountError):
            return "placeholder: the API serves no call of this account"
        return "placeholder: generation failed"

    def _settle(self, slot: Slot, entry: CacheEntry | None, note: str, here: bool = False) -> None:
        """The slot's image is known: record it, then render its figure (``here``: in this thread)."""
        slot.entry = entry
        slot.state = State.SETTLED
        if not slot.image_known.done():
            slot.image_known.set_result(entry)
        self.renderer.render(slot, note, here)

    # -- social cards ------------------------------------------------------------------

    def start_card(self, page: str, plan: CardPlan) -> None:
        """Draw the page's card once its card image's figure is settled, or now for a
        page's own picture or a text card (a blog view's too, planned after the others
        started)."""
        job: Future = Future()
        with self._lock:
            self._cards[page] = job
        job.add_done_callback(lambda f: self._card_drawn(page, f))

        def draw(_f: Future) -> None:
            try:
                url = self.renderer.cards.cached(page, plan)  # a warm build's cards: no pool task
            except Exception as exc:  # noqa: BLE001 - the card's error, raised by finish as the pool's would be
                job.set_exception(exc)
                return
            if url is not None:
                job.set_result(url)
                return
            try:
                inner = self._image_pool.submit(self.renderer.cards.card, page, plan)
            except RuntimeError as exc:  # the pool is shut down: the build was aborted
                job.set_exception(exc)
                return
            inner.add_done_callback(lambda f: _settle(job, f))

        if plan.slot is None:
            draw(job)
        else:
            plan.slot.figure_ready.add_done_callback(draw)

    def _card_drawn(self, page: str, job: Future) -> None:
        """Let a card drawing go once it is done, unless it failed (a cancelled one, by a
        stop, failed nothing)."""
        with self._lock:
            if self._cards.get(page) is job and (job.cancelled() or job.exception() is None):
                del self._cards[page]

    def _card_outcome(self) -> None:
        """Wait for the cards still being drawn; raise the first error of any card."""
        with self._lock:
            kept = list(self._cards.values())
        for job in kept:
            if job.cancelled():  # a stop emptied the image pool's queue: never "done" for wait()
                continue
            with contextlib.suppress(CancelledError):  # cancelled while waited for
                job.result()

    # -- a user's stop -----------------------------------------------------------------

    def grace(self) -> float:
        """How long the requests in flight may take after a stop: each is bounded by its
        POST (sent within ``timeout``, answered within ``answer_timeout`` per image) and a
        download per image, plus a margin to store them."""
        nums = [s.directive.num for s in self.analysis.all_slots() if s.approved and s.directive]
        return self.settings.call_seconds(max(nums, default=1)) + 5

    def interrupt(self, why: str) -> str:
        """The user stopped the build: no new request is sent (queued work is dropped,
        calls waiting for a slot give up), the requests in flight are awaited and their
        images stored. Returns the line that says what was kept and what was never sent."""
        self.stop.interrupt(why)
        if self.progress is not None:
            self.progress.close()  # the stop's own lines say the rest
        self._net_pool.shutdown(wait=False, cancel_futures=True)
        self._image_pool.shutdown(wait=False, cancel_futures=True)
        with self._lock:  # a cancelled job never becomes "done" for wait(): leave those out
            jobs = [j for j in self._purchases.values() if not j.cancelled()]
        wait(jobs, timeout=self.grace())
        buyer = self.buyer
        assert buyer is not None, "a stop is caught only by a build that pays (BuildSession.catch_signals)"
        abandoned = buyer.in_flight  # sent, and not stored within the grace (a call waiting for a slot sent nothing)
        wanted = {s.key or f"pending:{id(s)}" for s in self.analysis.all_slots() if s.approved and not s.errors}
        kept = sum(1 for k in wanted if self.status.get(k) == "generated")
        never = sum(1 for k in wanted if self.status.get(k) not in ("generated", "failed", "cached")) - abandoned
        return (f"stopped by {why}: {kept} image(s) generated and kept ({buyer.credits_spent} credits "
                f"~ ${buyer.usd_spent:.2f}), {never} never sent"
                + (f", {abandoned} still in flight abandoned" if abandoned else "")
                + "; nothing paid is generated again: build again to generate the rest")

    # -- the end -----------------------------------------------------------------------

    def counts(self) -> Counter:
        """Images by outcome (one per key), failed directives, and the credits spent."""
        c: Counter = Counter()
        seen: set[str] = set()
        for s in self.analysis.all_slots():
            if s.errors or s.request is None:
                c["failed"] += 1
                continue
            key = s.request.key
            if key in seen:
                continue
            seen.add(key)
            status = self.status.get(key)
            if status is None:
                status = "cached" if s.entry is not None else "placeholder"
            c[status] += 1
        c["credits"] = self.buyer.credits_spent if self.buyer else 0
        return c

    def summary(self) -> str:
        """The build's summary line (the host's logger puts "nanobanana: " first)."""
        shared = self.shared  # there exactly when the remote tier is
        remote = (f"; remote cache: {shared.remote.fetched} fetched, {shared.remote.uploaded} uploaded "
                  f"({shared.counts()})" if shared is not None else "")
        return summary_line(self.counts(), self.buyer.usd_spent if self.buyer else 0, self.renderer.encoded) + remote

    def finish(self, own: dict[str, frozenset[str]] | None = None) -> str:
        """Wait for every image and card, stop the workers, and return the summary line.
        ``own``: the copies of the site's own pictures the build shows, for the manifest."""
        try:
            for slot in self.analysis.all_slots():
                slot.figure_ready.result()
            self._card_outcome()
        finally:
            self.close()
        record_use(self.analysis, own, self.renderer.cards.named)
        self.analysis.cache.save_indexes()  # the shards this build read from their files, for the next one
        if isinstance(self.stop.reason, CreditsError):
            left = sum(1 for s in self.analysis.all_slots() if s.approved and s.entry is None and not s.errors)
            self.report.warn(f"out of credits: {left} image(s) were left as placeholders; top up and build again")
        return self.summary()

    def close(self, wait: bool = True) -> None:
        """Stop the workers (``wait=False``: a failed build, drop what has not started)."""
        if self.progress is not None:
            self.progress.close()
        self._purchases.close()  # no key is left waiting for another runner
        self._net_pool.shutdown(wait=wait, cancel_futures=True)
        self._image_pool.shutdown(wait=wait, cancel_futures=True)
        if self.shared is not None:  # after the image pool: every upload has been handed over
            self.shared.close(wait)
        if self.buyer is not None:
            self.buyer.close()


def _settle(job: Future, done: Future) -> None:
    """Hand a finished card drawing's outcome on to the page's card job: its URL, its
    error, or its cancellation (a stop cancels the image pool's queue: f.exception()
    would raise CancelledError inside the pool's callback)."""
    if done.cancelled():
        job.cancel()
    elif done.exception() is not None:
        job.set_exception(done.exception())
    else:
        job.set_result(done.result())
