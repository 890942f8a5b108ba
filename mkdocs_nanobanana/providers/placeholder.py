"""Offline stand-ins: a soft gradient from the request key, the prompt on it, a badge.

Deterministic (same input, same pixels, same PNG bytes with one Pillow), so a placeholder's
derivatives can be cached by an id instead of by rendering it first. Placeholders are never
stored as generated results: a later live build still generates the real image.
"""

from __future__ import annotations

import colorsys
import hashlib
from typing import TYPE_CHECKING

__all__: list[str] = []

# Pillow is imported where pixels are touched: a warm build touches none, and skips it.
if TYPE_CHECKING:
    from PIL import Image, ImageDraw, ImageFont

#: Bump when the drawing changes, so cached placeholder derivatives are redrawn.
LAYOUT_VERSION = 3


def placeholder_id(key: str, index: int, text: str) -> str:
    """Identity of a placeholder image: what the derivative cache is keyed by."""
    return hashlib.sha256(f"placeholder:{LAYOUT_VERSION}:{key}:{index}:{text}".encode()).hexdigest()


def _colour(seed: int, lightness: float) -> tuple[int, int, int]:
    r, g, b = colorsys.hls_to_rgb((seed % 360) / 360, lightness, 0.45)
    return int(r * 255), int(g * 255), int(b * 255)


#: No placeholder line holds more characters than this; cutting the prompt here first
#: keeps a 20,000-character prompt as cheap to draw as a short one.
_MAX_LINE_CHARS = 400


def _fit(draw: ImageDraw.ImageDraw, text: str, font: ImageFont.FreeTypeFont, width: float, suffix: str = "") -> str:
    """The longest start of ``text`` that fits ``width`` with ``suffix`` after it. A
    binary search: measuring ever shorter cuts one character at a time was quadratic,
    69 s for one long prompt without spaces (CJK)."""
    if draw.textlength(text + suffix, font=font) <= width:
        return text + suffix
    low, high = 0, len(text)  # text[:low] fits, text[:high] does not
    while high - low > 1:
        mid = (low + high) // 2
        if draw.textlength(text[:mid] + suffix, font=font) <= width:
            low = mid
        else:
            high = mid
    return text[:low].rstrip() + suffix


def _pieces(draw: ImageDraw.ImageDraw, words: list[str], font: ImageFont.FreeTypeFont, width: float, max_lines: int):
    """The words, each one wider than a line (CJK has no spaces, URLs are long) broken
    into pieces that fit; no more pieces than there are lines to show them."""
    for word in words:
        for _ in range(max_lines):
            if draw.textlength(word, font=font) <= width:
                break
            piece = _fit(draw, word, font, width) or word[:1]
            yield piece
            word = word[len(piece):]
        if word:
            yield word


def _wrap(draw: ImageDraw.ImageDraw, text: str, font: ImageFont.FreeTypeFont, width: float,
          max_lines: int) -> list[str]:
    words = text[: _MAX_LINE_CHARS * max_lines].split()
    lines: list[str] = []
    current = ""
    for word in _pieces(draw, words, font, width, max_lines):
        trial = f"{current} {word}".strip()
        if draw.textlength(trial, font=font) <= width or not current:
            current = trial
        else:
            lines.append(current)
            current = word
        if len(lines) == max_lines:
            break
    if current and len(lines) < max_lines:
        lines.append(current)
    if len(lines) == max_lines and "".join(lines).replace(" ", "") != "".join(text.split()):
        lines[-1] = _fit(draw, lines[-1], font, width, " …")
    # a piece still wider than the card (one glyph too wide) is cut, not overflowed
    return [_fit(draw, line, font, width, "…") if draw.textlength(line, font=font) > width else line for line in lines]


def _sized_font(font: ImageFont.FreeTypeFont | ImageFont.ImageFont) -> ImageFont.FreeTypeFont:
    """Pillow's default font at a size: a FreeType font, unless Pillow was built without
    FreeType (its bitmap font has one size, and no ``size`` to lay lines out by)."""
    from PIL import ImageFont

    assert isinstance(font, ImageFont.FreeTypeFont), "placeholders need a Pillow built with FreeType"
    return font


def render(text: str, key: str, size: tuple[int, int], index: int = 1, of: int = 1) -> Image.Image:
    """An RGB placeholder of ``size`` showing ``text`` (usually the prompt)."""
    from PIL import Image, ImageChops, ImageDraw, ImageFont

    width, height = size
    seed = int(key[:8], 16) if key else 0
    start, end = _colour(seed, 0.78), _colour(seed + 55 + index * 23, 0.62)
    # A diagonal blend: the mean of a top-to-bottom and a left-to-right gradient.
    down = Image.linear_gradient("L").resize(size)
    across = Image.linear_gradient("L").rotate(90).resize(size)
    mask = ImageChops.add(down, across, scale=2)
    img = Image.composite(Image.new("RGB", size, end), Image.new("RGB", size, start), mask)

    draw = ImageDraw.Draw(img, "RGBA")
    scale = min(width, height)
    font = _sized_font(ImageFont.load_default(size=max(12, scale // 22)))
    small = _sized_font(ImageFont.load_default(size=max(10, scale // 36)))

    margin = scale // 12
    lines = _wrap(draw, text, font, width - 4 * margin, max_lines=6)
    line_h = int(font.size * 1.35)
    box_h = line_h * len(lines) + margin
    top = (height - box_h) // 2
    draw.rounded_rectangle(
        (margin, top, width - margin, top + box_h), radius=margin // 3, fill=(255, 255, 255, 150)
    )
    y = top + margin // 2
    for line in lines:
        draw.text((width / 2, y), line, font=font, fill=(40, 40, 48), anchor="ma")
        y += line_h

    badge = "placeholder" if of == 1 else f"placeholder {index}/{of}"
    pad = small.size // 2
    bw = draw.textlength(badge, font=small) + 2 * pad
    # inset enough to survive a social card's cover-crop of a 16:9 image
    x, y = scale // 16, scale // 16
    draw.rounded_rectangle((x, y, x + bw, y + 2 * pad + small.size), radius=pad, fill=(30, 30, 36, 190))
    draw.text((x + pad, y + pad), badge, font=small, fill=(255, 255, 255))
    return img
