"""Issue 26 item 4: a warm build reads each page's text once and each sidecar once, counted
(every open(), whichever way it is called) in a real in-process `mkdocs build`, not timed.
Issue 22 figure 1: a warm build imports neither Pillow nor the provider clients."""

from __future__ import annotations

import builtins
import io
import json
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from tests.support.commands import REPO
from tests.support.directives import directive
from tests.support.images import seed_cache, settled

PROMPTS = ("A lighthouse at dusk", "A kettle on a stove")


@pytest.fixture
def warm_site(site):
    """Four pages: two show the same image (one key), one shows another, one shows none;
    each page with a directive has front matter. Every image is in the cache, and the
    cache's indexes were written by a build after its folders last changed."""
    site.page("a.md", "---\ntitle: A\n---\n# A\n\n" + directive(PROMPTS[0]))
    site.page("b.md", "---\ntitle: B\n---\n# B\n\n" + directive(PROMPTS[0]) + "\nText.\n\n" + directive(PROMPTS[1]))
    site.page("c.md", "# C\n\nNo image here.\n")
    site.page("index.md", "# Home\n")
    for prompt in PROMPTS:
        seed_cache(site.cache, prompt)
    site.build()  # the resized copies and the backdrops
    settled(site.cache)
    site.build()  # reads the settled shards once and indexes them: the next build is warm
    return site


def _opens(monkeypatch) -> Counter:
    """Every file opened from now on, by resolved path: builtins.open and io.open (which
    pathlib's read_text/read_bytes call) are one function, patched in both places."""
    opened: Counter = Counter()
    real = io.open

    def counting(file, *args, **kwargs):
        if isinstance(file, (str, Path)):
            opened[Path(file).resolve()] += 1
        return real(file, *args, **kwargs)

    monkeypatch.setattr(builtins, "open", counting)
    monkeypatch.setattr(io, "open", counting)
    return opened


def test_a_warm_build_reads_each_page_once_and_no_sidecar_or_backdrop(warm_site, monkeypatch):
    """Issue 39 item 1: what the cache holds comes from its two indexes, one read each;
    no sidecar and no backdrop file is opened, and no image file is stat'ed."""
    opened = _opens(monkeypatch)
    stats = _stats(monkeypatch, warm_site.cache.root)
    warm_site.build()
    stat_during_build = [p for p in stats if p.parent.parent.name in ("images", "derived")]
    pages = {p.resolve(): opened[p.resolve()] for p in warm_site.docs.glob("*.md")}
    assert pages and all(n == 1 for n in pages.values()), pages
    root = warm_site.cache.root
    sidecars = list(root.glob("images/*/*.json"))
    backdrops = list(root.glob("derived/*/*-backdrop-*.json"))
    assert len(sidecars) == 2 and backdrops  # (an image with alpha has none)
    assert {p.name: opened[p.resolve()] for p in sidecars + backdrops} == {p.name: 0 for p in sidecars + backdrops}
    assert opened[(root / "index-images.json").resolve()] == 1
    assert opened[(root / "index-backdrops.json").resolve()] == 1
    assert stat_during_build == [], "a file of the cache stat'ed"
    assert "lighthouse" in (warm_site.site / "a" / "index.html").read_text(encoding="utf-8").lower()


def _stats(monkeypatch, under: Path) -> list[Path]:
    """Every os.stat (Path.stat's too) of a path under ``under`` from now on."""
    seen: list[Path] = []
    real = os.stat

    def counting(path, *args, **kwargs):
        if isinstance(path, (str, Path)) and str(path).startswith(str(under)):
            seen.append(Path(path))
        return real(path, *args, **kwargs)

    monkeypatch.setattr(os, "stat", counting)
    return seen


def test_the_index_follows_files_changed_behind_its_back(warm_site):
    """Files removed, added or damaged while no build looked: the next build sees them
    (their shard's mtime changed), and a damaged index file is read as none."""
    root = warm_site.cache.root
    gone = next(root.glob("images/*/*.json"))
    key = gone.stem
    for path in gone.parent.glob(f"{key}*"):
        path.unlink()  # the entry is gone: its image must not be published from the index
    warm_site.build()
    html = (warm_site.site / "a" / "index.html").read_text(encoding="utf-8") + \
        (warm_site.site / "b" / "index.html").read_text(encoding="utf-8")
    assert "placeholder" in html.lower()
    index = json.loads((root / "index-images.json").read_text(encoding="utf-8"))
    assert all(f"{key}.json" not in shard["files"] for shard in index["shards"].values())
    for prompt in PROMPTS:
        seed_cache(warm_site.cache, prompt)  # added behind its back (another machine's copy)
    (root / "index-backdrops.json").write_text("<<<<<<< HEAD\n{}\n", encoding="utf-8")  # a git conflict
    warm_site.build()
    html = (warm_site.site / "a" / "index.html").read_text(encoding="utf-8") + \
        (warm_site.site / "b" / "index.html").read_text(encoding="utf-8")
    assert "placeholder" not in html.lower()
    assert json.loads((root / "index-backdrops.json").read_text(encoding="utf-8"))["version"] == 1


def test_the_page_mkdocs_renders_is_the_text_the_plugin_read(warm_site):
    """The hand-over keeps abs_src_path (other plugins read it) and the text is the file's."""
    from mkdocs.config import load_config
    from mkdocs.structure.files import get_files

    from mkdocs_nanobanana.core.reporting import Reporter
    from mkdocs_nanobanana.hosts.mkdocs.pages import read_pages
    from mkdocs_nanobanana.hosts.mkdocs.site import settings_of

    config = load_config(str(warm_site.config_file))
    files = get_files(config)
    settings = settings_of(config.plugins["nanobanana"].config, config, {})
    read_pages(files, settings, Reporter(), hand_over=True)
    page = files.get_file_from_path("b.md")
    assert page.abs_src_path == str(warm_site.docs / "b.md")
    assert page.content_string == (warm_site.docs / "b.md").read_text(encoding="utf-8")


def test_a_warm_build_imports_neither_pillow_nor_the_provider_clients(warm_site):
    """Nor serve's background generator, nor the Markdown extension's host, nor (with
    responsive_images off) the code of the site's own pictures."""
    code = ("import sys\nfrom mkdocs.commands.build import build\nfrom mkdocs.config import load_config\n"
            f"build(load_config({str(warm_site.config_file)!r}))\n"
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('PIL', 'httpx') or m in UNUSED))")
    unused = [f"mkdocs_nanobanana.{m}" for m in ("providers.placeholder", "providers.http", "providers.nanobanana",
                                                 "providers.gemini", "build.deferred", "hosts.markdown.zensical",
                                                 "hosts.markdown.options",
                                                 # responsive_images is off here: its pictures' code is not loaded
                                                 "build.own_images", "store.own_index", "imaging.own_pixels",
                                                 # every page has a card, all of them cached: no font is opened
                                                 "cards.typeset")]
    code = f"UNUSED = {unused!r}\n" + code
    out = subprocess.run([sys.executable, "-c", code], cwd=warm_site.root, capture_output=True, text=True, check=True,
                         env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin"})
    assert out.stdout.strip().splitlines()[-1] == "[]", out.stdout + out.stderr


def test_a_warm_build_publishes_its_cards_without_a_task_on_the_image_pool(warm_site, monkeypatch):
    """Issue 39 item 3: each card of a warm build is in the cache, so it is linked into
    the site where its page's work starts, not handed to a worker of the image pool (a
    task a card cost more than the card: its key, one stat, one link). A card the cache
    lacks is still drawn on the pool."""
    from concurrent.futures import ThreadPoolExecutor

    tasks: list[str] = []
    real = ThreadPoolExecutor.submit

    def submit(self, fn, /, *args, **kwargs):
        if self._thread_name_prefix == "nanobanana-img":
            tasks.append(getattr(fn, "__name__", repr(fn)))
        return real(self, fn, *args, **kwargs)

    monkeypatch.setattr(ThreadPoolExecutor, "submit", submit)
    warm_site.build()
    assert tasks == []
    cached = sorted((warm_site.cache.root / "social").rglob("*.jpg"))
    published = sorted(warm_site.site.rglob("social/*.jpg"))
    assert len(published) == 4 == len(cached)  # a card a page, a.md's and b.md's on their images
    assert all(any(os.path.samefile(p, c) for c in cached) for p in published), "a link of the cached card"
    for page in ("a/", "b/", "c/", ""):
        assert 'property="og:image"' in (warm_site.site / page / "index.html").read_text(encoding="utf-8")
    cached[0].unlink()  # one card the cache lacks: drawn again, on the pool
    warm_site.build()
    assert tasks == ["card"] and cached[0].exists()
