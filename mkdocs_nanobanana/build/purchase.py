"""Paid calls into the cache: one place that turns a Request into a stored CacheEntry.

Used by a build's scheduler and, across rebuilds of `mkdocs serve`, by deferred.py. It
holds what must be shared by every call of one session: the stop signal (a refused key or
an empty account ends all calls), the status of each key, and what was spent.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ..core import image_bytes
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
from ..store.remote import RemoteCache, RemoteError
from .stopping import STORES

__all__: list[str] = []


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
        self.in_flight = 0  # calls under way: what a hard exit would abandon
        self._lock = threading.Lock()

    def buy(self, request: Request, ref_files: tuple[str, ...], where: str) -> CacheEntry | None:
        """One paid call, guarded: the key's lock, a second look at the cache, retries;
        then the new entry goes to the remote cache, if there is one. None when there is
        no image to be had; the reason has been warned about."""
        with self._lock:
            self.in_flight += 1
        try:
            entry = self._buy(request, ref_files, where)
        finally:
            with self._lock:
                self.in_flight -= 1
        if entry is not None and self.remote is not None and self.status.get(request.key) == "generated":
            try:
                self.remote.upload(entry, self.cache)
            except RemoteError as exc:  # the image is safe locally; the next build uploads nothing, so say so
                self.warn(f"{where}: could not upload the new image to the remote cache ({exc}); "
                          "other machines will generate it again")
        return entry

    def _buy(self, request: Request, ref_files: tuple[str, ...], where: str) -> CacheEntry | None:
        key = request.key
        if self.stop.stopped:
            return None
        with self.cache.lock(key):
            entry = self.cache.get(key)  # another build may have paid for it meanwhile
            if entry is not None:
                self.status[key] = "cached"
                return entry
            if self.stop.stopped:
                return None
            kept = self.cache.partial(key)[: request.num]  # paid for by a build that failed half-way
            refs = tuple(RefImage(data, image_bytes.inspect(data).mime)
                         for data in (Path(f).read_bytes() for f in ref_files))
            policy = RetryPolicy(retries=self.settings.retries, stop=self.stop,
                                 warn=lambda message: self.warn(f"{where}: {message}"))
            missing = request.num - len(kept)
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
                entry = self.cache.put(request, kept + list(new), self.provider.name, model.credits * request.num)
                self.cache.drop_partial(key)
            self.status[key] = "generated"
            return entry

    def _keep(self, request: Request, paid: tuple[bytes, ...]) -> None:
        """Images that arrived before a failure were paid for: keep them for the next build
        (which asks only for the rest), and count them in this build's spend."""
        with STORES.storing():  # a hard exit waits for this too
            self.cache.add_partial(request.key, paid)
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


@dataclass(frozen=True)
class Purchase:
    """A missing image a build did not wait for (under `mkdocs serve`): what to call
    ``Buyer.buy`` with, and what it costs."""

    request: Request
    ref_files: tuple[str, ...]
    where: str
    credits: int
