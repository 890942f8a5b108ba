"""The MkDocs (and ProperDocs) adapter: it translates hooks into session calls, nothing more.

on_files reads every page and starts all image work; on_page_markdown swaps each
directive for a token; on_page_content swaps the token for its <figure>; on_post_page
places figures that other pages lent this one and the card's meta tags; on_post_build
waits for the rest and logs the summary. Under `mkdocs serve` (on_startup keeps this
object across rebuilds) a ServeSession generates in the background instead.
"""

from __future__ import annotations

import os
import posixpath
from pathlib import Path

from mkdocs.exceptions import PluginError
from mkdocs.plugins import BasePlugin, CombinedEvent, event_priority, get_plugin_logger

from ...build.own_choice import wants_own_pictures
from ...build.session import BuildSession, PlaceholdersRefused, ServeSession, open_provider
from ...cards.feeds import fill_enclosure_lengths
from ...cards.social import first_heading
from ...core.reporting import Reporter, scrub
from ...core.settings import Settings, SettingsError, hidden_sidebars
from ...imaging.html_images import hoist_links
from ..markdown.names import EXTENSION_NAMES
from .config import NanobananaConfig
from .leftovers import LeftoverDirectives
from .pages import draft_pages, let_go, read_pages
from .site import rss_feed_files, settings_of

__all__: list[str] = []

log = get_plugin_logger("nanobanana")


class NanobananaPlugin(BasePlugin[NanobananaConfig]):
    def __init__(self) -> None:
        self.settings: Settings | None = None
        self.session: BuildSession | None = None
        self.serve: ServeSession | None = None
        self.report = Reporter(log.warning)  # what is said once is said once per process
        self._site_url = ""
        self._page: str | None = None
        self._command = "build"
        self._dirty = False
        self._markdown: dict[str, str] = {}  # page -> its Markdown with tokens, while feeds read it
        self._files = None  # the build's Files: where a page's own pictures are

    def on_startup(self, *, command, dirty):
        self._command = command  # gh-deploy publishes: see the placeholders option
        self._dirty = dirty
        if command == "serve":
            self.serve = ServeSession(log.warning, log.info)
            self.serve.catch_signals()  # SIGTERM ends serve as Ctrl-C does, keeping paid images

    def on_config(self, config):
        # The object outlives a build (serve rebuilds, and MkDocs reuses it in one
        # process): nothing of the last build may leak into this one.
        self.settings = self.session = None
        self._markdown.clear()
        if not self.config.enabled:
            return config
        try:
            self.settings = settings_of(self.config, config, os.environ, self.report, self._command)
        except SettingsError as exc:
            raise PluginError(scrub(f"nanobanana: {exc}")) from None
        self._site_url = config.site_url or ""
        # The Markdown extension (hosts/markdown/extension.py) does this plugin's work where plugins do not
        # run (Zensical); a mkdocs.yml shared by both hosts lists both: here the plugin works.
        config.markdown_extensions[:] = [e for e in config.markdown_extensions if e not in EXTENSION_NAMES]
        if not any(isinstance(e, LeftoverDirectives) for e in config.markdown_extensions):
            config.markdown_extensions.append(LeftoverDirectives(self._leftovers))
        return config

    def _leftovers(self, first_lines: list[str]) -> None:
        if self.session is not None and self._page is not None:
            self.session.leftover_directives(self._page, first_lines)

    def on_files(self, files, config):
        self._files = files
        if self.settings is None:
            return files
        s = self.settings
        # serve shows draft_docs pages too: start their images with the rest
        pages = read_pages(files, s, self.report, drafts=self.serve is not None, hand_over=not self._dirty)
        if self.serve is not None:
            self.session = self.serve.open_build(s, pages, site_url=self._site_url)
        else:
            provider = open_provider(s) if s.mode == "live" else None
            self.session = BuildSession(s, log.warning, provider=provider, site_url=self._site_url, info=log.info)
            self.session.catch_signals()  # before the first request: a stop then sends no more
            self.session.start(pages, draft_pages(files, s))
        return files

    def on_page_markdown(self, markdown, page, config, files):
        self._page = page.file.src_uri  # for _leftovers, called while Markdown renders it
        if self.session is None:
            return markdown
        posts = _blog_view_posts(page)
        if posts is not None:
            card = self.session.view_card(page.file.src_uri, _view_title(page, markdown), posts)
        else:
            card = self.session.card_url(page.file.src_uri)
        if card is not None and not page.meta.get("image"):
            # RSS and blog plugins read meta.image. A site-relative path: they join it to
            # site_url themselves, while an absolute URL makes mkdocs-rss-plugin send a
            # HEAD request to the live site on every build to learn the length.
            page.meta["image"] = card
        # the source is read only for a page that has a directive: it tells the line numbers
        markdown = self.session.markdown(page.file.src_uri, markdown, lambda: page.file.content_string)
        let_go(page.file)  # of the text on_files handed it: MkDocs has read it
        return markdown

    @event_priority(90)  # before mkdocs-rss-plugin's (-75), which reads page.markdown here
    def _content_first(self, html, page, config, files):
        if self.session is None:
            return html
        html = self.session.html(page.file.src_uri, html, page.url, resolve=_resolver(page, files),
                                 own=_own_pictures(page), hidden=_hidden(page))
        # Feeds make item descriptions from page.markdown (and, for full items, from
        # page.content): neither may hold a token while other plugins read them.
        self._markdown[page.file.src_uri] = page.markdown
        page.markdown = self.session.feed_markdown(page.file.src_uri, page.markdown)
        page.content = html
        return html

    @event_priority(-90)  # after it: the tokens again, for Material's blog excerpts
    def _content_last(self, html, page, config, files):
        saved = self._markdown.pop(page.file.src_uri, None)
        if saved is not None:
            page.markdown = saved
        # after mkdocs-glightbox (0) and any lightbox that wraps an <img> in an <a>: one
        # inside a <picture> moves out around it, or browsers ignore the <source>s
        return hoist_links(html) if self.session is not None else html

    on_page_content = CombinedEvent(_content_first, _content_last)

    def on_post_page(self, output, page, config):
        if self.session is None:
            return output
        view = _blog_view_posts(page) is not None
        return self.session.finish_page(page.file.src_uri, output, page.url, view_region=EXCERPT if view else None,
                                        resolve=_resolver(page, self._files) if view else None,
                                        own=_own_pictures(page), hidden=_hidden(page))

    def _close(self, config):
        if self.session is None:
            return
        session, self.session = self.session, None
        if self.serve is not None:
            self.serve.close_build(session)
            return
        try:
            log.info(scrub(session.close()))
        except PlaceholdersRefused as exc:
            raise PluginError(scrub(f"nanobanana: {exc}")) from None

    @event_priority(-100)  # after mkdocs-rss-plugin's (0) has written its feeds
    def _feeds(self, config):
        if self.settings is not None and self.settings.social.enabled and config.site_url:
            for feed in rss_feed_files(config):
                fill_enclosure_lengths(feed, config.site_url, Path(config.site_dir), self.settings.output_dir)

    on_post_build = CombinedEvent(_close, _feeds)

    def on_serve(self, server, config, builder):
        if self.settings is not None:
            server.watch(ServeSession.watched_folder(self.settings))
        return server

    def on_shutdown(self):
        if self.serve is not None:
            self.serve.close()
            self.serve = None

    def on_build_error(self, error):
        if self.session is not None:
            self.session.abort()
            self.session = None


#: The element Material's blog views wrap each post's excerpt in (partials/post.html).
EXCERPT = "md-post--excerpt"


def _resolver(page, files):
    """Where an <img src> of ``page`` is in docs_dir: MkDocs made each src relative to the
    page's URL, and a media file is published at its own path (its src_uri); None for
    what is not one of the site's files."""
    url = page.url or ""
    base = url if url.endswith("/") else posixpath.dirname(url)

    def resolve(path: str) -> str | None:
        target = posixpath.normpath(posixpath.join(base, path))
        found = files.get_file_from_path(target) if files is not None and not target.startswith("..") else None
        if found is None or found.is_documentation_page() or not found.abs_src_path:
            return None
        return found.abs_src_path

    return resolve


def _own_pictures(page) -> bool:
    """False if the page's front matter (or .meta.yml, through Material's meta plugin)
    says ``nanobanana: {responsive_images: false}``, or something else than true there."""
    return wants_own_pictures(page.meta)


def _hidden(page) -> tuple[str, ...]:
    """The sidebars the page hides, as its column sees them (settings.hidden_sidebars,
    which knows a post by its template, blog-post.html); a post of Material's blog with a
    template of the site's own (one that extends blog-post.html) is known by its class."""
    kind = type(page)
    post = kind.__name__ == "Post" and kind.__module__.startswith("material.plugins.blog")
    return hidden_sidebars({**page.meta, "template": "blog-post.html"} if post else page.meta)


def _blog_view_posts(page) -> list[str] | None:
    """The src paths of the posts a blog view lists (Material's blog plugin: its index,
    archive, category, author and pagination pages are View pages that carry ``posts``
    and ``views``), in the view's order; None for any other page."""
    posts = getattr(page, "posts", None)
    if not isinstance(posts, list) or not hasattr(page, "views"):
        return None
    return [p.file.src_uri for p in posts if getattr(getattr(p, "file", None), "src_uri", None)]


def _view_title(page, markdown: str) -> str:
    """A view's title before its Markdown is rendered: front matter, else its first
    heading (the blog plugin writes "# 2026", "# Corners"), else the view's name."""
    title = page.meta.get("title") if isinstance(page.meta.get("title"), str) else None
    return title or first_heading(markdown) or str(getattr(page, "name", None) or page.file.name)
