"""`nanobanana prune` leaves the cache holding what a fresh build of the current settings
writes: no resized copies of old settings, no cards of old titles, no orphaned locks."""

from __future__ import annotations

import re
from pathlib import Path

from conftest import Site, bin_path, run, seed_cache
from test_live import directive

PAGES = {
    "index.md": "# Home\n\n" + directive("A lighthouse at dusk", ratio="16:9"),
    "b.md": "# Beta\n\n" + directive("A paper boat", alt="boat"),
}
BEFORE = {"widths": [480, 960], "formats": ["webp", "jpeg"], "quality": 82, "social": {"generate": True}}
AFTER = {"widths": [320, 960, 1400], "formats": ["webp"], "quality": 60, "social": {"generate": True}}


def nb(site: Site, *args: str):
    return run([bin_path("nanobanana"), *args], cwd=site.root, check=True)


def files_under(folder: Path) -> set[str]:
    return {p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()}


def made(root: Path, plugin: dict, pages: dict[str, str]) -> Site:
    site = Site(root)
    site.docs.mkdir(parents=True)
    site.configure(plugin)
    for name, text in pages.items():
        site.page(name, text)
    seed_cache(site.cache, "A lighthouse at dusk", ratio="16:9")  # paid for: its copies are real images
    return site


def test_prune_after_settings_changes_leaves_what_a_fresh_build_writes(tmp_path):
    site = made(tmp_path / "old", BEFORE, PAGES)
    site.build()
    site.configure({**BEFORE, "quality": 70})
    site.build()
    site.configure(AFTER)
    site.page("b.md", PAGES["b.md"].replace("# Beta", "# Beta, renamed"))
    site.build()
    with site.cache.lock("cd" * 32):  # a key that was never stored: its lock file stays behind
        pass
    stale_lock = site.cache.root / "locks" / "cd" / f"{'cd' * 32}.lock"
    assert stale_lock.exists()

    dry = nb(site, "prune", "--dry-run").stdout
    classes = dict(re.findall(r"^  (\w+): (\d+) file", dry, re.M))
    assert int(classes["derived"]) > 0 and int(classes["cards"]) == 1 and int(classes["locks"]) >= 1, dry
    assert stale_lock.exists()
    nb(site, "prune")

    fresh = made(tmp_path / "fresh", AFTER, {**PAGES, "b.md": PAGES["b.md"].replace("# Beta", "# Beta, renamed")})
    fresh.build()
    for folder in ("derived", "social"):
        assert files_under(site.cache.root / folder) == files_under(fresh.cache.root / folder), folder
    assert files_under(site.cache.root / "social")  # cards were on: the comparison compared something
    from mkdocs_nanobanana.social import COVER

    assert any(COVER.tag in name for name in files_under(site.cache.root / "derived")), "the cards' cover crops stay"
    assert not stale_lock.exists()
    with site.cache.lock("cd" * 32):  # a removed lock file is made again when needed
        assert stale_lock.exists()


def test_prune_keeps_what_another_site_shows(tmp_path):
    """Two sites share one cache with different widths: each one's copies stay."""
    shared = str(tmp_path / "shared-cache")
    one = made(tmp_path / "one", {**BEFORE, "cache_dir": shared}, PAGES)
    two = made(tmp_path / "two", {**AFTER, "cache_dir": shared}, PAGES)
    one.build()
    two.build()
    derived = Path(shared) / "derived"
    both = files_under(derived)
    out = nb(one, "prune").stdout
    assert files_under(derived) == both, out
    assert "kept for" in out
