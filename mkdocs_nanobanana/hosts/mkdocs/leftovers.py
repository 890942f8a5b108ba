"""A Python-Markdown preprocessor that finds directives the plugin never saw.

The plugin reads a page's Markdown in on_page_markdown, before Markdown's own
preprocessors run. pymdownx.snippets (``--8<--``) and its like paste files in later, so a
directive in an included file would reach the page as a listing of its YAML. This
preprocessor runs right after snippets and reports such directives; it changes nothing.
"""

from __future__ import annotations

from collections.abc import Callable

from markdown import Markdown
from markdown.extensions import Extension
from markdown.preprocessors import Preprocessor

from ...core.directives import INFO_WORD, scan

__all__: list[str] = []

#: pymdownx.snippets registers at 32: run just after it, before any fence is rendered.
PRIORITY = 31


class LeftoverDirectives(Extension):
    """Calls ``found(prompts)`` with the first line of each directive left in a page's
    Markdown once includes are pasted in (the ones the plugin saw are tokens by then)."""

    def __init__(self, found: Callable[[list[str]], None]) -> None:
        super().__init__()
        self.found = found

    def extendMarkdown(self, md: Markdown) -> None:  # noqa: N802 (Python-Markdown's name)
        md.preprocessors.register(_Finder(md, self.found), "nanobanana_leftovers", PRIORITY)


class _Finder(Preprocessor):
    def __init__(self, md: Markdown, found: Callable[[list[str]], None]) -> None:
        super().__init__(md)
        self.found = found

    def run(self, lines: list[str]) -> list[str]:
        if any(INFO_WORD in line for line in lines):  # most pages: one cheap pass, no scan
            blocks, _ = scan("\n".join(lines), "")
            if blocks:
                self.found([(b.body.strip().splitlines() or [""])[0][:80] for b in blocks])
        return lines
