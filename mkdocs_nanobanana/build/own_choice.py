"""What a page's front matter says of its own pictures (``nanobanana: {responsive_images:
false}``), read by both hosts and the build's first scan: small, so a build with
``responsive_images`` off loads none of the pictures' own code (build/own_images.py)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..cards.social import front_matter_mentions_us, read_page

__all__: list[str] = []


def wants_own_pictures(meta: Mapping[str, Any]) -> bool:
    """Whether a page whose front matter (as the host resolved it) is ``meta`` has its own
    pictures made responsive (with the site's ``responsive_images``): not if it says
    ``nanobanana: {responsive_images: false}``, nor if it says anything but true or
    false there (``front_matter_problem`` tells the user; the pictures stay as written)."""
    block = meta.get("nanobanana")
    return not (isinstance(block, dict) and "responsive_images" in block and block["responsive_images"] is not True)


def front_matter_problem(text: str) -> tuple[int, str] | None:
    """(line, message) if the page's front matter gives ``nanobanana.responsive_images``
    a value other than true or false (``"no"``, ``off`` in quotes, 0, a list)."""
    if "responsive_images" not in text or not front_matter_mentions_us(text):
        return None
    info = read_page(text, "")
    block = info.meta.get("nanobanana")
    if not isinstance(block, dict) or "responsive_images" not in block or isinstance(block["responsive_images"], bool):
        return None
    lines = text.split("\n")
    line = next((i for i, t in enumerate(lines[:200], start=1) if t.lstrip().startswith("responsive_images")),
                info.meta_line)
    return line, (f"front matter nanobanana.responsive_images is {block['responsive_images']!r}: it takes false (this "
                  "page's pictures stay as written) or true (the site's responsive_images applies); write one of them "
                  "or remove the key. Until then this page's pictures stay as written")
