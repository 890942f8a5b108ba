"""README's "Try live generation without a key" recipe, run as written: its mkdocs.yml lines
on a small site and its shell commands in bash, against the fake API on 127.0.0.1.

Only the two `path/to/...` placeholders are replaced (by this clone and the site)."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.support.commands import REPO
from tests.support.directives import directive


def block(name: str) -> str:
    """The fenced block between <!-- name --> and <!-- /name --> in README.md."""
    text = (REPO / "README.md").read_text(encoding="utf-8")
    m = re.search(rf"<!-- {name} -->\n```\w*\n(.*?)```\n<!-- /{name} -->", text, re.S)
    assert m, f"README has no {name} block"
    return m.group(1)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return Path(f"/proc/{pid}/stat").is_file() and Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"


@pytest.fixture
def tmpdir_env(tmp_path):
    folder = tmp_path / "tmp"
    folder.mkdir()
    yield folder
    log = folder / "nanobanana-fake-api.log"
    pid = re.search(r"NANOBANANA_FAKE_API_PID=(\d+)", log.read_text()) if log.is_file() else None
    if pid and _alive(int(pid[1])):  # the recipe failed before its kill
        os.kill(int(pid[1]), signal.SIGTERM)


def test_the_fake_api_recipe_runs_as_written(site, tmpdir_env):
    site.config_file.write_text("site_name: Try it\n" + block("fake-api-config"), encoding="utf-8")
    site.page("index.md", "# Home\n\n" + directive("A lighthouse at dusk", ratio="16:9"))
    site.page("b.md", "# B\n\n" + directive("A rainy window"))
    script = block("fake-api-recipe").replace("path/to/mkdocs-nanobanana", str(REPO))
    script = script.replace("path/to/your-site", str(site.root))
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("NANOBANANA_") and k not in ("GEMINI_API_KEY", "GOOGLE_API_KEY")}
    # the convention README states: the virtual environment is active
    env.update(PATH=f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}", TMPDIR=str(tmpdir_env))
    proc = subprocess.run(["bash", "-e", "-c", script], cwd=site.root.parent, env=env, capture_output=True, text=True,
                          timeout=300)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out
    assert "2 directive(s): 0 cached, 2 missing" in proc.stdout
    assert "2 image(s) to generate" in proc.stdout
    assert "2 cached, 0 generated" in proc.stderr, "the build sent no request"
    log = (tmpdir_env / "nanobanana-fake-api.log").read_text()
    assert len(re.findall(r" POST /v1/images/generate", log)) == 2, log
    assert proc.stdout.count("POST /v1/images/generate") == 4, "each `cat` shows the same two requests"
    fake_cache = tmpdir_env / "nanobanana-fake-cache"
    assert len(list(fake_cache.glob("images/*/*.json"))) == 2
    assert not (site.root / ".cache").exists(), "the fake's images never reach the site's own cache"
    pid = int(re.search(r"NANOBANANA_FAKE_API_PID=(\d+)", log)[1])
    deadline = time.monotonic() + 10  # SIGTERM lands when the kernel gets to it
    while _alive(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _alive(pid), "the recipe stops the fake"
