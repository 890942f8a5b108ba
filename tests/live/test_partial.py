"""num > 1 keeps what was paid for (issue 17, item 2): images that arrived before a call
or a download failed for good are kept, counted in the summary, and the next build asks
only for the rest. Real builds against the fake API, counting the paid POSTs."""

from __future__ import annotations

import json

from tests.support.commands import bin_path, run
from tests.support.directives import directive
from tests.support.html import figures
from tests.support.logs import summary, warnings

TEXT = "# A\n\n" + directive("Three of them", num=3, pick=3)


def built(site, api, faults):
    api.faults.extend(faults)
    site.page("a.md", TEXT)
    site.build()
    fig, = figures(site.html("a/index.html"))
    return fig


def test_gemini_keeps_the_calls_that_succeeded_and_asks_only_for_the_rest(gem, api, caplog):  # noqa: F811
    gem.configure({"provider": "gemini", "api_base": f"{api.origin}/v1beta", "concurrency": 1, "retries": 3})
    fig = built(gem, api, [None, "gblock:IMAGE_SAFETY"])
    assert len(api.gemini_requests) == 3  # 2 images made, 1 refused (not retried)
    assert "nanobanana-placeholder" in fig["class"]
    assert "0 generated (8 credits ~ $0.08), 0 placeholders, 1 failed" in summary(caplog)  # 2 images x 4 credits
    msg = next(m for m in warnings(caplog) if "refused this prompt" in m)
    assert "2 image(s) that arrived are kept" in msg
    kept = {p.read_bytes() for p in (gem.cache.root / "partial").glob("*/*.png")}
    assert len(kept) == 2

    caplog.clear()
    fig = built(gem, api, [])
    assert len(api.gemini_requests) == 4, "the next build pays for the missing image only"
    assert "nanobanana-placeholder" not in fig["class"]
    assert "0 cached, 1 generated (4 credits ~ $0.04)" in summary(caplog)
    entry, = (gem.cache.get(k) for k in gem.cache.keys())
    assert len(entry.images) == 3 and len({i.sha256 for i in entry.images}) == 3
    assert kept <= {i.path.read_bytes() for i in entry.images}
    assert not (gem.cache.root / "partial" / entry.key).exists()


def test_gemini_keeps_what_was_paid_when_the_account_runs_dry(gem, api, caplog):  # noqa: F811
    gem.configure({"provider": "gemini", "api_base": f"{api.origin}/v1beta", "concurrency": 1, "retries": 3})
    fig = built(gem, api, [None, "gquota-depleted"])
    assert len(api.gemini_requests) == 2, "the third call is never sent"
    assert "nanobanana-placeholder" in fig["class"]
    assert "0 generated (4 credits" in summary(caplog)
    assert len([m for m in warnings(caplog) if "no further API calls" in m]) == 1
    assert any("1 image(s) that arrived are kept" in m for m in warnings(caplog))
    caplog.clear()
    built(gem, api, [])
    assert len(api.gemini_requests) == 4  # 2 more calls, not 3
    entry, = (gem.cache.get(k) for k in gem.cache.keys())
    assert len(entry.images) == 3


def test_nanobanana_keeps_the_downloads_that_worked(live, api, caplog):  # noqa: F811
    """The answer's second URL fails every GET (an object store that stays unavailable
    longer than our retries): the other two images are kept; the next build asks for 1."""
    fig = built(live, api, ["get503always:2"])
    assert len(api.generate_requests) == 1
    assert len(api.downloads) == 2 + 4  # two fine, one tried 1 + retries (3) times
    assert "nanobanana-placeholder" in fig["class"]
    assert "0 generated (4 credits ~ $0.04), 0 placeholders, 1 failed" in summary(caplog)
    assert any("2 image(s) that arrived are kept" in m for m in warnings(caplog))
    plan = json.loads(run([bin_path("nanobanana"), "plan", "--json"], cwd=live.root).stdout)
    assert plan["total_credits"] == 2, "plan says what the next build pays: one image"

    caplog.clear()
    fig = built(live, api, [])
    assert len(api.generate_requests) == 2
    assert api.generate_requests[-1].json()["num"] == 1, "only the missing image is bought"
    assert "nanobanana-placeholder" not in fig["class"]
    assert "0 cached, 1 generated (2 credits" in summary(caplog)
    entry, = (live.cache.get(k) for k in live.cache.keys())
    assert len(entry.images) == 3 and len({i.sha256 for i in entry.images}) == 3


def test_prune_keeps_a_partial_entry_in_use_and_drops_one_that_is_not(live, api, caplog):  # noqa: F811
    built(live, api, ["get503always:2"])
    partial = live.cache.root / "partial"
    assert len(list(partial.glob("*/*.png"))) == 2
    run([bin_path("nanobanana"), "prune"], cwd=live.root)
    assert len(list(partial.glob("*/*.png"))) == 2, "its directive still wants it"
    live.page("a.md", "# A\n\nNo images any more.\n")
    run([bin_path("nanobanana"), "prune"], cwd=live.root)
    assert list(partial.glob("*/*.png")) == []
