"""README's commands, run as written: the example command's build, and the "Try live
generation without a key" recipe (its mkdocs.yml lines on a small site and its shell
commands in bash, against the fake API on 127.0.0.1; only the two `path/to/...`
placeholders are replaced, by this clone and the site). The docs' getting-started page
carries the same blocks, which must stay the same; README stays short and its links land."""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.support.commands import REPO, bin_path, run
from tests.support.directives import directive


def block(name: str, file: str = "README.md") -> str:
    """The fenced block between <!-- name --> and <!-- /name --> in README.md (or another file)."""
    text = (REPO / file).read_text(encoding="utf-8")
    m = re.search(rf"<!-- {name} -->\n```\w*\n(.*?)```\n<!-- /{name} -->", text, re.S)
    assert m, f"{file} has no {name} block"
    return m.group(1)


def test_readme_is_short_and_its_links_land():
    text = (REPO / "README.md").read_text(encoding="utf-8")
    assert len(text.splitlines()) <= 200
    targets = re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", text)
    local = [t for t in targets if "://" not in t]
    assert "docs/getting-started.md" in local and "LICENSE" in local
    assert not [t for t in local if not (REPO / t).exists()]


def test_the_docs_carry_readmes_recipe_as_it_is():
    for name in ("fake-api-config", "fake-api-recipe"):
        assert block(name, "docs/getting-started.md") == block(name), name


def test_the_example_command_builds_the_example_blog(tmp_path):
    """Its build half, as written, in a copy of the example (the install half is this venv's)."""
    install, build = block("example-command").strip().split(" && ")
    assert install == "pip install -e ."
    shutil.copytree(REPO / "example_site", tmp_path / "example_site", ignore=shutil.ignore_patterns("site", ".cache"))
    program, *args = build.split()
    proc = run([bin_path(program), *args], cwd=tmp_path, env={"NO_MKDOCS_2_WARNING": "1"})
    assert "0 generated" in proc.stderr and "placeholders" in proc.stderr
    assert (tmp_path / "example_site" / "site" / "posts" / "lighthouse-weekend" / "index.html").is_file()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return Path(f"/proc/{pid}/stat").is_file() and Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"


@pytest.fixture
def started():
    """The fakes the recipe started: stopped here if the recipe failed before its kill."""
    pids: list[int] = []
    yield pids
    for pid in pids:
        if _alive(pid):
            os.kill(pid, signal.SIGTERM)


def run_recipe(site, tmpdir: Path, started: list[int]) -> tuple[subprocess.CompletedProcess, Path, Path]:
    """The recipe in bash, as a user runs it; its output and the fake's log and cache."""
    script = block("fake-api-recipe").replace("path/to/mkdocs-nanobanana", str(REPO))
    script = script.replace("path/to/your-site", str(site.root))
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("NANOBANANA_") and k not in ("GEMINI_API_KEY", "GOOGLE_API_KEY")}
    # the convention README states: the virtual environment is active
    env.update(PATH=f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}", TMPDIR=str(tmpdir))
    proc = subprocess.run(["bash", "-e", "-c", script], cwd=site.root.parent, env=env, capture_output=True, text=True,
                          timeout=300)
    said = re.search(r"\(pid (\d+)\); each request it gets is a line of (\S+); its images are cached in (\S+);",
                     proc.stderr)
    assert said, proc.stdout + proc.stderr
    started.append(int(said[1]))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc, Path(said[2]), Path(said[3])


def test_the_fake_api_recipe_runs_as_written(site, tmp_path, started):
    site.config_file.write_text("site_name: Try it\n" + block("fake-api-config"), encoding="utf-8")
    site.page("index.md", "# Home\n\n" + directive("A lighthouse at dusk", ratio="16:9"))
    site.page("b.md", "# B\n\n" + directive("A rainy window"))
    tmpdir = tmp_path / "tmp"
    tmpdir.mkdir()
    proc, log, fake_cache = run_recipe(site, tmpdir, started)
    assert "2 directive(s): 0 cached, 2 missing" in proc.stdout
    assert "2 image(s) to generate" in proc.stdout
    assert "2 cached, 0 generated" in proc.stderr, "the build sent no request"
    # the log: one line per request, nothing else (no banner, no line cut by another)
    lines = log.read_text().splitlines()
    assert lines and all(re.fullmatch(r"\d\d:\d\d:\d\d (GET|POST) /\S+", line) for line in lines), lines
    assert sum(" POST /v1/images/generate" in line for line in lines) == 2, lines
    assert proc.stdout.count("POST /v1/images/generate") == 4, "each `cat` shows the same two requests"
    assert len(list(fake_cache.glob("images/*/*.json"))) == 2
    assert log.parent == fake_cache.parent and log.parent.parent == tmpdir, "a folder of the run's own in $TMPDIR"
    assert not (site.root / ".cache").exists(), "the fake's images never reach the site's own cache"
    pid = started[0]
    deadline = time.monotonic() + 10  # SIGTERM lands when the kernel gets to it
    while _alive(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _alive(pid), "the recipe stops the fake"

    # run again, as written: a new cache of the fake's own, so the same output (but the times)
    again, log_again, cache_again = run_recipe(site, tmpdir, started)
    assert (log_again, cache_again) != (log, fake_cache)

    def same(text: str) -> list[str]:  # the lines, with the times out and concurrent requests in any order
        return sorted(re.sub(r"\b\d\d:\d\d:\d\d\b", "hh:mm:ss", text).splitlines())

    assert same(again.stdout) == same(proc.stdout)
    assert len(list(fake_cache.glob("images/*/*.json"))) == 2, "the first run's cache is left as it was"
