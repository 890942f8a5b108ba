"""What live tests share: the keys they set, and a scripted answer of the fake API."""

from __future__ import annotations

KEY = "nb-test-KEY-7f3a9c2e51d04b6a"  # recognisable, so a test can look for it in every output
GKEY = "AIzaTest-gemini-KEY-0c1d2e3f4a5b"  # the Gemini API's, for provider: gemini


def answer_with_url(url: str):
    """A scripted answer (an entry of FakeAPI.faults) whose image URL is ``url``."""
    def respond(handler):
        handler._json(200, {"code": 0, "data": {"url": url}})
    return respond
