"""`mkdocs serve` for real: a subprocess on a free port, pages fetched over HTTP, prompts
edited on disk, against the fake API.

A page with a missing image is served at once with a placeholder; the image is generated
in the background and the server rebuilds when it lands; a prompt saved several times in
a row is paid for once, in its last form; an idle server does not rebuild.
"""

from __future__ import annotations

import time

import pytest

from tests.support.directives import directive
from tests.support.serve import Server, free_port


def placeholder(fig) -> bool:
    return "nanobanana-placeholder" in fig["class"]


def real(fig) -> bool:
    return not placeholder(fig)


@pytest.fixture
def serve_site(site, api):
    site.configure({"api_base": api.base, "serve_debounce": 1.0, "concurrency": 2, "retries": 0})
    site.page("index.md", "# Home\n")
    return site


@pytest.mark.parametrize("host", ["mkdocs", "properdocs"])
def test_serve_shows_a_placeholder_at_once_then_the_image_and_never_loops(serve_site, api, host):
    api.latency = 1.0
    page = serve_site.page("a.md", "# A\n\n" + directive("First prompt"))
    server = Server(host, serve_site, free_port())
    try:
        fig = server.wait_for("/a/", lambda f: True, what="the first page")
        # a placeholder while the API takes 1 s: the build did not wait on the network (the
        # request itself may already be out: the debounce counts from the file's save)
        assert placeholder(fig) and fig["img"]["alt"] == "First prompt"
        assert len(api.generate_requests) <= 1
        server.wait_for("/a/", real, what="the generated image")
        assert [r.json()["prompt"] for r in api.generate_requests] == ["First prompt"]

        # an edited prompt: the placeholder first again, then its image
        page.write_text("# A\n\n" + directive("Second prompt"))
        fig = server.wait_for("/a/", lambda f: f["img"]["alt"] == "Second prompt", what="the edit")
        assert placeholder(fig)
        server.wait_for("/a/", real, what="the second image")

        # idle: nothing is written where the server looks, so nothing rebuilds
        time.sleep(1.0)
        builds = server.builds
        time.sleep(4.0)
        assert server.builds == builds, server.log()
        assert [r.json()["prompt"] for r in api.generate_requests] == ["First prompt", "Second prompt"]
        assert sorted(p.name for p in serve_site.docs.iterdir()) == ["a.md", "index.md"]
    finally:
        server.stop()  # SIGTERM: stops as Ctrl-C does
    log = server.log()
    assert "Traceback" not in log
    # issue 20 item 3: the rebuilds say what the session paid, and so does the stop
    assert "; 2 image(s) generated in the background this serve session (4 credits ~ $0.04)" in log, log
    assert ("stopped: 2 image(s) generated in the background this serve session (4 credits ~ $0.04), all kept"
            in log), log


def test_saves_in_a_row_pay_only_for_the_last_prompt(serve_site, api):
    api.latency = 2.0
    page = serve_site.page("a.md", "# A\n\n" + directive("Draft 1"))
    server = Server("mkdocs", serve_site, free_port())
    try:
        server.wait_for("/a/", lambda f: True, what="the first page")
        deadline = time.monotonic() + 20
        while not api.generate_requests and time.monotonic() < deadline:
            time.sleep(0.05)
        assert [r.json()["prompt"] for r in api.generate_requests] == ["Draft 1"]  # in flight now
        for n in (2, 3, 4):  # saved while Draft 1 is being generated, and in quick succession
            page.write_text("# A\n\n" + directive(f"Draft {n}"))
            time.sleep(0.3)
        server.wait_for("/a/", lambda f: f["img"]["alt"] == "Draft 4" and real(f), what="Draft 4's image")
        time.sleep(1.5)  # room for any stray request to show up
        assert [r.json()["prompt"] for r in api.generate_requests] == ["Draft 1", "Draft 4"]
        # Draft 1 was paid for, so it was kept: putting it back costs nothing
        page.write_text("# A\n\n" + directive("Draft 1"))
        server.wait_for("/a/", lambda f: f["img"]["alt"] == "Draft 1" and real(f), what="Draft 1 again")
        assert len(api.generate_requests) == 2
    finally:
        server.stop()
    assert "Traceback" not in server.log()
