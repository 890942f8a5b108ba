"""Generation that outlives a build, for `mkdocs serve`: pages never wait on the network.

Each rebuild hands over the images it is missing (``submit``); the set replaces what was
waiting before, so a prompt edited three times in a row is generated once, in its last
form. Work starts ``debounce`` seconds after the newest save the last build read (a
rebuild in progress holds it back), at most ``concurrency``
calls at once, within ``max_credits`` for the whole session. When an image lands in the
cache, ``on_landed`` runs (the plugin touches a file the server watches, so the site is
rebuilt and the browser reloads with the image).

What is already in flight is never cancelled (it is paid for) and never started twice;
a key that failed is not retried until serve restarts (each save would otherwise pay
for another refusal).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from ..core.reporting import Reporter
from .budget import Ask, Budget
from .purchase import Buyer, Purchase

__all__: list[str] = []


def marker_path(cache_dir: str) -> Path:
    """The file touched when an image lands. It is alone in its folder, so watching the
    folder sees nothing else: every other write of a build goes elsewhere."""
    return Path(cache_dir) / "serve" / "landed"


class DeferredGeneration:
    def __init__(self, buyer: Buyer, *, concurrency: int, debounce: float, on_landed: Callable[[], object],
                 report: Reporter, max_credits: int = 0, budget: Budget | None = None,
                 failed: set[str] | None = None) -> None:
        """``budget`` and ``failed`` belong to the serve session: a generator made anew
        after mkdocs.yml changed gets the same ones, so editing the config never resets
        what was spent or retries what failed (``max_credits`` makes a budget of its own)."""
        self.buyer = buyer
        self.debounce = debounce
        self.on_landed = on_landed
        self.report = report
        self.budget = budget if budget is not None else Budget(max_credits)
        self._pool = ThreadPoolExecutor(concurrency, thread_name_prefix="nanobanana-serve")
        self._lock = threading.Lock()
        self._pending: dict[str, Purchase] = {}
        self._running: set[str] = set()
        self._failed = failed if failed is not None else set()
        self._timer: threading.Timer | None = None
        self._closed = False

    @property
    def credits_left(self) -> int:
        return self.budget.left

    def building(self) -> None:
        """A rebuild started (something was saved, or an image landed): nothing waiting
        starts until it hands over what it is missing."""
        with self._lock:
            if self._timer is not None:
                self._timer.cancel()
                self._timer = None

    def submit(self, jobs: dict[str, Purchase], saved_at: float | None = None,
               unchanged: Callable[[], bool] | None = None) -> int:
        """What the latest build is missing; returns how many will be generated. The
        debounce counts from ``saved_at`` (the newest save the build read, time.time()),
        not from the end of the build, which may take seconds; ``unchanged()`` says no
        save came since, else the rebuild that save starts decides instead."""
        with self._lock:
            if self._closed:
                return 0
            self._pending = {k: j for k, j in jobs.items() if k not in self._running and k not in self._failed}
            if self._timer is not None:
                self._timer.cancel()
                self._timer = None
            if self._pending:
                wait = self.debounce if saved_at is None else max(0.0, saved_at + self.debounce - time.time())
                self._timer = threading.Timer(wait, self._start_pending, args=(unchanged,))
                self._timer.daemon = True
                self._timer.start()
            return len(self._pending) + len(self._running)

    def _start_pending(self, unchanged: Callable[[], bool] | None = None) -> None:
        if unchanged is not None and not unchanged():
            return  # saved again meanwhile: the rebuild that follows hands over the new set
        with self._lock:
            if self._closed:
                return
            jobs, self._pending, self._timer = self._pending, {}, None
            approved, over = self.budget.approve(Ask(key, job.credits, job.where) for key, job in jobs.items())
            for ask in approved:
                self._running.add(ask.key)
                self._pool.submit(self._run, jobs[ask.key])
        if over:
            self.report.once("serve budget", (
                f"max_credits ({self.budget.max_credits}) reached for this serve session: {len(over)} image(s) "
                f"stay placeholders, from {over[0].where} on. Restart serve or raise max_credits to continue."))

    def _run(self, job: Purchase) -> None:
        key = job.request.key
        entry = None
        try:
            entry = self.buyer.buy(job.request, job.ref_files, job.where)
        except Exception as exc:  # noqa: BLE001 - a worker must not die silently
            self.report.warn(f"{job.where}: could not generate or store the image ({type(exc).__name__}: {exc})")
        finally:
            with self._lock:
                self._running.discard(key)
                if entry is None:
                    self._failed.add(key)
                if self.buyer.status.get(key) != "generated":
                    self.budget.refund(Ask(key, job.credits, job.where))  # not paid: found in the cache, or failed
        if entry is not None:
            self.on_landed()

    @property
    def busy(self) -> int:
        """Images waiting for the debounce or being generated."""
        with self._lock:
            return len(self._pending) + len(self._running)

    def close(self, why: str | None = None) -> int:
        """Drop what has not started; wait for calls in flight (they are paid for, so their
        images are kept). ``why``: the server is stopping, so no call retries either.
        Returns how many images were dropped before they were sent."""
        if why is not None:
            self.buyer.stop.interrupt(why)
        with self._lock:
            self._closed = True
            if self._timer is not None:
                self._timer.cancel()
            dropped, self._pending = len(self._pending), {}
        self._pool.shutdown(wait=True, cancel_futures=True)
        self.buyer.close()
        with self._lock:  # what is still "running" now was cancelled before it started
            return dropped + len(self._running)

    @property
    def generated(self) -> int:
        return sum(1 for status in self.buyer.status.values() if status == "generated")
