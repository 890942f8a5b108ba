"""Temporary MkDocs sites, real builds, and cache seeding for the tests."""

from __future__ import annotations

import io
import logging
import os
import subprocess
import sys
import textwrap
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml
from PIL import Image

from mkdocs_nanobanana.core.catalog import FLASH_IMAGE_SIZES
from mkdocs_nanobanana.core.request import Request
from mkdocs_nanobanana.store.cache import Cache


def pytest_xdist_auto_num_workers(config):
    """``-n auto``: one worker more than the cores. About a third of the suite's time is
    waiting (the fake API's latencies, serve's debounce, MkDocs and Chromium starting in
    subprocesses), so a third worker keeps two cores busy: on 2 cores the default run took
    5 min 17 s with two workers and 4 min 24 s with three (2026-11-26)."""
    return (os.cpu_count() or 1) + 1


REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(autouse=True)
def _no_key(monkeypatch):
    """Tests never see a real key or mode from the developer's shell."""
    monkeypatch.delenv("NANOBANANA_API_KEY", raising=False)
    monkeypatch.delenv("NANOBANANA_MODE", raising=False)


@dataclass
class Site:
    root: Path

    @property
    def docs(self) -> Path:
        return self.root / "docs"

    @property
    def site(self) -> Path:
        return self.root / "site"

    @property
    def cache(self) -> Cache:
        return Cache(self.root / ".cache" / "nanobanana")

    @property
    def config_file(self) -> Path:
        return self.root / "mkdocs.yml"

    def page(self, name: str, text: str) -> Path:
        path = self.docs / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text), encoding="utf-8")
        return path

    def configure(self, plugin: dict | None = None, **extra) -> None:
        config = {"site_name": "Test site", "plugins": [{"nanobanana": plugin or {}}]}
        config.update(extra)
        self.config_file.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")

    def build(self, strict: bool = False) -> Path:
        """A real in-process `mkdocs build`."""
        from mkdocs.commands.build import build
        from mkdocs.config import load_config

        config = load_config(str(self.config_file), strict=strict)
        build(config)
        return self.site

    def html(self, page_url: str) -> str:
        return (self.site / page_url).read_text(encoding="utf-8")

    def all_files(self) -> set[Path]:
        return {p for p in self.root.rglob("*") if p.is_file()}


@pytest.fixture
def site(tmp_path) -> Site:
    s = Site(tmp_path / "proj")
    s.docs.mkdir(parents=True)
    s.configure()
    return s


def photo_png(size: tuple[int, int], seed: int = 0, alpha: bool = False) -> bytes:
    """A real PNG with some structure (not a flat colour) at ``size``."""
    w, h = size
    img = Image.linear_gradient("L").resize(size).convert("RGB")
    img = Image.merge("RGB", (img.getchannel(0), img.getchannel(0).rotate(90 + seed).resize(size), Image.new("L", size, (seed * 37) % 256)))
    if alpha:
        img.putalpha(Image.linear_gradient("L").resize(size))
    buf = io.BytesIO()
    img.save(buf, "PNG")
    return buf.getvalue()


def seed_cache(cache: Cache, prompt: str, *, model="gemini-2.5-flash-image", ratio="1:1", num=1, refs=(), rev=0, alpha=False):
    """Store an entry as if it had been generated earlier; returns it."""
    request = Request(model=model, prompt=prompt, ratio=ratio, num=num, refs=tuple(refs), rev=rev)
    size = FLASH_IMAGE_SIZES[ratio]
    return cache.put(request, [photo_png(size, seed=i, alpha=alpha) for i in range(num)], provider="test", credits=2 * num)


@pytest.fixture
def count_placeholders(monkeypatch):
    """Counts placeholder renders (the offline 'generation') during builds."""
    from mkdocs_nanobanana.providers import placeholder

    calls = []
    real = placeholder.render

    def counting(text, key, size, index=1, of=1):
        calls.append(text)
        return real(text, key, size, index, of)

    monkeypatch.setattr(placeholder, "render", counting)
    return calls


@pytest.fixture
def warnings_log(caplog):
    caplog.set_level(logging.INFO)
    return caplog


def run(cmd: list[str], cwd: Path, env: dict | None = None, check: bool = True) -> subprocess.CompletedProcess:
    full_env = {k: v for k, v in os.environ.items() if k != "NANOBANANA_API_KEY"}
    full_env.update(env or {})
    proc = subprocess.run(cmd, cwd=cwd, env=full_env, capture_output=True, text=True, timeout=300)
    if check and proc.returncode != 0:
        raise AssertionError(f"{cmd} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
    return proc


def bin_path(name: str) -> str:
    """A console script of the running interpreter's environment."""
    return str(Path(sys.executable).with_name(name))


@pytest.fixture
def api():
    """The fake NanoBanana/Gemini API on 127.0.0.1 (tests/fakeapi.py)."""
    from fakeapi import FakeAPI

    with FakeAPI() as server:
        yield server


@pytest.fixture
def fast_retries(monkeypatch):
    """Backoff in hundredths of a second, so fault tests stay fast."""
    from mkdocs_nanobanana.providers import base

    monkeypatch.setattr(base, "BACKOFF_BASE", 0.01)
    monkeypatch.setattr(base, "BACKOFF_MAX", 0.05)


def settled(cache: Cache, hours: float = 2.0) -> None:
    """Make every entry of ``cache`` look written ``hours`` ago: prune keeps an entry
    younger than its settle age (an hour at least) as in use by a build under way."""
    import time

    when = time.time() - hours * 3600
    for folder in (cache.images_dir, cache.partial_dir):
        for path in [folder, *folder.rglob("*")] if folder.exists() else []:
            os.utime(path, (when, when))
