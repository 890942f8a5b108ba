"""Text on a card in any script: each character drawn in the first font that has it (the
card's font, then the system's fallback fonts, core/card_theme.fallback_fonts), shaped
and laid out by Pillow's Raqm layout (Arabic joined, Devanagari's marks placed, right to
left where the script is), broken into lines between words and between CJK characters,
right-aligned when the text runs right to left. A character no font has is left out and
reported (``Typeset.missing``), never drawn as a box.

Whether a font has a character is asked of the font itself: its glyph is compared with
the one it draws for a code point no font maps (U+10FFFF), its .notdef glyph.
"""

from __future__ import annotations

import functools
import threading
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from PIL import ImageDraw, ImageFont

from ..core import card_theme
from ..core.frozen import frozen

__all__: list[str] = []

ELLIPSIS = "…"
NOT_A_CHARACTER = "\U0010ffff"  # mapped by no font: what it draws is the font's .notdef glyph
#: Characters a line does not start with / end with (closing and opening punctuation,
#: the CJK ones included): Unicode's line breaking classes CL, CP, EX, IS and OP, in short.
NO_BREAK_BEFORE = set("、。，．・：；？！）」』】〉》〕｝’”,.;:!?)]}%…ー々")
NO_BREAK_AFTER = set("（「『【〈《〔｛‘“([{")


@frozen
class Face:
    """A font file and its face in a collection (.ttc); path None: Pillow's built-in font."""

    path: str | None
    index: int = 0


BUILTIN = Face(None)


@functools.lru_cache(maxsize=1)
def raqm() -> bool:
    """Whether this Pillow lays text out with Raqm (HarfBuzz and FriBiDi): its wheels do."""
    from PIL import features

    return bool(features.check("raqm"))


_local = threading.local()  # FreeType faces are not shared between threads: each has its own


def font(face: Face, size: int, shaped: bool = True) -> ImageFont.FreeTypeFont:
    """``face`` at ``size`` px; ``shaped``: with Raqm's layout where Pillow has it (the
    built-in font is Latin only and always uses the basic layout). OSError if FreeType
    cannot load it at that size (a colour bitmap font has fixed sizes)."""
    from PIL import ImageFont

    cache: dict = getattr(_local, "fonts", None) or {}
    _local.fonts = cache
    key = (face, size, shaped)
    if key not in cache:
        if face.path is None:
            cache[key] = ImageFont.load_default(size=size)
        else:
            engine = ImageFont.Layout.RAQM if shaped and raqm() else ImageFont.Layout.BASIC
            cache[key] = ImageFont.truetype(face.path, size, index=face.index, layout_engine=engine)
    return cache[key]


def is_shaped(f: ImageFont.FreeTypeFont) -> bool:
    from PIL import ImageFont

    return getattr(f, "layout_engine", None) == ImageFont.Layout.RAQM


_COVERAGE: dict[tuple[Face, str], bool] = {}
_NOTDEF: dict[Face, tuple | None] = {}
_PROBE_SIZE = 32


def _glyph(f: ImageFont.FreeTypeFont, ch: str) -> tuple:
    mask = f.getmask(ch)
    return mask.size, bytes(mask)


def covers(face: Face, ch: str) -> bool:
    """Whether ``face`` has a glyph for ``ch``: it draws something other than its .notdef."""
    known = _COVERAGE.get((face, ch))
    if known is None:
        try:
            probe = font(face, _PROBE_SIZE, shaped=False)
            if face not in _NOTDEF:
                _NOTDEF[face] = _glyph(probe, NOT_A_CHARACTER)
            known = _glyph(probe, ch) != _NOTDEF[face]
        except (OSError, ValueError):  # cannot be loaded (a bitmap-only font): it has nothing for us
            known = False
        _COVERAGE[(face, ch)] = known
    return known


def _attached(ch: str) -> bool:
    """A character drawn with the one before it: combining marks (Devanagari's vowel
    signs, Hebrew points), joiners, variation selectors, and spaces."""
    category = unicodedata.category(ch)
    return category[0] == "M" or category in ("Cf", "Zs", "Cc") or ch == "\ufe0f"


def rtl(text: str) -> bool:
    """Whether a paragraph runs right to left: its first strong character is (Unicode's P2)."""
    for ch in text:
        kind = unicodedata.bidirectional(ch)
        if kind in ("R", "AL"):
            return True
        if kind == "L":
            return False
    return False


# --------------------------------------------------------------------------- scripts


_SCRIPTS = (  # (first, last, script, Debian's package with a font for it)
    (0x0370, 0x03FF, "Greek", "fonts-noto-core"), (0x0400, 0x052F, "Cyrillic", "fonts-noto-core"),
    (0x0590, 0x05FF, "Hebrew", "fonts-noto-core"), (0x0600, 0x06FF, "Arabic", "fonts-noto-core"),
    (0x0750, 0x077F, "Arabic", "fonts-noto-core"), (0x08A0, 0x08FF, "Arabic", "fonts-noto-core"),
    (0x0900, 0x097F, "Devanagari", "fonts-noto-core"), (0x0980, 0x09FF, "Bengali", "fonts-noto-core"),
    (0x0E00, 0x0E7F, "Thai", "fonts-noto-core"), (0x1100, 0x11FF, "Korean (Hangul)", "fonts-noto-cjk"),
    (0x3000, 0x303F, "CJK punctuation", "fonts-noto-cjk"), (0x3040, 0x309F, "Japanese (Hiragana)", "fonts-noto-cjk"),
    (0x30A0, 0x30FF, "Japanese (Katakana)", "fonts-noto-cjk"), (0x3130, 0x318F, "Korean (Hangul)", "fonts-noto-cjk"),
    (0x3400, 0x4DBF, "Chinese/Japanese/Korean (CJK)", "fonts-noto-cjk"),
    (0x4E00, 0x9FFF, "Chinese/Japanese/Korean (CJK)", "fonts-noto-cjk"),
    (0xAC00, 0xD7AF, "Korean (Hangul)", "fonts-noto-cjk"),
    (0xF900, 0xFAFF, "Chinese/Japanese/Korean (CJK)", "fonts-noto-cjk"), (0xFB1D, 0xFB4F, "Hebrew", "fonts-noto-core"),
    (0xFB50, 0xFDFF, "Arabic", "fonts-noto-core"), (0xFE70, 0xFEFF, "Arabic", "fonts-noto-core"),
    (0xFF00, 0xFFEF, "CJK full-width forms", "fonts-noto-cjk"),
    (0x1F300, 0x1FAFF, "emoji", "fonts-noto-core"),
    (0x20000, 0x3134F, "Chinese/Japanese/Korean (CJK)", "fonts-noto-cjk"),
)


def script_of(ch: str) -> tuple[str, str]:
    """The script a character is written in, as a reader names it, and the Debian
    package whose fonts have it."""
    code = ord(ch)
    for first, last, script, package in _SCRIPTS:
        if first <= code <= last:
            return script, package
    name = unicodedata.name(ch, f"U+{code:04X}")
    return name.split(" ")[0].title(), "fonts-noto-core"


def breaks_around(ch: str) -> bool:
    """Whether a line may break before and after ``ch`` with no space: CJK ideographs,
    kana and their punctuation (Korean breaks at spaces, as Latin does)."""
    script = script_of(ch)[0]
    return script.startswith(("Chinese", "Japanese", "CJK"))


# --------------------------------------------------------------------------- typesetting


@frozen
class Run:
    face: Face
    text: str


@dataclass
class Fonts:
    """The faces a card's text is drawn in, first match wins: its own font, then the fallbacks."""

    primary: Face
    fallbacks: tuple[Face, ...] = ()
    missing: dict[str, str] = field(default_factory=dict)  # character -> its script, left out

    def face_of(self, ch: str) -> Face | None:
        for face in (self.primary, *self.fallbacks):
            if covers(face, ch):
                return face
        return None

    def runs(self, text: str) -> list[Run]:
        """``text`` cut where the font changes; characters no face has are left out."""
        out: list[Run] = []
        dropped = False  # the last base character was left out: so are its marks
        for ch in text:
            if _attached(ch):
                if out and not (dropped and unicodedata.category(ch)[0] == "M"):
                    out[-1] = Run(out[-1].face, out[-1].text + ch)
                continue
            face = self.face_of(ch)
            dropped = face is None
            if face is None:
                self.missing.setdefault(ch, script_of(ch)[0])
            elif out and out[-1].face == face:
                out[-1] = Run(face, out[-1].text + ch)
            else:
                out.append(Run(face, ch))
        return out


@frozen
class Setting:
    """How one text box is set: its font size, line pitch and the metrics of its font."""

    size: int
    pitch: int
    ascent: int
    descent: int
    bold: bool


class Typeset:
    """One text box's lines, measured and drawn in the faces that have each character."""

    def __init__(self, fonts: Fonts, bold_face: Face | None = None) -> None:
        self.fonts = fonts
        self.bold_face = bold_face  # the card font's bold file; else bold is thickened

    def _face(self, face: Face, bold: bool) -> Face:
        return self.bold_face if bold and face == self.fonts.primary and self.bold_face else face

    def measure(self, text: str, s: Setting) -> float:
        direction = "rtl" if rtl(text) else "ltr"
        total = 0.0
        for run in self.fonts.runs(text):
            f = font(self._face(run.face, s.bold), s.size)
            total += f.getlength(run.text, direction=direction) if is_shaped(f) else f.getlength(run.text)
        return total + (2 * self.stroke(s) if total else 0)

    @staticmethod
    def stroke(s: Setting) -> int:
        return max(1, s.size // 40) if s.bold else 0

    def wrap(self, text: str, width: float, s: Setting, max_lines: int) -> tuple[list[str], bool]:
        """At most ``max_lines`` lines no wider than ``width``, and whether the text was
        cut (the last line then ends in an ellipsis)."""
        lines: list[str] = []
        current = ""
        for unit, spaced in self._units(text, width, s):
            trial = f"{current} {unit}" if current and spaced else current + unit
            if not current or self.measure(trial, s) <= width:
                current = trial
            else:
                lines.append(current)
                current = unit
        if current:
            lines.append(current)
        if len(lines) <= max_lines:
            return lines, False
        lines = lines[:max_lines]
        last = lines[-1]
        while last and self.measure(last.rstrip() + ELLIPSIS, s) > width:
            last = last[:-1]
        lines[-1] = last.rstrip() + ELLIPSIS
        return lines, True

    def _units(self, text: str, width: float, s: Setting) -> Iterator[tuple[str, bool]]:
        """Pieces a line may break between, each with whether a space comes before it:
        words, each CJK character, and the parts of a word too long for a line."""
        for word in text.split():
            spaced = True
            for piece in _pieces(word):
                if self.measure(piece, s) <= width:
                    yield piece, spaced
                else:
                    yield from ((part, spaced and i == 0) for i, part in enumerate(self._split(piece, width, s)))
                spaced = False

    def _split(self, word: str, width: float, s: Setting) -> list[str]:
        parts, piece = [], ""
        for ch in word:
            if piece and not _attached(ch) and self.measure(piece + ch, s) > width:
                parts.append(piece)
                piece = ""
            piece += ch
        return [*parts, piece] if piece else parts

    def draw_line(self, draw: ImageDraw.ImageDraw, line: str, left: float, right: float, baseline: float,
                  s: Setting, fill, align: str) -> None:
        """One line on its baseline, between ``left`` and ``right``: ``align`` start (the
        right edge for right-to-left text), center or end. Each run in its own face,
        placed in visual order: right to left when the line is."""
        backwards = rtl(line)
        direction = "rtl" if backwards else "ltr"
        runs = [(run, font(self._face(run.face, s.bold), s.size)) for run in self.fonts.runs(line)]
        widths = [f.getlength(r.text, direction=direction) if is_shaped(f) else f.getlength(r.text) for r, f in runs]
        total = sum(widths)
        starts_left = (align == "start") != backwards if align != "center" else None
        x = left if starts_left else right - total if starts_left is False else left + (right - left - total) / 2
        order = list(zip(runs, widths, strict=True))
        for (run, f), w in (reversed(order) if backwards else order):
            extra: dict[str, Any] = {"direction": direction} if is_shaped(f) else {}
            stroke = self.stroke(s)
            draw.text((x, baseline), run.text, font=f, fill=fill, anchor="ls", stroke_width=stroke,
                      stroke_fill=fill if stroke else None, **extra)
            x += w


def _pieces(word: str) -> list[str]:
    """A word cut between CJK characters, never before closing punctuation nor after opening."""
    pieces: list[str] = []
    for ch in word:
        cjk = breaks_around(ch)
        if pieces and not _attached(ch) and (cjk or breaks_around(pieces[-1][-1])) \
                and ch not in NO_BREAK_BEFORE and pieces[-1][-1] not in NO_BREAK_AFTER:
            pieces.append(ch)
        elif pieces:
            pieces[-1] += ch
        else:
            pieces.append(ch)
    return pieces


def fonts_for(primary: str | None) -> Fonts:
    """The card font (a file, or the built-in one) and the system's fallback fonts."""
    return Fonts(Face(primary) if primary else BUILTIN, tuple(Face(p, i) for p, i in card_theme.fallback_fonts()))


def metrics(face: Face, size: int) -> tuple[int, int]:
    ascent, descent = font(face, size).getmetrics()
    return ascent, descent


def fit(typeset: Typeset, text: str, width: float, height: float, lines: int, line_height: float,
        sizes: tuple[int, int] | None, shrink: bool, bold: bool) -> tuple[list[str], Setting]:
    """The lines and font size of a text box: the largest size whose lines fit, shrinking
    (``shrink``) down to the smallest size, else cut with an ellipsis at the largest.
    No ``sizes``: Material's rule (material/plugins/social/plugin.py _metrics), the size at
    which ``lines`` lines of ``line_height`` fill the box's height."""
    face = typeset.fonts.primary

    def setting(size: int) -> Setting:
        ascent, descent = metrics(face, size)
        return Setting(size, round(size * line_height), ascent, descent, bold)

    largest = sizes[1] if sizes else _filling(face, height, lines, line_height)
    smallest = sizes[0] if sizes else max(8, largest // 2)
    size = largest
    while True:
        s = setting(size)
        allowed = max(lines, _lines_in(height, s)) if shrink and not sizes else lines
        wrapped, cut = typeset.wrap(text, width, s, allowed)
        if not cut or not shrink or size <= smallest:
            return wrapped, s
        size = max(smallest, size - max(1, size // 12))


def _filling(face: Face, height: float, lines: int, line_height: float) -> int:
    ascent, descent = metrics(face, 1000)
    return max(8, int(height * 1000 / ((lines - 1) * line_height * 1000 + ascent + descent)))


def _lines_in(height: float, s: Setting) -> int:
    return max(1, int((height - s.ascent - s.descent) // max(1, s.pitch)) + 1)


def block_height(count: int, s: Setting) -> int:
    return (count - 1) * s.pitch + s.ascent + s.descent if count else 0


def glyph_is_notdef(face: Face, ch: str) -> bool:
    """For tests and `nanobanana doctor`: whether ``face`` would draw ``ch`` as its .notdef box."""
    return not covers(face, ch)

