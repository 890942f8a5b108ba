"""Issue 36 item 4: card titles in every script. Real `mkdocs build`s whose pages are
titled in Chinese, Japanese, Korean, Arabic, Hebrew and Devanagari: every piece of text
the card draws is recorded (PIL's ImageDraw.text), and each character drawn is checked
against the .notdef glyph of the font it was drawn in (a box is .notdef), right-to-left
text is right-aligned and shaped by Raqm; with no font for a script, one warning naming
the page, the script and the fix, and the card drawn without those characters.

Needs Debian's fonts-noto-cjk and fonts-noto-core, found through fontconfig (.ci/run
installs them as root); skips, saying so, without them."""

from __future__ import annotations

import os
import shutil
import unicodedata

import pytest
from PIL import Image, ImageDraw, ImageFont, features

from mkdocs_nanobanana.cards import typeset
from mkdocs_nanobanana.core import card_theme
from tests.support.logs import warnings

SOCIAL = "assets/nanobanana/social"
CJK = "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"
HEBREW = "/usr/share/fonts/truetype/noto/NotoSansHebrew-Regular.ttf"
TITLES = {
    "zh": "中文标题：关于猫和书的雨天阅读",
    "ja": "日本語のタイトル、猫と本と雨の日の読書について。",  # two or three lines: it wraps, uncut
    "ko": "한국어 제목 고양이와 책",
    "ar": "عنوان عربي عن القطط والكتب",
    "he": "כותרת בעברית על חתולים וספרים",
    "hi": "हिन्दी शीर्षक बिल्लियाँ और किताबें",
}
INDIGO = (64, 81, 181)


def need_fonts() -> None:
    if shutil.which("fc-match") is None:
        pytest.skip("fontconfig's fc-match is not installed (Debian package fontconfig)")
    for path, package in ((CJK, "fonts-noto-cjk"), (HEBREW, "fonts-noto-core")):
        if not os.path.exists(path):
            pytest.skip(f"{path} is not on this machine (Debian package {package}; .ci/run installs it as root)")
    if not features.check("raqm"):
        pytest.skip("this Pillow has no Raqm layout (Pillow's wheels ship it)")


@pytest.fixture
def drawn(monkeypatch) -> list[tuple[str, ImageFont.FreeTypeFont, dict]]:
    """Every (text, font, options) a card drew in this process."""
    calls: list[tuple[str, ImageFont.FreeTypeFont, dict]] = []
    real = ImageDraw.ImageDraw.text

    def recording(self, xy, text, fill=None, font=None, *args, **kwargs):
        calls.append((text, font, {"xy": xy, **kwargs}))
        return real(self, xy, text, fill, font, *args, **kwargs)

    monkeypatch.setattr(ImageDraw.ImageDraw, "text", recording)
    return calls


def notdef(font: ImageFont.FreeTypeFont) -> tuple:
    mask = font.getmask(typeset.NOT_A_CHARACTER)
    return mask.size, bytes(mask)


def boxes(text: str, font: ImageFont.FreeTypeFont) -> list[str]:
    """The characters of ``text`` that ``font`` draws as its .notdef glyph."""
    box = notdef(font)
    out = []
    for ch in text:
        if unicodedata.category(ch)[0] in "MZC":  # marks, spaces, joiners: drawn with their base
            continue
        mask = font.getmask(ch)
        if (mask.size, bytes(mask)) == box:
            out.append(ch)
    return out


def ink_columns(img: Image.Image, box) -> tuple[int, int]:
    """The first and last column of ``box`` holding white text on the indigo card."""
    region = img.crop(box).convert("L")
    cols = [x for x in range(region.width) if max(region.getpixel((x, y)) for y in range(0, region.height, 2)) > 200]
    return box[0] + cols[0], box[0] + cols[-1]


def script_site(site) -> None:
    site.configure({}, site_url="https://example.org/")
    for name, title in TITLES.items():
        site.page(f"{name}.md", f"# {title}\n\nText.\n")


def test_every_script_draws_without_boxes(site, drawn, warnings_log):
    need_fonts()
    script_site(site)
    site.build()
    assert warnings(warnings_log) == []
    drawn_text = "".join(text for text, _, _ in drawn)
    for name, title in TITLES.items():
        with Image.open(site.site / SOCIAL / f"{name}.jpg") as img:
            assert img.size == (1200, 630)
        missing = {ch for ch in title if not ch.isspace() and ch not in drawn_text}
        assert not missing, f"{name}: {sorted(missing)} not drawn"
    for text, font, _ in drawn:
        assert not boxes(text, font), f"{text!r} in {font.getname()} has .notdef boxes: {boxes(text, font)}"
    # Arabic and Hebrew are laid out right to left by Raqm (Arabic's letters joined)
    for name in ("ar", "he", "hi"):
        runs = [(font, options) for text, font, options in drawn if any(ch in text for ch in TITLES[name][:4])]
        assert runs, name
        assert all(font.layout_engine == ImageFont.Layout.RAQM for font, _ in runs), name
        if name != "hi":
            assert all(options.get("direction") == "rtl" for _, options in runs), name
    # lines break between CJK characters, never before its closing punctuation
    lines = [text for text, _, _ in drawn if text and set(text) <= set(TITLES["ja"])]
    assert len(lines) >= 2 and not any(line[0] in typeset.NO_BREAK_BEFORE for line in lines), lines


def test_right_to_left_titles_are_right_aligned(site):
    need_fonts()
    script_site(site)
    site.build()
    title_box = (62, 160, 894, 470)  # the title box of the default text card (Material's)
    with Image.open(site.site / SOCIAL / "he.jpg") as he, Image.open(site.site / SOCIAL / "ko.jpg") as ko:
        he_left, he_right = ink_columns(he, title_box)
        ko_left, ko_right = ink_columns(ko, title_box)
    assert he_right > 860 and he_left > 200, (he_left, he_right)  # a short line, at the box's right edge
    assert ko_left < 90, (ko_left, ko_right)  # left to right: at its left edge


def test_no_font_for_a_script_one_warning_and_no_boxes(site, drawn, warnings_log, tmp_path, monkeypatch):
    """A machine whose only fonts are DejaVu (no CJK): the Japanese page warns once,
    naming itself, the scripts and the fix, and its card is drawn without them."""
    need_fonts()
    conf = tmp_path / "fonts.conf"
    conf.write_text('<?xml version="1.0"?>\n<!DOCTYPE fontconfig SYSTEM "fonts.dtd">\n<fontconfig>'
                    "<dir>/usr/share/fonts/truetype/dejavu</dir>"
                    f"<cachedir>{tmp_path / 'fc-cache'}</cachedir></fontconfig>\n", encoding="utf-8")
    monkeypatch.setenv("FONTCONFIG_FILE", str(conf))
    assert all("dejavu" in path.lower() for path, _ in card_theme.fallback_fonts())
    site.configure({}, site_url="https://example.org/")
    site.page("ja.md", f"# Nihongo {TITLES['ja']}\n")
    site.page("en.md", "# Plain English\n")
    site.build()
    said = [w for w in warnings(warnings_log) if "no font on this machine" in w]
    assert len(said) == 1, said
    assert "docs/ja.md" in said[0] and "Japanese" in said[0] and "apt-get install fonts-noto-cjk" in said[0]
    assert "social.font" in said[0]
    drawn_text = "".join(text for text, _, _ in drawn)
    assert "Nihongo" in drawn_text and "Plain English" in drawn_text
    assert not any("\u3040" <= ch <= "\u9fff" for ch in drawn_text), "no CJK character drawn (it would be a box)"
    for text, font, _ in drawn:
        assert not boxes(text, font), text
    with Image.open(site.site / SOCIAL / "ja.jpg") as img:
        assert img.getpixel((20, 600)) == pytest.approx(INDIGO, abs=8)
    # warm: the same cards, no warning drawn twice in one build, and the fonts are part of the key
    warnings_log.clear()
    drawn.clear()
    site.build()
    assert drawn == []
    monkeypatch.delenv("FONTCONFIG_FILE")
    site.build()  # the CJK fonts are back: the Japanese card is drawn again, the English one not
    again = "".join(text for text, _, _ in drawn)
    assert "本" in again and "Plain English" not in again
