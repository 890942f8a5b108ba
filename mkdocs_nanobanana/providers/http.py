"""HTTP for the providers: what they share (HttpProvider), a POST with a total deadline,
and one guarded image download (where it may connect: addresses.py). Only a build that
calls an API imports this (and httpx): see providers.connect."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

import httpx

from ..core import image_bytes, reporting
from ..core.settings import Timeouts
from . import addresses
from .base import ApiSlots, ProviderError, RetryOnce, StopSignal, TransientError, parse_retry_after

__all__ = ["HttpProvider"]

reporting.scrub_http_logs()  # httpx logs each URL, httpcore each header: a server's echo of the key too

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
    """Whether ``host``, as written (an address or localhost; a name is not resolved),
    is somewhere other than the public internet: see addresses.allowed_for."""
    return bool(addresses.allowed_for(host))


def download_image(client: httpx.Client, url: str, timeout: float,
                   allowed: frozenset[str] = frozenset()) -> bytes:
    """GET an image URL with no credentials, at most 3 redirects and 25 MB, and check that
    it decodes (and is no decompression bomb, nor a shape we cannot publish) before
    anyone stores it. Each hop's host is resolved once and refused if any address it
    resolves to is not public, unless its kind is ``allowed`` (the API itself is on it:
    loopback in tests); the request then goes to that very address (``_send``). A spoofed
    answer must not make a CI runner fetch from its own network. A refusal is not retried."""
    deadline = time.monotonic() + timeout
    try:
        for _ in range(MAX_REDIRECTS + 1):
            target = _judged_url(url)
            resp = _send(client, target, _addresses_of(target, allowed), timeout)
            try:
                if resp.is_redirect:  # joined to the URL as the API wrote it, not the address it went to
                    url = str(target.join(resp.headers.get("location", "")))
                    continue
                if resp.status_code != 200:  # a 503's Retry-After is honoured, as the API's is
                    after = parse_retry_after(resp.headers.get("retry-after")) if resp.status_code == 503 else None
                    raise TransientError(f"image download failed with HTTP {resp.status_code}", after)
                data = read_body(resp, deadline, MAX_DOWNLOAD_BYTES, "image download")
                break
            finally:
                resp.close()
        else:
            raise ProviderError(f"image download redirected more than {MAX_REDIRECTS} times")  # it would again
    except httpx.HTTPError as exc:
        raise TransientError(f"image download failed ({type(exc).__name__})") from None
    try:
        image_bytes.inspect(data)
    except image_bytes.BadImage as exc:
        raise TransientError(f"the downloaded image is unusable: {exc}") from None
    return data


def _judged_url(url: str) -> httpx.URL:
    """``url`` as httpx reads it, if it is one a download may follow (http or https)."""
    try:
        target = httpx.URL(url)
    except (httpx.InvalidURL, TypeError, ValueError) as exc:  # e.g. 0177.0.0.1: a dotted quad httpx refuses
        raise ProviderError(f"the API returned an image URL that cannot be read ({exc}): {url[:80]!r}: "
                            "refused") from None
    if target.scheme not in ("http", "https") or not target.host:
        raise ProviderError(f"the API returned an image URL that is not http(s): {url[:80]!r}")
    return target


def _addresses_of(target: httpx.URL, allowed: frozenset[str]) -> list[str]:
    """The addresses ``target``'s host resolves to, every one judged (addresses.checked)."""
    port = target.port or (443 if target.scheme == "https" else 80)
    try:
        return addresses.checked(target.host, port, allowed)
    except addresses.AddressRefused as exc:
        raise ProviderError(f"the API returned an image URL {exc}: refused") from None
    except OSError as exc:  # socket.gaierror: the name has no address (now)
        raise TransientError(f"image download failed: {target.host} does not resolve ({exc.strerror or exc})") from None


def _send(client: httpx.Client, target: httpx.URL, judged: list[str], timeout: float) -> httpx.Response:
    """GET ``target`` from the first of its ``judged`` addresses that accepts a connection
    (streamed: the caller reads and closes it). The URL's host is replaced by the address,
    so nothing resolves the name again, while the Host header and TLS's SNI (which the
    certificate is checked against: httpcore's ``sni_hostname`` extension) keep the name.
    Through a proxy (HTTPS_PROXY and the like: httpx reads the environment) the proxy
    resolves the name and connects; the name was judged, the proxy's connection cannot be."""
    if _through_proxy(client, target):
        return client.send(client.build_request("GET", target, timeout=timeout), stream=True, follow_redirects=False)
    failure: httpx.ConnectError | None = None
    for address in judged:
        extensions = {"sni_hostname": target.host} if target.scheme == "https" else {}
        request = client.build_request("GET", target.copy_with(host=address), timeout=timeout, extensions=extensions,
                                       headers={"Host": target.netloc.decode("ascii")})
        try:
            return client.send(request, stream=True, follow_redirects=False)
        except httpx.ConnectError as exc:  # the next address, as a connect by name would try it
            failure = exc
    assert failure is not None  # addresses.checked returns at least one address
    raise failure


def _through_proxy(client: httpx.Client, target: httpx.URL) -> bool:
    """Whether ``client`` sends ``target`` through a proxy. httpx keeps its proxy mounts
    private; a client without them (or an httpx that changed them) connects directly."""
    transport_for = getattr(client, "_transport_for_url", None)
    direct = getattr(client, "_transport", None)
    return transport_for is not None and direct is not None and transport_for(target) is not direct


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
        # downloads may go where the API itself is (loopback in tests), and nowhere else private
        self._private_ok = addresses.allowed_for(httpx.URL(self.api_base).host)

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
