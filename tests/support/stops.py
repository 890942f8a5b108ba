"""What tests of a user's stop share: the live environment, many pages, a live process
started, a signal sent once N requests reached the fake API."""

from __future__ import annotations

import os
import subprocess
import time

from tests.support.commands import bin_path
from tests.support.directives import directive
from tests.support.live import KEY

LIVE = {"NANOBANANA_API_KEY": KEY, "NANOBANANA_MODE": "live"}


def prompts(api) -> list[str]:
    return [r.json()["prompt"] for r in api.generate_requests]


def many_pages(site, api, count: int, concurrency: int, latency: float, **plugin) -> list[str]:
    site.configure({"api_base": api.base, "concurrency": concurrency, "retries": 0, "timeout": 10, **plugin})
    api.latency = latency
    names = [f"Image {i:02d}" for i in range(count)]
    for i, name in enumerate(names):
        site.page(f"p{i:02d}.md", f"# Page {i}\n\n" + directive(name))
    return names


def start(site, *cmd: str) -> subprocess.Popen:
    return subprocess.Popen([bin_path(cmd[0]), *cmd[1:]], cwd=site.root, env={**os.environ, **LIVE},
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def wait_for_requests(api, n: int, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while len(api.generate_requests) < n:
        assert time.monotonic() < deadline, f"only {len(api.generate_requests)} request(s) reached the fake"
        time.sleep(0.01)


def signal_after(proc: subprocess.Popen, api, n: int, sig: int) -> float:
    """Send ``sig`` once ``n`` requests reached the fake; when it was sent."""
    wait_for_requests(api, n)
    sent = time.monotonic()
    proc.send_signal(sig)
    return sent
