"""Card layouts as data: a YAML file of layers on the 1200x630 canvas, read and checked
into frozen values here, drawn by cards/drawing.py. The built-in layouts are files of
this format too (``core/layouts/*.yml``, shipped in the wheel).

The format is close to Material for MkDocs' custom layouts (its social plugin's
``layout.py``: ``size``, ``layers`` of ``size``/``offset``/``origin``, ``background``,
``typography`` with ``content``, ``align``, ``overflow``, ``color``, ``line`` and
``font``), so a Material layout moves over with few edits. What differs: text is bound
with ``{title}``, ``{description}``, ``{site_name}`` and ``{meta.<key>}`` instead of
Jinja; a layer may draw the card's image (``image``), the logo, a rectangle or a
gradient; ``if`` draws a layer only with (or without) an image, a description or a logo;
and a text box may take a size range and shrink into it.

Every mistake is a LayoutError naming the file and the key (``layers[2].typography.
overflow``) and what it takes. No Pillow here: a build checks its layouts at config time.
"""

from __future__ import annotations

import functools
import hashlib
import os
import re
from collections.abc import Mapping
from dataclasses import field
from pathlib import Path
from typing import Any

import yaml

from . import card_theme
from .errors import NanobananaError
from .frozen import frozen
from .yaml_text import FAST_LOADER

__all__: list[str] = []

CARD_SIZE = (1200, 630)
#: The built-in layouts, each a file in BUILTIN_DIR: with an image (the image layouts of
#: before) and without one (Material's default, accent, invert and variant colourings).
LAYOUTS = ("default", "invert", "only_image", "accent", "variant")
BUILTIN_DIR = Path(__file__).with_name("layouts")
#: Material's origins (material/plugins/social/layout.py), for a layer's place and a text's alignment.
ORIGINS = ("start top", "center top", "end top", "start center", "center", "end center",
           "start bottom", "center bottom", "end bottom", "start", "end")
OVERFLOWS = ("truncate", "shrink")
FITS = ("cover", "contain")
DIRECTIONS = ("down", "up", "right", "left")
CONDITIONS = ("image", "no image", "description", "no description", "logo", "no logo")
#: Colours a layout names rather than spells: the site's card colours (settings, theme, Material's options).
COLOUR_VARIABLES = ("background_color", "color", "accent_color", "accent_text_color")
BINDINGS = ("title", "description", "site_name")
_BINDING_RE = re.compile(r"\{([^{}]*)\}")
_META_RE = re.compile(r"meta\.([A-Za-z0-9_-]+)\Z")


class LayoutError(NanobananaError, ValueError):
    """A card layout file cannot be drawn: the message names the file, the key and the fix
    (settings.py raises it on as a SettingsError, a page's own layout as its warning)."""


@frozen
class Box:
    x: int
    y: int
    width: int
    height: int


@frozen
class Gradient:
    start: str  # a colour (#rrggbbaa or a COLOUR_VARIABLES name) at the start of ``direction``
    end: str
    direction: str = "down"


@frozen
class Fill:
    """A layer's background: a colour, a gradient, an image file (cover-fit), or some of them."""

    color: str | None = None
    gradient: Gradient | None = None
    image: str | None = None  # an absolute path


@frozen
class ImageFit:
    """Where the card's image goes: fit to cover the box (cropped) or be contained in it,
    the crop keeping ``focus`` (x, y from 0 to 1 of the image) in view."""

    fit: str = "cover"
    focus: tuple[float, float] = (0.5, 0.5)

    @property
    def centred(self) -> bool:
        return self.focus == (0.5, 0.5)


@frozen
class FontChoice:
    """A text's font: a file (``file``, resolved) or the card's font; Bold is drawn with
    the font's bold file if there is one, else thickened."""

    file: str | None = None  # None: the card's own font (social.font, the theme's, the built-in)
    bold: bool = False
    size: tuple[int, int] | None = None  # (smallest, largest) in px; None: from the box and line.amount


@frozen
class Typography:
    content: str  # with {title}, {description}, {site_name}, {meta.<key>}
    color: str = "color"
    font: FontChoice = FontChoice()
    lines: int = 1
    line_height: float = 1.25
    overflow: str = "truncate"
    align: str = "start top"


@frozen
class Logo:
    """The logo contained in the box, placed by ``align``."""

    color: str | None = None  # a silhouette in this colour (its alpha too), else the logo as it is
    align: str = "center"


@frozen
class Rectangle:
    color: str
    radius: int = 0


@frozen
class Layer:
    box: Box
    when: tuple[str, ...] = ()  # CONDITIONS, all of which must hold
    background: Fill | None = None
    image: ImageFit | None = None
    rectangle: Rectangle | None = None
    logo: Logo | None = None
    typography: Typography | None = None

    def active(self, facts: frozenset[str]) -> bool:
        """Whether the layer is drawn on a card of which ``facts`` hold ("image",
        "description", "logo"): each "no x" wants x absent."""
        return all(c[3:] not in facts if c.startswith("no ") else c in facts for c in self.when)


@frozen
class CardLayout:
    name: str  # a built-in's name, or the file as mkdocs.yml names it
    path: str  # the file it was read from
    layers: tuple[Layer, ...] = ()
    files: tuple[str, ...] = field(default=(), compare=False)  # fonts and images it draws
    #: families not found here: the card's font instead
    missing_fonts: tuple[str, ...] = field(default=(), compare=False)

    def active(self, facts: frozenset[str]) -> tuple[Layer, ...]:
        """The layers drawn on a card of which ``facts`` hold, worked out once per set of
        facts (there are eight): every card's key asks, a card on every page."""
        known = self._active_by_facts
        if facts not in known:
            known[facts] = tuple(layer for layer in self.layers if layer.active(facts))
        return known[facts]

    @functools.cached_property
    def _active_by_facts(self) -> dict[frozenset[str], tuple[Layer, ...]]:
        return {}  # a memo of ``active``, not a field: the value's equality and hash ignore it

    @functools.cached_property
    def id(self) -> str:
        """What of the layout changes the pixels: its layers, and its files by their bytes."""
        ids = [_file_digest(path) for path in self.files]
        return hashlib.sha256(repr((self.layers, ids)).encode()).hexdigest()

    @functools.cached_property
    def meta_keys(self) -> tuple[str, ...]:
        """The front matter fields its text boxes show (``{meta.author}``)."""
        keys = [m.group(1) for layer in self.layers if layer.typography
                for b in _BINDING_RE.findall(layer.typography.content) if (m := _META_RE.match(b))]
        return tuple(dict.fromkeys(keys))


def _file_digest(path: str) -> str:
    stat = os.stat(path)
    return _hashed(path, stat.st_mtime_ns, stat.st_size)


@functools.lru_cache(maxsize=64)
def _hashed(path: str, _mtime_ns: int, _size: int) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


# --------------------------------------------------------------------------- loading


#: How a layout file's name ends (social.layout: a name without one is a built-in layout).
LAYOUT_SUFFIXES = (".yml", ".yaml")


def is_layout_file(value: str) -> bool:
    """Whether ``social.layout`` names a file rather than a built-in layout."""
    return value.lower().endswith(LAYOUT_SUFFIXES)


def builtin_path(name: str) -> Path:
    return BUILTIN_DIR / f"{name}.yml"


def load_layout(value: str, base_dir: str, font_dirs: tuple[str, ...] = (),
                option: str = "social.layout") -> CardLayout:
    """The layout ``value`` names: a built-in (LAYOUTS) or a YAML file relative to
    ``base_dir`` (mkdocs.yml's folder). LayoutError says what is wrong, and where."""
    if not is_layout_file(value):
        if value not in LAYOUTS:
            raise LayoutError(f"{option}: {value!r} is neither a built-in layout ({', '.join(LAYOUTS)}) nor a "
                              "layout file (.yml, relative to mkdocs.yml)")
        return _read(str(builtin_path(value)), value, font_dirs)
    path = os.path.normpath(os.path.join(base_dir, value))
    if not os.path.isfile(path):
        raise LayoutError(f"{option}: the layout file {path} does not exist (a .yml file, relative to mkdocs.yml)")
    return _read(path, value, font_dirs)


def _read(path: str, name: str, font_dirs: tuple[str, ...]) -> CardLayout:
    stat = os.stat(path)
    return _parsed(path, name, font_dirs, stat.st_mtime_ns, stat.st_size)


@functools.lru_cache(maxsize=32)
def _parsed(path: str, name: str, font_dirs: tuple[str, ...], _mtime_ns: int, _size: int) -> CardLayout:
    """A layout file read and checked once per version of it (serve rebuilds read it again when it changes)."""
    try:
        # libyaml where PyYAML has it: every build reads the built-in layout, and the
        # pure-Python scanner took longer than the rest of a warm build's card work
        data = yaml.load(Path(path).read_text(encoding="utf-8-sig"), Loader=FAST_LOADER or yaml.SafeLoader)
    except (OSError, UnicodeDecodeError) as exc:
        raise LayoutError(f"{path}: cannot be read ({exc})") from None
    except yaml.YAMLError as exc:
        raise LayoutError(f"{path}: not YAML ({exc})") from None
    reader = _Reader(path, os.path.dirname(path), font_dirs)
    layers = reader.layout(data)
    return CardLayout(name, path, layers, tuple(dict.fromkeys(reader.files)), tuple(dict.fromkeys(reader.missing)))


class _Reader:
    """Reads one layout file's YAML into Layers, naming the key of each mistake."""

    def __init__(self, path: str, folder: str, font_dirs: tuple[str, ...]) -> None:
        self.path, self.folder, self.font_dirs = path, folder, font_dirs
        self.files: list[str] = []
        self.missing: list[str] = []  # "Inter Bold": a family and style with no local copy

    def fail(self, key: str, problem: str) -> LayoutError:
        return LayoutError(f"{self.path}: {key}: {problem}" if key else f"{self.path}: {problem}")

    def mapping(self, value: Any, key: str, known: tuple[str, ...]) -> Mapping[str, Any]:
        if value is None:
            return {}
        if not isinstance(value, Mapping):
            raise self.fail(key, f"expected a mapping, got {type(value).__name__}")
        for name in value:
            if name not in known:
                import difflib  # here, not at the top: only a mistake needs it, and every build imports this module

                near = difflib.get_close_matches(str(name), known, n=1)
                hint = f"did you mean {near[0]!r}?" if near else f"use {', '.join(known)}"
                raise self.fail(f"{key}.{name}" if key else str(name), f"unknown key: {hint}")
        return value

    def layout(self, data: Any) -> tuple[Layer, ...]:
        top = self.mapping(data, "", ("size", "layers", "definitions"))
        size = self.mapping(top.get("size"), "size", ("width", "height"))
        if size and (size.get("width"), size.get("height")) != CARD_SIZE:
            raise self.fail("size", f"cards are {CARD_SIZE[0]}x{CARD_SIZE[1]} (what og:image:width and height say): "
                                    "leave size out or write {width: 1200, height: 630}")
        layers = top.get("layers")
        if not isinstance(layers, list) or not layers:
            raise self.fail("layers", "expected a list of layers (see the built-in layouts in core/layouts/)")
        return tuple(self.layer(item, f"layers[{i}]") for i, item in enumerate(layers))

    def layer(self, data: Any, key: str) -> Layer:
        kinds = ("background", "image", "rectangle", "logo", "typography")
        if isinstance(data, Mapping) and "icon" in data:
            raise self.fail(f"{key}.icon", "Material's icons are not drawn here (they need its theme's SVGs and "
                                           "cairo): use logo, an image file as background.image, or a rectangle")
        layer = self.mapping(data, key, ("size", "offset", "origin", "if", *kinds))
        if not any(k in layer for k in kinds):
            raise self.fail(key, f"a layer draws something: give it one of {', '.join(kinds)}")
        return Layer(
            box=self.box(layer, key), when=self.conditions(layer.get("if"), f"{key}.if"),
            background=self.fill(layer["background"], f"{key}.background") if "background" in layer else None,
            image=self.image(layer["image"], f"{key}.image") if "image" in layer else None,
            rectangle=self.rectangle(layer["rectangle"], f"{key}.rectangle") if "rectangle" in layer else None,
            logo=self.logo(layer["logo"], f"{key}.logo") if "logo" in layer else None,
            typography=self.typography(layer["typography"], f"{key}.typography") if "typography" in layer else None,
        )

    def box(self, layer: Mapping[str, Any], key: str) -> Box:
        """Material's placement (layout.py get_offset): the offset from the origin's corner."""
        size = self.mapping(layer.get("size"), f"{key}.size", ("width", "height"))
        offset = self.mapping(layer.get("offset"), f"{key}.offset", ("x", "y"))
        w = self.whole(size.get("width", CARD_SIZE[0]), f"{key}.size.width", 1) or CARD_SIZE[0]
        h = self.whole(size.get("height", CARD_SIZE[1]), f"{key}.size.height", 1) or CARD_SIZE[1]
        x, y = self.whole(offset.get("x", 0), f"{key}.offset.x"), self.whole(offset.get("y", 0), f"{key}.offset.y")
        origin = self.choice(layer.get("origin", "start top"), f"{key}.origin", ORIGINS).split()
        if "end" in origin:
            x += CARD_SIZE[0] - w - 2 * x
        elif "center" in origin[:1]:
            x += (CARD_SIZE[0] - w) // 2
        if "bottom" in origin:
            y += CARD_SIZE[1] - h - 2 * y
        elif origin[-1] == "center":
            y += (CARD_SIZE[1] - h) // 2
        return Box(x, y, w, h)

    def conditions(self, value: Any, key: str) -> tuple[str, ...]:
        if value is None:
            return ()
        items = value if isinstance(value, list) else [value]
        return tuple(self.choice(" ".join(str(v).split()), key, CONDITIONS) for v in items)

    def fill(self, data: Any, key: str) -> Fill:
        fill = self.mapping(data, key, ("color", "gradient", "image"))
        gradient = None
        if "gradient" in fill:
            g = self.mapping(fill["gradient"], f"{key}.gradient", ("from", "to", "direction"))
            for end in ("from", "to"):
                if end not in g:
                    raise self.fail(f"{key}.gradient.{end}", "missing: a gradient goes from one colour to another")
            gradient = Gradient(self.colour(g["from"], f"{key}.gradient.from"),
                                self.colour(g["to"], f"{key}.gradient.to"),
                                self.choice(g.get("direction", "down"), f"{key}.gradient.direction", DIRECTIONS))
        image = self.file(fill["image"], f"{key}.image", "an image file") if fill.get("image") else None
        color = self.colour(fill["color"], f"{key}.color") if fill.get("color") else None
        if not (color or gradient or image):
            raise self.fail(key, "give it a color, a gradient or an image")
        return Fill(color, gradient, image)

    def image(self, data: Any, key: str) -> ImageFit:
        image = self.mapping(data, key, ("fit", "focus"))
        focus = self.mapping(image.get("focus"), f"{key}.focus", ("x", "y"))
        point = tuple(self.fraction(focus.get(axis, 0.5), f"{key}.focus.{axis}") for axis in ("x", "y"))
        return ImageFit(self.choice(image.get("fit", "cover"), f"{key}.fit", FITS), (point[0], point[1]))

    def rectangle(self, data: Any, key: str) -> Rectangle:
        rect = self.mapping(data, key, ("color", "radius"))
        if "color" not in rect:
            raise self.fail(f"{key}.color", "missing: the rectangle's colour")
        return Rectangle(self.colour(rect["color"], f"{key}.color"), self.whole(rect.get("radius", 0), f"{key}.radius"))

    def logo(self, data: Any, key: str) -> Logo:
        logo = self.mapping(data, key, ("color", "align"))
        return Logo(self.colour(logo["color"], f"{key}.color") if logo.get("color") else None,
                    self.choice(logo.get("align", "center"), f"{key}.align", ORIGINS))

    def typography(self, data: Any, key: str) -> Typography:
        t = self.mapping(data, key, ("content", "color", "font", "line", "overflow", "align"))
        content = t.get("content")
        if not isinstance(content, str) or not content.strip():
            raise self.fail(f"{key}.content", "missing: the text, e.g. '{title}', '{description}', '{site_name}' "
                                              "or '{meta.author}' (a front matter field)")
        self.bindings(content, f"{key}.content")
        line = self.mapping(t.get("line"), f"{key}.line", ("amount", "height"))
        height = line.get("height", 1.25)
        if isinstance(height, bool) or not isinstance(height, (int, float)) or not 0.5 <= height <= 4:
            raise self.fail(f"{key}.line.height",
                            f"expected a number from 0.5 to 4 (times the font size), got {height!r}")
        return Typography(
            content=" ".join(content.split()), color=self.colour(t.get("color", "color"), f"{key}.color"),
            font=self.font(t.get("font"), f"{key}.font"),
            lines=self.whole(line.get("amount", 1), f"{key}.line.amount", 1), line_height=float(height),
            overflow=self.choice(t.get("overflow", "truncate"), f"{key}.overflow", OVERFLOWS),
            align=self.choice(t.get("align", "start top"), f"{key}.align", ORIGINS),
        )

    def bindings(self, content: str, key: str) -> None:
        if "{{" in content or "{%" in content:
            raise self.fail(key, "Jinja templates are Material's: write {title}, {description}, {site_name} or "
                                 "{meta.<key>} (a front matter field)")
        for name in _BINDING_RE.findall(content):
            if name not in BINDINGS and not _META_RE.match(name):
                raise self.fail(key, f"{{{name}}} is not something a card knows: use {{title}}, {{description}}, "
                                     "{site_name} or {meta.<key>} (a front matter field)")

    def font(self, data: Any, key: str) -> FontChoice:
        font = self.mapping(data, key, ("family", "style", "variant", "file", "size"))
        style = " ".join(str(font.get(k, "")) for k in ("variant", "style") if font.get(k)) or "Regular"
        bold = "bold" in style.lower()
        path = None
        if font.get("file"):
            path = self.file(font["file"], f"{key}.file", "a .ttf or .otf file")
        elif font.get("family"):
            path = card_theme.find_font(str(font["family"]), self.font_dirs, style)
            if path is None:
                self.missing.append(f"{font['family']} {style}")
            else:
                self.files.append(path)
                bold = bold and "bold" not in Path(path).stem.lower()  # a bold file needs no thickening
        return FontChoice(path, bold, self.size(font.get("size"), f"{key}.size") if "size" in font else None)

    def size(self, value: Any, key: str) -> tuple[int, int]:
        values = value if isinstance(value, list) else [value]
        if len(values) not in (1, 2):
            raise self.fail(key, f"expected a size in px or a range [smallest, largest], got {value!r}")
        low, high = (self.whole(v, key, 4) for v in (values[0], values[-1]))
        if low > high:
            raise self.fail(key, f"the range [{low}, {high}] goes down: write [smallest, largest]")
        return low, high

    def colour(self, value: Any, key: str) -> str:
        colour = value if isinstance(value, str) else None
        if colour is not None:
            colour = colour.strip()
            if colour in COLOUR_VARIABLES:
                return colour
            if colour == "transparent":
                return "#00000000"
            hexed = card_theme.hex_colour(colour, alpha=True)
            named = card_theme.PRIMARY.get(card_theme.palette_key(colour))
            if hexed or named:
                return hexed or named[0] + "ff"  # type: ignore[index]
        raise self.fail(key, f"{value!r} is not a colour: use #rrggbb, #rrggbbaa, a Material palette name "
                             f"(indigo, deep orange) or one of {', '.join(COLOUR_VARIABLES)}")

    def file(self, value: Any, key: str, what: str) -> str:
        path = os.path.normpath(os.path.join(self.folder, str(value)))
        if not os.path.isfile(path):
            raise self.fail(key, f"{path} is not a file: give {what}, relative to the layout file")
        self.files.append(path)
        return path

    def whole(self, value: Any, key: str, least: int | None = None) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or (least is not None and value < least):
            floor = f" of at least {least}" if least is not None else ""
            raise self.fail(key, f"expected a whole number{floor}, got {value!r}")
        return value

    def fraction(self, value: Any, key: str) -> float:
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 1:
            raise self.fail(key, f"expected a number from 0 to 1 (a share of the image), got {value!r}")
        return float(value)

    def choice(self, value: Any, key: str, choices: tuple[str, ...]) -> str:
        if value not in choices:
            raise self.fail(key, f"{value!r} is not one of {', '.join(choices)}")
        return str(value)
