"""A damaged manifest.json is loud and safe.

The manifest records what each site sharing a cache used at its last build; prune keeps
that for every other site. A manifest that cannot be read (a half-written file from
another tool, hand edits, or, in a committed cache, a git merge that left conflict
markers in it) must never be read as "no other site": prune would delete what they use,
silently. So:

- ``nanobanana prune`` refuses (unless --all-sites), naming the file and how to repair it;
- a build never rewrites it into a one-site manifest: it sets the damaged file aside
  (``manifest.damaged-<time>.json``) and records its own site in a fresh one, with
  every record it could recover. A git conflict is recovered whole: each side of it is
  read as the file it was on its branch, and each site keeps its newest record of the
  two. While a set-aside file exists that held records no longer in the manifest,
  prune refuses too: those sites' records are in that file only.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path
from typing import TypeVar

from ..core.errors import NanobananaError

__all__: list[str] = []

R = TypeVar("R")

#: The names a damaged manifest is set aside under: `manifest.damaged-<UTC time>.json`.
DAMAGED_PREFIX = "manifest.damaged-"
#: A set-aside file whose records were all recovered into the new manifest.
RECOVERED_PREFIX = "manifest.recovered-"
_MARK = re.compile(r"^(<{7}|\|{7}|={7}|>{7})(?: .*)?$")


class BadManifest(NanobananaError):
    """manifest.json cannot be read as the sites' records (damaged, or a git conflict left
    in it); ``recovered`` holds what both sides of a conflict recorded, if it was one."""

    def __init__(self, path: Path, why: str, recovered: dict | None = None) -> None:
        self.path = path
        self.why = why
        self.recovered = recovered
        super().__init__(f"{path} is damaged ({why})")

    def refusal(self) -> str:
        """What prune says instead of pruning."""
        how = ("build any site that shares this cache once: the build recovers both sides of the git conflict"
               if self.recovered else
               "restore it (from git: `git checkout -- <file>`, or resolve the merge), or delete it and build "
               "every site that shares this cache once, each records itself again")
        return (f"{self.path} is damaged ({self.why}), so prune cannot tell what the other sites sharing this "
                f"cache use, and deletes nothing. To repair it, {how}; or run `nanobanana prune --all-sites` "
                "to prune for this site alone (it forgets every other site).")


def conflict_sides(text: str) -> list[str] | None:
    """The file as it was on each side of a git merge conflict (lines outside the
    markers belong to both; a diff3 base section to neither); None if ``text`` has no
    well-formed conflict."""
    ours: list[str] = []
    theirs: list[str] = []
    section = "both"
    seen = False
    for line in text.splitlines(keepends=True):
        mark = _MARK.match(line.rstrip("\r\n"))
        if mark is None:
            if section in ("both", "ours"):
                ours.append(line)
            if section in ("both", "theirs"):
                theirs.append(line)
            continue
        kind = mark.group(1)[0]
        expected = {"<": "both", "|": "ours", "=": ("ours", "base"), ">": "theirs"}[kind]
        if section not in (expected if isinstance(expected, tuple) else (expected,)):
            return None
        section = {"<": "ours", "|": "base", "=": "theirs", ">": "both"}[kind]
        seen = True
    return ["".join(ours), "".join(theirs)] if seen and section == "both" else None


def merge_newest(sides: list[dict[str, R]], built: Callable[[R], str]) -> dict[str, R]:
    """Every site of every side, each with its newest record (by ``built``, ISO time)."""
    merged: dict[str, R] = {}
    for side in sides:
        for site, record in side.items():
            if site not in merged or built(record) > built(merged[site]):
                merged[site] = record
    return merged


def set_aside(path: Path, recovered: bool) -> Path:
    """Rename the damaged manifest out of the way, to a name that says when (and whether
    its records were all recovered); the new name."""
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S.%fZ")
    aside = path.with_name(f"{RECOVERED_PREFIX if recovered else DAMAGED_PREFIX}{stamp}.json")
    path.replace(aside)
    return aside


def unrecovered(folder: Path) -> list[Path]:
    """Damaged manifests set aside whose records no manifest holds any more."""
    return sorted(folder.glob(f"{DAMAGED_PREFIX}*.json"))
