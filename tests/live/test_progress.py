"""Issue 33 item 16: spend you can see while it happens. A live `mkdocs build` that buys
more than a few images prints, now and then, how far it is:

    INFO    -  nanobanana: 4/12 images, 8 credits so far, 2 in flight

at most one line every PROGRESS_INTERVAL seconds however many images, none when nothing
is bought, and `nanobanana generate` keeps its progress bar instead. The fake API's
latency makes a build last a few intervals; real subprocesses, counting POSTs.
"""

from __future__ import annotations

import re
import time

from mkdocs_nanobanana.build.progress import FEW_IMAGES, PROGRESS_INTERVAL
from tests.support.commands import bin_path, run
from tests.support.stops import LIVE, many_pages

LINE = re.compile(r"nanobanana: (\d+)/(\d+) images, (\d+) credits so far, (\d+) in flight")


def timed_build(site) -> tuple[list[re.Match], float, str]:
    began = time.monotonic()
    err = run([bin_path("mkdocs"), "build"], cwd=site.root, env=LIVE).stderr
    return [m for m in map(LINE.search, err.splitlines()) if m], time.monotonic() - began, err


def test_a_build_that_buys_many_images_says_how_far_it_is_at_most_once_an_interval(site, api):
    many_pages(site, api, count=12, concurrency=2, latency=1.0)  # 6 rounds of 2: over 6 s, 2 intervals
    lines, took, err = timed_build(site)
    assert len(api.generate_requests) == 12 and "12 generated (24 credits" in err, err
    assert 1 <= len(lines) <= took / PROGRESS_INTERVAL + 1, (took, err)
    assert all(" - " in line and "INFO" in line for line in err.splitlines() if LINE.search(line)), err
    for m in lines:
        bought, total, credits, in_flight = map(int, m.groups())
        assert total == 12 and credits == 2 * bought and 0 <= in_flight <= 2, m.group(0)
    assert [int(m[1]) for m in lines] == sorted(int(m[1]) for m in lines), "it counts up"

    _, _, warm = timed_build(site)  # nothing to buy: no progress line
    assert len(api.generate_requests) == 12 and not LINE.search(warm)


def test_a_few_images_print_no_progress_line(site, api):
    many_pages(site, api, count=FEW_IMAGES, concurrency=1, latency=PROGRESS_INTERVAL / FEW_IMAGES + 0.3)
    lines, took, err = timed_build(site)
    assert took > PROGRESS_INTERVAL and len(api.generate_requests) == FEW_IMAGES
    assert lines == [], err


def test_generate_keeps_its_progress_bar_and_prints_no_lines(site, api):
    many_pages(site, api, count=FEW_IMAGES + 3, concurrency=1, latency=0.8)
    proc = run([bin_path("nanobanana"), "generate", "--yes"], cwd=site.root, env=LIVE)
    assert len(api.generate_requests) == FEW_IMAGES + 3
    assert "Generating" in proc.stderr and not LINE.search(proc.stderr + proc.stdout), proc.stderr


def test_serve_says_how_far_its_background_is(site, api):
    from tests.support.serve import Server, free_port

    many_pages(site, api, count=8, concurrency=2, latency=1.0, serve_debounce=0.2)  # 4 rounds: over 4 s
    server = Server("mkdocs", site, free_port())
    try:
        server.wait_for("/p00/", lambda f: True, what="the first page")
        began = time.monotonic()
        for i in range(8):
            server.wait_for(f"/p{i:02d}/", lambda f: "nanobanana-placeholder" not in f["class"], what=f"image {i}")
        took = time.monotonic() - began
    finally:
        server.stop()
    log = server.log()
    lines = [m for m in map(LINE.search, log.splitlines()) if m]
    assert len(api.generate_requests) == 8
    assert 1 <= len(lines) <= took / PROGRESS_INTERVAL + 2, log
    assert all(m[2] == "8" and int(m[3]) == 2 * int(m[1]) for m in lines), log
