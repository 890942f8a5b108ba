"""Spend you can see while it happens: while a live build (or serve's background) buys
more than a few images, one line now and then says how far it is and what it has spent:

    nanobanana: 12/64 images, 24 credits so far, 8 in flight

A clock, not the purchases, decides when: at most one line every ``PROGRESS_INTERVAL``
seconds however many images land meanwhile, and none when nothing changed since the last
one. It goes through the host's INFO log (core/reporting.Reporter.info), never as a
warning, so ``mkdocs build --strict`` does not fail on it. `nanobanana generate` shows its
progress bar instead.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable

from .purchase import Buyer

__all__: list[str] = []

#: Seconds between two progress lines at most. MkDocs prints every INFO line: one every
#: 3 s is at most 20 a minute, often enough to show a paid build is alive and what it
#: has spent, rare enough not to bury its warnings; a build that buys its images within
#: one interval prints none (its summary line says it all).
PROGRESS_INTERVAL = 3.0
#: Up to this many images to buy, no progress line: the summary comes soon enough.
FEW_IMAGES = 3


class Progress:
    """The progress lines of one Buyer's purchases (a build's, or a serve session's
    background generator's); ``expect`` says how many more images were approved."""

    def __init__(self, buyer: Buyer, say: Callable[[str], None], interval: float = PROGRESS_INTERVAL) -> None:
        self.buyer = buyer
        self.say = say
        self.interval = interval
        self._keys: set[str] = set()  # the images approved for purchase so far (serve approves some again)
        self._bought_before = sum(1 for s in buyer.status.values() if s == "generated")
        self._last = ""
        self._lock = threading.Lock()
        self._done = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def total(self) -> int:
        return len(self._keys)

    def expect(self, keys: Iterable[str]) -> None:
        """The images of ``keys`` are to be bought (a key approved again is one image); the
        lines start once they are more than a few."""
        with self._lock:
            self._keys.update(keys)
            if self._thread is None and self.total > FEW_IMAGES and not self._done.is_set():
                self._thread = threading.Thread(target=self._run, name="nanobanana-progress", daemon=True)
                self._thread.start()

    def line(self) -> str:
        b = self.buyer
        bought = sum(1 for s in list(b.status.values()) if s == "generated") - self._bought_before
        return f"{bought}/{self.total} images, {b.credits_spent} credits so far, {b.in_flight} in flight"

    def _run(self) -> None:
        while not self._done.wait(self.interval):
            now = self.line()
            if now != self._last:  # nothing new: say nothing
                self._last = now
                self.say(now)

    def close(self) -> None:
        """No line from now on (the summary follows)."""
        self._done.set()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(1)
