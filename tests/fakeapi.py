"""A real HTTP server on 127.0.0.1 that speaks the NanoBanana API, for tests and benchmarks,
and for trying live generation without a key (README and docs/getting-started.md, "Try live generation
without a key"):

    eval "$(python -m tests.fakeapi --background)"   # from the repository root

    with FakeAPI(latency=0.2) as api:
        api.faults.append("429")          # the next generate request gets a 429
        ... build with api_base=api.base ...
        assert len(api.generate_requests) == 3

Images are real PNGs of the catalog size for the requested ratio, served from /files/.
Every request (method, path, headers, body) is recorded.
"""

from __future__ import annotations

import base64
import functools
import io
import json
import random
import shlex
import socket
import struct
import sys
import threading
import time
import zlib
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from PIL import Image

from mkdocs_nanobanana.core.catalog import FLASH_IMAGE_SIZES, GEMINI_FLASH_IMAGE_SIZES


@dataclass
class Recorded:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    at: float = field(default_factory=time.monotonic)  # when the request arrived

    def json(self):
        return json.loads(self.body)


@functools.lru_cache(maxsize=64)
def _base_png(size: tuple[int, int], photo: bool) -> bytes:
    base = Image.linear_gradient("L").resize(size)
    img = Image.merge("RGB", (base, base.transpose(Image.Transpose.FLIP_LEFT_RIGHT), base.rotate(90).resize(size)))
    if photo:  # noise makes it weigh what a photo does (~1-2 MB) and cost what one costs to decode
        img = Image.blend(img, Image.effect_noise(size, 40).convert("RGB"), 0.35)
    buf = io.BytesIO()
    img.save(buf, "PNG", compress_level=1)
    return buf.getvalue()


def image_png(size: tuple[int, int], seed: int, photo: bool = False) -> bytes:
    """A real PNG of ``size``, with bytes unique to ``seed``.

    The pixels are rendered once per size (the server's cost should not be counted as the
    client's); a tEXt chunk after the header makes each image's bytes, and so its hash,
    its own.
    """
    png = _base_png(size, photo)
    data = b"seed\x00" + str(seed).encode()
    chunk = struct.pack(">I", len(data)) + b"tEXt" + data + struct.pack(">I", zlib.crc32(b"tEXt" + data))
    return png[:33] + chunk + png[33:]  # 33 = signature (8) + IHDR chunk (25)


def _render_ahead(body: bytes, gemini: bool, photo: bool) -> None:
    """Render the pixels of the request's size now, if this process has not yet: a
    photo-like size takes ~0.2 s, which would otherwise land after the latency, on the
    client's clock, once per size."""
    try:
        req = json.loads(body)
        ratio = req["generationConfig"]["imageConfig"]["aspectRatio"] if gemini else req.get("image_size", "1:1")
        _base_png((GEMINI_FLASH_IMAGE_SIZES if gemini else FLASH_IMAGE_SIZES)[ratio], photo)
    except (ValueError, KeyError, TypeError, AttributeError):
        pass  # a malformed request: the route answers it as before


def _prompt_of(body: bytes) -> str | None:
    """The prompt of a NanoBanana-shaped or Gemini-shaped request body."""
    try:
        req = json.loads(body)
        return req.get("prompt") or req["contents"][0]["parts"][0]["text"]
    except (ValueError, KeyError, IndexError, TypeError, AttributeError):
        return None


# Google's 429s, as the API sends them (google.rpc.Status with QuotaFailure, Help and
# RetryInfo details): per-minute and per-day shapes as quoted in googleapis/python-genai#2044
# and RooCodeInc/Roo-Code#3883, "limit: 0" with "Please retry in" and no RetryInfo in
# continuedev/continue#12744, depleted prepaid credits in dyad-sh/dyad#3626.
_QUOTA_MESSAGE = ("You exceeded your current quota, please check your plan and billing details. For more "
                  "information on this error, head to: https://ai.google.dev/gemini-api/docs/rate-limits.")
_QUOTA_IDS = {"g429": "GenerateRequestsPerMinutePerProjectPerModel-FreeTier",
              "gquota-minute": "GenerateRequestsPerMinutePerProjectPerModel-FreeTier",
              "gquota-day": "GenerateRequestsPerDayPerProjectPerModel-FreeTier"}


def _quota_429(name: str, delay: str) -> tuple[int, str, list]:
    """(status, message, details) of the 429 named ``name``; ``delay`` seconds to wait."""
    help_link = {"@type": "type.googleapis.com/google.rpc.Help",
                 "links": [{"description": "Learn more about Gemini API quotas", "url": "https://ai.google.dev/gemini-api/docs/rate-limits"}]}
    retry = {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": f"{delay}s"}
    metric = "generativelanguage.googleapis.com/generate_content_free_tier_requests"
    if name in _QUOTA_IDS:
        failure = {"@type": "type.googleapis.com/google.rpc.QuotaFailure", "violations": [{
            "quotaMetric": metric, "quotaId": _QUOTA_IDS[name],
            "quotaDimensions": {"location": "global", "model": "gemini-2.5-flash-image"}, "quotaValue": "10"}]}
        return 429, _QUOTA_MESSAGE, [failure, help_link, retry]
    if name in ("gquota-retryin", "gquota-limit0"):
        limit = "0" if name == "gquota-limit0" else "10"
        message = (f"{_QUOTA_MESSAGE} To monitor your current usage, head to: https://ai.dev/rate-limit. \n"
                   f"* Quota exceeded for metric: {metric}, limit: {limit}, model: gemini-2.5-flash-image\n"
                   f"Please retry in {delay}s.")
        return 429, message, [help_link]
    if name == "gquota-depleted":
        return 429, ("Your prepayment credits are depleted. Please go to AI Studio at https://ai.studio/projects "
                     "to manage your project and billing."), []
    raise ValueError(f"unknown quota fault {name}")


#: How a success may be spelled. The vendor's own examples read only `result["data"]["url"]`
#: and never look at `code`; public clients of the API see `code: 0`, sometimes with
#: `message: "ok"` or `msg`, and some accept an answer with no `code` at all (the API
#: notes, ../shared/nanobanana-api.md, "Checked again against public sources"): the
#: client must take every one of them as the images they carry.
_SUCCESS_CODES = {"ok-nocode": {}, "ok-code-str": {"code": "0"}, "ok-code-200": {"code": 200, "msg": "success"}}


def _success(fault, url) -> dict:
    """The body of a successful generate answer, spelled as ``fault`` asks (default code 0)."""
    head = _SUCCESS_CODES.get(fault, {"code": 0}) if isinstance(fault, str) else {"code": 0}
    return {**head, "data": {"url": url}}


class _QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        # A client that gave up (a timeout, a killed build) is a case under test, not news.
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


@dataclass
class FakeAPI:
    latency: float = 0.0
    jitter: float = 0.0
    photo: bool = False
    host: str = "127.0.0.1"
    faults: deque = field(default_factory=deque)
    # prompt -> fault, for the request of that prompt whenever it comes: with several
    # requests in flight (or waiting for a slot) the queue above has no fixed order
    faults_for: dict = field(default_factory=dict)
    requests: list[Recorded] = field(default_factory=list)
    bind_port: int = 0  # 0: any free port
    log: object = None  # a text stream that gets one line per request (python -m tests.fakeapi)

    def __post_init__(self):
        self.files: dict[str, bytes] = {}
        # files whose next GET fails with 503 once. Object stores that serve generated
        # images answer an occasional 503 "Slow Down" / 500 "InternalError" to a GET and
        # document that the client retries the same request (AWS S3 error responses and
        # "Retry requests" in its developer guide; Google Cloud Storage "Retry strategy"
        # lists 408, 429 and 5xx as retryable for GETs).
        self.fail_once: set[str] = set()
        # files whose every GET fails with 503 (the same object-store answer, for a file
        # that stays unavailable longer than the client's retries last)
        self.fail_always: set[str] = set()
        self.thoughts: list[bytes] = []  # interim "thought" images the Gemini route sent
        self.in_flight = 0
        self.max_in_flight = 0
        self._lock = threading.Lock()
        self._log_lock = threading.Lock()
        self._counter = 0
        self._rand = random.Random(1)
        self.server = _QuietServer((self.host, self.bind_port), _Handler)
        self.server.api = self  # type: ignore[attr-defined]
        self.port = self.server.server_address[1]
        self._thread: threading.Thread | None = None

    # -- lifecycle ---------------------------------------------------------------------

    @property
    def origin(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def base(self) -> str:
        return f"{self.origin}/v1"

    def __enter__(self) -> FakeAPI:
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()

    # -- views -------------------------------------------------------------------------

    @property
    def generate_requests(self) -> list[Recorded]:
        return [r for r in self.requests if r.method == "POST" and r.path.endswith("/images/generate")]

    @property
    def edit_requests(self) -> list[Recorded]:
        return [r for r in self.requests if r.method == "POST" and r.path.endswith("/images/edit")]

    @property
    def gemini_requests(self) -> list[Recorded]:
        return [r for r in self.requests if r.method == "POST" and r.path.endswith(":generateContent")]

    @property
    def downloads(self) -> list[Recorded]:
        return [r for r in self.requests if r.method == "GET"]

    def add_file(self, data: bytes, ext: str = "png") -> str:
        with self._lock:
            self._counter += 1
            name = f"f{self._counter}.{ext}"
        self.files[name] = data
        return f"{self.origin}/files/{name}"


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # TCP_NODELAY (socketserver.StreamRequestHandler.disable_nagle_algorithm, Python docs).
    # http.server writes an answer's headers and its body in two sends; with Nagle's
    # algorithm (RFC 896) the body then waits for the client's delayed ACK (RFC 1122
    # 4.2.3.2: up to 500 ms, 40 ms on Linux) before it leaves. Measured on 127.0.0.1:
    # every small answer (a POST's JSON, an error) arrived 40-43 ms after its headers, a
    # delay that is this server's, not the API's, whose answers' time is its latency.
    # httpx (httpcore) sets TCP_NODELAY on its own side for the same reason.
    disable_nagle_algorithm = True

    def log_message(self, *args) -> None:  # keep test output clean
        pass

    @property
    def api(self) -> FakeAPI:
        return self.server.api  # type: ignore[attr-defined]

    def _record(self, body: bytes) -> None:
        self.api.requests.append(Recorded(self.command, self.path, {k.lower(): v for k, v in self.headers.items()},
                                          body))
        if self.api.log is not None:
            line = f"{time.strftime('%H:%M:%S')} {self.command} {self.path}\n"
            with self.api._log_lock:  # one whole line per request, whichever handler thread writes it
                self.api.log.write(line)
                self.api.log.flush()

    def _send(self, status: int, body: bytes, ctype: str = "application/json", headers: dict | None = None) -> None:
        self._landed()  # from here the client may have its answer, and send the next request
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)

    def _json(self, status: int, obj, headers: dict | None = None) -> None:
        self._send(status, json.dumps(obj).encode(), headers=headers)

    # -- routes ------------------------------------------------------------------------

    def do_GET(self) -> None:
        self._record(b"")
        api = self.api
        if self.path.startswith("/files/"):
            name = self.path[len("/files/"):]
            data = api.files.get(name)
            if name in api.fail_once or name in api.fail_always:
                api.fail_once.discard(name)
                self._send(503, b"<Error><Code>SlowDown</Code><Message>Please reduce your request rate."
                                b"</Message></Error>", "application/xml")
                return
            if data is None:
                self._json(404, {"error": "no such file"})
                return
            ctype = "text/html" if self.path.endswith(".html") else "image/png"
            self._send(200, data, ctype)
        elif self.path.startswith("/loop/"):
            n = int(self.path.rsplit("/", 1)[1])
            self._send(302, b"", headers={"Location": f"/loop/{n + 1}"})
        elif self.path.startswith("/redirect-to/"):
            self._send(302, b"", headers={"Location": self.path[len("/redirect-to/"):].replace("~", "/")})
        else:
            self._json(404, {"error": "not found"})

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length)
        self._record(body)
        api = self.api
        gemini = self.path.endswith(":generateContent")
        # /images/edit: the route public clients of the NanoBanana API use for image edits,
        # with the source in `image` (issue 17's audit; the vendor page names only
        # /images/generate). It answers as generate does.
        if not (self.path.endswith(("/images/generate", "/images/edit")) or gemini):
            self._json(404, {"code": 404, "message": "not found"})
            return
        with api._lock:
            api.in_flight += 1
            api.max_in_flight = max(api.max_in_flight, api.in_flight)
            fault = api.faults_for.pop(_prompt_of(body), None) if api.faults_for else None
            if fault is None:
                fault = api.faults.popleft() if api.faults else None
        self._counted = True
        try:
            delay = api.latency + (api._rand.uniform(-api.jitter, api.jitter) if api.jitter else 0.0)
            started = time.monotonic()
            if delay > 0:
                _render_ahead(body, gemini, api.photo)  # within the latency, as a real server's work is
                time.sleep(max(0.0, delay - (time.monotonic() - started)))
            (self._gemini if gemini else self._generate)(body, fault)
        finally:
            self._landed()  # a fault that sent no answer (a reset, a dripped body)

    def _landed(self) -> None:
        """This POST stops counting as in flight: its answer is on its way. Counting until
        the handler returns would count a request the client already has the answer to,
        and see one more in flight than the client ever sends."""
        if getattr(self, "_counted", False):
            self._counted = False
            with self.api._lock:
                self.api.in_flight -= 1

    def _generate(self, body: bytes, fault) -> None:
        api = self.api
        if callable(fault):
            fault(self)
            return
        if fault is not None and self._fault(fault):
            return
        try:
            req = json.loads(body)
            size = FLASH_IMAGE_SIZES[req.get("image_size", "1:1")]
            num = int(req.get("num", 1))
        except (ValueError, KeyError, TypeError) as exc:
            self._json(400, {"code": 400, "message": f"bad request: {exc}"})
            return
        if isinstance(fault, str) and fault.startswith("fewer:"):
            # An answer with fewer URLs than `num`. No public document shows one: the vendor
            # page and public clients only say `data.url` is a string or a list, and nothing
            # promises the list's length (see the API notes); this is issue 17's item 8,
            # kept so the provider never re-pays a whole batch for a short answer.
            num = min(num, int(fault[6:]))
        urls = []
        for i in range(num):
            with api._lock:
                api._counter += 1
                seed = api._counter
            data = image_png(size, seed=seed, photo=api.photo)
            if fault == "truncated":
                data = data[: len(data) // 2]
            elif fault == "zero_byte":
                data = b""
            elif fault == "html":
                urls.append(api.add_file(b"<html><body>Not an image</body></html>", "html"))
                continue
            urls.append(api.add_file(data))
            if fault == "get503once":
                api.fail_once.add(urls[-1].rsplit("/", 1)[1])
            elif isinstance(fault, str) and fault == f"get503always:{i + 1}":  # only the i-th file
                api.fail_always.add(urls[-1].rsplit("/", 1)[1])
        self._json(200, _success(fault, urls[0] if len(urls) == 1 else urls))

    def _gemini(self, body: bytes, fault) -> None:
        """The official API's shape: one image per call, inline base64."""
        api = self.api
        if callable(fault):
            fault(self)
            return
        if fault is not None and self._gemini_fault(fault):
            return
        try:
            req = json.loads(body)
            # Google's ten ratios for gemini-2.5-flash-image, 21:9 among them
            # (ai.google.dev/gemini-api/docs/image-generation, "Aspect ratios")
            size = GEMINI_FLASH_IMAGE_SIZES[req["generationConfig"]["imageConfig"]["aspectRatio"]]
        except (ValueError, KeyError, TypeError) as exc:
            self._json(400, {"error": {"code": 400, "status": "INVALID_ARGUMENT", "message": f"bad request: {exc}"}})
            return
        with api._lock:
            api._counter += 1
            seed = api._counter
        data = image_png(size, seed=seed, photo=api.photo)
        self._json(200, {"candidates": [{"content": {"parts": [
            {"inlineData": {"mimeType": "image/png", "data": base64.b64encode(data).decode()}}]},
            "finishReason": "STOP"}]})

    def _gemini_image(self, size) -> bytes:
        with self.api._lock:
            self.api._counter += 1
            seed = self.api._counter
        return image_png(size, seed=seed, photo=self.api.photo)

    def _gemini_thought(self) -> None:
        """A thinking image model's answer: an interim draft marked "thought": true, then
        the final image (ai.google.dev/gemini-api/docs/image-generation, "Thinking
        process": up to two interim images, the last one is the final rendering)."""
        draft, final = self._gemini_image(FLASH_IMAGE_SIZES["1:1"]), self._gemini_image(FLASH_IMAGE_SIZES["1:1"])
        self.api.thoughts.append(draft)
        self._json(200, {"candidates": [{"content": {"parts": [
            {"text": "Drafting the composition.", "thought": True},
            {"inlineData": {"mimeType": "image/png", "data": base64.b64encode(draft).decode()}, "thought": True},
            {"inlineData": {"mimeType": "image/png", "data": base64.b64encode(final).decode()}}]},
            "finishReason": "STOP"}]})

    def _gemini_fault(self, fault: str) -> bool:
        def error(status: int, kind: str, message: str, details=()):
            self._json(status,
                       {"error": {"code": status, "status": kind, "message": message, "details": list(details)}})

        if fault == "gecho-key":  # the request's key sent back (see _echo_key for who does)
            error(400, "INVALID_ARGUMENT", f"API key not valid: {self._sent_key()}. Please pass a valid API key.")
        elif fault.startswith(("g429", "gquota-")):
            name, _, delay = fault.partition(":")
            status, message, details = _quota_429(name, delay or "0")
            error(status, "RESOURCE_EXHAUSTED", message, details)
        elif fault == "g408":
            # A timeout answered by Google's front end or a proxy on the way. google-genai
            # retries 408 by status alone, whatever the body (_api_client.py,
            # _RETRY_HTTP_STATUS_CODES); the usual error JSON here makes the status decide.
            error(408, "DEADLINE_EXCEEDED", "Request timed out.")
        elif fault == "gthought":
            self._gemini_thought()
        elif fault in ("g500", "g503", "g504"):
            error(int(fault[1:]), {"g500": "INTERNAL", "g503": "UNAVAILABLE", "g504": "DEADLINE_EXCEEDED"}[fault],
                  "try again")
        elif fault == "gkey":
            error(400, "INVALID_ARGUMENT", "API key not valid. Please pass a valid API key.")
        elif fault in ("g402", "g402-bare"):
            # Depleted prepaid credits, Google's current form: "Requests failing because a
            # project's prepayment credits are depleted will now return HTTP 402 Payment
            # Required instead of HTTP 429" (discuss.ai.google.dev/t/183654, with this body;
            # ai.google.dev/gemini-api/docs/generate-content/api-errors: 402 RESOURCE_EXHAUSTED).
            # g402-bare: the same status with other words, which must not matter.
            depleted = ("Your prepayment credits are depleted. Please go to AI Studio at https://ai.studio/projects "
                        "to manage your project and billing. Learn more at "
                        "https://ai.google.dev/gemini-api/docs/billing#prepay.")
            message = depleted if fault == "g402" else "Payment required."
            error(402, "RESOURCE_EXHAUSTED", message)
        elif fault == "gprecondition":
            # ai.google.dev/gemini-api/docs/troubleshooting: 400 FAILED_PRECONDITION, "Gemini
            # API free tier is not available in your country. Please enable billing on your
            # project in Google AI Studio."; the message as the API words it, quoted in public
            # reports: "User location is not supported for the API use without a billing
            # account linked."
            error(400, "FAILED_PRECONDITION", "User location is not supported for the API use without a billing "
                                              "account linked.")
        elif fault == "g404":
            # A model the API does not know, as quoted in google/adk-python#200:
            # {'code': 404, 'message': 'models/... is not found for API version v1beta, or is
            # not supported for generateContent. Call ListModels ...', 'status': 'NOT_FOUND'}
            model = self.path.rsplit("/", 1)[-1].split(":", 1)[0]
            error(404, "NOT_FOUND", f"models/{model} is not found for API version v1beta, or is not supported for "
                                    "generateContent. Call ListModels to see the list of available models and their "
                                    "supported methods.")
        elif fault == "g403":
            error(403, "PERMISSION_DENIED", "Permission denied.")
        elif fault.startswith("gblock:"):
            self._json(200, {"candidates": [{"content": {"parts": []}, "finishReason": fault[7:]}]})
        elif fault.startswith("gprompt:"):
            self._json(200, {"promptFeedback": {"blockReason": fault[8:]}})
        elif fault == "gtext" or fault.startswith("gtext:"):
            # A text part and no image, finishReason STOP: what the model does when it answers
            # in words (docs.cloud.google.com/vertex-ai/generative-ai/docs/multimodal/
            # gemini-image-generation-limitations: an ambiguous prompt may get "only text and
            # no image"; a potentially unsafe one a response "indicating that it can't create
            # unsafe images. In this case, the FinishReason is STOP").
            said = fault[6:] or "Here is a description instead."
            self._json(200, {"candidates": [{"content": {"parts": [{"text": said}]}, "finishReason": "STOP"}]})
        elif fault == "gbadimage":
            self._json(200, {"candidates": [{"content": {"parts": [
                {"inlineData": {"mimeType": "image/png", "data": base64.b64encode(b"not a png").decode()}}]}}]})
        else:
            return False
        return True

    def _sent_key(self) -> str:
        """The key this request carried (NanoBanana's bearer token, Gemini's header)."""
        auth = self.headers.get("Authorization", "")
        return auth.removeprefix("Bearer ").strip() or self.headers.get("x-goog-api-key", "")

    def _echo_key(self, where: str) -> None:
        """An answer that sends the request's own key back in ``where``. Servers do:
        Dataverse returned the API key in its error bodies (IQSS/dataverse#4954),
        chocolatey.org's "The API key 'secret' is invalid" (chocolatey/chocolatey.org#560),
        unstructured-api's 401 detail interpolated the submitted key (Unstructured-IO/
        unstructured-api#578); and URLs that carry a key get printed with it
        (tidbyt/community#2618). Each field a client might quote is one fault here."""
        key, origin = self._sent_key(), self.api.origin
        if where == "message":
            self._json(500, {"code": 500, "message": f"upstream error for key {key}"})
        elif where == "policy":
            self._json(400, {"code": 400, "message": f"content policy violation (key {key})"})
        elif where == "url":  # not http(s): quoted in the warning as the API gave it
            self._json(200, {"code": 0, "data": {"url": f"ftp://files.example/{key}.png"}})
        elif where == "file-url":  # a real URL with the key in its path and query: a 404
            self._json(200, {"code": 0, "data": {"url": f"{origin}/files/{key}.png?key={key}"}})
        elif where == "redirect":  # the download is redirected to a Location that holds it
            self._json(200, {"code": 0, "data": {"url": f"{origin}/redirect-to/~files~{key}.png"}})
        elif where == "header":  # in the headers of a 429 (httpcore logs them at DEBUG)
            self._json(429, {"code": 429, "message": "rate limited"}, {"Retry-After": key, "X-Echo-Key": key})
        elif where == "code":  # in a 200's code and message
            self._json(200, {"code": key, "msg": f"failed: {key}"})
        else:
            raise ValueError(f"unknown echo field {where}")

    def _fault(self, fault: str) -> bool:
        """Answer with a scripted fault; False for faults that act on the image instead."""
        if fault.startswith("echo-key:"):
            self._echo_key(fault[9:])
        elif fault == "429":
            self._json(429, {"code": 429, "message": "rate limited"}, {"Retry-After": "0"})
        elif fault == "429-no-header":
            self._json(429, {"code": 429, "message": "rate limited"})
        elif fault.startswith("drip:"):  # headers at once, then one byte every <interval> s
            interval = float(fault[5:])
            body = b'{"code": 0, "data": {"url": []}}'
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            try:
                for byte in body:
                    self.wfile.write(bytes([byte]))
                    self.wfile.flush()
                    time.sleep(interval)
            except OSError:
                pass  # the client gave up, as it should
        elif fault.startswith("429:"):
            self._json(429, {"code": 429, "message": "rate limited"}, {"Retry-After": fault[4:]})
        elif fault in ("500", "502", "503"):
            self._json(int(fault), {"code": int(fault), "message": "upstream error"})
        elif fault in ("401", "403"):
            self._json(int(fault), {"code": int(fault), "message": "invalid api key"})
        elif fault == "402":
            self._json(402, {"code": 402, "message": "insufficient credits"})
        elif fault == "credits_200":
            self._json(200, {"code": 1002, "msg": "Insufficient credits, please recharge"})
        elif fault == "policy":
            self._json(400,
                       {"code": 400, "message": "content policy violation: the prompt was blocked by safety filters"})
        elif fault == "code":
            self._json(200, {"code": 500, "message": "generation failed, try again"})
        elif fault.startswith("code:"):
            # A non-zero code that reads as no HTTP status. The vendor publishes no error codes
            # (the API notes, "Not documented anywhere"); public clients treat any non-zero
            # code as a failure and none retries it. 1001 and 10001 are codes of that shape.
            self._json(200, {"code": int(fault[5:]), "msg": "task failed"})
        elif fault in ("policy-200", "policy-500"):
            # A refusal in Gemini's own finishReason word, which the reseller passes on: in a
            # 200 body with a code of its own, or under a server status.
            status = 200 if fault == "policy-200" else 500
            self._json(status, {"code": 1003 if status == 200 else 500, "msg": "IMAGE_SAFETY: the output was blocked"})
        elif fault.startswith("503:"):
            # RFC 9110, 10.2.3: a 503 may carry Retry-After, "how long the service is
            # expected to be unavailable to the client".
            self._json(503, {"code": 503, "message": "service busy"}, {"Retry-After": fault[4:]})
        elif fault.startswith("slow:"):  # answer only after the client has given up
            time.sleep(float(fault[5:]))
            self._json(200, {"code": 0, "data": {"url": []}})
        elif fault == "malformed":
            self._send(200, b'{"code": 0, "data": {"url": ')
        elif fault == "reset":
            # SO_LINGER 0 makes close() send a TCP RST; the fd closes only once rfile and
            # wfile (which hold references to it) are closed too.
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.close_connection = True
            self.rfile.close()
            self.wfile.close()
            self.connection.close()
        else:
            return False
        return True


class StalledListener:
    """A TCP port that never completes a connection: its accept queue is full and nobody
    accepts, so the kernel drops new SYNs and a client's connect times out."""

    def __enter__(self) -> StalledListener:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(0)
        self.port = self.sock.getsockname()[1]
        self.fillers = []
        for _ in range(3):
            c = socket.socket()
            c.setblocking(False)
            try:
                c.connect(("127.0.0.1", self.port))
            except BlockingIOError:
                pass
            self.fillers.append(c)
        time.sleep(0.1)
        return self

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def __exit__(self, *exc) -> None:
        for c in self.fillers:
            c.close()
        self.sock.close()


# --------------------------------------------------------------------------- python -m tests.fakeapi

FAKE_KEY = "fake-key-for-the-local-fake-api"  # the fake takes any key; this one is no secret


def _exports(base: str, cache: str, log: str, pid: int) -> str:
    values = {"NANOBANANA_API_KEY": FAKE_KEY, "NANOBANANA_API_BASE": base, "NANOBANANA_CACHE_DIR": cache,
              "NANOBANANA_FAKE_API_LOG": log, "NANOBANANA_FAKE_API_PID": str(pid)}
    return "export " + " ".join(f"{name}={shlex.quote(value)}" for name, value in values.items())


def _serve(port: int, log) -> None:
    """Serve on 127.0.0.1:port until killed, one line per request on ``log``."""
    with FakeAPI(bind_port=port, log=log):
        print(f"fake NanoBanana API on http://127.0.0.1:{port}/v1", flush=True)
        try:
            threading.Event().wait()
        except KeyboardInterrupt:
            pass


def _background(port: int, cache: str, log: str) -> None:
    """Start the server in its own process (its request log in ``log``), wait until it
    listens, print the exports for eval on stdout and the rest on stderr."""
    import subprocess
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    Path(log).write_text("", encoding="utf-8")  # empty from the start: `cat` works before any request
    # the child's own output goes nowhere: the log holds request lines only, and the
    # command substitution of `eval "$(...)"` ends when this process exits
    proc = subprocess.Popen([sys.executable, "-m", "tests.fakeapi", "--port", str(port), "--log", log,
                             "--cache", cache], cwd=root, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            stdin=subprocess.DEVNULL, start_new_session=True)
    deadline = time.monotonic() + 30
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                sys.exit(f"the fake API did not start; run it in the foreground to see why: "
                         f"python -m tests.fakeapi --port {port}")
            time.sleep(0.1)
    print(_exports(f"http://127.0.0.1:{port}/v1", cache, log, proc.pid))
    print(f"fake API on 127.0.0.1:{port} (pid {proc.pid}); each request it gets is a line of {log}; "
          f"its images are cached in {cache}; stop it with: kill $NANOBANANA_FAKE_API_PID", file=sys.stderr)


def main(argv: list[str] | None = None) -> None:
    import argparse
    import os
    import tempfile

    parser = argparse.ArgumentParser(prog="python -m tests.fakeapi", description=(
        "The test suite's fake NanoBanana API on 127.0.0.1: draws gradient images for free. Prints the "
        "variables to export (its base URL, a key it accepts, a cache folder of its own)."))
    parser.add_argument("--port", type=int, default=0, help="default: a free port")
    parser.add_argument("--background", action="store_true",
                        help="start it in its own process and print `export ...` for eval")
    parser.add_argument("--cache", help="the cache_dir to use with it, never your real one (default: a new, "
                                        "empty folder for each run, so each run starts from nothing)")
    parser.add_argument("--log", help="a file that gets one line per request (default: stdout; with "
                                      "--background, requests.log beside the new cache folder)")
    args = parser.parse_args(argv)
    port = args.port
    if not port:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
    # a new folder for each run unless both are given: a run starts from an empty cache,
    # so the same commands print the same thing every time
    fresh = args.cache is None or (args.background and args.log is None)
    run = tempfile.mkdtemp(prefix="nanobanana-fake-api-") if fresh else ""
    cache = args.cache or os.path.join(run, "cache")
    log = args.log or (os.path.join(run, "requests.log") if args.background else None)
    if args.background:
        _background(port, cache, log)
        return
    print(_exports(f"http://127.0.0.1:{port}/v1", cache, log or "-", os.getpid()), flush=True)
    if log is None:
        _serve(port, sys.stdout)
        return
    with open(log, "a", encoding="utf-8") as out:
        _serve(port, out)


if __name__ == "__main__":
    main()
