"""Issue 36 items 1-3: every page a social card, free, by default. Real `mkdocs build`s
of sites with no directive and no social key: a text card in the theme's colours on
every page (no request to the API), the page's own picture (front matter `image:`, else
its first Markdown image) as its card, an image URL left alone; a warm build draws none."""

from __future__ import annotations

import builtins
import io
import traceback
from pathlib import Path

import pytest
from PIL import Image, ImageStat

from mkdocs_nanobanana.cards import drawing
from mkdocs_nanobanana.core import card_theme
from tests.support.html import tags
from tests.support.logs import warnings

SOCIAL = "assets/nanobanana/social"


def card(site, name: str) -> Image.Image:
    with Image.open(site.site / SOCIAL / name) as img:
        assert img.size == (1200, 630) and img.format == "JPEG", name
        return img.convert("RGB")


def mean(img: Image.Image, box) -> tuple[float, ...]:
    return tuple(ImageStat.Stat(img.crop(box)).mean)


def near(got, want, tolerance: float = 8) -> bool:
    return all(abs(g - w) <= tolerance for g, w in zip(got, want, strict=False))


def rgb(value: str) -> tuple[int, int, int]:
    return int(value[1:3], 16), int(value[3:5], 16), int(value[5:7], 16)


def picture(path, colour, size=(900, 600)) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", size, colour).save(path)


@pytest.fixture
def drawn(monkeypatch) -> list[str]:
    """The titles of the cards drawn during builds in this process."""
    titles: list[str] = []
    real = drawing.draw_card

    def counting(image, text, *args, **kwargs):
        titles.append(text.title)
        return real(image, text, *args, **kwargs)

    monkeypatch.setattr(drawing, "draw_card", counting)
    return titles


def test_a_site_with_no_directive_and_no_key_gets_a_card_on_every_page(live, api, drawn, warnings_log):
    site = live
    site.configure({"api_base": api.base}, site_url="https://example.org/docs/", site_description="About things.")
    site.page("index.md", "# Welcome\n\nHello.\n")
    site.page("guide/setup.md", "---\ndescription: How to set it up.\n---\n# Setting up\n\nText.\n")
    site.page("notes.md", "Just text, no heading.\n")
    site.build()
    for page, name in [("index.html", "index.jpg"), ("guide/setup/index.html", "guide/setup.jpg"),
                       ("notes/index.html", "notes.jpg")]:
        t = tags(site.html(page))
        url = f"https://example.org/docs/{SOCIAL}/{name}"
        assert t["og:image"] == [url] and t["twitter:image"] == [url], page
        assert t["twitter:card"] == ["summary_large_image"] and t["og:image:width"] == ["1200"], page
        assert "og:title" in t and "og:description" in t and "og:url" in t, page
        img = card(site, name)
        # Material's default text card: the primary colour (indigo, a theme without a palette)
        assert near(mean(img, (0, 580, 40, 630)), rgb(card_theme.PRIMARY["indigo"][0])), name
    assert tags(site.html("guide/setup/index.html"))["og:description"] == ["How to set it up."]
    assert len(api.generate_requests) == len(api.gemini_requests) == len(api.downloads) == 0
    assert sorted(drawn) == ["Notes", "Setting up", "Welcome"]
    assert warnings(warnings_log) == []
    # warm: every card is in the cache, none is drawn again
    drawn.clear()
    site.build()
    assert drawn == [] and len(api.generate_requests) == 0
    assert (site.site / SOCIAL / "notes.jpg").is_file()


def test_without_site_url_one_warning_and_relative_urls(site, warnings_log):
    site.page("a.md", "# A\n")
    site.page("b/c.md", "# C\n")
    site.build()
    said = [w for w in warnings(warnings_log) if "site_url is not set" in w]
    assert len(said) == 1
    assert tags(site.html("b/c/index.html"))["og:image"] == [f"../../{SOCIAL}/b/c.jpg"]


def test_source_none_means_no_automatic_card(site):
    site.configure({"social": {"source": "none"}}, site_url="https://example.org/")
    site.page("a.md", "# A\n")
    site.build()
    assert tags(site.html("a/index.html")) == {}
    assert not (site.site / SOCIAL).exists()


@pytest.mark.parametrize(("layout", "background", "text"), [
    ("default", 0, 1),  # the primary colour, its text colour
    ("invert", 1, 0),   # the other way round
])
def test_text_card_colours_come_from_the_material_palette(site, layout, background, text):
    pytest.importorskip("material", reason="the test extra installs mkdocs-material")
    site.configure({"social": {"layout": layout}}, site_url="https://example.org/",
                   theme={"name": "material", "palette": {"primary": "deep orange", "accent": "lime"}})
    site.page("index.md", "# A title that fills the card\n")
    site.build()
    img = card(site, "index.jpg")
    colours = card_theme.PRIMARY["deep-orange"]
    assert near(mean(img, (0, 580, 40, 630)), rgb(colours[background]))
    title = img.crop((62, 160, 894, 470))  # the title box of Material's default layout
    ink = rgb(colours[text])
    share = sum(near(px, ink, 40) for px in title.getdata()) / (title.width * title.height)
    assert share > 0.03, "the title is drawn in the text colour"


def test_accent_and_variant_text_layouts(site):
    pytest.importorskip("material", reason="the test extra installs mkdocs-material")
    site.configure({}, site_url="https://example.org/",
                   theme={"name": "material", "palette": {"primary": "teal", "accent": "pink"}})
    site.page("accent.md", "---\nnanobanana:\n  social: {layout: accent}\n---\n# Accent\n")
    site.page("variant.md", "---\nnanobanana:\n  social: {layout: variant}\n---\n# Variant\n")
    site.page("plain.md", "# Plain\n")
    site.build()
    assert near(mean(card(site, "accent.jpg"), (0, 580, 40, 630)), rgb(card_theme.ACCENT["pink"]))
    assert near(mean(card(site, "plain.jpg"), (0, 580, 40, 630)), rgb(card_theme.PRIMARY["teal"][0]))
    variant = card(site, "variant.jpg")
    assert variant.tobytes() != card(site, "plain.jpg").tobytes()
    assert near(mean(variant, (0, 0, 40, 40)), rgb(card_theme.PRIMARY["teal"][0]), 30)


def test_the_pages_own_picture_is_its_card(site, warnings_log, drawn):
    site.configure({}, site_url="https://example.org/")
    picture(site.docs / "posts" / "cover.png", (200, 40, 40))  # red, beside the page
    picture(site.docs / "img" / "photo.jpg", (40, 40, 200))  # blue, under docs_dir
    picture(site.docs / "img" / "later.png", (250, 250, 0))
    site.page("posts/fm.md", "---\nimage: cover.png\n---\n# Front matter image\n\n![later](../img/later.png)\n")
    site.page("body.md", "# Body image\n\n```\n![in code](img/later.png)\n```\n\n<!-- ![hidden](img/later.png) -->\n\n"
                         "Some `![inline code](img/later.png)` text.\n\n![a photo](img/photo.jpg)\n\n"
                         "![second](img/later.png)\n")
    site.page("svg.md", "# Vector only\n\n![logo](img/logo.svg)\n")
    (site.docs / "img" / "logo.svg").write_text('<svg xmlns="http://www.w3.org/2000/svg"/>', encoding="utf-8")
    site.page("url.md", "---\nimage: https://cdn.example.com/own.png\n---\n# An image URL\n")
    site.page("missing.md", "---\nimage: nowhere.png\n---\n# A missing image\n")
    site.build()
    band = (600, 200, 1200, 240)  # between the default layout's scrims: the picture itself
    assert near(mean(card(site, "posts/fm.jpg"), band), (200, 40, 40), 14)
    assert near(mean(card(site, "body.jpg"), band), (40, 40, 200), 14)
    indigo = rgb(card_theme.PRIMARY["indigo"][0])
    for text_card in ("svg.jpg", "url.jpg", "missing.jpg"):  # no raster picture: a text card
        assert near(mean(card(site, text_card), (0, 580, 40, 630)), indigo), text_card
    said = warnings(warnings_log)
    assert any("docs/missing.md:2: front matter image 'nowhere.png' is not a file" in w for w in said), said
    assert not any("cdn.example.com" in w for w in said)  # a URL is not downloaded, nor warned of
    # a picture's card is drawn again only when the picture changes
    drawn.clear()
    site.build()
    assert drawn == []
    picture(site.docs / "posts" / "cover.png", (40, 200, 40))
    site.build()
    assert drawn == ["Front matter image"]
    assert near(mean(card(site, "posts/fm.jpg"), band), (40, 200, 40), 14)


def test_a_warm_build_opens_no_picture_a_card_is_drawn_on(site, monkeypatch, drawn):
    """The card of a page's own picture is named by the picture's sha256, which a warm
    build takes from card-pictures.json by the file's stat: the plugin opens neither
    picture (MkDocs itself copies them into the site, as it copies every file)."""
    site.configure({}, site_url="https://example.org/")
    picture(site.docs / "cover.png", (200, 40, 40))
    picture(site.docs / "img" / "photo.jpg", (40, 40, 200))
    site.page("a.md", "---\nimage: cover.png\n---\n# A\n")
    site.page("b.md", "# B\n\n![a photo](img/photo.jpg)\n")
    site.build()
    assert sorted(drawn) == ["A", "B"]
    opened: list[Path] = []
    real = io.open

    def counting(file, *args, **kwargs):
        ours = any("mkdocs_nanobanana" in frame.filename for frame in traceback.extract_stack())
        if ours and isinstance(file, (str, Path)):
            opened.append(Path(file).resolve())
        return real(file, *args, **kwargs)

    monkeypatch.setattr(builtins, "open", counting)
    monkeypatch.setattr(io, "open", counting)
    drawn.clear()
    site.build()
    pictures = {(site.docs / "cover.png").resolve(), (site.docs / "img" / "photo.jpg").resolve()}
    assert drawn == [] and not pictures & set(opened)
    assert opened, "the plugin's own reads are seen (its pages, the cache's files)"
    assert (site.cache.root / "card-pictures.json").is_file()


def test_an_image_url_the_theme_shows_stays_its_og_image(site):
    """A theme that prints front matter image (a URL) as og:image keeps it: the page
    gets no og:image of ours (the rest of the tags, yes). (The plugin sets page.meta.image
    to its card where the page has none, for mkdocs-rss-plugin: hence the https test.)"""
    site.configure({}, site_url="https://example.org/", theme={"name": "mkdocs", "custom_dir": "overrides"})
    (site.root / "overrides").mkdir()
    (site.root / "overrides" / "main.html").write_text(
        '{% extends "base.html" %}{% block extrahead %}{% if page.meta.image.startswith("https:") %}'
        '<meta property="og:image" content="{{ page.meta.image }}">{% endif %}{% endblock %}', encoding="utf-8")
    site.page("a.md", "---\nimage: https://cdn.example.com/own.png\n---\n# A\n")
    site.page("b.md", "# B\n")
    site.build()
    a = tags(site.html("a/index.html"))
    assert a["og:image"] == ["https://cdn.example.com/own.png"] and "twitter:image" not in a
    assert a["og:title"] and a["twitter:card"]
    assert tags(site.html("b/index.html"))["og:image"] == [f"https://example.org/{SOCIAL}/b.jpg"]


def test_a_damaged_picture_gives_a_text_card_and_one_warning(site, warnings_log):
    site.configure({}, site_url="https://example.org/")
    (site.docs / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"not really" * 10)
    site.page("a.md", "# A\n\n![broken](broken.png)\n")
    site.build()
    assert card(site, "a.jpg").getpixel((20, 600)) == pytest.approx(rgb(card_theme.PRIMARY["indigo"][0]), abs=8)
    said = [w for w in warnings(warnings_log) if "broken.png" in w]
    assert len(said) == 1 and "docs/a.md" in said[0] and "text card" in said[0], said


def test_a_card_file_is_a_jpeg_of_the_card_size(site):
    site.page("a.md", "# A\n")
    site.build()
    data = (site.site / SOCIAL / "a.jpg").read_bytes()
    assert Image.open(io.BytesIO(data)).size == (1200, 630)
