"""The MkDocs adapter: hooks only. The work is done by pipeline.py and the modules it uses.

Flow: on_files reads every page's directives and starts all image work at once;
on_page_markdown swaps each directive for a token (so it survives any Markdown container);
on_page_content swaps the token for the finished <figure>; on_post_build waits for the rest
and logs the summary line.
"""

from __future__ import annotations

import os
import secrets

from mkdocs.exceptions import PluginError
from mkdocs.plugins import BasePlugin, get_plugin_logger

from . import assets
from .catalog import CatalogError, build_catalog
from .config import NanobananaConfig
from .directives import INFO_WORD, Defaults, replace_blocks
from .providers import connect
from .pipeline import ModeError, PageText, Pipeline, Settings, Slot, resolve_mode

log = get_plugin_logger("nanobanana")


class NanobananaPlugin(BasePlugin[NanobananaConfig]):
    def __init__(self) -> None:
        self.settings: Settings | None = None
        self.pipeline: Pipeline | None = None
        self._tokens: dict[str, list[tuple[str, Slot]]] = {}
        self._nonce = ""
        self._count = 0

    def on_config(self, config):
        if not self.config.enabled:
            return config
        base_dir = os.path.dirname(os.path.abspath(config.config_file_path or "mkdocs.yml"))
        try:
            catalog = build_catalog(self.config.models)
            mode = resolve_mode(self.config.mode, os.environ, self.config.api_key_env)
        except (CatalogError, ModeError) as exc:
            raise PluginError(f"nanobanana: {exc}") from None
        if self.config.variant not in catalog.variants:
            raise PluginError(f"nanobanana: variant '{self.config.variant}' is not one of {', '.join(catalog.variants)}")
        default_model = catalog.model_for(self.config.variant)
        if self.config.ratio not in default_model.sizes:
            raise PluginError(
                f"nanobanana: ratio '{self.config.ratio}' is not offered by {default_model.id}: "
                f"use one of {', '.join(default_model.ratios)}"
            )
        if mode == "live" and self.config.provider != "nanobanana":
            raise PluginError(f"nanobanana: provider '{self.config.provider}' is not available in this version: use provider: nanobanana")
        cache_dir = os.path.normpath(os.path.join(base_dir, os.path.expanduser(self.config.cache_dir)))
        docs_dir = os.path.realpath(config.docs_dir)
        if os.path.realpath(cache_dir) == docs_dir or os.path.realpath(cache_dir).startswith(docs_dir + os.sep):
            raise PluginError(
                "nanobanana: cache_dir is inside docs_dir; that would make `mkdocs serve` rebuild in "
                "a loop. Use a folder beside docs_dir, e.g. .cache/nanobanana"
            )
        label = os.path.relpath(config.docs_dir, base_dir).replace(os.sep, "/")
        self.settings = Settings(
            docs_dir=config.docs_dir,
            site_dir=config.site_dir,
            cache_dir=cache_dir,
            output_dir=self.config.output_dir,
            docs_label="" if label == "." else label,
            mode=mode,
            widths=tuple(self.config.widths),
            formats=tuple(self.config.formats),
            quality=self.config.quality,
            concurrency=self.config.concurrency,
            retries=self.config.retries,
            max_credits=self.config.max_credits,
            api_key_env=self.config.api_key_env,
            defaults=Defaults(ratio=self.config.ratio, variant=self.config.variant),
            catalog=catalog,
        )
        return config

    def on_files(self, files, config):
        if self.settings is None:
            return files
        self._nonce = secrets.token_hex(4).upper()
        self._tokens.clear()
        pages = []
        for file in files.documentation_pages():
            text = file.content_string
            if INFO_WORD in text:  # cheap filter: most pages have no directive
                pages.append(PageText(file.src_uri, text))
        provider = None
        if self.settings.mode == "live":
            provider = connect(
                self.config.provider, self.config.api_base, os.environ[self.config.api_key_env],
                self.config.timeout, self.config.concurrency,
            )
        self.pipeline = Pipeline(self.settings, warn=log.warning, provider=provider)
        self.pipeline.scan(pages)
        return files

    def on_page_markdown(self, markdown, page, config, files):
        if self.pipeline is None or INFO_WORD not in markdown:
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
        return replace_blocks(markdown, [b for b, _ in pairs], tokens, first_line)

    def on_page_content(self, html, page, config, files):
        items = self._tokens.pop(page.file.src_uri, None)
        if not items or self.pipeline is None:
            return html
        for i, (token, slot) in enumerate(items):
            figure = self.pipeline.figure(slot, page.url, eager=(i == 0))
            html = assets.embed(html, token, figure)
        return html

    def on_post_build(self, config):
        if self.pipeline is not None:
            log.info(self.pipeline.finish())
            self.pipeline = None

    def on_build_error(self, error):
        if self.pipeline is not None:
            self.pipeline.abort()
            self.pipeline = None


def _first_line(source: str, markdown: str) -> int:
    """The file line where ``markdown`` starts: MkDocs hands pages over without front matter."""
    if markdown and source.endswith(markdown):
        return source[: len(source) - len(markdown)].count("\n") + 1
    return 1
