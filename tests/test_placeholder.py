"""Offline placeholders: deterministic, right size, readable."""

import io

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
