"""Issue 18 item 13: whatever mode the API's image is in, the published copies show its
colours. Pillow's convert() clips a 16-bit grey to white, so each mode is tried through a
real build against the fake API, and the written files are opened with Pillow."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from mkdocs_nanobanana.cards import drawing
from tests.support.directives import directive
from tests.support.html import figures


def _png(img: Image.Image, fmt: str = "PNG", **params) -> bytes:
    buf = io.BytesIO()
    img.save(buf, fmt, **params)
    return buf.getvalue()


def _grey16() -> bytes:
    img = Image.new("I;16", (1024, 1024), 32768)  # half of 65535: a middle grey
    return _png(img)


def _la() -> bytes:
    return _png(Image.new("LA", (1024, 1024), (100, 128)))


def _palette_with_transparency() -> bytes:
    img = Image.new("P", (1024, 1024), 1)
    img.putpalette([255, 0, 0, 0, 0, 255] + [0] * 762)
    img.paste(0, (0, 0, 512, 1024))  # left half: index 0, red; right half: index 1, transparent
    return _png(img, transparency=1)


def _cmyk_jpeg() -> bytes:
    return _png(Image.new("CMYK", (1024, 1024), (255, 0, 0, 0)), "JPEG", quality=95)


@pytest.mark.parametrize("make, ext, left, right", [
    (_grey16, "jpg", (128, 128, 128), None),
    (_la, "png", (100, 100, 100, 128), None),
    (_palette_with_transparency, "png", (255, 0, 0, 255), (0, 0, 255, 0)),
    (_cmyk_jpeg, "jpg", (0, 255, 255), None),
])
def test_every_image_mode_keeps_its_colours(live, api, make, ext, left, right):
    url = api.add_file(make())
    api.faults.append(lambda handler: handler._json(200, {"code": 0, "data": {"url": url}}))
    live.configure({"api_base": api.base, "formats": ["webp", "jpeg"], "widths": [256]})
    live.page("a.md", "# A\n\n" + directive("Any image"))
    live.build()
    fig, = figures(live.html("a/index.html"))
    assert "nanobanana-placeholder" not in fig["class"]
    published = sorted((live.site / "assets" / "nanobanana").glob(f"*.{ext}"))
    assert published, list((live.site / "assets" / "nanobanana").iterdir())
    with Image.open(published[0]) as img:
        img = img.convert("RGBA" if len(left) == 4 else "RGB")
        got_left, got_right = img.getpixel((16, 128)), img.getpixel((240, 128))
    assert all(abs(a - b) <= 4 for a, b in zip(got_left, left, strict=True)), got_left
    if right is not None:
        assert got_right[3] == right[3] and (right[3] == 0 or got_right[:3] == right[:3])


def test_cards_and_the_review_sheet_scale_16_bit_greys_too():
    

    with Image.open(io.BytesIO(_grey16())) as img:
        card = drawing.cover(img)
    assert card.mode == "RGB" and abs(card.getpixel((600, 315))[0] - 128) <= 2
