"""The Markdown extension's host: the BuildSession of the build in progress, per process.

Python-Markdown makes a new extension object for every page and tells it nothing of the
build it is part of, so the build lives here, once per process. A build starts at the
first page rendered with a directive (its session reads every page of docs_dir, as the
plugin's on_files does, and starts all image work); it ends when the host starts another
(Zensical parses its config afresh for each build of `zensical serve`) or when the
process exits: then it waits for the rest, writes the manifest and logs the summary.
``max_credits`` holds for the process: each build gets what earlier ones left.
"""

from __future__ import annotations

import atexit
import os
import threading
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

from ...build.session import BuildSession, PlaceholdersRefused, open_provider, pages_worth_reading
from ...core.frozen import frozen
from ...core.pages import PageText
from ...core.reporting import Reporter, scrub
from ...core.settings import Settings, SettingsError
from .options import Where, named, settings_for
from .zensical import blog_dirs, fix_blog_views, forget_cached_pages, host_logger

__all__: list[str] = []


@frozen
class Build:
    """One build as the host knows it: the same ``id`` for every page of the build."""

    id: Any
    where: Where
    root_dir: str | None = None  # Zensical's project folder (its page cache), None elsewhere
    read_docs: bool = True  # False where page names are not known (plain Python-Markdown)


class MarkdownHost:
    def __init__(self) -> None:
        self.log = host_logger()
        self.report = Reporter(self.log.warning)
        self.lock = threading.RLock()
        self._build: Build | None = None
        self._options: Mapping[str, Any] = {}
        self.session: BuildSession | None = None
        self.spent = 0  # credits spent by the builds of this process that have ended
        self._at_exit = False

    def session_for(self, build: Build, options: Mapping[str, Any]) -> BuildSession:
        """The session of ``build``, opened at its first page. Options that cannot work in
        this project raise SettingsError, starting with the extension's name, at every
        page that asks: the plugin fails its build on them, and so does the host."""
        with self.lock:
            if self.session is not None and self._build is not None and self._build.id == build.id \
                    and self._options == options:
                return self.session
            self.end_build()
            try:
                settings = settings_for(options, build.where)
            except SettingsError as exc:
                raise named(exc) from None
            # what earlier builds of this process spent is spent: max_credits is per process
            settings = replace(settings, max_credits=max(0, settings.max_credits - self.spent))
            pages = self._pages(settings) if build.read_docs else []
            provider = open_provider(settings) if settings.mode == "live" else None
            self.session = BuildSession.open(settings, pages, self.log.warning, provider=provider, info=self.log.info)
            self._build, self._options = build, dict(options)
            if not self._at_exit:
                atexit.register(self.end_build)
                self._at_exit = True
            return self.session

    def _pages(self, settings: Settings) -> list[PageText]:
        docs = Path(settings.docs_dir)
        found = []
        for path in sorted(docs.rglob("*.md")):
            try:
                text: str | None = path.read_text(encoding="utf-8")
            except UnicodeDecodeError:
                text = None
            found.append((path.relative_to(docs).as_posix(), text))
        return pages_worth_reading(found, settings, self.report)

    def end_build(self) -> None:
        """Wait for the build's images, log its summary; under Zensical, make its next
        build render again the pages that show one of our figures (their files are in
        this build's site_dir only)."""
        with self.lock:
            session, build, self.session, self._build = self.session, self._build, None, None
        if session is None or build is None:
            return
        try:
            self.log.info(scrub(session.close()))
        except PlaceholdersRefused as exc:  # the host publishes anyway: say it loudly
            self.log.error(scrub(str(exc)))
        finally:
            buyer = session.scheduler.buyer
            self.spent += buyer.credits_spent if buyer is not None else 0
            if build.root_dir is not None:
                fix_blog_views(session.settings.site_dir, session.settings.output_dir, blog_dirs())
            if build.root_dir is not None and forget_cached_pages(build.root_dir) is None:
                self.report.once("zensical cache", (
                    f"Zensical's page cache is not in {os.path.join(build.root_dir, '.cache')}: a later build may "
                    "reuse pages whose images it no longer copies; build with `zensical build --clean`"))


#: The process's host: Python-Markdown gives its extensions no shared place of their own.
HOST = MarkdownHost()
