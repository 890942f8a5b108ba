"""What every provider shares: the request it is given, the errors it raises, one retry
policy, and one guarded image download.

A provider turns a ``Generation`` into the candidates' bytes, or raises one of the
errors below; the retry policy decides what to do about each error, so providers never
loop or sleep themselves.
"""

from __future__ import annotations

import base64
import email.utils
import random
import threading
import time
from dataclasses import dataclass
from typing import Any, Callable, Protocol, TypeVar

import httpx

from .. import images
from ..cache import Request

#: Ceiling on a server's Retry-After, so a hostile or confused header cannot stall a build.
RETRY_AFTER_CAP = 60.0
#: Exponential backoff: BACKOFF_BASE * 2**attempt, capped, with full jitter.
BACKOFF_BASE = 1.0
BACKOFF_MAX = 30.0
#: A download larger than this is refused before it is all read.
MAX_DOWNLOAD_BYTES = 25 * 1024 * 1024
MAX_REDIRECTS = 3


@dataclass(frozen=True)
class RefImage:
    data: bytes
    mime: str

    def data_uri(self) -> str:
        return f"data:{self.mime};base64,{base64.b64encode(self.data).decode('ascii')}"


@dataclass(frozen=True)
class Generation:
    """One paid call: the request plus the reference images' bytes."""

    request: Request
    refs: tuple[RefImage, ...] = ()


class ProviderError(Exception):
    """Base of every provider failure. Messages never contain the key."""


class AuthError(ProviderError):
    """401/403: the key is wrong. Stop every API call of this build."""


class CreditsError(ProviderError):
    """402 or an 'insufficient credits' answer. Stop new calls."""


class ContentPolicyError(ProviderError):
    """The provider refused the prompt or the output. Not retried."""


class RateLimited(ProviderError):
    def __init__(self, message: str, retry_after: float | None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class TransientError(ProviderError):
    """5xx, timeouts, resets, malformed answers, bad images: worth another try."""


class Provider(Protocol):
    name: str

    def generate(self, job: Generation, retry: "RetryPolicy") -> list[bytes]:
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

    429 waits Retry-After (capped at RETRY_AFTER_CAP) when the server gives one. Auth,
    credits and content-policy errors are raised at once: retrying them only costs money
    or hammers a server that has already said no.
    """

    retries: int = 4
    sleep: Callable[[float], None] = time.sleep
    on_retry: Callable[[int, ProviderError, float], None] | None = None

    def run(self, call: Callable[[], T]) -> T:
        attempt = 0
        while True:
            try:
                return call()
            except (RateLimited, TransientError) as exc:
                if attempt >= self.retries:
                    raise
                delay = self.delay(attempt, exc)
                if self.on_retry:
                    self.on_retry(attempt + 1, exc, delay)
                self.sleep(delay)
                attempt += 1

    def delay(self, attempt: int, exc: ProviderError) -> float:
        if isinstance(exc, RateLimited) and exc.retry_after is not None:
            return min(exc.retry_after, RETRY_AFTER_CAP)
        return random.uniform(0, min(BACKOFF_MAX, BACKOFF_BASE * 2**attempt))


class StopSignal:
    """Shared by every call of a build: once the key is refused or credits run out, no
    further call is made (one message, no retry storm)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.reason: ProviderError | None = None

    def trip(self, exc: ProviderError) -> bool:
        """Record the first stop; True if this call is the one that stopped the build."""
        with self._lock:
            if self.reason is None:
                self.reason = exc
                return True
            return False

    @property
    def stopped(self) -> bool:
        return self.reason is not None


#: The most an API answer (JSON, with Gemini's base64 image inside) may weigh.
MAX_ANSWER_BYTES = 40 * 1024 * 1024


class LazyClient:
    """The build's one pooled httpx.Client, made on the first call that needs it: a warm
    build calls nothing, so it never pays for the client's setup (~20 ms, its TLS context)."""

    def __init__(self, **options: Any) -> None:
        self._options = options
        self._client: httpx.Client | None = None
        self._lock = threading.Lock()

    def get(self) -> httpx.Client:
        with self._lock:
            if self._client is None:
                self._client = httpx.Client(**self._options)
            return self._client

    def close(self) -> None:
        with self._lock:
            if self._client is not None:
                self._client.close()
                self._client = None


def read_body(resp: httpx.Response, deadline: float, cap: int, what: str) -> bytes:
    """The whole body of a streamed response, by ``deadline`` (time.monotonic) and within
    ``cap`` bytes. httpx's timeout bounds each read, not the whole: a server that drips
    one byte just inside it would otherwise hold a build forever."""
    declared = resp.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > cap:
        raise TransientError(f"{what} is {int(declared):,} bytes, over the {cap:,}-byte cap")
    chunks, size = [], 0
    for chunk in resp.iter_bytes():
        size += len(chunk)
        if size > cap:
            raise TransientError(f"{what} is over the {cap:,}-byte cap")
        if time.monotonic() > deadline:
            raise TransientError(f"{what} took longer than the timeout to arrive")
        chunks.append(chunk)
    return b"".join(chunks)


def post(client: httpx.Client, url: str, body: dict, headers: dict[str, str], timeout: float, service: str) -> httpx.Response:
    """POST JSON to an API and read the answer within ``timeout`` seconds in all;
    timeouts and broken connections become TransientError.

    Redirects are not followed: the key in ``headers`` goes to ``url`` and nowhere else.
    """
    deadline = time.monotonic() + timeout
    try:
        with client.stream("POST", url, json=body, headers=headers, timeout=timeout, follow_redirects=False) as resp:
            content = read_body(resp, deadline, MAX_ANSWER_BYTES, f"the answer of {service}")
        return httpx.Response(resp.status_code, headers=resp.headers, content=content, request=resp.request)
    except httpx.TimeoutException:
        raise TransientError(f"{service} did not answer in time") from None
    except httpx.ConnectError:
        host = httpx.URL(url).host
        raise TransientError(f"could not connect to {host}: check the network, or api_base in mkdocs.yml") from None
    except httpx.HTTPError as exc:
        raise TransientError(f"{service} connection failed ({type(exc).__name__})") from None


def download_image(client: httpx.Client, url: str, timeout: float) -> bytes:
    """GET an image URL with no credentials, at most 3 redirects and 25 MB, and check that
    it decodes (and is no decompression bomb) before anyone stores it."""
    if not url.startswith(("https://", "http://")):
        raise TransientError(f"the API returned an image URL that is not http(s): {url[:80]!r}")
    deadline = time.monotonic() + timeout
    try:
        for _ in range(MAX_REDIRECTS + 1):
            # A fresh request with no Authorization header: image hosts are not api_base.
            with client.stream("GET", url, timeout=timeout, follow_redirects=False) as resp:
                if resp.is_redirect:
                    url = str(resp.url.join(resp.headers.get("location", "")))
                    continue
                if resp.status_code != 200:
                    raise TransientError(f"image download failed with HTTP {resp.status_code}")
                data = read_body(resp, deadline, MAX_DOWNLOAD_BYTES, "image download")
                break
        else:
            raise TransientError(f"image download redirected more than {MAX_REDIRECTS} times")
    except httpx.HTTPError as exc:
        raise TransientError(f"image download failed ({type(exc).__name__})") from None
    try:
        images.inspect(data)
    except images.BadImage as exc:
        raise TransientError(f"the downloaded image is unusable: {exc}") from None
    return data
