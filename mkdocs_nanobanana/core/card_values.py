"""What a social card says and how it looks, as plain values: the settings name them
and the drawing (cards/drawing.py) takes them. The layout itself is card_layouts.py's."""

from __future__ import annotations

import functools

# CARD_SIZE and LAYOUTS are card_layouts', named here too for the values' users
from .card_layouts import CARD_SIZE, LAYOUTS, CardLayout, load_layout  # noqa: F401
from .frozen import frozen

__all__: list[str] = []


@frozen
class CardText:
    """The words on a card; ``fields``: the front matter fields its layout shows, as text."""

    title: str
    site_name: str = ""
    description: str = ""
    fields: tuple[tuple[str, str], ...] = ()

    def binding(self, name: str) -> str:
        """What ``{name}`` in a text box shows: the site name is left out on a page titled
        like the site (a home page: once is enough)."""
        if name == "title":
            return self.title
        if name == "description":
            return self.description
        if name == "site_name":
            return "" if self.site_name.strip().casefold() == self.title.strip().casefold() else self.site_name
        return dict(self.fields).get(name.removeprefix("meta."), "")


@frozen
class CardStyle:
    """How a card looks: its layout (a built-in's name or a read layout), colours
    (#rrggbb), font files and logo file."""

    layout: CardLayout | str = "default"
    background_color: str = "#4051b5"  # Material's indigo, and the text on it
    color: str = "#ffffff"
    accent_color: str = "#526cfe"
    font: str | None = None  # a .ttf/.otf; the built-in font otherwise
    logo: str | None = None  # a PNG, JPEG, WebP or SVG file
    accent_text_color: str = "#ffffff"  # the text on accent_color (Material's accent layout)
    font_bold: str | None = None  # the font's bold file, if there is one (else bold is thickened)

    def __post_init__(self) -> None:
        if isinstance(self.layout, str):  # a built-in's name, or a file relative to the working folder
            object.__setattr__(self, "layout", load_layout(self.layout, "."))

    @property
    def card_layout(self) -> CardLayout:
        assert isinstance(self.layout, CardLayout)  # __post_init__ read it
        return self.layout

    @functools.cached_property
    def key_parts(self) -> dict:
        """A memo for ``cards.drawing.card_key``: what of a card's key this style decides
        for each set of facts (its layers, colours, fonts and logo by their bytes), worked
        out once a build, not once a card. Not a field: equality and hash ignore it."""
        return {}

    def colour(self, value: str) -> str:
        """A layout's colour as #rrggbbaa: spelled out, or one of the card's own."""
        named = {"background_color": self.background_color, "color": self.color, "accent_color": self.accent_color,
                 "accent_text_color": self.accent_text_color}.get(value)
        return named + "ff" if named is not None else value
