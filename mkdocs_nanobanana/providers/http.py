"""HTTP for the providers: what they share (HttpProvider), a POST with a total deadline,
and one guarded image download. Only a build that calls an API imports this (and httpx):
see providers.connect."""

from __future__ import annotations

import ipaddress
import time
from collections.abc import Callable
from typing import TypeVar

import httpx

from ..core import image_bytes
from ..core.settings import Timeouts
from .base import ApiSlots, ProviderError, RetryOnce, StopSignal, TransientError, parse_retry_after

__all__ = ["HttpProvider"]

#: A download larger than this is refused before it is all read.
MAX_DOWNLOAD_BYTES = 25 * 1024 * 1024
MAX_REDIRECTS = 3
#: The most an API answer (JSON, with Gemini's base64 image inside) may weigh.
MAX_ANSWER_BYTES = 40 * 1024 * 1024


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


def post(client: httpx.Client, url: str, body: dict, headers: dict[str, str], timeouts: Timeouts, images: int,
         service: str) -> httpx.Response:
    """POST JSON to an API and read the answer: the request sent within ``timeouts.send``,
    the answer read within ``timeouts.answer`` per image after that.

    What a failure costs decides how it is retried. Before the request is sent (no
    connection, no free connection in the pool, the body not written) nothing was billed:
    TransientError, retried within ``retries``. After it was sent (no answer in time, a
    connection broken mid-answer, an answer dripped past the deadline or over the cap) the
    server may have made, and billed, the images: RetryOnce. So the two waits are apart:
    a short one, safe to retry, and a long one, for an answer that may already be paid.

    Redirects are not followed: the key in ``headers`` goes to ``url`` and nowhere else.
    """
    answer = timeouts.answer_for(images)
    deadline = time.monotonic() + timeouts.send + answer
    timeout = httpx.Timeout(timeouts.send, read=answer)
    try:
        with client.stream("POST", url, json=body, headers=headers, timeout=timeout, follow_redirects=False) as resp:
            try:
                content = read_body(resp, deadline, MAX_ANSWER_BYTES, f"the answer of {service}")
            except TransientError as exc:
                raise RetryOnce(str(exc)) from None
        return httpx.Response(resp.status_code, headers=resp.headers, content=content, request=resp.request)
    except httpx.ConnectError:
        host = httpx.URL(url).host
        raise TransientError(f"could not connect to {host}: check the network, or api_base in mkdocs.yml") from None
    except (httpx.ConnectTimeout, httpx.PoolTimeout, httpx.WriteTimeout, httpx.WriteError, httpx.ProxyError):
        raise TransientError(f"{service} could not be reached in time (the request was not sent)") from None
    except httpx.ReadTimeout:
        raise RetryOnce(f"{service} did not answer within {answer:g} s (answer_timeout)") from None
    except httpx.HTTPError as exc:  # a reset or a broken answer after the request went out
        raise RetryOnce(f"{service} connection failed after the request was sent ({type(exc).__name__})") from None


def is_private_host(host: str) -> bool:
    """A loopback, link-local, private or unspecified address (or localhost): somewhere
    an answer from a public API has no business sending a build machine."""
    if host.lower().rstrip(".") in ("localhost", "localhost.localdomain") or host.lower().endswith(".localhost"):
        return True
    try:
        ip = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False  # a name: resolved by DNS, which the API does not control
    return ip.is_loopback or ip.is_link_local or ip.is_private or ip.is_unspecified or ip.is_reserved


def download_image(client: httpx.Client, url: str, timeout: float, allow_private: bool = False) -> bytes:
    """GET an image URL with no credentials, at most 3 redirects and 25 MB, and check that
    it decodes (and is no decompression bomb) before anyone stores it. A URL (or a
    redirect) to a private address is refused unless ``allow_private`` (the API itself is
    on one, as in tests): a spoofed answer must not make a CI runner fetch from its own
    network. The refusal is not retried."""
    if not url.startswith(("https://", "http://")):
        raise ProviderError(f"the API returned an image URL that is not http(s): {url[:80]!r}")
    deadline = time.monotonic() + timeout
    try:
        for _ in range(MAX_REDIRECTS + 1):
            host = httpx.URL(url).host
            if not allow_private and is_private_host(host):
                raise ProviderError(f"the API returned an image URL on a private address ({host}): refused")
            # A fresh request with no Authorization header: image hosts are not api_base.
            with client.stream("GET", url, timeout=timeout, follow_redirects=False) as resp:
                if resp.is_redirect:
                    url = str(resp.url.join(resp.headers.get("location", "")))
                    continue
                if resp.status_code != 200:  # a 503's Retry-After is honoured, as the API's is
                    after = parse_retry_after(resp.headers.get("retry-after")) if resp.status_code == 503 else None
                    raise TransientError(f"image download failed with HTTP {resp.status_code}", after)
                data = read_body(resp, deadline, MAX_DOWNLOAD_BYTES, "image download")
                break
        else:
            raise ProviderError(f"image download redirected more than {MAX_REDIRECTS} times")  # it would again
    except httpx.HTTPError as exc:
        raise TransientError(f"image download failed ({type(exc).__name__})") from None
    try:
        image_bytes.inspect(data)
    except image_bytes.BadImage as exc:
        raise TransientError(f"the downloaded image is unusable: {exc}") from None
    return data


T = TypeVar("T")


class HttpProvider:
    """What the HTTP providers share: one pooled client for the whole build, a bound on
    the requests in flight, and a key that no repr shows (nor any message or URL: it
    goes only into the headers of ``ask``).

    A subclass says how it authenticates (``auth_headers``) and how it turns an
    ImageOrder into images (``generate``, retrying each call on its own with ``ask``).
    """

    name = ""
    service = "the API"  # how messages name the other end

    def __init__(self, client: httpx.Client, api_base: str, api_key: str, timeouts: Timeouts,
                 concurrency: int = 4) -> None:
        self.client = client
        self.api_base = api_base.rstrip("/")
        # A key read from `echo` or a secret store often ends in a newline: sent raw it is
        # an illegal header value, and httpcore's error (shown by `nanobanana -v`) quotes it.
        self._key = api_key.strip()
        self.timeouts = timeouts
        self.in_flight = ApiSlots(concurrency)  # API calls at once
        # downloads may go to private addresses only if the API itself is on one (tests)
        self._private_ok = is_private_host(httpx.URL(self.api_base).host)

    @classmethod
    def open(cls, api_base: str, api_key: str, timeouts: Timeouts, concurrency: int) -> HttpProvider:
        """The provider with a client of its own, pooled for ``concurrency`` calls (closed
        by ``close``)."""
        limits = httpx.Limits(max_connections=concurrency * 2, max_keepalive_connections=concurrency * 2)
        client = httpx.Client(limits=limits, timeout=timeouts.send)  # trust_env: HTTPS_PROXY works
        return cls(client, api_base, api_key, timeouts, concurrency)

    def __repr__(self) -> str:  # never show the key, even in a debugger or a traceback
        return f"{type(self).__name__}(api_base={self.api_base!r})"

    def close(self) -> None:
        self.client.close()

    def auth_headers(self) -> dict[str, str]:
        raise NotImplementedError

    def headers(self, images: int) -> dict[str, str]:
        """The headers of a POST asking for ``images`` images: the key's, unless a
        provider adds its own."""
        return self.auth_headers()

    def ask(self, url: str, body: dict, stop: StopSignal | None, verdict: Callable[[httpx.Response], T],
            images: int = 1) -> T:
        """POST ``body`` and judge the answer while holding a request slot. Only the
        request and its verdict hold it: downloading or decoding images after it must
        not keep the next request waiting. The answer's wait is per image: a request for
        ``images`` of them waits that many times as long (generation time grows with
        the count, and cutting a request that was working costs a retry that may pay)."""
        with self.in_flight.request(stop):
            try:
                return verdict(post(self.client, url, body, self.headers(images), self.timeouts, images, self.service))
            except ProviderError as exc:  # scrubbed before anyone (the stop signal) sees it
                exc.args = tuple(self.scrub(a) if isinstance(a, str) else a for a in exc.args)
                raise

    def scrub(self, text: str) -> str:
        """``text`` (a server's message) with the key blanked out, should a server echo it."""
        return text.replace(self._key, "[key]") if self._key else text
