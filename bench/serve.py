"""Figure 8: `mkdocs serve`'s rebuild after one save, plugin on vs off.

A real `mkdocs serve` in its own process on 127.0.0.1, as a user runs it. One page is
saved (a sentence added), MkDocs notices and rebuilds, and logs "Documentation built in
X seconds" when done: that X, MkDocs' own clock around the whole rebuild, is what is
compared; the watcher's delay before it starts is the same with the plugin or without.
A save that changes a prompt is timed the same way, and the page is then fetched over
HTTP to check it shows the placeholder: serve never waits for the network.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

BUILT_RE = re.compile(r"Documentation built in ([0-9.]+) seconds")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Served:
    """`mkdocs serve -f <config>` in a subprocess, its log read as it comes."""

    def __init__(self, config: Path, env: dict[str, str]) -> None:
        self.port = free_port()
        self.proc = subprocess.Popen(
            # -W: MkDocs puts a DuplicateFilter on its build logger unless sys.warnoptions is
            # set (mkdocs/__main__.py, _enable_warnings), and it drops a "Documentation built
            # in 0.06 seconds" that repeats an earlier build's time: on a small site most do
            [sys.executable, "-W", "default::DeprecationWarning", "-m", "mkdocs", "serve", "-f", str(config),
             "-a", f"127.0.0.1:{self.port}"],
            cwd=config.parent, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        )
        self.lines: list[str] = []
        self._changed = threading.Condition()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        for line in self.proc.stdout:
            with self._changed:
                self.lines.append(line.rstrip())
                self._changed.notify_all()

    def builds(self) -> list[float]:
        """MkDocs' own time of each build so far, the first (startup) one included."""
        return [float(m.group(1)) for m in map(BUILT_RE.search, list(self.lines)) if m]

    def wait_builds(self, count: int, timeout: float) -> list[float]:
        deadline = time.monotonic() + timeout
        with self._changed:
            while len(self.builds()) < count:
                left = deadline - time.monotonic()
                if left <= 0 or self.proc.poll() is not None:
                    raise RuntimeError(f"serve did not build {count} times:\n" + "\n".join(self.lines[-40:]))
                self._changed.wait(min(left, 0.5))
        return self.builds()

    def get(self, path: str) -> str:
        with urllib.request.urlopen(f"http://127.0.0.1:{self.port}{path}", timeout=10) as r:
            return r.read().decode("utf-8")

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def save(page: Path, text: str) -> None:
    """A save as an editor makes it; the mtime moves even within one clock tick."""
    page.write_text(text, encoding="utf-8")
    now = time.time()
    os.utime(page, (now, now))


def save_and_wait(server: Served, page: Path, text: str, timeout: float) -> float:
    """Save ``page`` and MkDocs' time of the rebuild it causes (the next build to finish).
    A save that lands while MkDocs builds makes it build once more (livereload's
    _want_rebuild), so every save gets its line."""
    time.sleep(1.0)  # apart from the last build's end, so each save is its own rebuild
    count = len(server.builds()) + 1
    save(page, text)
    return server.wait_builds(count, timeout)[count - 1]


def rebuilds(config: Path, env: dict[str, str], page: Path, saves: int, timeout: float,
             prompt_edit: tuple[Path, str] | None = None) -> dict:
    """Serve ``config``, save ``page`` ``saves`` times (a sentence added each time), and
    MkDocs' time of each rebuild; with ``prompt_edit`` (a page and its new text) one
    more save, timed alike, and whether that page then shows a placeholder."""
    original = page.read_text(encoding="utf-8")
    server = Served(config, env)
    try:
        server.wait_builds(1, timeout)
        times = []
        for i in range(saves):
            times.append(save_and_wait(server, page, original + f"\nSaved again, {i}.\n", timeout))
        out: dict = {"rebuild_s": times}
        if prompt_edit is not None:
            edited, text = prompt_edit
            out["prompt_edit_s"] = save_and_wait(server, edited, text, timeout)
            url = "/" + edited.relative_to(config.parent / "docs").with_suffix("").as_posix() + "/"
            out["placeholder_shown"] = "nanobanana-placeholder" in server.get(url)
        return out
    finally:
        server.stop()
        page.write_text(original, encoding="utf-8")
