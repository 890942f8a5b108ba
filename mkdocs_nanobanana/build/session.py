"""The core as a host sees it: one build (``BuildSession``) and one `serve` run
(``ServeSession``), with plain strings in and out. A host adapter (hosts/mkdocs/plugin.py for MkDocs
and ProperDocs) only translates its objects and hooks into these calls:

    session = BuildSession.open(settings, pages, warn)   # read every page, start all work
    session.markdown(page, markdown, source)  # each directive -> a token of this build
    session.html(page, html, page_url)        # each token -> its finished <figure>
    session.finish_page(page, output, page_url)  # figures borrowed from other pages, meta tags
    session.close()                           # wait for the rest; the summary line

Tokens survive any Markdown container (lists, admonitions, tabs) and any plugin that
copies Markdown between pages (a blog's excerpts), which a <figure> would not.
"""

from __future__ import annotations

import os
import re
import secrets
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING

from ..cards import social
from ..core.directives import INFO_WORD, replace_blocks
from ..core.errors import NanobananaError
from ..core.pages import PageText
from ..core.reporting import Reporter
from ..core.settings import Settings, page_label
from ..imaging import markup
from ..providers import connect
from ..providers.base import Provider
from ..store.cache import Cache
from ..store.spill import Spill
from ..store.temp import temp_age
from .analysis import Analysis
from .approval import offline_cause
from .budget import Budget
from .own_choice import front_matter_problem
from .purchase import Buyer
from .scheduler import Scheduler
from .slot import Slot

__all__: list[str] = []

# Imported where they are used: a warm build (the common one) runs none of them.
if TYPE_CHECKING:
    from ..store.remote import RemoteCache
    from .deferred import DeferredGeneration
    from .own_images import OwnImages, Resolve
    from .stopping import SignalStop


def open_provider(settings: Settings, environ: Mapping[str, str] = os.environ) -> Provider:
    """The configured provider with the key from the environment (ProviderUnavailable if
    it cannot be used). It opens no connection until its first call."""
    return connect(settings.provider, settings.api_base, environ[settings.api_key_env], settings.timeouts,
                   settings.concurrency, settings.ref_images)


def open_remote_tier(settings: Settings, report: Reporter, without_it: str) -> RemoteCache | None:
    """The remote cache, or None (with a warning that ends in ``without_it``) if it is
    not configured or cannot be reached."""
    if not settings.remote_cache:
        return None
    from ..store.remote import RemoteError, open_remote

    try:
        return open_remote(settings.remote_cache, settings.remote_cache_options)
    except RemoteError as exc:
        report.warn(f"{exc}; {without_it}")
        return None


def pages_worth_reading(pages: Iterable[tuple[str, str | None]], settings: Settings,
                        report: Reporter) -> list[PageText]:
    """Of (src path, text or None if it is not UTF-8), the pages with a directive or a
    nanobanana front matter; every page when each one may get a card (social.source auto,
    the default, or generate); with responsive_images, those that may show a picture too.
    The word tests are a cheap filter: most pages have no directive."""
    every_page = settings.social.enabled and settings.social.source in ("auto", "generate")
    pictures = settings.responsive_images
    out = []
    for page, text in pages:
        if text is None:  # the host reports the page itself; we only say what to do
            report.warn(f"{page_label(settings, page)}: the file is not UTF-8 text, so its directives cannot be "
                        "read: save it as UTF-8")
        elif every_page or INFO_WORD in text or (pictures and ("![" in text or "<img" in text or "]:" in text)):
            out.append(PageText(page, text))
    return out


def first_line(source: str, markdown: str) -> int:
    """The file line where ``markdown`` starts: hosts hand pages over without front matter."""
    if markdown and source.endswith(markdown):
        return source[: len(source) - len(markdown)].count("\n") + 1
    return 1


def newest_save(folder: str) -> float:
    """The newest modification time of a file under ``folder`` (time.time() scale): serve's
    debounce counts from the last save, whatever the builds take."""
    newest = 0.0
    for root, _dirs, files in os.walk(folder):
        for name in files:
            try:
                newest = max(newest, os.stat(os.path.join(root, name)).st_mtime)
            except OSError:  # removed meanwhile
                pass
    return newest


class PlaceholdersRefused(NanobananaError):
    """``placeholders: fail`` (the default of gh-deploy) and the site would ship placeholders."""


def refusal(settings: Settings, shown: list[tuple[Slot, str]], summary: str) -> str:
    """Every placeholder the site would ship, page:line first, and the fixes."""
    lines = [f"  {slot.errors[0]}" if slot.errors
             else f"  {slot.where}{' (social card)' if not slot.shown else ''}: {note}"
             for slot, note in shown[:50]]
    if len(shown) > 50:
        lines.append(f"  ... and {len(shown) - 50} more")
    why = offline_cause(settings) + "; " if settings.mode != "live" else ""
    return (
        f"{len(shown)} placeholder(s) would be published, and placeholders is 'fail': {why}{summary}\n"
        + "\n".join(lines) + "\n"
        f"Fix: export {settings.api_key_env} and build again, or run `nanobanana generate` first; "
        f"fix the directives named above; or publish them anyway with placeholders: allow in {settings.config_name} "
        "(or NANOBANANA_PLACEHOLDERS=allow)."
    )


class BuildSession:
    def __init__(self, settings: Settings, warn: Callable[[str], None], *, provider: Provider | None = None,
                 defer: bool = False, site_url: str = "", session_budget: Budget | None = None,
                 info: Callable[[str], None] | None = None, progress: bool = True) -> None:
        """``provider``: pay for missing images in this build (live mode only).
        ``defer``: pay for nothing, collect them in ``deferred`` (serve's background).
        ``info``: where news that is no warning goes (the host's INFO log), progress lines
        among it (``progress``; `nanobanana generate` shows a bar instead)."""
        self.settings = settings
        self.report = Reporter(warn, info)
        self.cache = Cache(settings.cache_dir)
        # images an earlier build bought but could not store (a full disk): into the cache, checked
        for line in Spill.of(settings.cache_dir, (settings.docs_dir, settings.site_dir)).adopt_into(self.cache):
            self.report.info(line)
        self.remote = open_remote_tier(settings, self.report, "building with the local cache only")
        live = settings.mode == "live" and not defer
        if live and provider is not None and settings.key_note:
            self.report.once("key variables", settings.key_note)
        buyer = (Buyer(provider, self.cache, settings, self.report.warn, remote=self.remote)
                 if live and provider is not None else None)
        self.analysis = Analysis(settings, self.cache, self.report)
        self.scheduler = Scheduler(settings, self.analysis, self.report, buyer=buyer, defer=defer, remote=self.remote,
                                   session_budget=session_budget, progress=progress)
        self.site_url = site_url
        self.cache.temp.clean(temp_age(settings.timeout, settings.retries))
        # a token ends in Y, so token 1 is never a prefix of token 12; the nonce keeps a
        # page's own text from ever looking like one
        self._prefix = f"NANOBANANA{secrets.token_hex(4).upper()}X"
        self._token_re = rf"{self._prefix}\d+Y"
        self._count = 0
        self._tokens: dict[str, list[tuple[str, Slot]]] = {}  # page -> its tokens, in order
        self._slot_of: dict[str, Slot] = {}  # every token of this build
        self._signals: SignalStop | None = None
        # the site's own pictures (responsive_images), on the same pools and tiers
        self.own: OwnImages | None = None
        if settings.responsive_images:  # off by default: a site without it never imports it
            from .own_images import OwnImages

            self.own = OwnImages(settings, self.scheduler.renderer, self.scheduler.shared, self.report)
        self._eager: set[str] = set()  # pages whose first image loads eagerly already

    @classmethod
    def open(cls, settings: Settings, pages: list[PageText], warn: Callable[[str], None],
             drafts: Sequence[PageText] = (), **kwargs) -> BuildSession:
        """Read every page's directives, check them site-wide, and start all image work
        (``drafts``: see ``start``)."""
        session = cls(settings, warn, **kwargs)
        session.start(pages, drafts)
        return session

    def start(self, pages: list[PageText], drafts: Sequence[PageText] = ()) -> None:
        """Read every page's directives, check them site-wide, and start all image work.
        ``drafts``: pages this build does not show (draft_docs), whose images the cache's
        manifest still records as in use."""
        self.analysis.drafts = list(drafts)
        self.analysis.read(pages)
        self.scheduler.start()
        if self.own is not None:  # their copies are made while the host renders pages
            from .own_images import local_images, opted_out
        for p in pages:
            problem = front_matter_problem(p.text)
            if problem is not None:
                self.report.warn(f"{page_label(self.settings, p.page)}:{problem[0]}: {problem[1]}")
            elif self.own is not None and not opted_out(p.text):  # copies made while the host renders pages
                self.own.start(local_images(p.text, p.page, self.settings.docs_dir))

    def catch_signals(self) -> None:
        """From now until ``close`` or ``abort``, SIGINT and SIGTERM stop safely (see
        stopping.py): the host calls this in its main thread, before any image work
        starts. A build that pays for nothing keeps the default handlers."""
        buyer = self.scheduler.buyer
        if buyer is None:
            return
        from .stopping import SignalStop

        signals = SignalStop(lambda signum: self._stopped(buyer, signum), lambda: buyer.in_flight,
                             self.report.warn)
        self._signals = signals if signals.install() else None

    def _stopped(self, buyer: Buyer, signum: int) -> None:
        """The first SIGINT or SIGTERM: keep what is paid for, send nothing more, and end
        the run with the shell's exit code (130, 143)."""
        from .stopping import exit_code, signal_name

        name = signal_name(signum)
        self.report.warn(f"{name}: stopping; no new request is sent, the {buyer.in_flight} in "
                         f"flight are awaited and kept (another {name} exits at once)")
        self.report.warn(self.scheduler.interrupt(name))
        raise SystemExit(exit_code(signum))

    def _release_signals(self) -> None:
        if self._signals is not None:
            self._signals.restore()
            self._signals = None

    @property
    def deferred(self):
        return self.scheduler.deferred

    # -- pages -------------------------------------------------------------------------

    def card_url(self, page: str) -> str | None:
        """The site-relative URL of the page's card (ready once ``close`` returns),
        percent-encoded (a page named `c#-tips.md` or `my page.md`), or None."""
        plan = self.analysis.cards.get(page)
        return markup.url_path(social.card_url(page, self.settings.output_dir)) if plan else None

    def view_card(self, page: str, title: str, posts: list[str]) -> str | None:
        """Give a blog view (a page a blog plugin makes after ``open``: its index,
        archive, category pages) the card of its first post that has one, drawn with the
        view's title; its URL as ``card_url`` gives it, or None. ``posts``: the src paths of
        the posts it lists, in its order."""
        plan = self.analysis.plan_view_card(page, title, posts)
        if plan is not None:
            self.scheduler.start_card(page, plan)
        return self.card_url(page)

    def markdown(self, page: str, markdown: str, source: Callable[[], str]) -> str:
        """The page's Markdown with each directive replaced by a token of this build.
        ``source()`` is the page's file text (front matter included), asked for only if
        the page has a directive.

        If another plugin changed the page's directives since they were read, the page is
        read again and its images started now. The page's text is let go after this."""
        try:
            return self._tokens_for(page, markdown, source)
        finally:
            self.analysis.release(page)

    def _tokens_for(self, page: str, markdown: str, source: Callable[[], str]) -> str:
        if INFO_WORD not in markdown:
            return markdown
        read = self.analysis.text_read(page)  # the file is read once a build, not again here
        start = first_line(read if read is not None and read.endswith(markdown) else source(), markdown)
        pairs, fresh = self.analysis.reread(page, markdown, start)
        if fresh:
            self.scheduler.start_slots(fresh)
        if not pairs:
            return markdown
        tokens = []
        for _ in pairs:
            self._count += 1
            tokens.append(f"{self._prefix}{self._count}Y")
        self._tokens[page] = [(t, s) for t, (_, s) in zip(tokens, pairs, strict=True)]
        self._slot_of.update((t, s) for t, (_, s) in zip(tokens, pairs, strict=True))
        return replace_blocks(markdown, [b for b, _ in pairs], tokens, start)

    def html(self, page: str, html: str, page_url: str, site_url: str = "", *, resolve: Resolve | None = None,
             own: bool = True, hidden: Iterable[str] = ()) -> str:
        """The page's HTML with each of its tokens replaced by its <figure>, and (with
        ``responsive_images``, unless ``own`` is False: the page's front matter says so)
        each of its own pictures that ``resolve`` finds in docs_dir by a <picture>. The
        page's first image loads eagerly: it is likely above the fold. URLs are relative to
        ``page_url``, or under ``site_url`` when a host cannot tell the page's URL (plain
        Python-Markdown). ``hidden``: the theme's sidebars the page hides (Material's
        ``hide:``), whose column its ``sizes`` fit."""
        items = self._tokens.pop(page, None)
        sizes = self.settings.sizes_for(tuple(hidden))
        own_eager = False
        if self.own is not None and own and resolve is not None and "<img" in html:
            token = re.search(self._token_re, html) if items else None
            html, own_eager = self.own.pictures(html, page_url, resolve, sizes=sizes, site_url=site_url,
                                                eager_before=token.start() if token else len(html) + 1)
        if own_eager or items:
            self._eager.add(page)
        if not items:
            return html
        renderer = self.scheduler.renderer
        figures = {token: renderer.figure(slot, page_url, eager=(i == 0 and not own_eager), site_url=site_url,
                                          sizes=sizes) for i, (token, slot) in enumerate(items)}
        return markup.embed(html, figures, self._token_re)

    def feed_markdown(self, page: str, markdown: str) -> str:
        """The page's Markdown as a feed may read it (mkdocs-rss-plugin makes each item's
        description from it): each token of this build becomes its figure with absolute
        URLs under site_url, or nothing without one. Never a token: a reader would see it."""
        if self._prefix not in markdown:
            return markdown
        renderer = self.scheduler.renderer
        figures = self._figures_in(markdown, lambda slot: renderer.figure(slot, "", eager=False, site_url=self.site_url)
                                   if self.site_url else "")
        return re.sub(self._token_re, lambda m: figures.get(m.group(0), ""), markdown)

    def _figures_in(self, text: str, figure: Callable[[Slot], str]) -> dict[str, str]:
        """``figure`` of the slot of each token of this build that ``text`` holds. The
        text's own tokens, not every token of the site looked for in it: that was pages x
        images substring searches, most of on_page_content's 8.9 s at 20,000 pages."""
        found = set(re.findall(self._token_re, text))
        return {t: figure(self._slot_of[t]) for t in found if t in self._slot_of}

    def leftover_directives(self, page: str, first_lines: list[str]) -> None:
        """Directives that reached ``page``'s Markdown after the plugin read it (a
        pymdownx.snippets include): they are shown as code and not generated. Say so,
        rather than leave a YAML listing on the page unexplained."""
        for first in first_lines:
            self.report.warn(
                f"{page_label(self.settings, page)}: a {INFO_WORD} directive ({first}) reached this page through an "
                "include (pymdownx.snippets or another Markdown preprocessor), so it is shown as code and not "
                "generated: put the directive in the page itself")

    def finish_page(self, page: str, output: str, page_url: str, *, view_region: str | None = None,
                    resolve: Resolve | None = None, own: bool = True, hidden: Iterable[str] = ()) -> str:
        """The whole page: figures that reached it from other pages, and the card's tags.
        ``view_region``: the page is a blog view, whose post excerpts (the elements of
        that class) may hold the posts' own pictures too: its first image of all loads
        eagerly, as a post's does."""
        eager = view_region is not None and page not in self._eager
        sizes = self.settings.sizes_for(tuple(hidden))
        if view_region is not None and self.own is not None and own and resolve is not None and "<img" in output:
            token = re.search(self._token_re, output) if self._prefix in output else None
            before = (token.start() if token else len(output) + 1) if eager else -1
            output, made = self.own.pictures(output, page_url, resolve, sizes=sizes, eager_before=before,
                                             region=view_region)
            eager = eager and not made
        if self._prefix in output:
            output = self._embed_borrowed(output, page_url, eager, sizes)
        return self._with_meta_tags(page, output, page_url) if self.settings.social.enabled else output

    def _embed_borrowed(self, output: str, page_url: str, eager: bool = False, sizes: str | None = None) -> str:
        """Figures of other pages that reached this one as Markdown, e.g. the post excerpts
        Material's blog plugin renders on its index, archive and category pages: their
        URLs are made relative to this page; with ``eager``, the first loads eagerly."""
        first = re.search(self._token_re, output)
        renderer = self.scheduler.renderer
        figures = self._figures_in(output, lambda slot: renderer.figure(slot, page_url, eager=False, sizes=sizes))
        if eager and first is not None and first.group(0) in figures:
            figures[first.group(0)] = renderer.figure(self._slot_of[first.group(0)], page_url, eager=True, sizes=sizes)
        return markup.embed(output, figures, self._token_re)

    def _with_meta_tags(self, page: str, output: str, page_url: str) -> str:
        if page not in self.analysis.cards:
            return output
        card = social.card_url(page, self.settings.output_dir)
        if self.site_url:
            url = markup.absolute_url(card, self.site_url)
        else:
            self.report.once("site_url", "site_url is not set, so social card URLs are relative; most sites "
                             f"that read og:image need an absolute URL: set site_url in {self.settings.config_name}")
            url = markup.url_path(markup.relative_url(card, page_url))
        head = output[: social.head_end(output)]
        # page_url comes from the host already percent-encoded (posts/my%20post/)
        canonical = self.site_url.rstrip("/") + "/" + page_url if self.site_url else ""
        if self.analysis.cards[page].image_url and social.has_tag(head, "og:image"):
            url = ""  # the theme shows the page's own image (front matter image: a URL) as og:image: it stays alone
        tags = social.meta_tags(url, self.analysis.card_meta[page], head, page_url=canonical,
                                site_name=self.settings.social.site_name)
        return social.inject_head(output, tags)

    # -- the end -----------------------------------------------------------------------

    def close(self) -> str:
        """Wait for every image and card, stop the workers; the summary line.
        PlaceholdersRefused if the policy is ``fail`` and the site would ship one."""
        try:
            own = self.own.finish() if self.own is not None else None
            summary = self.scheduler.finish(own)
        finally:
            self._release_signals()
        if self.settings.placeholders == "fail" and not self.scheduler.defer:
            shown = self.scheduler.placeholders()
            if shown:
                raise PlaceholdersRefused(refusal(self.settings, shown, summary))
        return summary

    def abort(self) -> None:
        """A failed build: drop the work that has not started."""
        self._release_signals()
        self.scheduler.close(wait=False)


class ServeSession:
    """`mkdocs serve`: a build never waits on the network. Missing images are
    placeholders, handed to a DeferredGeneration generator that lives as long as the server;
    when one lands, a file the server watches is touched and the page rebuilt."""

    def __init__(self, warn: Callable[[str], None], info: Callable[[str], None],
                 environ: Mapping[str, str] = os.environ) -> None:
        self.warn, self.info, self.environ = warn, info, environ
        self.report = Reporter(warn, info)  # lives as long as the server
        self.deferred_generation: DeferredGeneration | None = None
        self._made_for: tuple = ()
        # the session's, not a generator's: a config edit makes a new generator, never a
        # fresh max_credits nor a retry of what failed; only a restart of serve does
        self.budget: Budget | None = None
        self.failed: set[str] = set()
        self._signals: SignalStop | None = None
        self._saved_at = 0.0
        self._spent_before = (0, 0, 0.0)  # images, credits, USD of generators a config edit replaced

    def catch_signals(self) -> None:
        """SIGTERM (a `kill`, `docker stop`) stops the server as Ctrl-C does: MkDocs shuts
        down and ``close`` keeps the images in flight. A second signal exits at once,
        between cache writes. Call it in the main thread."""
        def in_flight() -> int:
            return self.deferred_generation.buyer.in_flight if self.deferred_generation is not None else 0

        def stop(_signum: int) -> None:
            raise KeyboardInterrupt  # MkDocs' own way out of serve, which ends in on_shutdown

        from .stopping import SignalStop

        signals = SignalStop(stop, in_flight, self.report.warn)
        self._signals = signals if signals.install() else None

    def open_build(self, settings: Settings, pages: list[PageText], **kwargs) -> BuildSession:
        """A build of the site; under live mode, its missing images are deferred."""
        defer = settings.mode == "live"
        if defer:
            self._ensure_generation(settings).building()
            self._saved_at = newest_save(settings.docs_dir)  # before the pages are read
        return BuildSession.open(settings, pages, self.warn, defer=defer, session_budget=self.budget, info=self.info,
                                 **kwargs)

    def _ensure_generation(self, s: Settings) -> DeferredGeneration:
        """One background generator per serve session (a new one if mkdocs.yml changed
        what it calls or where it stores)."""
        wanted = (s.provider, s.api_base, s.api_key_env, s.timeouts, s.concurrency, s.cache_dir, s.max_credits,
                  s.serve_debounce, s.retries)
        if self.deferred_generation is not None and self._made_for == wanted:
            return self.deferred_generation
        if self.deferred_generation is not None:
            self.deferred_generation.close()
            self._spent_before = self.spent()
        if self.budget is None:
            self.budget = Budget(s.max_credits)
        self.budget.resize(s.max_credits)  # raised in mkdocs.yml: more to spend; what was spent stays spent
        from .deferred import DeferredGeneration, marker_path

        marker = marker_path(s.cache_dir)
        if s.key_note:
            self.report.once("key variables", s.key_note)
        remote = open_remote_tier(s, self.report, "new images stay local")
        buyer = Buyer(open_provider(s, self.environ), Cache(s.cache_dir), s, self.report.warn,
                      scope="until serve restarts", remote=remote)
        self.deferred_generation = DeferredGeneration(
            buyer, concurrency=s.concurrency, debounce=s.serve_debounce, budget=self.budget, failed=self.failed,
            on_landed=lambda: marker.write_text(f"{time.time()}\n"), report=self.report,
        )
        self._made_for = wanted
        return self.deferred_generation

    def spent(self) -> tuple[int, int, float]:
        """Images, credits and USD this serve session has paid for in the background."""
        images, credits, usd = self._spent_before
        generation = self.deferred_generation
        if generation is not None:
            buyer = generation.buyer
            images, credits, usd = images + generation.generated, credits + buyer.credits_spent, usd + buyer.usd_spent
        return images, credits, usd

    def _spend_line(self) -> str:
        images, credits, usd = self.spent()
        return f"{images} image(s) generated in the background this serve session ({credits} credits ~ ${usd:.2f})"

    def close_build(self, session: BuildSession) -> None:
        """Log the build's summary (with what the session has paid so far) and hand its
        missing images to the background."""
        summary = session.close()
        self.info(summary + (f"; {self._spend_line()}" if self.spent()[0] else ""))
        generation = self.deferred_generation
        if session.scheduler.defer and generation is not None:
            docs, saved = session.settings.docs_dir, self._saved_at
            busy = generation.submit(session.deferred, saved_at=saved, unchanged=lambda: newest_save(docs) <= saved)
            if busy:
                self.info(f"{busy} image(s) being generated in the background; the page reloads as each is ready")
            over = session.scheduler.over_session_budget
            if over:
                self.info(f"{over} image(s) not generated: max_credits for this serve session reached "
                          f"({generation.budget.max_credits}); restart serve or raise max_credits to continue")

    @staticmethod
    def watched_folder(settings: Settings) -> str:
        """The folder the server must watch: an image landing touches a file there."""
        from .deferred import marker_path

        marker = marker_path(settings.cache_dir)
        marker.parent.mkdir(parents=True, exist_ok=True)
        marker.touch()
        return str(marker.parent)

    def close(self) -> None:
        """Stop: send nothing more, wait for the images being generated (they are paid
        for, so they are kept) and say what was kept and what was never sent."""
        try:
            if self.deferred_generation is not None:
                if self.deferred_generation.busy:
                    self.info("waiting for the images being generated (they are paid for, so they are kept)")
                dropped = self.deferred_generation.close(why="the server stopping")
                self.info(f"stopped: {self._spend_line()}, all kept; {dropped} never sent")
                self.deferred_generation = None
        finally:
            if self._signals is not None:
                self._signals.restore()
                self._signals = None
