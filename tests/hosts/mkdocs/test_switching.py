"""Issue 36 item 8: a way off Material's social plugin. Real `mkdocs build`s and
`nanobanana doctor` on Material sites: with theirs configured but off, its
cards_layout_options (background_color, color, logo), cards_layout and
cards_include/cards_exclude are nanobanana's defaults; with theirs on, ours make no card
and the warning and doctor say how to switch and what changes."""

from __future__ import annotations

import pytest
import yaml
from PIL import Image, ImageStat

from tests.support.commands import bin_path, run
from tests.support.html import tags

SOCIAL = "assets/nanobanana/social"


def with_material_social(site, theirs: dict, ours: dict | None = None) -> None:
    pytest.importorskip("material", reason="the test extra installs mkdocs-material")
    site.configure(ours or {}, site_url="https://example.org/", site_description="A site.",
                   theme={"name": "material", "palette": {"primary": "indigo"}})
    config = yaml.safe_load(site.config_file.read_text(encoding="utf-8"))
    config["plugins"].insert(0, {"social": theirs})
    site.config_file.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    site.page("index.md", "# Home\n")
    site.page("guide.md", "# A guide to things\n")
    site.page("private/notes.md", "# Notes\n")


def card(site, name: str) -> Image.Image:
    with Image.open(site.site / SOCIAL / name) as img:
        return img.convert("RGB")


def test_theirs_off_its_options_are_ours(site):
    logo = site.root / "brand.png"
    Image.new("RGB", (64, 64), (250, 200, 0)).save(logo)
    with_material_social(site, {"enabled": False, "cards_layout": "default/invert",
                                "cards_layout_options": {"background_color": "#123456", "color": "#fedcba",
                                                         "logo": "brand.png"},
                                "cards_exclude": ["private/*"]})
    site.build()
    guide = card(site, "guide.jpg")
    # default/invert: Material's invert prints background_color on color
    assert guide.getpixel((20, 600)) == pytest.approx((0xfe, 0xdc, 0xba), abs=8)
    title = guide.crop((62, 160, 894, 470))
    ink = sum(1 for px in title.getdata() if all(abs(p - c) < 40 for p, c in zip(px, (0x12, 0x34, 0x56), strict=True)))
    assert ink > 2000, "the title in background_color"
    logo_box = guide.crop((992, 64, 1136, 208))  # Material's logo place
    assert ImageStat.Stat(logo_box).mean == pytest.approx([250, 200, 0], abs=12)
    assert tags(site.html("private/notes/index.html")) == {}  # cards_exclude
    assert not (site.site / SOCIAL / "private").exists()
    assert not (site.site / "assets/images/social").exists()  # theirs made nothing


def test_our_options_win_over_theirs(site):
    with_material_social(site, {"enabled": False, "cards_layout_options": {"background_color": "#123456"}},
                         {"social": {"background_color": "#00ff00"}})
    site.build()
    assert card(site, "guide.jpg").getpixel((20, 600)) == pytest.approx((0, 255, 0), abs=12)


def test_a_bad_colour_of_theirs_is_named_as_theirs(site):
    with_material_social(site, {"enabled": False, "cards_layout_options": {"background_color": "blurple"}})
    proc = run([bin_path("mkdocs"), "build"], cwd=site.root, check=False)
    assert proc.returncode != 0
    assert "Material's social plugin: cards_layout_options.background_color: 'blurple'" in proc.stderr, proc.stderr


def test_theirs_on_ours_off_and_doctor_says_how_to_switch(site):
    with_material_social(site, {"cards": False, "cards_layout_options": {"color": "#ffffff"},
                                "cards_include": ["guide.md"]})
    built = run([bin_path("mkdocs"), "build"], cwd=site.root)  # a process of its own: the warning is once a process
    said = [w for w in built.stderr.splitlines() if "Material's social plugin is enabled" in w]
    assert len(said) == 1 and "enabled: false under Material's social plugin" in said[0]
    assert not (site.site / SOCIAL).exists()
    out = run([bin_path("nanobanana"), "doctor"], cwd=site.root, check=False).stdout
    row = next(line for line in out.splitlines() if "Material's social" in line)
    assert row.startswith("WARN") and "set enabled: false under it" in row
    assert "cards_layout_options.color, cards_include" in row and "no font download" in row
    assert "fix: plugins: - social: {enabled: false}" in out
    # switched: doctor says what it reads, and every page gets our card
    config = site.config_file.read_text(encoding="utf-8").replace("cards: false", "enabled: false")
    site.config_file.write_text(config, encoding="utf-8")
    out = run([bin_path("nanobanana"), "doctor"], cwd=site.root, check=False).stdout
    row = next(line for line in out.splitlines() if "Material's social" in line)
    assert row.startswith("PASS") and "reads cards_layout_options.color, cards_include as its defaults" in row
    site.build()
    assert (site.site / SOCIAL / "guide.jpg").is_file() and not (site.site / SOCIAL / "index.jpg").exists()
