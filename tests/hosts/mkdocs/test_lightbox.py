"""Issue 37: mkdocs-glightbox (and any lightbox that wraps each <img> in an <a>) around
our <picture>s. glightbox's on_page_content wraps every <img> it finds in
``<a class="glightbox" href=src>``; inside a <picture> that is ``picture > a > img``, and
a browser then ignores the <source>s (the HTML spec picks a <picture>'s sources only for
an <img> that is its child) and loads the fallback JPEG. The plugin moves the <a> around
the whole <picture>, for generated figures and a site's own pictures alike.

A real `mkdocs build` with Material and glightbox, opened in headless Chromium: every
image's currentSrc is a WebP, and the lightbox opens on the largest copy.
"""

from __future__ import annotations

import io
import posixpath
import re

import pytest
import yaml
from PIL import Image

from tests.support.cdp import CHROMIUM, Browser
from tests.support.commands import bin_path, run

pytest.importorskip("mkdocs_glightbox", reason="the test extra installs mkdocs-glightbox")
pytest.importorskip("material", reason="the test extra installs mkdocs-material")

PAGE = """\
# Lightbox

```nanobanana
prompt: A wide image
ratio: "16:9"
```

![A photo](img/photo.jpg)

Some text.

![A second photo](img/photo.jpg){ .nanobanana-skip }
"""

#: the page is there (not about:blank), and each of its two <picture>s has loaded
LOADED = ("document.readyState === 'complete' && document.querySelectorAll('picture img').length === 2 && "
          "Array.from(document.querySelectorAll('picture img')).every(i => i.complete && i.naturalWidth > 0)")
#: each <picture>'s <img>: what it loaded, its parent, and the lightbox link around the <picture>
SHOWN = """Array.from(document.querySelectorAll('picture img')).map(i => ({
  src: i.currentSrc, parent: i.parentElement.tagName,
  link: i.parentElement.parentElement.tagName === 'A' ? i.parentElement.parentElement.getAttribute('href') : null,
  lightbox: i.parentElement.parentElement.classList.contains('glightbox')}))"""


def make_site(root):
    (root / "docs" / "img").mkdir(parents=True)
    buf = io.BytesIO()
    Image.new("RGB", (1600, 1000), (180, 90, 40)).save(buf, "JPEG", quality=85)
    (root / "docs" / "img" / "photo.jpg").write_bytes(buf.getvalue())
    (root / "docs" / "index.md").write_text(PAGE)
    config = {"site_name": "Lightbox", "theme": {"name": "material"}, "markdown_extensions": ["attr_list"],
              "plugins": [{"nanobanana": {"responsive_images": True, "widths": [480, 768, 1024]}}, "glightbox"]}
    (root / "mkdocs.yml").write_text(yaml.safe_dump(config, sort_keys=False))


@pytest.mark.skipif(CHROMIUM is None, reason="headless Chromium is not installed (apt install chromium)")
def test_with_glightbox_the_browser_still_chooses_webp_and_the_lightbox_opens_the_largest_copy(tmp_path):
    root = tmp_path / "proj"
    make_site(root)
    run([bin_path("mkdocs"), "build"], cwd=root)
    page = root / "site" / "index.html"
    html = page.read_text()
    assert html.count('class="glightbox"') == 3, "glightbox wrapped all three images"
    assert not re.search(r"<picture\b(?:(?!</picture>).)*<a\b", html, re.S), "an <a> is left inside a <picture>"
    with Browser(1280, 2400) as browser:
        browser.open(page.as_uri())
        browser.wait_for(LOADED)
        shown = browser.evaluate(SHOWN)
        assert len(shown) == 2, shown  # the generated figure and the own picture; the skipped one is an <img>
        for image in shown:
            assert image["parent"] == "PICTURE" and image["lightbox"], image
            assert image["src"].endswith(".webp"), f"the browser loaded {image['src']}, not a WebP"
            # the lightbox shows the largest copy, a file of the site
            assert image["link"].endswith("-1024.jpg"), image
            assert (root / "site" / posixpath.normpath(image["link"])).is_file(), image
        # glightbox's own script still finds its links: a click opens the slide on that copy
        browser.evaluate("document.querySelector('a.glightbox').click()")
        slide = browser.wait_for("(document.querySelector('.gslide-image img') || {}).src")
        assert slide.endswith(shown[0]["link"].rsplit("/", 1)[1]), slide
