"""A fleet buys each image once: runners that share a remote cache take turns by claim.

Before paying for a key that neither cache holds, the Buyer takes a turn (``Fleet.turn``):
it claims the key in the shared store (store/claims.py). If it wins, it looks in the
store once more (another runner may have just finished), then pays, uploads, and releases
the claim. If another runner holds the claim, the purchase returns ``Busy`` at once: the
build goes on buying the images nobody claims meanwhile, and ``ClaimWatch`` looks at the
busy keys again and again, with backoff, from one thread, until the image is in the
store (it is fetched), or the claim is gone or past its deadline (this build claims it
again, taking an abandoned one over). No thread waits on another runner, so K runners of
one cold site share its purchases and each finishes about when the set is bought once.

A store that cannot create atomically gets the behaviour of before, with one warning.
"""

from __future__ import annotations

import heapq
import itertools
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Protocol

from ..core import image_bytes
from ..core.frozen import frozen
from ..core.request import Request
from ..core.settings import Settings
from ..providers.base import BACKOFF_MAX, StopSignal
from ..store.claims import Claim, Claims
from ..store.remote import RemoteCache, RemoteError

__all__: list[str] = []

#: How soon a busy key is looked at again: the first look, the growth, the longest gap.
FIRST_LOOK, GROWTH, LONGEST_GAP = 0.2, 1.5, 2.0
#: How often the watcher looks at the stop signal while it has nothing due.
STOP_POLL = 0.1
#: More keys due at once than this: one listing of the claims instead of a look at each.
BATCH_FROM = 2
#: How early a key may be looked at, to share a listing with those due now.
BATCH_WINDOW = 0.25


@frozen
class Busy:
    """Another runner holds the key's claim: its image is fetched once it is there."""

    claim: Claim


def claim_ttl(settings: Settings, num: int) -> float:
    """How long a claim lasts: the longest its purchase can take. Each attempt (retries
    + 1) may run out its send, its answer (``answer_timeout`` per image) and each of
    ``num`` downloads (``Settings.call_seconds``), with a backoff between attempts; and
    as long again, for the API slot the call may wait for first (the network pool runs
    twice the API's concurrency)."""
    attempts = settings.retries + 1
    return 2 * (attempts * settings.call_seconds(num) + settings.retries * BACKOFF_MAX)


class Fleet:
    """One build's side of the claims in one remote store."""

    def __init__(self, remote: RemoteCache, warn: Callable[[str], None]) -> None:
        self.remote = remote
        self.claims = Claims(remote)
        self.warn = warn
        self._warned = threading.Event()

    def _alone(self, why: str) -> None:
        if not self._warned.is_set():
            self._warned.set()
            self.warn(f"remote cache {self.remote.url}: runners that share it cannot coordinate: {why}; each may "
                      "pay for an image another is paying for at the same moment (docs: Caching and CI, "
                      "Which stores can)")

    def turn(self, key: str, ttl: float) -> Claim | Busy | None:
        """Our claim on ``key`` (buy it), Busy (another runner is buying it), or None:
        the store cannot hold claims, buy as if alone."""
        why = self.claims.unusable()
        if why is not None:
            self._alone(why)
            return None
        try:
            won, claim = self.claims.acquire(key, ttl)
        except RemoteError as exc:
            self._alone(f"claiming {key[:12]} failed ({exc})")
            return None
        return claim if won else Busy(claim)

    def release(self, claim: Claim) -> None:
        try:
            self.claims.release(claim)
        except RemoteError:
            pass  # it lapses at its deadline

    def state(self, busy: Busy) -> str:
        """One look: "arrived" (its sidecar is in the store), "held" (its claim is live),
        or "free" (the claim is gone or abandoned: claim it again). A store that fails
        is "free": the next turn finds out and buys as if alone."""
        claim = busy.claim
        try:
            if self.remote.has(claim.key):
                return "arrived"
            now = self.claims.look(claim.key, claim.n, claim.ttl)
        except RemoteError:
            return "free"
        return "held" if now is not None and now.live() else "free"

    def claims_now(self) -> set[str] | None:
        """The path of every claim in the store now, from one listing (a request a
        thousand claims on S3); None if the store fails."""
        try:
            return set(self.remote.list_objects("claims/*/*.json"))
        except RemoteError:
            return None

    def state_in(self, busy: Busy, claims: set[str] | None) -> str:
        """``state`` with the store's claims listed already (``claims_now``): a key
        whose claim is still listed is "held" until its deadline, and only a key whose
        claim is gone costs a request (is its sidecar there?). The holder uploads before
        it lets its claim go, so a gone claim means "arrived" or "free"."""
        if claims is None:
            return self.state(busy)
        if busy.claim.path in claims:
            return "held" if busy.claim.live() else "free"
        try:
            return "arrived" if self.remote.has(busy.claim.key) else "free"
        except RemoteError:
            return "free"

    def wait(self, busy: Busy, stop: StopSignal) -> str | None:
        """Wait in this thread until ``busy`` is no longer "held" (serve's background,
        which buys one image at a time); None if the user stopped meanwhile."""
        gap = FIRST_LOOK
        while True:
            stop.wait(min(gap, max(0.0, busy.claim.deadline - time.time())))
            if stop.interrupted:
                return None
            state = self.state(busy)
            if state != "held":
                return state
            gap = min(gap * GROWTH, LONGEST_GAP)


@dataclass(order=True)
class _Watched:
    due: float
    seq: int
    busy: Busy = None  # type: ignore[assignment]
    gap: float = FIRST_LOOK
    then: Callable[[str | None], None] = None  # type: ignore[assignment]


class ClaimWatch:
    """The keys other runners are buying, looked at again by one thread, each with its
    own backoff, never past its claim's deadline. ``then(state)`` runs when a key is no
    longer "held" ("arrived" or "free"), or with None once the user stops or the build
    closes."""

    def __init__(self, fleet: Fleet, stop: StopSignal) -> None:
        self.fleet = fleet
        self.stop = stop
        self._due: list[_Watched] = []
        self._seq = itertools.count()
        self._cond = threading.Condition()
        self._closed = False
        self._thread: threading.Thread | None = None

    def watch(self, busy: Busy, then: Callable[[str | None], None]) -> None:
        with self._cond:
            closed = self._closed
            if not closed:
                heapq.heappush(self._due, _Watched(time.time() + FIRST_LOOK, next(self._seq), busy, FIRST_LOOK, then))
                if self._thread is None:
                    self._thread = threading.Thread(target=self._run, name="nanobanana-claims", daemon=True)
                    self._thread.start()
                self._cond.notify()
        if closed:
            then(None)

    def _next(self) -> list[_Watched] | None:
        """Every key due now (or within ``BATCH_WINDOW``: a look a little early costs
        nothing, and the keys it gathers share one listing), waiting for the first; None
        once stopped or closed."""
        with self._cond:
            while True:
                if self._closed or self.stop.interrupted:
                    return None
                now = time.time()
                if self._due and self._due[0].due <= now:
                    due = []
                    while self._due and self._due[0].due <= now + BATCH_WINDOW:
                        due.append(heapq.heappop(self._due))
                    return due
                wait = min(self._due[0].due - now, STOP_POLL) if self._due else STOP_POLL
                self._cond.wait(wait)

    def _run(self) -> None:
        while (due := self._next()) is not None:
            # many keys due at once: one listing of the claims answers for all of them
            claims = self.fleet.claims_now() if len(due) > BATCH_FROM else None
            for item in due:
                self._looked(item, self.fleet.state_in(item.busy, claims))
        self._drop_all()

    def _looked(self, item: _Watched, state: str) -> None:
        if state != "held":
            item.then(state)
            return
        gap = min(item.gap * GROWTH, LONGEST_GAP)
        due = min(time.time() + gap, max(item.busy.claim.deadline, time.time()))
        with self._cond:
            heapq.heappush(self._due, _Watched(due, next(self._seq), item.busy, gap, item.then))

    def _drop_all(self) -> None:
        with self._cond:
            self._closed = True
            left, self._due = self._due, []
        for item in left:
            item.then(None)

    def close(self) -> None:
        """Stop watching: every key still watched gets ``then(None)``."""
        with self._cond:
            self._closed = True
            self._cond.notify_all()
            thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout=5)
        self._drop_all()


class Buying(Protocol):
    """What Purchases needs of the Buyer (build/purchase.py, which imports this module)."""

    fleet: Fleet | None

    def buy(self, request: Request, ref_files: tuple[str, ...], where: str, most: int | None = None,
            wait: bool = True, look_remote: bool = False) -> object: ...


class Purchases:
    """Each key's purchase as one Future that resolves with its outcome (a CacheEntry,
    or None), by key (``get``, ``values``): its attempts run on the network pool
    (``submit``); between two of them, a key another runner is buying waits in a
    ClaimWatch, holding no thread."""

    def __init__(self, submit: Callable[..., Future], stop: StopSignal) -> None:
        self._submit = submit
        self._stop = stop
        self._jobs: dict[str, Future] = {}
        self._watch: ClaimWatch | None = None
        self._lock = threading.Lock()

    def get(self, key: str) -> Future | None:
        return self._jobs.get(key)

    def values(self) -> list[Future]:
        return list(self._jobs.values())

    def start(self, buyer: Buying, request: Request, refs: tuple[str, ...], where: str,
              most: int | None = None) -> Future:
        """The purchase of ``request`` (the caller holds its own lock, so one a key);
        ``most``: the images the budget approved for it."""
        outcome: Future = Future()
        self._jobs[request.key] = outcome
        self._attempt(outcome, buyer, (request, refs, where, most), look_remote=False)
        return outcome

    def close(self) -> None:
        """No key is left waiting for another runner: each still watched resolves None."""
        with self._lock:
            watch = self._watch
        if watch is not None:
            watch.close()

    def _watcher(self, fleet: Fleet) -> ClaimWatch:
        with self._lock:
            if self._watch is None:
                self._watch = ClaimWatch(fleet, self._stop)
            return self._watch

    def _attempt(self, outcome: Future, buyer: Buying, call: tuple[Request, tuple[str, ...], str, int | None],
                 look_remote: bool) -> None:
        try:
            job = self._submit(image_bytes.keeping_fresh, buyer.buy, *call, False, look_remote)  # wait=False
        except RuntimeError:  # the pool is shut down: the build was stopped or aborted
            _resolve(outcome, None)
            return
        job.add_done_callback(lambda f: self._attempted(outcome, buyer, call, f))

    def _attempted(self, outcome: Future, buyer: Buying, call: tuple[Request, tuple[str, ...], str, int | None],
                   job: Future) -> None:
        if job.cancelled():
            _resolve(outcome, None)
        elif job.exception() is not None:
            if not outcome.done():
                outcome.set_exception(job.exception())
        elif isinstance(job.result(), Busy) and buyer.fleet is not None:
            def then(state: str | None) -> None:
                if state is None:
                    _resolve(outcome, None)
                else:
                    self._attempt(outcome, buyer, call, look_remote=state == "arrived")
            self._watcher(buyer.fleet).watch(job.result(), then)
        else:
            _resolve(outcome, job.result())


def _resolve(outcome: Future, value: object) -> None:
    if not outcome.done():
        outcome.set_result(value)
