"""mkdocs.yml as the command line reads it: loaded as MkDocs loads it (INHERIT, !ENV,
plugins), then the plugin's settings and every page with a directive."""

from __future__ import annotations

import os

from mkdocs.config import load_config
from mkdocs.exceptions import MkDocsException
from mkdocs.structure.files import get_files

from ...core.pages import PageText
from ...core.reporting import Reporter
from ...core.settings import Settings, SettingsError
from .pages import read_pages
from .plugin import NanobananaPlugin
from .site import settings_of

__all__: list[str] = []


def read_config(config_file: str | None):
    """mkdocs.yml as MkDocs reads it (INHERIT, !ENV, plugins loaded); SettingsError if it cannot be."""
    try:
        return load_config(config_file)
    except MkDocsException as exc:  # the details were logged by MkDocs itself
        raise SettingsError(f"{config_file or 'mkdocs.yml'}: {exc}") from None
    except OSError as exc:
        raise SettingsError(f"cannot read {config_file or 'mkdocs.yml'}: {exc.strerror}") from None


def load_project(config_file: str | None, environ=os.environ, report: Reporter | None = None,
                 drafts: bool = False) -> tuple[Settings, list[PageText]]:
    """The plugin's settings and every page with a directive: what the command line works
    on; with ``drafts``, draft_docs pages too (serve shows them: prune keeps their images)."""

    config = read_config(config_file)
    plugin = config.plugins.get("nanobanana")
    if not isinstance(plugin, NanobananaPlugin):
        raise SettingsError(f"{config.config_file_path}: the nanobanana plugin is not enabled under plugins:")
    settings = settings_of(plugin.config, config, environ, report)
    return settings, read_pages(get_files(config), settings, report or Reporter(), drafts=drafts)
