"""Issue 37: ``responsive_images``: a site's own pictures become <picture>s of resized
copies, through real `mkdocs build`s (subprocesses: the summary line is what users read).

A site of PNG, JPEG, SVG, remote, linked and other images: each local raster one is a
<picture> whose files exist at the widths it says; every other <img> is byte for byte
what MkDocs wrote without the option; a warm rebuild encodes nothing; a fresh runner with
the remote cache encodes nothing; prune keeps the copies.
"""

from __future__ import annotations

import io
import os
import posixpath
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from PIL import Image, ImageCms

from mkdocs_nanobanana.imaging.html_images import images
from tests.support.commands import bin_path, run
from tests.support.images import photo_png

WIDTHS = [480, 768, 1024]


def jpeg(size=(2000, 1333), **save) -> bytes:
    buf = io.BytesIO()
    Image.open(io.BytesIO(photo_png(size, seed=3))).convert("RGB").save(buf, "JPEG", quality=90, **save)
    return buf.getvalue()


def gif(frames: int) -> bytes:
    buf = io.BytesIO()
    first, *rest = [Image.new("RGB", (40, 30), (i * 80, 255 - i * 80, 0)) for i in range(frames)]
    first.save(buf, "GIF", save_all=frames > 1, append_images=rest)
    return buf.getvalue()


PAGE = """\
# Home

![A photo](img/photo.jpg "The title")

Text ![a shot](img/shot.png){ .wide width="300" } inline.

![logo](img/logo.svg)

![remote](https://example.org/x.png)

![data](data:image/png;base64,iVBORw0KGgo=)

[![linked elsewhere](img/shot.png)](other.md)

[![enlarge](img/shot.png)](img/shot.png)

![moving](img/moving.gif) ![still](img/still.gif)

![skip me](img/photo.jpg){ .nanobanana-skip } <img src="img/photo.jpg" data-nanobanana="skip" alt="raw skip">

<img src="img/photo.jpg" alt="raw html" class="hero">

```
![in code](img/photo.jpg)
```

![broken](img/broken.png)
"""

#: (alt, converted?) of every <img> of the page, in order
EXPECTED = [("A photo", True), ("a shot", True), ("logo", False), ("remote", False), ("data", False),
            ("linked elsewhere", False), ("enlarge", True), ("moving", False), ("still", True), ("skip me", False),
            ("raw skip", False), ("raw html", True), ("broken", False)]


def make_site(root: Path, **options) -> Path:
    (root / "docs" / "img").mkdir(parents=True)
    (root / "docs" / "img" / "photo.jpg").write_bytes(jpeg())
    (root / "docs" / "img" / "shot.png").write_bytes(photo_png((600, 400), alpha=True))
    (root / "docs" / "img" / "logo.svg").write_text('<svg xmlns="http://www.w3.org/2000/svg" width="8" height="8"/>')
    (root / "docs" / "img" / "moving.gif").write_bytes(gif(3))
    (root / "docs" / "img" / "still.gif").write_bytes(gif(1))
    (root / "docs" / "img" / "broken.png").write_text("not a picture")
    (root / "docs" / "index.md").write_text(PAGE)
    (root / "docs" / "other.md").write_text("---\nnanobanana:\n  responsive_images: false\n---\n# Other\n\n"
                                            "![A photo](img/photo.jpg)\n")
    configure(root, **options)
    return root


def configure(root: Path, **options) -> None:
    config = {"site_name": "Own", "markdown_extensions": ["attr_list"],
              "plugins": [{"nanobanana": {"responsive_images": True, "widths": WIDTHS, **options}}]}
    (root / "mkdocs.yml").write_text(yaml.safe_dump(config, sort_keys=False))


def build(root: Path) -> str:
    return run([bin_path("mkdocs"), "build"], cwd=root).stderr


def encoded(log: str) -> int:
    return int(re.search(r", encoded (\d+)", log).group(1))


def pictures(html: str) -> list[dict]:
    """Each <picture class="nanobanana-picture">: its <source>s and <img> attributes."""
    out = []
    for part in html.split('<picture class="nanobanana-picture">')[1:]:
        inner = part.split("</picture>")[0]
        tags = [dict(t.tag.attrs) for t in images(f"<div>{inner}</div>")]
        sources = re.findall(r'<source type="([^"]+)" srcset="([^"]+)"', inner)
        out.append({"img": tags[0], "sources": sources})
    return out


def undated(html: str) -> str:
    """The page less MkDocs' build date comment."""
    return re.sub(r"Build Date UTC : [^\n]*", "", html)


def srcset(value: str) -> list[tuple[str, int]]:
    return [(u, int(w[:-1])) for u, w in (c.strip().rsplit(" ", 1) for c in value.split(","))]


def check_files(site_dir: Path, page_file: str, picture: dict) -> list[int]:
    """Every URL of the picture is a file of the width it says; the widths."""
    base = posixpath.dirname(page_file)
    widths = []
    for value in [picture["img"]["srcset"]] + [s for _, s in picture["sources"]]:
        for url, w in srcset(value):
            with Image.open(site_dir / posixpath.normpath(posixpath.join(base, url))) as im:
                assert im.width == w, url
            widths.append(w)
    return widths


@pytest.fixture
def own_site(tmp_path):
    return make_site(tmp_path / "proj")


def test_each_local_raster_picture_becomes_a_picture_and_the_rest_stay_byte_for_byte(own_site):
    configure(own_site, responsive_images=False)
    build(own_site)
    before = (own_site / "site" / "index.html").read_text()
    configure(own_site)
    log = build(own_site)
    html = (own_site / "site" / "index.html").read_text()
    opener = '<picture class="nanobanana-picture">'
    found = [(dict(t.tag.attrs).get("alt"), opener in html[max(0, t.tag.start - 400):t.tag.start]
              and t.blocked == "picture") for t in images(html) if t.blocked in (None, "picture")]
    assert found == EXPECTED
    # what is left alone is what MkDocs wrote without the option, byte for byte
    left = [before[t.tag.start:t.tag.end] for t in images(before)
            if dict(t.tag.attrs).get("alt") in {alt for alt, made in EXPECTED if not made} and not t.blocked]
    assert left and all(tag in html for tag in left)
    assert "![in code](img/photo.jpg)" in html
    made = pictures(html)
    photo, shot, enlarge, still, raw = made
    assert check_files(own_site / "site", "index.html", photo) == WIDTHS * 2  # webp then jpg, never upscaled
    assert check_files(own_site / "site", "index.html", shot) == [480, 600] * 2  # 600 wide: no 768 or 1024
    assert [t for t, _ in photo["sources"]] == ["image/webp"] and photo["img"]["src"].endswith("-1024.jpg")
    assert shot["img"]["src"].endswith("-600.png"), "transparent: PNG, not JPEG"
    # the author's attributes are kept; their width wins; the first picture is eager
    assert photo["img"]["alt"] == "A photo" and photo["img"]["title"] == "The title"
    assert (photo["img"]["width"], photo["img"]["height"]) == ("2000", "1333")
    assert photo["img"]["loading"] == "eager" and photo["img"]["fetchpriority"] == "high"
    assert shot["img"]["class"] == "wide" and shot["img"]["width"] == "300" and "height" not in shot["img"]
    assert shot["img"]["sizes"] == "(max-width: 300px) 100vw, 300px" and shot["img"]["loading"] == "lazy"
    assert raw["img"]["class"] == "hero" and photo["img"]["style"].startswith("background:#")
    assert '<a href="img/shot.png"><picture' in html, "a link to the picture itself stays around it"
    assert encoded(log) == 6 + 4 + 2, log  # photo 3 widths x 2, shot 2 x 2, the still GIF (40 px) 1 x 2
    assert "docs/img/broken.png cannot be read as an image" in log
    other = (own_site / "site" / "other" / "index.html").read_text()
    assert "nanobanana-picture" not in other, "the page's front matter opts out"
    original = (own_site / "docs" / "img" / "photo.jpg").read_bytes()
    assert (own_site / "site" / "img" / "photo.jpg").read_bytes() == original
    # no AI mark on them: they were not generated
    copy = next((own_site / "site" / "assets" / "nanobanana").glob("photo-*-480.jpg"))
    assert b"DigitalSourceType" not in copy.read_bytes()
    assert "data-ai-generated" not in html

    # warm: nothing encoded, and the page is the same
    log = build(own_site)
    assert encoded(log) == 0, log
    assert undated((own_site / "site" / "index.html").read_text()) == undated(html)
    # prune keeps every copy the site shows
    proc = run([bin_path("nanobanana"), "prune"], cwd=own_site)
    assert "derived: 0 file(s)" in proc.stdout, proc.stdout
    assert encoded(build(own_site)) == 0
    # an edited picture is hashed again and gets new copies; prune then removes the old ones
    (own_site / "docs" / "img" / "shot.png").write_bytes(photo_png((600, 400), seed=9, alpha=True))
    assert encoded(build(own_site)) == 4
    proc = run([bin_path("nanobanana"), "prune"], cwd=own_site)
    assert "derived: 5 file(s)" in proc.stdout, proc.stdout  # the old 4 copies and their backdrop


def test_a_fresh_runner_with_the_remote_cache_encodes_nothing(tmp_path):
    shared = tmp_path / "bucket"
    shared.mkdir()
    one = make_site(tmp_path / "one", remote_cache=str(shared))
    log = build(one)
    assert encoded(log) == 12 and "0 fetched" in log
    two = tmp_path / "two"
    shutil.copytree(one / "docs", two / "docs")  # a fresh checkout: new files, new times, no cache
    shutil.copy(one / "mkdocs.yml", two / "mkdocs.yml")
    log = build(two)
    assert encoded(log) == 0, log
    assert "resized copies and cards: 15 fetched, 0 uploaded" in log, log  # 12 copies, 3 backdrops
    assert undated((two / "site" / "index.html").read_text()) == undated((one / "site" / "index.html").read_text())


def test_a_photo_is_upright_keeps_its_profile_and_artist_and_drops_gps_and_serial(tmp_path):
    root = tmp_path / "proj"
    (root / "docs").mkdir(parents=True)
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90: stored 300x200, shown 200x300
    exif[0x013B] = "A. Photographer"
    exif[0x8298] = "(c) 2026"
    exif.get_ifd(0x8825)[2] = (48.0, 51.0, 30.0)  # GPSLatitude
    exif.get_ifd(0x8769)[0xA431] = "SERIAL123"  # BodySerialNumber
    icc = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    (root / "docs" / "phone.jpg").write_bytes(jpeg((300, 200), exif=exif.tobytes(), icc_profile=icc))
    (root / "docs" / "index.md").write_text("# Phone\n\n![phone](phone.jpg)\n")
    configure(root, widths=[100, 480])
    build(root)
    html = (root / "site" / "index.html").read_text()
    picture, = pictures(html)
    assert (picture["img"]["width"], picture["img"]["height"]) == ("200", "300")
    for copy in (root / "site" / "assets" / "nanobanana").iterdir():
        with Image.open(copy) as im:
            assert im.height > im.width, copy.name
            assert im.info.get("icc_profile") == icc, copy.name
            kept = im.getexif()
            assert kept.get(0x013B) == "A. Photographer" and kept.get(0x8298) == "(c) 2026", copy.name
            assert 0x8825 not in kept and not kept.get_ifd(0x8825) and 0x0112 not in kept, copy.name
        assert b"SERIAL123" not in copy.read_bytes()


def test_a_warm_build_imports_no_pillow_and_reads_no_picture(own_site):
    build(own_site)
    code = ("import builtins, io, sys\nopened = []\nreal = io.open\n"
            "def counting(f, *a, **k):\n    opened.append(str(f))\n    return real(f, *a, **k)\n"
            "builtins.open = io.open = counting\n"
            "import shutil\nshutil.copyfile = lambda s, d, **k: d\n"  # MkDocs' own copies of the originals
            "from mkdocs.commands.build import build\nfrom mkdocs.config import load_config\n"
            "build(load_config('mkdocs.yml'))\n"
            "print(sorted(m for m in sys.modules if m.split('.')[0] == 'PIL'))\n"
            "print(sorted(o for o in opened if '/docs/img/' in o))\n"
            "print(sum(o.endswith('own-images.json') for o in opened))\n")
    out = subprocess.run([sys.executable, "-c", code], cwd=own_site, capture_output=True, text=True, check=True,
                         env={**os.environ, "NO_MKDOCS_2_WARNING": "1"}).stdout.strip().splitlines()
    assert out[-3:] == ["[]", "[]", "1"], out


def test_a_bad_value_of_the_option_is_refused(tmp_path):
    root = make_site(tmp_path / "proj", responsive_images="yes please")
    proc = run([bin_path("mkdocs"), "build"], cwd=root, check=False)
    assert proc.returncode != 0
    assert "responsive_images" in proc.stderr and "true or false" in proc.stderr, proc.stderr
