"""The MkDocs side of reading a project: its pages the way a build reads them, and, for
the command line, the plugin's settings from mkdocs.yml (INHERIT, !ENV, exclude_docs).
With plugin.py and config.py, the only modules that import MkDocs."""

from __future__ import annotations

import os
from dataclasses import dataclass, replace
from pathlib import Path

from .card_theme import ThemeStyle, svg_drawable
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
        theme_style=theme_style(config),
    )
    logo = settings.social.logo
    if settings.social.enabled and logo and logo.lower().endswith(".svg") and not svg_drawable():
        (report or Reporter()).once("svg logo", (
            f"the card logo {logo} is an SVG, which is drawn through cairosvg and the cairo library (as Material's "
            "social plugin draws it), and they are not installed: cards are drawn without the logo (pip install "
            "cairosvg and install cairo, or set social.logo to a PNG)"))
        settings = replace(settings, social=replace(settings.social, logo=None))
    if settings.social.enabled and _material_makes_cards(config):
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


def _material_makes_cards(config) -> bool:
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


def read_pages(files, settings: Settings, report: Reporter, drafts: bool = False,
               hand_over: bool = False) -> list[PageText]:
    """The pages worth reading. Excluded pages never count; draft_docs pages only when
    ``drafts`` (serve shows them). ``hand_over``: each page's text is given to its File,
    so that MkDocs renders the text read here and does not read the file again."""
    # the host's own InclusionLevel methods: ProperDocs has its own copy of the enum
    inclusion = (lambda level: level.is_in_serve()) if drafts else (lambda level: level.is_included())
    return pages_worth_reading(((f.src_uri, _text(f, hand_over)) for f in files.documentation_pages(inclusion=inclusion)),
                               settings, report)


def draft_pages(files, settings: Settings) -> list[PageText]:
    """The draft_docs pages (MkDocs 1.6: InclusionLevel.DRAFT, shown by serve only) worth
    reading: a build does not show them, but serve generated and paid for their images."""
    drafts = files.documentation_pages(inclusion=lambda level: level.is_in_serve() and not level.is_included())
    return pages_worth_reading(((f.src_uri, _text(f)) for f in drafts), settings, Reporter(lambda _message: None))


def _text(file, hand_over: bool = False) -> str | None:
    try:
        text = file.content_string
    except ValueError:  # not UTF-8
        return None
    if hand_over:
        _hand_over(file, text)
    return text


def _hand_over(file, text: str) -> None:
    """Give the page's text to its File, MkDocs 1.6's way (content_string set in
    on_files): MkDocs then renders it without reading the file a second time. The setter
    clears abs_src_path, which other plugins still read (git dates, Material's blog), so
    it is put back. Not under --dirty: a File that holds its text always counts as
    modified there, and every page would be rebuilt."""
    path = file.abs_src_path
    file.content_string = text
    file.abs_src_path = path


def _load_config(config_file: str | None):
    """mkdocs.yml as MkDocs reads it (INHERIT, !ENV, plugins loaded); SettingsError if it cannot be."""
    from mkdocs.config import load_config
    from mkdocs.exceptions import MkDocsException

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
    from mkdocs.structure.files import get_files

    from .plugin import NanobananaPlugin

    config = _load_config(config_file)
    plugin = config.plugins.get("nanobanana")
    if not isinstance(plugin, NanobananaPlugin):
        raise SettingsError(f"{config.config_file_path}: the nanobanana plugin is not enabled under plugins:")
    settings = settings_of(plugin.config, config, environ, report)
    return settings, read_pages(get_files(config), settings, report or Reporter(), drafts=drafts)


# --------------------------------------------------------------------------- nanobanana doctor

#: Where the plugin's hooks must run relative to other plugins' hooks of the same event,
#: as (event, plugin, ours "before" | "after" theirs, why). From their sources (Material
#: 9.8 src/plugins/*/plugin.py, mkdocs-rss-plugin 1.19 plugin.py): meta sets front matter
#: from .meta.yml in on_page_markdown at priority 50; blog makes a post's excerpt from its
#: Markdown in on_page_markdown at -50; social reads page.meta for its card in
#: on_page_markdown at -100 ("after all other plugins"); rss reads page.markdown and
#: page.meta.image in on_page_content at -75. Ours: on_page_markdown at 0, on_page_content
#: at 90 and -90. MkDocs runs an event's handlers by priority, and in mkdocs.yml's order
#: at equal priority (mkdocs/mkdocs#2973), so the list order decides only for a plugin
#: version that runs that hook at our priority.
ORDER_RULES = (
    ("page_markdown", "meta", "after", "Material's meta plugin sets front matter (an image too) from .meta.yml: "
     "nanobanana must see it, to keep a page's own image"),
    ("page_markdown", "blog", "before", "the blog plugin makes each post's excerpt from the Markdown it gets: "
     "it must get figures, not the directives"),
    ("page_markdown", "social", "before", "Material's social plugin reads page.meta for its card after the "
     "other plugins changed it"),
    ("page_content", "rss", "before", "mkdocs-rss-plugin makes item descriptions from page.markdown: it must "
     "read figures with absolute URLs"),
    ("page_content", "rss", "after", "the figures' tokens go back into page.markdown after the feed read it, "
     "for Material's blog excerpts"),
)


@dataclass(frozen=True)
class OrderFact:
    """One ORDER_RULES rule as this site's plugins run it."""

    event: str
    plugin: str  # its name in mkdocs.yml
    wanted: str  # where our hook must run: before | after theirs
    ok: bool
    ours: int  # the hooks' priorities
    theirs: int
    why: str


@dataclass(frozen=True)
class HostFacts:
    """What `nanobanana doctor` needs from the MkDocs side of a project."""

    config_file: str
    docs_dir: str
    site_dir: str
    site_url: str
    plugin: str  # on | disabled | missing
    our_cards_option: bool  # social.enabled as configured (before Material's social turns it off)
    material_social: bool
    order: tuple[OrderFact, ...]
    settings: Settings | None  # None when the options cannot work: see settings_error
    settings_error: str | None
    mode_error: str | None  # the mode cannot run as asked (settings are then read offline)
    pages: tuple[PageText, ...]


def host_facts(config_file: str | None, environ=os.environ, report: Reporter | None = None) -> HostFacts:
    """mkdocs.yml read as a build reads it; SettingsError only if it cannot be read at all."""
    from mkdocs.structure.files import get_files

    from .plugin import NanobananaPlugin

    report = report or Reporter()
    config = _load_config(config_file)
    plugin = config.plugins.get("nanobanana")
    ours = isinstance(plugin, NanobananaPlugin)
    state = "missing" if not ours else ("on" if plugin.config.enabled else "disabled")
    settings = settings_error = mode_error = None
    if ours:
        settings, settings_error, mode_error = _doctor_settings(plugin.config, config, environ, report)
    pages = read_pages(get_files(config), settings, report) if settings is not None else []
    return HostFacts(
        config_file=config.config_file_path, docs_dir=config.docs_dir, site_dir=config.site_dir,
        site_url=config.site_url or "", plugin=state,
        our_cards_option=bool(ours and plugin.config.social.enabled), material_social=_material_makes_cards(config),
        order=tuple(plugin_order(config.plugins)) if ours else (), settings=settings,
        settings_error=settings_error, mode_error=mode_error, pages=tuple(pages),
    )


def _doctor_settings(options, config, environ, report) -> tuple[Settings | None, str | None, str | None]:
    """Settings, or why not. A mode that cannot run (live without the key, a bad
    NANOBANANA_MODE) is reported, and the rest is read as an offline build reads it."""
    from .settings import ModeError

    try:
        return settings_of(options, config, environ, report), None, None
    except ModeError as exc:
        mode_error = str(exc)
    except SettingsError as exc:
        return None, str(exc), None
    try:
        return settings_of(options, config, {**environ, "NANOBANANA_MODE": "offline"}, report), None, mode_error
    except SettingsError as exc:
        return None, str(exc), mode_error


def _role(name: str) -> str:
    """blog for "blog", "material/blog" or "blog #2" (a second instance)."""
    return name.split(" #")[0].removeprefix("material/")


def _origin(plugins, handler) -> str | None:
    origins = getattr(plugins, "_event_origins", {})  # MkDocs >= 1.4 and ProperDocs keep it
    try:
        if handler in origins:
            return origins[handler]
    except TypeError:  # unhashable
        pass
    owner = getattr(handler, "__self__", None)
    return next((n for n, p in plugins.items() if p is owner), None)


def plugin_order(plugins) -> list[OrderFact]:
    """Each ORDER_RULES rule that applies to this site, judged on the order MkDocs will
    really call the hooks in (priority first, then mkdocs.yml's order)."""
    facts = []
    for event, role, wanted, why in ORDER_RULES:
        handlers = [(h, _origin(plugins, h)) for h in plugins.events.get(event, [])]
        ours = [i for i, (_, name) in enumerate(handlers) if name == "nanobanana"]
        for name in dict.fromkeys(n for _, n in handlers if n and n != "nanobanana" and _role(n) == role):
            theirs = [i for i, (_, n) in enumerate(handlers) if n == name]
            if not ours or not theirs:
                continue
            mine, their = (min(ours), min(theirs)) if wanted == "before" else (max(ours), max(theirs))
            facts.append(OrderFact(
                event=event, plugin=name, wanted=wanted, ok=(mine < their) if wanted == "before" else (mine > their),
                ours=getattr(handlers[mine][0], "mkdocs_priority", 0), theirs=getattr(handlers[their][0], "mkdocs_priority", 0),
                why=why,
            ))
    return facts
