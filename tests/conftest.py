"""The fixtures every test folder shares (helpers are in tests/support/, the fake API
is tests/fakeapi.py); a fixture only one file uses stays in that file."""

from __future__ import annotations

import logging
import os
import threading
import uuid

import pytest

from tests.support.live import GKEY, KEY
from tests.support.sites import Site, new_site


def pytest_xdist_auto_num_workers(config):
    """``-n auto``: one worker more than the cores. About a third of the suite's time is
    waiting (the fake API's latencies, serve's debounce, MkDocs and Chromium starting in
    subprocesses), so a third worker keeps two cores busy: on 2 cores the default run took
    5 min 17 s with two workers and 4 min 24 s with three (2026-11-26)."""
    return (os.cpu_count() or 1) + 1


@pytest.fixture(autouse=True)
def _no_key(monkeypatch):
    """Tests never see a real key or mode from the developer's shell."""
    for name in ("NANOBANANA_API_KEY", "NANOBANANA_MODE", "GEMINI_API_KEY", "GOOGLE_API_KEY"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def site(tmp_path) -> Site:
    """An empty MkDocs project with the plugin at its defaults (offline: no key)."""
    return new_site(tmp_path / "proj")


@pytest.fixture
def count_placeholders(monkeypatch):
    """Counts placeholder renders (the offline 'generation') during builds."""
    from mkdocs_nanobanana.providers import placeholder

    calls = []
    real = placeholder.render

    def counting(text, key, size, index=1, of=1):
        calls.append(text)
        return real(text, key, size, index, of)

    monkeypatch.setattr(placeholder, "render", counting)
    return calls


@pytest.fixture
def warnings_log(caplog):
    caplog.set_level(logging.INFO)
    return caplog


@pytest.fixture
def api():
    """The fake NanoBanana/Gemini API on 127.0.0.1 (tests/fakeapi.py)."""
    from tests.fakeapi import FakeAPI

    with FakeAPI() as server:
        yield server


@pytest.fixture
def fast_retries(monkeypatch):
    """Backoff in hundredths of a second, so fault tests stay fast."""
    from mkdocs_nanobanana.providers import base

    monkeypatch.setattr(base, "BACKOFF_BASE", 0.01)
    monkeypatch.setattr(base, "BACKOFF_MAX", 0.05)


@pytest.fixture
def live_env(monkeypatch, caplog, fast_retries):
    """Live mode (the key is set) with fast retries and the build's INFO log captured."""
    caplog.set_level(logging.INFO)
    monkeypatch.setenv("NANOBANANA_API_KEY", KEY)


@pytest.fixture
def live(site, api, live_env):
    """A site in live mode against the fake API, with fast retries."""
    site.configure({"api_base": api.base, "concurrency": 4, "retries": 3, "timeout": 5})
    return site


@pytest.fixture
def gem(site, api, monkeypatch, caplog, fast_retries):
    """A site with provider: gemini against the fake API's Gemini-shaped route."""
    caplog.set_level(logging.INFO)
    monkeypatch.setenv("GEMINI_API_KEY", GKEY)
    monkeypatch.delenv("GOOGLE_API_KEY", raising=False)
    site.configure({"provider": "gemini", "api_base": f"{api.origin}/v1beta", "retries": 3, "timeout": 5})
    return site


@pytest.fixture(scope="module")
def s3():
    """An S3-compatible server (moto's server mode) on 127.0.0.1, one per test file."""
    from moto.s3.responses import S3Response
    from moto.server import ThreadedMotoServer

    # S3 decides a conditional write atomically: of concurrent PUTs with If-None-Match: *
    # one succeeds, the others get 412 (or 409 while it is in flight): AWS's "How to
    # prevent object overwrites with conditional writes". moto's put_object looks for the
    # object, then writes it, unlocked, on a threaded server: two runners' claims of one
    # key could both be created (seen: one image bought twice in test_fleet.py). A PUT
    # at a time makes the fake keep S3's promise.
    one_put = threading.Lock()
    real_put = S3Response.put_object

    def put_object(self):
        with one_put:
            return real_put(self)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(S3Response, "put_object", put_object)
        server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        server.start()
        host, port = server.get_host_and_port()
        yield f"http://{host}:{port}"
        server.stop()


@pytest.fixture
def bucket(s3, monkeypatch):
    """A fresh bucket; credentials and endpoint come from the environment, as in CI."""
    import boto3
    import fsspec

    for name, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                        "AWS_DEFAULT_REGION": "us-east-1", "AWS_ENDPOINT_URL": s3}.items():
        monkeypatch.setenv(name, value)
    name = f"nb-{uuid.uuid4().hex[:12]}"
    boto3.client("s3", endpoint_url=s3).create_bucket(Bucket=name)
    fsspec.config.conf.pop("s3", None)
    return f"s3://{name}/site-images"
