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

from tests.support.cdp import Browser
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


#: Issue 37: the window widths Material's pages are measured at, a phone's to a wide desktop's
WINDOWS = [390, 768, 1280, 1600, 2000]
#: (source, built page, its front matter's hide:) Material's typical pages: docs, a blog
#: home, a landing page; a blog post (the blog plugin adds navigation to its hide:, and its
#: template puts the post's sidebar there) and the blog's index, which shows its excerpt
HIDDEN = [("plain.md", "plain/index.html", []), ("no-nav.md", "no-nav/index.html", ["navigation"]),
          ("no-toc.md", "no-toc/index.html", ["toc"]), ("bare.md", "bare/index.html", ["navigation", "toc"]),
          ("blog/posts/post.md", "blog/2026/11/01/page/index.html", []), (None, "blog/index.html", [])]
#: each <img>: its rendered width, and the width its ``sizes`` gives at this window (the
#: length of the first media condition that matches, measured as a CSS width)
COLUMN = """Array.from(document.querySelectorAll('picture img')).map(function (img) {
  var chosen = img.sizes.split(',').map(function (s) { return s.trim(); }).find(function (s) {
    var m = s.match(/^(\\(.*\\))\\s+(.+)$/); return !m || window.matchMedia(m[1]).matches; });
  var m = chosen.match(/^(\\(.*\\))\\s+(.+)$/), probe = document.createElement('div');
  probe.style.width = m ? m[2] : chosen; document.body.appendChild(probe);
  var said = probe.getBoundingClientRect().width; probe.remove();
  return {alt: img.alt, shown: img.getBoundingClientRect().width, said: said, src: img.currentSrc,
          width: +img.getAttribute('width'), scrollbar: window.innerWidth - document.documentElement.clientWidth};
})"""


def _column_page(source: str, hide: list[str]) -> str:
    post = source.startswith("blog/")
    front = f"hide: [{', '.join(hide)}]\n" if hide else ""
    front += "date: 2026-11-01\n" if post else ""
    long = "Words to fill the column. " * 40
    up = "../../" if post else ""
    return (f"---\n{front}---\n# Page\n\n{long}\n\n## A section\n\n```nanobanana\nprompt: A wide image\n"
            f'ratio: "16:9"\n```\n\n{long}\n\n## Another\n\n![A photo]({up}photo.jpg)\n\n{long}\n\n'
            f"<!-- more -->\n\nThe rest.\n")


def _measure_columns(site_dir, page: str, windows: list[int]) -> dict[int, list[dict]]:
    out = {}
    with Browser(1280, 900) as browser:
        browser.open("about:blank")
        for width in windows:
            # a phone's scrollbar is drawn over the page; a desktop's (Linux, Windows) takes
            # 15 px of the window, which media queries and vw count and the column does not
            browser.call("Emulation.setDeviceMetricsOverride", width=width, height=900, deviceScaleFactor=1,
                         mobile=width < 600)
            browser.call("Page.navigate", url=(site_dir / page).as_uri())
            browser.wait_for("document.readyState === 'complete' && document.querySelectorAll('picture img')"
                             ".length === 2 && Array.from(document.querySelectorAll('picture img'))"
                             ".every(i => i.complete && i.currentSrc)")
            out[width] = browser.evaluate(COLUMN)
    return out


def test_material_sizes_fit_the_column_of_pages_that_hide_sidebars(site):
    """Issue 37: on a page with Material's ``hide: [navigation]``, ``[toc]`` or both (a
    blog home), on a blog post and on the blog's index, ``sizes`` says the column's real
    width at every window, for generated figures and own pictures alike, so a 1280 px
    window never loads the narrow column's 768w file to show it at 938 px (nor a post's
    1024w to show it at 688)."""
    pytest.importorskip("material", reason="the test extra installs mkdocs-material")
    from PIL import Image

    Image.new("RGB", (2000, 1333), (90, 120, 60)).save(site.docs / "photo.jpg", quality=80)
    widths = [480, 768, 1024, 1344, 1600]
    site.configure(theme={"name": "material"},
                   plugins=["blog", {"nanobanana": {"widths": widths, "responsive_images": True}}])
    site.page("blog/index.md", "# Blog\n")
    for source, _, hide in HIDDEN:
        if source is not None:
            site.page(source, _column_page(source, hide))
    run([bin_path("mkdocs"), "build"], cwd=site.root)
    for _, page, hide in HIDDEN:
        for width, shown in _measure_columns(site.site, page, WINDOWS).items():
            for image in shown:
                where = f"{page} (hide: {hide}) at {width} px, {image['alt']}"
                # an image narrower than the column shows at its own width (no file is wider);
                # a desktop scrollbar's width is the most sizes may say over the column
                said = min(image["said"], image["width"])
                assert -1.5 <= said - image["shown"] <= image["scrollbar"] + 1.5, f"{where}: sizes says " \
                    f"{image['said']:.1f} px, the column shows it at {image['shown']:.1f} px"
                best = min((w for w in widths if w >= image["shown"]), default=max(widths))
                got = int(re.search(r"-(\d+)\.\w+$", image["src"]).group(1))
                assert got == best, f"{where}: shown {image['shown']:.0f} px, loaded {got}w, best {best}w"
