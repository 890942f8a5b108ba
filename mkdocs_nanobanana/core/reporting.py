"""Where the core's messages go: one callable given by the host, plus warn-once.

The host decides what a warning is (MkDocs' plugin logger, the CLI's stderr); the core
only says what happened. Some things are worth saying once per build or session however
often they happen (a missing site_url, a spent budget): ``once`` keeps that promise in one
place.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

__all__: list[str] = []


class Reporter:
    def __init__(self, warn: Callable[[str], None] = print) -> None:
        self.warn = warn
        self._said: set[str] = set()
        self._lock = threading.Lock()

    def once(self, topic: str, message: str) -> bool:
        """Warn ``message`` unless ``topic`` was warned about before; True if it was said now."""
        with self._lock:
            if topic in self._said:
                return False
            self._said.add(topic)
        self.warn(message)
        return True
