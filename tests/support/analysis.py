"""The build layer without MkDocs: Settings for a temporary folder, and an Analysis of
page texts (tests/build/)."""

from __future__ import annotations

from pathlib import Path

from mkdocs_nanobanana.build.analysis import Analysis
from mkdocs_nanobanana.core.catalog import build_catalog
from mkdocs_nanobanana.core.pages import PageText
from mkdocs_nanobanana.core.reporting import Reporter
from mkdocs_nanobanana.core.settings import Settings
from mkdocs_nanobanana.store.cache import Cache

WIDTHS = (320, 640, 2000)  # 2000 > 1024: the source width stands in for it
PLANNED_WIDTHS = [320, 640, 1024]  # for a 1024-wide source


def make_settings(tmp_path: Path, **kw) -> Settings:
    base = dict(
        docs_dir=str(tmp_path / "docs"), site_dir=str(tmp_path / "site"), cache_dir=str(tmp_path / "cache"),
        mode="live", catalog=build_catalog({}, "nanobanana"), widths=WIDTHS, workers=2, concurrency=2, retries=0,
    )
    base.update(kw)
    (tmp_path / "docs").mkdir(exist_ok=True)
    return Settings(**base)


def read(settings: Settings, pages: dict[str, str] | list[PageText]) -> tuple[Analysis, list[str]]:
    """The Analysis of ``pages`` (path -> text) and the warnings it reported."""
    warnings: list[str] = []
    analysis = Analysis(settings, Cache(settings.cache_dir), Reporter(warnings.append))
    texts = pages if isinstance(pages, list) else [PageText(p, t) for p, t in pages.items()]
    analysis.read(texts)
    return analysis, warnings
