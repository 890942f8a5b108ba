"""Issue 33, "Provider answers": what each answer of the two APIs costs the user.

Every test builds through the public surface (an in-process `mkdocs build`, or the
`mkdocs` command) against the fake API, and counts what is paid: the POSTs that reached
the fake, the credits in the summary line, the images kept in the cache.
"""

from __future__ import annotations

import json
import signal
import time

import pytest
from mkdocs.exceptions import Abort

from mkdocs_nanobanana.providers import base as provider_base
from tests.support.commands import bin_path, run
from tests.support.directives import directive
from tests.support.html import figures
from tests.support.live import GKEY, one
from tests.support.logs import summary, warnings
from tests.support.stops import LIVE, many_pages, prompts, signal_after, start


def build(live, api, faults, text=None):
    api.faults.extend(faults)
    live.page("a.md", "# A\n\n" + (text or directive("One image")))
    live.build()
    return figures(live.html("a/index.html"))


def kept(site) -> int:
    """Images kept in the cache: the entries' images, whole or partial."""
    return sum(len(site.cache.get(k).images) for k in site.cache.keys())


# --------------------------------------------------------------------------- item 1


@pytest.mark.parametrize("spelling", ["ok-nocode", "ok-code-str", "ok-code-200"])
@pytest.mark.parametrize("num", [1, 2])  # data.url a string, then a list
def test_a_success_is_a_success_however_it_is_spelled(live, api, caplog, spelling, num):
    fig, = build(live, api, [spelling], directive("Spelled", num=num))
    assert "nanobanana-placeholder" not in fig["class"]
    assert len(api.generate_requests) == 1, "one POST: the images it paid for are the ones kept"
    assert len(api.downloads) == num and kept(live) == num
    assert f"0 cached, 1 generated ({2 * num} credits" in summary(caplog)
    assert not any("charged" in m or "failed" in m for m in warnings(caplog))


# --------------------------------------------------------------------------- item 2


@pytest.mark.parametrize("code", [1001, 10001])
def test_an_unknown_error_code_is_tried_once_more_only(live, api, caplog, code):
    live.configure({"api_base": api.base, "retries": 4})
    fig, = build(live, api, [f"code:{code}"] * 5)
    assert len(api.generate_requests) == 2, "retries: 4 would have sent 5"
    assert "nanobanana-placeholder" in fig["class"] and kept(live) == 0
    msg = next(m for m in warnings(caplog) if "generation failed" in m)
    assert msg.startswith("nanobanana: docs/a.md:3: generation failed after one more try") and f"code {code}" in msg
    assert "0 generated (0 credits" in summary(caplog)


def test_an_unknown_error_code_once_is_made_by_the_second_try(live, api, caplog):
    fig, = build(live, api, ["code:1001"])
    assert "nanobanana-placeholder" not in fig["class"]
    assert len(api.generate_requests) == 2 and "1 generated (2 credits" in summary(caplog)


@pytest.mark.parametrize("fault", ["policy-200", "policy-500"])
def test_policy_words_stop_retries_whatever_the_status(live, api, caplog, fault):
    live.configure({"api_base": api.base, "retries": 4})
    fig, = build(live, api, [fault] * 5)
    assert len(api.generate_requests) == 1
    msg = next(m for m in warnings(caplog) if "refused this prompt" in m)
    assert msg.startswith("nanobanana: docs/a.md:3:") and "IMAGE_SAFETY" in msg
    assert "nanobanana-placeholder" in fig["class"] and "0 generated (0 credits" in summary(caplog)


# --------------------------------------------------------------------------- item 3


def test_a_slow_answer_is_waited_for_not_bought_again(live, api, caplog):
    """`timeout` bounds sending the request (and downloads); the answer has its own, long
    wait: a short `timeout` no longer cuts a generation that takes longer."""
    live.configure({"api_base": api.base, "timeout": 0.4, "retries": 4})
    api.latency = 1.5
    fig, = build(live, api, [])
    assert "nanobanana-placeholder" not in fig["class"]
    assert len(api.generate_requests) == 1 and kept(live) == 1
    assert "1 generated (2 credits" in summary(caplog)
    assert not any("charged" in m for m in warnings(caplog))


def test_gemini_tells_the_server_the_default_wait_of_300_s(gem, api):
    gem.configure({"provider": "gemini", "api_base": f"{api.origin}/v1beta", "timeout": 5})
    one(gem, api, [], "# A\n\n" + directive("Default wait") + directive("Two of them", num=2))
    assert [r.headers["x-server-timeout"] for r in api.gemini_requests] == ["300"] * 3  # one image a call


def test_gemini_tells_the_server_when_the_build_stops_waiting(gem, api):
    """X-Server-Timeout in whole seconds, as google-genai sends it, so the server stops
    working on (and billing) an answer nobody waits for any more."""
    gem.configure({"provider": "gemini", "api_base": f"{api.origin}/v1beta", "answer_timeout": 42.5})
    fig, = one(gem, api, [])
    call, = api.gemini_requests
    assert call.headers["x-server-timeout"] == "43" and "nanobanana-placeholder" not in fig["class"]
    assert "x-server-timeout" not in json.dumps(call.json())


def test_a_bad_answer_timeout_is_a_config_error_naming_it(live, api, caplog):
    live.configure({"api_base": api.base, "answer_timeout": -5})
    live.page("a.md", directive("One"))
    with pytest.raises(Abort):
        live.build()
    errors = [r.getMessage() for r in caplog.records if r.levelname == "ERROR"]
    assert any("answer_timeout" in m and "expected a positive, finite number of seconds, got -5" in m for m in errors)
    assert api.requests == []


# --------------------------------------------------------------------------- item 4


def test_retry_after_is_honoured_on_503(live, api, caplog):
    started = time.monotonic()
    fig, = build(live, api, ["503:1"])
    assert time.monotonic() - started >= 1.0, "backoff alone is hundredths of a second here"
    assert "nanobanana-placeholder" not in fig["class"]
    assert len(api.generate_requests) == 2 and "1 generated (2 credits" in summary(caplog)


def test_a_503s_huge_retry_after_is_capped(live, api, caplog, monkeypatch):
    monkeypatch.setattr(provider_base, "RETRY_AFTER_CAP", 0.2)
    started = time.monotonic()
    fig, = build(live, api, ["503:86400"])
    assert time.monotonic() - started < 10 and "nanobanana-placeholder" not in fig["class"]


# --------------------------------------------------------------------------- item 5


def many(gem, api, fault: str):
    gem.configure({"provider": "gemini", "api_base": f"{api.origin}/v1beta", "concurrency": 1, "retries": 3})
    return one(gem, api, [fault], "# A\n\n" + "".join(directive(f"Image {i}") for i in range(4)))


@pytest.mark.parametrize("fault", ["g402", "g402-bare"])
def test_gemini_402_is_out_of_credits_whatever_its_words(gem, api, caplog, fault):
    figs = many(gem, api, fault)
    assert len(api.gemini_requests) == 1, "no retry, no further call"
    msgs = [m for m in warnings(caplog) if "no further API calls" in m]
    assert len(msgs) == 1 and "prepaid credits are used up" in msgs[0] and "top up" in msgs[0]
    assert all("nanobanana-placeholder" in f["class"] for f in figs)
    assert "0 generated (0 credits" in summary(caplog)


@pytest.mark.parametrize("fault,words", [
    ("gprecondition", ["FAILED_PRECONDITION", "enable billing on the project in Google AI Studio"]),
    ("g404", ["has no model 'gemini-2.5-flash-image'", "NOT_FOUND", "check the model's id"]),
])
def test_gemini_account_answers_stop_every_call_with_one_message(gem, api, caplog, fault, words):
    figs = many(gem, api, fault)
    assert len(api.gemini_requests) == 1
    said = warnings(caplog)
    stops = [m for m in said if "no further API calls" in m]
    assert len(stops) == 1 and all(w in stops[0] for w in words), said
    assert not any("docs/a.md" in m for m in said), "one message for the build, none per directive"
    assert all("nanobanana-placeholder" in f["class"] for f in figs)
    assert "0 generated (0 credits" in summary(caplog)


# --------------------------------------------------------------------------- item 6


def test_gemini_offers_21_9(gem, api, caplog):
    fig, = one(gem, api, [], "# A\n\n" + directive("Panorama", ratio="21:9"))
    call, = api.gemini_requests
    assert call.json()["generationConfig"]["imageConfig"]["aspectRatio"] == "21:9"
    assert "nanobanana-placeholder" not in fig["class"]
    entry = next(gem.cache.get(k) for k in gem.cache.keys())
    assert (entry.images[0].width, entry.images[0].height) == (1536, 672)
    assert "1 generated (4 credits" in summary(caplog)


def test_nanobanana_still_refuses_21_9_at_page_line(live, api, caplog):
    build(live, api, [], directive("Panorama", ratio="21:9"))
    assert api.requests == []
    assert any(m.startswith("nanobanana: docs/a.md:5: ratio '21:9' is not offered by gemini-2.5-flash-image")
               for m in warnings(caplog)), warnings(caplog)


# --------------------------------------------------------------------------- item 7


def gemini_build(site, api, env):
    site.configure({"provider": "gemini", "api_base": f"{api.origin}/v1beta", "retries": 0})
    site.page("a.md", "# A\n\n" + directive("Keyed"))
    return run([bin_path("mkdocs"), "build"], cwd=site.root, env={"NANOBANANA_MODE": "live", **env})


def test_two_different_gemini_keys_use_googles_and_say_so_once(site, api):
    google, gemini = "AIzaGoogle-0000-google-key", "AIzaGemini-1111-gemini-key"
    proc = gemini_build(site, api, {"GOOGLE_API_KEY": google, "GEMINI_API_KEY": gemini})
    call, = api.gemini_requests
    assert call.headers["x-goog-api-key"] == google  # the one google-genai uses
    said = [line for line in proc.stderr.splitlines() if "are both set" in line]
    assert len(said) == 1 and "GOOGLE_API_KEY" in said[0] and "GEMINI_API_KEY" in said[0], proc.stderr
    assert google not in proc.stderr + proc.stdout and gemini not in proc.stderr + proc.stdout
    assert "1 generated (4 credits" in proc.stderr


def test_the_same_key_in_both_variables_says_nothing(site, api):
    proc = gemini_build(site, api, {"GOOGLE_API_KEY": GKEY, "GEMINI_API_KEY": GKEY})
    assert [r.headers["x-goog-api-key"] for r in api.gemini_requests] == [GKEY]
    assert "are both set" not in proc.stderr


# --------------------------------------------------------------------------- item 8


def test_a_text_only_answer_says_what_the_model_said(gem, api, caplog):
    fig, = one(gem, api, ["gtext:I can only describe this scene, not draw it."] * 2)
    assert len(api.gemini_requests) == 2 and "nanobanana-placeholder" in fig["class"]
    msg = next(m for m in warnings(caplog) if "generation failed" in m)
    assert msg.startswith("nanobanana: docs/a.md:3: generation failed after one more try")
    assert "answered with text and no image" in msg and "'I can only describe this scene, not draw it.'" in msg


def test_the_quoted_text_is_shortened_and_scrubbed(gem, api, caplog):
    said = f"Line one.\nYour key {GKEY} is\x1b[31m fine. " + "blah " * 200
    one(gem, api, [f"gtext:{said}"] * 2)
    msg = next(m for m in warnings(caplog) if "generation failed" in m)
    quoted = msg.split("no image (finishReason STOP): ", 1)[1].split("; trying")[0]
    assert GKEY not in msg and "[key]" in quoted
    assert "\n" not in msg and "\x1b" not in msg
    assert quoted.startswith("'Line one. Your key [key] is") and len(quoted) <= 170


# --------------------------------------------------------------------------- item 10


def test_a_stop_never_refuses_a_free_download(site, api):
    """After SIGINT, the POSTs already sent are answered; their downloads fail once with
    503 and are retried as usual (they cost nothing): every paid image is kept, and the
    next build pays only for the images that were never sent."""
    names = many_pages(site, api, count=6, concurrency=3, latency=1.0, retries=2)
    api.faults_for.update({name: "get503once" for name in names})
    proc = start(site, "mkdocs", "build")
    signal_after(proc, api, 3, signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    sent = len(api.generate_requests)
    assert 3 <= sent <= 4
    assert len(list(site.cache.keys())) == sent and site.cache.verify_entries() == {}, err
    assert f"stopped by SIGINT: {sent} image(s) generated and kept ({2 * sent} credits" in err, err
    assert "generation failed" not in err
    downloads = [r.path for r in api.downloads]
    assert len(downloads) == 2 * sent and len(set(downloads)) == sent  # each: a 503, then the image
    run([bin_path("mkdocs"), "build"], cwd=site.root, env=LIVE)
    assert sorted(prompts(api)) == sorted(names), "nothing paid for was bought again"
