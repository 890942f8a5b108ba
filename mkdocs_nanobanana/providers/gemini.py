"""The official Gemini API: POST {api_base}/models/{model}:generateContent.

One image per call, so ``num`` candidates are ``num`` calls, run at once within the
provider's ``concurrency``; each call is retried on its own, so one failure never pays
again for the others. The key goes in the ``x-goog-api-key`` header, never in the URL.
"""

from __future__ import annotations

import base64
import binascii
import math
import re
import textwrap
from concurrent.futures import ThreadPoolExecutor, wait
from dataclasses import replace

import httpx

from ..core import image_bytes
from ..core.settings import Timeouts
from .base import (
    STOPS_EVERY_CALL,
    AccountError,
    AuthError,
    ContentPolicyError,
    CreditsError,
    ImageOrder,
    PaidInPart,
    ProviderError,
    RateLimited,
    RefImage,
    RetryOnce,
    RetryPolicy,
    StopSignal,
    TransientError,
    parse_retry_after,
)
from .http import HttpProvider

__all__: list[str] = []

# finishReason, as google-genai's types.py documents it (googleapis/python-genai,
# google/genai/types.py, class FinishReason):
#: the output was withheld for what it shows: a refusal, not retried, the reason named.
BLOCKED = {
    "SAFETY", "IMAGE_SAFETY", "PROHIBITED_CONTENT", "IMAGE_PROHIBITED_CONTENT", "BLOCKLIST", "SPII",
    "RECITATION", "IMAGE_RECITATION",
}
#: "expected to generate an image, but none was generated" (NO_IMAGE), "stopped for a
#: reason not otherwise specified" (IMAGE_OTHER, OTHER): no verdict on the prompt, so one
#: more try, then a failed generation, never "rephrase your prompt".
NO_VERDICT = {"NO_IMAGE", "IMAGE_OTHER", "OTHER"}

#: What the API takes as inline image data (ai.google.dev/gemini-api/docs/image-understanding,
#: "Supported image formats"). Any other reference is sent as PNG.
ACCEPTED_MIME = {"image/png", "image/jpeg", "image/webp", "image/heic", "image/heif"}

#: Server statuses worth another try: google-genai retries exactly these, when retries are
#: asked for (google/genai/_api_client.py, _RETRY_HTTP_STATUS_CODES = 408, 429, 500, 502,
#: 503, 504; with retry_options=None, its default, it retries nothing).
TRANSIENT_STATUS = {408, 500, 502, 503, 504}

#: How much of a text-only answer a failure message quotes.
SAID_CHARS = 160


class GeminiProvider(HttpProvider):
    name = "gemini"
    service = "the Gemini API"

    def __init__(self, client: httpx.Client, api_base: str, api_key: str, timeouts: Timeouts,
                 concurrency: int = 4) -> None:
        super().__init__(client, api_base, api_key, timeouts, concurrency)
        self._fan_out = ThreadPoolExecutor(concurrency, thread_name_prefix="nanobanana-gemini")

    def close(self) -> None:
        self._fan_out.shutdown(wait=False, cancel_futures=True)
        super().close()

    def auth_headers(self) -> dict[str, str]:
        return {"x-goog-api-key": self._key}

    def headers(self, images: int) -> dict[str, str]:
        """The key, and the answer's deadline as X-Server-Timeout (whole seconds), so that
        the server stops working on a request when the build stops waiting for it, as
        google-genai does (google/genai/_api_client.py, populate_server_timeout_header:
        ``str(math.ceil(timeout_in_seconds))``, sent whenever a timeout is set)."""
        return {**self.auth_headers(), "X-Server-Timeout": str(math.ceil(self.timeouts.answer_for(images)))}

    def body(self, job: ImageOrder) -> dict:
        parts: list[dict] = [{"text": job.request.prompt}]
        for ref in job.refs:
            parts.append({"inline_data": {"mime_type": ref.mime, "data": ref.base64_data}})
        return {
            "contents": [{"parts": parts}],
            "generationConfig": {"responseModalities": ["IMAGE"], "imageConfig": {"aspectRatio": job.request.ratio}},
        }

    def generate(self, job: ImageOrder, retry: RetryPolicy) -> list[bytes]:
        """``job.count`` calls at once. Every call is waited for: when one fails for good,
        the images the others brought are paid for, so they ride on the error
        (PaidInPart) for the Buyer to keep."""
        job = replace(job, refs=tuple(_accepted(ref) for ref in job.refs))  # once, not per call
        if job.count == 1:
            return [self._attempt(job, retry)]
        calls = [self._fan_out.submit(self._attempt, job, retry) for _ in range(job.count)]
        wait(calls)
        got = [c.result() for c in calls if c.exception() is None]
        failures = [exc for c in calls if (exc := c.exception()) is not None]
        if failures:
            # an account-level stop says more than the calls it cut short
            failure = next((f for f in failures if isinstance(f, STOPS_EVERY_CALL)), failures[0])
            if got and isinstance(failure, ProviderError):
                raise PaidInPart(failure, tuple(got))
            raise failure
        return got

    def _attempt(self, job: ImageOrder, retry: RetryPolicy) -> bytes:
        """One image, its call retried on its own, so a failure never pays again for a
        call that succeeded."""
        return retry.run(lambda: self._call(job, retry.stop))

    def _call(self, job: ImageOrder, stop: StopSignal | None) -> bytes:
        model = job.request.model
        url = f"{self.api_base}/models/{model}:generateContent"
        return self._image(self.ask(url, self.body(job), stop, lambda resp: _payload(resp, model)))

    def _image(self, payload: dict) -> bytes:
        """The image of a 200 answer. That answer was billed, so one that is unusable is
        tried once more only (RetryOnce), as NanoBanana's broken 200s are."""
        feedback = payload.get("promptFeedback") or {}
        if feedback.get("blockReason"):
            raise ContentPolicyError(f"prompt blocked ({feedback['blockReason']})")
        candidates = payload.get("candidates") or []
        if not candidates:
            raise RetryOnce("the Gemini API answered without a candidate")
        first = candidates[0]
        for part in ((first.get("content") or {}).get("parts") or []):
            if part.get("thought") is True:
                # a thinking model's interim draft; the final image comes after it
                # (ai.google.dev/gemini-api/docs/image-generation, "Thinking process";
                # the SDK's own response.text skips thought parts the same way)
                continue
            inline = part.get("inlineData") or part.get("inline_data")
            if inline and inline.get("data"):
                try:
                    data = base64.b64decode(inline["data"], validate=True)
                except (binascii.Error, ValueError):
                    raise RetryOnce("the Gemini API sent image data that is not base64") from None
                try:
                    image_bytes.inspect(data)
                except image_bytes.BadImage as exc:
                    raise RetryOnce(f"the Gemini API sent an unusable image: {exc}") from None
                return data
        reason = first.get("finishReason")
        if reason in BLOCKED:
            raise ContentPolicyError(f"output withheld ({reason})")
        # NO_IMAGE/OTHER, or text alone: the call may have been billed, so one more try only
        said = self._said(first)
        if said:
            raise RetryOnce(f"the Gemini API answered with text and no image (finishReason {reason}): {said}")
        raise RetryOnce(f"the Gemini API answered without an image (finishReason {reason})")

    def _said(self, candidate: dict) -> str:
        """What the model wrote instead of an image, quoted: on one line, without control
        characters or the key, at most SAID_CHARS. It may be a refusal in words, which
        comes with finishReason STOP (docs.cloud.google.com/vertex-ai/generative-ai/docs/
        multimodal/gemini-image-generation-limitations), so the user must see it."""
        parts = (candidate.get("content") or {}).get("parts") or []
        texts = [str(p["text"]) for p in parts
                 if isinstance(p, dict) and p.get("text") and p.get("thought") is not True]
        text = " ".join("".join(c if c.isprintable() else " " for c in self.scrub(" ".join(texts))).split())
        return repr(textwrap.shorten(text, SAID_CHARS, placeholder="...")) if text else ""


def _accepted(ref: RefImage) -> RefImage:
    """``ref`` as the API takes it: a GIF or AVIF becomes a PNG (its first frame). The
    request's key stays the hash of the user's file: only what is sent changes."""
    if ref.mime in ACCEPTED_MIME:
        return ref
    return RefImage(image_bytes.to_png(ref.data), "image/png")


def _payload(resp: httpx.Response, model: str) -> dict:
    """The answer's JSON, or the error it stands for."""
    try:
        payload = resp.json()
    except ValueError:
        payload = None
    if resp.status_code != 200 or not isinstance(payload, dict) or "error" in payload:
        raise _error(resp, payload, model)
    return payload


def _error(resp: httpx.Response, payload, model: str) -> ProviderError:
    """The {"error": {code, status, message, details}} shape, as our error types (the
    table of ai.google.dev/gemini-api/docs/troubleshooting, "Gemini API backend service
    error codes")."""
    err = payload.get("error") if isinstance(payload, dict) else None
    err = err if isinstance(err, dict) else {}
    full = str(err.get("message") or "")  # "limit: 0" and "retry in" may come late in it
    status, message = resp.status_code, full[:300]
    kind = str(err.get("status") or "")
    text = f"HTTP {status}{' ' + kind if kind else ''}{': ' + message if message else ''}"
    if status == 403 or kind == "PERMISSION_DENIED" or (status == 400 and "api key" in message.lower()):
        return AuthError(f"the Gemini API refused the key ({text})")
    account = _account_error(status, kind, text, model)
    if account is not None:
        return account
    if status == 429 or kind == "RESOURCE_EXHAUSTED":
        exhausted = _exhausted(err, full)
        if exhausted:
            return CreditsError(f"the Gemini API takes no more calls from this key: {exhausted} ({text})")
        delay = _retry_delay(err)
        delay = delay if delay is not None else _retry_in(full)
        if delay is None:
            delay = parse_retry_after(resp.headers.get("retry-after"))
        return RateLimited(f"rate limited ({text})", delay)
    if status in TRANSIENT_STATUS or status >= 500:
        after = parse_retry_after(resp.headers.get("retry-after")) if status == 503 else None
        return TransientError(f"the Gemini API failed ({text})", after)
    if payload is None:  # a 2xx whose body is broken may have been billed: one more try only
        kind_of = RetryOnce if 200 <= status < 300 else TransientError
        return kind_of(f"the Gemini API answered HTTP {status} with a body that is not JSON")
    return ProviderError(f"the Gemini API refused the request ({text})")


def _account_error(status: int, kind: str, text: str, model: str) -> ProviderError | None:
    """An answer that every call of this build would get, so the first stops them all:

    - 402 (RESOURCE_EXHAUSTED): prepaid credits are used up, whatever the message says.
      Google's current form ("Depleted prepay credits now return HTTP 402 instead of
      429", discuss.ai.google.dev/t/183654; ai.google.dev/gemini-api/docs/generate-content/
      api-errors lists 402 RESOURCE_EXHAUSTED, "do not retry").
    - 400 FAILED_PRECONDITION: "Gemini API free tier is not available in your country.
      Please enable billing on your project in Google AI Studio." (troubleshooting table).
    - 404 NOT_FOUND: the model (our requests name no other resource: references go inline).
    """
    if status == 402:
        return CreditsError(f"the Gemini API takes no more calls from this key: the account's prepaid credits "
                            f"are used up ({text})")
    if kind == "FAILED_PRECONDITION":
        return AccountError(f"the Gemini API serves no call of this project ({text}): enable billing on the "
                            "project in Google AI Studio (the free tier is not offered in every country)")
    if status == 404 or kind == "NOT_FOUND":
        return AccountError(f"the Gemini API has no model '{model}' ({text}): check the model's id (model: in the "
                            "directive, models: in mkdocs.yml) and api_base")
    return None


def _exhausted(err: dict, message: str) -> str | None:
    """Why a 429 will not clear by waiting, or None for a rate limit.

    Every Gemini quota 429 says "check your plan and billing details", per-minute ones
    too (they carry RetryInfo, e.g. 26s), so those words prove nothing. What does: a
    QuotaFailure on a per-day quota (quotaId "GenerateRequestsPerDayPerProjectPerModel-
    FreeTier"), "limit: 0" (the model has no quota on this tier), or prepaid credits
    used up ("Your prepayment credits are depleted. ..."). Shapes as reported in
    googleapis/python-genai#2044, RooCodeInc/Roo-Code#3883, continuedev/continue#12744
    and dyad-sh/dyad#3626.
    """
    lowered = message.lower()
    if "credits are depleted" in lowered or "prepayment credits" in lowered:
        return "the account's prepaid credits are used up"
    if re.search(r"\blimit: 0\b", lowered):
        return "this model has no quota on the key's plan (limit: 0)"
    for detail in err.get("details") or []:
        if isinstance(detail, dict) and str(detail.get("@type", "")).endswith("google.rpc.QuotaFailure"):
            for violation in detail.get("violations") or []:
                quota = str(violation.get("quotaId", "")) if isinstance(violation, dict) else ""
                if "PerDay" in quota:
                    return f"the daily quota {quota} is used up"
    return None


def _retry_in(message: str) -> float | None:
    """The "Please retry in 26.5s." of a 429 that came without RetryInfo."""
    found = re.search(r"retry in (\d+(?:\.\d+)?)\s*s", message, re.IGNORECASE)
    return float(found.group(1)) if found else None


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
