"""The repository's docs site (root mkdocs.yml and docs/) copied into a folder of its own,
so a test builds it without touching the clone's site/ or .cache/; and what a build of it
must hold."""

from __future__ import annotations

import shutil
from pathlib import Path

import yaml

from .commands import REPO

#: What the docs build reads: its config, its pages and the root files its pages include.
DOCS_FILES = ("mkdocs.yml", "ARCHITECTURE.md", "CHANGELOG.md")


def docs_copy(dest: Path) -> Path:
    """A copy of the docs site in ``dest`` (made), ready for ``mkdocs build`` there."""
    dest.mkdir(parents=True, exist_ok=True)
    for name in DOCS_FILES:
        shutil.copy2(REPO / name, dest / name)
    shutil.copytree(REPO / "docs", dest / "docs")
    # the workflows too: doctor judges the Python of the job that builds the docs
    shutil.copytree(REPO / ".github" / "workflows", dest / ".github" / "workflows")
    return dest


def nav_pages(config_file: Path) -> list[str]:
    """Every page the docs' nav lists (docs/-relative)."""
    def walk(items) -> list[str]:
        pages = []
        for item in items:
            value = next(iter(item.values())) if isinstance(item, dict) else item
            pages += walk(value) if isinstance(value, list) else [value]
        return pages

    return walk(yaml.load(config_file.read_text(encoding="utf-8"), Loader=yaml.BaseLoader)["nav"])


def built_page(site_dir: Path, page: str) -> Path:
    """Where a page (``reference/cli.md``, ``index.md``) lands with MkDocs' directory URLs."""
    stem = page.removesuffix(".md")
    return site_dir / ("index.html" if stem == "index" else f"{stem}/index.html")
