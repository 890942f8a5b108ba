"""The example site through the real command lines of both hosts: MkDocs and ProperDocs."""

from __future__ import annotations

import shutil

import pytest
from PIL import Image

from tests.support.commands import REPO, bin_path, run
from tests.support.html import check_files, figures, tags

EXAMPLE_PAGES = {
    "index.html": 1,
    "posts/reading-nook/index.html": 3,
    "posts/lighthouse-weekend/index.html": 2,
    "posts/from-sketch-to-cover/index.html": 3,
}


@pytest.fixture
def example(tmp_path):
    dest = tmp_path / "example_site"
    shutil.copytree(REPO / "example_site", dest, ignore=shutil.ignore_patterns("site", ".cache"))
    return dest


@pytest.mark.parametrize("host", ["mkdocs", "properdocs"])
def test_example_site_builds_offline_with_placeholders(example, host):
    docs_before = {p: p.read_bytes() for p in (example / "docs").rglob("*") if p.is_file()}
    proc = run([bin_path(host), "build", "--strict"], cwd=example, check=False)
    # --strict fails on purpose: offline, no image can be produced (the warning says why)
    assert proc.returncode == 1, proc.stderr
    assert "12 image(s) are placeholders: NANOBANANA_API_KEY is not set (mode: auto)" in proc.stderr
    proc = run([bin_path(host), "build"], cwd=example)
    assert "nanobanana: 0 cached, 0 generated (0 credits ~ $0.00), 12 placeholders, 0 failed" in proc.stderr
    for page, n in EXAMPLE_PAGES.items():
        figs = figures((example / "site" / page).read_text(encoding="utf-8"))
        assert len(figs) == n, page
        for fig in figs:
            assert "nanobanana-placeholder" in fig["class"]
            check_files(example / "site", page, fig)
    assert docs_before == {p: p.read_bytes() for p in (example / "docs").rglob("*") if p.is_file()}
    # every page carries the tags a card validator checks, pointing at a real 1200x630 card
    for page in EXAMPLE_PAGES:
        t = tags((example / "site" / page).read_text(encoding="utf-8"))
        url = t["og:image"][0]
        assert url.startswith("https://example.org/rainy-day/assets/nanobanana/social/") and t["twitter:image"] == [url]
        assert t["twitter:card"] == ["summary_large_image"] and t["og:image:alt"][0]
        with Image.open(example / "site" / url.removeprefix("https://example.org/rainy-day/")) as card:
            assert card.size == (1200, 630) and card.format == "JPEG"
            assert (t["og:image:width"], t["og:image:height"]) == (["1200"], ["630"])


def test_build_with_f_from_another_folder(example, tmp_path):
    proc = run([bin_path("mkdocs"), "build", "-f", str(example / "mkdocs.yml")], cwd=tmp_path)
    assert "12 placeholders" in proc.stderr
    assert (example / ".cache" / "nanobanana" / "derived").is_dir()
    assert not (tmp_path / ".cache").exists()

