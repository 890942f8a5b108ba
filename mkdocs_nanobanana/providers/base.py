"""What every provider shares: the request it is given, the errors it raises, and one
retry policy. The HTTP part is in http.py, so that a build that calls no API (warm, or
offline) never imports httpx.

A provider turns an ``ImageOrder`` into the candidates' bytes, or raises one of the
errors below; the retry policy decides what to do about each error, so providers never
loop or sleep themselves.
"""

from __future__ import annotations

import base64
import contextlib
import email.utils
import random
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Protocol, TypeVar

from ..core.errors import NanobananaError
from ..core.frozen import frozen
from ..core.request import Request

__all__ = ["AccountError", "AuthError", "ContentPolicyError", "CreditsError", "ImageOrder", "PaidInPart", "Provider",
           "ProviderError", "RateLimited", "RefImage", "RetryOnce", "RetryPolicy", "Stopped", "TransientError"]

#: Ceiling on a server's Retry-After (429, 503), so a hostile or confused header cannot stall a build.
RETRY_AFTER_CAP = 60.0
#: Exponential backoff: BACKOFF_BASE * 2**attempt, capped, with full jitter.
BACKOFF_BASE = 1.0
BACKOFF_MAX = 30.0


@frozen
class RefImage:
    data: bytes
    mime: str

    @property
    def base64_data(self) -> str:
        """The bytes as base64 text, as JSON APIs take images."""
        return base64.b64encode(self.data).decode("ascii")

    def data_uri(self) -> str:
        return f"data:{self.mime};base64,{self.base64_data}"


@frozen
class ImageOrder:
    """One paid call: the request plus the reference images' bytes."""

    request: Request
    refs: tuple[RefImage, ...] = ()
    #: how many images to ask for, when fewer than ``request.num`` (the rest were paid
    #: for by an earlier build that failed half-way, and are kept in the cache)
    missing: int | None = None

    @property
    def count(self) -> int:
        return self.request.num if self.missing is None else self.missing


class ProviderError(NanobananaError):
    """Base of every provider failure. Messages never contain the key."""


class AuthError(ProviderError):
    """401/403: the key is wrong. Stop every API call of this build."""


class CreditsError(ProviderError):
    """402 or an 'insufficient credits' answer. Stop new calls."""


class AccountError(ProviderError):
    """The account or the model can serve no call of this build, whatever it asks (billing
    not enabled where the free tier is not offered, a model the API does not know). Stop
    every API call, with one message that says what to change."""


#: Answers about the account, not one request: the first stops every call of the build.
STOPS_EVERY_CALL: tuple[type[ProviderError], ...] = (AuthError, CreditsError, AccountError)


class ContentPolicyError(ProviderError):
    """The provider refused the prompt or the output. Not retried."""


class Stopped(ProviderError):
    """The user stopped the run (Ctrl-C, SIGTERM): this request was never sent."""


class RateLimited(ProviderError):
    def __init__(self, message: str, retry_after: float | None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class TransientError(ProviderError):
    """5xx, timeouts, resets, malformed answers, bad images: worth another try.
    ``retry_after``: the wait a 503's Retry-After asked for (RFC 9110, section 10.2.3,
    defines it for 503 as for 429), honoured and capped as a 429's is."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class RetryOnce(TransientError):
    """Worth one more try, and only one: the request may already have been billed (a read
    timeout or a broken answer after it was sent), or a second try rarely helps. The
    policy retries it once per ``run``, whatever ``retries`` allows."""


class PaidInPart(ProviderError):
    """``cause`` ended a purchase after some images had arrived (some calls of a Gemini
    ``num``, the NanoBanana downloads that worked): ``paid`` holds them, for the Buyer to
    keep. A wrapper, not an attribute set on ``cause``: a stop signal's error is shared
    by every call of the build, and must not carry one key's images to another."""

    def __init__(self, cause: ProviderError, paid: tuple[bytes, ...]) -> None:
        super().__init__(str(cause))
        self.cause = cause
        self.paid = paid


class Provider(Protocol):
    name: str

    def generate(self, job: ImageOrder, retry: RetryPolicy) -> list[bytes]:
        """The candidates' bytes; each HTTP call is retried by ``retry`` on its own, so a
        failure never pays again for a call that succeeded."""
        ...


def parse_retry_after(value: str | None) -> float | None:
    """Seconds from a Retry-After header (delta-seconds or an HTTP date)."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


T = TypeVar("T")


@dataclass
class RetryPolicy:
    """Retries transient failures with capped exponential backoff and full jitter.

    429 and 503 wait Retry-After (capped at RETRY_AFTER_CAP) when the server gives one.
    Auth, credits, account and content-policy errors are raised at once: retrying them
    only costs money or hammers a server that has already said no.

    A user's stop ends the retries of a paid call (a POST), which would pay again; a
    ``free`` call (the download of a URL the API gave, which costs nothing) is retried as
    usual after a stop, or the image its POST paid for would be lost.
    """

    retries: int = 4
    sleep: Callable[[float], None] = time.sleep
    stop: StopSignal | None = None  # the build's: see ApiSlots
    warn: Callable[[str], None] | None = None  # told before a RetryOnce is tried again

    def run(self, call: Callable[[], T], free: bool = False) -> T:
        attempt = 0
        retried_once = False
        while True:
            try:
                return call()
            except (RateLimited, TransientError) as exc:
                stopped = not free and self._interrupted()
                if attempt >= self.retries or (isinstance(exc, RetryOnce) and retried_once) or stopped:
                    raise
                if isinstance(exc, RetryOnce):
                    retried_once = True
                    if self.warn is not None:
                        self.warn(f"{exc}; trying once more, and only once: the first attempt may have been charged")
                self._pause(self.delay(attempt, exc), free)
                if not free and self._interrupted():  # stopped while waiting: the retry is never sent
                    raise Stopped("stopped before this request was sent again") from exc
                attempt += 1

    def _interrupted(self) -> bool:
        return self.stop is not None and self.stop.interrupted is not None

    def _pause(self, seconds: float, free: bool) -> None:
        """Wait before a retry; a user's stop ends the wait of a paid call at once (a
        Retry-After may be a minute long). A free call waits it out: retried at once, a
        download would hit the same busy server again."""
        if self.stop is not None and self.sleep is time.sleep and not free:
            self.stop.wait(seconds)
        else:
            self.sleep(seconds)

    def delay(self, attempt: int, exc: ProviderError) -> float:
        asked = exc.retry_after if isinstance(exc, (RateLimited, TransientError)) else None
        if asked is not None:
            return min(asked, RETRY_AFTER_CAP)
        return random.uniform(0, min(BACKOFF_MAX, BACKOFF_BASE * 2**attempt))


class StopSignal:
    """Shared by every call of a build: once the key is refused, credits run out or the
    account can make no call (STOPS_EVERY_CALL), no further call is made (one message, no
    retry storm). The user stops the same way (``interrupt``: Ctrl-C, SIGTERM): requests
    in flight finish, no new one is sent."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.reason: ProviderError | None = None
        self.interrupted: str | None = None  # why the user stopped ("SIGINT"), if they did
        self._woken = threading.Event()
        self._reported = False

    def interrupt(self, why: str) -> None:
        """The user's stop: no new request from now on; waits before a retry end now."""
        with self._lock:
            self.interrupted = self.interrupted or why
        self._woken.set()

    def wait(self, seconds: float) -> None:
        """Sleep ``seconds``, or less if the user stops meanwhile."""
        self._woken.wait(seconds)

    def trip(self, exc: ProviderError) -> bool:
        """Record the first stop; True if this call is the one that stopped the build."""
        with self._lock:
            if self.reason is None:
                self.reason = exc
                return True
            return False

    def report(self) -> bool:
        """True the first time it is asked after a stop: whoever gets True says so, once."""
        with self._lock:
            first = self.reason is not None and not self._reported
            self._reported = self._reported or first
            return first

    @property
    def stopped(self) -> bool:
        return self.reason is not None or self.interrupted is not None

    def sent(self) -> None:
        """A request is going out now (``ApiSlots`` says so): a purchase's own view of the
        signal counts what a hard exit would abandon (build/purchase.py, CallStop)."""


class ApiSlots:
    """At most ``n`` API requests in flight, for callers that may be many more than ``n``
    (a thread that downloads or stores an answer must not hold back the next request).

    A call that gets a slot does not start if the account was refused while it waited,
    and a refusal stops every other call before its slot is handed on: without both, a
    waiting call would go out right after a 401, the retry storm the stop exists to prevent.
    A user's stop ends the wait of every waiting call at once (``Stopped``): only the
    requests already sent go on.
    """

    #: How often a waiting call looks at the stop signal.
    POLL = 0.05

    def __init__(self, n: int) -> None:
        self._free = threading.BoundedSemaphore(n)

    def _take(self, stop: StopSignal | None) -> None:
        if stop is None:  # nothing can end the wait
            self._free.acquire()
            return
        while not self._free.acquire(timeout=self.POLL):
            if stop.interrupted is not None:
                raise Stopped(f"stopped by {stop.interrupted} before this request was sent")

    @contextlib.contextmanager
    def request(self, stop: StopSignal | None) -> Iterator[None]:
        self._take(stop)
        try:
            if stop is not None and stop.interrupted is not None:
                raise Stopped(f"stopped by {stop.interrupted} before this request was sent")
            if stop is not None and stop.reason is not None:
                raise stop.reason
            if stop is not None:
                stop.sent()
            try:
                yield
            except STOPS_EVERY_CALL as exc:
                if stop is not None:
                    stop.trip(exc)
                raise
        finally:
            self._free.release()
