"""The MkDocs adapter: hooks only. The work is done by pipeline.py and the modules it uses.

Flow: on_files reads every page's directives and starts all image work at once;
on_page_markdown swaps each directive for a token (so it survives any Markdown container);
on_page_content swaps the token for the finished <figure>; on_post_build waits for the rest
and logs the summary line.

Under `mkdocs serve` (on_startup keeps this object across rebuilds) a build never waits on
the network: missing images are placeholders, handed to a Background generator that lives
as long as the server; when one lands, it touches a file that on_serve told the server to
watch, and the rebuild shows the image.
"""

from __future__ import annotations

import os
import re
import secrets
import time

from mkdocs.exceptions import PluginError
from mkdocs.plugins import BasePlugin, get_plugin_logger

from . import assets, social
from .background import Background, marker_path
from .config import NanobananaConfig
from .generation import Generator
from .directives import INFO_WORD, replace_blocks
from .cache import Cache
from .pipeline import PageText, Pipeline, Slot
from .remote import RemoteError, open_remote
from .providers import connect
from .settings import Settings, SettingsError, build_settings

log = get_plugin_logger("nanobanana")


class NanobananaPlugin(BasePlugin[NanobananaConfig]):
    def __init__(self) -> None:
        self.settings: Settings | None = None
        self.pipeline: Pipeline | None = None
        self._tokens: dict[str, list[tuple[str, Slot]]] = {}
        self._slot_of: dict[str, Slot] = {}  # every token of this build
        self._nonce = ""
        self._token_re = ""
        self._count = 0
        self._site_url = ""
        self._tags = False
        self._warned_no_site_url = False
        self._serving = False
        self._background: Background | None = None
        self._background_for: tuple = ()

    def on_startup(self, *, command, dirty):
        self._serving = command == "serve"

    def on_config(self, config):
        # The object outlives a build (on_startup keeps it across serve rebuilds, and
        # MkDocs reuses it in one process): nothing of the last build may leak into this one.
        self.settings = None
        self.pipeline = None
        self._tokens.clear()
        if not self.config.enabled:
            return config
        try:
            self.settings = build_settings(
                self.config, config_file=config.config_file_path or "mkdocs.yml",
                docs_dir=config.docs_dir, site_dir=config.site_dir, environ=os.environ,
                site_name=config.site_name, site_description=config.site_description,
            )
        except SettingsError as exc:
            raise PluginError(f"nanobanana: {exc}") from None
        self._site_url = config.site_url or ""
        self._tags = self.settings.social.enabled
        if self._tags and any(name in ("social", "material/social") for name in config.plugins):
            log.warning("Material's social plugin is enabled too: its meta tags are left to it")
            self._tags = False
        self._warned_no_site_url = False
        return config

    def on_files(self, files, config):
        if self.settings is None:
            return files
        self._nonce = secrets.token_hex(4).upper()
        # a token ends in Y, so token 1 is never a prefix of token 12
        self._token_re = rf"NANOBANANA{self._nonce}X\d+Y"
        self._tokens.clear()
        self._slot_of.clear()
        # serve shows draft_docs pages too: start their images with the rest
        pages = _pages_to_scan(files, self.settings, drafts=self._serving)
        s = self.settings
        provider = None
        defer = self._serving and s.mode == "live"
        if defer:
            self._ensure_background(s)
        elif s.mode == "live":
            provider = connect(s.provider, s.api_base, os.environ[s.api_key_env], s.timeout, s.concurrency)
        self.pipeline = Pipeline(self.settings, warn=log.warning, provider=provider, defer=defer)
        self.pipeline.scan(pages)
        return files

    def _ensure_background(self, s: Settings) -> None:
        """One background generator per serve session (a new one if mkdocs.yml changed
        what it calls or where it stores)."""
        wanted = (s.provider, s.api_base, s.api_key_env, s.timeout, s.concurrency, s.cache_dir, s.max_credits,
                  s.serve_debounce, s.retries)
        if self._background is not None and self._background_for == wanted:
            return
        if self._background is not None:
            self._background.close()
        marker = marker_path(s.cache_dir)
        provider = connect(s.provider, s.api_base, os.environ[s.api_key_env], s.timeout, s.concurrency)
        remote = None
        if s.remote_cache:
            try:
                remote = open_remote(s.remote_cache, s.remote_cache_options)
            except RemoteError as exc:
                log.warning(f"{exc}; new images stay local")
        generator = Generator(provider, Cache(s.cache_dir), s, log.warning, scope="until serve restarts", remote=remote)
        self._background = Background(
            generator, concurrency=s.concurrency, debounce=s.serve_debounce, max_credits=s.max_credits,
            on_landed=lambda: marker.write_text(f"{time.time()}\n"), warn=log.warning,
        )
        self._background_for = wanted

    def on_page_markdown(self, markdown, page, config, files):
        if self.pipeline is None:
            return markdown
        card = self.pipeline.card_for(page.file.src_uri)
        if card is not None and not page.meta.get("image"):
            # RSS and blog plugins read meta.image. A site-relative path: they join it to
            # site_url themselves, while an absolute URL makes mkdocs-rss-plugin send a
            # HEAD request to the live site on every build to learn the length.
            page.meta["image"] = card[0]
        if INFO_WORD not in markdown:
            return markdown
        first_line = _first_line(page.file.content_string, markdown)
        pairs = self.pipeline.slots_for(page.file.src_uri, markdown, first_line)
        if not pairs:
            return markdown
        tokens = []
        for _, slot in pairs:
            self._count += 1
            tokens.append(f"NANOBANANA{self._nonce}X{self._count}Y")
        self._tokens[page.file.src_uri] = [(t, s) for t, (_, s) in zip(tokens, pairs)]
        self._slot_of.update((t, s) for t, (_, s) in zip(tokens, pairs))
        return replace_blocks(markdown, [b for b, _ in pairs], tokens, first_line)

    def on_page_content(self, html, page, config, files):
        items = self._tokens.pop(page.file.src_uri, None)
        if not items or self.pipeline is None:
            return html
        figures = {token: self.pipeline.figure(slot, page.url, eager=(i == 0))
                   for i, (token, slot) in enumerate(items)}
        return assets.embed(html, figures, self._token_re)

    def on_post_page(self, output, page, config):
        if self.pipeline is None:
            return output
        if f"NANOBANANA{self._nonce}X" in output:
            output = self._embed_borrowed(output, page.url)
        if not self._tags:
            return output
        card = self.pipeline.card_for(page.file.src_uri)
        if card is None:
            return output
        url = self._absolute(card[0])
        if not url:
            if not self._warned_no_site_url:
                log.warning("site_url is not set, so social card URLs are relative; most sites that read "
                            "og:image need an absolute URL: set site_url in mkdocs.yml")
                self._warned_no_site_url = True
            url = assets.relative_url(card[0], page.url)
        head = output[: output.lower().find("</head>")]
        return social.inject_head(output, social.meta_tags(url, card[1], head))

    def _embed_borrowed(self, output: str, page_url: str) -> str:
        """Figures of other pages that reached this one as Markdown, e.g. the post excerpts
        Material's blog plugin renders on its index, archive and category pages: their
        URLs are made relative to this page."""
        found = set(re.findall(self._token_re, output))
        figures = {t: self.pipeline.figure(self._slot_of[t], page_url, eager=False) for t in found if t in self._slot_of}
        return assets.embed(output, figures, self._token_re)

    def _absolute(self, site_path: str) -> str:
        return self._site_url.rstrip("/") + "/" + site_path if self._site_url else ""

    def on_post_build(self, config):
        if self.pipeline is None:
            return
        log.info(self.pipeline.finish())
        if self.pipeline.defer and self._background is not None:
            busy = self._background.submit(self.pipeline.deferred)
            if busy:
                log.info(f"{busy} image(s) being generated in the background; the page reloads as each is ready")
        self.pipeline = None

    def on_serve(self, server, config, builder):
        if self.settings is not None:
            marker = marker_path(self.settings.cache_dir)
            marker.parent.mkdir(parents=True, exist_ok=True)
            marker.touch()
            server.watch(str(marker.parent))
        return server

    def on_shutdown(self):
        if self._background is not None:
            if self._background.busy:
                log.info("waiting for the images being generated (they are paid for, so they are kept)")
            self._background.close()
            self._background = None

    def on_build_error(self, error):
        if self.pipeline is not None:
            self.pipeline.abort()
            self.pipeline = None


def _first_line(source: str, markdown: str) -> int:
    """The file line where ``markdown`` starts: MkDocs hands pages over without front matter."""
    if markdown and source.endswith(markdown):
        return source[: len(source) - len(markdown)].count("\n") + 1
    return 1


def load_project(config_file: str | None, environ=os.environ) -> tuple[Settings, list[PageText]]:
    """The plugin's settings and every page with a directive, read the way a build reads
    them (INHERIT, !ENV, exclude_docs): what the command line works on."""
    from mkdocs.config import load_config
    from mkdocs.exceptions import MkDocsException
    from mkdocs.structure.files import get_files

    try:
        config = load_config(config_file)
    except MkDocsException as exc:  # the details were logged by MkDocs itself
        raise SettingsError(f"{config_file or 'mkdocs.yml'}: {exc}") from None
    except OSError as exc:
        raise SettingsError(f"cannot read {config_file or 'mkdocs.yml'}: {exc.strerror}") from None
    plugin = config.plugins.get("nanobanana")
    if not isinstance(plugin, NanobananaPlugin):
        raise SettingsError(f"{config.config_file_path}: the nanobanana plugin is not enabled under plugins:")
    settings = build_settings(
        plugin.config, config_file=config.config_file_path, docs_dir=config.docs_dir,
        site_dir=config.site_dir, environ=environ, site_name=config.site_name,
        site_description=config.site_description,
    )
    return settings, _pages_to_scan(get_files(config), settings)


def _pages_to_scan(files, settings: Settings, drafts: bool = False) -> list[PageText]:
    """Pages with a directive or a nanobanana front matter; every page when each one
    gets a card. The word test is a cheap filter: most pages have no directive.
    Excluded pages never count; draft_docs pages only when ``drafts`` (serve shows them)."""
    every_page = settings.social.enabled and settings.social.generate
    # the host's own InclusionLevel methods: ProperDocs has its own copy of the enum
    inclusion = (lambda level: level.is_in_serve()) if drafts else (lambda level: level.is_included())
    pages = []
    for f in files.documentation_pages(inclusion=inclusion):
        try:
            text = f.content_string
        except ValueError:  # not UTF-8: MkDocs reports the page itself, we only say what to do
            where = f"{settings.docs_label}/{f.src_uri}" if settings.docs_label else f.src_uri
            log.warning(f"{where}: the file is not UTF-8 text, so its directives cannot be "
                        "read: save it as UTF-8")
            continue
        if every_page or INFO_WORD in text:
            pages.append(PageText(f.src_uri, text))
    return pages
