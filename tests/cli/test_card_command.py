"""Issue 36 item 6: `nanobanana card PAGE [-o FILE] [--layout L] [--grid]` draws one
page's card to a PNG without a build, never calling the API (with a key set and the fake
API listening), on the cached image where there is one, else on its placeholder."""

from __future__ import annotations

import time

import pytest
from PIL import Image, ImageChops, ImageStat

from mkdocs_nanobanana.cards import drawing
from tests.support.commands import bin_path, run
from tests.support.directives import directive
from tests.support.images import seed_cache
from tests.support.live import KEY

BRAND = """\
layers:
  - background: { color: "#102030" }
  - offset: { x: 100, y: 100 }
    size: { width: 1000, height: 200 }
    typography: { content: "{title}", color: "#ffcc00", line: { amount: 2, height: 1.2 } }
  - offset: { x: 100, y: 400 }
    size: { width: 1000, height: 100 }
    typography: { content: "{meta.author}", color: "#ffffff" }
"""


def nb(site, *args, check=False, env=None):
    return run([bin_path("nanobanana"), *args], cwd=site.root, env=env, check=check)


@pytest.fixture
def card_site(site, api):
    site.configure({"api_base": api.base}, site_url="https://example.org/")
    site.page("index.md", "---\nauthor: Ada\n---\n# Home\n")
    site.page("guide/setup.md", "---\ndescription: How to set it up.\n---\n# Setting up\n\n"
              + directive("A cover for the guide", ratio="16:9", social=True))
    (site.root / "brand.yml").write_text(BRAND, encoding="utf-8")
    return site


def png(path) -> Image.Image:
    with Image.open(path) as img:
        assert img.format == "PNG" and img.size == (1200, 630)
        return img.convert("RGB")


def test_card_draws_one_page_to_a_png_and_calls_no_api(card_site, api):
    env = {"NANOBANANA_API_KEY": KEY}
    started = time.monotonic()
    out = nb(card_site, "card", "docs/index.md", env=env, check=True)
    took = time.monotonic() - started
    assert "card-index.png" in out.stdout and "docs/index.md" in out.stdout
    text_card = png(card_site.root / "card-index.png")
    assert text_card.getpixel((20, 600)) == (64, 81, 181)  # Material's indigo: a text card, exactly (PNG)
    # by its path in docs_dir, with -o; its image is not cached: the placeholder, no request
    nb(card_site, "card", "guide/setup.md", "-o", "setup.png", env=env, check=True)
    assert png(card_site.root / "setup.png").getpixel((20, 600)) != (64, 81, 181)
    assert len(api.generate_requests) == len(api.gemini_requests) == len(api.downloads) == 0
    assert not (card_site.root / "site").exists(), "nothing is built or published"
    assert took < 30, f"{took:.1f} s"  # loose under a loaded machine; the report gives the unloaded figure


def test_card_uses_the_cached_image(card_site):
    entry = seed_cache(card_site.cache, "A cover for the guide", ratio="16:9")
    nb(card_site, "card", "guide/setup.md", "-o", "cached.png", check=True)
    nb(card_site, "card", "guide/setup.md", "-o", "again.png", check=True)  # from the cover crop it kept
    first, again = png(card_site.root / "cached.png"), png(card_site.root / "again.png")
    assert ImageStat.Stat(ImageChops.difference(first, again)).mean[0] < 2
    band = (600, 200, 1200, 240)  # between the default layout's scrims: the image itself
    with Image.open(entry.images[0].path) as src:
        expected = drawing.cover(src).crop(band)
    assert ImageStat.Stat(ImageChops.difference(first.crop(band), expected)).mean[0] < 8


def test_layout_and_grid(card_site):
    nb(card_site, "card", "docs/index.md", "--layout", "brand.yml", "-o", "brand.png", check=True)
    brand = png(card_site.root / "brand.png")
    assert brand.getpixel((5, 600)) == (0x10, 0x20, 0x30)
    title = brand.crop((100, 100, 1100, 300))
    assert sum(1 for px in title.getdata() if px[0] > 200 and px[1] > 150 and px[2] < 90) > 500  # the yellow title
    assert max(brand.crop((100, 400, 1100, 500)).convert("L").getdata()) > 220  # its front matter author
    nb(card_site, "card", "docs/index.md", "--layout", "brand.yml", "--grid", "-o", "grid.png", check=True)
    grid = png(card_site.root / "grid.png")
    diff = ImageChops.difference(brand, grid)
    assert ImageStat.Stat(diff).mean[0] > 1  # the grid and the boxes
    assert grid.getpixel((50, 10))[0] > brand.getpixel((50, 10))[0]  # a grid line at x = 50
    assert grid.getpixel((100, 200))[0] > 200  # the text box's outline at x = 100
    nb(card_site, "card", "docs/index.md", "--layout", "invert", "-o", "invert.png", check=True)
    assert png(card_site.root / "invert.png").getpixel((20, 600)) == (255, 255, 255)  # Material's invert: white


def test_card_refusals_name_the_problem(card_site):
    missing = nb(card_site, "card", "nowhere.md")
    assert missing.returncode == 1 and "nowhere.md: not a page of this site" in missing.stderr
    card_site.page("off.md", "---\nnanobanana:\n  social: false\n---\n# Off\n")
    off = nb(card_site, "card", "off.md")
    assert off.returncode == 1 and "docs/off.md gets no social card" in off.stderr
    (card_site.root / "bad.yml").write_text("layers:\n  - typography: {content: '{title}', overflow: wrap}\n",
                                            encoding="utf-8")
    bad = nb(card_site, "card", "index.md", "--layout", "bad.yml")
    assert bad.returncode == 1 and "bad.yml: layers[0].typography.overflow" in bad.stderr, bad.stderr
    unknown = nb(card_site, "card", "index.md", "--layout", "sideways")
    assert unknown.returncode == 1 and "--layout: 'sideways' is neither a built-in layout" in unknown.stderr
    assert "Traceback" not in missing.stderr + off.stderr + bad.stderr + unknown.stderr


def test_help_has_examples(card_site):
    out = nb(card_site, "card", "--help", check=True).stdout
    assert "Examples:" in out and "--grid" in out and "--layout" in out
