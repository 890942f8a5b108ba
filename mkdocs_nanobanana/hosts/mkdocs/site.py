"""What the plugin reads of a site's MkDocs config: its Settings (with the theme's look
for cards, and ours off when Material's social plugin makes them), and the RSS files
mkdocs-rss-plugin writes."""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path

from ...core.card_theme import ThemeStyle, svg_drawable
from ...core.reporting import Reporter
from ...core.settings import Settings, build_settings

__all__: list[str] = []


#: Material for MkDocs' own social cards, by the names mkdocs.yml may enable it under.
MATERIAL_SOCIAL = ("social", "material/social")


def settings_of(options, config, environ=os.environ, report: Reporter | None = None,
                command: str = "build") -> Settings:
    """The plugin's Settings from its options and the MkDocs config they came with.

    With Material's social plugin enabled, that plugin makes every page's card and meta
    tags, so ours are off: no card background is planned, and none is paid for."""
    settings = build_settings(
        options, config_file=config.config_file_path or "mkdocs.yml", docs_dir=config.docs_dir,
        site_dir=config.site_dir, environ=environ, site_name=config.site_name,
        site_description=config.site_description, command=command, theme=theme_family(config),
        theme_style=theme_style(config),
    )
    logo = settings.social.logo
    if settings.social.enabled and logo and logo.lower().endswith(".svg") and not svg_drawable():
        (report or Reporter()).once("svg logo", (
            f"the card logo {logo} is an SVG, which is drawn through cairosvg and the cairo library (as Material's "
            "social plugin draws it), and they are not installed: cards are drawn without the logo (pip install "
            "cairosvg and install cairo, or set social.logo to a PNG)"))
        settings = replace(settings, social=replace(settings.social, logo=None))
    if settings.social.enabled and material_makes_cards(config):
        (report or Reporter()).once("material social", (
            "Material's social plugin is enabled too: it makes the social cards, so nanobanana "
            "makes none and generates no card backgrounds (set social.enabled: false to silence this)"))
        settings = replace(settings, social=replace(settings.social, enabled=False))
    return settings


def theme_style(config) -> ThemeStyle:
    """What the theme says a card looks like, as Material's social plugin reads it
    (material/plugins/social/templates/default.yml): the palette's primary and accent
    (the first palette that names a primary, if it is a list of toggles), the font
    ``font.text``, the logo ``docs_dir/theme.logo``."""
    theme = config.get("theme")
    get = getattr(theme, "get", None)
    if get is None:
        return ThemeStyle()
    palette = get("palette") or {}
    if isinstance(palette, list):
        palette = next((p for p in palette if isinstance(p, dict) and p.get("primary")),
                       next((p for p in palette if isinstance(p, dict)), {}))
    palette = palette if isinstance(palette, dict) else {}
    font = get("font")
    family = font.get("text") if isinstance(font, dict) else None
    logo = get("logo")
    logo_path = os.path.join(config.docs_dir, logo) if isinstance(logo, str) and logo else None
    base = os.path.dirname(os.path.abspath(config.config_file_path or "mkdocs.yml"))
    return ThemeStyle(
        primary=_text_or_none(palette.get("primary")), accent=_text_or_none(palette.get("accent")),
        font_family=family if isinstance(family, str) and family.strip() else None,
        logo=logo_path if logo_path and os.path.isfile(logo_path) else None,
        # Material's social plugin keeps the Google Fonts it downloads here (its cache_dir)
        font_dirs=(os.path.join(base, ".cache", "plugin", "social", "fonts"),),
    )


def _text_or_none(value) -> str | None:
    return value if isinstance(value, str) and value.strip() else None


def _theme_name(config) -> str:
    theme = config.get("theme")
    return str(getattr(theme, "name", "") or "")


#: What Material's own base.html lays a page out with: a theme whose templates have them
#: (a fork such as materialx, which renames the theme) has Material's column.
MATERIAL_LAYOUT = ("md-container", "md-content", "md-sidebar--secondary")


def theme_family(config) -> str:
    """The theme whose measured column widths (settings.THEME_SIZES) fit this site: its
    name; "material" also for a theme of another name built on Material, whether its
    mkdocs_theme.yml says ``extends: material`` (Material's templates are then among its
    folders) or it is a fork with a copy of them (their base.html lays the page out with
    Material's classes). The ``sizes`` option overrides it for any other layout."""
    name = _theme_name(config)
    if name in ("material", "mkdocs", "readthedocs"):
        return name
    dirs = [str(d) for d in getattr(config.get("theme"), "dirs", [])]
    if any(os.path.basename(os.path.dirname(d)) == "material" and os.path.basename(d) == "templates" for d in dirs):
        return "material"
    for folder in dirs[:2]:  # the theme's own templates (custom_dir may come first)
        try:
            with open(os.path.join(folder, "base.html"), encoding="utf-8") as f:
                base = f.read()
        except (OSError, UnicodeDecodeError):
            continue
        if all(css in base for css in MATERIAL_LAYOUT):
            return "material"
    return name


def material_makes_cards(config) -> bool:
    """Whether Material's social plugin is on (its `enabled`): it then owns the social
    meta tags of every page, so a card of ours would never be shown."""
    for name in MATERIAL_SOCIAL:
        plugin = config.plugins.get(name)
        if plugin is not None and getattr(getattr(plugin, "config", None), "enabled", True):
            return True
    return False


#: mkdocs-rss-plugin, by its module: it may be enabled under any name (`rss`, `blog-rss`).
RSS_PLUGIN_MODULE = "mkdocs_rss_plugin"


def rss_feed_files(config) -> list[Path]:
    """The RSS files mkdocs-rss-plugin instances write into site_dir (its
    ``feeds_filenames`` and ``rss_feed_enabled`` options, 1.19)."""
    feeds = []
    for plugin in config.plugins.values():
        options = getattr(plugin, "config", None)
        if not type(plugin).__module__.startswith(RSS_PLUGIN_MODULE) or not getattr(options, "enabled", True):
            continue
        names = getattr(options, "feeds_filenames", None)
        if names is None or not getattr(options, "rss_feed_enabled", True):
            continue
        feeds += [Path(config.site_dir) / name for name in (names.rss_created, names.rss_updated)]
    return feeds
