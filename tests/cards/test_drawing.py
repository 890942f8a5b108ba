"""A social card drawn, keyed and described without a build: cards/drawing (the
overlay, the title's wrapping, the key), cards/social (meta tags, the card's source),
cards/feeds (enclosure lengths), and the cached cover crop a card is drawn again from.
The cards of real builds are tested in tests/hosts/mkdocs/ (test_social.py, test_cards.py)."""

from __future__ import annotations

import io
import os

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image, ImageChops, ImageStat

from mkdocs_nanobanana.cards import drawing, social, typeset
from mkdocs_nanobanana.core.card_values import CardStyle, CardText
from mkdocs_nanobanana.imaging import copies
from tests.support.images import DEJAVU


def test_existing_tags_are_not_duplicated():
    head = '<head><meta property="og:image" content="https://x/own.png"><meta name="twitter:card" content="summary">'
    out = social.meta_tags("https://x/card.jpg", social.PageMeta("T"), head)
    assert "og:image\"" not in out.replace("og:image:", "") and "twitter:card" not in out
    assert 'name="twitter:image" content="https://x/card.jpg"' in out


def background() -> Image.Image:
    return Image.linear_gradient("L").resize((1344, 768)).convert("RGB")


def test_overlay_changes_pixels_only_where_the_text_goes():
    plain = Image.open(io.BytesIO(drawing.render_card(background(), CardText("A title", "Site"),
                                                      CardStyle("only_image"))))
    over = Image.open(io.BytesIO(drawing.render_card(background(), CardText("A title", "Site"))))
    cover = drawing.cover(background())
    assert plain.size == over.size == (1200, 630)
    same = ImageChops.difference(plain.convert("RGB"), cover)
    assert ImageStat.Stat(same).mean[0] < 3, "only_image is the image alone (JPEG noise only)"
    middle = ImageChops.difference(plain.crop((600, 200, 1200, 240)), over.crop((600, 200, 1200, 240)))
    assert max(ImageStat.Stat(middle).extrema[0]) <= 16, "between the scrims and right of the text: the image"
    bottom = ImageChops.difference(plain.crop((0, 480, 1200, 630)), over.crop((0, 480, 1200, 630)))
    assert ImageStat.Stat(bottom).mean[0] > 20


def test_text_is_legible_on_a_white_image():
    white = Image.new("RGB", (1344, 768), "white")
    card = Image.open(io.BytesIO(drawing.render_card(white, CardText("Title"))))
    assert ImageStat.Stat(card.crop((0, 560, 1200, 630)).convert("L")).mean[0] < 110  # the scrim darkens it


@pytest.mark.parametrize("title", [
    "A very long title " * 17,  # ~300 characters
    "猫と本と雨の日の読書についての非常に長いタイトルがここに続きますそしてさらに続きます" * 2,
    "عنوان طويل جدا عن القراءة في يوم ممطر مع قطة وكتب كثيرة",
])
@pytest.mark.parametrize("font", [None, DEJAVU])
def test_long_and_non_latin_titles_stay_inside(title, font):
    if font and not os.path.exists(font):
        pytest.skip(f"{font} is not on this machine (Debian package fonts-dejavu-core)")
    data = drawing.render_card(background(), CardText(title, "Site"), CardStyle(font=font))
    assert Image.open(io.BytesIO(data)).size == (1200, 630)
    setter = typeset.Typeset(typeset.fonts_for(font))
    width = 1200 - 2 * 64  # the default layout's title box
    lines, s = typeset.fit(setter, title, width, 236, 3, 1.2, None, False, True)
    assert 1 <= len(lines) <= 3
    assert all(setter.measure(line, s) <= width for line in lines)
    if len(title) > 120:
        assert lines[-1].endswith("…")


def test_card_key_changes_with_what_is_drawn(tmp_path):
    logo = tmp_path / "logo.png"
    Image.new("RGB", (8, 8), "red").save(logo)
    text, style = CardText("T", "S", "D"), CardStyle(logo=str(logo))
    base = drawing.card_key("src", text, style)
    assert base == drawing.card_key("src", CardText("T", "S", "D"), CardStyle(logo=str(logo)))
    others = [("src2", text, style), ("src", CardText("U", "S", "D"), style), ("src", CardText("T", "R", "D"), style),
              ("src", CardText("T", "S", "E"), style), ("src", text, CardStyle(logo=str(logo), font=DEJAVU)),
              ("src", text, CardStyle(logo=str(logo), layout="invert")),
              ("src", text, CardStyle(logo=str(logo), accent_color="#000000")), ("src", text, CardStyle())]
    for other in others:
        assert drawing.card_key(*other) != base, other
    # the default layout draws neither colour over an image, so neither names its card; a text card is them
    for colours in ({"background_color": "#000000"}, {"color": "#000000"}):
        assert drawing.card_key("src", text, CardStyle(logo=str(logo), **colours)) == base
        assert (drawing.card_key("text", text, CardStyle(logo=str(logo), **colours), has_image=False)
                != drawing.card_key("text", text, style, has_image=False))
    Image.new("RGB", (8, 8), "blue").save(logo)  # the logo's bytes, not its name
    # as the next build sees it: each build's settings make their styles (a style reads
    # its files once, not once a card)
    assert drawing.card_key("src", text, CardStyle(logo=str(logo))) != base
    assert drawing.card_key("src", text, style) == base


def test_card_source_precedence():
    info = social.read_page("---\ntitle: T\n---\nbody", "a.md")
    kw = dict(source="generate", template="{title}|{description}", site_description="site")
    assert social.card_source(info, [2], **kw).ordinal == 2
    assert social.card_source(info, [], **kw).prompt == "T|site"
    off = social.read_page("---\nnanobanana:\n  social: false\n---\n", "a.md")
    assert social.card_source(off, [1], **kw) is None
    assert social.card_source(social.read_page("# H1 title\n", "x/y.md"), [], source="none", template="",
                              site_description="") is None
    assert social.read_page("# H1 title\n", "x/y.md").title == "H1 title"
    assert social.read_page("text", "posts/my-post.md").title == "My post"
    with pytest.raises(social.SocialError, match="title"):
        social.card_source(info, [], source="generate", template="{name}", site_description="")


def test_the_site_name_is_printed_once_on_a_home_card():
    """Issue 19 item 6: the home page's title is usually the site name: print it once."""
    img = background()
    def drawn(title, site):
        return drawing.render_card(img, CardText(title, site))

    assert drawn("Rainy Day Reading", "Rainy Day Reading") == drawn("Rainy Day Reading", "")
    assert drawn("A post", "Rainy Day Reading") != drawn("A post", "")


def test_a_card_drawn_again_starts_from_the_cached_cover_crop(tmp_path):
    """A card is drawn again (a new title, site name, layout) from its background's cover
    crop in the cache: the source is not decoded or resized again; a damaged crop is made
    again from the source."""
    from concurrent.futures import ThreadPoolExecutor

    from mkdocs_nanobanana.build.renderer import Renderer
    from mkdocs_nanobanana.cards.social import CARD_SIZE, COVER
    from mkdocs_nanobanana.core.settings import Settings
    from mkdocs_nanobanana.store.cache import Cache
    from tests.support.images import photo_png

    data = photo_png((1344, 768), seed=3)
    cache = Cache(tmp_path / "cache")
    with ThreadPoolExecutor(1) as pool:
        renderer = Renderer(Settings(docs_dir=str(tmp_path), site_dir=str(tmp_path / "site"),
                                     cache_dir=str(cache.root)), cache, pool)
        source = copies.Source("ab" * 32, 1344, 768, False, lambda: Image.open(io.BytesIO(data)))
        first = renderer.cards.card_cover(source)

        def boom():
            raise AssertionError("the source is not opened again")

        again = renderer.cards.card_cover(copies.Source(source.id, 1344, 768, False, boom))
        assert first.size == again.size == CARD_SIZE
        assert ImageStat.Stat(ImageChops.difference(first, again)).mean[0] < 3, "a JPEG at 95 of the same crop"
        kept = cache.derived_path(source.id, CARD_SIZE[0], "jpg", COVER.tag)
        kept.write_bytes(b"damaged")
        assert renderer.cards.card_cover(source).size == CARD_SIZE
        with Image.open(kept) as cover:  # and made again
            assert cover.size == CARD_SIZE


def test_enclosure_lengths_only_for_our_files(tmp_path):
    """Only an enclosure with no length that names a file under output_dir in site_url is
    filled; another's image, a missing file and everything else stay byte for byte."""
    from mkdocs_nanobanana.cards.feeds import fill_enclosure_lengths

    site = tmp_path / "site"
    (site / "out dir/social").mkdir(parents=True)
    (site / "out dir/social/a b.jpg").write_bytes(b"x" * 1234)
    feed = tmp_path / "feed.xml"
    items = [
        '<enclosure url="https://ex.org/s/out%20dir/social/a%20b.jpg" type="image/jpeg" length="None" />',
        '<enclosure url="https://ex.org/s/img/own.png" type="image/png" length="None" />',
        '<enclosure url="https://ex.org/s/out%20dir/social/gone.jpg" type="image/jpeg" length="None" />',
        '<enclosure url="https://other.org/out%20dir/social/a%20b.jpg" type="image/jpeg" length="None" />',
    ]
    feed.write_text("<rss><channel>\n" + "\n".join(items) + "\n</channel></rss>\n")
    before = feed.read_text()
    assert fill_enclosure_lengths(feed, "https://ex.org/s/", site, "out dir") == 1
    after = feed.read_text()
    assert after == before.replace(items[0], items[0].replace('length="None"', 'length="1234"'))
    assert fill_enclosure_lengths(feed, "https://ex.org/s/", site, "out dir") == 0  # nothing left to fill


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=40), st.text(max_size=40), st.sampled_from(["</head>", "</HEAD>", "</Head>", ""]),
       st.text(min_size=1, max_size=30))
def test_tags_land_just_before_the_first_head_end_in_any_case(before, after, end, tags):
    """inject_head as one str.replace where themes write </head>, found in any case
    otherwise, and the page as it is without one: the same as slicing at head_end."""
    page = f"<html><head>{before}{end}{after}</body>"
    i = social.head_end(page)
    expected = page if i < 0 else page[:i] + tags + "\n" + page[i:]
    assert social.inject_head(page, tags) == expected
