"""`nanobanana prune` leaves the cache holding what a fresh build of the current settings
writes: no resized copies of old settings, no cards of old titles, no orphaned locks."""

from __future__ import annotations

import os
import re
import time
from pathlib import Path

from tests.support.directives import directive
from tests.support.images import seed_cache
from tests.support.sites import Site, nb

PAGES = {
    "index.md": "# Home\n\n" + directive("A lighthouse at dusk", ratio="16:9"),
    "b.md": "# Beta\n\n" + directive("A paper boat", alt="boat"),
}
BEFORE = {"widths": [480, 960], "formats": ["webp", "jpeg"], "quality": 82, "social": {"generate": True}}
AFTER = {"widths": [320, 960, 1400], "formats": ["webp"], "quality": 60, "social": {"generate": True}}


def files_under(folder: Path) -> set[str]:
    return {p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()}


def cache_files(site: Site) -> set[str]:
    """Every file of the site's cache but the manifest (which names the site's folder)."""
    return files_under(site.cache.root) - {"manifest.json"}


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
    shard = next(site.cache.derived_dir.iterdir())
    dead_writers = [site.cache.temp.path / "x-480w-q82.webp.ci-3-77.ab12.tmp",  # killed after a build's cleanup
                    shard / f".{'ef' * 32}-480w-q82.webp.ci-3-77.cd34.tmp"]  # left by an earlier version
    for f in dead_writers:
        f.write_bytes(b"half a copy")
        os.utime(f, (time.time() - 7200, time.time() - 7200))

    dry = nb(site, "prune", "--dry-run").stdout
    classes = dict(re.findall(r"^  (\w+): (\d+) file", dry, re.M))
    assert int(classes["derived"]) > 0 and int(classes["cards"]) == 1 and int(classes["locks"]) >= 1, dry
    assert int(classes["temp"]) == 2, dry
    assert stale_lock.exists()
    nb(site, "prune")

    fresh = made(tmp_path / "fresh", AFTER, {**PAGES, "b.md": PAGES["b.md"].replace("# Beta", "# Beta, renamed")})
    fresh.build()
    assert cache_files(site) == cache_files(fresh)
    assert files_under(site.cache.root / "social")  # cards were on: the comparison compared something
    from mkdocs_nanobanana.cards.social import COVER

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


def _encoder_extras(monkeypatch, extras: tuple[tuple[str, str], ...]) -> None:
    """Builds (in this process) encode with these extra encoder settings: what a branch's
    new option (metadata, AVIF speed, resampling) does through Settings.encoding."""
    from mkdocs_nanobanana.core import settings

    monkeypatch.setattr(settings.Settings, "encoding", property(lambda s: settings.Encoding(s.quality, extras)))


def _prune_in_process(site: Site, *args: str) -> str:
    from click.testing import CliRunner

    from mkdocs_nanobanana.cli.commands import main

    result = CliRunner().invoke(main, ["prune", "-f", str(site.config_file), *args])
    assert result.exit_code == 0, result.output
    return result.output


def test_prune_after_an_encoder_change_leaves_what_a_fresh_build_writes(tmp_path, monkeypatch):
    """A copy's name carries a digest of the encoder's other settings (Encoding.tag):
    copies of an earlier encoder setting, or of none, are stale, and prune removes them,
    leaving the file set a fresh build with the current setting writes."""
    monkeypatch.chdir(tmp_path)
    site = made(tmp_path / "old", BEFORE, PAGES)
    site.build()  # the default encoding (provenance on: q82-<digest> names)
    _encoder_extras(monkeypatch, (("metadata", "provenance"),))
    site.build()
    _encoder_extras(monkeypatch, (("metadata", "provenance"), ("resample", "bicubic")))
    site.build()
    tags = {re.sub(r"^[0-9a-f]{64}-\d+w-", "", Path(name).stem) for name in files_under(site.cache.derived_dir)
            if "-backdrop-" not in name and "-q95-" not in name}  # not backdrops nor the cards' cover crops
    assert len(tags) == 3 and all(tag.startswith("q82-") for tag in tags), tags  # three encodings' copies side by side

    dry = _prune_in_process(site, "--dry-run")
    stale = int(re.search(r"^  derived: (\d+) file", dry, re.M)[1])
    copies = [n for n in files_under(site.cache.derived_dir) if "-backdrop-" not in n and "-q95-" not in n]
    assert stale == 2 * len(copies) // 3, dry
    _prune_in_process(site)
    fresh = made(tmp_path / "fresh", BEFORE, PAGES)
    fresh.build()
    assert cache_files(site) == cache_files(fresh)
    assert len({re.sub(r"^[0-9a-f]{64}-\d+w-", "", Path(n).stem) for n in files_under(site.cache.derived_dir)
                if "-backdrop-" not in n and "-q95-" not in n}) == 1
