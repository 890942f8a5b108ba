"""A Pygments lexer for ```nanobanana blocks, installed as a ``pygments.lexers`` plugin.

Pygments loads it only when a page asks to highlight a ``nanobanana`` block, which
happens only when no host turned the directive into a figure: under Zensical, a
``plugins: - nanobanana`` it ignores without a word. Being asked is the one moment our
code runs there, so this lexer says what to add (once per build) and then highlights the
block as the YAML it is.
"""

from __future__ import annotations

from typing import ClassVar

from pygments.lexers.data import YamlLexer

from ...core.reporting import Reporter
from .zensical import directive_shown_as_code, host_logger

__all__: list[str] = []

_report = Reporter(host_logger().warning)


class DirectiveLexer(YamlLexer):
    name = "nanobanana directive"
    aliases = ["nanobanana"]
    filenames: ClassVar[list[str]] = []

    def __init__(self, **options) -> None:
        super().__init__(**options)
        directive_shown_as_code(_report.once)
