"""The official Gemini API: POST {api_base}/models/{model}:generateContent.

One image per call, so ``num`` candidates are ``num`` calls, run at once within the
provider's ``concurrency``; each call is retried on its own, so one failure never pays
again for the others. The key goes in the ``x-goog-api-key`` header, never in the URL.
"""

from __future__ import annotations

import base64
import binascii
from concurrent.futures import ThreadPoolExecutor

import httpx

from .. import images
from .base import AuthError, ContentPolicyError, CreditsError, ProviderError, RateLimited, TransientError
from .base import ImageOrder, RetryPolicy, StopSignal, parse_retry_after
from .http import HttpProvider

#: finishReason values that mean the output was withheld, not that the call failed.
BLOCKED = {
    "IMAGE_SAFETY", "IMAGE_PROHIBITED_CONTENT", "IMAGE_RECITATION", "IMAGE_OTHER", "NO_IMAGE",
    "SAFETY", "PROHIBITED_CONTENT", "BLOCKLIST", "SPII", "RECITATION", "OTHER",
}


class GeminiProvider(HttpProvider):
    name = "gemini"
    service = "the Gemini API"

    def __init__(self, client: httpx.Client, api_base: str, api_key: str, timeout: float, concurrency: int = 4) -> None:
        super().__init__(client, api_base, api_key, timeout, concurrency)
        self._fan_out = ThreadPoolExecutor(concurrency, thread_name_prefix="nanobanana-gemini")

    def close(self) -> None:
        self._fan_out.shutdown(wait=False, cancel_futures=True)
        super().close()

    def auth_headers(self) -> dict[str, str]:
        return {"x-goog-api-key": self._key}

    def body(self, job: ImageOrder) -> dict:
        parts: list[dict] = [{"text": job.request.prompt}]
        for ref in job.refs:
            parts.append({"inline_data": {"mime_type": ref.mime, "data": ref.base64_data}})
        return {
            "contents": [{"parts": parts}],
            "generationConfig": {"responseModalities": ["IMAGE"], "imageConfig": {"aspectRatio": job.request.ratio}},
        }

    def generate(self, job: ImageOrder, retry: RetryPolicy) -> list[bytes]:
        if job.request.num == 1:
            return [self._attempt(job, retry)]
        calls = [self._fan_out.submit(self._attempt, job, retry) for _ in range(job.request.num)]
        return [c.result() for c in calls]  # the first failure is raised, as for one call

    def _attempt(self, job: ImageOrder, retry: RetryPolicy) -> bytes:
        """One image, its call retried on its own, so a failure never pays again for a
        call that succeeded."""
        return retry.run(lambda: self._call(job, retry.stop))

    def _call(self, job: ImageOrder, stop: StopSignal | None) -> bytes:
        url = f"{self.api_base}/models/{job.request.model}:generateContent"
        return self._image(self.ask(url, self.body(job), stop, _payload))

    def _image(self, payload: dict) -> bytes:
        feedback = payload.get("promptFeedback") or {}
        if feedback.get("blockReason"):
            raise ContentPolicyError(f"prompt blocked ({feedback['blockReason']})")
        candidates = payload.get("candidates") or []
        if not candidates:
            raise TransientError("the Gemini API answered without a candidate")
        first = candidates[0]
        for part in ((first.get("content") or {}).get("parts") or []):
            inline = part.get("inlineData") or part.get("inline_data")
            if inline and inline.get("data"):
                try:
                    data = base64.b64decode(inline["data"], validate=True)
                except (binascii.Error, ValueError):
                    raise TransientError("the Gemini API sent image data that is not base64") from None
                try:
                    images.inspect(data)
                except images.BadImage as exc:
                    raise TransientError(f"the Gemini API sent an unusable image: {exc}") from None
                return data
        reason = first.get("finishReason")
        if reason in BLOCKED:
            raise ContentPolicyError(f"output withheld ({reason})")
        raise TransientError(f"the Gemini API answered without an image (finishReason {reason})")


def _payload(resp: httpx.Response) -> dict:
    """The answer's JSON, or the error it stands for."""
    try:
        payload = resp.json()
    except ValueError:
        payload = None
    if resp.status_code != 200 or not isinstance(payload, dict) or "error" in payload:
        raise _error(resp, payload)
    return payload


def _error(resp: httpx.Response, payload) -> ProviderError:
    """The {"error": {code, status, message, details}} shape, as our error types."""
    err = payload.get("error") if isinstance(payload, dict) else None
    err = err if isinstance(err, dict) else {}
    status, message = resp.status_code, str(err.get("message") or "")[:300]
    kind = str(err.get("status") or "")
    text = f"HTTP {status}{' ' + kind if kind else ''}{': ' + message if message else ''}"
    if status == 403 or kind == "PERMISSION_DENIED" or (status == 400 and "api key" in message.lower()):
        return AuthError(f"the Gemini API refused the key ({text})")
    if status == 429 or kind == "RESOURCE_EXHAUSTED":
        if "billing" in message.lower() or "credit" in message.lower():
            return CreditsError(f"the Gemini account cannot pay ({text})")
        return RateLimited(f"rate limited ({text})", _retry_delay(err) or parse_retry_after(resp.headers.get("retry-after")))
    if status >= 500:
        return TransientError(f"the Gemini API failed ({text})")
    if payload is None:
        return TransientError(f"the Gemini API answered HTTP {status} with a body that is not JSON")
    return ProviderError(f"the Gemini API refused the request ({text})")


def _retry_delay(err: dict) -> float | None:
    """google.rpc.RetryInfo's retryDelay ("20s", "1.5s"), honoured like Retry-After."""
    for detail in err.get("details") or []:
        if isinstance(detail, dict) and str(detail.get("@type", "")).endswith("google.rpc.RetryInfo"):
            delay = str(detail.get("retryDelay", "")).rstrip("s")
            try:
                return max(0.0, float(delay))
            except ValueError:
                return None
    return None
