"""Issue 21: provenance metadata in every published image, and AVIF.

Every check reads the published files back: the XMP packet as Pillow finds it in the
file (parsed here with namespaces, so a field in the wrong namespace fails), and with
exiftool where Debian's libimage-exiftool-perl is installed.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from PIL import Image

from mkdocs_nanobanana.core.request import sha256
from mkdocs_nanobanana.core.settings import COPY_RECIPE, Encoding
from mkdocs_nanobanana.store.cache import DERIVED_NAME_RE
from tests.support.directives import directive
from tests.support.html import figures
from tests.support.images import seed_cache
from tests.support.provenance import cached, published, xmp_of

CODES = "http://cv.iptc.org/newscodes/digitalsourcetype/"
TRAINED = CODES + "trainedAlgorithmicMedia"
COMPOSITE = CODES + "compositeWithTrainedAlgorithmicMedia"
ALGORITHMIC = CODES + "algorithmicMedia"
CREDIT = "Generated with Gemini 2.5 Flash Image"


def figure_tags(html: str) -> list[str]:
    return re.findall(r"<figure [^>]*>", html)


def test_every_format_and_the_card_carry_the_digital_source_type(site):
    """AVIF, WebP, JPEG, and PNG where the image has transparency; the social card too.
    AVIF comes first in <picture>, as configured, and decodes."""
    site.configure({"formats": ["avif", "webp", "jpeg"]}, site_url="https://example.org/")
    site.page("a.md", "# A\n\n```nanobanana\nprompt: A harbour at dawn\nsocial: true\nratio: \"16:9\"\n```\n\n"
                      "```nanobanana\nprompt: A glass bottle\n```\n")
    seed_cache(site.cache, "A harbour at dawn", ratio="16:9")
    seed_cache(site.cache, "A glass bottle", alpha=True)
    site.build()

    files = published(site)
    exts = {p.suffix for p in files if "social" not in p.parts}
    assert exts == {".avif", ".webp", ".jpg", ".png"}
    for path in files:
        meta = xmp_of(path)
        assert meta is not None, f"{path.name} has no XMP"
        assert meta["credit"] == CREDIT and meta["description"] is None, path.name  # no prompt by default
        # the card draws the title over the generated image: a composite of it
        assert meta["type"] == (COMPOSITE if "social" in path.parts else TRAINED), path.name

    harbour, bottle = figures(site.html("a/index.html"))
    assert [s["type"] for s in harbour["sources"]] == ["image/avif", "image/webp"]
    assert harbour["img"]["src"].endswith(".jpg")
    assert [s["type"] for s in bottle["sources"]] == ["image/avif", "image/webp"]
    assert bottle["img"]["src"].endswith(".png")
    avif = next(p for p in files if p.suffix == ".avif" and p.name.endswith("-768.avif"))
    with Image.open(avif) as img:
        assert img.format == "AVIF" and img.size == (768, 439)
        img.load()
        assert img.getextrema()[0][1] > img.getextrema()[0][0]  # real pixels, not a blank frame
    assert all('data-ai-generated="true"' in tag for tag in figure_tags(site.html("a/index.html")))


@pytest.mark.skipif(shutil.which("exiftool") is None,
                    reason="exiftool is not installed (Debian: apt-get install libimage-exiftool-perl)")
def test_exiftool_reads_what_was_written(site):
    """An independent reader: exiftool finds the IPTC source type and the credit in every
    format, with the prompt when the site includes it."""
    site.configure({"formats": ["avif", "webp", "jpeg", "png"], "provenance": {"include_prompt": True}},
                   site_url="https://example.org/")
    prompt = 'Fish & chips <on> a "pier"'
    site.page("a.md", f"# A\n\n```nanobanana\nprompt: '{prompt}'\nsocial: true\n```\n")
    seed_cache(site.cache, prompt)
    site.build()
    files = published(site)
    assert {p.suffix for p in files} == {".avif", ".webp", ".jpg", ".png"}
    out = subprocess.run(["exiftool", "-j", "-XMP-iptcExt:DigitalSourceType", "-XMP-photoshop:Credit",
                          "-XMP-dc:Description", *map(str, files)], capture_output=True, text=True, check=True)
    for record in json.loads(out.stdout):
        name = Path(record["SourceFile"]).name
        assert record["DigitalSourceType"] in (TRAINED, COMPOSITE), name
        assert record["Credit"] == CREDIT and record["Description"] == prompt, name


def test_changing_provenance_re_encodes_from_the_cache_without_a_call(live, api):
    """The metadata is part of a copy's identity: new settings, new copies and card with
    the new packet, drawn from the cached image; the API is not asked again."""
    live.configure({"api_base": api.base, "social": {"enabled": True}}, site_url="https://example.org/")
    prompt = "A lighthouse <b>&</b> its keeper"
    live.page("a.md", "# A\n\n" + directive(prompt, social=True))
    live.build()
    assert len(api.generate_requests) == 1
    before = {p.name: xmp_of(p) for p in published(live)}
    assert all(m["description"] is None and m["credit"] == CREDIT for m in before.values())

    live.configure({"api_base": api.base, "provenance": {"include_prompt": True, "credit": "Made by Ada with a model"}},
                   site_url="https://example.org/")
    live.build()
    assert len(api.generate_requests) == 1, "new metadata must not buy the image again"
    after = {p.name: xmp_of(p) for p in published(live)}
    assert set(after) == set(before) and len(after) >= 7  # 3 widths x 2 formats and the card
    for name, meta in after.items():
        assert meta["description"] == prompt and meta["credit"] == "Made by Ada with a model", name
    derived = [p.name for p in live.cache.derived_dir.rglob("*")  # copies, not backdrops or the card's cover crop
               if DERIVED_NAME_RE.match(p.name) and "-q82-" in p.name]
    assert len(derived) == 2 * 6, "the old copies stay (prune removes them), the new ones have new names"


def test_a_ref_to_the_users_own_picture_makes_a_composite(site):
    """An edit of a picture the user supplied mixes it with generated pixels: composite;
    a refinement of another generated image (#name) is still wholly generated."""
    (site.docs / "img").mkdir()
    photo = site.docs / "img" / "photo.png"
    Image.new("RGB", (64, 64), "red").save(photo)
    site.page("a.md", "# A\n\n```nanobanana\nprompt: Draft\nname: draft\n```\n\n"
                      "```nanobanana\nprompt: Night\nname: night\nrefs: [\"#draft\"]\n```\n\n"
                      "```nanobanana\nprompt: Into a watercolour\nrefs: [img/photo.png]\n```\n")
    draft = cached(site, "Draft", seed=1)
    cached(site, "Night", seed=2, refs=(draft.images[0].sha256,))
    cached(site, "Into a watercolour", seed=3, refs=(sha256(photo.read_bytes()),))
    site.build()
    types = {p.name.split("-")[0]: xmp_of(p)["type"] for p in published(site)}
    assert types == {"draft": TRAINED, "night": TRAINED,
                     next(n for n in types if n not in ("draft", "night")): COMPOSITE}


def test_placeholders_say_no_model_made_them(site):
    """Offline, nothing cached: the placeholder is drawn by the plugin, so its files say
    algorithmicMedia and its figure does not claim to be generated."""
    site.configure({"provenance": {"label": "AI-generated image"}})
    site.page("a.md", "# A\n\n```nanobanana\nprompt: Not bought yet\ncaption: Soon\n```\n")
    site.build()
    assert {xmp_of(p)["type"] for p in published(site)} == {ALGORITHMIC}
    html = site.html("a/index.html")
    assert "data-ai-generated" not in html and "AI-generated image" not in html


def test_a_visible_label_follows_the_caption(site):
    site.configure({"provenance": {"label": "AI-generated image"}})
    site.page("a.md", "# A\n\n```nanobanana\nprompt: Hills\ncaption: The hills <at> dusk\n```\n\n"
                      "```nanobanana\nprompt: Sea\n```\n")
    seed_cache(site.cache, "Hills")
    seed_cache(site.cache, "Sea")
    site.build()
    html = site.html("a/index.html")
    hills, sea = figures(html)
    assert hills["caption"] == "The hills <at> dusk AI-generated image" and sea["caption"] == "AI-generated image"
    assert html.count('<span class="nanobanana-ai-label">AI-generated image</span>') == 2


def test_provenance_off_writes_no_metadata_and_keeps_the_plain_names(site):  # plain: the copy recipe's alone
    site.configure({"provenance": {"enabled": False, "label": "AI-generated image"}})
    site.page("a.md", "# A\n\n```nanobanana\nprompt: Plain\n```\n")
    entry = seed_cache(site.cache, "Plain")
    site.build()
    files = published(site)
    assert files and all(xmp_of(p) is None for p in files)
    sid = entry.images[0].sha256
    plain = Encoding(82, COPY_RECIPE).tag  # no provenance in the names
    assert {p.name for p in site.cache.derived_dir.rglob("*") if DERIVED_NAME_RE.match(p.name)} == {
        f"{sid}-{w}w-{plain}.{ext}" for w in (480, 768, 1024) for ext in ("webp", "jpg")}
    html = site.html("a/index.html")
    assert "data-ai-generated" not in html and "AI-generated" not in html


def test_avif_settings_re_encode_only_the_copies(site):
    """AVIF's quality and speed are in the copies' names: a change gives new AVIF bytes
    from the cached source; a site without AVIF keeps its names when they change."""
    site.configure({"formats": ["avif", "jpeg"], "avif": {"quality": 30}})
    site.page("a.md", "# A\n\n```nanobanana\nprompt: Dunes\n```\n")
    seed_cache(site.cache, "Dunes")
    site.build()
    low = {p.name: p.stat().st_size for p in published(site) if p.suffix == ".avif"}
    site.configure({"formats": ["avif", "jpeg"], "avif": {"quality": 90}})
    site.build()
    high = {p.name: p.stat().st_size for p in published(site) if p.suffix == ".avif"}
    assert set(low) == set(high) and all(high[n] > low[n] for n in low)

    site.configure({"formats": ["webp"], "avif": {"quality": 30}})
    site.build()
    names = {p.name for p in site.cache.derived_dir.rglob("*.webp")}
    site.configure({"formats": ["webp"], "avif": {"quality": 90}})
    site.build()
    assert {p.name for p in site.cache.derived_dir.rglob("*.webp")} == names


def test_the_markdown_extension_refuses_an_unknown_provenance_option(tmp_path):
    from mkdocs_nanobanana.core.settings import SettingsError
    from mkdocs_nanobanana.hosts.markdown.options import Where, settings_for

    (tmp_path / "docs").mkdir()
    where = Where(str(tmp_path / "mkdocs.yml"), str(tmp_path / "docs"), str(tmp_path / "site"))
    s = settings_for({"provenance": {"label": "AI"}, "avif": {"speed": 6}}, where, environ={})
    assert s.provenance.label == "AI" and s.avif.speed == 6 and s.provenance.enabled
    with pytest.raises(SettingsError, match="provenance.include_promt: unknown option: did you mean 'include_prompt'"):
        settings_for({"provenance": {"include_promt": True}}, where, environ={})
    with pytest.raises(SettingsError, match=r"avif.speed: expected a whole number from 0 to 10, got 'fast'"):
        settings_for({"avif": {"speed": "fast"}}, where, environ={})


def test_a_pillow_without_avif_is_named_before_any_work(tmp_path, monkeypatch):
    """Asked for AVIF that this Pillow cannot write: a settings error that says what to do,
    not an encoder's KeyError in the middle of a build."""
    import importlib.util

    from mkdocs_nanobanana.core.settings import SettingsError
    from mkdocs_nanobanana.hosts.markdown.options import Where, settings_for

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "PIL._avif" else real(name, *a))
    (tmp_path / "docs").mkdir()
    where = Where(str(tmp_path / "mkdocs.yml"), str(tmp_path / "docs"), str(tmp_path / "site"))
    with pytest.raises(SettingsError, match="cannot write AVIF: upgrade it"):
        settings_for({"formats": ["avif", "jpeg"]}, where, environ={})
    assert settings_for({"formats": ["webp", "jpeg"]}, where, environ={}).formats == ("webp", "jpeg")


@pytest.mark.parametrize("text", ["", "Gemini 2.5 Flash Image", "a & b < c > d", 'say "hi"', "it's", "both ' and \"",
                                  "lines\nand\rtabs\t", "&amp; already"])
def test_the_packet_escapes_as_xml_sax_would(text):
    # provenance.py writes its own escape/quoteattr (xml.sax.saxutils imports http.client
    # and ssl, on every build); a copy's bytes, and so its name, must not move with that
    from xml.sax.saxutils import escape as sax_escape
    from xml.sax.saxutils import quoteattr as sax_quoteattr

    from mkdocs_nanobanana.imaging.provenance import Provenance, escape, quoteattr

    assert (escape(text), quoteattr(text)) == (sax_escape(text), sax_quoteattr(text))
    packet = Provenance("http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia", text, text).xmp()
    description = ET.fromstring(packet.decode("utf-8").split("?>", 1)[1].rsplit("<?xpacket", 1)[0]).find(".//{*}li")
    if text:  # XML parsers read a CR as a line feed
        assert description is not None and description.text == text.replace("\r", "\n")
