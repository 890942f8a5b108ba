"""A user's stop (Ctrl-C, SIGTERM from `kill`, `docker stop` or a cancelled CI job) that
never spends after the stop and never loses what was paid.

    first SIGINT or SIGTERM  no new request is sent; requests in flight are awaited (each
                             is bounded by `timeout`) and their images stored; one line
                             says what was kept and what was never sent. ``on_stop`` does
                             that, then ends the run its own way.
    a second one             exit at once (128 + the signal's number), saying how many
                             paid requests were abandoned; never in the middle of storing
                             a paid image: the exit waits for the store under way.

Python runs a signal handler in the main thread only, and only the main thread may
install one: a host calls ``SignalStop.install`` there (MkDocs builds in its main thread,
`mkdocs serve` rebuilds in it too) and ``restore`` when the run ends.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from types import FrameType

__all__: list[str] = []

SIGNALS = (signal.SIGINT, signal.SIGTERM)
#: The most a second signal waits for an image being stored before it exits anyway.
STORE_GRACE = 10.0


def exit_code(signum: int) -> int:
    """The shell's convention: 130 for SIGINT, 143 for SIGTERM."""
    return 128 + signum


def signal_name(signum: int) -> str:
    return signal.Signals(signum).name


class Stores:
    """Paid images being written into the cache. A hard exit waits until none is (a
    write in progress is finished, no new one starts), so an answer that arrived before
    the exit is in the cache, whole."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._writing = 0
        self._closed = False

    @contextlib.contextmanager
    def storing(self) -> Iterator[None]:
        with self._cond:
            while self._closed:  # the process is about to exit: this write never starts
                self._cond.wait()
            self._writing += 1
        try:
            yield
        finally:
            with self._cond:
                self._writing -= 1
                self._cond.notify_all()

    def drain(self, timeout: float = STORE_GRACE) -> bool:
        """Let no new write start and wait for those under way; True if none is left."""
        with self._cond:
            self._closed = True
            return self._cond.wait_for(lambda: self._writing == 0, timeout)


#: One per process: a hard exit stops the whole process, whoever is writing.
STORES = Stores()


class SignalStop:
    """SIGINT and SIGTERM handlers for the life of one run (a build, a `generate`, a
    serve session). ``on_stop(signum)`` handles the first signal (and should end with an
    exception that ends the run); ``abandoned()`` counts the paid requests a hard exit
    would leave unstored; ``say`` prints a line."""

    def __init__(self, on_stop: Callable[[int], None], abandoned: Callable[[], int],
                 say: Callable[[str], None]) -> None:
        self.on_stop = on_stop
        self.abandoned = abandoned
        self.say = say
        self.signum: int | None = None  # the first signal received
        # what signal.getsignal returns: a function, SIG_DFL or SIG_IGN, or None (not set from Python)
        self._previous: dict[int, Callable[[int, FrameType | None], object] | int | None] = {}

    def install(self) -> bool:
        """Handle SIGINT and SIGTERM from now on; False (and nothing done) outside the
        main thread, where Python cannot install a handler."""
        if threading.current_thread() is not threading.main_thread():
            return False
        for sig in SIGNALS:
            self._previous[sig] = signal.getsignal(sig)
            signal.signal(sig, self._handle)
        return True

    def restore(self) -> None:
        """Put back the handlers found at ``install``."""
        if threading.current_thread() is not threading.main_thread():
            return
        for sig, handler in self._previous.items():
            signal.signal(sig, handler if handler is not None else signal.SIG_DFL)
        self._previous = {}

    def _handle(self, signum: int, _frame) -> None:
        if self.signum is not None:
            self.hard_exit(signum)
        self.signum = signum
        self.on_stop(signum)

    def hard_exit(self, signum: int) -> None:
        n = self.abandoned()
        self.say(f"{signal_name(signum)} again: exiting now; {n} paid request(s) in flight abandoned "
                 "(they may be charged, and their images are not kept)")
        STORES.drain()
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(Exception):
                stream.flush()
        os._exit(exit_code(signum))
