"""What is paid for, as a value: a ``Request`` (everything that changes the pixels) and
its cache key, the sha256 of its canonical JSON. The store names entries by it and the
providers are handed it, so it lives here, below both."""

from __future__ import annotations

import functools
import hashlib
import json
from typing import Any

from .frozen import frozen

__all__: list[str] = []


def canonical_json(value: Any) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


STYLE_SEPARATOR = "\n\n"


def styled(prompt: str, style: str) -> str:
    """The prompt as sent and paid for: the house style (option ``style``, or the page's
    own) after it, so that a new style is a new image (a new key)."""
    return f"{prompt}{STYLE_SEPARATOR}{style}" if style else prompt


def style_of(sent: str, prompt: str) -> str | None:
    """The style ``sent`` was made of ``prompt`` with ("" for none); None if it was not."""
    if sent == prompt:
        return ""
    return sent[len(prompt) + len(STYLE_SEPARATOR):] if sent.startswith(prompt + STYLE_SEPARATOR) else None


@frozen
class Request:
    """What is paid for: everything that changes the pixels, and nothing else."""

    model: str
    prompt: str
    ratio: str
    num: int = 1
    refs: tuple[str, ...] = ()  # sha256 of each reference image's bytes, in order
    rev: int = 0

    @functools.cached_property  # asked several times a slot; computed once (it sits outside the fields)
    def key(self) -> str:
        return sha256(canonical_json({
            "model": self.model, "prompt": self.prompt, "ratio": self.ratio,
            "num": self.num, "refs": list(self.refs), "rev": self.rev,
        }))
