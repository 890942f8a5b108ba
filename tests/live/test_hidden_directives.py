"""Issue 18 items 8 and 9: a directive nobody can see is not paid for, and one in a
blockquote is a figure in that blockquote. Real builds against the fake API: the
requests it received are what a user pays for."""

from __future__ import annotations

import re

import pytest

from mkdocs_nanobanana.core.directives import scan
from tests.support.directives import directive
from tests.support.html import figures
from tests.support.logs import warnings


def indented(prefix: str, text: str) -> str:
    """``text`` with ``prefix`` before each of its lines."""
    return "".join(prefix + line + "\n" for line in text.splitlines())


HIDDEN = {
    "in a comment": "<!--\n" + directive("in a comment") + "-->\n",
    "in an indented comment": "  <!-- draft:\n" + directive("in an indented comment") + "\n  -->\n",
    "in a comment in a list": ("- item\n\n    <!--\n" + indented("    ", directive("in a comment in a list"))
                               + "    -->\n"),
    "in indented code": "Shown as code:\n\n" + indented("    ", directive("in indented code")),
    "in indented code in a list": ("- item\n\n    text\n\n"
                                   + indented("        ", directive("in indented code in a list"))),
}
SHOWN = {
    "quoted": "> A quote:\n>\n" + indented("> ", directive("quoted")),
    "quoted without spaces": indented(">", directive("quoted without spaces")),
    "quoted twice": "> > Nested:\n> >\n" + indented("> > ", directive("quoted twice")),
    "after a comment": "<!-- a one-line comment -->\n\n" + directive("after a comment"),
    "in a list": "- item\n\n" + indented("    ", directive("in a list")),
    "after a closed comment": "<!--\nnotes\n-->\n\n" + directive("after a closed comment"),
}


def test_scan_finds_only_what_readers_see():
    for prompt, text in HIDDEN.items():
        assert scan(text, "docs/a.md") == ([], []), prompt
    for prompt, text in SHOWN.items():
        blocks, errors = scan(text, "docs/a.md")
        assert len(blocks) == 1 and not errors and prompt in blocks[0].body, prompt


@pytest.mark.parametrize("extensions", [[], ["pymdownx.superfences"]])
def test_hidden_directives_cost_nothing_and_quoted_ones_are_figures(live, api, caplog, extensions):
    live.configure({"api_base": api.base}, markdown_extensions=extensions)
    # a paragraph between blocks, or Markdown joins adjacent blockquotes into one
    live.page("a.md", "# A\n\n" + "\n\nBetween.\n\n".join(list(HIDDEN.values()) + list(SHOWN.values())))
    live.build()
    assert sorted(r.json()["prompt"] for r in api.generate_requests) == sorted(SHOWN)
    html = live.html("a/index.html")
    assert len(figures(html)) == len(SHOWN)
    visible = re.sub(r"<!--.*?-->", "", html, flags=re.S)
    assert len(figures(visible)) == len(SHOWN)  # no figure hidden in a comment
    quotes = re.findall(r"<blockquote>.*?</blockquote>", html, flags=re.S)  # the nested one: its outer part
    assert [len(figures(q)) for q in quotes] == [1, 1, 1]
    assert "prompt: in indented code" in html  # shown as code, as the writer meant
    assert warnings(caplog) == []


@pytest.mark.parametrize("fences", [[], ["pymdownx.superfences"]])
def test_a_directive_from_a_snippet_include_is_named(live, api, caplog, fences):
    """pymdownx.snippets pastes files in after the plugin has read the page: a directive
    that arrives that way cannot be generated; say so with the page, not a YAML listing."""
    live.configure({"api_base": api.base},
                   markdown_extensions=[{"pymdownx.snippets": {"base_path": [str(live.docs)]}}, *fences])
    (live.docs / "parts").mkdir()
    (live.docs / "parts" / "shared.txt").write_text(directive("from a snippet"))
    live.page("a.md", "# A\n\n--8<-- \"parts/shared.txt\"\n\n" + directive("on the page"))
    live.build()
    assert [r.json()["prompt"] for r in api.generate_requests] == ["on the page"]
    said = [m for m in warnings(caplog) if "include" in m]
    assert len(said) == 1 and said[0].startswith("nanobanana: docs/a.md: ")
    assert "put the directive in the page" in said[0]
