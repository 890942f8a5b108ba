"""Live generation through real builds against the fake NanoBanana API on 127.0.0.1."""

from __future__ import annotations

import base64
import json
import logging
import sys
import time
from pathlib import Path

import httpx
import pytest
from PIL import Image

from mkdocs_nanobanana.providers import base as provider_base
from mkdocs_nanobanana.providers import http as provider_http
from tests.fakeapi import FakeAPI, image_png
from tests.support.commands import bin_path, run
from tests.support.directives import directive
from tests.support.html import check_files, figures
from tests.support.live import KEY, answer_with_url
from tests.support.logs import summary, warnings

# --------------------------------------------------------------------------- the happy path


def test_generates_each_unique_key_once_then_never_again(live, api, caplog):
    live.page("a.md", directive("A lighthouse", ratio="16:9") + directive("A nook", num=2, pick=2))
    live.page("b.md", directive("A lighthouse", ratio="16:9", alt="same image, other page"))
    live.build()
    assert len(api.generate_requests) == 2
    assert "nanobanana: 0 cached, 2 generated (6 credits ~ $0.06), 0 placeholders, 0 failed" in summary(caplog)
    for page in ("a/index.html", "b/index.html"):
        for fig in figures(live.html(page)):
            assert "nanobanana-placeholder" not in fig["class"]
            check_files(live.site, page, fig)
    # the real size of what came back: 16:9 is 1344x768
    lighthouse = figures(live.html("a/index.html"))[0]
    assert (lighthouse["img"]["width"], lighthouse["img"]["height"]) == ("1024", "585")
    assert live.cache.verify_entries() == {}

    caplog.clear()
    made = []
    real_client = httpx.Client
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(httpx, "Client", lambda *a, **k: made.append(1) or real_client(*a, **k))
        live.build()
    assert len(api.generate_requests) == 2, "a warm build must not call the API"
    assert made == [], "a warm build must not even set up an HTTP client"
    assert "2 cached, 0 generated (0 credits ~ $0.00)" in summary(caplog)

    live.page("b.md", directive("A lighthouse at night", ratio="16:9"))
    live.build()
    assert len(api.generate_requests) == 3
    assert api.generate_requests[-1].json()["prompt"] == "A lighthouse at night"


def test_request_shape_and_where_the_key_goes(live, api):
    (live.docs / "img").mkdir()
    Image.new("RGB", (32, 32), "red").save(live.docs / "img" / "sketch.png")
    live.page("a.md", directive("Ink it", refs=["img/sketch.png"], variant="hd", ratio="3:2", num=2))
    live.build()
    post, = api.generate_requests
    assert post.path == "/v1/images/generate"
    assert post.headers["authorization"] == f"Bearer {KEY}"
    assert post.headers["content-type"] == "application/json"
    body = post.json()
    assert {k: body[k] for k in ("prompt", "model", "num", "image_size")} == {
        "prompt": "Ink it", "model": "gemini-2.5-flash-image-hd", "num": 2, "image_size": "3:2"}
    ref, = body["ref_images"]
    assert ref.startswith("data:image/png;base64,")
    assert base64.b64decode(ref.split(",", 1)[1]) == (live.docs / "img" / "sketch.png").read_bytes()
    assert len(api.downloads) == 2
    for dl in api.downloads:
        assert "authorization" not in dl.headers
        assert KEY not in json.dumps(dl.headers)


def test_name_chain_sends_the_picked_target_image(live, api):
    live.page("a.md", directive("Draft", name="draft", num=2, pick=2) + directive("Refined", refs=["#draft"]))
    live.build()
    first, second = api.generate_requests
    assert first.json()["prompt"] == "Draft" and second.json()["prompt"] == "Refined"
    sent = base64.b64decode(second.json()["ref_images"][0].split(",", 1)[1])
    draft_entry = next(live.cache.get(k) for k in live.cache.keys() if live.cache.get(k).request.prompt == "Draft")
    assert sent == draft_entry.images[1].path.read_bytes()
    assert all("nanobanana-placeholder" not in f["class"] for f in figures(live.html("a/index.html")))
    live.build()
    assert len(api.generate_requests) == 2


def test_concurrency_is_bounded_and_parallel(live, api):
    api.latency = 0.3
    live.configure({"api_base": api.base, "concurrency": 3})
    live.page("a.md", "".join(directive(f"Image {i}") for i in range(7)))
    live.build()
    assert len(api.generate_requests) == 7
    # the fake counts requests between arrival and answer: 3 at once is parallel, and
    # never 4 is bounded (no wall-clock assertion: a loaded CI machine must not fail it)
    assert api.max_in_flight == 3


def test_budget_generates_in_page_order_then_placeholders(live, api, caplog):
    live.configure({"api_base": api.base, "max_credits": 5})
    live.page("a.md", directive("First") + directive("Second") + directive("Third") + directive("Fourth", variant="hd"))
    live.build()
    assert sorted(r.json()["prompt"] for r in api.generate_requests) == ["First", "Second"]
    figs = figures(live.html("a/index.html"))
    assert ["nanobanana-placeholder" in f["class"] for f in figs] == [False, False, True, True]
    msg = next(m for m in warnings(caplog) if "max_credits" in m)
    assert "2 image(s) needing 7 more credits" in msg and "docs/a.md:9" in msg
    assert "2 generated (4 credits ~ $0.04), 2 placeholders" in summary(caplog)


def test_max_credits_zero_makes_no_call(live, api, caplog):
    live.configure({"api_base": api.base, "max_credits": 0})
    live.page("a.md", directive("Anything"))
    live.build()
    assert api.requests == []
    assert any("max_credits (0) reached" in m for m in warnings(caplog))


def test_offline_mode_env_wins_and_makes_no_call(live, api, monkeypatch):
    monkeypatch.setenv("NANOBANANA_MODE", "offline")
    live.page("a.md", directive("Anything"))
    live.build()
    assert api.requests == []


# --------------------------------------------------------------------------- faults


def build_one(live, api, faults, caplog, prompt="One image"):
    api.faults.extend(faults)
    live.page("a.md", "# A\n\n" + directive(prompt))
    live.build()
    fig, = figures(live.html("a/index.html"))
    assert live.cache.verify_entries() == {}
    return fig


@pytest.mark.parametrize("faults", [
    ["429"], ["429:1"], ["500", "502", "503"], ["code"], ["malformed"], ["reset"],
])
def test_transient_faults_are_retried_then_succeed(live, api, caplog, faults):
    fig = build_one(live, api, faults, caplog)
    assert "nanobanana-placeholder" not in fig["class"]
    assert len(api.generate_requests) == len(faults) + 1
    assert "1 generated" in summary(caplog)


def test_a_failed_download_is_fetched_again_not_bought_again(live, api, caplog):
    """The image host answers 503 once: the same URL is fetched again; no second POST."""
    fig = build_one(live, api, ["get503once"], caplog)
    assert "nanobanana-placeholder" not in fig["class"]
    assert len(api.generate_requests) == 1 and len(api.downloads) == 2
    assert "1 generated (2 credits" in summary(caplog)


@pytest.mark.parametrize("fault", ["truncated", "zero_byte", "html"])
def test_a_bad_image_at_the_url_is_never_bought_twice(live, api, caplog, fault):
    """The URL itself serves a bad image: fetching it again (retries) cannot help, and a
    new POST would pay for the image again. One POST, then a placeholder."""
    fig = build_one(live, api, [fault], caplog)
    assert "nanobanana-placeholder" in fig["class"]
    assert len(api.generate_requests) == 1 and len(api.downloads) == 4  # 1 + retries (3)
    assert "1 failed" in summary(caplog) and list(live.cache.keys()) == []


def test_fewer_urls_than_num_asks_only_for_the_missing_ones(live, api, caplog):
    api.faults.append("fewer:2")
    live.page("a.md", "# A\n\n" + directive("Three of them", num=3, pick=3))
    live.build()
    assert [r.json()["num"] for r in api.generate_requests] == [3, 1]  # 2 came, 1 asked for again
    entry, = [live.cache.get(k) for k in live.cache.keys()]
    assert len(entry.images) == 3 and len({img.sha256 for img in entry.images}) == 3
    assert "1 generated (6 credits" in summary(caplog)
    assert "nanobanana-placeholder" not in figures(live.html("a/index.html"))[0]["class"]


def test_a_download_url_on_a_private_address_is_refused_when_the_api_is_public(api):
    """A spoofed or compromised answer must not make a CI runner fetch from its own
    network; tests, whose API is on 127.0.0.1 itself, are the exception."""
    import httpx

    from mkdocs_nanobanana.providers.base import ProviderError

    url = api.add_file(b"anything")
    with httpx.Client() as client:
        for bad in (url, "http://169.254.169.254/latest/meta-data/", "http://10.0.0.8/x.png",
                    "http://[::1]:9/x.png", "http://localhost:9/x.png", "file:///etc/passwd"):
            with pytest.raises(ProviderError) as caught:
                provider_http.download_image(client, bad, 5)
            assert "refused" in str(caught.value) or "not http(s)" in str(caught.value), bad
        assert provider_http.download_image(client, api.add_file(image_png((64, 64), 1)), 5, frozenset({"loopback"}))
    assert len(api.downloads) == 1, "nothing was fetched from a refused address"
    assert not provider_http.is_private_host("api.nanobananaapi.dev")
    assert provider_http.is_private_host("127.0.0.1") and provider_http.is_private_host("192.168.1.4")


def test_retry_after_is_honoured(live, api, caplog):
    started = time.monotonic()
    build_one(live, api, ["429:1"], caplog)
    assert time.monotonic() - started >= 1.0


def test_huge_retry_after_is_capped(live, api, caplog, monkeypatch):
    monkeypatch.setattr(provider_base, "RETRY_AFTER_CAP", 0.2)
    started = time.monotonic()
    fig = build_one(live, api, ["429:86400"], caplog)
    assert time.monotonic() - started < 10
    assert "nanobanana-placeholder" not in fig["class"]


def test_retries_exhausted_leave_a_placeholder_and_a_clean_cache(live, api, caplog):
    fig = build_one(live, api, ["500"] * 4, caplog)
    assert "nanobanana-placeholder" in fig["class"]
    assert len(api.generate_requests) == 4  # 1 + retries (3)
    msg = next(m for m in warnings(caplog) if "generation failed" in m)
    assert msg.startswith("nanobanana: docs/a.md:3: generation failed after 3 retries")
    assert "0 generated" in summary(caplog) and "1 failed" in summary(caplog)
    assert list(live.cache.keys()) == []
    # the next build tries again
    caplog.clear()
    live.build()
    assert "1 generated" in summary(caplog)


@pytest.mark.parametrize("fault", ["401", "403"])
def test_bad_key_stops_every_call_at_once(live, api, caplog, fault):
    live.configure({"api_base": api.base, "concurrency": 1})
    api.faults.append(fault)
    live.page("a.md", "".join(directive(f"Image {i}") for i in range(5)))
    live.build()
    assert len(api.generate_requests) == 1, "no retry storm after a refused key"
    msgs = [m for m in warnings(caplog) if "refused the key" in m]
    assert len(msgs) == 1 and "check NANOBANANA_API_KEY" in msgs[0]
    assert all("nanobanana-placeholder" in f["class"] for f in figures(live.html("a/index.html")))
    assert "0 generated (0 credits ~ $0.00), 5 placeholders, 0 failed" in summary(caplog)


@pytest.mark.parametrize("fault", ["402", "credits_200"])
def test_out_of_credits_stops_new_calls_and_says_how_many_were_left(live, api, caplog, fault):
    live.configure({"api_base": api.base, "concurrency": 1})
    live.page("a.md", "".join(directive(f"Image {i}") for i in range(4)))
    api.faults.extend([None, fault])
    live.build()
    assert len(api.generate_requests) == 2
    text = "\n".join(warnings(caplog))
    assert "out of credits" in text and "3 image(s) were left as placeholders" in text
    assert "0 cached, 1 generated (2 credits ~ $0.02), 3 placeholders, 0 failed" in summary(caplog)


def test_content_policy_names_page_line_and_reason_without_retry(live, api, caplog):
    fig = build_one(live, api, ["policy"], caplog, prompt="Something the filter dislikes")
    assert len(api.generate_requests) == 1
    msg = next(m for m in warnings(caplog) if "refused this prompt" in m)
    assert msg.startswith("nanobanana: docs/a.md:3:") and "blocked by safety filters" in msg
    assert "nanobanana-placeholder" in fig["class"]


# --------------------------------------------------------------------------- two processes


def test_two_builds_at_once_pay_once_per_key(site, api, tmp_path):
    api.latency = 0.5
    site.configure({"api_base": api.base, "concurrency": 2})
    site.page("a.md", "".join(directive(f"Shared {i}") for i in range(4)))
    procs = []
    import subprocess

    for n in range(2):
        procs.append(subprocess.Popen(
            [bin_path("mkdocs"), "build", "-d", str(tmp_path / f"site{n}")], cwd=site.root,
            env={**__import__("os").environ, "NANOBANANA_API_KEY": KEY},
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        ))
    outputs = [p.communicate(timeout=120) for p in procs]
    assert all(p.returncode == 0 for p in procs), outputs
    prompts = [r.json()["prompt"] for r in api.generate_requests]
    assert sorted(prompts) == [f"Shared {i}" for i in range(4)], "each key paid exactly once"
    assert site.cache.verify_entries() == {}
    for n in range(2):
        assert len(figures((tmp_path / f"site{n}" / "a" / "index.html").read_text())) == 4


def test_live_build_through_the_mkdocs_command(site, api):
    site.configure({"api_base": api.base})
    site.page("a.md", directive("Via the command line"))
    proc = run([bin_path("mkdocs"), "build"], cwd=site.root, env={"NANOBANANA_API_KEY": KEY, "NANOBANANA_MODE": "live"})
    assert "0 cached, 1 generated (2 credits ~ $0.02), 0 placeholders, 0 failed" in proc.stderr
    assert KEY not in proc.stderr and KEY not in proc.stdout


# --------------------------------------------------------------------------- downloads


def test_slow_answer_times_out_and_is_retried(live, api, caplog):
    live.configure({"api_base": api.base, "answer_timeout": 0.5, "retries": 2})
    fig = build_one(live, api, ["slow:1.5"], caplog)
    assert "nanobanana-placeholder" not in fig["class"]
    assert len(api.generate_requests) == 2


def test_redirect_to_another_host_gets_no_authorization(live, api, caplog):
    from tests.fakeapi import image_png

    with FakeAPI() as other:
        target = other.add_file(image_png((1024, 1024), 9))
        api.faults.append(answer_with_url(f"{api.origin}/redirect-to/{target.replace('/', '~')}"))
        fig = build_one(live, api, [], caplog)
    assert "nanobanana-placeholder" not in fig["class"]
    assert len(other.downloads) == 1 and "authorization" not in other.downloads[0].headers
    assert all("authorization" not in r.headers for r in api.downloads)


def test_redirect_loop_is_cut_and_not_bought_again(live, api, caplog):
    """A URL that redirects in a loop will loop again: no retry of it, and no second POST
    (which would pay for the image again)."""
    api.faults.append(answer_with_url(f"{api.origin}/loop/0"))
    fig = build_one(live, api, [], caplog)
    assert "nanobanana-placeholder" in fig["class"]
    loops = [r for r in api.downloads if r.path.startswith("/loop/")]
    assert len(loops) == 4  # the first request and 3 redirects, no more
    assert len(api.generate_requests) == 1


def test_download_over_the_size_cap_is_refused(live, api, caplog, monkeypatch):
    from tests.fakeapi import image_png

    monkeypatch.setattr(provider_http, "MAX_DOWNLOAD_BYTES", 10_000)
    big = image_png((1024, 1024), 3, photo=True)
    api.faults.extend([answer_with_url(api.add_file(big))] * 4)
    fig = build_one(live, api, [], caplog)
    assert "nanobanana-placeholder" in fig["class"]
    assert any("over the 10,000-byte cap" in m for m in warnings(caplog))


def test_decompression_bomb_is_refused_before_decoding(live, api, caplog):
    import io

    buf = io.BytesIO()
    Image.new("L", (7800, 7800)).save(buf, "PNG")  # 60 megapixels, a few KB on the wire
    api.faults.extend([answer_with_url(api.add_file(buf.getvalue()))] * 4)
    fig = build_one(live, api, [], caplog)
    assert "nanobanana-placeholder" in fig["class"]
    assert any("over the 40,000,000-pixel limit" in m for m in warnings(caplog))
    assert list(live.cache.keys()) == []


def test_a_repeat_of_an_over_budget_image_stays_unpaid(live, api, caplog):
    live.configure({"api_base": api.base, "max_credits": 2})
    live.page("a.md", directive("Fits") + directive("Too dear", variant="hd"))
    live.page("b.md", directive("Too dear", variant="hd", alt="the same key again"))
    live.build()
    assert [r.json()["prompt"] for r in api.generate_requests] == ["Fits"]
    assert "1 generated (2 credits ~ $0.02), 1 placeholder, 0 failed" in summary(caplog)


# --------------------------------------------------------------------------- more of the fault matrix


def test_429_without_retry_after_backs_off_and_retries(live, api, caplog):
    fig = build_one(live, api, ["429-no-header", "429-no-header"], caplog)
    assert "nanobanana-placeholder" not in fig["class"] and len(api.generate_requests) == 3


def test_slow_drip_answer_is_cut_at_the_timeout(live, api, caplog):
    """httpx's timeout is per read: a byte every 0.3 s never trips a 0.5 s read timeout.
    The build must still give up on that answer after `timeout` + `answer_timeout` in all."""
    live.configure({"api_base": api.base, "timeout": 0.5, "answer_timeout": 0.5, "retries": 1})
    started = time.monotonic()
    fig = build_one(live, api, ["drip:0.3"], caplog)
    assert time.monotonic() - started < 5  # the drip alone would take ~10 s
    assert "nanobanana-placeholder" not in fig["class"]  # the retry got a normal answer
    assert len(api.generate_requests) == 2


def test_connect_timeout_is_retried_then_a_placeholder(site, monkeypatch, caplog, fast_retries):
    from tests.fakeapi import StalledListener

    caplog.set_level(logging.INFO)
    monkeypatch.setenv("NANOBANANA_API_KEY", KEY)
    with StalledListener() as stalled:
        site.configure({"api_base": stalled.base, "timeout": 0.3, "retries": 1})
        site.page("a.md", "# A\n\n" + directive("Unreachable"))
        site.build()
    fig, = figures(site.html("a/index.html"))
    assert "nanobanana-placeholder" in fig["class"]
    msg = next(m for m in warnings(caplog) if "generation failed" in m)
    assert "could not be reached in time (the request was not sent)" in msg
    assert msg.startswith("nanobanana: docs/a.md:3:")
    assert site.cache.verify_entries() == {} and list(site.cache.keys()) == []


def test_refused_connection_names_the_host_and_what_to_check(site, monkeypatch, caplog, fast_retries):
    import socket

    caplog.set_level(logging.INFO)
    monkeypatch.setenv("NANOBANANA_API_KEY", KEY)
    with socket.socket() as s:  # a port that was free a moment ago: nothing listens there
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    site.configure({"api_base": f"http://127.0.0.1:{port}/v1", "retries": 1})
    site.page("a.md", "# A\n\n" + directive("Nobody home"))
    site.build()
    msg = next(m for m in warnings(caplog) if "generation failed" in m)
    assert msg.startswith("nanobanana: docs/a.md:3:")
    assert "could not connect to 127.0.0.1: check the network, or api_base in mkdocs.yml" in msg


def test_the_plugin_imports_no_http_library_until_it_calls_an_api():
    """httpx costs ~25 ms to import, and a warm or offline build calls no API: every
    `mkdocs build` of a site with the plugin would pay it for nothing. A live build
    connects in on_files, so connecting must not import it either."""
    code = ("import sys, mkdocs_nanobanana.plugin, mkdocs_nanobanana.cli\n"
            "assert 'httpx' not in sys.modules, 'httpx imported by the plugin'\n"
            "from mkdocs_nanobanana.providers import connect\n"
            "p = connect('nanobanana', None, 'k', 5, 2)\n"
            "p.close()\n"
            "assert 'httpx' not in sys.modules, 'httpx imported by connect'\n"
            "assert 'k' not in repr(p)\n")
    run([sys.executable, "-c", code], cwd=Path(__file__).parent)


def test_a_warm_build_never_imports_pillow(site):
    """Pillow costs ~25 ms to import, and a warm build touches no pixel (every copy, card
    and placeholder is in the cache): it must not pay for it (issue 22). The first build
    draws placeholders and needs it; the second, a real `mkdocs build`, must not import it."""
    site.configure({"social": {"generate": True}}, site_url="https://example.org/")
    for i in range(3):
        site.page(f"p{i}.md", f"# Page {i}\n\n" + directive(f"Image {i}"))
    run([bin_path("mkdocs"), "build"], cwd=site.root)
    code = ("import sys\nfrom mkdocs.__main__ import cli\n"
            "cli(['build', '-q'], standalone_mode=False)\n"
            "assert not any(m == 'PIL' or m.startswith('PIL.') for m in sys.modules), 'Pillow imported'\n")
    run([sys.executable, "-c", code], cwd=site.root)
