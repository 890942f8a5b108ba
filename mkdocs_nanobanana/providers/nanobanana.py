"""The NanoBanana API: POST {api_base}/images/generate (or /images/edit for reference
images, if so configured), then download the returned URLs.

Success is an answer with image URLs, ``{"code": 0, "data": {"url": str | [str]}}`` as
public clients read it, however ``code`` is spelled (0, "0", 200 with ``msg: "success"``,
or no code at all: the vendor's own examples read ``data.url`` and never look at
``code``). Without URLs, a non-zero ``code`` or a non-2xx status is an error whose text is
in ``message`` (or ``msg``).
"""

from __future__ import annotations

import functools
import json

import httpx

from ..core.settings import RefSending
from .base import (
    AuthError,
    ContentPolicyError,
    CreditsError,
    ImageOrder,
    PaidInPart,
    ProviderError,
    RateLimited,
    RetryOnce,
    RetryPolicy,
    StopSignal,
    TransientError,
    parse_retry_after,
)
from .http import HttpProvider, download_image

__all__: list[str] = []

_POLICY_WORDS = ("policy", "safety", "blocked", "prohibited", "moderation", "nsfw", "inappropriate")
_CREDIT_WORDS = ("credit", "balance", "quota exceeded", "insufficient")


class NanoBananaProvider(HttpProvider):
    name = "nanobanana"
    ref_images = RefSending()  # how references are sent: see settings.RefSending

    def url(self, job: ImageOrder) -> str:
        edit = job.refs and self.ref_images.route == "edit"
        return self.api_base + ("/images/edit" if edit else "/images/generate")

    def auth_headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self._key}"}

    def body(self, job: ImageOrder, num: int | None = None) -> dict:
        r = job.request
        body = {"prompt": r.prompt, "model": r.model, "num": job.count if num is None else num, "image_size": r.ratio}
        if job.refs:
            sent = [ref.data_uri() if self.ref_images.encoding == "data_uri" else ref.base64_data for ref in job.refs]
            if self.ref_images.route == "edit":  # public edit clients send one `image`, a list when more
                body["image"] = sent[0] if len(sent) == 1 else sent
            else:
                body["ref_images"] = sent
        return body

    def generate(self, job: ImageOrder, retry: RetryPolicy) -> list[bytes]:
        """The POST is retried on its own and each download on its own: a URL the API
        gave is free to fetch again, while a second POST pays for every image again. An
        answer with fewer URLs than ``job.count`` is kept, and only the missing ones are
        asked for (each answer has at least one URL, so at most ``count`` POSTs).

        When a POST or a download fails for good, the images that did arrive are paid
        for: they ride on the error (PaidInPart) for the Buyer to keep."""
        num = job.count
        urls: list[str] = []
        failure: ProviderError | None = None
        try:
            for _ in range(num):
                if len(urls) >= num:
                    break
                want = num - len(urls)
                urls += retry.run(functools.partial(self._post, job, want, retry.stop))[:want]
        except ProviderError as exc:
            if not urls:
                raise
            failure = exc  # the URLs of the earlier answers are paid for: fetch them
        # the downloads (another host, and local decoding) come after the request slot is free
        got: list[bytes] = []
        for url in urls:
            try:  # free: retried as usual even after a user's stop, or a paid image is lost
                got.append(retry.run(functools.partial(self._download, url), free=True))
            except ProviderError as exc:
                failure = failure or exc  # the other downloads are free: go on with them
        if failure is not None:
            raise PaidInPart(failure, tuple(got)) if got else failure
        return got

    def _download(self, url: str) -> bytes:
        return download_image(self.client, url, self.timeouts.send, self._private_ok)

    def _post(self, job: ImageOrder, num: int, stop: StopSignal | None) -> list[str]:
        return self.ask(self.url(job), self.body(job, num), stop, _urls, images=num)


def _urls(resp: httpx.Response) -> list[str]:
    """The image URLs of an answer, or the error it stands for."""
    try:
        payload = resp.json()
    except (json.JSONDecodeError, UnicodeDecodeError, ValueError):
        payload = None
    payload = payload if isinstance(payload, dict) else None
    ok = 200 <= resp.status_code < 300
    urls = _image_urls(payload)
    if ok and urls:  # images were made, and paid for: whatever `code` says, fetch them
        return urls
    code = payload.get("code") if payload else None
    message = str((payload or {}).get("message") or (payload or {}).get("msg") or "")[:300]
    if ok and payload is None:
        raise RetryOnce(f"the API answered HTTP {resp.status_code} with a body that is not JSON")
    if ok and code is not None and _succeeded(code):
        # a 200 whose images we cannot see may still have been billed: one more try only
        raise RetryOnce("the API answered without image URLs")
    raise _failure(resp, code, message)


def _image_urls(payload: dict | None) -> list[str]:
    """``data.url`` as a list (it is a string for one image), or [] if it holds none."""
    data = payload.get("data") if payload else None
    url = data.get("url") if isinstance(data, dict) else None
    urls = [url] if isinstance(url, str) else url
    if not isinstance(urls, list) or not all(isinstance(u, str) and u for u in urls):
        return []
    return urls


def _succeeded(code: object) -> bool:
    """A body ``code`` that says success: 0 or "0", or a 2xx status."""
    said = _http_like(code)
    return code in (0, "0") or (said is not None and 200 <= said < 300)


def _failure(resp: httpx.Response, code: object, message: str) -> ProviderError:
    """What a failed call means. A ``code`` in a 2xx body means what the same HTTP status
    means (the vendor's clients report errors both ways), and words about credits or
    policy count only on a call that failed. A code that reads as no HTTP status (1001,
    10001) is tried once more only: nothing says what it means, and a permanent one
    would otherwise cost every retry."""
    status = resp.status_code
    said = _http_like(code) if 200 <= status < 300 else status
    detail = (f"HTTP {status}" + (f", code {code}" if code not in (None, status) else "")
              + (f": {message}" if message else ""))
    lowered = message.lower()
    if said in (401, 403):
        return AuthError(f"the API refused the key ({detail})")
    if said == 402 or any(w in lowered for w in _CREDIT_WORDS):
        return CreditsError(f"the account is out of credits ({detail})")
    if said == 429:
        return RateLimited(f"rate limited ({detail})", parse_retry_after(resp.headers.get("retry-after")))
    if any(w in lowered for w in _POLICY_WORDS):  # a refusal, whatever status carries it
        return ContentPolicyError(message)
    if said is None:
        what = "without image URLs or a code" if code is None else "with a code it does not explain"
        return RetryOnce(f"the API answered {what} ({detail})")
    if said >= 500:  # a server fault: worth a retry, after the wait a 503 asks for
        after = parse_retry_after(resp.headers.get("retry-after")) if said == 503 else None
        return TransientError(f"the API failed ({detail})", after)
    return ProviderError(f"the API refused the request ({detail})")


def _http_like(code: object) -> int | None:
    """A body ``code`` that reads as an HTTP status (100-599), else None."""
    if isinstance(code, bool) or not isinstance(code, (int, str)):
        return None
    try:
        number = int(code)
    except ValueError:
        return None
    return number if 100 <= number < 600 else None
