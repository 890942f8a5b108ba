"""Crash consistency: SIGKILL live builds at random moments, then check the cache.

    pytest tests/safety/test_crash.py                  # the short version (3 kills), in the default run
    pytest -m slow tests/safety/test_crash.py          # 50 kills
    python -m tests.safety.test_crash --trials 50      # the same, printing the figures of docs/reliability.md

Each trial writes new prompts (so every build is cold), starts `mkdocs build` in live
mode against the fake API, and kills it with SIGKILL after a random delay. After each
kill every cache entry must verify. After the last, one complete build must remove the
killed builds' temp files and pay exactly for the images not yet in the cache.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

from tests.fakeapi import FakeAPI
from tests.support.commands import bin_path
from tests.support.sites import Site

IMAGES_PER_TRIAL = 8
RATIOS = ["1:1", "16:9", "4:3"]


def write_trial(site: Site, trial: int) -> None:
    for p in range(2):
        blocks = "".join(
            f"```nanobanana\nprompt: Trial {trial} page {p} image {i}\nratio: \"{RATIOS[i % 3]}\"\n```\n\n"
            for i in range(IMAGES_PER_TRIAL // 2)
        )
        site.page(f"p{p}.md", f"# Page {p}\n\n{blocks}")


def stress(root: Path, trials: int, seed: int = 7) -> dict:
    rng = random.Random(seed)
    site = Site(root)
    site.docs.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "NANOBANANA_API_KEY": "crash-test-key", "NANOBANANA_MODE": "live"}
    figures = {"trials": trials, "corrupt_entries": 0, "entries_after_kills": 0, "temp_files_left_by_kills": 0,
               "requests_during_kills": 0, "final_build_requests": 0, "final_build_missing": 0,
               "temp_files_after_next_build": 0}
    with FakeAPI(latency=0.25, jitter=0.1) as api:
        site.configure({"api_base": api.base, "concurrency": 3, "timeout": 10})
        for trial in range(trials):
            write_trial(site, trial)
            proc = subprocess.Popen([bin_path("mkdocs"), "build", "-q"], cwd=root, env=env,
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            time.sleep(rng.uniform(0.3, 2.0))  # start-up takes ~0.6 s: kills land before, during and after
            proc.send_signal(signal.SIGKILL)
            proc.wait()
            figures["corrupt_entries"] += len(site.cache.verify_entries())
        figures["entries_after_kills"] = sum(1 for _ in site.cache.keys())
        figures["temp_files_left_by_kills"] = len(list(site.cache.root.rglob("*.tmp")))
        figures["requests_during_kills"] = len(api.generate_requests)
        # the next complete build: cleans up, pays only for what is missing
        cached = set(site.cache.keys())
        before = len(api.generate_requests)
        done = subprocess.run([bin_path("mkdocs"), "build"], cwd=root, env=env, capture_output=True, text=True,
                              timeout=300)
        assert done.returncode == 0, done.stderr
        from mkdocs_nanobanana.core.request import Request

        wanted = {Request("gemini-2.5-flash-image", f"Trial {trials - 1} page {p} image {i}", RATIOS[i % 3]).key
                  for p in range(2) for i in range(IMAGES_PER_TRIAL // 2)}
        figures["final_build_requests"] = len(api.generate_requests) - before
        figures["final_build_missing"] = len(wanted - cached)
        figures["temp_files_after_next_build"] = len(list(site.cache.root.rglob("*.tmp")))
        # a temp file goes only once older than any live write could be (an hour here):
        # age them, and the next build removes every one
        for tmp in site.cache.root.rglob("*.tmp"):
            os.utime(tmp, (time.time() - 3700, time.time() - 3700))
        done = subprocess.run([bin_path("mkdocs"), "build"], cwd=root, env=env, capture_output=True, text=True,
                              timeout=300)
        assert done.returncode == 0, done.stderr
        figures["temp_files_an_hour_later"] = len(list(site.cache.root.rglob("*.tmp")))
        figures["corrupt_entries"] += len(site.cache.verify_entries())
    return figures


def check(figures: dict) -> None:
    assert figures["corrupt_entries"] == 0, figures
    assert figures["temp_files_after_next_build"] <= figures["temp_files_left_by_kills"], figures
    assert figures["temp_files_an_hour_later"] == 0, figures
    assert figures["final_build_requests"] == figures["final_build_missing"], figures


def test_a_few_kills(tmp_path):
    check(stress(tmp_path / "site", trials=3))


@pytest.mark.slow
def test_fifty_kills(tmp_path):
    figures = stress(tmp_path / "site", trials=50)
    print(json.dumps(figures, indent=2))
    check(figures)


if __name__ == "__main__":
    import argparse

    ap = argparse.ArgumentParser()
    ap.add_argument("--trials", type=int, default=50)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        started = time.monotonic()
        result = stress(Path(tmp) / "site", args.trials)
        result["seconds"] = round(time.monotonic() - started, 1)
    print(f"command: python -m tests.safety.test_crash --trials {args.trials}")
    print(json.dumps(result, indent=2))
    check(result)
