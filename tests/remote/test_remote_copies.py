"""Issue 25 item 1: resized copies and social cards travel with the remote cache, so a
fresh runner (empty local cache, full bucket) builds with no API call and no encode.
Whole `mkdocs build`s on two "machines" sharing one bucket on moto's S3 server
(127.0.0.1), as in test_remote.py."""

from __future__ import annotations

import re
import sys

from mkdocs_nanobanana.build.remote_copies import unwrap, wrap
from tests.support.commands import bin_path, run
from tests.support.directives import directive
from tests.support.logs import summary, warnings
from tests.support.sites import machine

#: Three images, one of them a page's social card: copies and a card to share.
PAGE = ("# A\n\n" + directive("Shared copy 0") + directive("Shared copy 1", ratio="16:9")
        + directive("The cover", social=True, ratio="16:9"))


def made_files(site) -> dict[str, bytes]:
    """Every resized copy, backdrop and card in the site's local cache, by path under the
    cache; not a card background's cover crop, which only the machine that draws the card
    needs (Renderer.card_cover): a machine that fetches the card never makes it."""
    from mkdocs_nanobanana.cards.social import COVER

    return {p.relative_to(site.cache.root).as_posix(): p.read_bytes()
            for folder in ("derived", "social") for p in (site.cache.root / folder).rglob("*")
            if p.is_file() and f"-{COVER.tag}." not in p.name}


def published(site) -> dict[str, bytes]:
    return {p.relative_to(site.site).as_posix(): p.read_bytes()
            for p in (site.site / "assets" / "nanobanana").rglob("*") if p.is_file()}


def encoded(caplog) -> int:
    return int(re.search(r", encoded (\d+)", summary(caplog)).group(1))


def bucket_requests(caplog) -> list[str]:
    """What moto's server was asked since the log was last cleared."""
    return [r.getMessage() for r in caplog.records if r.name == "werkzeug"]


def site_on(tmp_path, name, api, bucket):
    site = machine(tmp_path, name, api, bucket)
    site.configure({"api_base": api.base, "remote_cache": bucket, "remote_cache_options": {"skip_instance_cache": True},
                    "retries": 1}, site_url="https://example.org/")
    site.page("a.md", PAGE)
    return site


def test_a_fresh_runner_takes_copies_and_cards_from_the_bucket_and_encodes_nothing(tmp_path, api, bucket, live_env,
                                                                                   caplog):
    one = site_on(tmp_path, "one", api, bucket)
    one.build()
    made = made_files(one)
    assert any(name.startswith("social/") for name in made) and len(made) > 3
    assert encoded(caplog) == len([n for n in made if not n.endswith(".json")]), "each copy and the card encoded once"
    assert sum(n.endswith("-backdrop-v1.json") for n in made) == 3, "the backdrops travel too: no decode on machine two"
    assert f"resized copies and cards: 0 fetched, {len(made)} uploaded" in summary(caplog)
    requests = len(api.generate_requests)
    caplog.clear()
    two = site_on(tmp_path, "two", api, bucket)
    two.build()
    assert len(api.generate_requests) == requests, "no API call on machine two"
    assert encoded(caplog) == 0, "no image encoded on machine two"
    assert f"resized copies and cards: {len(made)} fetched, 0 uploaded" in summary(caplog)
    assert made_files(two) == made, "the same bytes, under the same names"
    assert published(two) == published(one) and any("social" in name for name in published(two))
    assert not warnings(caplog)


def test_a_damaged_copy_is_refused_made_again_and_replaced(tmp_path, api, bucket, live_env, caplog):
    import fsspec

    one = site_on(tmp_path, "one", api, bucket)
    one.build()
    made = made_files(one)
    fs = fsspec.filesystem("s3", skip_instance_cache=True)
    root = bucket.removeprefix("s3://")
    card = next(name for name in made if name.startswith("social/"))
    webp = next(name for name in made if name.endswith(".webp"))
    jpeg = next(name for name in made if name.startswith("derived/") and name.endswith(".jpg"))
    whole = fs.cat_file(f"{root}/{webp}")
    damage = {
        webp: whole[: len(whole) // 2],  # a truncated upload
        card: wrap(made[card])[:-1] + b"\0",  # one byte changed
        jpeg: b"nanobanana-copy sha256=" + b"0" * 64 + b"\n" + made[jpeg],  # a hash line that lies
    }
    for name, data in damage.items():
        fs.pipe_file(f"{root}/{name}", data)
    caplog.clear()
    two = site_on(tmp_path, "two", api, bucket)
    two.build()
    unusable = [w for w in warnings(caplog) if "is unusable" in w and "made here again" in w]
    assert sorted(re.search(r"object (\S+) is", w).group(1) for w in unusable) == sorted(damage)
    assert encoded(caplog) == len(damage), "only the refused ones are encoded"
    assert f"{len(made) - len(damage)} fetched, {len(damage)} uploaded" in summary(caplog)
    assert made_files(two) == made, "nothing damaged reached the local cache"
    for name in damage:  # replaced by good ones
        assert unwrap(fs.cat_file(f"{root}/{name}"), name.rsplit(".", 1)[1]) == made[name]
    caplog.clear()
    site_on(tmp_path, "three", api, bucket).build()
    assert encoded(caplog) == 0 and not warnings(caplog)


def test_a_warm_build_asks_the_bucket_nothing(tmp_path, api, bucket, live_env, caplog):
    one = site_on(tmp_path, "one", api, bucket)
    one.build()
    assert bucket_requests(caplog), "the log shows the bucket's requests"
    caplog.clear()
    one.build()
    assert bucket_requests(caplog) == [] and encoded(caplog) == 0


def test_a_build_that_only_downloads_copies_imports_no_pillow(tmp_path, api, bucket, live_env):
    one = site_on(tmp_path, "one", api, bucket)
    one.build()
    made = made_files(one)
    for name in made:  # the originals stay: only the copies and the card must come back
        (one.cache.root / name).unlink()
    code = ("import sys\nfrom mkdocs.__main__ import cli\n"
            "cli(['build', '-q'], standalone_mode=False)\n"
            "assert not any(m == 'PIL' or m.startswith('PIL.') for m in sys.modules), 'Pillow imported'\n")
    proc = run([sys.executable, "-c", code], cwd=one.root)
    assert made_files(one) == made
    assert "Pillow imported" not in proc.stderr


def test_prune_remote_removes_the_copies_and_cards_no_page_uses(tmp_path, api, bucket, live_env, caplog):
    import fsspec

    one = site_on(tmp_path, "one", api, bucket)
    one.build()
    made = made_files(one)
    cover = next(e for e in map(one.cache.get, one.cache.keys()) if e.request.prompt == "The cover")
    gone = {name for name in made if name.startswith("social/") or cover.images[0].sha256 in name}
    one.page("a.md", "# A\n\n" + directive("Shared copy 0") + directive("Shared copy 1", ratio="16:9"))
    run([bin_path("nanobanana"), "prune", "--remote"], cwd=one.root)
    fs = fsspec.filesystem("s3", skip_instance_cache=True)
    root = bucket.removeprefix("s3://")
    left = {path.removeprefix(root + "/") for path in fs.find(root) if "/derived/" in path or "/social/" in path}
    assert left == set(made) - gone and gone
    caplog.clear()
    two = site_on(tmp_path, "two", api, bucket)
    two.page("a.md", "# A\n\n" + directive("Shared copy 0") + directive("Shared copy 1", ratio="16:9"))
    two.build()
    assert encoded(caplog) == 0, "what the pages use is still shared"


def test_prune_remote_keeps_the_card_and_copies_a_page_still_uses(tmp_path, api, bucket, live_env):
    """With every card's background in the local cache, prune --remote knows each card's
    key and keeps the cards in use (it crashed on a site with a card, found by mypy)."""
    import fsspec

    one = site_on(tmp_path, "one", api, bucket)
    one.build()
    made = made_files(one)
    assert any(name.startswith("social/") for name in made)
    out = run([bin_path("nanobanana"), "prune", "--remote"], cwd=one.root).stdout
    assert "removed 0 file(s)" in out
    fs = fsspec.filesystem("s3", skip_instance_cache=True)
    root = bucket.removeprefix("s3://")
    left = {path.removeprefix(root + "/") for path in fs.find(root) if "/derived/" in path or "/social/" in path}
    assert left == set(made)


def test_a_remote_original_whose_sidecar_lies_about_its_size_is_a_placeholder_not_a_crash(tmp_path, api, bucket,
                                                                                           live_env, caplog):
    """A build checks a fetched original by its sha256 only (no decode): if it must resize
    it after all, the decoded size is checked against the sidecar's."""
    import json

    import fsspec

    one = site_on(tmp_path, "one", api, bucket)
    one.build()
    fs = fsspec.filesystem("s3", skip_instance_cache=True)
    root = bucket.removeprefix("s3://")
    entry = next(e for e in map(one.cache.get, one.cache.keys()) if e.request.prompt == "Shared copy 0")
    sidecar = f"{root}/images/{entry.key[:2]}/{entry.key}.json"
    meta = json.loads(fs.cat_file(sidecar))
    meta["files"][0]["width"] = entry.images[0].width - 320  # a width under 1024: copies the bucket lacks
    fs.pipe_file(sidecar, json.dumps(meta).encode())
    caplog.clear()
    two = site_on(tmp_path, "two", api, bucket)
    two.build()
    said = [w for w in warnings(caplog) if "cannot be read" in w]
    assert len(said) == 1 and f"its sidecar says {entry.images[0].width - 320}x" in said[0], warnings(caplog)
    figure_tags = re.findall(r'<figure class="[^"]*"', two.html("a/index.html"))
    assert sum("nanobanana-placeholder" in tag for tag in figure_tags) == 1
