"""What a card takes from the theme and the machine, as plain values: colours by
Material's palette names, a font the theme names found on this machine, the fonts that
draw what that font lacks (fontconfig's fallback list), and whether an SVG logo can be
drawn.

No MkDocs here: hosts/mkdocs/site.py reads ``theme.palette``, ``theme.font`` and ``theme.logo`` and
passes them in a ``ThemeStyle``.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.util
import os
import re
import shutil
from pathlib import Path

from .frozen import frozen

__all__: list[str] = []

#: Material's primary colours by palette name, and the text colour its social cards print
#: on each: copied from Material for MkDocs 9.8.2, material/plugins/social/templates/
#: default.yml (its ``background_color`` and ``color`` definitions, which its
#: default/invert.yml swap). (background, text).
PRIMARY = {
    "red": ("#ef5552", "#ffffff"), "pink": ("#e92063", "#ffffff"), "purple": ("#ab47bd", "#ffffff"),
    "deep-purple": ("#7e56c2", "#ffffff"), "indigo": ("#4051b5", "#ffffff"), "blue": ("#2094f3", "#ffffff"),
    "light-blue": ("#02a6f2", "#ffffff"), "cyan": ("#00bdd6", "#ffffff"), "teal": ("#009485", "#ffffff"),
    "green": ("#4cae4f", "#ffffff"), "light-green": ("#8bc34b", "#ffffff"), "lime": ("#cbdc38", "#000000"),
    "yellow": ("#ffec3d", "#000000"), "amber": ("#ffc105", "#000000"), "orange": ("#ffa724", "#000000"),
    "deep-orange": ("#ff6e42", "#ffffff"), "brown": ("#795649", "#ffffff"), "grey": ("#757575", "#ffffff"),
    "blue-grey": ("#546d78", "#ffffff"), "black": ("#000000", "#ffffff"), "white": ("#ffffff", "#000000"),
}
#: Material's accent colours (``--md-accent-fg-color``), from Material for MkDocs 9.8.2,
#: material/templates/assets/stylesheets/palette.fb2fffe2.min.css; its hsl() values
#: (yellow, orange) converted to hex.
ACCENT = {
    "red": "#ff1a47", "pink": "#f50056", "purple": "#df41fb", "deep-purple": "#7c4dff", "indigo": "#526cfe",
    "blue": "#4287ff", "light-blue": "#0091eb", "cyan": "#00bad6", "teal": "#00bda4", "green": "#00c753",
    "light-green": "#63de17", "lime": "#b0eb00", "yellow": "#ffd500", "amber": "#ffaa00", "orange": "#ff9100",
    "deep-orange": "#ff6e42",
}
#: The text Material's ``default/accent`` layout prints on each accent colour (its
#: accent.yml ``color`` definition, 9.8.2): black on the light ones, white elsewhere.
ACCENT_TEXT = {name: "#000000" if name in ("lime", "yellow", "amber", "orange") else "#ffffff" for name in ACCENT}
DEFAULT_PRIMARY = "indigo"  # what Material's cards use when the palette names none
DEFAULT_ACCENT = "indigo"
_HEX_RE = re.compile(r"#(?:[0-9a-fA-F]{3}){1,2}\Z")
_HEX_ALPHA_RE = re.compile(r"#(?:[0-9a-fA-F]{3,4}|[0-9a-fA-F]{6}|[0-9a-fA-F]{8})\Z")
FONT_SUFFIXES = (".ttf", ".otf")
#: What a fallback font may be: FreeType's scalable outline formats (no bitmap .pcf).
FALLBACK_SUFFIXES = (".ttf", ".otf", ".ttc", ".otc")


#: Material's built-in card layouts (its social plugin's cards_layout) by the names ours have.
MATERIAL_LAYOUTS = {"default": "default", "default/accent": "accent", "default/invert": "invert",
                    "default/variant": "variant", "default/only/image": "only_image"}


@frozen
class MaterialCards:
    """What Material's social plugin is configured with, for a site moving off it: its
    ``cards_layout_options`` (background_color, color, font_family, logo),
    ``cards_include``/``cards_exclude`` and ``cards_layout``, as nanobanana's defaults."""

    configured: bool = False  # listed under plugins (enabled or not)
    enabled: bool = False
    background_color: str | None = None
    color: str | None = None
    font_family: str | None = None
    logo: str | None = None  # as written: a path relative to mkdocs.yml
    layout: str | None = None  # cards_layout as written (default/variant)
    include: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()

    def options(self) -> tuple[str, ...]:
        """The options of theirs that are set, as mkdocs.yml names them (for messages)."""
        keys = ("background_color", "color", "font_family", "logo")
        named = [(f"cards_layout_options.{k}", getattr(self, k)) for k in keys]
        named += [("cards_layout", self.layout), ("cards_include", self.include), ("cards_exclude", self.exclude)]
        return tuple(name for name, value in named if value)


@frozen
class ThemeStyle:
    """What the theme says about the look of a card (all optional), and what Material's
    social plugin is configured with."""

    primary: str | None = None  # a palette name ("deep purple" as written), or "#rrggbb"
    accent: str | None = None
    font_family: str | None = None  # Material's theme.font.text, e.g. "Roboto"
    logo: str | None = None  # an absolute path to theme.logo
    font_dirs: tuple[str, ...] = ()  # where a local copy of the font may be, first wins
    material: MaterialCards = MaterialCards()


def palette_key(name: str) -> str:
    """Material writes "deep purple" in mkdocs.yml and means deep-purple."""
    return name.strip().lower().replace(" ", "-")


def hex_colour(value: str, alpha: bool = False) -> str | None:
    """``value`` as #rrggbb if it is a hex colour, else None; with ``alpha``, #rgba and
    #rrggbbaa are taken too and the answer is #rrggbbaa."""
    value = value.strip()
    if not (_HEX_ALPHA_RE if alpha else _HEX_RE).match(value):
        return None
    digits = value[1:]
    if len(digits) in (3, 4):
        digits = "".join(ch * 2 for ch in digits)
    if alpha and len(digits) == 6:
        digits += "ff"
    return "#" + digits.lower()


def primary_colours(name: str | None) -> tuple[str, str] | None:
    """(background, text) for a palette name or a custom #hex primary (its text then
    black or white, whichever reads better); None for a name Material does not have."""
    if not name:
        return PRIMARY[DEFAULT_PRIMARY]
    custom = hex_colour(name)
    if custom:
        return custom, readable_on(custom)
    return PRIMARY.get(palette_key(name))


def accent_colour(name: str | None) -> str | None:
    if not name:
        return ACCENT[DEFAULT_ACCENT]
    return hex_colour(name) or ACCENT.get(palette_key(name))


def accent_text(accent: str, name: str | None = None) -> str:
    """The text on ``accent`` (#rrggbb) as Material's accent layout prints it: its table
    for a palette name (``name``, as written), else black or white by luminance."""
    if name is None or not hex_colour(name):
        key = palette_key(name or DEFAULT_ACCENT)
        if key in ACCENT_TEXT:
            return ACCENT_TEXT[key]
    return readable_on(accent)


def readable_on(background: str) -> str:
    """Black or white text for ``background`` (#rrggbb), by its relative luminance."""
    r, g, b = (int(background[i:i + 2], 16) / 255 for i in (1, 3, 5))
    luminance = 0.2126 * r + 0.7152 * g + 0.0722 * b
    return "#000000" if luminance > 0.6 else "#ffffff"


def system_font_dirs() -> tuple[str, ...]:
    """Where fonts are installed on this machine (fontconfig's usual folders)."""
    home = Path.home()
    return (str(home / ".local/share/fonts"), str(home / ".fonts"), "/usr/local/share/fonts", "/usr/share/fonts",
            "/Library/Fonts", str(home / "Library/Fonts"), "C:/Windows/Fonts")


def _squash(text: str) -> str:
    return re.sub(r"[^a-z0-9]", "", text.lower())


def find_font(family: str, dirs: tuple[str, ...], style: str = "Regular") -> str | None:
    """A local .ttf/.otf of ``family``: a file named after it (DejaVuSans.ttf,
    Roboto-Regular.ttf) or in a folder named after it (Material's social plugin keeps its
    Google Fonts downloads as fonts/<Family>/<Style>.ttf). ``style`` if there is one
    (Bold: DejaVuSans-Bold.ttf, Bold.ttf), else the regular style, else the shortest name;
    None if no folder has it. Looked up at each config load (a few folders, once a
    build), so a font installed meanwhile is found."""
    want, wanted = _squash(family), _squash(style)
    for folder in dirs:
        found = []
        for root, _dirs, files in os.walk(folder):
            in_family_dir = _squash(os.path.basename(root)) == want
            for name in files:
                stem, ext = os.path.splitext(name)
                if ext.lower() in FONT_SUFFIXES and (in_family_dir or _squash(stem).startswith(want)):
                    found.append(os.path.join(root, name))
        if found:
            def rank(path: str) -> tuple[int, int, str]:
                rest = _squash(Path(path).stem).removeprefix(want)
                if rest == wanted or (wanted == "regular" and rest in ("", "book")):
                    return (0, len(rest), path)
                return (1 if rest in ("", "regular", "book") else 2, len(rest), path)
            return min(found, key=rank)
    return None


def svg_drawable() -> bool:
    """Whether an SVG logo can be drawn: it goes through cairosvg, the route Material's
    social plugin takes, which needs the cairo library. Looked up, not imported (cairosvg
    imports Pillow, which a warm build does without)."""
    if importlib.util.find_spec("cairosvg") is None:
        return False
    from ctypes.util import find_library

    return any(find_library(name) for name in ("cairo", "cairo-2", "libcairo-2"))


# --------------------------------------------------------------------------- fallback fonts


def fallback_fonts() -> tuple[tuple[str, int], ...]:
    """The fonts (file, face index) that draw what a card's font lacks, in the order
    fontconfig tries them for sans-serif text (``fc-match -s``: each adds coverage, e.g.
    Debian's fonts-noto-cjk for Chinese, Japanese and Korean); without fontconfig, the
    font files of the system's font folders, Noto and DejaVu first. Asked once a process
    for each fontconfig setup (FONTCONFIG_FILE, FONTCONFIG_PATH)."""
    return _fallbacks(os.environ.get("FONTCONFIG_FILE", ""), os.environ.get("FONTCONFIG_PATH", ""))


@functools.lru_cache(maxsize=4)
def _fallbacks(_config_file: str, _config_path: str) -> tuple[tuple[str, int], ...]:
    fc_match = shutil.which("fc-match")
    if fc_match is None:
        return _font_files()
    import subprocess  # only when a card is drawn: a warm build draws none

    try:
        out = subprocess.run([fc_match, "-s", "sans-serif", "--format", "%{file}|%{index}\n"], capture_output=True,
                             text=True, timeout=30, check=False).stdout
    except (OSError, subprocess.SubprocessError):
        return _font_files()
    fonts = []
    for line in out.splitlines():
        path, _, index = line.rpartition("|")
        if path.lower().endswith(FALLBACK_SUFFIXES) and index.isdigit():
            fonts.append((path, int(index)))
    return tuple(dict.fromkeys(fonts))


def _font_files() -> tuple[tuple[str, int], ...]:
    """The system's outline fonts, for a machine without fontconfig (Windows, a bare macOS)."""
    found = []
    for folder in system_font_dirs():
        for root, _dirs, files in os.walk(folder):
            found += [os.path.join(root, n) for n in files if n.lower().endswith(FALLBACK_SUFFIXES)]

    def rank(path: str) -> tuple[int, str]:
        stem = Path(path).stem.lower()
        return (0 if stem.startswith("notosans") and "regular" in stem else 1 if "dejavusans" in stem else 2, path)
    return tuple((path, 0) for path in sorted(dict.fromkeys(found), key=rank))


def fallback_id() -> str:
    """The fallback fonts' identity for a card's key: a card with text its font may lack
    is drawn again once the fonts change (one installed, removed or updated)."""
    parts = []
    for path, index in fallback_fonts():
        try:
            stat = os.stat(path)
            parts.append(f"{path}|{index}|{stat.st_size}|{stat.st_mtime_ns}")
        except OSError:
            continue
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()


#: How a font file FreeType reads begins (the OpenType spec's sfntVersion: TrueType
#: outlines 0x00010000, "true" or "typ1" on Apple's, CFF "OTTO"; a collection "ttcf";
#: WOFF 1 and 2 "wOFF", "wOF2", which FreeType also reads).
FONT_MAGIC = (b"\x00\x01\x00\x00", b"true", b"typ1", b"OTTO", b"ttcf", b"wOFF", b"wOF2")
#: How the logos a card can draw begin: PNG, JPEG, WebP (RIFF....WEBP), GIF.
RASTER_MAGIC = (b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff", b"GIF87a", b"GIF89a")
_SVG_ROOT_RE = re.compile(rb"\A(?:\xef\xbb\xbf)?\s*(?:<\?xml[^>]*\?>\s*|<!--.*?-->\s*|<!DOCTYPE[^>]*>\s*)*<svg[\s>/]",
                          re.DOTALL | re.IGNORECASE)


def _start(path: str, size: int) -> bytes:
    with open(path, "rb") as f:
        return f.read(size)


def _shown(head: bytes) -> str:
    """The first bytes of a file as a message quotes them: enough to recognise an HTML
    page or a text file, never the whole of it."""
    text = head[:24].decode("utf-8", "replace")
    return repr(text)


def font_problem(path: str) -> str | None:
    """Why the file at ``path`` is not a font FreeType reads (a web page saved under a
    .ttf name is the common one), or None. Only its first bytes are read: no Pillow."""
    try:
        head = _start(path, 4)
    except OSError as exc:
        return f"it cannot be read ({exc.strerror or exc})"
    if head in FONT_MAGIC:
        return None
    return f"it is not a TrueType or OpenType font (it starts with {_shown(_start(path, 24))})"


def logo_problem(path: str) -> str | None:
    """Why the file at ``path`` is not a logo a card can draw (PNG, JPEG, WebP, GIF or
    SVG), or None. Only its start is read: no Pillow, no cairo."""
    try:
        head = _start(path, 4096)
    except OSError as exc:
        return f"it cannot be read ({exc.strerror or exc})"
    if head.startswith(RASTER_MAGIC) or (head[:4] == b"RIFF" and head[8:12] == b"WEBP") or _SVG_ROOT_RE.match(head):
        return None
    return f"it is not a PNG, JPEG, WebP, GIF or SVG image (it starts with {_shown(head)})"
