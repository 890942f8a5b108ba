"""Issue 19 items 1 and 4: feeds and URLs. The example Material blog, with the real
mkdocs-rss-plugin added, built by the real `mkdocs build`: no output file holds a token,
and every image URL in a feed item is absolute and names a file of the built site."""

from __future__ import annotations

import json
import re
import shutil
import xml.etree.ElementTree as ET
from urllib.parse import unquote, urlparse

import pytest

from tests.support.commands import REPO, bin_path, run
from tests.support.html import check_files, figures

SITE_URL = "https://example.org/rainy-day-material/"
RSS = "- rss:\n      use_git: false\n      match_path: blog/posts/.*\n      abstract_delimiter: <!-- more -->\n" \
      "      date_from_meta: {as_creation: date, as_update: date}\n"


@pytest.fixture(scope="module")
def blog(tmp_path_factory):
    pytest.importorskip("material", reason="the test extra installs mkdocs-material")
    pytest.importorskip("mkdocs_rss_plugin", reason="the test extra installs mkdocs-rss-plugin")
    dest = tmp_path_factory.mktemp("feeds") / "src"
    shutil.copytree(REPO / "example_site" / "material", dest, ignore=shutil.ignore_patterns("site", ".cache"))
    config = dest / "mkdocs.yml"
    # rss first: our early on_page_content must run before it whatever the plugin order
    config.write_text(config.read_text().replace("  - search\n", "  - search\n  " + RSS), encoding="utf-8")
    for post in (dest / "docs" / "blog" / "posts").glob("*.md"):  # the feed takes the excerpt, then
        post.write_text(re.sub(r"(?m)^description: .*\n", "", post.read_text()), encoding="utf-8")
    run([bin_path("mkdocs"), "build"], cwd=dest)
    return dest / "site"


def _local(site, url: str):
    assert url.startswith(SITE_URL), url
    return site / unquote(urlparse(url).path[len(urlparse(SITE_URL).path):])


def test_no_output_file_holds_a_token(blog):
    texts = [p for p in blog.rglob("*") if p.is_file() and p.suffix in (".html", ".xml", ".json", ".js", ".txt")]
    leaked = [p.relative_to(blog).as_posix() for p in texts if "NANOBANANA" in p.read_text(errors="replace")]
    assert leaked == []


def test_feed_items_show_their_excerpt_images_by_absolute_url(blog):
    items = {i.findtext("title"): i for i in ET.parse(blog / "feed_rss_created.xml").getroot().iter("item")}
    nook = next(i for t, i in items.items() if "nook" in t.lower())
    description = nook.findtext("description")
    figs = figures(description)
    assert [f["img"]["alt"] for f in figs] == ["A reading nook with a cat asleep on a blanket under a rainy window"]
    urls = [figs[0]["img"]["src"]] + [u.split()[0] for u in figs[0]["img"]["srcset"].split(", ")]
    for url in urls:
        assert _local(blog, url).is_file(), url
    feed = json.loads((blog / "feed_json_created.json").read_text())
    json_nook = next(i for i in feed["items"] if "nook" in i["title"].lower())
    assert SITE_URL + "assets/nanobanana/" in json_nook["content_html"]


def test_blog_views_still_show_the_excerpt_figures(blog):
    """The tokens went back into page.markdown after the feeds read it: Material's blog
    renders excerpts from it later, with URLs relative to each view."""
    html = (blog / "blog" / "index.html").read_text()
    figs = figures(html)
    assert figs and not any(f["img"]["src"].startswith("http") for f in figs)
    for fig in figs:
        check_files(blog, "blog/index.html", fig)


@pytest.mark.parametrize("page, output_dir", [
    ("c#-tips.md", "assets/nanobanana"),
    ("faq?.md", "assets/nanobanana"),
    ("my page.md", "my images/generated"),
    ("100%.md", "assets/nanobanana"),
])
def test_every_url_is_percent_encoded(site, page, output_dir):
    """A page or folder name with a space, '#', '?' or '%' would cut the URL short or split
    a srcset; the encoded URL names the real file."""
    site.configure({"output_dir": output_dir, "social": {"generate": True}}, site_url="https://example.org/")
    site.page(page, "# Tips\n\n```nanobanana\nprompt: A tip\n```\n")
    site.build()
    html_file = next(p for p in site.site.rglob("*.html") if "Tips" in p.read_text() and "404" not in p.name)
    html = html_file.read_text()
    fig, = figures(html)
    srcset = fig["img"]["srcset"]
    for candidate in srcset.split(", "):
        url, width = candidate.rsplit(" ", 1)
        assert width.endswith("w") and " " not in url and "#" not in url and "?" not in url
        assert (html_file.parent / unquote(url)).is_file(), url
    og = re.search(r'property="og:image" content="([^"]+)"', html).group(1)
    assert " " not in og and "#" not in og.split("//", 1)[1] and "?" not in og
    assert (site.site / unquote(urlparse(og).path).lstrip("/")).is_file(), og
