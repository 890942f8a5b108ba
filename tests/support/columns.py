"""A page's images in headless Chromium at several window widths: how wide each shows,
how wide its ``sizes`` says it shows, and which file the browser loaded (issue 37: the
theme's column on every kind of page)."""

from __future__ import annotations

import re
from pathlib import Path

from tests.support.cdp import Browser

#: The window widths a theme's column is measured at, a phone's to a wide desktop's.
WINDOWS = (390, 768, 1280, 1600, 2000)
#: each <picture>'s <img>: its rendered width, and the width its ``sizes`` gives at this
#: window (the length of the first media condition that matches, measured as a CSS width)
COLUMN = """Array.from(document.querySelectorAll('picture img')).map(function (img) {
  var chosen = img.sizes.split(',').map(function (s) { return s.trim(); }).find(function (s) {
    var m = s.match(/^(\\(.*\\))\\s+(.+)$/); return !m || window.matchMedia(m[1]).matches; });
  var m = chosen.match(/^(\\(.*\\))\\s+(.+)$/), probe = document.createElement('div');
  probe.style.width = m ? m[2] : chosen; document.body.appendChild(probe);
  var said = probe.getBoundingClientRect().width; probe.remove();
  return {alt: img.alt, shown: img.getBoundingClientRect().width, said: said, src: img.currentSrc,
          width: +img.getAttribute('width'), scrollbar: window.innerWidth - document.documentElement.clientWidth};
})"""


def measure_columns(page: Path, count: int, windows=WINDOWS) -> dict[int, list[dict]]:
    """COLUMN's answer for the built ``page`` (opened from disk) at each window width,
    once its ``count`` <picture>s have loaded."""
    out = {}
    with Browser(1280, 900) as browser:
        browser.open("about:blank")
        for width in windows:
            # a phone's scrollbar is drawn over the page; a desktop's (Linux, Windows) takes
            # 15 px of the window, which media queries and vw count and the column does not
            browser.call("Emulation.setDeviceMetricsOverride", width=width, height=900, deviceScaleFactor=1,
                         mobile=width < 600)
            browser.call("Page.navigate", url=page.as_uri())
            browser.wait_for(f"document.readyState === 'complete' && document.querySelectorAll('picture img')"
                             f".length === {count}")
            # the pictures below the fold too (their choice of file is the same)
            browser.wait_for("Array.from(document.querySelectorAll('picture img')).every(i => "
                             "(i.loading = 'eager') && i.complete && i.currentSrc)")
            out[width] = browser.evaluate(COLUMN)
    return out


def check_columns(measured: dict[int, list[dict]], widths: list[int], where: str) -> None:
    """At every window, each image's ``sizes`` says the width it shows at (at most a
    desktop scrollbar over; an image narrower than the column shows at its own width),
    and the browser loaded the smallest of ``widths`` that covers it."""
    for window, shown in measured.items():
        for image in shown:
            at = f"{where} at {window} px, {image['alt']}"
            said = min(image["said"], image["width"])
            assert -1.5 <= said - image["shown"] <= image["scrollbar"] + 1.5, \
                f"{at}: sizes says {image['said']:.1f} px, the column shows it at {image['shown']:.1f} px"
            best = min((w for w in widths if w >= image["shown"]), default=max(widths))
            got = int(re.search(r"-(\d+)\.\w+$", image["src"]).group(1))
            assert got == best, f"{at}: shown {image['shown']:.0f} px, loaded {got}w, best {best}w"
