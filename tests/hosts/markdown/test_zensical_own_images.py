"""Issue 37 under Zensical: a site served under a sub-path (site_url .../blog/) with
Zensical's blog, generated figures and the site's own pictures (responsive_images).

Zensical's blog views (index, archive, category, their pagination pages) show each
post's excerpt with its ``src``s rewritten for the view's URL and its ``srcset``s left
as the post page had them: from a view they climb above the site's root, which under a
sub-path is outside the site, so every <source> 404s. A real `zensical build`; every
image URL of every page is resolved as a browser does, and headless Chromium loads the
views over HTTP under /blog/.
"""

from __future__ import annotations

import functools
import http.server
import importlib.util
import io
from pathlib import Path

import pytest
import yaml
from PIL import Image

from mkdocs_nanobanana.imaging.html_images import images
from tests.support.cdp import CHROMIUM, Browser
from tests.support.columns import check_columns, measure_columns
from tests.support.commands import bin_path, run
from tests.support.html import unresolved_image_urls
from tests.support.serve import http_server

pytestmark = pytest.mark.skipif(
    importlib.util.find_spec("zensical") is None,
    reason="zensical is not installed (pip install -e '.[test]' installs it)",
)

SITE_URL = "http://127.0.0.1/blog/"
WIDTHS = [480, 768, 1024]
VIEWS = ["blog/index.html", "blog/page/2/index.html", "blog/archive/2026/index.html",
         "blog/archive/2026/page/2/index.html", "blog/category/corners/index.html",
         "blog/category/corners/page/2/index.html"]


def make_site(root: Path) -> None:
    (root / "docs" / "img").mkdir(parents=True)
    (root / "docs" / "blog" / "posts").mkdir(parents=True)
    buf = io.BytesIO()
    Image.new("RGB", (1600, 1000), (30, 90, 200)).save(buf, "JPEG", quality=85)
    (root / "docs" / "img" / "photo.jpg").write_bytes(buf.getvalue())
    (root / "docs" / "index.md").write_text("# Home\n\n![Home photo](img/photo.jpg)\n")
    (root / "docs" / "blog" / "index.md").write_text("# Blog\n")
    for day in (1, 2, 3):
        (root / "docs" / "blog" / "posts" / f"p{day}.md").write_text(
            f"---\ndate: 2026-11-0{day}\ncategories: [Corners]\n---\n\n# Post {day}\n\n"
            f"![Photo {day}](../../img/photo.jpg)\n\n```nanobanana\nprompt: Post {day} image\n```\n\n"
            "<!-- more -->\n\nThe rest.\n")
    options = {"responsive_images": True, "widths": WIDTHS}
    config = {"site_name": "Sub-path", "site_url": SITE_URL, "plugins": [{"blog": {"pagination_per_page": 2}}],
              "markdown_extensions": ["attr_list", {"mkdocs_nanobanana.markdown": options}]}
    (root / "mkdocs.yml").write_text(yaml.safe_dump(config, sort_keys=False))


class _UnderBlog(http.server.SimpleHTTPRequestHandler):
    """The site's folder served at /blog/ only, as a host serves a project site."""

    def translate_path(self, path):
        if not path.startswith("/blog/"):
            return str(Path(self.directory) / "not-served" / "here")
        return super().translate_path(path[len("/blog"):])

    def log_message(self, *args):
        pass


@pytest.fixture
def served(tmp_path):
    root = tmp_path / "proj"
    make_site(root)
    log = run([bin_path("zensical"), "build"], cwd=root).stderr
    with http_server(functools.partial(_UnderBlog, directory=str(root / "site"))) as server:
        yield root, f"http://127.0.0.1:{server.server_address[1]}/blog/", log


def test_every_image_url_resolves_under_a_sub_path(served):
    root, _, log = served
    assert "encoded 0" not in log
    total, bad = unresolved_image_urls(root / "site", SITE_URL)
    assert total >= 100 and not bad, "\n".join(bad[:20])
    for view in VIEWS:  # what was wrong: the views' srcsets; each view has our pictures
        html = (root / "site" / view).read_text()
        assert "nanobanana-picture" in html, view
        # and, as on a post page, only the view's first picture loads eagerly
        shown = [dict(t.tag.attrs) for t in images(html[html.find('class="md-content'):]) if t.blocked == "picture"]
        assert [(i["loading"], i.get("fetchpriority")) for i in shown] == \
            [("eager", "high")] + [("lazy", None)] * (len(shown) - 1), view


#: each <img> of the page, made eager so that one below the fold loads too: whether it
#: loaded and from where
LOADED = ("Array.from(document.querySelectorAll('picture img')).map(i => { i.loading = 'eager'; "
          "return {alt: i.alt, done: i.complete, width: i.naturalWidth, src: i.currentSrc}; })")


@pytest.mark.skipif(CHROMIUM is None, reason="headless Chromium is not installed (apt install chromium)")
def test_the_browser_loads_every_picture_of_the_blog_views_under_the_sub_path(served):
    _, base, _ = served
    with Browser(1280, 900) as browser:
        browser.open("about:blank")
        for view in VIEWS:
            browser.call("Page.navigate", url=base + view)
            browser.wait_for(f"location.href === {base + view!r} && document.readyState === 'complete' && "
                             "document.querySelectorAll('picture img').length > 0")
            shown = browser.wait_for(f"(function () {{ var s = {LOADED}; "
                                     "return s.every(i => i.done) ? s : null; })()")
            for image in shown:
                assert image["width"] > 0, f"{view}: {image['alt']} did not load ({image['src']})"
                assert image["src"].startswith(base) and image["src"].endswith(".webp"), f"{view}: {image}"


@pytest.mark.skipif(CHROMIUM is None, reason="headless Chromium is not installed (apt install chromium)")
def test_zensicals_theme_gets_materials_column_on_pages_posts_and_views(served):
    """Zensical's theme lays pages out as Material does: its sizes, measured at 390 to
    2000 px windows; a post (Zensical's blog adds navigation to its hide:, and puts the
    post's sidebar in its place) and a view get the ordinary column too."""
    root, _, _ = served
    for page, count in (("index.html", 1), ("blog/2026/11/01/post-1/index.html", 2), ("blog/index.html", 4)):
        check_columns(measure_columns(root / "site" / page, count=count), WIDTHS, page)
