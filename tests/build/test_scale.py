"""Issue 26 item 3: what `plan`, `generate`, `review` and `prune` compute is linear in pages
and images. Counted in Python function calls (sys.setprofile), not seconds: four times the
pages must cost about four times the calls; a quadratic step (a list scanned for every row,
as `plan` once scanned every card slot for each directive) would cost sixteen."""

from __future__ import annotations

import sys
from dataclasses import replace

from mkdocs_nanobanana.build.plan import plan
from mkdocs_nanobanana.core.pages import PageText
from mkdocs_nanobanana.core.settings import SocialSettings
from tests.support.analysis import make_settings, read
from tests.support.directives import fence


def _pages(n: int) -> list[PageText]:
    """n pages, each with two directives (one named, one a ref to it) and a card prompt."""
    return [PageText(f"posts/p{i}.md",
                     f"---\ntitle: Post {i}\nnanobanana:\n  social: {{prompt: Card {i}}}\n---\n"
                     + fence(f"prompt: Image {i}\nname: img{i}") + fence(f'prompt: Refined {i}\nrefs: ["#img{i}"]'))
            for i in range(n)]


def _calls(work) -> int:
    count = 0

    def profile(frame, event, arg):
        nonlocal count
        if event in ("call", "c_call"):
            count += 1

    sys.setprofile(profile)
    try:
        work()
    finally:
        sys.setprofile(None)
    return count


def _cost(tmp_path, n: int) -> dict[str, int]:
    (tmp_path / str(n)).mkdir()
    s = make_settings(tmp_path / str(n), social=replace(SocialSettings(), generate=True))
    analysis, _ = read(s, _pages(n))
    return {
        "plan": _calls(lambda: plan(analysis)),
        "keys_in_use": _calls(analysis.keys_in_use),
        "sources_in_use": _calls(analysis.sources_in_use),
        "read": _calls(lambda: read(s, _pages(n))),
    }


def test_queries_are_linear_in_pages(tmp_path):
    small, large = _cost(tmp_path, 100), _cost(tmp_path, 400)
    for query in small:
        ratio = large[query] / small[query]
        assert ratio < 5, f"{query}: {small[query]} calls at 100 pages, {large[query]} at 400 ({ratio:.1f}x)"
