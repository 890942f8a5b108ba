"""The API key never leaks: every fault of the matrix and every command, all at DEBUG.

A recognisable fake key is set; after each run the test scans everything a user or a CI
log could see: captured log records (httpx's and httpcore's DEBUG lines and formatted
exceptions included), stdout/stderr of subprocesses, and every file of the project (the
built site, the cache, the review sheet).
"""

from __future__ import annotations

import io
import logging
import os
import subprocess

import pytest
from PIL import Image

from mkdocs_nanobanana.providers import base as provider_base
from mkdocs_nanobanana.providers import http as provider_http
from tests.fakeapi import FakeAPI, StalledListener, image_png
from tests.support.commands import bin_path
from tests.support.directives import directive
from tests.support.live import answer_with_url

KEY = "nb-HYGIENE-5e1f0c9a7b3d24e8"
GKEY = "AIza-HYGIENE-0c1d2e3f4a5b6c7d"

# Faults that end a call one way or another without stopping the build; the stops
# (401, 402, policy) go last because they end every call after them.
MATRIX = [
    "429", "429-no-header", "429:86400", "500", "502", "503", "slow:1.5", "drip:0.3",
    "reset", "malformed", "code", "html", "zero_byte", "truncated",
]
STOPS = ["policy", "402"]  # 402 stops every call after it; 401 gets a build of its own


def _bomb_url(api: FakeAPI) -> str:
    buf = io.BytesIO()
    Image.new("L", (7800, 7800)).save(buf, "PNG")  # 60 megapixels
    return api.add_file(buf.getvalue())


def assert_no_key(root, *texts, keys=(KEY,)):
    for key in keys:
        for text in texts:
            assert key not in text
        for path in root.rglob("*"):
            if path.is_file():
                assert key.encode() not in path.read_bytes(), path


@pytest.fixture
def debug_logs(caplog):
    """DEBUG for every logger, httpx's and httpcore's included (they log each request)."""
    caplog.set_level(logging.DEBUG)
    for name in ("httpx", "httpcore", "mkdocs", "mkdocs.plugins.nanobanana"):
        caplog.set_level(logging.DEBUG, logger=name)
    return caplog


def test_every_fault_at_debug_leaks_no_key(site, api, debug_logs, capfd, monkeypatch, fast_retries):
    monkeypatch.setenv("NANOBANANA_API_KEY", KEY)
    monkeypatch.setattr(provider_base, "RETRY_AFTER_CAP", 0.1)
    monkeypatch.setattr(provider_http, "MAX_DOWNLOAD_BYTES", 2_000_000)
    with FakeAPI() as other:
        elsewhere = other.add_file(image_png((1024, 1024), 9))
        faults = MATRIX + [
            answer_with_url(f"{api.origin}/redirect-to/{elsewhere.replace('/', '~')}"),
            answer_with_url(f"{api.origin}/loop/0"),
            answer_with_url(_bomb_url(api)),
            answer_with_url(api.add_file(image_png((2048, 2048), 3, photo=True))),  # over the cap
        ] + STOPS
        api.faults.extend(faults)
        site.configure({"api_base": api.base, "concurrency": 1, "retries": 0, "timeout": 0.5, "answer_timeout": 0.5})
        site.page("a.md", "# A\n\n" + "".join(directive(f"Image {i}") for i in range(len(faults) + 2)))
        site.build()
        assert not api.faults, "every fault of the matrix was served"
        assert other.downloads and all("authorization" not in r.headers for r in other.downloads)
        api.faults.append("401")
        site.page("b.md", "# B\n\n" + directive("After the key was refused"))
        site.build()
        assert not api.faults
    # the connect timeout, against a port that never accepts
    with StalledListener() as stalled:
        site.configure({"api_base": stalled.base, "timeout": 0.3, "retries": 0})
        site.page("a.md", "# A\n\n" + directive("Unreachable"))
        site.build()
    text = debug_logs.text
    assert "HTTP Request: POST" in text, "httpx's own logging was captured"
    assert "send_request_headers" in text, "httpcore's DEBUG logging was captured"
    assert any(r.exc_info or "Error" in r.getMessage() for r in debug_logs.records)
    out, err = capfd.readouterr()
    assert_no_key(site.root, text, out, err)


def test_gemini_faults_at_debug_leak_no_key(site, api, debug_logs, capfd, monkeypatch, fast_retries):
    monkeypatch.setenv("GEMINI_API_KEY", GKEY)
    faults = ["g429", "g500", "gtext", "gbadimage", "gblock:IMAGE_SAFETY", "gprompt:SAFETY", "gkey"]
    api.faults.extend(faults)
    site.configure({"provider": "gemini", "api_base": f"{api.origin}/v1beta", "concurrency": 1,
                    "retries": 0, "timeout": 2})
    site.page("a.md", "# A\n\n" + "".join(directive(f"Image {i}") for i in range(len(faults) + 1)))
    site.build()
    assert not api.faults
    assert all(r.headers.get("x-goog-api-key") == GKEY for r in api.gemini_requests)  # it was sent
    out, err = capfd.readouterr()
    assert_no_key(site.root, debug_logs.text, out, err, keys=(GKEY,))


def test_every_command_at_debug_leaks_no_key(site, api, tmp_path):
    """`mkdocs build -v`, `properdocs build -v` and every `nanobanana` command with -v."""
    site.configure({"api_base": api.base, "retries": 1})
    site.page("a.md", "# A\n\n" + directive("First") + directive("Second", num=2, pick=2))
    env = {**os.environ, "NANOBANANA_API_KEY": KEY, "NANOBANANA_MODE": "live"}
    nb = [bin_path("nanobanana"), "-v"]
    commands = [
        [*nb, "plan"], [*nb, "plan", "--json"],
        [*nb, "generate", "--yes"],  # a 500 then a 401 on the way
        [*nb, "generate", "--yes"],
        [*nb, "review", "-o", str(site.root / "review.html")],
        [*nb, "verify"], [*nb, "verify", "--fix"],
        [*nb, "prune", "--dry-run"], [*nb, "prune"],
        [*nb, "doctor"],
        [bin_path("mkdocs"), "build", "-v"],
        [bin_path("properdocs"), "build", "-v", "-d", "site-properdocs"],
    ]
    seen = []
    for cmd in commands:
        if cmd[2:4] == ["generate", "--yes"] and not seen[-1][0].startswith("generate"):
            api.faults.extend(["500", "401"])
        proc = subprocess.run(cmd, cwd=site.root, env=env, capture_output=True, text=True, timeout=120)
        seen.append((" ".join(cmd[2:]) if cmd[0] == nb[0] else " ".join(cmd[-2:]), proc.returncode))
        assert "Traceback" not in proc.stderr, (cmd, proc.stderr)
        assert KEY not in proc.stdout and KEY not in proc.stderr, cmd
    assert "DEBUG" in proc.stderr, "the last build ran at DEBUG"
    assert len(api.generate_requests) >= 3 and all(r.headers.get("authorization") == f"Bearer {KEY}"
                                                    for r in api.generate_requests)
    assert (site.root / "review.html").is_file() and (site.root / "site-properdocs").is_dir()
    assert_no_key(site.root)


def test_a_key_with_a_trailing_newline_is_sent_stripped(site, api):
    """`export KEY=$(cat key.txt)` keeps no newline, but secret stores and `echo` into
    a .env often do: the header must carry the key alone, and -v must not quote it."""
    site.configure({"api_base": api.base})
    site.page("a.md", directive("First"))
    env = {**os.environ, "NANOBANANA_API_KEY": KEY + " \n"}
    proc = subprocess.run([bin_path("nanobanana"), "-v", "generate", "--yes"], cwd=site.root, env=env,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert [r.headers.get("authorization") for r in api.generate_requests] == [f"Bearer {KEY}"]
    assert KEY not in proc.stdout + proc.stderr and "Traceback" not in proc.stderr


def test_a_server_message_that_echoes_the_key_is_scrubbed(api):
    """Whatever a server puts in its error text goes into our messages: never the key."""
    from mkdocs_nanobanana.core.settings import Timeouts
    from mkdocs_nanobanana.providers import connect
    from mkdocs_nanobanana.providers.base import AuthError, StopSignal

    provider = connect("nanobanana", api.base, KEY + "\n", Timeouts(5, 5), 1)
    stop = StopSignal()

    def echo(_resp):
        raise AuthError(f"the API refused the key (HTTP 401: invalid key {KEY})")

    real = provider._make()  # what its first call would make
    try:
        with pytest.raises(AuthError) as caught:
            real.ask(api.base + "/images/generate", {"prompt": "x"}, stop, echo)
    finally:
        real.close()
    assert KEY not in str(caught.value) and "[key]" in str(caught.value)
    assert KEY not in str(stop.reason), "the stop signal holds the scrubbed error too"


ECHOES = ["echo-key:message", "echo-key:url", "echo-key:file-url", "echo-key:redirect", "echo-key:header",
          "echo-key:code", "echo-key:policy"]


def test_a_key_the_server_sends_back_in_any_field_reaches_no_output(site, api, debug_logs, capfd, monkeypatch,
                                                                   fast_retries):
    """Issue 35, item 7: the fakes send the request's own key back in every field they
    can (error messages, a 200's code, the image URL as a non-http URL, in a real URL's
    path and query, in a redirect's Location, in response headers; Gemini's message),
    through an in-process build at DEBUG and `nanobanana -v generate` and `mkdocs build
    -v`: no log line, no stdout or stderr, no file of the site or the cache holds it."""
    monkeypatch.setenv("NANOBANANA_API_KEY", KEY)
    monkeypatch.setattr(provider_base, "RETRY_AFTER_CAP", 0.1)
    site.configure({"api_base": api.base, "concurrency": 1, "retries": 1, "timeout": 2})
    site.page("a.md", "# A\n\n" + "".join(directive(f"Echo {i}") for i in range(len(ECHOES))))
    for i, echo in enumerate(ECHOES):
        api.faults_for[f"Echo {i}"] = echo
    site.build()
    assert not api.faults_for, "every echo was served"
    said = [r.getMessage() for r in debug_logs.records if r.levelname == "WARNING"]
    assert any("ftp://files.example/[key].png" in m for m in said), said  # scrubbed where it was quoted
    assert "X-Echo-Key', b'[key]" in debug_logs.text, "httpcore logged the 429's headers, scrubbed"
    # the same through the commands, in subprocesses at -v
    env = {**os.environ, "NANOBANANA_API_KEY": KEY, "NANOBANANA_MODE": "live"}
    outputs = []
    for cmd in ([bin_path("nanobanana"), "-v", "generate", "--yes"], [bin_path("mkdocs"), "build", "-v"]):
        for i, echo in enumerate(ECHOES):
            api.faults_for[f"Echo {i}"] = echo
        proc = subprocess.run(cmd, cwd=site.root, env=env, capture_output=True, text=True, timeout=120)
        assert "Traceback" not in proc.stderr, proc.stderr
        outputs += [proc.stdout, proc.stderr]
    assert "[key]" in outputs[1] and "Location', b'/files/[key].png" in outputs[1], "the redirect was logged, scrubbed"
    # Gemini: its key in its message
    monkeypatch.setenv("GEMINI_API_KEY", GKEY)
    api.faults.append("gecho-key")
    site.configure({"provider": "gemini", "api_base": f"{api.origin}/v1beta", "retries": 0})
    site.page("b.md", "# B\n\n" + directive("Gemini echo"))
    site.build()
    assert not api.faults and any(r.headers.get("x-goog-api-key") == GKEY for r in api.gemini_requests)
    out, err = capfd.readouterr()
    assert_no_key(site.root, debug_logs.text, out, err, *outputs, keys=(KEY, GKEY))


def test_the_commands_error_output_is_scrubbed_too(site):
    """Every error a `nanobanana` command prints passes the same scrub: here the key
    is in a path the user gave (a review sheet named after it, in a folder that is not there)."""
    site.page("a.md", directive("First"))
    env = {**os.environ, "NANOBANANA_API_KEY": KEY}
    proc = subprocess.run([bin_path("nanobanana"), "review", "-o", str(site.root / "no-such-folder" / f"{KEY}.html")],
                          cwd=site.root, env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 1 and "Error: could not write" in proc.stderr and "[key].html" in proc.stderr
    assert KEY not in proc.stdout + proc.stderr
