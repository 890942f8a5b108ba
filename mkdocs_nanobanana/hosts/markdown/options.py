"""The Markdown extension's options (what `markdown_extensions:` gives it), checked
against the options table and made into Settings.

The plugin's options come through MkDocs' Config classes, which the extension may not
import (Zensical and plain Python-Markdown have no MkDocs); both are made from the same
table (core/options.py), so one `mkdocs.yml` entry can be copied to the other, is
refused in the same words by both, and builds the same cache keys. The extension adds
options of its own: where the host is, for hosts that do not say (Zensical does; plain
Python-Markdown does not).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from ...core.frozen import frozen
from ...core.option_kinds import OptionError, Text
from ...core.options import MARKDOWN, Group, Option, check_options, rows_of, sections_of
from ...core.settings import Settings, SettingsError, build_settings

__all__: list[str] = []

#: How the extension is listed under markdown_extensions: its errors start with it.
ENTRY = "mkdocs_nanobanana.markdown"

HOST = Group("Where the host is", "The Markdown extension's own options, for hosts that do not say.")
#: The extension's own options. Under Zensical they are not needed (it tells each page).
HOST_OPTIONS = (
    Option("site_dir", Text("a folder"), None, "where the files go; unset: ./site", HOST, (MARKDOWN,)),
    Option("site_url", Text("a URL"), None, "the site's root URL, for the figures' URLs; unset: / "
           "(root-relative)", HOST, (MARKDOWN,)),
    Option("docs_dir", Text("a folder"), None, "where the pages are (refs are read from it); unset: ./docs",
           HOST, (MARKDOWN,)),
    Option("config_file", Text("a file"), None, "the file relative paths are read from (cache_dir, "
           "remote_cache); unset: ./mkdocs.yml", HOST, (MARKDOWN,)),
)
HOST_OPTION_NAMES = tuple(o.name for o in HOST_OPTIONS)


def markdown_config() -> dict[str, list[Any]]:
    """The extension's options as Python-Markdown lists them (``Extension.config``:
    name -> [default, doc]): the table's rows the extension takes, its sections, and its
    own host options."""
    config = {o.name: [o.initial(), o.doc] for o in (*rows_of("", MARKDOWN), *HOST_OPTIONS)}
    for s in sections_of(MARKDOWN):
        config[s.name] = [{o.key: o.initial() for o in rows_of(s.name, MARKDOWN)}, s.doc]
    return config


def extension_options(options: Mapping[str, Any]) -> dict[str, Any]:
    """Every option checked, with defaults filled in: the table's and the host's.
    OptionError names the first one that cannot work."""
    host = {o.name: o.check(options[o.name]) if o.name in options else o.initial() for o in HOST_OPTIONS}
    return {**plugin_options(options), **host}


def plugin_options(options: Mapping[str, Any]) -> dict[str, Any]:
    """The table's options, checked, with the plugin's defaults filled in. Options of the
    plugin alone (social cards) are checked too, so that a block copied from the plugin's
    entry fails here as it fails there, and then turned off: an extension never sees a
    page's <head>."""
    values = check_options({name: value for name, value in options.items() if name not in HOST_OPTION_NAMES})
    values["social"] = {**values["social"], "enabled": False}
    return values


def named(exc: SettingsError) -> SettingsError:
    """The error as the extension raises it, starting with its entry's name: a host that
    prints a traceback (Zensical) or a config error (MkDocs, which builds every listed
    extension once to check it) then says which entry is wrong."""
    if isinstance(exc, OptionError):
        return OptionError(exc.option, exc.problem, entry=ENTRY)
    return type(exc)(f"{ENTRY}: {exc}")


@frozen
class Where:
    """Where a build's files are: what a plugin is told by MkDocs and an extension by
    Zensical's page context or by its own options."""

    config_file: str
    docs_dir: str
    site_dir: str
    site_name: str = ""
    theme: str = ""  # the theme family whose column settings.THEME_SIZES knows ("material" under Zensical)


def settings_for(options: Mapping[str, Any], where: Where, environ: Mapping[str, str] = os.environ) -> Settings:
    """The Settings the plugin would build from the same options in the same project."""
    return build_settings(
        plugin_options(options), config_file=where.config_file, docs_dir=where.docs_dir, site_dir=where.site_dir,
        environ=environ, site_name=where.site_name, command="build", theme=where.theme,
    )
