"""Issue 19 item 13: `sizes` that fit the theme, measured in a real browser.

Each theme's site is built by the real `mkdocs build`; headless Chromium (Debian's
`chromium`) loads the page at several window widths and device pixel ratios and reports
each image's rendered width and `currentSrc`. The browser must pick the smallest
candidate that covers the rendered width x the pixel ratio: with `sizes` wrong it picks
a bigger file (wasted bytes) or a smaller one (a blurry image).
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess

import pytest

from tests.support.commands import bin_path, run

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="headless Chromium is not installed (apt install chromium)")

WIDTHS = [480, 768, 1024, 1344]
#: (window width, device pixel ratio): a phone (headless windows are at least 500 wide),
#: a tablet, a laptop, a desktop
VIEWS = [(500, 2), (768, 1), (1280, 1), (1920, 1)]

MEASURE = """
window.addEventListener("load", function () {
  setTimeout(function () {
    var out = [];
    document.querySelectorAll("figure.nanobanana img").forEach(function (img) {
      out.push({w: img.getBoundingClientRect().width, src: img.currentSrc, dpr: window.devicePixelRatio});
    });
    var pre = document.createElement("pre"); pre.id = "nb-result"; pre.textContent = JSON.stringify(out);
    document.body.appendChild(pre);
  }, 200);
});
"""


def _measure(page, width: int, dpr: int) -> dict:
    out = subprocess.run(
        [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", f"--window-size={width},900",
         f"--force-device-scale-factor={dpr}", "--virtual-time-budget=2000", "--dump-dom", page.as_uri()],
        capture_output=True, text=True, timeout=60,
    ).stdout
    found = re.search(r'<pre id="nb-result">([^<]*)</pre>', out)
    assert found, out[-500:]
    shown, = json.loads(found.group(1))
    return shown


@pytest.mark.parametrize("theme", ["material", "mkdocs", "readthedocs"])
def test_the_browser_loads_the_smallest_file_that_covers_the_image(site, theme):
    if theme == "material":
        pytest.importorskip("material", reason="the test extra installs mkdocs-material")
    (site.docs / "measure.js").write_text(MEASURE)
    site.configure({"widths": WIDTHS}, theme={"name": theme}, extra_javascript=["measure.js"])
    site.page("index.md", '# Page\n\nText.\n\n```nanobanana\nprompt: A wide image\nratio: "16:9"\n```\n\nMore.\n')
    run([bin_path("mkdocs"), "build"], cwd=site.root)
    for width, dpr in VIEWS:
        shown = _measure(site.site / "index.html", width, dpr)
        needed = shown["w"] * dpr
        best = min((w for w in WIDTHS if w >= needed), default=max(WIDTHS))
        got = int(re.search(r"-(\d+)\.\w+$", shown["src"]).group(1))
        assert got == best, f"{theme} at {width} px x{dpr}: shown {shown['w']:.0f} px, loaded {got}w, best {best}w"


def test_a_directive_or_the_config_can_say_sizes(site):
    site.configure({"sizes": "(min-width: 60em) 600px, 100vw"})
    site.page("index.md",
              '```nanobanana\nprompt: Site default\n```\n\n```nanobanana\nprompt: Own\nsizes: "50vw"\n```\n')
    site.build()
    html = (site.site / "index.html").read_text()
    assert re.findall(r'<img [^>]*sizes="([^"]+)"', html) == ["(min-width: 60em) 600px, 100vw", "50vw"]
