"""mkdocs.yml as the command line reads it: found as the hosts find it (mkdocs.yml, then
properdocs.yml), loaded as MkDocs loads it (INHERIT, !ENV, plugins), then the plugin's
settings and every page with a directive."""

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

#: The names a site's config goes by, in the order the command looks for them with no -f:
#: MkDocs' own (mkdocs.yml, then mkdocs.yaml, as mkdocs.config.base._open_config_file
#: tries them), then ProperDocs' (properdocs.yml, properdocs.yaml: ProperDocs asks for
#: that name and reads mkdocs.yml only as a legacy fallback).
CONFIG_NAMES = ("mkdocs.yml", "mkdocs.yaml", "properdocs.yml", "properdocs.yaml")


def find_config(folder: str = ".") -> str:
    """The config file a host would build in ``folder``: the first of CONFIG_NAMES there.
    SettingsError names every name looked for if none is."""
    for name in CONFIG_NAMES:
        path = os.path.join(folder, name)
        if os.path.isfile(path):
            return path
    names = ", ".join(CONFIG_NAMES[:-1]) + f" or {CONFIG_NAMES[-1]}"
    raise SettingsError(f"no {names} in {os.path.abspath(folder)}: run it in the site's folder, "
                        "or pass -f path/to/mkdocs.yml")


def found_note(path: str) -> str:
    """How the command came to read ``path`` with no -f, naming another config file in the
    same folder that it does not read (a site moving from MkDocs to ProperDocs has both)."""
    folder, name = os.path.split(path)
    others = [n for n in CONFIG_NAMES if n != name and os.path.isfile(os.path.join(folder, n))]
    return "found in this folder" + "".join(f"; {n} is there too, not read: -f {n} reads it" for n in others)


def read_config(config_file: str | None):
    """The site's config as MkDocs reads it (INHERIT, !ENV, plugins loaded), from
    ``config_file`` or, with none, the one find_config finds; SettingsError if it cannot be."""
    path = config_file or find_config()
    try:
        return load_config(path)
    except MkDocsException as exc:  # the details were logged by MkDocs itself
        raise SettingsError(f"{path}: {exc}") from None
    except OSError as exc:
        raise SettingsError(f"cannot read {path}: {exc.strerror}") from None


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
