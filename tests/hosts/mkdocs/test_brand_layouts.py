"""Issue 36 item 5: brand layouts. `social.layout` (and a page's front matter) names a
layout file of the site: a 1200x630 canvas of layers (colour and gradient backgrounds,
the card's image with fit and focus, text boxes bound to the title, description, site
name and a front matter field, with a size range and overflow, the logo, rectangles).
Real `mkdocs build`s; the cards' pixels looked at where each layer draws. A bad layout
file is an error naming the file and the key."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from PIL import Image, ImageStat

from mkdocs_nanobanana.core import card_layouts
from mkdocs_nanobanana.core.catalog import FLASH_IMAGE_SIZES
from mkdocs_nanobanana.core.request import Request
from tests.support.commands import bin_path, run
from tests.support.directives import directive
from tests.support.html import tags

SOCIAL = "assets/nanobanana/social"
BRAND = """\
# A brand: navy to black, the card image in a frame on the right (its left part kept),
# a yellow bar, the title in yellow shrinking to fit, the author from front matter.
size: { width: 1200, height: 630 }
layers:
  - background:
      gradient: { from: "#001a66", to: "#000000", direction: right }
  - if: image
    offset: { x: 700, y: 65 }
    size: { width: 450, height: 500 }
    image: { fit: cover, focus: { x: 0, y: 0.5 } }
  - offset: { x: 60, y: 60 }
    size: { width: 12, height: 510 }
    rectangle: { color: "#ffcc00", radius: 4 }
  - offset: { x: 100, y: 60 }
    size: { width: 560, height: 300 }
    typography:
      content: "{title}"
      color: "#ffcc00"
      overflow: shrink
      line: { amount: 3, height: 1.15 }
      font: { size: [28, 72], style: Bold }
  - offset: { x: 100, y: 420 }
    size: { width: 560, height: 50 }
    typography: { content: "by {meta.author}", color: "#ffffff", font: { size: 32 } }
  - offset: { x: 100, y: 500 }
    size: { width: 560, height: 40 }
    typography: { content: "{site_name}", color: "#9999aa", font: { size: 26 } }
  - if: logo
    origin: end top
    offset: { x: 20, y: 20 }
    size: { width: 40, height: 40 }
    logo: {}
"""


def seed_split(cache, prompt: str):
    """A cached 16:9 image: its left half red, its right half blue."""
    w, h = FLASH_IMAGE_SIZES["16:9"]
    img = Image.new("RGB", (w, h), (220, 30, 30))
    img.paste((30, 30, 220), (w // 2, 0, w, h))
    buf = io.BytesIO()
    img.save(buf, "PNG")
    return cache.put(Request(model="gemini-2.5-flash-image", prompt=prompt, ratio="16:9"), [buf.getvalue()],
                     provider="test", credits=2)


def card(site, name: str) -> Image.Image:
    with Image.open(site.site / SOCIAL / name) as img:
        assert img.size == (1200, 630) and img.format == "JPEG"
        return img.convert("RGB")


def mean(img, box):
    return tuple(ImageStat.Stat(img.crop(box)).mean)


def near(got, want, tolerance=14) -> bool:
    return all(abs(g - w) <= tolerance for g, w in zip(got, want, strict=False))


def yellow(img, box) -> int:
    return sum(1 for r, g, b in img.crop(box).getdata() if r > 200 and g > 160 and b < 90)


@pytest.fixture
def brand_site(site):
    (site.root / "layouts").mkdir()
    (site.root / "layouts" / "brand.yml").write_text(BRAND, encoding="utf-8")
    Image.new("RGB", (40, 40), (0, 200, 0)).save(site.root / "logo.png")
    site.configure({"social": {"layout": "layouts/brand.yml", "logo": "logo.png"}}, site_url="https://example.org/")
    site.page("post.md", "---\nauthor: Ada Lovelace\n---\n# A short title\n\n"
              + directive("A red and blue cover", ratio="16:9", social=True))
    site.page("long.md", "---\nauthor: Grace Hopper\n---\n# " + "A much longer title that has to shrink " * 3 + "\n")
    seed_split(site.cache, "A red and blue cover")
    return site


def test_a_brand_layout_file_draws_every_kind_of_layer(brand_site):
    site = brand_site
    site.build()
    post = card(site, "post.jpg")
    assert mean(post, (0, 600, 20, 630))[2] > 80 and mean(post, (1170, 600, 1200, 630))[2] < 20  # the gradient
    # the image in its frame, cover-fit with its left edge kept (focus x 0): red, not blue
    assert near(mean(post, (720, 100, 1130, 530)), (220, 30, 30), 20)
    assert near(mean(post, (62, 80, 70, 550)), (255, 204, 0), 30)  # the rectangle
    assert yellow(post, (100, 60, 660, 360)) > 1500  # the title
    author = post.crop((100, 420, 660, 470)).convert("L")
    assert max(author.getdata()) > 220  # "by Ada Lovelace" in white
    assert near(mean(post, (1145, 25, 1175, 55)), (0, 200, 0), 30)  # the logo, top right
    long = card(site, "long.jpg")  # a text card in the same layout: the gradient, no frame
    assert mean(long, (720, 100, 1130, 530))[0] < 30
    assert yellow(long, (100, 60, 660, 360)) > 1500 and yellow(long, (100, 360, 660, 420)) == 0  # shrunk inside
    assert tags(site.html("post/index.html"))["og:image"] == [f"https://example.org/{SOCIAL}/post.jpg"]


def test_editing_the_layout_file_redraws_the_cards(brand_site, monkeypatch):
    from mkdocs_nanobanana.cards import drawing

    site = brand_site
    site.build()
    drew: list[str] = []
    real = drawing.draw_card
    monkeypatch.setattr(drawing, "draw_card", lambda image, text, *a, **k: drew.append(text.title)
                        or real(image, text, *a, **k))
    site.build()
    assert drew == []
    layout = site.root / "layouts" / "brand.yml"
    layout.write_text(BRAND.replace("#ffcc00", "#ff00cc"), encoding="utf-8")
    site.build()
    assert sorted(drew) == ["A much longer title that has to shrink A much longer title that has to shrink A much "
                            "longer title that has to shrink", "A short title"]
    assert near(mean(card(site, "post.jpg"), (62, 80, 70, 550)), (255, 0, 204), 30)


def test_a_page_takes_its_own_layout_file(brand_site):
    site = brand_site
    site.configure({}, site_url="https://example.org/")
    site.page("own.md", "---\nnanobanana:\n  social: {layout: layouts/brand.yml}\n---\n# Own\n")
    site.page("plain.md", "# Plain\n")
    site.build()
    assert yellow(card(site, "own.jpg"), (100, 60, 660, 360)) > 300
    assert near(card(site, "plain.jpg").getpixel((20, 600)), (64, 81, 181), 8)  # the built-in default


@pytest.mark.parametrize(("edit", "words"), [
    (("overflow: shrink", "overflow: wrap"), "layers[3].typography.overflow: 'wrap' is not one of truncate, shrink"),
    (("rectangle: { color:", "rectangle: { colour:"), "layers[2].rectangle.colour: unknown key: did you mean 'color'?"),
    (('content: "{site_name}"', 'content: "{{ page.title }}"'), "layers[5].typography.content: Jinja templates"),
    (("size: { width: 1200, height: 630 }", "size: { width: 1000, height: 500 }"), "size: cards are 1200x630"),
    (('from: "#001a66"', 'from: "navy-ish"'), "layers[0].background.gradient.from: 'navy-ish' is not a colour"),
    (("focus: { x: 0, y: 0.5 }", "focus: { x: 2, y: 0.5 }"), "layers[1].image.focus.x: expected a number from 0 to 1"),
])
def test_a_bad_layout_file_names_the_file_and_the_key(brand_site, edit, words):
    site = brand_site
    (site.root / "layouts" / "brand.yml").write_text(BRAND.replace(*edit), encoding="utf-8")
    proc = run([bin_path("mkdocs"), "build"], cwd=site.root, check=False)
    assert proc.returncode != 0
    path = str(Path(site.root, "layouts", "brand.yml"))
    assert f"{path}: {words}" in proc.stderr, proc.stderr
    assert "Traceback" not in proc.stderr


def test_a_missing_layout_file_and_a_bad_page_layout(site, warnings_log):
    site.configure({"social": {"layout": "layouts/none.yml"}})
    proc = run([bin_path("mkdocs"), "build"], cwd=site.root, check=False)
    assert proc.returncode != 0 and "social.layout: the layout file" in proc.stderr
    assert "none.yml does not exist" in proc.stderr
    site.configure({}, site_url="https://example.org/")
    (site.root / "bad.yml").write_text("layers: []\n", encoding="utf-8")
    site.page("a.md", "---\nnanobanana:\n  social: {layout: bad.yml}\n---\n# A\n")
    site.build()
    said = [r.getMessage() for r in warnings_log.records if "bad.yml" in r.getMessage()]
    assert len(said) == 1 and "docs/a.md:2:" in said[0] and "layers: expected a list of layers" in said[0], said
    assert not (site.site / SOCIAL / "a.jpg").exists()


def test_the_built_in_layouts_are_layout_files_in_the_package():
    for name in card_layouts.LAYOUTS:
        path = card_layouts.builtin_path(name)
        assert path.is_file(), path
        layout = card_layouts.load_layout(name, ".")
        assert layout.layers and layout.path == str(path)
        assert card_layouts.load_layout(str(path), "/") .layers == layout.layers  # and read as a site's file is
