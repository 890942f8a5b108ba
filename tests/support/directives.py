"""A directive as a page's Markdown holds it."""

from __future__ import annotations

import json


def directive(prompt: str, **keys) -> str:
    """A ```nanobanana block with ``prompt`` and ``keys`` (lists and strings as JSON)."""
    values = [f"{k}: {json.dumps(v) if isinstance(v, (list, str)) else v}" for k, v in keys.items()]
    return "```nanobanana\n" + "\n".join([f"prompt: {prompt}", *values]) + "\n```\n\n"


def fence(body: str) -> str:
    """``body`` (YAML or a plain prompt) in a ```nanobanana fence."""
    return f"```nanobanana\n{body}\n```\n"
