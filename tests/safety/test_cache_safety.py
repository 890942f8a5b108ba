"""Issue 18 items 1-7: nothing paid for is lost, nothing not ours is touched, and a
damaged cache (or a damaged remote store) is a warning, never a crash. Through real
`mkdocs build`s and real `nanobanana` subprocesses against the fake API."""

from __future__ import annotations

import json

import pytest
from PIL import Image

from mkdocs_nanobanana.core.catalog import FLASH_IMAGE_SIZES
from mkdocs_nanobanana.core.request import Request
from tests.support.commands import bin_path, run
from tests.support.directives import directive
from tests.support.images import photo_png, seed_cache, settled
from tests.support.live import KEY
from tests.support.logs import warnings
from tests.support.sites import machine


def nb(site, *args, env=None, check=False):
    return run([bin_path("nanobanana"), *args], cwd=site.root, env=env, check=check)


# --------------------------------------------------------------------------- item 7: sidecars

#: Ways a sidecar can be wrong while still being JSON, each a function of the good one.
MALFORMED = {
    "sha256 is a number": lambda m: m["files"][0].update(sha256=12345),
    "name is ..": lambda m: m["files"][0].update(name=".."),
    "name climbs out": lambda m: m["files"][0].update(name="../../../../../escaped.png"),
    "name of another entry": lambda m: m["files"][0].update(name="0" * 64 + "-1.png"),
    "files is an object": lambda m: m.update(files={"name": "x"}),
    "num is true": lambda m: m.update(num=True),
    "prompt is missing": lambda m: m.pop("prompt"),
    "width is text": lambda m: m["files"][0].update(width="1024"),
    "alpha is a number": lambda m: m["files"][0].update(alpha=0),
    "refs hold a number": lambda m: m.update(refs=[7]),
}
RAW = {"a list": b"[1, 2]", "nested too deep": b"[" * 100_000, "not UTF-8": b"\xff\xfe{}"}


def _damage(path, how: str) -> None:
    if how in RAW:
        path.write_bytes(RAW[how])
        return
    meta = json.loads(path.read_bytes())
    MALFORMED[how](meta)
    path.write_text(json.dumps(meta), encoding="utf-8")


DAMAGES = list(MALFORMED) + list(RAW)


def test_malformed_remote_sidecars_are_rejected_and_regenerated(tmp_path, api, live_env, caplog):
    store = tmp_path / "store"
    store.mkdir()
    pages = "# A\n\n" + "".join(directive(f"Image {i}") for i in range(len(DAMAGES)))
    one = machine(tmp_path, "one", api, str(store))
    one.page("a.md", pages)
    one.build()
    assert len(api.generate_requests) == len(DAMAGES)
    sidecars = sorted(store.glob("images/*/*.json"))
    assert len(sidecars) == len(DAMAGES)
    for path, how in zip(sidecars, DAMAGES, strict=True):
        _damage(path, how)

    check = run([bin_path("nanobanana"), "verify", "--remote"], cwd=one.root, check=False)
    assert check.returncode == 1 and "Traceback" not in check.stderr, check.stderr
    assert f"{len(DAMAGES)} entries checked, {len(DAMAGES)} bad" in check.stdout

    caplog.clear()
    two = machine(tmp_path, "two", api, str(store))
    two.page("a.md", pages)
    two.build()  # no traceback: each is a remote failure, paid again and replaced
    assert len(api.generate_requests) == 2 * len(DAMAGES)
    assert sum("is unusable" in w for w in warnings(caplog)) == len(DAMAGES)
    assert not list(tmp_path.rglob("escaped.png"))
    assert two.cache.verify_entries() == {}
    fixed = run([bin_path("nanobanana"), "verify", "--remote"], cwd=two.root, check=False)
    assert fixed.returncode == 0 and f"{len(DAMAGES)} entries checked, 0 bad" in fixed.stdout


def test_malformed_local_sidecars_are_bad_entries_not_crashes(site, api, live_env, caplog):
    site.configure({"api_base": api.base, "retries": 1})
    site.page("a.md", "# A\n\n" + "".join(directive(f"Image {i}") for i in range(len(DAMAGES))))
    site.build()
    keys = sorted(site.cache.keys())
    for key, how in zip(keys, DAMAGES, strict=True):
        _damage(site.cache.sidecar_path(key), how)
    check = nb(site, "verify")
    assert check.returncode == 1 and "Traceback" not in check.stderr, check.stderr
    assert f"{len(DAMAGES)} entries checked, {len(DAMAGES)} bad" in check.stdout
    assert nb(site, "plan").returncode == 0
    site.build()
    assert len(api.generate_requests) == 2 * len(DAMAGES), "each damaged entry is paid again, once"
    assert site.cache.verify_entries() == {}


# --------------------------------------------------------------------------- items 1-2: prune's reach


def _hex_key(i: int) -> str:
    return f"{i:02x}" * 32


@pytest.mark.parametrize("cache_dir,words", [
    (".", "contains the project folder"),
    ("..", "contains the project folder"),
    ("/", "contains the project folder"),
    ("site", "inside site_dir"),
    ("site/.cache", "inside site_dir"),
    ("docs", "inside docs_dir"),
    ("docs/images/cache", "inside docs_dir"),
])
def test_a_cache_dir_that_holds_the_project_or_lives_in_the_site_is_refused(site, cache_dir, words):
    site.configure({"cache_dir": cache_dir})
    shot = site.page("images/screenshots/login.png", "a screenshot")
    site.page("a.md", directive("A"))
    for cmd in (["prune"], ["plan"]):
        proc = nb(site, *cmd)
        assert proc.returncode == 1 and "cache_dir" in proc.stderr and words in proc.stderr, proc.stderr
    build = run([bin_path("mkdocs"), "build"], cwd=site.root, check=False)
    assert build.returncode == 1 and "cache_dir" in build.stderr and words in build.stderr, build.stderr
    assert shot.read_text() == "a screenshot" and (site.root / "mkdocs.yml").exists()


@pytest.mark.parametrize("output_dir", ["../outside", "/abs/path", ".", "", "a/../../b", "C:/x"])
def test_an_output_dir_outside_site_dir_is_refused(site, output_dir):
    site.configure({"output_dir": output_dir})
    build = run([bin_path("mkdocs"), "build"], cwd=site.root, check=False)
    assert build.returncode == 1 and "output_dir" in build.stderr and "inside site_dir" in build.stderr
    assert not (site.root / "outside").exists()


def test_prune_deletes_only_files_it_wrote(site):
    """A cache_dir shared with other files: prune removes the unused entry and leaves
    every file whose name or place is not the cache's own, a symlink included."""
    site.configure({"cache_dir": "assets"})
    cache = type(site.cache)(site.root / "assets")
    used = seed_cache(cache, "A")
    stale = seed_cache(cache, "Gone from the pages")
    site.page("a.md", directive("A"))
    site.build()
    settled(cache)
    project_png = site.root / "logo.png"
    project_png.write_bytes(b"the project's logo")
    theirs = {
        "images/screenshots/login.png": b"screenshot",  # not a shard folder
        f"images/{stale.key[:2]}/notes.txt": b"notes",  # a shard folder, not our name
        f"images/{stale.key[:2]}/{stale.key}.json.bak": b"{}",
        f"images/{_hex_key(0x11)[:2]}/{_hex_key(0x22)}-1.png": b"wrong shard",  # our name, wrong folder
        f"images/{_hex_key(0x33)[:2]}/{_hex_key(0x33)}-1.PNG": b"upper case",
        "derived/README.md": b"readme",
        f"derived/{_hex_key(0x44)[:2]}/{_hex_key(0x44)}-480w-q82.gif": b"not a format we write",
        "images/x.json": b"{}",
    }
    for rel, data in theirs.items():
        path = site.root / "assets" / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    link = site.root / "assets" / "images" / _hex_key(0x55)[:2] / f"{_hex_key(0x55)}-1.png"
    link.parent.mkdir(parents=True, exist_ok=True)
    link.symlink_to(project_png)
    before = site.all_files()

    proc = nb(site, "prune", check=True)
    gone = before - site.all_files()
    assert gone == {cache.sidecar_path(stale.key), stale.images[0].path}, proc.stdout + proc.stderr
    assert link.is_symlink() and project_png.read_bytes() == b"the project's logo"
    assert cache.get(used.key) is not None
    for rel in ("images/screenshots", f"images/{stale.key[:2]}/notes.txt", "derived/README.md", "images/x.json"):
        assert f"not ours, left alone: {site.root / 'assets' / rel}" in proc.stdout, proc.stdout
    assert f"not ours, left alone: {link}" in proc.stdout
    assert "removed 2 file(s)" in proc.stdout


# --------------------------------------------------------------------------- item 5: temp files


def test_a_build_leaves_another_writers_temp_files_and_removes_old_ones(site):
    """A concurrent build in another container or on another machine: its pid may be
    any process's here, or none. Only age decides."""
    import os
    import subprocess
    import time

    entry = seed_cache(site.cache, "A")
    site.page("a.md", directive("A"))
    folder = site.cache.temp.path  # <cache>/tmp: where every write starts
    other = subprocess.Popen(["sleep", "60"])  # some other live process
    gone = subprocess.Popen(["true"])
    gone.wait()
    try:
        live_other = folder / f"{entry.key}-2.png.{other.pid}.a1b2.tmp"
        dead_here = folder / f"{entry.key}-3.png.{gone.pid}.c3d4.tmp"  # alive in its own namespace
        host_pid = folder / f"{entry.key}-4.png.ci-runner-7-{os.getpid() + 100000}.e5f6.tmp"
        old = folder / f"{entry.key}-5.png.{other.pid}.g7h8.tmp"
        for f in (live_other, dead_here, host_pid, old):
            f.write_bytes(b"a paid image, half written")
        os.utime(old, (time.time() - 3700, time.time() - 3700))
        site.build()
        assert live_other.exists() and dead_here.exists() and host_pid.exists()
        assert not old.exists()
    finally:
        other.kill()
        other.wait()


def test_a_killed_writers_temp_file_goes_after_its_age_and_a_build_lists_no_shard(site, monkeypatch):
    """Issue 26: temp files live in <cache>/tmp, so a build's cleanup never walks
    images/ or derived/ (72,801 files at 20,000 pages). A writer killed between its temp
    file and the rename leaves the temp file there; a build removes it once it is older
    than the longest write could take, and lists no folder of images/ or derived/."""
    import os
    import time

    from mkdocs_nanobanana.store import temp

    seed_cache(site.cache, "Paid for")
    site.page("a.md", directive("Paid for") + directive("A placeholder"))
    site.build()  # a warm cache: images, sidecars and resized copies in their shards
    assert any(site.cache.derived_dir.rglob("*.webp")) and any(site.cache.images_dir.rglob("*.json"))
    settled(site.cache)
    site.build()  # the cache's index of them: the next build reads no shard (issue 39)

    def killed(self, path, data):  # the rename never comes: the process died after the write
        self._temp_file(path, data)
        raise SystemExit(137)

    monkeypatch.setattr(temp.TempFolder, "atomic_write", killed)
    with pytest.raises(SystemExit):
        site.cache.write_manifest({"x": "0" * 64})
    monkeypatch.undo()
    (stray,) = list(site.cache.temp.path.iterdir())
    assert stray.name.startswith("manifest.json.") and stray.name.endswith(".tmp")

    listed: list[str] = []  # every folder the build lists, by any of the calls that list one

    def recording(real):
        def listing(path=".", *args, **kwargs):
            listed.append(os.fspath(path) if isinstance(path, (str, os.PathLike)) else repr(path))
            return real(path, *args, **kwargs)
        return listing

    for name in ("scandir", "listdir", "walk"):
        monkeypatch.setattr(os, name, recording(getattr(os, name)))
    site.build()
    assert stray.exists()  # young: it could be a live writer's
    os.utime(stray, (time.time() - 3700, time.time() - 3700))
    site.build()
    assert not stray.exists()
    shards = [p for p in listed if p.startswith((os.fspath(site.cache.images_dir), os.fspath(site.cache.derived_dir)))]
    assert shards == [] and os.fspath(site.cache.temp.path) in listed, listed


def test_prune_removes_old_temp_files_and_those_earlier_versions_left_beside_files(site):
    """Temp files of dead writers are a class of their own in prune: in tmp/, and the
    `.<name>.<writer>.<random>.tmp` files earlier versions wrote in the shards (a walk
    only prune does). Young ones stay: a live writer may be finishing them."""
    import os
    import re
    import time

    entry = seed_cache(site.cache, "Kept")
    site.page("a.md", directive("Kept"))
    site.build()
    shard = entry.images[0].path.parent
    old_style = shard / f".{entry.key}-1.png.ci-7-1234.ab12.tmp"
    old_style.write_bytes(b"x" * 1000)
    young_old_style = shard / f".{entry.key}.json.ci-7-1234.young.tmp"
    young_old_style.write_bytes(b"y")
    os.utime(old_style, (time.time() - 3700, time.time() - 3700))
    site.build()
    assert old_style.exists(), "a build never walks the shards for temp files"
    new_style = site.cache.temp.path / f"{entry.key}.json.ci-7-1234.cd34.tmp"  # a build would remove it
    new_style.write_bytes(b"z" * 234)
    os.utime(new_style, (time.time() - 3700, time.time() - 3700))
    young = site.cache.temp.path / f"{entry.key}-1.png.ci-7-1234.ef56.tmp"
    young.write_bytes(b"young")

    dry = nb(site, "prune", "--dry-run", check=True).stdout
    rows = re.findall(r"^  (\w+): (\d+) file\(s\), ([\d,]+) bytes", dry, re.M)
    classes = {c: (int(n), int(b.replace(",", ""))) for c, n, b in rows}
    assert set(classes) == {"entries", "partial", "derived", "cards", "locks", "temp"}, dry
    assert classes["temp"] == (2, 1234), dry
    assert old_style.exists() and new_style.exists()
    nb(site, "prune", check=True)
    assert not old_style.exists() and not new_style.exists()
    assert young.exists() and young_old_style.exists() and site.cache.get(entry.key) is not None


# --------------------------------------------------------------------------- item 6: a damaged cache


def _flip_middle(data: bytes) -> bytes:
    mid = len(data) // 2
    return data[:mid] + bytes(b ^ 0x5A for b in data[mid:mid + 64]) + data[mid + 64:]


DAMAGED_BYTES = {
    "flipped bytes": _flip_middle,
    "zeroed second half": lambda d: d[: len(d) // 2] + bytes(len(d) - len(d) // 2),
    "text of the same size": lambda d: (b"not an image " * len(d))[: len(d)],
}


def test_a_damaged_cached_image_is_a_warning_and_a_placeholder_never_a_crash(site, api, caplog, monkeypatch,
                                                                             fast_retries):
    """Same size, other bytes: the stat check passes, the decode fails. The build, the
    card and review warn and show placeholders; verify lists them; after verify --fix a
    live build pays for exactly the damaged images again."""
    import logging

    caplog.set_level(logging.INFO)
    site.configure({"api_base": api.base, "retries": 1})
    pages, entries = "", []
    for i in range(len(DAMAGED_BYTES)):
        extra = {"social": True} if i == 0 else {}
        pages += directive(f"Damaged {i}", num=2, pick=2, **extra)
        request = Request(model="gemini-2.5-flash-image", prompt=f"Damaged {i}", ratio="1:1", num=2)
        candidates = [photo_png(FLASH_IMAGE_SIZES["1:1"], seed=10 * i + j) for j in range(2)]  # bytes of its own
        entries.append(site.cache.put(request, candidates, provider="test", credits=4))
    site.page("a.md", "# A\n\n" + pages)
    for entry, damage in zip(entries, DAMAGED_BYTES.values(), strict=True):
        path = entry.images[1].path
        path.write_bytes(damage(path.read_bytes()))
    site.build()
    html = site.html("a/index.html")
    assert html.count("nanobanana-placeholder") == len(DAMAGED_BYTES)
    for entry in entries:
        assert any(str(entry.images[1].path) in w and "verify --fix" in w for w in warnings(caplog)), warnings(caplog)
    assert 'property="og:image"' in html

    review = nb(site, "review", "-o", str(site.root / "sheet.html"))
    assert review.returncode == 0 and "Traceback" not in review.stderr, review.stderr
    assert review.stderr.count("cannot be read") == len(DAMAGED_BYTES)
    check = nb(site, "verify")
    assert check.returncode == 1 and f"{len(DAMAGED_BYTES)} bad" in check.stdout
    nb(site, "verify", "--fix", check=True)
    monkeypatch.setenv("NANOBANANA_API_KEY", KEY)
    site.build()
    assert len(api.generate_requests) == len(DAMAGED_BYTES)
    # verify --fix kept each entry's intact first image in partial/ (issue 33 item 12): one image is bought
    assert [r.json()["num"] for r in api.generate_requests] == [1] * len(DAMAGED_BYTES)
    assert "nanobanana-placeholder" not in site.html("a/index.html")


@pytest.mark.parametrize("err", ["ENOSPC", "EROFS", "EACCES"])
def test_a_cache_that_cannot_take_resized_copies_is_a_warning(site, caplog, monkeypatch, err):
    """A full disk or a read-only cache while writing resized copies: the copies go
    straight into the site, with a warning that says what to do."""
    import errno
    import logging
    import os

    from mkdocs_nanobanana.store import temp

    caplog.set_level(logging.INFO)
    seed_cache(site.cache, "Stored")
    site.page("a.md", directive("Stored") + directive("Not generated, a placeholder"))

    def refuse(_temp, path, data):
        raise OSError(getattr(errno, err), os.strerror(getattr(errno, err)), str(path))

    monkeypatch.setattr(temp.TempFolder, "create_once", refuse)
    monkeypatch.setattr(temp.TempFolder, "atomic_write", refuse)  # the cache takes no backdrop file either
    site.build()
    html = site.html("a/index.html")
    assert html.count("<figure") == 2 and html.count("<img ") == 2
    assert html.count('style="background:') == 2  # computed all the same, and shown
    out = site.site / "assets" / "nanobanana"
    assert len(list(out.iterdir())) >= 4 and all(p.stat().st_size > 0 for p in out.iterdir())
    assert not any(site.cache.derived_dir.rglob("*.*"))
    said = [w for w in warnings(caplog) if "could not write resized copies" in w]
    assert len(said) == 1 and os.strerror(getattr(errno, err)) in said[0] and "cache_dir" in said[0]
    # the page's card (a text card, by default) too: drawn into the site, with one warning of its own
    with Image.open(site.site / "assets" / "nanobanana" / "social" / "a.jpg") as card:
        assert card.size == (1200, 630)
    said = [w for w in warnings(caplog) if "could not write social cards" in w]
    assert len(said) == 1 and os.strerror(getattr(errno, err)) in said[0] and "cache_dir" in said[0]


# --------------------------------------------------------------------------- items 3-4: what is in use


@pytest.mark.parametrize("draft_docs,draft_page", [
    ("_unpublished.md", "_unpublished.md"),
    ("drafts/", "drafts/soon.md"),
    ("*.draft.md", "posts/next.draft.md"),
])
def test_prune_keeps_the_images_of_draft_pages(site, draft_docs, draft_page):
    """serve shows draft_docs pages and pays for their images: prune must keep them,
    whether it reads the pages itself or another site prunes from the manifest."""
    site.configure({}, draft_docs=draft_docs)
    site.page("a.md", directive("Published"))
    site.page(draft_page, "# Soon\n\n" + directive("Only serve shows this"))
    shown, draft = seed_cache(site.cache, "Published"), seed_cache(site.cache, "Only serve shows this")
    stale = seed_cache(site.cache, "Nobody uses this")
    site.build()
    settled(site.cache)
    assert not (site.site / draft_page.replace(".md", "")).exists(), "a build does not show a draft"
    record = json.loads(site.cache.manifest_path.read_text())["sites"]
    assert [draft.key in r["keys"] for r in record.values()] == [True]
    proc = nb(site, "prune", check=True)
    assert "removed 2 file(s)" in proc.stdout
    assert site.cache.get(draft.key) is not None and site.cache.get(shown.key) is not None
    assert site.cache.get(stale.key) is None


def _sharing_site(root, name: str, pages: dict[str, str]):
    from tests.support.sites import Site

    s = Site(root / name)
    s.docs.mkdir(parents=True)
    s.configure({"cache_dir": "../shared-cache"})
    for page, text in pages.items():
        s.page(page, text)
    return s


def test_two_sites_sharing_a_cache_never_prune_each_others_entries(tmp_path):
    one = _sharing_site(tmp_path, "one", {"a.md": directive("One's image") + directive("One's second")})
    two = _sharing_site(tmp_path, "two", {"a.md": directive("Two's image")})
    cache = one.cache.__class__(tmp_path / "shared-cache")
    e1, e1b, e2 = (seed_cache(cache, p) for p in ("One's image", "One's second", "Two's image"))
    one.build()
    two.build()
    one.page("a.md", directive("One's image"))  # one's second image goes from one's pages, one not rebuilt
    proc = nb(two, "prune", check=True)
    assert "removed 0 file(s)" in proc.stdout and f"kept for {one.config_file}" in proc.stdout
    assert all(cache.get(e.key) for e in (e1, e1b, e2))
    one.build()  # now its record no longer lists the second image
    settled(cache)
    proc = nb(two, "prune", check=True)
    assert "removed 2 file(s)" in proc.stdout  # its sidecar and its one image
    assert cache.get(e1b.key) is None and cache.get(e1.key) and cache.get(e2.key)
    # a site whose mkdocs.yml is gone keeps nothing
    one.config_file.unlink()
    proc = nb(two, "prune", check=True)
    assert "its config file is gone" in proc.stdout and cache.get(e1.key) is None and cache.get(e2.key)


def test_two_branches_of_one_checkout_are_two_sites(site):
    """Same mkdocs.yml, two git branches: a prune on one keeps the other's images until
    --all-sites."""
    run(["git", "init", "-q", "-b", "main"], cwd=site.root)
    site.page("a.md", directive("Main's image"))
    on_main = seed_cache(site.cache, "Main's image")
    site.build()
    run(["git", "checkout", "-q", "-b", "feature"], cwd=site.root)
    site.page("a.md", directive("Feature's image"))
    on_feature = seed_cache(site.cache, "Feature's image")
    site.build()
    proc = nb(site, "prune", check=True)
    assert f"kept for {site.config_file} @ main" in proc.stdout and "removed 0 file(s)" in proc.stdout
    assert site.cache.get(on_main.key) and site.cache.get(on_feature.key)
    settled(site.cache)
    proc = nb(site, "prune", "--all-sites", check=True)
    assert site.cache.get(on_main.key) is None and site.cache.get(on_feature.key)
    sites = json.loads(site.cache.manifest_path.read_text())["sites"]
    assert list(sites) == [f"{site.config_file} @ feature"]
