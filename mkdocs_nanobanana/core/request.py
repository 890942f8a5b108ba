"""What is paid for, as a value: a ``Request`` (everything that changes the pixels) and
its cache key, the sha256 of its canonical JSON. The store names entries by it and the
providers are handed it, so it lives here, below both."""

from __future__ import annotations

import functools
import hashlib
import json
from dataclasses import dataclass
from typing import Any

__all__: list[str] = []


def canonical_json(value: Any) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@dataclass(frozen=True)
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
