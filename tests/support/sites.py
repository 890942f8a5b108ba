"""A temporary MkDocs project on disk, built in-process by the real `mkdocs build`."""

from __future__ import annotations

import subprocess
import textwrap
from dataclasses import dataclass
from pathlib import Path

import yaml

from mkdocs_nanobanana.store.cache import Cache
from tests.support.commands import bin_path, run
from tests.support.directives import directive


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


def new_site(root: Path) -> Site:
    """An empty project at ``root``: a docs folder and the plugin with its defaults."""
    s = Site(root)
    s.docs.mkdir(parents=True)
    s.configure()
    return s


def nb(site: Site, *args: str) -> subprocess.CompletedProcess:
    """`nanobanana <args>` in the site's folder; fails the test unless it exits 0."""
    return run([bin_path("nanobanana"), *args], cwd=site.root, check=True)


# three images shared by name and one num=4 pick=2: 4 requests on an empty cache
MACHINE_PAGE = "# A\n\n" + "".join(directive(f"Shared image {i}") for i in range(3)) + directive("Four", num=4, pick=2)


def machine(tmp_path: Path, name: str, api, remote: str, **extra) -> Site:
    """A checkout of the same site on another machine: its own folder, its own cache,
    one remote cache shared with the others."""
    s = Site(tmp_path / name)
    s.docs.mkdir(parents=True)
    s.configure({"api_base": api.base, "remote_cache": remote,
                 "remote_cache_options": {"skip_instance_cache": True}, "retries": 1, **extra})
    s.page("a.md", MACHINE_PAGE)
    return s
