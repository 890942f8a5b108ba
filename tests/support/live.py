"""What live tests share: the keys they set, a scripted answer of the fake API, and one
Gemini build of one image."""

from __future__ import annotations

from tests.support.directives import directive
from tests.support.html import figures

KEY = "nb-test-KEY-7f3a9c2e51d04b6a"  # recognisable, so a test can look for it in every output
GKEY = "AIzaTest-gemini-KEY-0c1d2e3f4a5b"  # the Gemini API's, for provider: gemini


def answer_with_url(url: str):
    """A scripted answer (an entry of FakeAPI.faults) whose image URL is ``url``."""
    def respond(handler):
        handler._json(200, {"code": 0, "data": {"url": url}})
    return respond


ONE_IMAGE = "# A\n\n" + directive("One image")


def one(gem, api, faults, text=ONE_IMAGE):
    api.faults.extend(faults)
    gem.page("a.md", text)
    gem.build()
    return figures(gem.html("a/index.html"))
