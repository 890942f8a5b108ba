"""The Markdown extension's options (what `markdown_extensions:` gives it) as Settings.

The plugin's options come through MkDocs' Config classes (config.py), which the
extension may not import: Zensical and plain Python-Markdown have no MkDocs. The
extension takes the same option names with the same defaults (each read from Settings
through ``default_of``, as config.py does), so that one `mkdocs.yml` entry can be copied
to the other and both build the same cache keys.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ...core.catalog import normalize_ratio
from ...core.directives import Defaults
from ...core.settings import DEFAULT_CACHE_DIR, Settings, SettingsError, build_settings, default_of

__all__: list[str] = []

#: Options only the extension has: where the host is, for hosts that do not say
#: (Zensical does; plain Python-Markdown does not).
HOST_OPTIONS = ("site_dir", "site_url", "docs_dir", "config_file")


def defaults() -> dict[str, Any]:
    """Every option the plugin has, at the plugin's default."""
    return {
        "enabled": True, "mode": "auto", "placeholders": None,
        "provider": default_of("provider"), "api_key_env": default_of("api_key_env"), "api_base": None,
        "models": {}, "ref_images": {},
        "variant": default_of("variant", Defaults), "ratio": default_of("ratio", Defaults),
        "cache_dir": DEFAULT_CACHE_DIR, "output_dir": default_of("output_dir"),
        "remote_cache": None, "remote_cache_options": {},
        "widths": list(default_of("widths")), "formats": list(default_of("formats")), "quality": default_of("quality"),
        "sizes": None, "avif": {}, "provenance": {}, "backdrop": default_of("backdrop"),
        "concurrency": default_of("concurrency"), "timeout": default_of("timeout"), "retries": default_of("retries"),
        "max_credits": default_of("max_credits"), "serve_debounce": default_of("serve_debounce"),
        # no social cards: an extension sees a page's body, never its <head>
        "social": {"enabled": False, "generate": False, "prompt_template": "", "variant": default_of("variant", Defaults),
                   "title_overlay": False, "font": None, "layout": "default", "background_color": None,
                   "color": None, "accent_color": None, "logo": None},
    }


@dataclass(frozen=True)
class Where:
    """Where a build's files are: what a plugin is told by MkDocs and an extension by
    Zensical's page context or by its own options."""

    config_file: str
    docs_dir: str
    site_dir: str
    site_name: str = ""


def plugin_options(options: Mapping[str, Any]) -> dict[str, Any]:
    """The options with the plugin's defaults filled in; SettingsError names a bad one."""
    values = defaults()
    for name, value in options.items():
        if name in HOST_OPTIONS or name == "social":  # cards are the plugin's alone
            continue
        if name not in values:
            raise SettingsError(f"mkdocs_nanobanana.markdown has no option {name!r}")
        values[name] = _checked(name, value, values[name])
    ratio = normalize_ratio(values["ratio"])
    if ratio is None:
        raise SettingsError(f'ratio: expected a ratio such as "16:9", got {values["ratio"]!r}')
    values["ratio"] = ratio
    return values


def _checked(name: str, value: Any, default: Any) -> Any:
    """``value`` if it has the default's type (an int where a float is expected is fine)."""
    if default is None or value is None:
        return value
    if isinstance(default, float) and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if isinstance(value, bool) != isinstance(default, bool) or not isinstance(value, type(default)):
        raise SettingsError(f"{name}: expected {type(default).__name__}, got {value!r}")
    return value


def settings_for(options: Mapping[str, Any], where: Where, environ: Mapping[str, str] = os.environ) -> Settings:
    """The Settings the plugin would build from the same options in the same project."""
    return build_settings(
        plugin_options(options), config_file=where.config_file, docs_dir=where.docs_dir, site_dir=where.site_dir,
        environ=environ, site_name=where.site_name, command="build",
    )
