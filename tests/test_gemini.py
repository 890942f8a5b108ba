"""provider: gemini through real builds against the fake server's Gemini-shaped route."""

from __future__ import annotations

import base64
import json
import logging
import time

import pytest
from conftest import bin_path, run
from PIL import Image
from test_build import figures
from test_live import directive, summary, warnings


GKEY = "AIzaTest-gemini-KEY-0c1d2e3f4a5b"


@pytest.fixture
def gem(site, api, monkeypatch, caplog, fast_retries):
    caplog.set_level(logging.INFO)
    monkeypatch.setenv("GEMINI_API_KEY", GKEY)
    monkeypatch.delenv("GOOGLE_API_KEY", raising=False)
    site.configure({"provider": "gemini", "api_base": f"{api.origin}/v1beta", "retries": 3, "timeout": 5})
    return site


def one(gem, api, faults, text="# A\n\n" + directive("One image")):
    api.faults.extend(faults)
    gem.page("a.md", text)
    gem.build()
    return figures(gem.html("a/index.html"))


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


@pytest.mark.parametrize("faults", [["g429"], ["g500", "g503", "g504"], ["gtext"], ["gbadimage"]])
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


@pytest.mark.parametrize("fault,reason", [("gblock:IMAGE_SAFETY", "IMAGE_SAFETY"), ("gblock:NO_IMAGE", "NO_IMAGE"),
                                          ("gblock:PROHIBITED_CONTENT", "PROHIBITED_CONTENT"), ("gprompt:SAFETY", "SAFETY")])
def test_blocked_output_is_a_content_refusal_with_page_line(gem, api, caplog, fault, reason):
    fig, = one(gem, api, [fault])
    assert len(api.gemini_requests) == 1, "a refusal is not retried"
    msg = next(m for m in warnings(caplog) if "refused this prompt" in m)
    assert msg.startswith("nanobanana: docs/a.md:3:") and reason in msg
    assert "nanobanana-placeholder" in fig["class"]


def test_hd_is_a_clear_error_for_this_provider(gem, api, caplog):
    fig, = one(gem, api, [], directive("Wants HD", variant="hd"))
    assert api.requests == []
    assert any(m.startswith("nanobanana: docs/a.md:3: variant 'hd' has no model in the official Gemini API") for m in warnings(caplog))
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
