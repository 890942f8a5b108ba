"""Drawing a 1200x630 social card from its layout (core/card_layouts.py: the built-in
layouts and a site's own are files of one format), and the key its cached file is named by.

A card is drawn with an image (a directive's, a generated one, the page's own picture)
or without one (a text card: the theme's colours, logo, site name, title and
description); each layer of the layout says which it is drawn on (``if: image``).
Text goes through typeset.py: every script, no boxes.

Everything that changes a card's pixels goes into ``card_key``; ``Renderer.card`` and
``site_use.card_keys`` both name cards by it.
"""

from __future__ import annotations

import functools
import hashlib
import io
import os
import re
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

# Pillow is imported where pixels are touched: a warm build touches none, and skips it.
if TYPE_CHECKING:
    from PIL import Image, ImageDraw

from ..core import card_theme, image_bytes
from ..core.card_layouts import Box, CardLayout, Layer
from ..core.card_values import CARD_SIZE, CardStyle, CardText
from ..core.errors import NanobananaError
from ..core.request import canonical_json

# typeset (fonts, shaping) is imported where a card is drawn: a warm build draws none

__all__: list[str] = []

#: Bump when the drawing changes: every cached card is redrawn once.
LAYOUT_VERSION = 4  # 4: layouts as files, text cards, fallback fonts, Raqm
GRID_STEP = 50
Warn = Callable[[str], object]  # what it returns is not looked at
Missing = Callable[[dict[str, str]], None]  # characters no font has -> their scripts
_BINDING_RE = re.compile(r"\{([^{}]*)\}")


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


def facts(text: CardText, style: CardStyle, has_image: bool) -> frozenset[str]:
    """What a layout's ``if`` asks of a card: whether it has an image, a description, a logo."""
    return frozenset(name for name, on in (("image", has_image), ("description", bool(text.description.strip())),
                                          ("logo", bool(style.logo))) if on)


def words(content: str, text: CardText) -> str:
    """A text box's content with the card's words in it."""
    return " ".join(_BINDING_RE.sub(lambda m: text.binding(m.group(1)), content).split())


def card_key(source_id: str, text: CardText, style: CardStyle, meta: str = "", has_image: bool = True) -> str:
    """The name of the card drawn from ``source_id`` ("text" for none) with ``text`` and
    ``style``: what the layers it draws show, and nothing else (an image-only card is
    one card per image, whatever the page's title); ``meta``: the metadata written into
    its file ("" when none is)."""
    on = facts(text, style, has_image)
    known = style.key_parts
    if on not in known:  # once a build per set of facts: a warm build asks for every page's card
        known[on] = _style_fields(style, on)
    contents, fields, fonts = known[on]
    fields = {**fields, "source": source_id}
    shown = [words(content, text) for content in contents]
    if any(shown):
        fields.update(text=shown, **fonts)
        if not all(t.isascii() for t in shown):  # what the card's font lacks comes from the fallback fonts
            fields["fallback"] = card_theme.fallback_id()
    if meta:
        fields["meta"] = meta
    return hashlib.sha256(canonical_json({**fields, "version": LAYOUT_VERSION})).hexdigest()


def _style_fields(style: CardStyle, on: frozenset[str]) -> tuple[tuple[str, ...], dict, dict]:
    """What of ``card_key`` the style decides for a card of which ``on`` holds: the text
    boxes' contents, the fields for every such card, and the fonts' (only a card with
    words names them)."""
    layout = style.card_layout
    layers = layout.active(on)
    fields: dict = {"layout": layout.id, "facts": sorted(on)}
    if style.logo and any(layer.logo for layer in layers):
        fields["logo"] = _file_id(style.logo)
    used = {c for layer in layers for c in _colours(layer)}
    fields["colours"] = [style.colour(c) for c in sorted(used)]
    contents = tuple(layer.typography.content for layer in layers if layer.typography)
    return contents, fields, {"font": font_id(style.font), "bold": font_id(style.font_bold)}


def _colours(layer: Layer) -> list[str]:
    out = []
    if layer.background:
        out += [c for c in (layer.background.color,) if c]
        if layer.background.gradient:
            out += [layer.background.gradient.start, layer.background.gradient.end]
    out += [x.color for x in (layer.rectangle, layer.logo) if x is not None and x.color]
    return out + ([layer.typography.color] if layer.typography else [])


def needs_source(layout: CardLayout, on: frozenset[str]) -> bool:
    """Whether the card's image layers want more than its centred 1200x630 crop (a focus
    point elsewhere, or the whole image contained): then it is drawn from the source."""
    return any(layer.image and (layer.image.fit != "cover" or not layer.image.centred) for layer in layout.active(on))


# --------------------------------------------------------------------------- drawing


@functools.lru_cache(maxsize=8)
def font_problem(path: str, _mtime_ns: int = 0) -> str | None:
    """Why FreeType cannot load the font file at ``path``, or None. The settings refuse a
    file that is no font at all (core.card_theme.font_problem); one that only looks like
    one (a damaged download) is found here, once per file and version."""
    from PIL import ImageFont

    try:
        ImageFont.truetype(path, 30)
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
    return replace(style, font=None, font_bold=None)


def cover(img: Image.Image, size: tuple[int, int] = CARD_SIZE, focus: tuple[float, float] = (0.5, 0.5)) -> Image.Image:
    """Scale to cover ``size`` and crop, keeping ``focus`` in view: no stretching, no bars.
    An image of ``size`` already (a cached cover crop, Renderer.card_cover) is used as it is."""
    from PIL import Image

    if img.size == size:
        return image_bytes.displayable(img, alpha=False)
    w, h = size
    scale = max(w / img.width, h / img.height)
    # the part of the source at the card's aspect, then scaled: scaling the whole first
    # made a 2x40,000 strip 1,200 px wide and 24 million tall (MemoryError)
    crop_w, crop_h = w / scale, h / scale
    left = min(max(0.0, focus[0] * img.width - crop_w / 2), img.width - crop_w)
    top = min(max(0.0, focus[1] * img.height - crop_h / 2), img.height - crop_h)
    box = (left, top, left + crop_w, top + crop_h)
    return image_bytes.displayable(img, alpha=False).resize(size, Image.Resampling.LANCZOS, box=box)


def render_card(image: Image.Image | None, text: CardText, style: CardStyle = CardStyle(),
                warn: Warn = lambda _message: None, xmp: bytes | None = None, *,
                on_missing: Missing = lambda _chars: None, grid: bool = False, fmt: str = "JPEG") -> bytes:
    """The 1200x630 card (JPEG, or ``fmt``) of ``style``'s layout, on ``image`` (None: a
    text card). ``warn`` hears of a logo that cannot be drawn (the card is drawn
    without it) and of a font that cannot be loaded (drawn with the built-in one),
    ``on_missing`` of characters no font has (left out); ``xmp``: a packet written into
    the file; ``grid``: a 50 px grid and each layer's box drawn over it."""
    style = _with_loadable_font(style, warn)
    card = draw_card(image, text, style, warn, on_missing)
    if grid:
        on = facts(text, style, image is not None)
        card = overlay(card, [(i, layer) for i, layer in enumerate(style.card_layout.layers) if layer.active(on)])
    buf = io.BytesIO()
    if fmt == "JPEG":
        # baseline, not progressive: link previews are fetched whole by crawlers, and a
        # progressive encode costs about twice the time for a few per cent fewer bytes
        card.save(buf, "JPEG", quality=86, optimize=True, **({"xmp": xmp} if xmp else {}))
    else:
        card.save(buf, fmt)
    return buf.getvalue()


def draw_card(image: Image.Image | None, text: CardText, style: CardStyle = CardStyle(),
              warn: Warn = lambda _message: None, on_missing: Missing = lambda _chars: None) -> Image.Image:
    """The card as an RGB image (see render_card)."""
    from PIL import Image

    from . import typeset

    painter = Painter(Image.new("RGB", CARD_SIZE, "black"), image, text, style, warn)
    for layer in style.card_layout.active(facts(text, style, image is not None)):
        painter.paint(layer)
    if painter.fonts.missing:
        on_missing(dict(painter.fonts.missing))
    if any(not t.isascii() for t in painter.drawn) and not typeset.raqm():
        warn("this Pillow has no Raqm layout (libraqm): Arabic, Hebrew and Devanagari card titles are drawn "
             "unshaped; install Pillow from its wheels (pip install --force-reinstall Pillow)")
    return painter.canvas


def rgba(colour: str) -> tuple[int, int, int, int]:
    digits = colour.lstrip("#")
    return int(digits[0:2], 16), int(digits[2:4], 16), int(digits[4:6], 16), int(digits[6:8] or "ff", 16)


class Painter:
    """Paints one card's layers, in order, onto its canvas."""

    def __init__(self, canvas: Image.Image, image: Image.Image | None, text: CardText, style: CardStyle,
                 warn: Warn) -> None:
        from . import typeset

        self.canvas, self.image, self.text, self.style, self.warn = canvas, image, text, style, warn
        self.fonts = typeset.fonts_for(style.font)
        self.drawn: list[str] = []  # the text drawn, for the Raqm check

    def colour(self, value: str) -> tuple[int, int, int, int]:
        return rgba(self.style.colour(value))

    def paint(self, layer: Layer) -> None:
        if layer.background:
            if layer.background.image:
                self._picture(layer.box, layer.background.image)
            if layer.background.color:
                self._fill(layer.box, self.colour(layer.background.color))
            if layer.background.gradient:
                g = layer.background.gradient
                self._paste(layer.box, _gradient(layer.box.width, layer.box.height, self.style.colour(g.start),
                                                 self.style.colour(g.end), g.direction))
        if layer.image and self.image is not None:
            self._image(layer)
        if layer.rectangle:
            self._rectangle(layer.box, self.colour(layer.rectangle.color), layer.rectangle.radius)
        if layer.logo and self.style.logo:
            self._logo(layer)
        if layer.typography:
            self._typography(layer)

    def _paste(self, box: Box, img: Image.Image) -> None:
        """An RGBA image over the canvas at ``box``."""
        if img.mode == "RGBA":
            self.canvas.paste(img.convert("RGB"), (box.x, box.y), img.getchannel("A"))
        else:
            self.canvas.paste(img, (box.x, box.y))

    def _fill(self, box: Box, colour: tuple[int, int, int, int]) -> None:
        from PIL import Image

        if colour[3] == 255:
            self.canvas.paste(colour[:3], (box.x, box.y, box.x + box.width, box.y + box.height))
        elif colour[3]:
            self._paste(box, Image.new("RGBA", (box.width, box.height), colour))

    def _rectangle(self, box: Box, colour: tuple[int, int, int, int], radius: int) -> None:
        from PIL import Image, ImageDraw

        if not radius:
            self._fill(box, colour)
            return
        mask = Image.new("L", (box.width, box.height), 0)
        ImageDraw.Draw(mask).rounded_rectangle((0, 0, box.width - 1, box.height - 1), radius, fill=colour[3])
        self.canvas.paste(colour[:3], (box.x, box.y, box.x + box.width, box.y + box.height), mask)

    def _image(self, layer: Layer) -> None:
        from PIL import Image

        fit, box, img = layer.image, layer.box, self.image
        assert fit is not None and img is not None
        if fit.fit == "cover":
            self._paste(box, cover(img, (box.width, box.height), fit.focus))
            return
        scale = min(box.width / img.width, box.height / img.height)
        size = (max(1, round(img.width * scale)), max(1, round(img.height * scale)))
        shown = image_bytes.displayable(img, alpha=True).resize(size, Image.Resampling.LANCZOS)
        at = Box(box.x + round((box.width - size[0]) * fit.focus[0]),
                 box.y + round((box.height - size[1]) * fit.focus[1]), *size)
        self._paste(at, shown if shown.mode in ("RGB", "RGBA") else shown.convert("RGBA"))

    def _picture(self, box: Box, path: str) -> None:
        """A layout's own image file (a brand's backdrop), cover-fit to the box."""
        from PIL import Image

        try:
            with Image.open(path) as img:
                img.load()
                shown = image_bytes.displayable(img, alpha=True)
                self._paste(box, cover(shown, (box.width, box.height)) if shown.mode == "RGB" else
                            _cover_rgba(shown, (box.width, box.height)))
        except (OSError, ValueError) as exc:
            self.warn(f"the card layout's image {path} cannot be read ({exc}): cards are drawn without it")

    def _logo(self, layer: Layer) -> None:
        from PIL import Image

        assert self.style.logo is not None and layer.logo is not None
        try:
            logo = _logo(self.style.logo, layer.box.width, layer.box.height)
        except LogoError as exc:
            self.warn(str(exc))
            return
        if layer.logo.color:
            colour = self.colour(layer.logo.color)
            alpha = logo.getchannel("A").point(lambda v: v * colour[3] // 255)
            logo = Image.new("RGBA", logo.size, colour[:3] + (255,))
            logo.putalpha(alpha)
        box = layer.box
        h, v = _alignment(layer.logo.align)
        x = box.x + {"start": 0, "center": (box.width - logo.width) // 2, "end": box.width - logo.width}[h]
        y = box.y + {"top": 0, "center": (box.height - logo.height) // 2, "bottom": box.height - logo.height}[v]
        self._paste(Box(x, y, logo.width, logo.height), logo)

    def _typography(self, layer: Layer) -> None:
        from PIL import ImageDraw

        t, box = layer.typography, layer.box
        assert t is not None
        content = words(t.content, self.text)
        if not content:
            return
        from . import typeset
        from .typeset import Face, Fonts, Typeset

        own = t.font.file is not None
        fonts = Fonts(Face(t.font.file) if own else self.fonts.primary, self.fonts.fallbacks, self.fonts.missing)
        bold_face = Face(self.style.font_bold) if t.font.bold and not own and self.style.font_bold else None
        setter = Typeset(fonts, bold_face)
        lines, s = typeset.fit(setter, content, box.width, box.height, t.lines, t.line_height, t.font.size,
                               t.overflow == "shrink", t.font.bold and bold_face is None)
        h, v = _alignment(t.align)
        block = typeset.block_height(len(lines), s)
        top = box.y + {"top": 0, "center": (box.height - block) / 2, "bottom": box.height - block}[v]
        colour = self.colour(t.color)
        target = self.canvas if colour[3] == 255 else None
        draw = ImageDraw.Draw(target if target is not None else _Ink.layer(self.canvas.size))
        for i, line in enumerate(lines):
            setter.draw_line(draw, line, box.x, box.x + box.width, top + s.ascent + i * s.pitch, s,
                             colour[:3] if target is not None else 255, h)
        if target is None:
            self.canvas.paste(colour[:3], (0, 0), _Ink.mask(draw, colour[3]))
        self.drawn.append(content)


class _Ink:
    """Text in a translucent colour: drawn into a mask, then the colour through it."""

    @staticmethod
    def layer(size: tuple[int, int]) -> Image.Image:
        from PIL import Image

        return Image.new("L", size, 0)

    @staticmethod
    def mask(draw: ImageDraw.ImageDraw, alpha: int) -> Image.Image:
        return draw._image.point(lambda v: v * alpha // 255)


def _alignment(value: str) -> tuple[str, str]:
    """Material's origin words as (horizontal, vertical): "start top" -> ("start", "top")."""
    words_ = value.split()
    h = next((w for w in words_ if w in ("start", "end")), "center" if "center" in words_[:1] else "start")
    v = next((w for w in words_ if w in ("top", "bottom")), "center" if words_[-1] == "center" else "top")
    return h, v


def _cover_rgba(img: Image.Image, size: tuple[int, int]) -> Image.Image:
    from PIL import Image

    scale = max(size[0] / img.width, size[1] / img.height)
    resized = img.resize((max(size[0], round(img.width * scale)), max(size[1], round(img.height * scale))),
                         Image.Resampling.LANCZOS)
    left, top = (resized.width - size[0]) // 2, (resized.height - size[1]) // 2
    return resized.crop((left, top, left + size[0], top + size[1]))


@functools.lru_cache(maxsize=16)
def _gradient(width: int, height: int, start: str, end: str, direction: str) -> Image.Image:
    """An RGBA gradient from ``start`` to ``end`` (#rrggbbaa) along ``direction``: the
    same for every card of a layout, so made once."""
    from PIL import Image

    ramp = Image.linear_gradient("L")  # 0 at the top, 255 at the bottom
    ramp = {"down": ramp, "up": ramp.rotate(180), "right": ramp.rotate(90), "left": ramp.rotate(-90)}[direction]
    mask = ramp.resize((width, height))
    return Image.composite(Image.new("RGBA", (width, height), rgba(end)),
                           Image.new("RGBA", (width, height), rgba(start)), mask)


@functools.lru_cache(maxsize=8)
def _logo(path: str, width: int, height: int) -> Image.Image:
    """The logo contained in ``width`` x ``height`` (RGBA), from a raster file or an SVG
    (through cairosvg, as Material's social plugin draws it); LogoError if it cannot be."""
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
    scale = min(width / logo.width, height / logo.height)
    size = (max(1, round(logo.width * scale)), max(1, round(logo.height * scale)))
    return logo.resize(size, Image.Resampling.LANCZOS)


def overlay(card: Image.Image, layers: list[tuple[int, Layer]]) -> Image.Image:
    """A layout designer's view: a 50 px grid, and each drawn layer's box with its index
    in the layout file's ``layers``."""
    from PIL import Image, ImageDraw

    sheet = Image.new("RGBA", card.size, (0, 0, 0, 0))
    draw = ImageDraw.Draw(sheet)
    for x in range(0, card.width, GRID_STEP):
        draw.line((x, 0, x, card.height), fill=(255, 255, 255, 70 if x % (GRID_STEP * 2) else 120))
    for y in range(0, card.height, GRID_STEP):
        draw.line((0, y, card.width, y), fill=(255, 255, 255, 70 if y % (GRID_STEP * 2) else 120))
    for i, layer in layers:
        b = layer.box
        draw.rectangle((b.x, b.y, b.x + b.width - 1, b.y + b.height - 1), outline=(255, 64, 129, 230), width=2)
        draw.text((b.x + 4, b.y + 2), str(i), fill=(255, 64, 129, 255))
    out = card.convert("RGBA")
    out.alpha_composite(sheet)
    return out.convert("RGB")
