"""What `nanobanana doctor` needs from the MkDocs side of a project: the plugin's state,
its settings (or why not), its hook order against the plugins it works with, and the
pages."""

from __future__ import annotations

import os

from mkdocs.structure.files import get_files

from ...core.card_theme import MaterialCards
from ...core.frozen import frozen
from ...core.pages import PageText
from ...core.reporting import Reporter
from ...core.settings import ModeError, Settings, SettingsError
from .loading import read_config
from .pages import read_pages
from .plugin import NanobananaPlugin
from .site import material_cards, material_makes_cards, settings_of

__all__: list[str] = []


#: Where the plugin's hooks must run relative to other plugins' hooks of the same event,
#: as (event, plugin, ours "before" | "after" theirs, why). From their sources (Material
#: 9.8 src/plugins/*/plugin.py, mkdocs-rss-plugin 1.19 plugin.py): meta sets front matter
#: from .meta.yml in on_page_markdown at priority 50; blog makes a post's excerpt from its
#: Markdown in on_page_markdown at -50; social reads page.meta for its card in
#: on_page_markdown at -100 ("after all other plugins"); rss reads page.markdown and
#: page.meta.image in on_page_content at -75; mkdocs-glightbox 0.5 wraps each <img> in an
#: <a> in on_page_content at 0 (its default). Ours: on_page_markdown at 0, on_page_content
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
    ("page_content", "glightbox", "after", "mkdocs-glightbox wraps each <img> in an <a>, inside a <picture> too, "
     "where browsers then ignore the WebP/AVIF <source>s: nanobanana moves the <a> around the <picture> after it"),
)


@frozen
class OrderFact:
    """One ORDER_RULES rule as this site's plugins run it."""

    event: str
    plugin: str  # its name in mkdocs.yml
    wanted: str  # where our hook must run: before | after theirs
    ok: bool
    ours: int  # the hooks' priorities
    theirs: int
    why: str


@frozen
class HostFacts:
    """What `nanobanana doctor` needs from the MkDocs side of a project."""

    config_file: str
    docs_dir: str
    site_dir: str
    site_url: str
    plugin: str  # on | disabled | missing
    our_cards_option: bool  # social.enabled as configured (before Material's social turns it off)
    material_social: bool
    material_cards: MaterialCards  # what Material's social plugin is configured with, on or off
    order: tuple[OrderFact, ...]
    settings: Settings | None  # None when the options cannot work: see settings_error
    settings_error: str | None
    mode_error: str | None  # the mode cannot run as asked (settings are then read offline)
    pages: tuple[PageText, ...]


def host_facts(config_file: str | None, environ=os.environ, report: Reporter | None = None) -> HostFacts:
    """mkdocs.yml read as a build reads it; SettingsError only if it cannot be read at all."""

    report = report or Reporter()
    config = read_config(config_file)
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
        our_cards_option=bool(ours and plugin.config.social.enabled), material_social=material_makes_cards(config),
        material_cards=material_cards(config),
        order=tuple(plugin_order(config.plugins)) if ours else (), settings=settings,
        settings_error=settings_error, mode_error=mode_error, pages=tuple(pages),
    )


def _doctor_settings(options, config, environ, report) -> tuple[Settings | None, str | None, str | None]:
    """Settings, or why not. A mode that cannot run (live without the key, a bad
    NANOBANANA_MODE) is reported, and the rest is read as an offline build reads it."""
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
                ours=getattr(handlers[mine][0], "mkdocs_priority", 0),
                theirs=getattr(handlers[their][0], "mkdocs_priority", 0),
                why=why,
            ))
    return facts
