"""Issue 36 item 7: a house style. `style:` (the site's) or front matter
`nanobanana: {style: ...}` (a page's) ends every prompt sent, directives' and generated
card images' alike, and is part of the cache key; `nanobanana plan` says what a style
change would buy again, and what it costs, before anything is paid. Real builds against
the fake API: the prompts it received, and how many."""

from __future__ import annotations

import json

from tests.support.commands import bin_path, run
from tests.support.directives import directive
from tests.support.live import KEY
from tests.support.logs import warnings


def prompts(api) -> list[str]:
    return sorted(r.json()["prompt"] for r in api.generate_requests)


def plan(site) -> dict:
    proc = run([bin_path("nanobanana"), "plan", "--json"], cwd=site.root, check=False)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def style_site(site, api, style: str) -> None:
    site.configure({"api_base": api.base, "style": style, "social": {"source": "none"}})
    site.page("a.md", "# A\n\n" + directive("A lighthouse"))
    site.page("b.md", "---\nnanobanana:\n  style: a pencil sketch\n---\n# B\n\n" + directive("A harbour"))
    site.page("c.md", "---\nnanobanana:\n  style: ''\n---\n# C\n\n" + directive("A boat"))


def test_the_style_ends_every_prompt_and_a_change_is_planned_first(live, api, warnings_log):
    site = live
    style_site(site, api, "in watercolour, soft light")
    site.build()
    assert prompts(api) == ["A boat", "A harbour\n\na pencil sketch", "A lighthouse\n\nin watercolour, soft light"]
    site.build()
    assert len(api.generate_requests) == 3, "warm: nothing bought again"
    # a new site style: plan says which images it buys again, and their cost, before a build pays
    style_site(site, api, "as an oil painting")
    rows = {r["where"].split(":")[0]: r for r in plan(site)["directives"]}
    assert rows["docs/a.md"]["state"] == "changed" and rows["docs/a.md"]["credits"] > 0
    assert rows["docs/a.md"]["note"] == ("new image: the style changed ('in watercolour, soft light' -> "
                                         "'as an oil painting')")
    assert rows["docs/b.md"]["state"] == rows["docs/c.md"]["state"] == "cached"  # their own style holds
    assert plan(site)["total_credits"] == rows["docs/a.md"]["credits"]
    assert len(api.generate_requests) == 3, "plan pays nothing"
    site.build()
    assert api.generate_requests[-1].json()["prompt"] == "A lighthouse\n\nas an oil painting"
    assert len(api.generate_requests) == 4
    assert warnings(warnings_log) == []


def test_a_generated_card_image_takes_the_style(live, api):
    site = live
    site.configure({"api_base": api.base, "style": "flat vector art", "social": {"source": "generate"}},
                   site_url="https://example.org/")
    site.page("post.md", "---\ndescription: About boats.\n---\n# Boats\n")
    site.build()
    [sent] = [r.json()["prompt"] for r in api.generate_requests]
    assert "Boats" in sent and sent.endswith("\n\nflat vector art")


def test_a_bad_page_style_is_named(live, api, warnings_log):
    site = live
    site.configure({"api_base": api.base, "social": {"source": "none"}})
    site.page("a.md", "---\ntitle: A\nnanobanana:\n  style: [1, 2]\n---\n# A\n\n" + directive("A lighthouse"))
    site.build()
    said = [w for w in warnings(warnings_log) if "nanobanana.style" in w]
    assert len(said) == 1 and "docs/a.md:3:" in said[0] and "must be a text" in said[0], said
    assert prompts(api) == ["A lighthouse"], "the site's style (none) is used"
    assert KEY not in " ".join(said)
