"""What `nanobanana prune` keeps beyond what the sites' records name: never what a build
under way may use, and never anything while the manifest cannot be read.

A build records its site in the manifest only when it ends, so an entry it has just
paid for is in no record yet: prune keeps every entry written less than the settle age
ago (``temp_age``: longer than any purchase, and never under an hour), whose key's lock
is held, or that another runner has claimed in the remote store, and says so. With
--remote, every key another runner has claimed (is buying) stays; abandoned claims go.
"""

from __future__ import annotations

import time

import click

from ..core.settings import Settings
from ..store import prune as pruning
from ..store.cache import Cache, SiteRecord
from ..store.claims import Claims
from ..store.manifest_damage import BadManifest, unrecovered
from ..store.remote import RemoteCache, RemoteError, open_remote

__all__: list[str] = []


def recorded_sites(cache: Cache, all_sites: bool = False) -> dict[str, SiteRecord]:
    """The manifest's records; prune stops here (ClickException) if it is damaged, or a
    damaged one set aside holds records it no longer has. ``all_sites``: the other
    sites' records do not matter, so a damaged manifest is no reason to stop (this
    site's own record is what could be read of it)."""
    try:
        sites = cache.read_sites()
    except BadManifest as exc:
        if all_sites:
            return dict(exc.recovered or {})
        raise click.ClickException(exc.refusal()) from None
    if all_sites:
        return sites
    aside = unrecovered(cache.root)
    if aside:
        raise click.ClickException(
            f"{aside[0]} holds the records of a damaged manifest that a build set aside, so prune cannot tell what "
            "the other sites sharing this cache use, and deletes nothing. Build every site that shares this cache, "
            "then delete that file; or run `nanobanana prune --all-sites` to prune for this site alone.")
    return sites


def _minutes(seconds: float) -> str:
    return f"{seconds / 60:.0f} minutes"


def _say_kept(busy: dict[str, str], where: str) -> None:
    for key, why in sorted(busy.items()):
        click.echo(f"kept {where} {key}: in use by a build under way ({why})")
    if busy:
        click.echo(f"  in use by a build under way: {len(busy)} entr{'y' if len(busy) == 1 else 'ies'} kept; "
                   "prune again once those builds are done")


def live_claims(settings: Settings) -> dict:
    """The remote store's live claims by key (none without a remote cache); a store that
    fails is a warning: then what another runner is buying is not known."""
    if not settings.remote_cache:
        return {}
    try:
        return Claims(open_remote(settings.remote_cache, settings.remote_cache_options)).survey()[0]
    except RemoteError as exc:
        click.echo(f"could not read the remote cache's claims ({exc}): an entry another runner is buying may be "
                   "removed", err=True)
        return {}


def keep_in_use(cache: Cache, keep: pruning.Keep, settle: float, claims: dict) -> None:
    """Add to ``keep`` the entries (and partial images) no record keeps that a build under
    way may use, saying which and why; and the cards drawn as recently."""
    candidates = (set(cache.keys()) | {p.name for p in cache.partial_dir.glob("*")}) - keep.keys
    busy = pruning.in_use(cache, candidates, settle, set(claims))
    keep.keys |= busy
    for key in busy:  # and every copy of its images: the build under way publishes them
        entry = cache.get(key)
        keep.sources |= {image.sha256 for image in entry.images} if entry is not None else set()
    _say_kept({k: _why(k, claims, settle) for k in busy}, "entry")
    if keep.cards is not None:  # cards a build under way drew for its pages
        keep.cards |= pruning.young_cards(cache, settle)


def _why(key: str, claims: dict, settle: float) -> str:
    if key in claims:
        return f"another runner is buying it, its claim lasts until {_clock(claims[key].deadline)}"
    return f"written less than {_minutes(settle)} ago, or being bought"


def _clock(when: float) -> str:
    return time.strftime("%H:%M:%S", time.localtime(when))


def prune_remote(store: RemoteCache, keys: set[str], cards: set[str] | None,
                 dry_run: bool) -> dict[str, list[tuple[str, int]]]:
    """Prune the remote store, keeping every key another runner is buying (a live
    claim); abandoned claims go. An entry uploaded a moment ago by a build of another
    branch goes, as every other branch's does (README: prune --remote from the branch
    that is built): the runners waiting for it find it gone and claim it again."""
    live, abandoned = Claims(store).survey()
    busy = {key: _why(key, live, 0) for key in set(live) - keys}
    _say_kept(busy, "remote entry")
    removed = store.prune(keys | set(busy), dry_run=dry_run, keep_cards=cards)
    gone = []
    for path in abandoned:
        gone.append((store.object_path(path), 0))
        if not dry_run:
            store.remove_object(path)
    return {"entries": removed, "claims": gone}
