"""A page as a host hands it to the core: its source path and its text."""

from __future__ import annotations

from .frozen import frozen

__all__: list[str] = []


@frozen
class PageText:
    page: str  # source path relative to docs_dir, POSIX
    text: str
    first_line: int = 1
