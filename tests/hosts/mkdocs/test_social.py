"""Social cards through real builds, parsed as HTML: tags, sources, front matter, plans."""

from __future__ import annotations

import logging

import pytest
from PIL import Image, ImageChops, ImageStat

from mkdocs_nanobanana.cards import drawing
from tests.support.html import tags
from tests.support.images import seed_cache


def card_site(site, **plugin):
    site.configure({"social": {"generate": True}, **plugin}, site_url="https://example.org/blog/sub/")
    site.page("index.md", "# Home\n\nWelcome.\n")
    site.page("posts/first.md", "---\ntitle: First post\ndescription: About firsts.\n---\n# Ignored H1\n\nText.\n")
    site.page("posts/cover.md", "# Cover\n\n```nanobanana\nprompt: A cover image\nsocial: true\nratio: \"16:9\"\n```\n")
    site.page("posts/private.md", "---\nnanobanana:\n  social: false\n---\n# Private\n")
    return site


@pytest.mark.parametrize("theme", ["mkdocs", "readthedocs"])
def test_cards_and_tags_in_every_page(site, theme):
    card_site(site)
    site.configure({"social": {"generate": True}}, site_url="https://example.org/blog/sub/", theme=theme)
    site.build()
    for page, card in [("index.html", "index.jpg"), ("posts/first/index.html", "posts/first.jpg"),
                       ("posts/cover/index.html", "posts/cover.jpg")]:
        t = tags(site.html(page))
        url = f"https://example.org/blog/sub/assets/nanobanana/social/{card}"
        assert t["og:image"] == [url] and t["twitter:image"] == [url], page
        assert (t["og:image:type"], t["og:image:width"], t["og:image:height"]) == (["image/jpeg"], ["1200"], ["630"])
        assert t["twitter:card"] == ["summary_large_image"]
        with Image.open(site.site / "assets/nanobanana/social" / card) as img:
            assert img.size == (1200, 630) and img.format == "JPEG"
    assert tags(site.html("posts/first/index.html"))["og:image:alt"] == ["First post"]
    # opt-out: no tags, no card
    assert tags(site.html("posts/private/index.html")) == {}
    assert not (site.site / "assets/nanobanana/social/posts/private.jpg").exists()


def test_card_comes_from_the_social_directive(site):
    site.configure({}, site_url="https://example.org/")
    site.page("a.md", "# A\n\n```nanobanana\nprompt: Not this one\n```\n\n"
                      "```nanobanana\nprompt: The cover\nsocial: true\nratio: \"16:9\"\n```\n")
    site.page("b.md", "# B, no card\n")
    entry = seed_cache(site.cache, "The cover", ratio="16:9")
    site.build()
    assert tags(site.html("a/index.html"))["og:image"] == ["https://example.org/assets/nanobanana/social/a.jpg"]
    assert tags(site.html("b/index.html")) == {}  # generate is off: no source, no card
    with Image.open(site.site / "assets/nanobanana/social/a.jpg") as card, Image.open(entry.images[0].path) as src:
        top = card.crop((0, 0, 1200, 200))
        expected = drawing.cover(src).crop((0, 0, 1200, 200))
        assert ImageStat.Stat(ImageChops.difference(top, expected)).mean[0] < 8  # the cached image, cover-cropped


def test_no_site_url_warns_once_and_uses_relative_urls(site, caplog):
    caplog.set_level(logging.INFO)
    card_site(site)
    site.configure({"social": {"generate": True}})
    site.build()
    assert sum("site_url is not set" in r.getMessage() for r in caplog.records) == 1
    url = tags(site.html("posts/first/index.html"))["og:image"][0]
    assert url == "../../assets/nanobanana/social/posts/first.jpg"
    assert (site.site / "posts/first" / url).resolve().is_file()


def test_escaping_in_tags(site):
    site.configure({"social": {"generate": True}}, site_url="https://example.org/")
    site.page("a.md", '---\ntitle: \'<script>alert(1)</script> & "q"\'\n---\nText\n')
    site.build()
    html = site.html("a/index.html")
    # (the mkdocs theme itself prints the title unescaped in <title>; our tags escape it)
    ours = [line for line in html.splitlines() if 'property="og:' in line or 'name="twitter:' in line]
    assert len(ours) == 12 and not any("<script>" in line for line in ours)
    assert tags(html)["og:image:alt"] == ['<script>alert(1)</script> & "q"']


def test_front_matter_prompt_is_generated_and_planned(site, monkeypatch):
    import json

    from tests.fakeapi import FakeAPI
    from tests.support.commands import bin_path, run
    from tests.support.live import KEY

    with FakeAPI() as api:
        site.configure({"api_base": api.base}, site_url="https://example.org/")
        site.page("a.md",
                  "---\ntitle: Long title\nnanobanana:\n  social: {prompt: A custom card, title: Short}\n---\n# A\n")
        site.page("b.md", "# B\n")
        plan = json.loads(run([bin_path("nanobanana"), "plan", "--json"], cwd=site.root).stdout)
        row, = plan["directives"]
        assert row["where"] == "docs/a.md:3" and row["note"] == "social card" and row["credits"] == 2
        monkeypatch.setenv("NANOBANANA_API_KEY", KEY)
        site.build()
        assert [r.json()["prompt"] for r in api.generate_requests] == ["A custom card"]
        assert api.generate_requests[0].json()["image_size"] == "16:9"
    t = tags(site.html("a/index.html"))
    assert t["og:image:alt"] == ["Short"]


def test_template_gets_title_and_description(site, monkeypatch):
    from tests.fakeapi import FakeAPI
    from tests.support.live import KEY

    with FakeAPI() as api:
        social = {"generate": True, "prompt_template": "Art for {title}: {description}"}
        site.configure({"api_base": api.base, "social": social},
                       site_description="The site's own words")
        site.page("a.md", "---\ndescription: Page words\n---\n# Alpha\n")
        site.page("b.md", "# Beta\n")
        monkeypatch.setenv("NANOBANANA_API_KEY", KEY)
        site.build()
        assert sorted(r.json()["prompt"] for r in api.generate_requests) == ["Art for Alpha: Page words",
                                                                             "Art for Beta: The site's own words"]
    # a background no page shows gets no responsive copies: the site holds the cards only
    published = sorted(p.relative_to(site.site).as_posix() for p in (site.site / "assets" / "nanobanana").rglob("*.*"))
    assert published == ["assets/nanobanana/social/a.jpg", "assets/nanobanana/social/b.jpg"]
    # ...and in the cache only its cover crop, which the next drawing of its card starts from
    from mkdocs_nanobanana.cards.social import CARD_SIZE, COVER

    derived = sorted((site.root / ".cache" / "nanobanana" / "derived").rglob("*.*"))
    assert len(derived) == 2 and all(p.name.endswith(f"-1200w-{COVER.tag}.jpg") for p in derived)
    for path in derived:
        with Image.open(path) as cover:
            assert cover.size == CARD_SIZE


def test_warm_build_redraws_no_card(site, monkeypatch):
    card_site(site)
    site.build()
    calls = []
    real = drawing.render_card
    monkeypatch.setattr(drawing, "render_card", lambda *a, **k: calls.append(a) or real(*a, **k))
    site.build()
    assert calls == []
    assert (site.site / "assets/nanobanana/social/posts/first.jpg").is_file()
    site.page("posts/first.md", "---\ntitle: First post, renamed\n---\nText\n")
    site.build()
    assert len(calls) == 1  # the title is drawn on the card: a new title, one new card


def test_meta_image_is_set_for_other_plugins(site):
    """RSS and blog plugins read page.meta['image']; a hook records what they would see."""
    (site.root / "hooks.py").write_text(
        "import json, os\n"
        "def on_page_context(context, page, config, nav):\n"
        "    with open(os.path.join(os.path.dirname(config.config_file_path), 'seen.jsonl'), 'a') as f:\n"
        "        f.write(json.dumps([page.file.src_uri, page.meta.get('image')]) + '\\n')\n"
    )
    card_site(site)
    site.configure({"social": {"generate": True}}, site_url="https://example.org/blog/sub/", hooks=["hooks.py"])
    site.page("posts/own.md", "---\nimage: https://cdn.example.org/mine.png\n---\n# Own image\n")
    site.build()
    import json

    seen = dict(json.loads(line) for line in (site.root / "seen.jsonl").read_text().splitlines())
    assert seen["posts/first.md"] == "assets/nanobanana/social/posts/first.jpg"
    assert seen["posts/own.md"] == "https://cdn.example.org/mine.png"  # never overwritten
    assert seen["posts/private.md"] is None


def test_bad_front_matter_names_the_line(site, caplog):
    caplog.set_level(logging.INFO)
    site.configure({}, site_url="https://example.org/")
    site.page("a.md", "---\ntitle: T\nnanobanana:\n  social: {promt: typo}\n---\n# A\n")
    site.build()
    assert any(r.getMessage().startswith("nanobanana: docs/a.md:3: front matter nanobanana.social: unknown key 'promt'")
               for r in caplog.records)


# --------------------------------------------------------------------------- drawing


def test_rss_item_carries_the_card_under_material(site):
    """mkdocs-rss-plugin and the Material theme, both real: the feed item's enclosure is
    the card, with an absolute URL under site_url and the card's real length (the RSS
    plugin alone writes length="None"), and no network is needed."""
    import xml.etree.ElementTree as ET

    pytest.importorskip("material", reason="the test extra installs mkdocs-material")
    pytest.importorskip("mkdocs_rss_plugin", reason="the test extra installs mkdocs-rss-plugin")
    site.configure(
        {"social": {"generate": True}},
        site_url="https://example.org/blog/sub/",
        theme={"name": "material"},
    )
    config = site.config_file.read_text().replace(
        "plugins:\n",
        "plugins:\n- rss:\n    use_git: false\n    match_path: posts/.*\n"
        "    date_from_meta: {as_creation: date, as_update: date}\n",
    )
    site.config_file.write_text(config)
    site.page("posts/first.md", "---\ntitle: First post\ndate: 2026-01-02\n---\n# First post\n\nText.\n")
    site.page("posts/own.md", "---\ntitle: Own image\ndate: 2026-01-03\nimage: img/own.png\n---\nText.\n")
    # the real command line: mkdocs-rss-plugin sets itself up in on_startup, which only it calls
    from tests.support.commands import bin_path, run

    run([bin_path("mkdocs"), "build"], cwd=site.root)
    items = {i.findtext("title"): i for i in ET.parse(site.site / "feed_rss_created.xml").getroot().iter("item")}
    card = items["First post"].find("enclosure")
    assert card is not None and card.get("type") == "image/jpeg"
    assert card.get("url") == "https://example.org/blog/sub/assets/nanobanana/social/posts/first.jpg"
    assert card.get("length") == str((site.site / "assets/nanobanana/social/posts/first.jpg").stat().st_size)
    assert int(card.get("length")) > 1000
    for feed in ("feed_rss_created.xml", "feed_rss_updated.xml"):
        assert 'length="None"' not in (site.site / feed).read_text().split("Own image")[0], feed
    # a page with its own image keeps it (the feed joins it to site_url)
    assert items["Own image"].find("enclosure").get("url") == "https://example.org/blog/sub/img/own.png"
    assert tags(site.html("posts/first/index.html"))["og:image"] == [card.get("url")]


def test_material_social_plugin_wins_the_tags(site, caplog):
    pytest.importorskip("material", reason="the test extra installs mkdocs-material")
    caplog.set_level(logging.INFO)
    site.configure({"social": {"generate": True}}, site_url="https://example.org/", theme={"name": "material"})
    site.config_file.write_text(site.config_file.read_text().replace("plugins:\n",
                                                                     "plugins:\n- social:\n    cards: false\n"))
    site.page("a.md", "# A\n\nText.\n")
    site.build()
    assert sum("Material's social plugin is enabled too" in r.getMessage() for r in caplog.records) == 1
    assert "og:image" not in site.html("a/index.html")
    # and no card background was planned, drawn or (in live mode) paid for
    assert "0 cached, 0 generated (0 credits ~ $0.00), 0 placeholders, 0 failed" in caplog.text
    assert not (site.site / "assets" / "nanobanana" / "social").exists()


def test_front_matter_takes_what_a_directive_takes(site, monkeypatch, caplog):
    """Issue 18 item 11: an unquoted ratio works in front matter as in a directive, and a
    card prompt has the directive's limits, whether written out or made from the template."""
    from tests.fakeapi import FakeAPI
    from tests.support.live import KEY

    caplog.set_level(logging.INFO)
    long_title = "Very long title " * 1_300  # the template makes it a 20,000+ character prompt
    with FakeAPI() as api:
        site.configure({"api_base": api.base, "social": {"generate": True, "prompt_template": "Art for {title}"}},
                       site_url="https://example.org/")
        site.page("a.md", "---\nnanobanana:\n  social: {prompt: Unquoted ratio, ratio: 16:9}\n---\n# A\n")
        site.page("b.md", "---\nnanobanana:\n  social: {prompt: Wide, ratio: 4:3}\n---\n# B\n")
        site.page("c.md", "---\nnanobanana:\n  social:\n    prompt: " + "x" * 20_001 + "\n---\n# C\n")
        site.page("d.md", f"---\ntitle: {long_title}\n---\n# D\n")
        site.page("e.md", "---\nnanobanana:\n  social: {prompt: Not a ratio, ratio: [16, 9]}\n---\n# E\n")
        monkeypatch.setenv("NANOBANANA_API_KEY", KEY)
        site.build()
        sent = {r.json()["prompt"]: r.json()["image_size"] for r in api.generate_requests}
    assert sent == {"Unquoted ratio": "16:9", "Wide": "4:3"}  # c, d, e: no request, no pay
    said = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    too_long = "nanobanana: docs/c.md:2: front matter nanobanana.social.prompt: 'prompt' is 20,001 characters"
    assert any(m.startswith(too_long) for m in said), said
    assert any(m.startswith("nanobanana: docs/d.md:") and "social.prompt_template" in m and "keep it under 20,000" in m
               for m in said), said
    assert any(m.startswith("nanobanana: docs/e.md:2: front matter nanobanana.social.ratio") for m in said), said


@pytest.mark.parametrize("source, title", [
    ("```sh\n# install it\npip install x\n```\n\n# Real title\n", "Real title"),
    ("Intro text.\n\nA setext title\n==============\n\nBody.\n", "A setext title"),
    ("# The `foo` **bar** [link](x.md) { #anchor }\n", "The foo bar link"),
    ("~~~~\n# not this\n~~~\n# nor this\n~~~~\n\n# This one\n", "This one"),
    ("    # indented code, not a heading\n\n# Heading\n", "Heading"),
])
def test_card_title_is_the_heading_a_reader_sees(site, source, title):
    """Issue 19 item 5: a `# comment` in a code block is no title, a setext heading is one,
    and inline markup is not printed; through a real build, read back from the tags."""
    site.configure({"social": {"generate": True}}, site_url="https://example.org/")
    site.page("a.md", source)
    site.build()
    assert tags(site.html("a/index.html"))["og:image:alt"] == [title]


def test_the_full_tag_set_of_materials_social_plugin(site):
    """Issue 19 item 3: type, title, description, URL and site name besides the image, and
    a blog post's dates; a tag the page already has is never written twice."""
    (site.root / "overrides").mkdir()
    (site.root / "overrides" / "main.html").write_text(
        '{% extends "base.html" %}{% block extrahead %}'
        '<meta property="og:site_name" content="Theme wrote it">{% endblock %}')
    site.configure({"social": {"generate": True}}, site_url="https://example.org/blog/", site_name="Rainy Day",
                   site_description="A site.", theme={"name": "mkdocs", "custom_dir": "overrides"})
    site.page("posts/my post.md",
              "---\ndate:\n  created: 2026-11-02\n  updated: 2026-11-05\ndescription: About a nook.\n---\n# A nook\n")
    site.page("about.md", "# About\n")
    site.page("index.md", "# Rainy Day\n")
    site.build()
    post = tags(site.html("posts/my post/index.html"))
    assert post["og:type"] == ["article"] and post["og:title"] == ["A nook - Rainy Day"] == post["twitter:title"]
    assert post["og:description"] == ["About a nook."] == post["twitter:description"]
    assert post["og:url"] == ["https://example.org/blog/posts/my%20post/"]
    assert post["article:published_time"] == ["2026-11-02"] and post["article:modified_time"] == ["2026-11-05"]
    assert post["og:site_name"] == ["Theme wrote it"]  # not duplicated: the theme's stays alone
    about = tags(site.html("about/index.html"))
    assert about["og:type"] == ["website"] and about["og:description"] == ["A site."]
    assert "article:published_time" not in about
    assert tags(site.html("index.html"))["og:title"] == ["Rainy Day"]  # the site name once


def test_first_image_cards_cost_no_extra_request(site, monkeypatch):
    """Issue 19 item 9: social.source: first_image gives a page with an image a card from it,
    for no extra request; a page without one gets none (and costs nothing)."""
    from tests.fakeapi import FakeAPI
    from tests.support.live import KEY

    with FakeAPI() as api:
        site.configure({"api_base": api.base, "social": {"source": "first_image"}}, site_url="https://example.org/")
        site.page("a.md", "# A\n\n```nanobanana\nprompt: First\n```\n\n```nanobanana\nprompt: Second\n```\n")
        site.page("b.md", "# B\n\nNo image.\n")
        monkeypatch.setenv("NANOBANANA_API_KEY", KEY)
        site.build()
        assert sorted(r.json()["prompt"] for r in api.generate_requests) == ["First", "Second"]
    assert tags(site.html("a/index.html"))["og:image"] == ["https://example.org/assets/nanobanana/social/a.jpg"]
    assert (site.site / "assets/nanobanana/social/a.jpg").is_file()
    assert "og:image" not in tags(site.html("b/index.html"))


@pytest.mark.parametrize("options, carded", [
    ({"source": "generate", "cards_exclude": ["drafts/*"]}, {"index", "blog/post", "about"}),
    ({"source": "generate", "cards_include": ["blog/*"]}, {"blog/post", "blog/own"}),
    ({"generate": True, "cards_include": ["blog/*"], "cards_exclude": ["*/own.md"]}, {"blog/post", "blog/own"}),
])
def test_cards_include_and_exclude(site, options, carded):
    """Issue 19 item 8: globs over src paths decide which pages get a card they did not ask
    for; a page's own choice (front matter, a social: true directive) stands either way,
    and front matter `social: {cards: false}` (Material's) or ours turns a card off."""
    site.configure({"social": options}, site_url="https://example.org/")
    site.page("index.md", "# Home\n")
    site.page("about.md", "# About\n")
    site.page("drafts/wip.md", "# WIP\n")
    site.page("blog/post.md", "# Post\n")
    site.page("blog/own.md", "---\nnanobanana:\n  social: {prompt: My own card}\n---\n# Own\n")
    site.page("blog/quiet.md", "---\nsocial:\n  cards: false\n---\n# Quiet\n")
    site.page("blog/ours-off.md", "---\nnanobanana:\n  social: {cards: false}\n---\n# Off\n")
    site.build()
    got = {p.relative_to(site.site / "assets/nanobanana/social").with_suffix("").as_posix()
           for p in (site.site / "assets/nanobanana/social").rglob("*.jpg")}
    assert got == carded | {"blog/own"}


def test_plan_says_a_renamed_page_pays_for_a_new_card_background(site, monkeypatch):
    """Issue 26: with `{title}` in the card prompt template, renaming a page is a new
    paid image (40 images, 80 credits on a title sweep). `plan` says so, and why."""
    import json

    from tests.fakeapi import FakeAPI
    from tests.support.commands import bin_path, run
    from tests.support.live import KEY

    with FakeAPI() as api:
        social = {"generate": True, "prompt_template": "Art for {title}: {description}"}
        site.configure({"api_base": api.base, "social": social},
                       site_description="Site words")
        site.page("a.md", "# Alpha\n")
        site.page("b.md", "---\ndescription: Beta words\n---\n# Beta\n")
        site.page("c.md", "---\nnanobanana:\n  social: {prompt: A fixed card}\n---\n# Gamma\n")
        monkeypatch.setenv("NANOBANANA_API_KEY", KEY)
        site.build()
        assert len(api.generate_requests) == 3
    site.page("a.md", "# Alpha, renamed\n")
    site.page("b.md", "---\ndescription: Beta's new words\n---\n# Beta\n")
    site.page("c.md", "---\nnanobanana:\n  social: {prompt: A fixed card}\n---\n# Gamma, renamed\n")
    plan = json.loads(run([bin_path("nanobanana"), "plan", "--json"], cwd=site.root).stdout)
    rows = {r["where"].split(":")[0]: r for r in plan["directives"]}
    assert rows["docs/a.md"]["state"] == "changed" and rows["docs/a.md"]["credits"] == 2
    assert rows["docs/a.md"]["note"] == "social card, new background: the title changed ('Alpha' -> 'Alpha, renamed')"
    assert rows["docs/b.md"]["note"] == ("social card, new background: the description changed "
                                         "('Beta words' -> \"Beta's new words\")")
    assert rows["docs/c.md"]["state"] == "cached" and rows["docs/c.md"]["credits"] == 0  # its prompt has no title
    text = run([bin_path("nanobanana"), "plan"], cwd=site.root).stdout
    assert ("changed  -              gemini-2.5-flash-image     16:9  x1  2 credits "
            "(social card, new background: the title changed") in text
