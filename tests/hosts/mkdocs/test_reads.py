"""Issue 26 item 4: a warm build reads each page's text once and each sidecar once, counted
(every open(), whichever way it is called) in a real in-process `mkdocs build`, not timed.
Issue 22 figure 1: a warm build imports neither Pillow nor the provider clients."""

from __future__ import annotations

import builtins
import io
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from tests.support.commands import REPO
from tests.support.directives import directive
from tests.support.images import seed_cache

PROMPTS = ("A lighthouse at dusk", "A kettle on a stove")


@pytest.fixture
def warm_site(site):
    """Four pages: two show the same image (one key), one shows another, one shows none;
    each page with a directive has front matter. Every image is in the cache."""
    site.page("a.md", "---\ntitle: A\n---\n# A\n\n" + directive(PROMPTS[0]))
    site.page("b.md", "---\ntitle: B\n---\n# B\n\n" + directive(PROMPTS[0]) + "\nText.\n\n" + directive(PROMPTS[1]))
    site.page("c.md", "# C\n\nNo image here.\n")
    site.page("index.md", "# Home\n")
    for prompt in PROMPTS:
        seed_cache(site.cache, prompt)
    site.build()  # the resized copies: the next build is warm
    return site


def _opens(monkeypatch) -> Counter:
    """Every file opened from now on, by resolved path: builtins.open and io.open (which
    pathlib's read_text/read_bytes call) are one function, patched in both places."""
    opened: Counter = Counter()
    real = io.open

    def counting(file, *args, **kwargs):
        if isinstance(file, (str, Path)):
            opened[Path(file).resolve()] += 1
        return real(file, *args, **kwargs)

    monkeypatch.setattr(builtins, "open", counting)
    monkeypatch.setattr(io, "open", counting)
    return opened


def test_a_warm_build_reads_each_page_and_each_sidecar_once(warm_site, monkeypatch):
    opened = _opens(monkeypatch)
    warm_site.build()
    pages = {p.resolve(): opened[p.resolve()] for p in warm_site.docs.glob("*.md")}
    assert pages and all(n == 1 for n in pages.values()), pages
    sidecars = {p.resolve(): opened[p.resolve()] for p in (warm_site.root / ".cache").rglob("images/*/*.json")}
    assert len(sidecars) == 2 and all(n == 1 for n in sidecars.values()), sidecars
    assert "lighthouse" in (warm_site.site / "a" / "index.html").read_text(encoding="utf-8").lower()


def test_the_page_mkdocs_renders_is_the_text_the_plugin_read(warm_site):
    """The hand-over keeps abs_src_path (other plugins read it) and the text is the file's."""
    from mkdocs.config import load_config
    from mkdocs.structure.files import get_files

    from mkdocs_nanobanana.core.reporting import Reporter
    from mkdocs_nanobanana.hosts.mkdocs.pages import read_pages
    from mkdocs_nanobanana.hosts.mkdocs.site import settings_of

    config = load_config(str(warm_site.config_file))
    files = get_files(config)
    settings = settings_of(config.plugins["nanobanana"].config, config, {})
    read_pages(files, settings, Reporter(), hand_over=True)
    page = files.get_file_from_path("b.md")
    assert page.abs_src_path == str(warm_site.docs / "b.md")
    assert page.content_string == (warm_site.docs / "b.md").read_text(encoding="utf-8")


def test_a_warm_build_imports_neither_pillow_nor_the_provider_clients(warm_site):
    """Nor serve's background generator, nor the Markdown extension's host."""
    code = ("import sys\nfrom mkdocs.commands.build import build\nfrom mkdocs.config import load_config\n"
            f"build(load_config({str(warm_site.config_file)!r}))\n"
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('PIL', 'httpx') or m in UNUSED))")
    unused = [f"mkdocs_nanobanana.{m}" for m in ("providers.placeholder", "providers.http", "providers.nanobanana",
                                                 "providers.gemini", "build.deferred", "hosts.markdown.zensical",
                                                 "hosts.markdown.options")]
    code = f"UNUSED = {unused!r}\n" + code
    out = subprocess.run([sys.executable, "-c", code], cwd=warm_site.root, capture_output=True, text=True, check=True,
                         env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin"})
    assert out.stdout.strip().splitlines()[-1] == "[]", out.stdout + out.stderr
