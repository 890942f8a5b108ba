"""Real `mkdocs build`s of temporary sites: HTML, files, cache reuse, errors."""

from __future__ import annotations

from pathlib import Path

import pytest
from mkdocs.exceptions import Abort
from PIL import Image, ImageStat

from mkdocs_nanobanana.core.request import Request, sha256
from tests.support.html import check_files, figures
from tests.support.images import seed_cache

PAGES = {
    "index.md": "# Home\n\n```nanobanana\nA lighthouse at dusk\n```\n",
    "posts/first.md": (
        "---\ntitle: First\n---\n# First\n\nText.\n\n```nanobanana\nprompt: A reading nook\nratio: \"16:9\"\n"
        "alt: A nook\ncaption: Our corner & more\n```\n\n"
        "- item\n\n    ```nanobanana\n    prompt: A cat\n    ratio: \"3:4\"\n    ```\n"
    ),
    "posts/deep/second.md": ("# Second\n\n!!! note\n\n"
                             "    ```nanobanana\n    prompt: In an admonition\n    variant: hd\n    ```\n"),
}


def write_pages(site, pages=PAGES):
    for name, text in pages.items():
        site.page(name, text)


@pytest.mark.parametrize("directory_urls", [True, False])
def test_images_resolve_from_every_page(site, directory_urls):
    site.configure(use_directory_urls=directory_urls, markdown_extensions=["admonition"], site_url="https://example.org/sub/path/")
    write_pages(site)
    site.build()
    suffix = "index.html" if directory_urls else ""
    pages = {
        "index.html": 1,
        ("posts/first/index.html" if directory_urls else "posts/first.html"): 2,
        ("posts/deep/second/index.html" if directory_urls else "posts/deep/second.html"): 1,
    }
    assert suffix in ("index.html", "")
    for page_file, n in pages.items():
        figs = figures(site.html(page_file))
        assert len(figs) == n, page_file
        for fig in figs:
            assert "nanobanana-placeholder" in fig["class"]
            assert fig["sources"][0]["type"] == "image/webp"
            check_files(site.site, page_file, fig)


def test_figure_details(site):
    write_pages(site)
    site.configure(markdown_extensions=["admonition"])
    site.build()
    figs = figures(site.html("posts/first/index.html"))
    first, second = figs
    assert first["img"]["alt"] == "A nook" and first["caption"] == "Our corner & more"
    assert first["img"]["loading"] == "eager" and first["img"]["fetchpriority"] == "high"
    assert second["img"]["loading"] == "lazy" and second["img"]["alt"] == "A cat"
    # 16:9 is 1344x768 at the source: the 1024 fallback keeps the ratio
    assert (first["img"]["width"], first["img"]["height"]) == ("1024", "585")
    # the admonition's directive is inside the admonition
    html = site.html("posts/deep/second/index.html")
    assert html.index('class="admonition note"') < html.index('class="nanobanana')


def test_second_build_renders_nothing_and_one_edit_renders_one(site, count_placeholders):
    write_pages(site)
    site.configure(markdown_extensions=["admonition"])
    site.build()
    assert len(count_placeholders) == 4
    derived = sorted(site.cache.derived_dir.rglob("*.*"))
    mtimes = [p.stat().st_mtime_ns for p in derived]
    count_placeholders.clear()

    site.build()
    assert count_placeholders == []
    assert [p.stat().st_mtime_ns for p in sorted(site.cache.derived_dir.rglob("*.*"))] == mtimes

    site.page("posts/first.md", PAGES["posts/first.md"].replace("A cat", "A sleepy cat"))
    site.build()
    assert count_placeholders == ["A sleepy cat"]


def test_nothing_is_written_into_docs_dir(site):
    write_pages(site)
    site.configure(markdown_extensions=["admonition"])
    before = {p: p.read_bytes() for p in site.docs.rglob("*") if p.is_file()}
    site.build()
    site.build()
    after = {p: p.read_bytes() for p in site.docs.rglob("*") if p.is_file()}
    assert before == after


def test_cached_images_are_used_with_their_real_size(site, warnings_log):
    site.page("index.md",
              "# Home\n\n```nanobanana\nprompt: A nook\nratio: \"16:9\"\n```\n\n```nanobanana\nnot cached yet\n```\n")
    entry = seed_cache(site.cache, "A nook", ratio="16:9")
    site.build()
    cached, missing = figures(site.html("index.html"))
    assert "nanobanana-placeholder" not in cached["class"] and "nanobanana-placeholder" in missing["class"]
    check_files(site.site, "index.html", cached)
    # the published derivative is the cached original, resized
    with Image.open(entry.images[0].path) as orig, Image.open(site.site / cached["img"]["src"]) as pub:
        assert pub.size == (1024, 585)
        expected = ImageStat.Stat(orig.resize(pub.size).convert("L")).mean[0]
        assert abs(ImageStat.Stat(pub.convert("L")).mean[0] - expected) < 3
    assert "nanobanana: 1 cached, 0 generated (0 credits ~ $0.00), 1 placeholder, 0 failed" in warnings_log.text


def test_pick_shows_that_candidate(site):
    site.page("a.md", "```nanobanana\nprompt: Candidates\nnum: 3\npick: 2\n```\n")
    entry = seed_cache(site.cache, "Candidates", num=3)
    site.build()
    fig, = figures(site.html("a/index.html"))
    published = site.site / "a" / fig["img"]["src"]
    expected_id = entry.images[1].sha256
    assert published.name.startswith(expected_id[:10])
    # changing pick is free: same key, no new entry, other file
    site.page("a.md", "```nanobanana\nprompt: Candidates\nnum: 3\npick: 3\n```\n")
    site.build()
    fig, = figures(site.html("a/index.html"))
    assert (site.site / "a" / fig["img"]["src"]).name.startswith(entry.images[2].sha256[:10])
    assert len(list(site.cache.keys())) == 1


def test_name_gives_stable_file_names(site):
    site.page("a.md", "```nanobanana\nprompt: Named\nname: hero-shot\n```\n")
    site.build()
    fig, = figures(site.html("a/index.html"))
    assert fig["img"]["src"] == "../assets/nanobanana/hero-shot-1024.jpg"


def test_refs_local_file_and_name_chain(site, count_placeholders):
    (site.docs / "img").mkdir()
    sketch = site.docs / "img" / "sketch.png"
    Image.new("RGB", (64, 64), "red").save(sketch)
    site.page("posts/a.md", (
        "```nanobanana\nprompt: Draft\nname: draft\nrefs: [../img/sketch.png]\n```\n\n"
        "```nanobanana\nprompt: Refined\nrefs: [\"#draft\", /img/sketch.png]\n```\n"
    ))
    # offline, draft is not cached: both are placeholders, the refined one waits for #draft
    site.build()
    draft, refined = figures(site.html("posts/a/index.html"))
    assert "waiting for #draft" in refined["img"]["title"]

    # once #draft is in the cache, #refined's key includes draft's picked image hash
    sketch_hash = sha256(sketch.read_bytes())
    d_entry = seed_cache(site.cache, "Draft", refs=(sketch_hash,))
    r_entry = seed_cache(site.cache, "Refined", refs=(d_entry.images[0].sha256, sketch_hash))
    site.build()
    draft, refined = figures(site.html("posts/a/index.html"))
    assert "nanobanana-placeholder" not in draft["class"] and "nanobanana-placeholder" not in refined["class"]
    assert Path(refined["img"]["src"]).name.startswith(r_entry.images[0].sha256[:10])

    # new sketch bytes: both keys change, both are missing again
    Image.new("RGB", (64, 64), "blue").save(sketch)
    count_placeholders.clear()
    site.build()
    draft, refined = figures(site.html("posts/a/index.html"))
    assert "nanobanana-placeholder" in draft["class"] and "nanobanana-placeholder" in refined["class"]


BAD_PAGES = [
    ("```nanobanana\nprompt: P\nration: 16:9\n```\n", 3, "did you mean 'ratio'"),
    ("```nanobanana\nprompt: [oops\n```\n", 2, "does not parse"),
    ("```nanobanana\nprompt: P\nnum: 10\n```\n", 3, "out of range"),
    ("```nanobanana\nprompt: P\nrefs: [../../etc/passwd]\n```\n", 3, "outside docs_dir"),
    ("```nanobanana\nprompt: P\nrefs: [missing.png]\n```\n", 3, "does not exist"),
    ("```nanobanana\nprompt: P\nrefs: [/notes.txt]\n```\n", 3, "is not an image"),
    ("```nanobanana\nprompt: P\nrefs: ['#nobody']\n```\n", 3, "names no directive"),
    ("```nanobanana\nprompt: P\n", 1, "never closed"),
]


@pytest.mark.parametrize("text,line,words", BAD_PAGES)
def test_bad_directive_names_page_line_and_site_still_builds(site, warnings_log, text, line, words):
    site.page("good.md", "# Good\n\n```nanobanana\nA fine image\n```\n")
    site.page("notes.txt", "just text")
    site.page("sub/bad.md", "---\ntitle: Bad\n---\n" + text)
    site.build()
    messages = [r.getMessage() for r in warnings_log.records if r.levelname == "WARNING"]
    assert any(m.startswith(f"nanobanana: docs/sub/bad.md:{line + 3}:") and words in m for m in messages), messages
    assert len(figures(site.html("good/index.html"))) == 1
    assert (site.site / "sub" / "bad" / "index.html").exists()
    assert "Traceback" not in warnings_log.text


def test_bad_directive_shows_a_placeholder_naming_the_line(site):
    site.page("bad.md", "# Bad\n\n```nanobanana\nprompt: P\nnum: 0\n```\n")
    site.build()
    fig, = figures(site.html("bad/index.html"))
    assert "nanobanana-placeholder" in fig["class"]
    assert fig["img"]["title"].startswith("docs/bad.md:5:")


def test_duplicate_names_warn_at_both_places(site, warnings_log):
    site.page("a.md", "```nanobanana\nprompt: A\nname: hero\n```\n")
    site.page("b.md", "\n```nanobanana\nprompt: B\nname: hero\n```\n")
    site.build()
    text = warnings_log.text
    assert "docs/a.md:3: name 'hero' is also used at docs/b.md:4" in text
    assert "docs/b.md:4: name 'hero' is also used at docs/a.md:3" in text


def test_strict_fails_on_bad_directive_and_on_placeholders(site):
    site.page("bad.md", "```nanobanana\nprompt: P\nnum: 0\n```\n")
    with pytest.raises(Abort):
        site.build(strict=True)
    site.page("bad.md", "```nanobanana\nprompt: P\n```\n")
    with pytest.raises(Abort):  # offline: the image could not be produced
        site.build(strict=True)
    seed_cache(site.cache, "P")
    site.build(strict=True)  # everything cached: strict passes


def test_disabled_plugin_leaves_code_blocks(site):
    site.configure({"enabled": False})
    site.page("a.md", "```nanobanana\nprompt: P\n```\n")
    site.build()
    html = site.html("a/index.html")
    assert "prompt: P" in html and "<figure" not in html and not (site.site / "assets" / "nanobanana").exists()


def test_summary_line_counts(site, warnings_log):
    site.page("a.md", "```nanobanana\nprompt: Same\n```\n```nanobanana\nprompt: Other\nnum: 2\n```\n"
                      "```nanobanana\nprompt: P\nnum: 0\n```\n")
    site.page("b.md", "```nanobanana\nprompt: Same\nalt: moved, same key\n```\n")
    seed_cache(site.cache, "Same")
    site.build()
    assert "nanobanana: 1 cached, 0 generated (0 credits ~ $0.00), 1 placeholder, 1 failed" in warnings_log.text
    assert "1 image(s) are placeholders" in warnings_log.text and "4 credits ~ $0.04" in warnings_log.text


@pytest.mark.parametrize("plugin,words", [
    ({"quality": 0}, "from 1 to 100"),
    ({"widths": [480, "big"]}, "whole number"),
    ({"widths": []}, "at least one width"),
    ({"formats": ["gif"]}, "gif"),
    ({"mode": "sometimes"}, "sometimes"),
    ({"concurrency": True}, "whole number"),
    ({"timeout": -1}, "positive"),
    ({"output_dir": "../outside"}, "relative path inside site_dir"),
    ({"api_key_env": "sk-live-1234567890abcdef"}, "NAME of an environment variable"),
])
def test_bad_config_values_give_config_errors(site, caplog, plugin, words):
    site.configure(plugin)
    with pytest.raises(Abort, match="configuration error"):
        site.build()
    errors = [r.getMessage() for r in caplog.records if r.levelname == "ERROR"]
    assert any(m.startswith("Config value 'plugins'") and words in m for m in errors), errors
    assert "sk-live" not in caplog.text


@pytest.mark.parametrize("plugin,env,words", [
    ({"ratio": "21:9"}, {}, "ratio '21:9' is not offered by gemini-2.5-flash-image: use one of 1:1, 16:9"),
    ({"variant": "ultra"}, {}, "variant 'ultra' is not one of standard, hd"),
    ({"cache_dir": "docs/.cache"}, {}, "cache_dir is inside docs_dir"),
    ({"mode": "live"}, {}, "the environment variable NANOBANANA_API_KEY is not set"),
    ({"models": {"x": {"credits": "lots"}}}, {}, "model 'x': 'credits'"),
    ({}, {"NANOBANANA_MODE": "turbo"}, "NANOBANANA_MODE='turbo' is not a mode"),
    # a file relative to mkdocs.yml, as social.logo is (the options table checks it is a text)
    ({"social": {"font": "missing.ttf"}}, {}, "missing.ttf is not a file: give a .ttf or .otf file"),
])
def test_plugin_level_config_errors(site, monkeypatch, caplog, plugin, env, words):
    site.configure(plugin)
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    with pytest.raises(Abort):
        site.build()
    errors = [r.getMessage() for r in caplog.records if r.levelname == "ERROR"]
    assert any(m.startswith("nanobanana: ") and words in m for m in errors), errors


def test_env_mode_wins_over_config(site, monkeypatch, warnings_log):
    site.configure({"mode": "live"})
    site.page("a.md", "```nanobanana\nprompt: P\n```\n")
    monkeypatch.setenv("NANOBANANA_MODE", "offline")
    site.build()
    assert "NANOBANANA_MODE=offline is set in the environment" in warnings_log.text


def test_cache_dir_is_relative_to_the_config_file(site, monkeypatch, tmp_path):
    site.page("a.md", "```nanobanana\nprompt: P\n```\n")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    site.build()
    assert site.cache.derived_dir.is_dir() and not (elsewhere / ".cache").exists()


def test_request_key_of_directive_matches_cache_helper(site):
    # guards the seeding helper used above against drifting from the plugin's keying
    site.page("a.md", "```nanobanana\nprompt: K\nratio: \"4:3\"\nvariant: hd\nrev: 2\n```\n")
    entry = seed_cache(site.cache, "K", ratio="4:3", model="gemini-2.5-flash-image-hd", rev=2)
    assert entry.key == Request("gemini-2.5-flash-image-hd", "K", "4:3", 1, (), 2).key
    site.build()
    fig, = figures(site.html("a/index.html"))
    assert "nanobanana-placeholder" not in fig["class"]


def test_identical_images_under_two_names_render_reliably(site):
    """Regression: two directives whose cached images are byte-identical (one named, one
    not) share one source; producing its derivatives twice at once used to race with
    publishing them (link(2) during a rename: ENOENT)."""
    site.page("a.md", "```nanobanana\nprompt: One\nname: one\n```\n```nanobanana\nprompt: Two\n```\n")
    a, b = seed_cache(site.cache, "One"), seed_cache(site.cache, "Two")
    assert a.images[0].sha256 == b.images[0].sha256
    for _ in range(5):
        for p in site.cache.derived_dir.rglob("*.*"):
            p.unlink()
        site.build()
        one, two = figures(site.html("a/index.html"))
        check_files(site.site, "a/index.html", one)
        check_files(site.site, "a/index.html", two)


def test_published_and_cached_files_are_readable_by_others(site):
    """A web server often runs as another user: nothing we write may be owner-only."""
    import os
    import stat

    old = os.umask(0o022)
    try:
        site.configure({"social": {"generate": True}}, site_url="https://example.org/")
        site.page("a.md", "# A\n\n```nanobanana\nprompt: P\n```\n")
        seed_cache(site.cache, "P")
        site.build()
    finally:
        os.umask(old)
    written = [p for p in (site.site / "assets" / "nanobanana").rglob("*") if p.is_file()]
    written += [p for p in site.cache.root.rglob("*") if p.is_file() and "locks" not in p.parts]
    assert len(written) > 10
    for path in written:
        assert path.stat().st_mode & stat.S_IROTH, f"{path} is {oct(path.stat().st_mode)}"
