"""Issue 34 items 3 and 4: sites sharing one cache_dir on one machine. `nanobanana prune`
run from one site while another site's build is under way keeps what that build has just
paid for; a damaged manifest (git conflict markers in a committed cache, or any JSON
that is not a manifest) makes prune refuse, naming the file, and a build never rewrites
it into a one-site manifest. Through real `mkdocs build` and `nanobanana` subprocesses
against the fake API."""

from __future__ import annotations

import json
import os
import subprocess
import time
from pathlib import Path

from mkdocs_nanobanana.store.cache import Cache
from tests.support.commands import bin_path, run
from tests.support.directives import directive
from tests.support.images import seed_cache, settled
from tests.support.live import KEY
from tests.support.sites import Site


def sharing(root: Path, name: str, api, pages: dict[str, str], **plugin) -> Site:
    """A site of its own whose cache_dir is the one folder every site here shares."""
    s = Site(root / name)
    s.docs.mkdir(parents=True)
    s.configure({"cache_dir": "../shared-cache", "api_base": api.base, "retries": 0, **plugin})
    for page, text in pages.items():
        s.page(page, text)
    return s


def live_env() -> dict[str, str]:
    env = {**os.environ, "NANOBANANA_API_KEY": KEY}
    env.pop("NANOBANANA_MODE", None)
    return env


def build(site: Site) -> subprocess.CompletedProcess:
    return run([bin_path("mkdocs"), "build"], cwd=site.root, env=live_env(), check=True)


def nb(site: Site, *args: str, check: bool = False) -> subprocess.CompletedProcess:
    return run([bin_path("nanobanana"), *args], cwd=site.root, env=live_env(), check=check)


def files_of(cache: Cache) -> set[Path]:
    return {p for p in cache.root.rglob("*") if p.is_file() and "locks" not in p.parts}


# --------------------------------------------------------------------------- item 3: prune during a build


def test_prune_from_one_site_during_another_sites_build_keeps_what_that_build_paid_for(tmp_path, api):
    """B's build pays for its first image and is still buying the second when A prunes:
    no site's record names B's new entry yet (a build records itself when it ends), and
    before issue 34 prune deleted it, so B's next build paid for it again."""
    pages_b = {"b.md": directive("B's first image") + directive("B's second image")}
    a = sharing(tmp_path, "a", api, {"a.md": directive("A's image")})
    b = sharing(tmp_path, "b", api, pages_b, concurrency=1)
    cache = Cache(tmp_path / "shared-cache")
    build(a)
    settled(cache)  # A's entry is old: the build that made it is long over
    api.latency = 3.0  # B's second purchase is under way for seconds after its first is stored
    proc = subprocess.Popen([bin_path("mkdocs"), "build"], cwd=b.root, env=live_env(), text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    while len(list(cache.keys())) < 2:  # A's entry and B's first
        assert proc.poll() is None and time.monotonic() < deadline, "B's first image is stored mid-build"
        time.sleep(0.05)
    pruned = nb(a, "prune", check=True)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    assert "in use by a build under way" in pruned.stdout and "removed 0 file(s)" in pruned.stdout, pruned.stdout
    assert len(list(cache.keys())) == 3 and cache.verify_entries() == {}
    posts = len(api.generate_requests)
    api.latency = 0.0
    again = build(b)
    assert len(api.generate_requests) == posts, "B's next build makes no request: nothing it paid for was pruned"
    assert "2 cached, 0 generated" in again.stderr


def test_prune_removes_an_unused_entry_once_it_has_settled(tmp_path, api):
    """The other side of the rule: the entry no site uses goes once no build can be
    using it any more (written longer ago than the settle age, its lock free)."""
    a = sharing(tmp_path, "a", api, {"a.md": directive("A's image")})
    cache = Cache(tmp_path / "shared-cache")
    stale = seed_cache(cache, "Nobody uses this")
    build(a)
    young = nb(a, "prune", check=True)
    assert f"kept entry {stale.key}: in use by a build under way" in young.stdout, young.stdout
    assert cache.get(stale.key) is not None
    settled(cache)
    old = nb(a, "prune", check=True)
    assert "in use by a build under way" not in old.stdout and cache.get(stale.key) is None


# --------------------------------------------------------------------------- item 4: a damaged manifest


def two_sites_with_records(tmp_path, api) -> tuple[Site, Site, Cache, dict]:
    one = sharing(tmp_path, "one", api, {"a.md": directive("One's image")})
    two = sharing(tmp_path, "two", api, {"a.md": directive("Two's image")})
    cache = Cache(tmp_path / "shared-cache")
    seed_cache(cache, "One's image")
    seed_cache(cache, "Two's image")
    seed_cache(cache, "Nobody uses this")
    build(one)
    build(two)
    settled(cache)
    return one, two, cache, json.loads(cache.manifest_path.read_text())


def conflicted(ours: dict, theirs: dict) -> str:
    """The manifest as `git merge` leaves it when both branches changed it: both sides
    between conflict markers (git-merge(1), "HOW CONFLICTS ARE PRESENTED")."""
    def text(m: dict) -> str:
        return json.dumps(m, sort_keys=True, indent=1) + "\n"
    return f"<<<<<<< HEAD\n{text(ours)}=======\n{text(theirs)}>>>>>>> feature\n"


def test_a_manifest_with_conflict_markers_stops_prune_and_the_next_build_keeps_every_site(tmp_path, api):
    one, two, cache, manifest = two_sites_with_records(tmp_path, api)
    sites = manifest["sites"]
    one_id, two_id = (next(s for s in sites if s.startswith(str(x.config_file))) for x in (one, two))
    # on our branch only site one was ever built; on theirs only site two
    ours = {**manifest, "sites": {one_id: sites[one_id]}}
    theirs = {**manifest, "sites": {two_id: sites[two_id]}}
    cache.manifest_path.write_text(conflicted(ours, theirs), encoding="utf-8")
    before = files_of(cache)
    proc = nb(one, "prune")
    assert proc.returncode == 1 and str(cache.manifest_path) in proc.stderr, proc.stderr
    assert "git conflict markers" in proc.stderr and "deletes nothing" in proc.stderr
    assert "--all-sites" in proc.stderr and "build any site" in proc.stderr
    assert files_of(cache) == before, "prune deleted nothing"
    log = build(one).stderr
    assert "had git conflict markers: both sides were read" in log, log
    recorded = json.loads(cache.manifest_path.read_text())["sites"]
    assert set(recorded) == {one_id, two_id}, "the other site's record is kept"
    assert recorded[two_id] == sites[two_id]
    assert [p.name.startswith("manifest.recovered-") for p in cache.root.glob("manifest.*-*.json")] == [True]
    proc = nb(two, "prune", check=True)  # the manifest is whole again: prune works, keeping both sites
    assert "removed 2 file(s)" in proc.stdout and len(list(cache.keys())) == 2


def test_a_damaged_manifest_stops_prune_and_a_build_sets_it_aside(tmp_path, api):
    """Not JSON at all (cut short): nothing to recover, so the build keeps the file
    aside and records its own site in a fresh manifest, and prune goes on refusing
    while that file holds records no manifest has."""
    one, two, cache, manifest = two_sites_with_records(tmp_path, api)
    text = cache.manifest_path.read_text()
    cache.manifest_path.write_text(text[: len(text) // 2], encoding="utf-8")
    before = files_of(cache)
    proc = nb(two, "prune")
    assert proc.returncode == 1 and f"{cache.manifest_path} is damaged" in proc.stderr, proc.stderr
    assert "git checkout" in proc.stderr and files_of(cache) == before
    log = build(two).stderr
    aside = list(cache.root.glob("manifest.damaged-*.json"))
    assert len(aside) == 1 and aside[0].read_text() == text[: len(text) // 2]
    assert f"it is kept as {aside[0].name}" in log, log
    assert len(json.loads(cache.manifest_path.read_text())["sites"]) == 1
    proc = nb(two, "prune")
    assert proc.returncode == 1 and aside[0].name in proc.stderr and len(list(cache.keys())) == 3
    proc = nb(two, "prune", "--all-sites", check=True)  # the user's way out: prune for this site alone
    assert not aside[0].exists() and len(list(cache.keys())) == 1
