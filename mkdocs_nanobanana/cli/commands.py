"""The `nanobanana` command: plan the spend, generate ahead, review, prune, verify, and
draw one page's card (`card`).

It reads the same mkdocs.yml as a build (through project.load_project) and works with
the same analysis, cache and scheduler, so a plan, a generate and a build agree. Only
`generate` starts threads or calls the API; `plan`, `review`, `prune` and `verify` analyse.

Exit codes: 0 success; 1 something to fix (a directive error, a failed generation, a bad
cache entry, a refused confirmation); 2 a usage error.
"""

from __future__ import annotations

import base64
import contextlib
import html
import io
import json
import logging
import os
import sys
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any

import click
from PIL import Image

from .. import __version__
from ..build import site_use
from ..build.analysis import Analysis
from ..build.own_images import groups_in_use
from ..build.plan import PlanRow
from ..build.plan import plan as plan_rows
from ..build.renderer import Renderer
from ..build.session import BuildSession, open_provider, open_remote_tier
from ..build.sources import open_checked
from ..core.card_layouts import LayoutError
from ..core.image_bytes import displayable
from ..core.reporting import Reporter, ScrubbingFilter, scrub
from ..core.settings import Settings, SettingsError, page_label
from ..providers import ProviderUnavailable
from ..providers import placeholder as placeholder_renderer
from ..store import prune as pruning
from ..store.cache import Cache, CachedImage, SiteRecord, derived_names
from ..store.own_index import OwnIndex
from ..store.remote import RemoteCache, RemoteError
from ..store.repair import keep_intact_and_remove
from ..store.temp import temp_age
from . import guarded_prune

__all__: list[str] = []

CONFIG_HELP = ("The site's config file (default: the first of mkdocs.yml, mkdocs.yaml, properdocs.yml and "
               "properdocs.yaml in this folder).")


def _warn(message: str) -> None:
    click.echo(scrub(message), err=True)


class _ScrubbedGroup(click.Group):
    """The command group whose every error message (a ClickException of any command:
    what click prints as "Error: ...") is scrubbed of the key before click prints it."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except click.ClickException as exc:
            exc.message = scrub(exc.message)  # type: ignore[misc]  # click types it Final; it is the text click prints
            raise


REPORT = Reporter(_warn)


def _load(config_file: str | None, mode: str, drafts: bool = False) -> tuple[Settings, list]:
    """Settings and pages of the site, with the mode forced for this command (and, with
    ``drafts``, the draft_docs pages that serve shows)."""
    from ..hosts.mkdocs.loading import load_project  # the MkDocs side reads mkdocs.yml

    environ = {**os.environ, "NANOBANANA_MODE": mode}
    try:
        return load_project(_config_file(config_file), environ, REPORT, drafts=drafts)
    except SettingsError as exc:
        raise click.ClickException(str(exc)) from None


def _group_config_file() -> str | None:
    """`nanobanana -f site/mkdocs.yml plan`: the group's -f, when the command has none."""
    ctx = click.get_current_context(silent=True)
    return (ctx.find_root().obj or {}).get("config_file") if ctx else None


def _config_file(given: str | None) -> str:
    """The config file to read: -f (the command's, else the group's), else the one the
    hosts would build here (mkdocs.yml, then properdocs.yml...), which it names on stderr
    so a folder with more than one says which it read. SettingsError if there is none."""
    from ..hosts.mkdocs.loading import find_config, found_note

    given = given or _group_config_file()
    if given:
        return given
    found = find_config()
    _warn(f"nanobanana: reading {os.path.basename(found)} ({found_note(found)})")
    return found


def _analysed(settings: Settings, pages: list) -> Analysis:
    analysis = Analysis(settings, Cache(settings.cache_dir), REPORT)
    analysis.read(pages)
    return analysis


def _plan(analysis: Analysis, remote: RemoteCache | None) -> list[PlanRow]:
    """The plan, with images the remote cache holds counted as cached."""
    return plan_rows(analysis, remote.has_many(analysis.unknown_keys()) if remote else set())


def _state_counts(rows: list[PlanRow]) -> dict[str, int]:
    counts = {"cached": 0, "missing": 0, "changed": 0, "error": 0}
    for r in rows:
        counts[r.state] += 1
    return counts


@click.group(cls=_ScrubbedGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="nanobanana")
@click.option("-v", "--verbose", is_flag=True, help="Log everything, HTTP included (the key never is).")
@click.option("-f", "--config-file", type=click.Path(dir_okay=False),
              help=CONFIG_HELP + " Also taken after the command; given in both places, the command's wins.")
@click.pass_context
def main(ctx: click.Context, verbose: bool, config_file: str | None) -> None:
    """Plan, generate, review, prune and verify the images of a MkDocs site that uses the
    nanobanana plugin, without building the site; `doctor` checks the setup."""
    ctx.obj = {"config_file": config_file}
    logging.basicConfig(level=logging.DEBUG if verbose else logging.WARNING,
                        format="%(levelname)s - %(name)s - %(message)s")
    for handler in logging.getLogger().handlers:  # -v prints every library's lines: none shows the key
        handler.addFilter(ScrubbingFilter())


@main.command()
@click.option("-f", "--config-file", type=click.Path(dir_okay=False), help=CONFIG_HELP)
@click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts and CI.")
def plan(config_file: str | None, as_json: bool) -> None:
    """Every directive with its state and what generating the missing ones costs.

    Makes no API call. States: cached (in the cache), missing (never generated),
    changed (generated before, but the directive changed since), error (fix it first).
    Exits 1 if any directive has an error.

    \b
    Examples:
      nanobanana plan
      nanobanana plan -f docs-site/mkdocs.yml --json | jq .total_credits
    """
    settings, pages = _load(config_file, "offline")
    remote = open_remote_tier(settings, REPORT, "the plan counts the local cache only")
    rows = _plan(_analysed(settings, pages), remote)
    counts = _state_counts(rows)
    credits, price = sum(r.credits for r in rows), sum(r.usd for r in rows)
    if as_json:
        click.echo(json.dumps({
            "directives": [asdict(r) for r in rows],
            "counts": counts,
            "total_credits": credits,
            "total_usd": round(price, 2),
        }, indent=2))
    else:
        width = max((len(r.where) for r in rows), default=10)
        for r in rows:
            if r.state == "error":
                click.echo(f"{r.where:<{width}}  error    {r.note}")
                continue
            cost = f"{r.credits} credits" if r.credits else ""
            note = f" ({r.note})" if r.note else ""
            click.echo(f"{r.where:<{width}}  {r.state:<8} {r.name or '-':<14} {r.model:<26} {r.ratio:<5} "
                       f"x{r.num}  {cost}{note}")
        click.echo(
            f"{len(rows)} directive(s): {counts['cached']} cached, {counts['missing']} missing, "
            f"{counts['changed']} changed, {counts['error']} with errors. "
            f"Generating the missing and changed ones costs {credits} credits ~ ${price:.2f}."
        )
    if counts["error"]:
        sys.exit(1)


@main.command()
@click.option("-f", "--config-file", type=click.Path(dir_okay=False), help=CONFIG_HELP)
@click.option("--max-credits", type=click.IntRange(min=0),
              help="Spend at most this (default: max_credits of the config file).")
@click.option("--yes", "-y", is_flag=True, help="Do not ask for confirmation (needed when not in a terminal).")
def generate(config_file: str | None, max_credits: int | None, yes: bool) -> None:
    """Generate the missing images now, without building the site.

    Shows the cost and asks first (or pass --yes). Resized copies are prepared in the
    cache too, so the next build only copies files. Exits 1 if any image failed.

    \b
    Examples:
      nanobanana generate
      NANOBANANA_API_KEY=... nanobanana generate --yes --max-credits 50
    """
    settings, pages = _load(config_file, "live")
    settings = replace(settings, publish=False,
                       max_credits=settings.max_credits if max_credits is None else max_credits)
    try:
        provider = open_provider(settings)
    except ProviderUnavailable as exc:
        raise click.ClickException(str(exc)) from None
    session = BuildSession(settings, _warn, provider=provider, progress=False)  # its progress bar says it
    session.analysis.read(pages)
    try:
        _generate(session, settings, yes)
    finally:
        session.abort()  # after close(), a no-op; after a refusal, nothing was started


def _generate(session: BuildSession, settings: Settings, yes: bool) -> None:
    rows = [r for r in _plan(session.analysis, session.remote) if r.state in ("missing", "changed")]
    credits, price = sum(r.credits for r in rows), sum(r.usd for r in rows)  # a shared image counts once
    images = len({r.key or r.where for r in rows})
    broken = [s.where for s in session.analysis.all_slots() if s.errors]
    if not rows:
        click.echo("Nothing to generate: every image is in the cache.")
        _exit_if_broken(broken)
        return
    click.echo(f"{images} image(s) to generate: {credits} credits ~ ${price:.2f} (max_credits {settings.max_credits}).")
    if not yes:
        if not sys.stdin.isatty():
            raise click.ClickException("not a terminal, so nothing can be confirmed: pass --yes to spend these credits")
        click.confirm("Generate them?", abort=True)
    session.catch_signals()  # Ctrl-C or SIGTERM from here: keep what is paid for, send nothing more
    session.scheduler.start()
    waiting = [s for s in session.analysis.all_slots() if s.directive and not s.errors and s.entry is None]
    futures = {s.image_known: s for s in waiting}
    failed = []

    def spent(_done: object) -> str:
        return f"{session.scheduler.counts()['credits']} credits spent"

    with click.progressbar(
        length=len(futures), label="Generating", show_eta=True, show_pos=True, item_show_func=spent, file=sys.stderr,
    ) as bar:
        for fut in as_completed(futures):
            if fut.exception() is not None or fut.result() is None:
                failed.append(futures[fut])
            bar.update(1)
    click.echo(f"nanobanana: {session.close()}")
    if failed:
        order = {id(s): i for i, s in enumerate(session.analysis.all_slots())}
        click.echo(f"{len(failed)} image(s) not generated:", err=True)
        for s in sorted(failed, key=lambda s: order[id(s)]):  # page order, not completion order
            click.echo(f"  {s.where}", err=True)
        sys.exit(1)
    _exit_if_broken(broken)


def _exit_if_broken(broken: list[str]) -> None:
    """Exit 1 if a directive has an error (each was reported with its page:line): CI
    steps rely on the exit code, and an image with an error was not generated."""
    if broken:
        click.echo(f"{len(broken)} directive(s) with errors, not generated: {', '.join(broken)}; fix them first",
                   err=True)
        sys.exit(1)


@main.command()
@click.option("-f", "--config-file", type=click.Path(dir_okay=False), help=CONFIG_HELP)
@click.option("-o", "--output", type=click.Path(dir_okay=False, writable=True), default="review.html",
              show_default=True)
@click.option("--open", "open_it", is_flag=True, help="Open the sheet in a browser.")
def review(config_file: str | None, output: str, open_it: bool) -> None:
    """Write a one-file HTML contact sheet of every directive's candidates.

    Each candidate shows the `pick: N` line to paste into the directive. The file embeds
    its thumbnails, so it works opened from disk and can be sent around.

    \b
    Examples:
      nanobanana review && open review.html
      nanobanana review -o /tmp/sheet.html --open
    """
    settings, pages = _load(config_file, "offline")
    remote = open_remote_tier(settings, REPORT, "the sheet shows the local cache only")
    sheet = review_html(_analysed(settings, pages), settings, remote)
    try:
        Path(output).write_text(sheet, encoding="utf-8")
    except OSError as exc:
        raise click.ClickException(
            f"could not write {output}: {exc.strerror or exc}: check that its folder exists") from None
    click.echo(f"Wrote {output}")
    if open_it:
        click.launch(str(Path(output).resolve()))


def _thumbnail(img: Image.Image) -> str:
    img = displayable(img, alpha=False)
    img.thumbnail((360, 360))
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=80)
    return "data:image/jpeg;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def _cached_thumbnail(cached: CachedImage) -> str | None:
    """A cached candidate's thumbnail; None (and a warning) if its file is damaged."""
    try:
        with open_checked(cached) as img:
            return _thumbnail(img)
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as exc:
        REPORT.warn(f"the cached image {cached.path} cannot be read ({exc}): the sheet shows a "
                    "placeholder; run `nanobanana verify --fix`, then build or `nanobanana generate` to make it anew")
        return None


def review_html(analysis: Analysis, settings: Settings, remote: RemoteCache | None = None) -> str:
    """The contact sheet: one section a directive, one thumbnail a candidate."""
    e = html.escape
    sections = []
    for row, slot in zip(_plan(analysis, remote), analysis.identities().values(), strict=True):
        d = slot.directive
        if d is None or slot.errors:
            sections.append(f'<section class="error"><h2>{e(row.where)}</h2><p>{e(row.note)}</p></section>')
            continue
        model = settings.catalog.of(d.model)
        cards = []
        for i in range(1, d.num + 1):
            src = _cached_thumbnail(slot.entry.images[i - 1]) if slot.entry is not None else None
            marker = "" if src else '<span class="badge">placeholder</span>'
            if src is None:
                img = placeholder_renderer.render(d.prompt, row.key or "", model.sizes[d.ratio], i, d.num)
                src = _thumbnail(img)
            shown = " shown" if i == d.pick else ""
            cards.append(
                f'<figure class="candidate{shown}">{marker}<img src="{src}" alt="{e(d.alt_text)}, candidate {i}">'
                f"<figcaption><code>pick: {i}</code>{' (shown)' if shown else ''}</figcaption></figure>"
            )
        cost = f"{model.credits * d.num} credits (${model.usd * d.num:.2f})"
        sections.append(
            f'<section><h2>{e(d.where)}{" &middot; " + e(d.name) if d.name else ""}</h2>'
            f'<p class="prompt">{e(d.prompt)}</p>'
            f'<p class="meta">{e(d.model)} &middot; {e(d.ratio)} &middot; num {d.num} &middot; {cost} &middot; '
            f'{e(row.state)}</p>'
            f'<div class="grid">{"".join(cards)}</div></section>'
        )
    style = (
        "body{font:15px/1.5 system-ui,sans-serif;margin:2rem;color:#222}section{margin:0 0 2.5rem}"
        "h2{font-size:1rem;margin:0}.prompt{margin:.3rem 0;font-style:italic}.meta{color:#666;margin:0 0 .6rem}"
        ".grid{display:flex;flex-wrap:wrap;gap:12px}figure{margin:0;position:relative;border:3px solid transparent}"
        "figure.shown{border-color:#e0a800}img{display:block;max-width:360px}figcaption{font-size:.9rem}"
        ".badge{position:absolute;top:4px;left:4px;background:#333;color:#fff;font-size:.75rem;padding:1px 6px}"
        ".error{color:#a00}"
    )
    return (
        f"<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>nanobanana review</title>"
        f"<style>{style}</style></head><body><h1>nanobanana review</h1>{''.join(sections)}</body></html>\n"
    )


@main.command()
@click.option("-f", "--config-file", type=click.Path(dir_okay=False), help=CONFIG_HELP)
@click.option("--dry-run", is_flag=True, help="List what would go; delete nothing.")
@click.option("--remote", is_flag=True, help="Prune the remote cache (remote_cache) instead of the local one.")
@click.option("--all-sites", is_flag=True,
              help="Also remove what other sites or branches sharing cache_dir use, and forget them.")
def prune(config_file: str | None, dry_run: bool, remote: bool, all_sites: bool) -> None:
    """Remove every cache file the current settings and pages do not use.

    Removes entries no directive uses, resized copies of widths, formats or quality no
    longer configured (or of images no longer shown), social cards whose title, image or
    site name changed, lock files whose key has no entry, and temp files of writers that
    died (older than any write could take). --dry-run lists each class with its count
    and bytes. Keeps every candidate of every directive in use, draft_docs pages included (so
    changing `pick` stays free), and whatever another site or branch sharing this
    cache_dir used at its last build (the manifest records each one; --all-sites
    ignores them), and every entry a build under way may use (written less than the
    settle age ago, at least an hour; being bought; or claimed by another runner).
    Refuses while the manifest is damaged (unless --all-sites). Deletes only files the
    plugin wrote: anything else in the cache folder is listed and left alone. With
    --remote, prunes the shared remote cache: other branches' images go too, so run it
    from the branch that is built (usually main); entries other runners are buying
    (live claims) stay, abandoned claims go.

    \b
    Examples:
      nanobanana prune --dry-run
      nanobanana prune
      nanobanana prune --remote --dry-run
    """
    settings, pages = _load(config_file, "offline", drafts=True)
    if remote and not settings.remote_cache:
        raise click.ClickException(f"--remote: no remote_cache is set in {settings.config_name}")
    analysis = _analysed(settings, pages)
    if any(s.errors for s in analysis.all_slots()):
        raise click.ClickException(
            "fix the directive errors above first: an invalid directive's image would look unused")
    keys = analysis.keys_in_use()
    cards = set(site_use.card_keys(analysis))
    settle = temp_age(settings.timeout, settings.retries)
    if remote:
        # a card's key needs its image's hash: known only if every card image is here
        known = all(plan.slot is None or plan.slot.entry is not None for plan in analysis.cards.values())
        try:
            removed = guarded_prune.prune_remote(_remote(settings), set(keys), cards if known else None, dry_run)
        except RemoteError as exc:
            raise click.ClickException(f"remote cache {settings.remote_cache}: {exc}") from None
        _report_removed(removed, [], dry_run)
        return
    sites = guarded_prune.recorded_sites(analysis.cache, all_sites)  # refuses while the manifest is damaged
    keep = pruning.Keep(set(keys), derived_names(site_use.derived_groups(analysis)), cards=cards)
    keep.derived |= derived_names(_own_in_use(settings, analysis, sites.get(settings.site)))
    if not all_sites:
        _other_sites(sites, settings.site, keep)
    elif not dry_run:
        analysis.cache.forget_sites(settings.site)
    guarded_prune.keep_in_use(analysis.cache, keep, settle, guarded_prune.live_claims(settings))
    pruned = pruning.prune(analysis.cache, keep, dry_run=dry_run, settle=settle)
    _report_removed(pruned.removed, pruned.foreign, dry_run)


def _own_in_use(settings: Settings, analysis: Analysis, last: SiteRecord | None) -> dict[str, frozenset[str]]:
    """The copies of the site's own pictures (responsive_images) its pages show, and those
    its last build recorded with the current encoding (a picture shown through an
    include, which the pages' Markdown does not name)."""
    groups = dict(groups_in_use(settings, analysis.cache, analysis.pages))
    tag = settings.own_encoding.tag
    for spec, ids in ((last.derived or {}) if last is not None else {}).items():
        if spec.endswith(f"|{tag}"):
            groups[spec] = groups.get(spec, frozenset()) | ids
    return groups


def _report_removed(removed: dict[str, list[tuple[Path, int]]] | dict[str, list[tuple[str, int]]],
                    foreign: list[Path], dry_run: bool) -> None:
    """Each file, then each class with its count and bytes, then the total."""
    verb = "would remove" if dry_run else "removed"
    every = [r for files in removed.values() for r in files]
    for path, size in every:
        click.echo(f"{verb} {path} ({size:,} bytes)")
    for path in foreign:
        click.echo(f"not ours, left alone: {path}")
    for cls, files in removed.items():
        click.echo(f"  {cls}: {len(files)} file(s), {sum(s for _, s in files):,} bytes")
    click.echo(f"{verb} {len(every)} file(s), {sum(s for _, s in every):,} bytes"
               + (f"; left {len(foreign)} thing(s) the plugin did not write" if foreign else ""))


def _other_sites(sites: dict[str, SiteRecord], site: str, keep: pruning.Keep) -> None:
    """Add to ``keep`` what every other site recorded in the manifest used at its last
    build: a cache shared by sites or branches loses nothing another one needs."""
    for other, record in sites.items():
        if other in (site, ""):
            continue
        if not os.path.exists(other.split(" @ ", 1)[0]):  # its mkdocs.yml is gone: so is the site
            click.echo(f"{other}: its config file is gone, so its entries are not kept")
            continue
        kept = len(record.keys - keep.keys)
        keep.add(record)
        click.echo(f"kept for {other} (built {record.built or 'at an unknown time'}): {kept} more entr"
                   f"{'y' if kept == 1 else 'ies'}; --all-sites would remove them")


def _remote(settings: Settings) -> RemoteCache:
    from ..store.remote import RemoteError, open_remote

    if not settings.remote_cache:
        raise click.ClickException(f"--remote: no remote_cache is set in {settings.config_name}")
    try:
        return open_remote(settings.remote_cache, settings.remote_cache_options)
    except RemoteError as exc:
        raise click.ClickException(str(exc)) from None


@main.command()
@click.option("-f", "--config-file", type=click.Path(dir_okay=False), help=CONFIG_HELP)
@click.option("--fix", is_flag=True, help="Remove bad entries; their intact images go to partial/, where the next "
              "build takes them and pays only for the rest.")
@click.option("--decode", is_flag=True,
              help="Also decode every image and check its pixel size (CPU bound, much slower).")
@click.option("--remote", is_flag=True,
              help="Check the remote cache (remote_cache): downloads and decodes every entry.")
def verify(config_file: str | None, fix: bool, decode: bool, remote: bool) -> None:
    """Check every cache entry against its sidecar: each file's size and sha256 (fast,
    bound by disk reads); with --decode, also that each image decodes to the pixel size
    its sidecar says (bound by CPU). The hash finds any byte changed since the entry was
    stored; only --decode finds an entry whose bytes were bad when it was stored.

    Exits 1 if any entry is bad (after --fix, only if one could not be removed).

    \b
    Examples:
      nanobanana verify
      nanobanana verify --decode --fix
      nanobanana verify --remote
    """
    settings, _ = _load(config_file, "offline")
    import tempfile

    from ..store.cache import Cache
    from ..store.remote import RemoteError

    cache: Cache | RemoteCache  # where --fix removes a bad entry
    if remote:
        store = _remote(settings)
        with tempfile.TemporaryDirectory() as scratch:
            try:
                bad = store.verify_entries(Cache(scratch))
                total = len(store.keys())
            except RemoteError as exc:
                raise click.ClickException(f"remote cache {settings.remote_cache}: {exc}") from None
        cache = store
    else:
        cache = Cache(settings.cache_dir)
        click.echo("checking each file's size and sha256 against its sidecar"
                   + (", and decoding it" if decode else " (--decode also decodes each image)"))
        bad = cache.verify_entries(decode=decode)
        total = sum(1 for _ in cache.keys())
    kept = 0
    for key, problems in bad.items():
        for p in problems:
            click.echo(f"bad: {p}")
        if fix:
            kept += _fix_entry(cache, key)
    if isinstance(cache, Cache) and settings.responsive_images:
        for problem in OwnIndex(cache).verify(fix=fix):
            click.echo(f"bad: {problem}" + (" (forgotten: the next build reads it again)" if fix else ""))
            bad[problem] = [problem]
    if isinstance(cache, Cache):
        bad.update(_verify_indexes(cache, set(bad), fix))
    click.echo(f"{total} entr{'y' if total == 1 else 'ies'} checked, {len(bad)} bad"
               + (", removed" if fix and bad else "")
               + (f"; {kept} intact image(s) kept in partial/: the next build takes them instead of paying"
                  if kept else ""))
    if bad and not fix:
        sys.exit(1)


def _verify_indexes(cache: Cache, bad: set[str], fix: bool) -> dict[str, list[str]]:
    """What the cache's indexes (store/folder_index.py) say that its files do not, but of
    entries already found bad; with ``fix``, an index that differs is removed (the next
    build writes it again from the files)."""
    found: dict[str, list[str]] = {}
    for index in (cache.sidecar_index, cache.backdrop_index):
        differences = [p for name, p in index.differences().items() if name[:64] not in bad]
        for problem in differences:
            click.echo(f"bad: {problem}" + (" (index removed: the next build reads the files)" if fix else ""))
            found[problem] = [problem]
        if differences and fix:
            index.forget()
    return found


def _fix_entry(cache: Cache | RemoteCache, key: str) -> int:
    """Remove a bad entry; a local one's intact images go to partial/ first (store/repair.py),
    as they are paid for. How many were kept."""
    if not isinstance(cache, Cache):
        cache.remove(key)  # the remote's blobs stay until prune; a machine that has the image keeps it
        click.echo(f"removed entry {key}")
        return 0
    try:
        repaired = keep_intact_and_remove(cache, key)
    except OSError as exc:
        click.echo(f"could not fix entry {key} ({exc.strerror or exc}): left as it is, nothing deleted", err=True)
        return 0
    damaged = f"; {repaired.dropped} damaged file(s) removed" if repaired.dropped else ""
    click.echo(f"removed entry {key}: "
               + (f"{repaired.kept} intact image(s) kept in partial/{damaged}" if repaired.kept
                  else f"no intact image in it{damaged}"))
    return repaired.kept


@main.command()
@click.argument("page")
@click.option("-f", "--config-file", type=click.Path(dir_okay=False), help=CONFIG_HELP)
@click.option("-o", "--output", type=click.Path(dir_okay=False, writable=True), default=None,
              help="Where the PNG goes (default: card-<page>.png in this folder).")
@click.option("--layout", help="A built-in layout or a layout file (relative to mkdocs.yml), instead of the page's.")
@click.option("--grid", is_flag=True, help="Draw a 50 px grid and each layer's box and index over the card.")
def card(page: str, config_file: str | None, output: str | None, layout: str | None, grid: bool) -> None:
    """Draw one page's social card to a PNG, without a build.

    PAGE is the page's Markdown file (docs/guide/setup.md) or its path in docs_dir
    (guide/setup.md). The card is drawn as a build would draw it, on its image if the
    cache has it, else on its placeholder: no API call, nothing paid, nothing published.

    \b
    Examples:
      nanobanana card docs/index.md
      nanobanana card blog/posts/hello.md --layout layouts/brand.yml --grid -o brand.png
    """
    settings, pages = _load(config_file, "offline")
    src = _page_of(page, settings, pages)
    analysis = _analysed(settings, pages)
    plan = analysis.cards.get(src)
    if plan is None:
        raise click.ClickException(
            f"{page_label(settings, src)} gets no social card: social.enabled, social.source, cards_include/"
            "cards_exclude or its front matter (nanobanana: {social: false}) say so")
    if layout:
        try:
            plan = analysis.in_layout(src, settings.social.layout_named(layout, "--layout"))
        except LayoutError as exc:
            raise click.ClickException(str(exc)) from None
    with ThreadPoolExecutor(1) as pool:
        renderer = Renderer(settings, Cache(settings.cache_dir), pool, REPORT)
        data = renderer.cards.card_preview(src, plan, settings.social.style(plan.layout), grid=grid)
    target = Path(output or f"card-{Path(src).with_suffix('').as_posix().replace('/', '-')}.png")
    target.write_bytes(data)
    click.echo(f"{target}: the card of {page_label(settings, src)} (1200x630 PNG, layout "
               f"{settings.social.style(plan.layout).card_layout.name})")


def _page_of(page: str, settings: Settings, pages: list) -> str:
    """PAGE as a src path: a file of docs_dir, or a path within it as written."""
    known = {p.page for p in pages}
    docs = Path(settings.docs_dir).resolve()
    candidates = [page.replace(os.sep, "/").removeprefix("./")]
    if os.path.isfile(page):
        with contextlib.suppress(ValueError):
            candidates.insert(0, Path(page).resolve().relative_to(docs).as_posix())
    found = next((c for c in candidates if c in known), None)
    if found is None:
        raise click.ClickException(f"{page}: not a page of this site (docs_dir {settings.docs_dir}); give its "
                                   "Markdown file (docs/guide/setup.md) or its path in docs_dir (guide/setup.md)")
    return found


@main.command()
@click.option("-f", "--config-file", type=click.Path(dir_okay=False), help=CONFIG_HELP)
def doctor(config_file: str | None) -> None:
    """Check the setup and print what to fix: a pass/warn/fail table.

    Checks Python (here and pinned in CI), MkDocs/ProperDocs, the plugin and its order
    among blog/rss/social plugins, the key (never shown: its length and shape), the mode
    and why, that api_base accepts a connection (no request is sent, nothing is spent),
    cache_dir (writable, outside docs_dir and site_dir, ignored by git or not), the remote
    cache, and social cards (font, Material's social plugin, site_url).
    Exits 0 if all pass, 1 if something warns, 2 if something fails.

    \b
    Examples:
      nanobanana doctor
      nanobanana doctor -f docs-site/mkdocs.yml
    """
    from ..hosts.mkdocs.facts import host_facts
    from ..hosts.mkdocs.loading import find_config, found_note
    from .doctor import Check, exit_code, run_checks

    given = config_file or _group_config_file()
    try:
        path = given or find_config()
        facts = host_facts(path, os.environ, Reporter(lambda _m: None))
        how = "given with -f" if given else found_note(path)
        checks = [Check("config file", "pass", f"{os.path.relpath(facts.config_file)} ({how})"), *run_checks(facts)]
    except SettingsError as exc:
        checks = [Check("config file", "fail", str(exc), "run it in the site's folder, or pass -f path/to/mkdocs.yml")]
    width = max(len(c.name) for c in checks)
    for c in checks:
        click.echo(f"{c.status.upper():<4}  {c.name:<{width}}  {c.detail}")
        if c.fix:
            click.echo(f"{'':<4}  {'':<{width}}  fix: {c.fix}")
    counts = {s: sum(c.status == s for c in checks) for s in ("pass", "warn", "fail")}
    click.echo(f"{counts['pass']} passed, {counts['warn']} warning(s), {counts['fail']} failed")
    sys.exit(exit_code(checks))
