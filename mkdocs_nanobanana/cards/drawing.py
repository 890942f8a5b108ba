"""Drawing a 1200x630 social card, and the key its cached file is named by.

Three layouts, as Material's social plugin offers them by name:

- ``default``: the background image cover-cropped, the site name (with the logo), the
  title and the description over a dark gradient on its lower part, an accent bar;
- ``only_image``: the background image alone;
- ``invert``: the text on a solid colour (the theme's primary), the background image as a
  panel on the right.

Everything that changes a card's pixels goes into ``card_key``; ``Renderer.card`` and
``usage.card_keys`` both name cards by it.
"""

from __future__ import annotations

import functools
import hashlib
import io
import os
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

# Pillow is imported where pixels are touched: a warm build touches none, and skips it.
if TYPE_CHECKING:
    from PIL import Image, ImageDraw, ImageFont

from ..core import image_bytes
from ..core.card_values import CARD_SIZE, CardStyle, CardText
from ..core.errors import NanobananaError
from ..core.request import canonical_json

__all__: list[str] = []

#: Bump when the drawing changes: every cached card is redrawn once.
LAYOUT_VERSION = 3  # 3: layouts, description, colours, logo
MAX_TITLE_LINES = 3
MAX_DESCRIPTION_LINES = 2
MARGIN = 64
PANEL = (448, 502)  # invert: the image's panel, right-aligned within the margins
Warn = Callable[[str], object]  # what it returns is not looked at


class LogoError(NanobananaError, ValueError):
    """The logo cannot be drawn: the card is drawn without it."""


def _file_id(path: str | None) -> str:
    """A file's identity for the key: its bytes, not only its name."""
    if not path:
        return "none"
    stat = os.stat(path)
    return _hashed(path, stat.st_mtime_ns, stat.st_size)


@functools.lru_cache(maxsize=32)
def _hashed(path: str, _mtime_ns: int, _size: int) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def font_id(path: str | None) -> str:
    """Identity of a font for the card cache key: its bytes, not only its name."""
    return "builtin" if not path else _file_id(path)


def card_key(source_id: str, text: CardText, style: CardStyle, meta: str = "") -> str:
    """The name of the card drawn from ``source_id`` with ``text`` and ``style``;
    ``meta``: the metadata settings written into its file ("" when none is)."""
    if style.layout == "only_image":  # no text, no colour: one card per image
        fields: dict = {"source": source_id, "layout": style.layout}
    else:
        fields = {
            "source": source_id, "title": text.title, "site": text.site_name, "description": text.description,
            "layout": style.layout, "colours": [style.background_color, style.color, style.accent_color],
            "font": font_id(style.font), "logo": _file_id(style.logo),
        }
    if meta:
        fields["meta"] = meta
    return hashlib.sha256(canonical_json({**fields, "version": LAYOUT_VERSION})).hexdigest()


# --------------------------------------------------------------------------- drawing


def _font(path: str | None, size: int) -> ImageFont.FreeTypeFont:
    from PIL import ImageFont

    if path:
        return ImageFont.truetype(path, size)
    font = ImageFont.load_default(size=size)  # a bitmap font of one size if Pillow lacks FreeType
    assert isinstance(font, ImageFont.FreeTypeFont), "social cards need a Pillow built with FreeType"
    return font


@functools.lru_cache(maxsize=8)
def font_problem(path: str, _mtime_ns: int = 0) -> str | None:
    """Why FreeType cannot load the font file at ``path``, or None. The settings refuse a
    file that is no font at all (core.card_theme.font_problem); one that only looks like
    one (a damaged download) is found here, once per file and version."""
    try:
        _font(path, 30)
    except (OSError, ValueError, MemoryError) as exc:
        return f"{type(exc).__name__}: {exc}"
    return None


def _with_loadable_font(style: CardStyle, warn: Warn) -> CardStyle:
    """``style``, with the built-in font if its own cannot be loaded (and a warning)."""
    if not style.font:
        return style
    try:
        mtime = os.stat(style.font).st_mtime_ns
    except OSError as exc:
        problem: str | None = exc.strerror or str(exc)
    else:
        problem = font_problem(style.font, mtime)
    if problem is None:
        return style
    warn(f"social.font {style.font} cannot be loaded ({problem}): cards are drawn with the built-in font; "
         "point social.font at a working .ttf or .otf file")
    return replace(style, font=None)


def cover(img: Image.Image, size: tuple[int, int] = CARD_SIZE) -> Image.Image:
    """Scale to cover ``size`` and crop the middle: no stretching, no bars. An image of
    ``size`` already (a cached cover crop, Renderer.card_cover) is used as it is."""
    from PIL import Image

    if img.size == size:
        return image_bytes.displayable(img, alpha=False)
    w, h = size
    # the middle of the source at the card's aspect, then scaled: scaling the whole first
    # made a 2x40,000 strip 1,200 px wide and 24 million tall (MemoryError)
    scale = max(w / img.width, h / img.height)
    crop_w, crop_h = w / scale, h / scale
    left, top = (img.width - crop_w) / 2, (img.height - crop_h) / 2
    box = (left, top, left + crop_w, top + crop_h)
    return image_bytes.displayable(img, alpha=False).resize(size, Image.Resampling.LANCZOS, box=box)


def _units(draw: ImageDraw.ImageDraw, words: list[str], font, width: float) -> list[str]:
    """Words, each over-long one (CJK, a long URL) broken into pieces that fit."""
    units: list[str] = []
    for word in words:
        if draw.textlength(word, font=font) <= width:
            units.append(word)
            continue
        piece = ""
        for ch in word:
            if piece and draw.textlength(piece + ch, font=font) > width:
                units.append(piece)
                piece = ""
            piece += ch
        units.append(piece)
    return units


def wrap_title(draw: ImageDraw.ImageDraw, title: str, font: ImageFont.FreeTypeFont, width: float,
               max_lines: int = MAX_TITLE_LINES) -> list[str]:
    """At most ``max_lines`` lines no wider than ``width``; an ellipsis if cut. Text with
    no spaces (CJK, a long URL) breaks between characters."""
    lines: list[str] = []
    current = ""
    for unit in _units(draw, title.split(), font, width):
        trial = f"{current} {unit}" if current else unit
        if draw.textlength(trial, font=font) <= width:
            current = trial
        else:
            lines.append(current)
            current = unit
    if current:
        lines.append(current)
    if len(lines) > max_lines:
        lines = lines[:max_lines]
        last = lines[-1]
        while last and draw.textlength(last + "…", font=font) > width:
            last = last[:-1]
        lines[-1] = last.rstrip() + "…"
    return lines


def render_card(background: Image.Image, text: CardText, style: CardStyle = CardStyle(),
                warn: Warn = lambda _message: None, xmp: bytes | None = None) -> bytes:
    """The 1200x630 JPEG card of ``style.layout``; ``warn`` hears of a logo that cannot
    be drawn (the card is drawn without it), and of a font that cannot be loaded (drawn
    with the built-in one); ``xmp``: a packet written into the file."""
    style = _with_loadable_font(style, warn)
    if style.layout == "invert":
        card = _invert(background, text, style, warn)
    elif style.layout == "only_image":
        card = cover(background)
    else:
        card = _default(background, text, style, warn)
    buf = io.BytesIO()
    # baseline, not progressive: link previews are fetched whole by crawlers, and a
    # progressive encode costs about twice the time for a few per cent fewer bytes
    card.save(buf, "JPEG", quality=86, optimize=True, **({"xmp": xmp} if xmp else {}))
    return buf.getvalue()


def _site_name_shown(text: CardText) -> str:
    """The site name, unless the title says it already (a home page: once is enough)."""
    name = text.site_name.strip()
    return "" if name.casefold() == text.title.strip().casefold() else name


def _default(background: Image.Image, text: CardText, style: CardStyle, warn: Warn) -> Image.Image:
    """The image, its lower part under a gradient that keeps white text legible on any
    image; from the bottom up: description, title (an accent bar at its left), site name."""
    from PIL import Image, ImageDraw

    card = cover(background)
    w, h = CARD_SIZE
    scrim_top = int(h * (0.30 if text.description else 0.38))
    gradient, black = _scrim(w, h - scrim_top)
    lower = card.crop((0, scrim_top, w, h))
    card.paste(Image.composite(black, lower, gradient), (0, scrim_top))
    draw = ImageDraw.Draw(card)
    y = h - MARGIN
    if text.description:
        y = _paragraph_up(draw, text.description, _font(style.font, 28), y, (225, 225, 230), MAX_DESCRIPTION_LINES) - 20
    title_font = _font(style.font, 56 if text.description else 60)
    lines = wrap_title(draw, text.title, title_font, w - 2 * MARGIN)
    line_h = int(title_font.size * 1.2)
    top = y - line_h * len(lines)
    draw.rectangle((MARGIN - 28, top + 8, MARGIN - 20, y - 10), fill=style.accent_color)
    for i, line in enumerate(lines):
        draw.text((MARGIN, top + i * line_h), line, font=title_font, fill=(255, 255, 255), stroke_width=1,
                  stroke_fill=(255, 255, 255))
    _header(card, draw, text, style, (MARGIN, top - 48), (225, 225, 230), size=30, warn=warn)
    return card


def _invert(background: Image.Image, text: CardText, style: CardStyle, warn: Warn) -> Image.Image:
    """A solid colour with the site name (and logo) at the top, the title, the
    description at the bottom; the image as a panel on the right."""
    from PIL import Image, ImageDraw

    w, h = CARD_SIZE
    card = Image.new("RGB", CARD_SIZE, style.background_color)
    panel_x = w - MARGIN - PANEL[0]
    card.paste(cover(background, PANEL), (panel_x, (h - PANEL[1]) // 2))
    draw = ImageDraw.Draw(card)
    column = panel_x - MARGIN - 48
    _header(card, draw, text, style, (MARGIN, MARGIN), style.color, size=30, width=column, warn=warn)
    draw.rectangle((MARGIN, MARGIN + 64, MARGIN + 96, MARGIN + 70), fill=style.accent_color)
    title_font = _font(style.font, 54)
    line_h = int(title_font.size * 1.2)
    for i, line in enumerate(wrap_title(draw, text.title, title_font, column, max_lines=4)):
        draw.text((MARGIN, MARGIN + 104 + i * line_h), line, font=title_font, fill=style.color, stroke_width=1,
                  stroke_fill=style.color)
    if text.description:
        _paragraph_up(draw, text.description, _font(style.font, 28), h - MARGIN, style.color, MAX_DESCRIPTION_LINES,
                      column)
    return card


def _paragraph_up(draw: ImageDraw.ImageDraw, words: str, font: ImageFont.FreeTypeFont, bottom: int,
                  fill: str | tuple[int, int, int], max_lines: int, width: int = CARD_SIZE[0] - 2 * MARGIN) -> int:
    """``words`` wrapped, ending at ``bottom``; the y its first line starts at."""
    lines = wrap_title(draw, words, font, width, max_lines=max_lines)
    line_h = int(font.size * 1.3)
    top = bottom - line_h * len(lines)
    for i, line in enumerate(lines):
        draw.text((MARGIN, top + i * line_h), line, font=font, fill=fill)
    return top


def _header(card: Image.Image, draw, text: CardText, style: CardStyle, at: tuple[int, int], fill, *, size: int,
            warn: Warn, width: int = CARD_SIZE[0] - 2 * MARGIN) -> None:
    """The logo (as tall as two lines of the site name) and the site name after it."""
    x, y = at
    logo = None
    if style.logo:
        try:
            logo = _logo(style.logo, size * 2)
        except LogoError as exc:
            warn(str(exc))
    if logo is not None:
        card.paste(logo, (x, y + size // 2 - logo.height // 2), logo)
        x += logo.width + 16
    name = _site_name_shown(text)
    if name:
        font = _font(style.font, size)
        draw.text((x, y), wrap_title(draw, name, font, width - (x - at[0]), max_lines=1)[0], font=font, fill=fill)


@functools.lru_cache(maxsize=4)
def _logo(path: str, height: int) -> Image.Image:
    """The logo scaled to ``height`` (RGBA), from a raster file or an SVG (through
    cairosvg, as Material's social plugin draws it); LogoError if it cannot be drawn."""
    from PIL import Image

    try:
        data = Path(path).read_bytes()
        if path.lower().endswith(".svg"):
            from cairosvg import svg2png

            data = svg2png(bytestring=data, output_height=height * 2)
        with Image.open(io.BytesIO(data)) as img:
            logo = image_bytes.displayable(img, alpha=True).convert("RGBA")
    except Exception as exc:  # noqa: BLE001 - cairo's and Pillow's errors alike: the card goes on without it
        raise LogoError(f"the card logo {path} cannot be drawn ({exc}): cards are drawn without it") from None
    width = max(1, round(logo.width * height / logo.height))
    return logo.resize((min(width, height * 4), height), Image.Resampling.LANCZOS)


@functools.lru_cache(maxsize=4)
def _scrim(width: int, height: int) -> tuple[Image.Image, Image.Image]:
    """The legibility gradient (a mask) and its colour: the same for every card."""
    from PIL import Image

    gradient = Image.linear_gradient("L").resize((width, height)).point(lambda v: int(v * 0.82))
    return gradient, Image.new("RGB", (width, height), (12, 12, 16))
