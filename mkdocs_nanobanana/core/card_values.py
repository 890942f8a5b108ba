"""What a social card says and how it looks, as plain values: the settings name them
and the drawing (cards/drawing.py) takes them."""

from __future__ import annotations

from dataclasses import dataclass

__all__: list[str] = []


CARD_SIZE = (1200, 630)


LAYOUTS = ("default", "only_image", "invert")


@dataclass(frozen=True)
class CardText:
    """The words on a card."""

    title: str
    site_name: str = ""
    description: str = ""


@dataclass(frozen=True)
class CardStyle:
    """How a card looks: its layout, colours (#rrggbb), font and logo files."""

    layout: str = "default"
    background_color: str = "#4051b5"  # invert's solid colour: Material's indigo
    color: str = "#ffffff"  # the text on it
    accent_color: str = "#526cfe"  # default's bar, invert's rule
    font: str | None = None  # a .ttf/.otf; a built-in font otherwise
    logo: str | None = None  # a PNG, JPEG, WebP or SVG file
