"""Other things in the same build: config inheritance, !ENV, exclude_docs, not_in_nav,
draft_docs, hooks, --dirty, i18n-style trees, mkdocs-redirects. Real `mkdocs build` runs."""

from __future__ import annotations

import textwrap

from tests.support.commands import bin_path, run
from tests.support.html import check_files, figures

NOOK = "```nanobanana\nprompt: A reading nook\n```\n"


def build(site, *args, env=None):
    return run([bin_path("mkdocs"), "build", *args], cwd=site.root, env=env)


def img_size(fig) -> tuple[int, int]:
    return int(fig["img"]["width"]), int(fig["img"]["height"])


def test_inherit_base_config_with_relative_cache_dir(site):
    (site.root / "config").mkdir()
    (site.root / "config" / "base.yml").write_text(textwrap.dedent("""\
        site_name: Inherited
        plugins:
          - nanobanana:
              ratio: "16:9"
              cache_dir: shared/images
    """))
    site.config_file.write_text("INHERIT: config/base.yml\nsite_name: Child\n")
    site.page("a.md", NOOK)
    proc = build(site)
    assert "1 placeholder" in proc.stderr
    fig, = figures(site.html("a/index.html"))
    assert img_size(fig) == (1024, 585)  # 16:9 from the base config (1344x768 scaled to 1024)
    # relative to mkdocs.yml (the file being built), as MkDocs resolves docs_dir
    assert (site.root / "shared" / "images" / "derived").is_dir()


def test_env_tags_in_plugin_options(site):
    site.config_file.write_text(textwrap.dedent("""\
        site_name: Env
        plugins:
          - nanobanana:
              mode: !ENV [NB_TEST_MODE, offline]
              ratio: !ENV [NB_TEST_RATIO, "1:1"]
    """))
    site.page("a.md", NOOK)
    build(site)
    assert img_size(figures(site.html("a/index.html"))[0]) == (1024, 1024)
    build(site, env={"NB_TEST_RATIO": "3:4"})
    assert img_size(figures(site.html("a/index.html"))[0]) == (864, 1184)
    proc = run([bin_path("mkdocs"), "build"], cwd=site.root, env={"NB_TEST_MODE": "live"}, check=False)
    assert proc.returncode != 0 and "NANOBANANA_API_KEY" in proc.stderr  # live without a key: named


def test_exclude_docs_not_in_nav_and_drafts(site):
    site.configure({}, exclude_docs="private/\n", draft_docs="drafts/\n", not_in_nav="hidden.md\n",
                   nav=["a.md"])
    site.page("a.md", NOOK)
    site.page("hidden.md", "```nanobanana\nprompt: Hidden but built\n```\n")
    site.page("private/secret.md", "```nanobanana\nprompt: Never scanned\nnum: 0\n```\n")
    site.page("drafts/wip.md", "```nanobanana\nprompt: Not in a build\n```\n")
    proc = build(site)
    assert "2 placeholders, 0 failed" in proc.stderr  # a.md and hidden.md only
    assert "secret.md" not in proc.stderr, "an excluded page's error is not reported"
    assert len(figures(site.html("hidden/index.html"))) == 1
    assert not (site.site / "private").exists() and not (site.site / "drafts").exists()
    plan = run([bin_path("nanobanana"), "plan"], cwd=site.root).stdout
    assert "hidden.md" in plan and "secret.md" not in plan and "wip.md" not in plan


def test_a_hook_that_adds_a_directive_before_us(site):
    (site.root / "hooks.py").write_text(textwrap.dedent('''\
        import mkdocs.plugins

        @mkdocs.plugins.event_priority(100)  # before the plugins
        def on_page_markdown(markdown, page, **kwargs):
            return markdown + "\\n```nanobanana\\nprompt: Added by a hook\\n```\\n"
    '''))
    site.configure({}, hooks=["hooks.py"])
    site.page("a.md", "# A\n\n" + NOOK)
    proc = build(site)
    figs = figures(site.html("a/index.html"))
    assert [f["img"]["alt"] for f in figs] == ["A reading nook", "Added by a hook"]
    assert "2 placeholders" in proc.stderr
    for fig in figs:
        check_files(site.site, "a/index.html", fig)


def test_dirty_build_keeps_the_images_of_pages_it_skips(site):
    site.page("a.md", NOOK)
    site.page("b.md", "```nanobanana\nprompt: Before\n```\n")
    build(site)
    a_before = site.html("a/index.html")
    site.page("b.md", "```nanobanana\nprompt: After\n```\n")
    build(site, "--dirty")
    assert site.html("a/index.html") == a_before
    fig_b, = figures(site.html("b/index.html"))
    assert fig_b["img"]["alt"] == "After"
    for page in ("a/index.html", "b/index.html"):
        check_files(site.site, page, figures(site.html(page))[0])


def test_language_trees_share_one_image(site):
    site.page("en/index.md", "# Home\n\n" + NOOK)
    site.page("fr/index.md", "# Accueil\n\n```nanobanana\nprompt: A reading nook\nalt: Un coin lecture\n```\n")
    site.page("fr/guide/deep.md", "# Profond\n\n" + NOOK)
    proc = build(site)
    assert "1 placeholder," in proc.stderr  # one key for the three pages
    for page in ("en/index.html", "fr/index.html", "fr/guide/deep/index.html"):
        fig, = figures(site.html(page))
        check_files(site.site, page, fig)
    assert figures(site.html("fr/index.html"))[0]["img"]["alt"] == "Un coin lecture"


def test_with_mkdocs_redirects(site):
    site.config_file.write_text(textwrap.dedent("""\
        site_name: Redirects
        plugins:
          - redirects:
              redirect_maps:
                old.md: a.md
          - nanobanana
    """))
    site.page("a.md", NOOK)
    proc = build(site)
    assert "1 placeholder" in proc.stderr
    assert 'a/' in (site.site / "old" / "index.html").read_text()
    fig, = figures(site.html("a/index.html"))
    check_files(site.site, "a/index.html", fig)


def test_unquoted_ratio_in_mkdocs_yml_means_the_ratio(site):
    site.config_file.write_text("site_name: U\nplugins:\n  - nanobanana:\n      ratio: 16:9\n")
    site.page("a.md", NOOK)
    build(site)
    assert img_size(figures(site.html("a/index.html"))[0]) == (1024, 585)
