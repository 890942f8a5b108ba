"""Issue 21 item 3, no blank boxes: while an image loads, its box shows the image's
dominant colour or a tiny blur of it (`backdrop: color | blur | none`). Real builds; the
published files and the data URIs opened with Pillow; a headless Chromium screenshot
taken while a local server holds the image files back."""

from __future__ import annotations

import base64
import functools
import http.server
import io
import re
import sys
import threading
import time
from pathlib import Path

import pytest
from PIL import Image, ImageStat

from mkdocs_nanobanana.core.settings import SettingsError
from mkdocs_nanobanana.hosts.markdown.options import Where, settings_for
from tests.support.cdp import CHROMIUM, Browser
from tests.support.commands import bin_path, run
from tests.support.directives import directive
from tests.support.images import seed_cache, settled
from tests.support.logs import warnings
from tests.support.serve import http_server
from tests.support.sites import Site, nb

COLOR_RE = re.compile(r"background:(#[0-9a-f]{6}) content-box\Z")
BLUR_RE = re.compile(r"background:(#[0-9a-f]{6}) url\(data:image/webp;base64,([A-Za-z0-9+/=]+)\) "
                     r"center/cover no-repeat content-box\Z")


def images_of(html: str) -> list[dict[str, str]]:
    """Each <img>'s attributes, in page order."""
    return [dict(re.findall(r'(\w[\w-]*)="([^"]*)"', tag)) for tag in re.findall(r"<img [^>]*>", html)]


def published(site: Site, img: dict[str, str]) -> Image.Image:
    """The largest fallback copy of an <img> on the home page, as RGB."""
    with Image.open(site.site / img["src"]) as opened:
        return opened.convert("RGB")


def rgb(hex_colour: str) -> tuple[int, int, int]:
    return tuple(int(hex_colour[i:i + 2], 16) for i in (1, 3, 5))


def pixels(img: Image.Image) -> list[tuple[int, ...]]:
    data = img.tobytes()
    return [tuple(data[i:i + 3]) for i in range(0, len(data), 3)]


def distance(a, b) -> int:
    return max(abs(x - y) for x, y in zip(a, b, strict=False))


def blur_image(style: str) -> Image.Image:
    data = base64.b64decode(BLUR_RE.match(style).group(2))
    blur = Image.open(io.BytesIO(data))
    assert blur.format == "WEBP"
    return blur.convert("RGB")


def backdrop_files(site: Site) -> list[Path]:
    return sorted(site.cache.derived_dir.glob("*/*-backdrop-v*.json"))


def three_ways(site: Site, plugin: dict | None = None) -> None:
    """A page with a cached 16:9 picture at the default backdrop, a cached 1:1 one with a
    blur, and an uncached one (an offline placeholder) with none."""
    site.configure(plugin or {})
    seed_cache(site.cache, "A harbour at noon", ratio="16:9")
    seed_cache(site.cache, "A quiet street", ratio="1:1", rev=1)
    site.page("index.md", "# Home\n\n" + directive("A harbour at noon", ratio="16:9")
              + directive("A quiet street", ratio="1:1", rev=1, backdrop="blur")
              + directive("Not paid for yet", backdrop="none"))


def test_each_box_shows_its_images_dominant_colour_or_a_tiny_blur(site):
    three_ways(site)
    site.build()
    color, blur, none = images_of(site.html("index.html"))

    found = COLOR_RE.match(color["style"])
    assert found, color["style"]
    shown = published(site, color)
    colour = rgb(found.group(1))
    # a colour the picture really has (the nearest of its pixels is close), not a stock grey
    assert min(distance(colour, p) for p in pixels(shown.resize((96, 54)))) <= 16
    assert distance(colour, (255, 255, 255)) > 30

    assert len(blur["style"]) < 1024, f"{len(blur['style'])} bytes of style for one image"
    tiny, big = blur_image(blur["style"]), published(site, blur)
    assert tiny.width == 20 and abs(tiny.height - 20 * big.height / big.width) <= 1
    # the same picture, smaller: each channel's mean within a few levels of the image's
    assert distance(ImageStat.Stat(tiny).mean, ImageStat.Stat(big).mean) <= 8
    assert "style" not in none


def test_placeholders_get_a_backdrop_too_and_a_transparent_image_none(site):
    seed_cache(site.cache, "A cut-out logo", alpha=True)
    site.page("index.md", directive("Offline stand-in", ratio="16:9") + directive("A cut-out logo"))
    site.build()
    stand_in, logo = images_of(site.html("index.html"))
    assert "placeholder" in stand_in["title"]
    colour = rgb(COLOR_RE.match(stand_in["style"]).group(1))
    assert min(distance(colour, p) for p in pixels(published(site, stand_in).resize((96, 54)))) <= 16
    # once it paints, a backdrop would show through its transparent pixels
    assert logo["src"].endswith(".png") and "style" not in logo


def test_the_option_sets_the_default_and_a_directive_overrides_it(site):
    three_ways(site, {"backdrop": "blur"})
    site.build()
    default, blur, none = images_of(site.html("index.html"))
    assert BLUR_RE.match(default["style"]) and BLUR_RE.match(blur["style"]) and "style" not in none

    site.configure({"backdrop": "none"})
    site.page("more.md", directive("A harbour at noon", ratio="16:9", backdrop="color"))
    site.build()
    assert "style" not in images_of(site.html("index.html"))[0]
    assert COLOR_RE.match(images_of(site.html("more/index.html"))[0]["style"])


def test_a_bad_backdrop_names_the_page_line_or_the_option(site, caplog, tmp_path):
    site.page("index.md", "# Home\n\n" + directive("P", backdrop="placeholder"))
    site.build()
    assert any(m.startswith("nanobanana: docs/index.md:5: 'backdrop' is what the image's box shows while it loads: "
                            "color, blur, none; got 'placeholder'") for m in warnings(caplog)), warnings(caplog)

    site.configure({"backdrop": "blurry"})
    proc = run([bin_path("mkdocs"), "build"], cwd=site.root, check=False)
    assert proc.returncode != 0 and "backdrop" in proc.stderr and "blurry" in proc.stderr
    # the Markdown extension (Zensical) takes the same option, checked the same way
    where = Where(str(site.config_file), str(site.docs), str(site.site))
    with pytest.raises(SettingsError, match="backdrop: expected one of color, blur, none, got 'blurry'"):
        settings_for({"backdrop": "blurry"}, where, environ={})


def test_a_warm_build_decodes_nothing_and_an_older_cache_gets_its_backdrops_once(site):
    """The backdrop is computed with the resized copies and kept in the cache. A cache
    made before backdrops (copies, no backdrop files) gets them on its next build, which
    decodes each source once; the build after that imports no Pillow at all."""
    site.configure({"backdrop": "blur"})
    seed_cache(site.cache, "A harbour at noon", ratio="16:9")
    seed_cache(site.cache, "A quiet street", rev=1)
    site.page("index.md", directive("A harbour at noon", ratio="16:9") + directive("A quiet street", rev=1)
              + directive("Not paid for yet"))
    run([bin_path("mkdocs"), "build"], cwd=site.root)
    first = images_of(site.html("index.html"))
    assert all(BLUR_RE.match(img["style"]) for img in first)
    files = backdrop_files(site)
    assert len(files) == 3  # two cached images and the placeholder
    for path in files[1:]:
        path.unlink()  # as a cache from before backdrops has it
    files[0].write_text('{"version": 1, "color": "red", "blur": "javascript:alert(1)"}')  # damaged: recomputed

    run([bin_path("mkdocs"), "build"], cwd=site.root)
    assert images_of(site.html("index.html")) == first
    assert backdrop_files(site) == files and "javascript" not in files[0].read_text()

    code = ("import sys\nfrom mkdocs.__main__ import cli\n"
            "cli(['build', '-q'], standalone_mode=False)\n"
            "assert not any(m == 'PIL' or m.startswith('PIL.') for m in sys.modules), 'Pillow imported'\n")
    run([sys.executable, "-c", code], cwd=site.root)
    assert images_of(site.html("index.html")) == first


def test_prune_removes_the_backdrops_of_images_no_page_shows(site):
    three_ways(site)
    site.build()
    old_version = backdrop_files(site)[0].with_name(backdrop_files(site)[0].name.replace("-v1.", "-v0."))
    old_version.write_text("{}")
    site.page("index.md", "# Home\n\n" + directive("A harbour at noon", ratio="16:9"))
    site.build()
    shown = images_of(site.html("index.html"))[0]
    settled(site.cache)  # no build under way may be using the images that went from the page
    nb(site, "prune")
    left = backdrop_files(site)
    assert len(left) == 1 and not old_version.exists()
    assert COLOR_RE.match(shown["style"])  # and it is the shown image's, which a copy of is kept
    source_id = left[0].name[:64]
    assert any(p.name.startswith(source_id) for p in site.cache.derived_dir.glob("*/*.webp"))


# --------------------------------------------------------------------------- in a browser


class HeldImages(http.server.SimpleHTTPRequestHandler):
    """Serves the built site, but answers an image request only once ``release`` is set:
    a page whose images are still on their way, for as long as the test looks."""

    release: threading.Event

    def do_GET(self) -> None:
        if self.path.split("?")[0].endswith((".webp", ".jpg", ".png")):
            self.release.wait(60)
        try:
            super().do_GET()
        except (BrokenPipeError, ConnectionResetError):  # the browser was closed first
            pass

    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def held_site(site):
    three_ways(site)
    run([bin_path("mkdocs"), "build"], cwd=site.root)
    release = threading.Event()
    handler = functools.partial(type("Held", (HeldImages,), {"release": release}), directory=str(site.site))
    with http_server(handler) as server:
        try:
            yield site, f"http://127.0.0.1:{server.server_port}/", release
        finally:
            release.set()  # before the shutdown: a held image request would keep it waiting


BOXES = """document.querySelector('figure img') && document.readyState !== 'loading' &&
[...document.querySelectorAll('figure.nanobanana img')].map(i => {
  const r = i.getBoundingClientRect();
  return {loaded: i.complete && i.naturalWidth > 0, x: r.x, y: r.y, w: r.width, h: r.height};
})"""

LOADED = "[...document.querySelectorAll('figure.nanobanana img')].every(i => i.complete && i.naturalWidth > 0)"


def steady_screenshot(browser: Browser) -> tuple[list[dict], bytes]:
    """The boxes and a screenshot taken while they stayed where they were (a stylesheet
    that arrives late on a loaded machine moves them)."""
    boxes = browser.wait_for(BOXES)
    for _ in range(20):
        png = browser.screenshot()
        after = browser.evaluate(BOXES)
        if after == boxes:
            return boxes, png
        boxes = after
        time.sleep(0.2)
    raise AssertionError("the page never stopped moving")


def box_pixels(shot: Image.Image, box: dict, dpr: float = 1.0) -> Image.Image:
    """The inside of an image's box on the screenshot (8 px in: no border or corner)."""
    left, top = round((box["x"] + 8) * dpr), round((box["y"] + 8) * dpr)
    return shot.crop((left, top, round((box["x"] + box["w"] - 8) * dpr), round((box["y"] + box["h"] - 8) * dpr)))


@pytest.mark.skipif(CHROMIUM is None, reason="headless Chromium is not installed (apt install chromium)")
def test_the_box_shows_the_backdrop_until_the_image_paints(held_site, tmp_path):
    site, url, release = held_site
    color, blur, none = images_of(site.html("index.html"))
    with Browser(1280, 3400) as browser:  # tall enough that all three boxes are in view
        browser.open(url)
        boxes, png = steady_screenshot(browser)
        (tmp_path / "loading.png").write_bytes(png)
        assert not any(b["loaded"] for b in boxes), "the images arrived before the screenshot"
        shot = Image.open(io.BytesIO(png)).convert("RGB")
        dpr = shot.width / browser.evaluate("window.innerWidth")
        in_box = [box_pixels(shot, box, dpr) for box in boxes]
        assert all(box["y"] + box["h"] < shot.height / dpr for box in boxes), "a box is out of the screenshot"

        colour = rgb(COLOR_RE.match(color["style"]).group(1))
        extrema = in_box[0].getextrema()  # (lowest, highest) of each channel: every pixel is the colour
        bounds = zip(colour, extrema, strict=False)
        assert all(abs(lo - c) <= 2 and abs(hi - c) <= 2 for c, (lo, hi) in bounds), (colour, extrema)

        tiny = blur_image(blur["style"])
        painted = in_box[1]
        assert distance(ImageStat.Stat(painted).mean, ImageStat.Stat(tiny).mean) <= 8
        assert max(ImageStat.Stat(painted).stddev) > 3, "a blur of the picture, not one flat colour"

        white = in_box[2].getextrema()
        assert all(lo >= 245 for lo, _ in white), f"with backdrop: none the box is the theme's near-white: {white}"

        release.set()
        browser.wait_for(LOADED)
        # the picture paints over its backdrop (decoding="async": a moment after it loaded)
        deadline = time.monotonic() + 15
        while True:
            after = box_pixels(Image.open(io.BytesIO(browser.screenshot())).convert("RGB"), boxes[0], dpr)
            if max(ImageStat.Stat(after).stddev) > 10 or time.monotonic() > deadline:
                break
            time.sleep(0.2)
    assert max(ImageStat.Stat(after).stddev) > 10, "the picture never painted: still one flat colour"
