"""Issue 19 items 7, 10 and 11: card layouts, colours, logo and font from the theme, and
cards for Material's blog views. Real `mkdocs build`s; the cards opened with Pillow and
their pixels looked at where each layout puts its colour, panel, logo and text."""

from __future__ import annotations

import io
import shutil
import sys

import pytest
from PIL import Image, ImageChops, ImageStat

from mkdocs_nanobanana.cards import drawing
from mkdocs_nanobanana.core import card_values
from mkdocs_nanobanana.core.catalog import FLASH_IMAGE_SIZES
from mkdocs_nanobanana.core.request import Request
from tests.support.commands import REPO, bin_path, run
from tests.support.html import tags
from tests.support.images import DEJAVU

SOCIAL = "assets/nanobanana/social"
BACKGROUND = (30, 140, 60)  # a flat green: what the panel and the image areas show
SVG_LOGO = ('<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 24 24">'  # a yellow square
            '<rect width="24" height="24" fill="#f0c000"/></svg>')


def seed_flat(cache, prompt: str, colour=BACKGROUND, ratio: str = "16:9"):
    """A cached image of one flat colour, as if generated earlier."""
    buf = io.BytesIO()
    Image.new("RGB", FLASH_IMAGE_SIZES[ratio], colour).save(buf, "PNG")
    return cache.put(Request(model="gemini-2.5-flash-image", prompt=prompt, ratio=ratio), [buf.getvalue()],
                     provider="test", credits=2)


def directive(prompt: str) -> str:
    return f'```nanobanana\nprompt: {prompt}\nratio: "16:9"\n```\n'


def card(site, name: str) -> Image.Image:
    with Image.open(site.site / SOCIAL / name) as img:
        assert img.size == (1200, 630) and img.format == "JPEG"
        return img.convert("RGB")


def mean(img: Image.Image, box) -> tuple[float, ...]:
    return tuple(ImageStat.Stat(img.crop(box)).mean)


def near(got, want, tolerance: float = 14) -> bool:
    return all(abs(g - w) <= tolerance for g, w in zip(got, want, strict=False))


def share(img: Image.Image, box, colour, tolerance: int = 40) -> float:
    """The share of pixels in ``box`` within ``tolerance`` of ``colour``."""
    data = img.crop(box).convert("RGB").tobytes()
    pixels = [data[i:i + 3] for i in range(0, len(data), 3)]
    return sum(all(abs(p - c) <= tolerance for p, c in zip(px, colour, strict=False)) for px in pixels) / len(pixels)


def hex_rgb(value: str) -> tuple[int, int, int]:
    return tuple(int(value[i:i + 2], 16) for i in (1, 3, 5))


# --------------------------------------------------------------------------- item 10: layouts


def layout_site(site, **social):
    site.configure({"social": {"source": "first_image", **social}}, site_url="https://example.org/",
                   site_description="A site about flat green pictures.")
    site.page("plain.md", "# A plain page\n\n" + directive("flat green"))
    site.page("inverted.md", "---\nnanobanana:\n  social:\n    layout: invert\n    description: Its own words.\n---\n"
                             "# An inverted page\n\n" + directive("flat green"))
    site.page("bare.md",
              "---\nnanobanana:\n  social: {layout: only_image}\n---\n# A bare page\n\n" + directive("flat green"))
    seed_flat(site.cache, "flat green")
    return site


def test_each_layout_per_page(site):
    layout_site(site)
    site.build()
    plain, inverted, bare = card(site, "plain.jpg"), card(site, "inverted.jpg"), card(site, "bare.jpg")
    # only_image: the image alone, everywhere
    assert near(mean(bare, (0, 0, 1200, 630)), BACKGROUND, 3)
    assert share(bare, (0, 380, 1200, 630), BACKGROUND, 12) > 0.99
    # default: the image above, text over a dark gradient below: white title, grey
    # description (the site's, as Material prints it), Material's indigo accent bar
    assert near(mean(plain, (600, 195, 1200, 215)), BACKGROUND, 6)  # between the scrims: the image
    assert mean(plain, (600, 0, 1200, 40))[1] < BACKGROUND[1] * 0.75  # the top scrim under the site name
    assert share(plain, (64, 380, 1136, 600), (255, 255, 255), 60) > 0.02
    assert near(mean(plain, (70, 125, 150, 129)), hex_rgb("#526cfe"), 40)  # under the site name
    # invert: indigo all round, the image as a panel on the right, white text on the left
    indigo = hex_rgb("#4051b5")
    assert near(mean(inverted, (0, 0, 60, 630)), indigo, 4) and near(mean(inverted, (1140, 0, 1200, 630)), indigo, 4)
    assert near(mean(inverted, (720, 100, 1100, 530)), BACKGROUND, 4)
    assert share(inverted, (64, 160, 640, 420), (255, 255, 255), 60) > 0.04  # the title
    assert share(inverted, (64, 500, 640, 566), (255, 255, 255), 60) > 0.01  # its own description
    # a page's description is drawn: the same page without it differs just there
    site.page("inverted.md", "---\nnanobanana:\n  social:\n    layout: invert\n    description: ''\n---\n"
                             "# An inverted page\n\n" + directive("flat green"))
    site.configure({"social": {"source": "first_image"}}, site_url="https://example.org/")  # no site description
    site.build()
    without = card(site, "inverted.jpg")
    assert share(without, (64, 500, 640, 566), indigo, 12) > 0.99
    assert near(mean(without, (64, 160, 640, 420)), mean(inverted, (64, 160, 640, 420)), 3)
    assert tags(site.html("inverted/index.html"))["og:image"] == ["https://example.org/assets/nanobanana/social/inverted.jpg"]


def test_the_site_layout_and_a_bad_page_layout(site, warnings_log):
    layout_site(site, layout="only_image")
    site.page("wrong.md", "---\nnanobanana:\n  social: {layout: sideways}\n---\n# Wrong\n\n" + directive("flat green"))
    site.build()
    assert share(card(site, "plain.jpg"), (0, 0, 1200, 630), BACKGROUND, 12) > 0.99  # the site's layout
    assert near(mean(card(site, "inverted.jpg"), (0, 0, 60, 630)), hex_rgb("#4051b5"), 4)  # the page's own
    assert any("docs/wrong.md:2: front matter nanobanana.social.layout must be one of default, invert, only_image"
               in r.getMessage() for r in warnings_log.records)
    assert not (site.site / SOCIAL / "wrong.jpg").exists()


# --------------------------------------------------------------------------- item 11: the theme


def material_site(site, theme: dict, **social):
    pytest.importorskip("material", reason="the test extra installs mkdocs-material")
    site.configure({"social": {"source": "first_image", "layout": "invert", **social}},
                   site_url="https://example.org/", theme={"name": "material", **theme})
    site.page("index.md", "# Home\n\n" + directive("flat green"))
    site.page("post.md", "---\ndescription: A post.\n---\n# A post about colours\n\n" + directive("flat green"))
    seed_flat(site.cache, "flat green")
    return site


@pytest.mark.parametrize("palette, background, text, accent", [
    ({"primary": "deep orange", "accent": "lime"}, "#ff6e42", "#ffffff", "#b0eb00"),
    # a list of schemes (the light/dark toggle): the first that names a primary
    ([{"scheme": "default", "toggle": {"icon": "material/brightness-7", "name": "Dark"}},
      {"scheme": "slate", "primary": "yellow", "accent": "teal"}],
     "#ffec3d", "#000000", "#00bda4"),
    ({"primary": "custom"}, "#4051b5", "#ffffff", "#526cfe"),  # Material's cards fall back to indigo too
    ({}, "#4051b5", "#ffffff", "#526cfe"),
])
def test_colours_from_materials_palette(site, palette, background, text, accent):
    material_site(site, {"palette": palette})
    site.build()
    img = card(site, "post.jpg")
    assert near(mean(img, (0, 0, 60, 630)), hex_rgb(background), 4)
    assert share(img, (64, 160, 640, 420), hex_rgb(text), 60) > 0.04
    assert near(mean(img, (70, 130, 150, 132)), hex_rgb(accent), 30)  # the rule under the site name


def test_colours_set_in_mkdocs_yml_win_over_the_theme(site):
    material_site(site, {"palette": {"primary": "red"}}, background_color="#123456", color="amber",
                  accent_color="#00ff00")
    site.build()
    img = card(site, "post.jpg")
    assert near(mean(img, (0, 0, 60, 630)), (0x12, 0x34, 0x56), 4)
    assert share(img, (64, 160, 640, 420), hex_rgb("#ffc105"), 60) > 0.04
    assert near(mean(img, (70, 130, 150, 132)), (0, 255, 0), 30)


def test_a_colour_that_is_not_one_fails_the_config(site):
    site.configure({"social": {"background_color": "blurple"}})
    proc = run([bin_path("mkdocs"), "build"], cwd=site.root, check=False)
    assert proc.returncode != 0 and "social.background_color: 'blurple' is neither a #hex colour" in proc.stderr


def logo_box(img: Image.Image) -> tuple[float, ...]:
    """invert's header: a logo 60 px tall at the left margin, beside the site name."""
    return mean(img, (70, 55, 110, 95))


def test_theme_logo_png_and_svg(site):
    material_site(site, {"logo": "img/logo.png"})
    (site.docs / "img").mkdir()
    Image.new("RGB", (96, 96), (220, 20, 20)).save(site.docs / "img" / "logo.png")
    site.build()
    assert near(logo_box(card(site, "post.jpg")), (220, 20, 20), 12)
    # an SVG, drawn through cairosvg as Material draws it
    (site.docs / "img" / "logo.svg").write_text(
        SVG_LOGO)
    material_site(site, {"logo": "img/logo.svg"})
    site.build()
    assert near(logo_box(card(site, "post.jpg")), (0xf0, 0xc0, 0x00), 12)
    # social.logo wins over the theme's; false draws none
    Image.new("RGB", (96, 96), (20, 20, 220)).save(site.root / "own.png")
    material_site(site, {"logo": "img/logo.png"}, logo="own.png")
    site.build()
    assert near(logo_box(card(site, "post.jpg")), (20, 20, 220), 12)
    material_site(site, {"logo": "img/logo.png"}, logo=False)
    site.build()
    assert not near(logo_box(card(site, "post.jpg")), (220, 20, 20), 60)


def test_an_svg_logo_without_cairo_is_skipped_with_a_warning(site, monkeypatch, warnings_log):
    monkeypatch.setitem(sys.modules, "cairosvg", None)  # as if it were not installed
    material_site(site, {"logo": "img/logo.svg"})
    (site.docs / "img").mkdir()
    (site.docs / "img" / "logo.svg").write_text(
        SVG_LOGO)
    site.build()
    said = [r.getMessage() for r in warnings_log.records if r.getMessage().startswith("nanobanana: the card logo")]
    assert len(said) == 1 and "is an SVG" in said[0] and "cards are drawn without the logo" in said[0]
    skipped = card(site, "post.jpg")
    assert not near(logo_box(skipped), (0xf0, 0xc0, 0x00), 60)
    material_site(site, {})
    site.build()  # the same card as a site without a logo
    assert ImageStat.Stat(ImageChops.difference(skipped, card(site, "post.jpg"))).mean[0] < 1


def test_the_theme_font_from_a_local_copy(site):
    """theme.font.text names a Google font; Material's social plugin keeps the ones it
    downloaded under .cache/plugin/social/fonts/<Family>/: a local copy there is used."""
    if not shutil.os.path.exists(DEJAVU):
        pytest.skip(f"{DEJAVU} is not on this machine (Debian package fonts-dejavu-core)")
    material_site(site, {"font": {"text": "Lookalike Sans"}})
    site.build()
    builtin = card(site, "post.jpg")
    fonts = site.root / ".cache" / "plugin" / "social" / "fonts" / "Lookalike Sans"
    fonts.mkdir(parents=True)
    shutil.copy(DEJAVU, fonts / "Regular.ttf")
    material_site(site, {"font": {"text": "Lookalike Sans"}})  # a new config: the folder is looked at again
    site.build()
    drawn = card(site, "post.jpg")
    title_box = (64, 160, 640, 420)
    assert ImageStat.Stat(ImageChops.difference(builtin.crop(title_box), drawn.crop(title_box))).mean[0] > 3
    expected = drawing.render_card(Image.new("RGB", (1344, 768), BACKGROUND),
                                 card_values.CardText("A post about colours", "Test site", "A post."),
                                 card_values.CardStyle("invert", font=str(fonts / "Regular.ttf")))
    with Image.open(io.BytesIO(expected)) as want:
        assert ImageStat.Stat(ImageChops.difference(want.convert("RGB"), drawn)).mean[0] < 2


# --------------------------------------------------------------------------- item 7: blog views

VIEWS = {"blog/index.html": "blog/index.jpg", "blog/category/corners/index.html": "blog/category/corners.jpg",
         "blog/category/trips/index.html": "blog/category/trips.jpg"}


@pytest.fixture(scope="module")
def blog_views(tmp_path_factory):
    pytest.importorskip("material", reason="the test extra installs mkdocs-material")
    dest = tmp_path_factory.mktemp("views") / "src"
    shutil.copytree(REPO / "example_site" / "material", dest, ignore=shutil.ignore_patterns("site", ".cache"))
    config = dest / "mkdocs.yml"
    config.write_text(config.read_text() + "      social:\n        source: first_image\n"
                      "        cards_exclude: ['blog/archive/*']\n", encoding="utf-8")
    run([bin_path("mkdocs"), "build"], cwd=dest)
    return dest / "site"


def test_blog_views_get_cards_and_tags(blog_views):
    for view, name in VIEWS.items():
        t = tags((blog_views / view).read_text(encoding="utf-8"))
        url = f"https://example.org/rainy-day-material/{SOCIAL}/{name}"
        assert t["og:image"] == [url] and t["twitter:image"] == [url], view
        assert t["og:type"] == ["website"] and t["twitter:card"] == ["summary_large_image"], view
        with Image.open(blog_views / SOCIAL / name) as img:
            assert img.size == (1200, 630) and img.format == "JPEG", view
    assert tags((blog_views / "blog/category/corners/index.html").read_text())["og:title"] == [
        "Corners - Rainy Day Reading (Material)"]
    # cards_exclude holds for views too
    assert tags((blog_views / "blog/archive/2026/index.html").read_text()) == {}
    assert not (blog_views / SOCIAL / "blog/archive/2026.jpg").exists()


def test_a_view_card_is_its_first_posts_background_with_its_own_title(blog_views):
    social = blog_views / SOCIAL
    with Image.open(social / "blog/posts/reading-nook.jpg") as post, \
            Image.open(social / "blog/category/corners.jpg") as corners, \
            Image.open(social / "blog/category/trips.jpg") as trips, \
            Image.open(social / "blog/posts/lighthouse-weekend.jpg") as lighthouse:
        top = (0, 150, 1200, 240)  # between the site name and the title: the card image alone

        def differ(a, b, box):
            return ImageStat.Stat(ImageChops.difference(a.convert("RGB").crop(box), b.convert("RGB").crop(box))).mean[0]

        assert differ(post, corners, top) < 3 and differ(lighthouse, trips, top) < 3  # each category's newest post
        assert differ(post, trips, top) > 5  # two different placeholders
        assert differ(post, corners, (64, 380, 1136, 560)) > 3  # "Corners", not the post's title


# --------------------------------------------------------------------------- item 12: the pictures


def test_docs_show_every_layout_as_a_picture_and_readme_one():
    """One picture per layout the plugin has, each a small JPEG the plugin drew
    (scripts/make_cards.py), which the social cards page shows; README shows the card a
    site gets for free, a text card in the first layout."""
    page = (REPO / "docs" / "social-cards.md").read_text(encoding="utf-8")
    for layout in card_values.LAYOUTS:
        picture = f"assets/cards/card-{layout}.jpg"
        assert f"]({picture})" in page, layout
        with Image.open(REPO / "docs" / picture) as img:
            assert img.format == "JPEG" and img.size == (600, 315), picture
        assert (REPO / "docs" / picture).stat().st_size < 40_000, picture
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    assert f"](docs/assets/cards/card-text-{card_values.LAYOUTS[0]}.jpg)" in readme
    assert (REPO / "docs" / "assets" / "cards" / f"card-text-{card_values.LAYOUTS[0]}.jpg").is_file()
