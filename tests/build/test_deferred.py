"""background.DeferredGeneration without MkDocs: the session budget, failed keys, debounce and
shutdown, with a real Buyer, cache and HTTP against the fake API."""

from __future__ import annotations

import threading
import time

import pytest

from mkdocs_nanobanana.build.deferred import DeferredGeneration
from mkdocs_nanobanana.build.purchase import Buyer, Purchase
from mkdocs_nanobanana.core.catalog import build_catalog
from mkdocs_nanobanana.core.reporting import Reporter
from mkdocs_nanobanana.core.request import Request
from mkdocs_nanobanana.core.settings import Settings, Timeouts
from mkdocs_nanobanana.providers import connect
from mkdocs_nanobanana.store.cache import Cache


@pytest.fixture
def make(tmp_path, api, fast_retries):
    made = []

    def build(max_credits=200, debounce=0.05, concurrency=2):
        settings = Settings(docs_dir=str(tmp_path / "docs"), site_dir=str(tmp_path / "site"),
                            cache_dir=str(tmp_path / "cache"), mode="live", retries=0, api_base=api.base,
                            catalog=build_catalog({}, "nanobanana"))
        cache = Cache(settings.cache_dir)
        provider = connect("nanobanana", api.base, "k", Timeouts(5, 5), concurrency)
        buyer = Buyer(provider, cache, settings, warnings.append)
        landed = threading.Semaphore(0)
        bg = DeferredGeneration(buyer, concurrency=concurrency, debounce=debounce, max_credits=max_credits,
                        on_landed=landed.release, report=Reporter(warnings.append))
        made.append(bg)
        return bg, cache, landed

    warnings: list[str] = []
    build.warnings = warnings
    yield build
    for bg in made:
        bg.close()


def job(prompt: str) -> Purchase:
    request = Request(model="gemini-2.5-flash-image", prompt=prompt, ratio="1:1", num=1)
    return Purchase(request, (), f"docs/a.md:{len(prompt)}", 2)


def jobs(*prompts: str) -> dict[str, Purchase]:
    return {j.request.key: j for j in map(job, prompts)}


def prompts(api) -> list[str]:
    return [r.json()["prompt"] for r in api.generate_requests]


def test_only_the_last_submission_is_generated(make, api):
    bg, cache, landed = make(debounce=0.3)
    bg.submit(jobs("v1"))
    bg.submit(jobs("v2"))
    bg.submit(jobs("v3", "other"))
    assert landed.acquire(timeout=10) and landed.acquire(timeout=10)
    assert sorted(prompts(api)) == ["other", "v3"]
    assert cache.get(job("v3").request.key) is not None


def test_the_budget_holds_for_the_whole_session(make, api):
    bg, _, landed = make(max_credits=4)
    bg.submit(jobs("a", "b", "c"))
    assert landed.acquire(timeout=10) and landed.acquire(timeout=10)
    time.sleep(0.3)
    bg.submit(jobs("d"))  # a later rebuild: the session has spent its 4 credits
    time.sleep(0.5)
    assert sorted(prompts(api)) == ["a", "b"]
    over = [w for w in make.warnings if "max_credits (4) reached for this serve session" in w]
    assert len(over) == 1 and "from docs/a.md:1 on" in over[0]


def test_a_failed_key_is_not_paid_again_on_the_next_rebuild(make, api):
    bg, _, landed = make()
    api.faults.append("policy")
    bg.submit(jobs("refused"))
    deadline = time.monotonic() + 10
    while bg.busy and time.monotonic() < deadline:
        time.sleep(0.05)
    bg.submit(jobs("refused"))
    time.sleep(0.4)
    assert prompts(api) == ["refused"] and bg.credits_left == 200  # refunded: nothing was paid
    assert any("refused this prompt" in w for w in make.warnings)


def test_close_keeps_what_is_in_flight(make, api):
    api.latency = 1.0
    bg, cache, _ = make()
    bg.submit(jobs("in flight"))
    deadline = time.monotonic() + 10
    while not api.generate_requests and time.monotonic() < deadline:
        time.sleep(0.02)
    bg.submit(jobs("in flight", "not started"))  # waits for the debounce
    bg.close()
    assert cache.get(job("in flight").request.key) is not None, "the paid image was stored"
    assert prompts(api) == ["in flight"]
