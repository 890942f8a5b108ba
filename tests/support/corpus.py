"""The hostile Markdown corpus: one bad input a file, read by the directive parser's tests
(tests/core/test_directives.py) and built as one site (tests/hosts/mkdocs/test_hostile.py)."""

from __future__ import annotations

from pathlib import Path

HOSTILE = Path(__file__).resolve().parent / "hostile"
