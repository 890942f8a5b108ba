"""Issue 39 item 4: a build keeps no page's text past its page and no finished card's
drawing, what a site of 20,000 pages held for the whole build (figure 14's memory). Checked
by what a real in-process `mkdocs build` still holds as its session closes, not by timing
or by counting bytes."""

from __future__ import annotations

import pytest
from PIL import Image

from mkdocs_nanobanana.build.session import BuildSession
from tests.support.directives import directive
from tests.support.images import seed_cache

BODY = "A paragraph only this page has, long enough to find anywhere it is kept."


@pytest.fixture
def closing(monkeypatch):
    """The analysis and scheduler of each build session, taken as it closes: every image
    and card is done by then, and the host has rendered every page."""
    seen: list = []
    real = BuildSession.close

    def close(self):
        summary = real(self)
        seen.append((self.analysis, self.scheduler))
        return summary

    monkeypatch.setattr(BuildSession, "close", close)
    return seen


def _build(site):
    from mkdocs.commands.build import build
    from mkdocs.config import load_config

    config = load_config(str(site.config_file))
    build(config)
    return config.plugins["nanobanana"]._files  # the build's Files, as on_files got them


def _pages(site):
    site.page("index.md", "---\ntitle: Home\ndescription: The home page\n---\n# Home\n\n" + BODY + "\n")
    site.page("with-image.md", "---\ntitle: An image\n---\n# Image\n\n" + BODY + "\n\n" + directive("A lighthouse"))
    site.page("picture.md", "# Picture\n\n![a photo](photo.png)\n\n" + BODY + "\n")
    site.page("plain.md", "# Plain\n\n" + BODY + "\n")
    Image.new("RGB", (320, 200), "teal").save(site.docs / "photo.png")
    seed_cache(site.cache, "A lighthouse")


def test_a_build_keeps_no_page_text_past_its_page(site, closing):
    """The plugin's copy and the File's (handed over so MkDocs does not read the file
    twice) are let go once MkDocs has each page's Markdown; a page's card keeps where its
    body starts, not the body; a finished card's drawing is let go."""
    _pages(site)
    files = _build(site)
    (analysis, scheduler), = closing
    assert analysis.pages == [] and analysis.text_read("plain.md") is None
    documents = [f for f in files.documentation_pages()]
    assert len(documents) == 4 and all(f._content is None for f in documents)
    assert all(f.abs_src_path for f in documents), "other plugins read abs_src_path"
    assert set(analysis.cards) == {"index.md", "with-image.md", "picture.md", "plain.md"}
    held = [v for info in analysis._infos.values() for v in vars(info).values() if isinstance(v, str)]
    assert held and not any(BODY in v for v in held)
    assert scheduler._cards == {}, "a finished card's Future is kept"
    # what the pages show is what they showed when all of it was kept
    assert "lighthouse" in (site.site / "with-image" / "index.html").read_text(encoding="utf-8").lower()
    for page in ("", "with-image/", "picture/", "plain/"):
        html = (site.site / page / "index.html").read_text(encoding="utf-8")
        assert BODY in html and 'property="og:image"' in html, page


def test_a_page_rendered_again_after_its_text_was_let_go_is_read_again(site, closing):
    """MkDocs reads a File's text again from abs_src_path once the plugin let it go: a
    second build in the same process (serve, a plugin that builds twice) shows the same."""
    _pages(site)
    _build(site)
    first = (site.site / "with-image" / "index.html").read_text(encoding="utf-8")
    _build(site)
    assert (site.site / "with-image" / "index.html").read_text(encoding="utf-8") == first


def test_with_draft_pages_every_text_is_kept_for_the_manifest(site, closing):
    """The build reads every page again at its end, with the drafts, for the manifest
    (what prune keeps: tests/safety/test_cache_safety.py): there the texts stay."""
    site.configure({}, draft_docs="_soon.md")
    _pages(site)
    site.page("_soon.md", "# Soon\n\n" + directive("Only serve shows this"))
    _build(site)
    (analysis, _scheduler), = closing
    assert {p.page for p in analysis.pages} == {"index.md", "with-image.md", "picture.md", "plain.md"}


def test_a_card_that_fails_to_draw_still_fails_the_build(site, monkeypatch):
    """A card drawing's error, kept once its Future is let go, reaches the build."""
    from mkdocs_nanobanana.build import card_renderer

    def broken(self, page, plan):
        raise RuntimeError(f"cannot draw the card of {page}")

    monkeypatch.setattr(card_renderer.CardRenderer, "card", broken)
    site.page("index.md", "# Home\n")
    with pytest.raises(RuntimeError, match="cannot draw the card of index.md"):
        _build(site)
