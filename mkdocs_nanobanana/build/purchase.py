"""Paid calls into the cache: one place that turns a Request into a stored CacheEntry.

Used by a build's scheduler and, across rebuilds of `mkdocs serve`, by deferred.py. It
holds what must be shared by every call of one session: the stop signal (a refused key or
an empty account ends all calls), the status of each key, and what was spent.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

from ..core import image_bytes
from ..core.frozen import frozen
from ..core.request import Request
from ..core.settings import Settings
from ..providers.base import (
    STOPS_EVERY_CALL,
    AuthError,
    ContentPolicyError,
    CreditsError,
    ImageOrder,
    PaidInPart,
    Provider,
    ProviderError,
    RefImage,
    RetryOnce,
    RetryPolicy,
    Stopped,
    StopSignal,
)
from ..store.cache import Cache, CacheEntry
from ..store.claims import Claim
from ..store.remote import BadRemoteEntry, RemoteCache, RemoteError
from ..store.spill import Spill, unwritable, why
from .fleet import Busy, Fleet, claim_ttl
from .stopping import STORES

__all__: list[str] = []


class CallStop(StopSignal):
    """One purchase's view of the build's StopSignal: the same stop (a refusal or a user's
    stop reaches every call at once), and a note of this purchase's first request going
    out (``sent``, which providers.base.ApiSlots calls). From then until it is stored
    the purchase is in flight: what a stop awaits and a hard exit abandons. A call still
    waiting for a request slot has sent nothing, so it is not counted."""

    def __init__(self, build: StopSignal, first_sent: Callable[[], None]) -> None:
        # no super().__init__(): every state but ``has_sent`` is the build's signal's
        self._build = build
        self._first_sent = first_sent
        self._sent_lock = threading.Lock()
        self.has_sent = False

    @property
    def reason(self) -> ProviderError | None:
        return self._build.reason

    @reason.setter
    def reason(self, _value: ProviderError | None) -> None:
        raise AttributeError("a purchase does not set the build's stop: trip() it")

    @property
    def interrupted(self) -> str | None:
        return self._build.interrupted

    @interrupted.setter
    def interrupted(self, _value: str | None) -> None:
        raise AttributeError("a purchase does not set the build's stop: interrupt() it")

    def interrupt(self, why: str) -> None:
        self._build.interrupt(why)

    def wait(self, seconds: float) -> None:
        self._build.wait(seconds)

    def trip(self, exc: ProviderError) -> bool:
        return self._build.trip(exc)

    def report(self) -> bool:
        return self._build.report()

    def sent(self) -> None:
        with self._sent_lock:
            first, self.has_sent = not self.has_sent, True
        if first:
            self._first_sent()


class Buyer:
    def __init__(self, provider: Provider, cache: Cache, settings: Settings, warn: Callable[[str], None],
                 scope: str = "in this build", remote: RemoteCache | None = None) -> None:
        self.provider = provider
        self.remote = remote  # each new entry is uploaded there too
        self.cache = cache
        self.settings = settings
        self.warn = warn
        self.scope = scope  # how long a stop lasts, for its message
        self.stop = StopSignal()
        self.status: dict[str, str] = {}  # key -> cached | generated | failed
        self.credits_spent = 0
        self.usd_spent = 0.0
        self.in_flight = 0  # purchases that sent a request and are not stored yet: what a hard exit abandons
        self._lock = threading.Lock()
        # where bought images go when cache_dir cannot take them (store/spill.py)
        self.spill = Spill.of(cache.root, (settings.docs_dir, settings.site_dir))
        self._spilled_to: set[Path] = set()  # spill folders already named in a warning
        self.fleet = Fleet(remote, warn) if remote is not None else None  # runners sharing the remote take turns
        self._claims: dict[str, Claim] = {}  # key -> our claim on it, until its image is uploaded

    def buy(self, request: Request, ref_files: tuple[str, ...], where: str, most: int | None = None,
            wait: bool = True, look_remote: bool = False) -> CacheEntry | Busy | None:
        """One paid call, guarded: the key's lock, a second look at the cache, the
        fleet's claim, retries; then the new entry goes to the remote cache, if there is
        one. None when there is no image to be had; the reason has been warned about.
        ``most``: the images the budget approved for it; never more are paid for. Busy
        (``wait=False``) when another runner is buying it; with ``wait``, this thread
        waits for that runner's image. ``look_remote``: the remote store may hold it by
        now (another runner's), look there first."""
        try:
            outcome = self._buy_counted(request, ref_files, where, most, look_remote)
            while isinstance(outcome, Busy) and wait and self.fleet is not None:
                state = self.fleet.wait(outcome, self.stop)
                if state is None:
                    return None
                outcome = self._buy_counted(request, ref_files, where, most, state == "arrived")
            if isinstance(outcome, CacheEntry) and self.status.get(request.key) == "generated":
                self._upload(outcome, where)
            return outcome
        finally:
            claim = self._claims.pop(request.key, None)
            if claim is not None and self.fleet is not None:  # after the upload: who waits finds it there
                self.fleet.release(claim)

    def _buy_counted(self, request: Request, ref_files: tuple[str, ...], where: str, most: int | None,
                     look_remote: bool) -> CacheEntry | Busy | None:
        """``_buy``, counted in ``in_flight`` from its first request sent until it is stored."""
        call = CallStop(self.stop, self._sending)
        try:
            return self._buy(request, ref_files, where, most, call, look_remote)
        finally:
            if call.has_sent:
                with self._lock:
                    self.in_flight -= 1

    def _sending(self) -> None:
        """A purchase sent its first request: it is in flight until it is stored."""
        with self._lock:
            self.in_flight += 1

    def _upload(self, entry: CacheEntry, where: str) -> None:
        if self.remote is None:
            return
        try:  # a spilled entry too: the remote keeps it for other machines while this disk is full
            self.remote.upload(entry, self.spill.holding(entry) or self.cache)
        except (RemoteError, OSError) as exc:  # safe locally; the next build uploads nothing, so say so
            self.warn(f"{where}: could not upload the new image to the remote cache ({exc}); "
                      "other machines will generate it again")

    def _take_turn(self, request: Request, look_remote: bool) -> CacheEntry | Busy | None:
        """Under the key's local lock, before paying: the entry if the remote store has
        it by now, Busy if another runner holds the key's claim, else None (pay; our
        claim, if the store takes claims, is in ``_claims``). The look after a won claim
        is the one that counts: a runner that has just finished uploaded before it let
        its claim go."""
        key = request.key
        entry = self._fetch_remote(key) if look_remote else None
        if entry is None and self.fleet is not None:
            turn = self.fleet.turn(key, claim_ttl(self.settings, request.num))
            if isinstance(turn, Busy):
                return turn
            if turn is not None:
                self._claims[key] = turn
                entry = self._fetch_remote(key)
        if entry is not None:
            self.status[key] = "cached"
        return entry

    def _fetch_remote(self, key: str) -> CacheEntry | None:
        try:
            return self.remote.fetch(key, self.cache, decode=False, locked=True) if self.remote else None
        except (RemoteError, BadRemoteEntry):
            return None  # the fill at the start warned about a damaged one; a failing store: pay

    def _buy(self, request: Request, ref_files: tuple[str, ...], where: str, most: int | None,
             call: CallStop, look_remote: bool = False) -> CacheEntry | Busy | None:
        key = request.key
        if self.stop.stopped:
            return None
        with self._key_lock(key):
            entry = self.cache.get(key) or self.spill.entry(key)  # another build may have paid for it meanwhile
            if entry is not None:
                if self.status.get(key) != "generated":  # serve may ask again for what it bought: still paid
                    self.status[key] = "cached"
                return entry
            if self.stop.stopped:
                return None
            turn = self._take_turn(request, look_remote)
            if turn is not None:
                return turn
            # paid for by a build that failed half-way (in the spill: while cache_dir could not take them)
            kept = (self.cache.partial(key) + self.spill.partial(key))[: request.num]
            refs = tuple(RefImage(data, image_bytes.inspect(data).mime)
                         for data in (Path(f).read_bytes() for f in ref_files))
            policy = RetryPolicy(retries=self.settings.retries, stop=call,
                                 warn=lambda message: self.warn(f"{where}: {message}"))
            missing = request.num - len(kept)
            if most is not None and missing > most:
                self._over_approval(request, where, missing, most)
                return None
            try:
                new = self.provider.generate(ImageOrder(request, refs, missing=missing), policy) if missing else []
            except PaidInPart as exc:
                self._keep(request, exc.paid)
                self._failed(request, exc.cause, where, len(exc.paid))
                return None
            except ProviderError as exc:
                self._failed(request, exc, where)
                return None
            self._spent(request, len(new))
            model = self.settings.catalog.of(request.model)
            with STORES.storing():  # a hard exit waits for this: the images are paid for
                entry = self._store(request, kept + list(new), model.credits * request.num, where)
                self.spill.drop_partial(key)
            self.status[key] = "generated"
            return entry

    @contextlib.contextmanager
    def _key_lock(self, key: str) -> Iterator[None]:
        """The key's lock in the cache, or where the spill can hold it when the cache
        cannot (read-only): a purchase goes ahead, its images are kept in the spill."""
        with contextlib.ExitStack() as stack:
            try:
                stack.enter_context(self.cache.lock(key))
            except OSError as exc:
                if not unwritable(exc):
                    raise
                stack.enter_context(self.spill.lock(key))
            yield

    def _store(self, request: Request, images: list[bytes], credits: int, where: str) -> CacheEntry:
        """Put bought images into the cache or, if the disk cannot take them (full,
        read-only), into the spill (store/spill.py), which the next build adopts: the
        page shows them either way. OSError only if nowhere could take them."""
        try:
            entry = self.cache.put(request, images, self.provider.name, credits)
        except OSError as exc:
            if not unwritable(exc):
                raise
            return self._spill(request, images, credits, where, exc)
        with contextlib.suppress(OSError):  # a leftover partial/ folder is dropped by the next purchase or prune
            self.cache.drop_partial(request.key)
        return entry

    def _spill(self, request: Request, images: list[bytes], credits: int, where: str, exc: OSError) -> CacheEntry:
        try:
            entry = self.spill.keep(request, images, self.provider.name, credits)
        except OSError as again:
            self.warn(f"{where}: could not store the new image in cache_dir {self.cache.root} ({why(exc)}) nor keep "
                      f"it in {' or '.join(map(str, self.spill.folders))} ({why(again)}): it is paid for but lost; "
                      "free some space or make cache_dir writable")
            raise
        holding = self.spill.holding(entry)
        folder = holding.root if holding is not None else self.spill.folders[0]
        with self._lock:
            first = folder not in self._spilled_to
            self._spilled_to.add(folder)
        self.warn(f"{where}: could not store the new image in cache_dir {self.cache.root} ({why(exc)}); "
                  + (f"its bytes are kept in {folder}, and the next build adopts them (checked) instead of paying "
                     "again: free some space or make cache_dir writable" if first else f"kept in {folder} too"))
        return entry

    def _over_approval(self, request: Request, where: str, missing: int, most: int) -> None:
        """Kept images went missing (or were found damaged) after the budget counted
        them: buying the rest now would spend more than was approved."""
        self.status[request.key] = "failed"
        self.warn(f"{where}: {missing} image(s) to buy, but max_credits approved {most} (images kept in "
                  "partial/ changed since they were counted): build again")

    def _keep(self, request: Request, paid: tuple[bytes, ...]) -> None:
        """Images that arrived before a failure were paid for: keep them for the next build
        (which asks only for the rest), and count them in this build's spend."""
        with STORES.storing():  # a hard exit waits for this too
            try:
                self.cache.add_partial(request.key, paid)
            except OSError as exc:
                if not unwritable(exc):
                    raise
                folder = self.spill.keep_partial(request.key, paid)  # OSError if nowhere can take them
                self.warn(f"could not keep {len(paid)} paid image(s) in cache_dir {self.cache.root} ({why(exc)}): "
                          f"kept in {folder}, and the next build takes them instead of paying again")
        self._spent(request, len(paid))

    def _spent(self, request: Request, images_paid: int) -> None:
        model = self.settings.catalog.of(request.model)
        with self._lock:
            self.credits_spent += model.credits * images_paid
            self.usd_spent += model.usd * images_paid

    def _failed(self, request: Request, exc: ProviderError, where: str, kept_images: int = 0) -> None:
        """Say why ``request`` has no image, once per reason that stops the build."""
        kept = (f" ({kept_images} image(s) that arrived are kept: the next build pays only for the rest)"
                if kept_images else "")
        if isinstance(exc, Stopped):  # the user stopped the run before this request went out: not a failure
            return
        if isinstance(exc, STOPS_EVERY_CALL):
            # An account-level stop, not a fault of this directive: it stays a
            # placeholder like every image after it.
            self.stop.trip(exc)  # the provider's slot has mostly done it already
            if self.stop.report():
                what = (f": check {self.settings.api_key_env}" if isinstance(exc, AuthError)
                        else ": top up the account" if isinstance(exc, CreditsError) else "")  # AccountError says it
                self.warn(f"{exc}{what}; no further API calls {self.scope}")
            if kept:
                self.warn(f"{where}:{kept[1:-1]}")
            return
        self.status[request.key] = "failed"
        if isinstance(exc, ContentPolicyError):
            self.warn(f"{where}: the provider refused this prompt ({exc}): rephrase it and build again{kept}")
        else:
            tries = "one more try" if isinstance(exc, RetryOnce) else f"{self.settings.retries} retries"
            self.warn(f"{where}: generation failed after {tries}: {exc}{kept}")

    def close(self) -> None:
        closer = getattr(self.provider, "close", None)
        if closer is not None:
            closer()


@frozen
class Purchase:
    """A missing image a build did not wait for (under `mkdocs serve`): what to call
    ``Buyer.buy`` with, and what it costs."""

    request: Request
    ref_files: tuple[str, ...]
    where: str
    credits: int
    images: int | None = None  # what ``credits`` pays for: the buyer pays for no more
