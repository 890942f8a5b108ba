"""num > 1 keeps what was paid for (issue 17, item 2): images that arrived before a call
or a download failed for good are kept, counted in the summary, and the next build asks
only for the rest. Real builds against the fake API, counting the paid POSTs."""

from __future__ import annotations

import json

from tests.support.commands import bin_path, run
from tests.support.directives import directive
from tests.support.html import figures
from tests.support.images import photo_png, settled
from tests.support.logs import summary, warnings
from tests.support.stops import wait_for_requests

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
    proc = run([bin_path("nanobanana"), "prune"], cwd=live.root)
    assert "in use by a build under way" in proc.stdout, "paid for a moment ago: a build may still be using it"
    assert len(list(partial.glob("*/*.png"))) == 2
    settled(live.cache)
    run([bin_path("nanobanana"), "prune"], cwd=live.root)
    assert list(partial.glob("*/*.png")) == []


# --------------------------------------------------------------------------- issue 33 item 13


def _partial_files(site, prompt: str, num: int, whole: int, cut: int) -> str:
    """Put ``whole`` good and ``cut`` truncated images into partial/ for the request of
    ``prompt`` (as a build that failed half-way, and then a damaged disk, would leave
    them); its key."""
    from mkdocs_nanobanana.core.catalog import FLASH_IMAGE_SIZES
    from mkdocs_nanobanana.core.request import Request

    key = Request(model="gemini-2.5-flash-image", prompt=prompt, ratio="1:1", num=num).key
    folder = site.cache.root / "partial" / key
    folder.mkdir(parents=True)
    for i in range(1, whole + cut + 1):
        data = photo_png(FLASH_IMAGE_SIZES["1:1"], seed=40 + i)
        (folder / f"{i}.png").write_bytes(data if i <= whole else data[: len(data) // 3])
    return key


def test_truncated_partial_files_are_not_counted_as_held(live, api, caplog):  # noqa: F811
    """Two partial files cut short are not images the buyer would take: plan and the
    budget count the whole num, so max_credits: 2 buys nothing (it used to approve 2
    credits and then pay 6)."""
    live.configure({"api_base": api.base, "max_credits": 2, "retries": 0})
    _partial_files(live, "Three of them", num=3, whole=0, cut=2)
    live.page("a.md", TEXT)
    plan = json.loads(run([bin_path("nanobanana"), "plan", "--json"], cwd=live.root).stdout)
    assert plan["total_credits"] == 6, "plan counts only the partial files the buyer would take"
    live.build()
    assert api.generate_requests == [], "6 credits is over max_credits 2: nothing is bought"
    assert "0 generated (0 credits" in summary(caplog)
    assert any("docs/a.md:3 needs 6 credits, more than max_credits 2" in m for m in warnings(caplog)), warnings(caplog)


def test_whole_partial_files_are_counted_and_only_the_rest_is_bought(live, api, caplog):  # noqa: F811
    live.configure({"api_base": api.base, "max_credits": 4, "retries": 0})
    key = _partial_files(live, "Three of them", num=3, whole=1, cut=1)  # one usable: 2 to buy
    live.page("a.md", TEXT)
    plan = json.loads(run([bin_path("nanobanana"), "plan", "--json"], cwd=live.root).stdout)
    assert plan["total_credits"] == 4
    live.build()
    post, = api.generate_requests
    assert post.json()["num"] == 2 and "1 generated (4 credits" in summary(caplog)
    entry = live.cache.get(key)
    assert entry is not None and len(entry.images) == 3


def test_a_kept_image_damaged_after_it_was_counted_is_never_paid_for_beyond_the_budget(live, api, caplog):  # noqa: F811
    """The budget approved 2 images (1 of 3 kept); the kept one is cut short before the
    purchase starts: the buyer does not pay for 3, it says so and the next build counts
    again."""
    import threading

    live.configure({"api_base": api.base, "concurrency": 1, "retries": 0})
    api.latency = 0.6
    key = _partial_files(live, "Three of them", num=3, whole=1, cut=0)
    live.page("a.md", "# A\n\n" + directive("One"))
    live.page("b.md", "# B\n\n" + directive("Two"))
    live.page("c.md", TEXT)  # its purchase waits for a network thread: a and b hold both

    def damage() -> None:
        wait_for_requests(api, 1)
        kept = live.cache.root / "partial" / key / "1.png"
        kept.write_bytes(kept.read_bytes()[:100])

    damaging = threading.Thread(target=damage)
    damaging.start()
    live.build()
    damaging.join()
    assert sorted(r.json()["prompt"] for r in api.generate_requests) == ["One", "Two"]
    said = warnings(caplog)
    assert any("docs/c.md:3: 3 image(s) to buy, but max_credits approved 2" in m for m in said), said
    caplog.clear()
    live.build()
    assert api.generate_requests[-1].json()["num"] == 3 and "1 generated (6 credits" in summary(caplog)
