"""The NanoBanana API: POST {api_base}/images/generate, then download the returned URLs.

Success is ``{"code": 0, "data": {"url": str | [str]}}``; any other ``code`` or a non-2xx
status is an error whose text is in ``message`` (or ``msg``).
"""

from __future__ import annotations

import json

import httpx

from .base import AuthError, ContentPolicyError, CreditsError, ProviderError, RateLimited, TransientError
from .base import ImageOrder, PaidInPart, RetryPolicy, StopSignal, parse_retry_after
from .http import HttpProvider, download_image

_POLICY_WORDS = ("policy", "safety", "blocked", "prohibited", "moderation", "nsfw", "inappropriate")
_CREDIT_WORDS = ("credit", "balance", "quota exceeded", "insufficient")


class NanoBananaProvider(HttpProvider):
    name = "nanobanana"

    @property
    def url(self) -> str:
        return self.api_base + "/images/generate"

    def auth_headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self._key}"}

    def body(self, job: ImageOrder, num: int | None = None) -> dict:
        r = job.request
        body = {"prompt": r.prompt, "model": r.model, "num": job.count if num is None else num, "image_size": r.ratio}
        if job.refs:
            body["ref_images"] = [ref.data_uri() for ref in job.refs]
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
                urls += retry.run(lambda: self._post(job, want, retry.stop))[:want]
        except ProviderError as exc:
            if not urls:
                raise
            failure = exc  # the URLs of the earlier answers are paid for: fetch them
        # the downloads (another host, and local decoding) come after the request slot is free
        got: list[bytes] = []
        for url in urls:
            try:
                got.append(retry.run(lambda url=url: download_image(self.client, url, self.timeout, self._private_ok)))
            except ProviderError as exc:
                failure = failure or exc  # the other downloads are free: go on with them
        if failure is not None:
            raise PaidInPart(failure, tuple(got)) if got else failure
        return got

    def _post(self, job: ImageOrder, num: int, stop: StopSignal | None) -> list[str]:
        return self.ask(self.url, self.body(job, num), stop, self._urls)

    def _urls(self, resp: httpx.Response) -> list[str]:
        try:
            payload = resp.json()
        except (json.JSONDecodeError, UnicodeDecodeError, ValueError):
            payload = None
        message = ""
        code = None
        if isinstance(payload, dict):
            message = str(payload.get("message") or payload.get("msg") or "")[:300]
            code = payload.get("code")
        status = resp.status_code
        lowered = message.lower()
        if status in (401, 403):
            raise AuthError(f"the API refused the key (HTTP {status}{': ' + message if message else ''})")
        if status == 402 or any(w in lowered for w in _CREDIT_WORDS):
            raise CreditsError(f"the account is out of credits (HTTP {status}{': ' + message if message else ''})")
        if status == 429:
            raise RateLimited("rate limited (HTTP 429)", parse_retry_after(resp.headers.get("retry-after")))
        if any(w in lowered for w in _POLICY_WORDS) and (status == 400 or code not in (0, None)):
            raise ContentPolicyError(message)
        if status >= 500:
            raise TransientError(f"the API failed (HTTP {status})")
        if payload is None:
            raise TransientError(f"the API answered HTTP {status} with a body that is not JSON")
        if not 200 <= status < 300:
            raise ProviderError(f"the API refused the request (HTTP {status}{': ' + message if message else ''})")
        if code != 0:
            raise TransientError(f"the API answered code {code}{': ' + message if message else ''}")
        data = payload.get("data") if isinstance(payload, dict) else None
        url = data.get("url") if isinstance(data, dict) else None
        urls = [url] if isinstance(url, str) else url
        if not isinstance(urls, list) or not urls or not all(isinstance(u, str) for u in urls):
            raise TransientError("the API answered without image URLs")
        return urls
