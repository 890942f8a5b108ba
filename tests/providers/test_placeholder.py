"""Offline placeholders: deterministic, right size, readable."""

import io

import pytest

from mkdocs_nanobanana.providers import placeholder


def png(text, key, size):
    buf = io.BytesIO()
    placeholder.render(text, key, size).save(buf, "PNG")
    return buf.getvalue()


def test_same_input_same_bytes_and_size():
    a = png("A lighthouse", "ab" * 32, (1344, 768))
    b = png("A lighthouse", "ab" * 32, (1344, 768))
    assert a == b
    assert placeholder.render("A lighthouse", "ab" * 32, (1344, 768)).size == (1344, 768)


def test_key_changes_colours_and_text_changes_pixels():
    base = placeholder.render("A", "00" * 32, (256, 256))
    assert placeholder.render("A", "ff" * 32, (256, 256)).tobytes() != base.tobytes()
    assert placeholder.render("B", "00" * 32, (256, 256)).tobytes() != base.tobytes()


def test_long_and_unicode_prompts_do_not_crash():
    img = placeholder.render("猫と本 📚 " * 200 + "x" * 500, "12" * 32, (768, 1344), 3, 4)
    assert img.size == (768, 1344)


def test_placeholder_id_depends_on_inputs():
    assert placeholder.placeholder_id("k", 1, "t") != placeholder.placeholder_id("k", 2, "t")


def _measured(monkeypatch):
    """Counts text measurements, the unit of a placeholder's drawing cost."""
    from PIL import ImageDraw

    calls = []
    real = ImageDraw.ImageDraw.textlength
    monkeypatch.setattr(ImageDraw.ImageDraw, "textlength", lambda self, *a, **k: calls.append(1) or real(self, *a, **k))
    return calls





@pytest.mark.parametrize("text", [
    "长" * 9_500,  # Chinese: no spaces at all
    "https://example.org/" + "x" * 19_900,  # one word longer than any line
    "word " * 3_990,  # many short words
    "a " * 9_990,
])
def test_wrapping_costs_the_same_for_any_allowed_prompt(monkeypatch, text):
    """Cutting a too-long word one character at a time was quadratic (69 s for one
    9,500-character Chinese prompt). Measured in text measurements, not seconds: a
    20,000-character prompt costs about what a 200-character one does."""
    calls = _measured(monkeypatch)
    placeholder.render(text[:200], "ab" * 32, (1344, 768))
    short = len(calls)
    calls.clear()
    img = placeholder.render(text, "ab" * 32, (1344, 768))
    assert img.size == (1344, 768)
    assert len(calls) < 3 * short + 100, (len(calls), short)


def test_a_long_word_wraps_over_lines_instead_of_one_cut_line():
    from PIL import Image, ImageDraw, ImageFont

    draw = ImageDraw.Draw(Image.new("RGB", (10, 10)))
    font = ImageFont.load_default(size=30)
    lines = placeholder._wrap(draw, "长" * 9_500, font, 1000, max_lines=6)
    assert len(lines) == 6 and lines[-1].endswith("…")
    assert all(draw.textlength(line, font=font) <= 1000 for line in lines)
    assert placeholder._wrap(draw, "A lighthouse at dusk", font, 1000, 6) == ["A lighthouse at dusk"]
