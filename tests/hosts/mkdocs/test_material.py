"""example_site/material: Material for MkDocs with its blog plugin, content tabs, details,
superfences custom fences and md_in_html, built with the real `mkdocs build`."""

from __future__ import annotations

import json
import re
import shutil

import pytest

from tests.support.commands import REPO, bin_path, run
from tests.support.html import check_files, figures

POST = "blog/2026/11/02/a-reading-nook-four-ways/index.html"
VIEWS = ["blog/index.html", "blog/archive/2026/index.html", "blog/category/corners/index.html"]


@pytest.fixture(scope="module")
def material_site(tmp_path_factory):
    dest = tmp_path_factory.mktemp("material") / "site-src"
    shutil.copytree(REPO / "example_site" / "material", dest, ignore=shutil.ignore_patterns("site", ".cache"))
    proc = run([bin_path("mkdocs"), "build"], cwd=dest)
    return dest, dest / "site", proc


def read(site, page):
    return (site / page).read_text(encoding="utf-8")


def test_builds_with_every_image(material_site):
    _, _, proc = material_site
    assert "nanobanana: 0 cached, 0 generated (0 credits ~ $0.00), 8 placeholders, 0 failed" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_excerpt_images_render_on_the_blog_index_archive_and_category_pages(material_site):
    _, site, _ = material_site
    post_figs = figures(read(site, POST))
    for view in VIEWS:
        html = read(site, view)
        assert "NANOBANANA" not in html, view
        figs = figures(html)
        alts = [f["img"]["alt"] for f in figs]
        # the excerpt (above <!-- more -->) of the nook post carries its first image only
        assert "A reading nook with a cat asleep on a blanket under a rainy window" in alts, view
        assert "A brass reading lamp with a green shade" not in alts, view
        for fig in figs:
            check_files(site, view, fig)  # URLs relative to the view, not to the post
        nook = next(f for f in figs if f["img"]["alt"].startswith("A reading nook"))
        assert nook["img"]["src"] != post_figs[0]["img"]["src"]  # the same file, seen from elsewhere
        assert nook["img"]["src"].rsplit("/", 1)[1] == post_figs[0]["img"]["src"].rsplit("/", 1)[1]
    index_alts = [f["img"]["alt"] for f in figures(read(site, "blog/index.html"))]
    assert "A lighthouse at dusk on a rocky coast" in index_alts


def test_tabs_details_md_in_html_and_mermaid(material_site):
    _, site, _ = material_site
    html = read(site, POST)
    figs = figures(html)
    assert len(figs) == 5
    for fig in figs:
        check_files(site, POST, fig)
    tabs = html.split('class="tabbed-set', 1)[1].split("<details", 1)[0]
    assert len(figures(tabs)) == 2, "one figure in each content tab"
    details = html.split("<details", 1)[1].split("</details>", 1)[0]
    assert len(figures(details)) == 1
    grid = html.split('<div class="grid"', 1)[1]
    assert len(figures(grid.split("</div>", 1)[0])) == 1
    # the custom fence is left to superfences, untouched
    assert re.search(r'<pre class="mermaid"><code>graph LR\s+Lamp --&gt; Nook', html)
    assert "prompt:" not in html


def test_search_index_has_no_directive_yaml_and_no_token(material_site):
    _, site, _ = material_site
    index = json.loads((site / "search" / "search_index.json").read_text(encoding="utf-8"))
    text = json.dumps(index)
    assert "prompt:" not in text and "```nanobanana" not in text and "NANOBANANA" not in text
    nook = [d for d in index["docs"] if d["location"].startswith("blog/2026/11/02/a-reading-nook-four-ways/")]
    assert nook and "The nook, second of four candidates." in json.dumps(nook)  # the caption is real text
