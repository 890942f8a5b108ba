"""The MkDocs side of reading a project: its pages the way a build reads them, and, for
the command line, the plugin's settings from mkdocs.yml (INHERIT, !ENV, exclude_docs).
With plugin.py and config.py, the only modules that import MkDocs."""

from __future__ import annotations

import os
from dataclasses import replace

from .report import Reporter
from .session import pages_worth_reading
from .settings import Settings, SettingsError, build_settings
from .slots import PageText


#: Material for MkDocs' own social cards, by the names mkdocs.yml may enable it under.
MATERIAL_SOCIAL = ("social", "material/social")


def settings_of(options, config, environ=os.environ, report: Reporter | None = None, command: str = "build") -> Settings:
    """The plugin's Settings from its options and the MkDocs config they came with.

    With Material's social plugin enabled, that plugin makes every page's card and meta
    tags, so ours are off: no card background is planned, and none is paid for."""
    settings = build_settings(
        options, config_file=config.config_file_path or "mkdocs.yml", docs_dir=config.docs_dir,
        site_dir=config.site_dir, environ=environ, site_name=config.site_name,
        site_description=config.site_description, command=command, theme=_theme_name(config),
    )
    if settings.social.enabled and _material_makes_cards(config):
        (report or Reporter()).once("material social", (
            "Material's social plugin is enabled too: it makes the social cards, so nanobanana "
            "makes none and generates no card backgrounds (set social.enabled: false to silence this)"))
        settings = replace(settings, social=replace(settings.social, enabled=False))
    return settings


def _theme_name(config) -> str:
    theme = config.get("theme")
    return str(getattr(theme, "name", "") or "")


def _material_makes_cards(config) -> bool:
    """Whether Material's social plugin is on (its `enabled`): it then owns the social
    meta tags of every page, so a card of ours would never be shown."""
    for name in MATERIAL_SOCIAL:
        plugin = config.plugins.get(name)
        if plugin is not None and getattr(getattr(plugin, "config", None), "enabled", True):
            return True
    return False


def read_pages(files, settings: Settings, report: Reporter, drafts: bool = False) -> list[PageText]:
    """The pages worth reading. Excluded pages never count; draft_docs pages only when
    ``drafts`` (serve shows them)."""
    # the host's own InclusionLevel methods: ProperDocs has its own copy of the enum
    inclusion = (lambda level: level.is_in_serve()) if drafts else (lambda level: level.is_included())
    return pages_worth_reading(((f.src_uri, _text(f)) for f in files.documentation_pages(inclusion=inclusion)),
                               settings, report)


def draft_pages(files, settings: Settings) -> list[PageText]:
    """The draft_docs pages (MkDocs 1.6: InclusionLevel.DRAFT, shown by serve only) worth
    reading: a build does not show them, but serve generated and paid for their images."""
    drafts = files.documentation_pages(inclusion=lambda level: level.is_in_serve() and not level.is_included())
    return pages_worth_reading(((f.src_uri, _text(f)) for f in drafts), settings, Reporter(lambda _message: None))


def _text(file) -> str | None:
    try:
        return file.content_string
    except ValueError:  # not UTF-8
        return None


def load_project(config_file: str | None, environ=os.environ, report: Reporter | None = None,
                 drafts: bool = False) -> tuple[Settings, list[PageText]]:
    """The plugin's settings and every page with a directive: what the command line works
    on; with ``drafts``, draft_docs pages too (serve shows them: prune keeps their images)."""
    from mkdocs.config import load_config
    from mkdocs.exceptions import MkDocsException
    from mkdocs.structure.files import get_files

    from .plugin import NanobananaPlugin

    try:
        config = load_config(config_file)
    except MkDocsException as exc:  # the details were logged by MkDocs itself
        raise SettingsError(f"{config_file or 'mkdocs.yml'}: {exc}") from None
    except OSError as exc:
        raise SettingsError(f"cannot read {config_file or 'mkdocs.yml'}: {exc.strerror}") from None
    plugin = config.plugins.get("nanobanana")
    if not isinstance(plugin, NanobananaPlugin):
        raise SettingsError(f"{config.config_file_path}: the nanobanana plugin is not enabled under plugins:")
    settings = settings_of(plugin.config, config, environ, report)
    return settings, read_pages(get_files(config), settings, report or Reporter(), drafts=drafts)
