"""The `nanobanana` command, run as a real subprocess against temporary sites and the fake API."""

from __future__ import annotations

import json
import os
import time
from html.parser import HTMLParser

import pytest

from tests.support.commands import bin_path, run
from tests.support.directives import directive
from tests.support.images import seed_cache, settled
from tests.support.live import KEY

SITE_PAGES = {
    "a.md": directive("Standard one", ratio="16:9") + directive("In HD", variant="hd"),
    "b.md": "# B\n\n" + directive("Four of them", num=4, pick=3, name="four"),
}



@pytest.fixture
def cli_site(site, api):
    site.configure({"api_base": api.base})
    for name, text in SITE_PAGES.items():
        site.page(name, text)
    return site


def nb(site, *args, env=None, check=False):
    return run([bin_path("nanobanana"), *args], cwd=site.root, env=env, check=check)


def test_help_of_every_command_has_examples(cli_site):
    for command in ("plan", "generate", "review", "prune", "verify", "doctor"):
        out = nb(cli_site, command, "--help", check=True).stdout
        assert "Examples:" in out and "-f, --config-file" in out, command


def test_plan_totals_and_no_request(cli_site, api):
    proc = nb(cli_site, "plan", "--json", check=True)
    data = json.loads(proc.stdout)
    assert data["total_credits"] == 2 + 5 + 4 * 2
    assert data["total_usd"] == 0.15
    assert data["counts"] == {"cached": 0, "missing": 3, "changed": 0, "error": 0}
    rows = {r["where"]: r for r in data["directives"]}
    assert rows["docs/b.md:3"]["name"] == "four" and rows["docs/b.md:3"]["num"] == 4
    assert rows["docs/a.md:6"]["model"] == "gemini-2.5-flash-image-hd"
    text = nb(cli_site, "plan", check=True).stdout
    assert "3 directive(s): 0 cached, 3 missing, 0 changed, 0 with errors" in text and "15 credits ~ $0.15" in text
    assert api.requests == []


def test_plan_states_cached_missing_changed(cli_site, api):
    seed_cache(cli_site.cache, "Standard one", ratio="16:9")
    cli_site.build()  # remembers each directive's key
    cli_site.page("b.md", "# B\n\n" + directive("Five of them", num=4, pick=3, name="four"))
    data = json.loads(nb(cli_site, "plan", "--json", check=True).stdout)
    states = {r["where"]: r["state"] for r in data["directives"]}
    assert states == {"docs/a.md:1": "cached", "docs/a.md:6": "missing", "docs/b.md:3": "changed"}
    assert data["total_credits"] == 5 + 8


def test_plan_reports_errors_at_page_line_and_exits_1(cli_site):
    cli_site.page("c.md", directive("Bad", num=12))
    proc = nb(cli_site, "plan")
    assert proc.returncode == 1
    assert "docs/c.md:3: 'num: 12' is out of range" in proc.stderr
    assert "1 with errors" in proc.stdout and "Traceback" not in proc.stderr


def test_missing_config_is_a_clear_error(tmp_path):
    proc = run([bin_path("nanobanana"), "plan", "-f", str(tmp_path / "nope.yml")], cwd=tmp_path, check=False)
    assert proc.returncode == 1 and "Error:" in proc.stderr and "Traceback" not in proc.stderr


def test_no_config_file_here_names_every_name_looked_for(tmp_path):
    proc = run([bin_path("nanobanana"), "plan"], cwd=tmp_path, check=False)
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    assert "no mkdocs.yml, mkdocs.yaml, properdocs.yml or properdocs.yaml in" in proc.stderr, proc.stderr


@pytest.fixture
def properdocs_site(site, api):
    """A ProperDocs site: its config is properdocs.yml (the name ProperDocs asks for), and
    there is no mkdocs.yml."""
    site.configure({"api_base": api.base, "mode": "offline"})
    site.config_file.rename(site.root / "properdocs.yml")
    site.page("index.md", "# Home\n\n" + directive("A lighthouse at dusk"))
    return site


def test_a_properdocs_site_is_found_and_named(properdocs_site, api):
    """Issue 38 item 5: with no -f the command reads properdocs.yml, says so, and its
    messages name that file; `properdocs build` names it too."""
    plan = nb(properdocs_site, "plan")
    assert plan.returncode == 0, plan.stderr
    assert "nanobanana: reading properdocs.yml (found in this folder)" in plan.stderr
    assert "1 directive(s): 0 cached, 1 missing" in plan.stdout
    generate = nb(properdocs_site, "generate", "--yes", env={"NANOBANANA_API_KEY": KEY})
    posts = lambda: [r for r in api.requests if r.method == "POST"]  # noqa: E731
    assert generate.returncode == 0 and len(posts()) == 1, generate.stdout + generate.stderr
    pruned = nb(properdocs_site, "prune", "--remote")
    assert pruned.returncode == 1 and "no remote_cache is set in properdocs.yml" in pruned.stderr
    (properdocs_site.docs / "b.md").write_text("# B\n\n" + directive("A rainy window"), encoding="utf-8")
    build = run([bin_path("properdocs"), "build"], cwd=properdocs_site.root, check=False)
    assert build.returncode == 0, build.stderr
    assert "mode: offline is set in properdocs.yml" in build.stderr
    assert "Set mode: auto in properdocs.yml" in build.stderr and "mkdocs.yml" not in build.stderr
    assert "1 cached, 0 generated" in build.stderr and len(posts()) == 1, "the build paid for nothing"


def test_mkdocs_yml_wins_and_the_other_file_is_named(properdocs_site):
    """A site moving from MkDocs to ProperDocs has both: the command reads mkdocs.yml, as
    `mkdocs build` would, and says properdocs.yml is not read."""
    (properdocs_site.root / "mkdocs.yml").write_text("site_name: Old\nplugins:\n  - nanobanana\n", encoding="utf-8")
    proc = nb(properdocs_site, "plan")
    assert proc.returncode == 0, proc.stderr
    assert "reading mkdocs.yml (found in this folder; properdocs.yml is there too, not read: -f properdocs.yml " \
           "reads it)" in proc.stderr
    explicit = nb(properdocs_site, "-f", "properdocs.yml", "plan")
    assert explicit.returncode == 0 and "reading" not in explicit.stderr


def test_generate_then_build_makes_no_request(cli_site, api, caplog):
    import logging

    caplog.set_level(logging.INFO)
    proc = nb(cli_site, "generate", "--yes", env={"NANOBANANA_API_KEY": KEY}, check=True)
    assert "3 image(s) to generate: 15 credits ~ $0.15" in proc.stdout
    assert "0 cached, 3 generated (15 credits ~ $0.15), 0 placeholders, 0 failed" in proc.stdout
    assert len(api.generate_requests) == 3
    assert not (cli_site.site).exists(), "generate does not build the site"
    assert cli_site.cache.verify_entries() == {}
    # the next build pays nothing and resizes nothing
    import os

    os.environ["NANOBANANA_API_KEY"] = KEY
    try:
        derived = {p: p.stat().st_mtime_ns for p in cli_site.cache.derived_dir.rglob("*.*")}
        cli_site.build()
    finally:
        del os.environ["NANOBANANA_API_KEY"]
    assert len(api.generate_requests) == 3
    assert {p: p.stat().st_mtime_ns for p in cli_site.cache.derived_dir.rglob("*.*")} == derived
    assert "3 cached, 0 generated" in caplog.text
    assert KEY not in proc.stdout + proc.stderr


def test_generate_refuses_without_yes_when_not_a_terminal(cli_site, api):
    proc = nb(cli_site, "generate", env={"NANOBANANA_API_KEY": KEY})
    assert proc.returncode == 1
    assert "pass --yes" in proc.stderr
    assert api.requests == []


def test_generate_without_key_names_the_variable(cli_site, api):
    proc = nb(cli_site, "generate", "--yes")
    assert proc.returncode == 1 and "NANOBANANA_API_KEY is not set" in proc.stderr
    assert api.requests == []


def test_generate_failure_exits_1_and_lists_what(cli_site, api):
    cli_site.configure({"api_base": api.base, "retries": 0, "concurrency": 1})
    api.faults_for["Standard one"] = "policy"  # docs/a.md:1
    proc = nb(cli_site, "generate", "--yes", env={"NANOBANANA_API_KEY": KEY})
    assert proc.returncode == 1
    assert "1 image(s) not generated:" in proc.stderr and "docs/a.md:1" in proc.stderr
    assert "refused this prompt" in proc.stderr


def test_generate_respects_max_credits(cli_site, api):
    proc = nb(cli_site, "generate", "--yes", "--max-credits", "7", env={"NANOBANANA_API_KEY": KEY})
    assert sorted(r.json()["prompt"] for r in api.generate_requests) == ["In HD", "Standard one"]
    assert proc.returncode == 1 and "docs/b.md:3" in proc.stderr  # the one over budget


class Candidates(HTMLParser):
    def __init__(self):
        super().__init__()
        self.figures, self.imgs, self.codes, self._code = [], [], [], False
        self.text = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "figure":
            self.figures.append(a.get("class", ""))
        elif tag == "img":
            self.imgs.append(a["src"])
        elif tag == "code":
            self._code = True

    def handle_endtag(self, tag):
        self._code = False if tag == "code" else self._code

    def handle_data(self, data):
        self.text.append(data)
        if self._code:
            self.codes.append(data)


def test_review_lists_every_candidate_self_contained(cli_site, tmp_path):
    seed_cache(cli_site.cache, "Four of them", num=4)
    cli_site.page("c.md", directive('<script>alert("x")</script> & co'))
    out = tmp_path / "sheet.html"
    nb(cli_site, "review", "-o", str(out), check=True)
    text = out.read_text()
    p = Candidates()
    p.feed(text)
    assert len(p.figures) == 1 + 1 + 4 + 1
    assert p.codes.count("pick: 1") == 4 and p.codes.count("pick: 4") == 1
    assert sum("shown" in f for f in p.figures) == 4  # the picked one of each directive
    assert all(src.startswith("data:image/jpeg;base64,") for src in p.imgs)
    assert text.count('class="badge">placeholder') == 3  # the 3 not yet generated
    assert "<script>alert" not in text and '<script>alert("x")</script> & co' in "".join(p.text)


def test_prune_removes_exactly_the_unused(cli_site):
    used = seed_cache(cli_site.cache, "Four of them", num=4)
    stale = seed_cache(cli_site.cache, "An old prompt", ratio="4:3")
    cli_site.build()  # makes derivatives of the used picks and of the placeholders
    settled(cli_site.cache)  # no build under way may be using the stale entry
    stale_derived = cli_site.cache.derived_path(stale.images[0].sha256, 480, "jpg", "q82")
    stale_derived.parent.mkdir(parents=True, exist_ok=True)
    stale_derived.write_bytes(b"old")
    half = cli_site.cache.image_path("ab" * 32, 1, "png")  # a candidate whose sidecar never came
    half.parent.mkdir(parents=True, exist_ok=True)
    half.write_bytes(b"half")
    os.utime(half, (time.time() - 3700, time.time() - 3700))  # younger, a build may be storing it now
    outside = cli_site.root / "keep-me.png"
    outside.write_bytes(b"not the cache's")
    before = cli_site.all_files()

    dry = nb(cli_site, "prune", "--dry-run", check=True)
    assert cli_site.all_files() == before
    assert "would remove 4 file(s)" in dry.stdout

    proc = nb(cli_site, "prune", check=True)
    gone = before - cli_site.all_files()
    assert gone == {cli_site.cache.sidecar_path(stale.key), stale.images[0].path, stale_derived, half}
    assert "removed 4 file(s)" in proc.stdout
    assert cli_site.cache.get(used.key) is not None and outside.exists()
    assert cli_site.cache.verify_entries() == {}


def test_verify_catches_truncated_and_swapped_then_fix(cli_site):
    a = seed_cache(cli_site.cache, "Standard one", ratio="16:9")
    b = seed_cache(cli_site.cache, "Four of them", num=4)
    good = seed_cache(cli_site.cache, "In HD", model="gemini-2.5-flash-image-hd")
    data = a.images[0].path.read_bytes()
    a.images[0].path.write_bytes(data[: len(data) // 3])
    b1, b2 = b.images[0].path.read_bytes(), b.images[1].path.read_bytes()
    b.images[0].path.write_bytes(b2)
    b.images[1].path.write_bytes(b1)
    proc = nb(cli_site, "verify")
    assert proc.returncode == 1
    assert str(a.images[0].path) in proc.stdout and str(b.images[0].path) in proc.stdout
    assert "3 entries checked, 2 bad" in proc.stdout
    fixed = nb(cli_site, "verify", "--fix", check=True)
    assert "2 bad, removed" in fixed.stdout
    assert nb(cli_site, "verify", check=True).stdout.strip().endswith("1 entry checked, 0 bad")
    assert cli_site.cache.get(good.key) is not None and cli_site.cache.get(a.key) is None


def test_verify_checks_hashes_and_decodes_only_with_decode(cli_site):
    """Issue 25 item 3: `verify` reads and hashes (I/O bound); `--decode` also decodes,
    which alone finds an entry whose sidecar recorded the hash of bytes that were never a
    good image, or the wrong pixel size. --fix works with both."""
    import hashlib

    flipped = seed_cache(cli_site.cache, "Standard one", ratio="16:9")
    never_good = seed_cache(cli_site.cache, "Four of them", num=4)
    wrong_size = seed_cache(cli_site.cache, "A third one")
    good = seed_cache(cli_site.cache, "In HD", model="gemini-2.5-flash-image-hd")
    data = flipped.images[0].path.read_bytes()
    middle = len(data) // 2
    flipped.images[0].path.write_bytes(data[:middle] + bytes([data[middle] ^ 1]) + data[middle + 1:])  # one bit
    sidecar = cli_site.cache.sidecar_path(never_good.key)
    meta = json.loads(sidecar.read_text())
    truncated = never_good.images[2].path.read_bytes()[:5000]  # stored cut short, its hash recorded as it was
    never_good.images[2].path.write_bytes(truncated)
    meta["files"][2].update(bytes=len(truncated), sha256=hashlib.sha256(truncated).hexdigest())
    sidecar.write_text(json.dumps(meta))
    sidecar = cli_site.cache.sidecar_path(wrong_size.key)
    meta = json.loads(sidecar.read_text())
    meta["files"][0]["width"] += 1
    sidecar.write_text(json.dumps(meta))

    by_hash = nb(cli_site, "verify")
    assert by_hash.returncode == 1 and "4 entries checked, 1 bad" in by_hash.stdout, by_hash.stdout
    assert f"bad: {flipped.images[0].path}: content does not match the sidecar's sha256" in by_hash.stdout
    assert "--decode also decodes" in by_hash.stdout
    decoded = nb(cli_site, "verify", "--decode")
    assert decoded.returncode == 1 and "4 entries checked, 3 bad" in decoded.stdout, decoded.stdout
    assert f"bad: {never_good.images[2].path}: not a readable image" in decoded.stdout
    assert f"bad: {wrong_size.images[0].path}: 1024x1024 pixels, sidecar says 1025x1024" in decoded.stdout
    fixed = nb(cli_site, "verify", "--decode", "--fix", check=True)
    assert "3 bad, removed" in fixed.stdout
    assert nb(cli_site, "verify", "--decode", check=True).stdout.strip().endswith("1 entry checked, 0 bad")
    assert cli_site.cache.get(good.key) is not None
    assert [cli_site.cache.get(e.key) for e in (flipped, never_good, wrong_size)] == [None] * 3


def test_plan_counts_a_shared_image_once_and_generate_pays_exactly_that(cli_site, api):
    """Two directives with the same prompt, ratio and model are one image, one request."""
    cli_site.page("c.md", "# C\n\n" + directive("Standard one", ratio="16:9"))  # as on a.md
    cli_site.page("d.md", directive("Standard one", ratio="16:9"))  # and a third time
    data = json.loads(nb(cli_site, "plan", "--json", check=True).stdout)
    rows = {r["where"]: r for r in data["directives"]}
    assert rows["docs/a.md:1"]["credits"] == 2 and rows["docs/a.md:1"]["note"] == ""
    for where in ("docs/c.md:3", "docs/d.md:1"):
        assert rows[where]["state"] == "missing" and rows[where]["credits"] == 0 and rows[where]["usd"] == 0
        assert rows[where]["note"] == "same image as docs/a.md:1"
    assert data["total_credits"] == 2 + 5 + 4 * 2 and data["total_usd"] == 0.15
    assert "(same image as docs/a.md:1)" in nb(cli_site, "plan", check=True).stdout
    proc = nb(cli_site, "generate", "--yes", env={"NANOBANANA_API_KEY": KEY}, check=True)
    assert "3 image(s) to generate: 15 credits ~ $0.15" in proc.stdout
    assert "(15 credits ~ $0.15)" in proc.stdout  # paid: what the plan said
    assert len(api.generate_requests) == 3


def test_with_materials_social_plugin_no_card_background_is_planned_or_paid(site, api):
    """Material's social plugin makes the cards and their meta tags: ours would be paid
    for and never shown. Checked through the command, which loads Material's plugin (a
    build would have it download its font from Google Fonts, out of reach here)."""
    site.page("a.md", "# A\n\n" + directive("A figure on the page"))
    site.page("b.md", "# B\n\nNo directive, but every page would get a card.\n")
    plugins = [{"social": {}}, {"nanobanana": {"api_base": api.base, "social": {"generate": True}}}]
    site.configure(theme={"name": "material"}, plugins=plugins)
    proc = nb(site, "plan", "--json", check=True)
    data = json.loads(proc.stdout)
    assert [r["where"] for r in data["directives"]] == ["docs/a.md:3"] and data["total_credits"] == 2
    assert proc.stderr.count("Material's social plugin is enabled too") == 1
    gen = nb(site, "generate", "--yes", env={"NANOBANANA_API_KEY": KEY}, check=True)
    assert len(api.generate_requests) == 1 and "(2 credits ~ $0.02)" in gen.stdout
    # Material's plugin turned off: our cards are back
    site.configure(theme={"name": "material"}, plugins=[{"social": {"enabled": False}}, plugins[1]])
    data = json.loads(nb(site, "plan", "--json", check=True).stdout)
    assert sum("social card" in r["note"] for r in data["directives"]) == 2


def test_verify_compares_the_cache_index_with_the_files(cli_site):
    """Issue 39 item 1: the index of sidecars is a cache of the files; `verify` names what
    it says that they do not (a sidecar edited in place, its folder's mtime kept), and
    --fix removes the index, which the next build writes again from the files."""
    entry = seed_cache(cli_site.cache, "Standard one", ratio="16:9")
    shard = cli_site.cache.sidecar_path(entry.key).parent
    stamp = shard.stat().st_mtime_ns - 10**10  # settled: written ten seconds ago
    os.utime(shard, ns=(stamp, stamp))
    cache = cli_site.cache
    assert cache.get_indexed(entry.key) is not None
    cache.save_indexes()
    assert nb(cli_site, "verify", check=True).stdout.strip().endswith("1 entry checked, 0 bad")
    sidecar = cache.sidecar_path(entry.key)
    meta = json.loads(sidecar.read_text())
    meta["credits"] = 99
    sidecar.write_text(json.dumps(meta))
    os.utime(shard, ns=(stamp, stamp))
    proc = nb(cli_site, "verify")
    assert proc.returncode == 1
    assert f"index-images.json differs from {entry.key[:2]}/{entry.key}.json" in proc.stdout
    fixed = nb(cli_site, "verify", "--fix", check=True)
    assert "index removed" in fixed.stdout and not (cache.root / "index-images.json").exists()
    assert nb(cli_site, "verify", check=True).stdout.strip().endswith("1 entry checked, 0 bad")
