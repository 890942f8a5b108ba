"""provider: gemini through real builds against the fake server's Gemini-shaped route."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import logging
import time

import pytest
from PIL import Image

from mkdocs_nanobanana.core import image_bytes
from tests.support.commands import bin_path, run
from tests.support.directives import directive
from tests.support.live import GKEY, one
from tests.support.logs import summary, warnings


def test_request_shape_header_and_no_key_in_url(gem, api):
    (gem.docs / "sketch.png").write_bytes(b"")
    Image.new("RGB", (16, 16), "blue").save(gem.docs / "sketch.png")
    fig, = one(gem, api, [], directive("Ink it", ratio="3:2", refs=["sketch.png"]))
    assert "nanobanana-placeholder" not in fig["class"]
    call, = api.gemini_requests
    assert call.path == "/v1beta/models/gemini-2.5-flash-image:generateContent"
    assert "key=" not in call.path and GKEY not in call.path
    assert call.headers["x-goog-api-key"] == GKEY and "authorization" not in call.headers
    body = call.json()
    text, inline = body["contents"][0]["parts"]
    assert text == {"text": "Ink it"}
    assert inline["inline_data"]["mime_type"] == "image/png"
    assert base64.b64decode(inline["inline_data"]["data"]) == (gem.docs / "sketch.png").read_bytes()
    assert body["generationConfig"] == {"responseModalities": ["IMAGE"], "imageConfig": {"aspectRatio": "3:2"}}
    assert fig["img"]["height"] == str(round(832 * 1024 / 1248))  # the real size of a 3:2 answer


def test_num_fans_out_within_concurrency(gem, api, caplog):
    api.latency = 0.3
    gem.configure({"provider": "gemini", "api_base": f"{api.origin}/v1beta", "concurrency": 2})
    one(gem, api, [], directive("Three", num=3, pick=3) + directive("Other"))
    assert len(api.gemini_requests) == 4
    assert api.max_in_flight == 2
    assert "0 cached, 2 generated (16 credits ~ $0.15), 0 placeholders, 0 failed" in summary(caplog)
    entry = next(gem.cache.get(k) for k in gem.cache.keys() if gem.cache.get(k).request.num == 3)
    assert len(entry.images) == 3 and len({i.sha256 for i in entry.images}) == 3
    assert json.loads(entry.images[0].path.with_name(f"{entry.key}.json").read_text())["provider"] == "gemini"


@pytest.mark.parametrize("faults", [["g429"], ["g408"], ["g500", "g503", "g504"], ["gtext"], ["gbadimage"]])
def test_transient_errors_are_retried(gem, api, caplog, faults):
    fig, = one(gem, api, faults)
    assert "nanobanana-placeholder" not in fig["class"]
    assert len(api.gemini_requests) == len(faults) + 1


def test_retry_delay_is_honoured(gem, api):
    started = time.monotonic()
    fig, = one(gem, api, ["g429:1"])
    assert time.monotonic() - started >= 1.0 and "nanobanana-placeholder" not in fig["class"]


def test_one_failed_candidate_does_not_repay_the_others(gem, api, caplog):
    gem.configure({"provider": "gemini", "api_base": f"{api.origin}/v1beta", "concurrency": 1})
    one(gem, api, [None, "g503"], directive("Two", num=2))
    assert len(api.gemini_requests) == 3  # two calls, one of them retried once
    assert "1 generated (8 credits" in summary(caplog)


@pytest.mark.parametrize("fault", ["gkey", "g403"])
def test_bad_key_stops_every_call(gem, api, caplog, fault):
    gem.configure({"provider": "gemini", "api_base": f"{api.origin}/v1beta", "concurrency": 1})
    figs = one(gem, api, [fault], "".join(directive(f"Image {i}") for i in range(4)))
    assert len(api.gemini_requests) == 1
    msgs = [m for m in warnings(caplog) if "refused the key" in m]
    assert len(msgs) == 1 and "check GEMINI_API_KEY" in msgs[0]
    assert all("nanobanana-placeholder" in f["class"] for f in figs)


@pytest.mark.parametrize("fault,reason", [
    ("gblock:IMAGE_SAFETY", "IMAGE_SAFETY"), ("gblock:PROHIBITED_CONTENT", "PROHIBITED_CONTENT"),
    ("gblock:IMAGE_PROHIBITED_CONTENT", "IMAGE_PROHIBITED_CONTENT"), ("gblock:SAFETY", "SAFETY"),
    ("gblock:BLOCKLIST", "BLOCKLIST"), ("gblock:SPII", "SPII"), ("gblock:IMAGE_RECITATION", "IMAGE_RECITATION"),
    ("gprompt:SAFETY", "SAFETY"), ("gprompt:OTHER", "OTHER")])
def test_blocked_output_is_a_content_refusal_with_page_line(gem, api, caplog, fault, reason):
    fig, = one(gem, api, [fault])
    assert len(api.gemini_requests) == 1, "a refusal is not retried"
    msg = next(m for m in warnings(caplog) if "refused this prompt" in m)
    assert msg.startswith("nanobanana: docs/a.md:3:") and reason in msg
    assert "nanobanana-placeholder" in fig["class"]


def test_hd_is_a_clear_error_for_this_provider(gem, api, caplog):
    fig, = one(gem, api, [], directive("Wants HD", variant="hd"))
    assert api.requests == []
    no_hd = "nanobanana: docs/a.md:3: variant 'hd' has no model in the official Gemini API"
    assert any(m.startswith(no_hd) for m in warnings(caplog))
    gem.configure({"provider": "gemini", "api_base": f"{api.origin}/v1beta", "variant": "hd"})
    from mkdocs.exceptions import Abort

    with pytest.raises(Abort):
        gem.build()
    assert "variant: variant 'hd' has no model in the official Gemini API" in caplog.text


def test_switching_provider_does_not_regenerate(site, api, monkeypatch, caplog):
    caplog.set_level(logging.INFO)
    monkeypatch.setenv("NANOBANANA_API_KEY", "nb-key-for-switch")
    site.configure({"api_base": api.base})
    site.page("a.md", directive("Same image either way"))
    site.build()
    assert len(api.generate_requests) == 1
    monkeypatch.setenv("GEMINI_API_KEY", GKEY)
    site.configure({"provider": "gemini", "api_base": f"{api.origin}/v1beta"})
    caplog.clear()
    site.build()
    assert api.gemini_requests == []
    assert "1 cached, 0 generated" in summary(caplog)


def test_google_api_key_is_the_fallback_and_plan_shows_usd(site, api, monkeypatch):
    monkeypatch.delenv("GEMINI_API_KEY", raising=False)
    site.configure({"provider": "gemini", "api_base": f"{api.origin}/v1beta"})
    site.page("a.md", directive("One") + directive("Two", num=2))
    data = json.loads(run([bin_path("nanobanana"), "plan", "--json"], cwd=site.root).stdout)
    assert data["total_credits"] == 12 and data["total_usd"] == 0.12  # 3 x $0.0387
    proc = run([bin_path("mkdocs"), "build"], cwd=site.root, env={"GOOGLE_API_KEY": GKEY, "NANOBANANA_MODE": "live"})
    assert "0 cached, 2 generated (12 credits ~ $0.12)" in proc.stderr
    assert len(api.gemini_requests) == 3
    assert api.gemini_requests[0].headers["x-goog-api-key"] == GKEY


# -------------------------------------------------------------- issue 17: Gemini items 1-6


@pytest.mark.parametrize("fault", ["gquota-minute:0.3", "gquota-retryin:0.3"])
def test_a_per_minute_quota_429_is_waited_out_not_called_out_of_credits(gem, api, caplog, fault):
    """Every quota 429 says "check your plan and billing details": a per-minute one, with
    RetryInfo or "Please retry in Xs" in its message, is a rate limit to wait out."""
    started = time.monotonic()
    fig, = one(gem, api, [fault])
    assert len(api.gemini_requests) == 2
    assert time.monotonic() - started >= 0.3  # the delay the server asked for
    assert "nanobanana-placeholder" not in fig["class"]
    assert not any("top up" in m or "no further API calls" in m for m in warnings(caplog))
    assert "0 cached, 1 generated (4 credits" in summary(caplog)


@pytest.mark.parametrize("fault,why", [
    ("gquota-day:47", "daily quota GenerateRequestsPerDayPerProjectPerModel-FreeTier"),
    ("gquota-limit0:5.2", "limit: 0"), ("gquota-depleted", "prepaid credits"),
])
def test_a_quota_that_waiting_cannot_clear_stops_the_build_once(gem, api, caplog, fault, why):
    gem.configure({"provider": "gemini", "api_base": f"{api.origin}/v1beta", "concurrency": 1, "retries": 3})
    started = time.monotonic()
    figs = one(gem, api, [fault], "".join(directive(f"Image {i}") for i in range(4)))
    assert len(api.gemini_requests) == 1, "no retry, no further call"
    assert time.monotonic() - started < 5, "its RetryInfo is not waited for"
    msgs = [m for m in warnings(caplog) if "no further API calls" in m]
    assert len(msgs) == 1 and why in msgs[0] and GKEY not in msgs[0]
    assert all("nanobanana-placeholder" in f["class"] for f in figs)
    assert "0 generated (0 credits" in summary(caplog)


@pytest.mark.parametrize("reason", ["NO_IMAGE", "IMAGE_OTHER", "OTHER"])
def test_no_image_without_a_verdict_is_tried_once_more(gem, api, caplog, reason):
    fig, = one(gem, api, [f"gblock:{reason}"])
    assert len(api.gemini_requests) == 2
    assert "nanobanana-placeholder" not in fig["class"]
    assert not any("rephrase" in m for m in warnings(caplog))


@pytest.mark.parametrize("reason", ["NO_IMAGE", "IMAGE_OTHER", "OTHER"])
def test_no_image_twice_is_a_failed_generation_not_a_refusal(gem, api, caplog, reason):
    fig, = one(gem, api, [f"gblock:{reason}"] * 3)
    assert len(api.gemini_requests) == 2, "retried once only, whatever `retries` allows"
    msg = next(m for m in warnings(caplog) if "generation failed" in m)
    assert msg.startswith("nanobanana: docs/a.md:3: generation failed after one more try") and reason in msg
    assert not any("rephrase" in m for m in warnings(caplog))
    assert "nanobanana-placeholder" in fig["class"]
    assert "0 generated (0 credits ~ $0.00), 0 placeholders, 1 failed, encoded " in summary(caplog)


def test_thought_images_are_skipped_for_the_final_one(gem, api):
    fig, = one(gem, api, ["gthought"])
    assert len(api.gemini_requests) == 1 and len(api.thoughts) == 1
    entry = next(gem.cache.get(k) for k in gem.cache.keys())
    stored = entry.images[0].path.read_bytes()
    assert stored != api.thoughts[0]  # the final image is the one after the thought parts
    assert image_bytes.inspect(stored).width == 1024 and "nanobanana-placeholder" not in fig["class"]


def test_a_gif_ref_is_sent_as_png_and_keyed_by_the_users_file(gem, api):
    frames = [Image.new("RGB", (24, 16), c) for c in ("red", "green")]
    frames[0].save(gem.docs / "anim.gif", save_all=True, append_images=frames[1:])
    one(gem, api, [], directive("From a GIF", refs=["anim.gif"]))
    call, = api.gemini_requests
    inline = call.json()["contents"][0]["parts"][1]["inline_data"]
    assert inline["mime_type"] == "image/png"
    sent = Image.open(io.BytesIO(base64.b64decode(inline["data"])))
    assert sent.format == "PNG" and sent.size == (24, 16) and sent.convert("RGB").getpixel((0, 0)) == (255, 0, 0)
    entry = next(gem.cache.get(k) for k in gem.cache.keys())
    assert entry.request.refs == (hashlib.sha256((gem.docs / "anim.gif").read_bytes()).hexdigest(),)


def test_a_ref_we_cannot_read_is_a_page_line_error_and_no_call(gem, api, caplog):
    Image.new("RGB", (8, 8), "blue").save(gem.docs / "sketch.bmp")
    fig, = one(gem, api, [], "# A\n\n" + directive("From a BMP", refs=["sketch.bmp"]))
    assert api.requests == []
    assert any(m.startswith("nanobanana: docs/a.md:") and "sketch.bmp" in m for m in warnings(caplog))


@pytest.mark.parametrize("fault", ["gbadimage", "gtext"])
def test_a_billed_answer_without_a_usable_image_is_tried_once_more_only(gem, api, caplog, fault):
    """A 200 was billed: a broken image or none at all is asked for once more, never the
    whole retry budget (3 here), as NanoBanana's broken 200s are (docs/providers.md, the answers' tables)."""
    fig, = one(gem, api, [fault] * 4)
    assert "nanobanana-placeholder" in fig["class"]
    assert len(api.gemini_requests) == 2
    assert any("the first attempt may have been charged" in m for m in warnings(caplog))
