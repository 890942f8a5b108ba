"""`nanobanana doctor`: what a new user gets wrong, each as a pass/warn/fail Check with its fix.

Plain functions over plain facts: project.host_facts reads mkdocs.yml (the MkDocs side),
and these judge it. Nothing here spends anything: the API is only connected to (TCP, and
TLS for https), never sent a request, and the key is never shown, only its length and
the shape of its first characters.
"""

from __future__ import annotations

import os
import re
import socket
import ssl
import subprocess
import sys
import tempfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import yaml

from ..core.catalog import PROVIDERS
from ..core.settings import Settings
from ..store.cache import Cache
from ..store.spill import Spill

__all__: list[str] = []

if TYPE_CHECKING:
    from ..hosts.mkdocs.facts import HostFacts

PASS, WARN, FAIL = "pass", "warn", "fail"
EXIT_CODES = {PASS: 0, WARN: 1, FAIL: 2}
MIN_PYTHON = (3, 10)  # pyproject's requires-python
MKDOCS_RANGE = ((1, 6), (2, 0))  # pyproject's mkdocs>=1.6,<2
CONNECT_TIMEOUT = 5.0
#: Google API keys (Gemini's) start with this, by Google's documented key format.
GOOGLE_KEY_PREFIX = "AIza"


@dataclass(frozen=True)
class Check:
    name: str
    status: str  # pass | warn | fail
    detail: str
    fix: str = ""


def exit_code(checks: Iterable[Check]) -> int:
    """0 when all pass, 1 with a warning, 2 with a failure."""
    return max((EXIT_CODES[c.status] for c in checks), default=0)


def run_checks(facts: HostFacts, environ: Mapping[str, str] = os.environ) -> list[Check]:
    """Every check, in the order a newcomer would fix them."""
    checks = [*check_python(sys.version_info[:2], Path(facts.config_file).parent), *check_hosts()]
    checks += check_plugin(facts)
    s = facts.settings
    if s is None:
        return checks
    checks += [check_key(s, environ, facts.mode_error is not None), check_mode(s, facts.mode_error, environ),
               check_api(s, s.mode == "live" or facts.mode_error is not None)]
    checks += [check_cache_dir(s, facts), *check_spill(s), check_cache_in_git(s), check_remote(s)]
    return checks + check_cards(s, facts)


# --------------------------------------------------------------------------- Python and hosts


def _version(parts: tuple[int, ...] | None) -> str:
    """A version as a pin writes it (3.12); "?" for a pin that could not be read."""
    return ".".join(map(str, parts)) if parts else "?"


def check_python(running: tuple[int, int], project_dir: Path) -> list[Check]:
    """This interpreter, and the Python that CI pins (a pin below 3.10 fails only there)."""
    ok = running >= MIN_PYTHON
    rows = [Check("python", PASS if ok else FAIL, f"{_version(running)} (needs {_version(MIN_PYTHON)}+)",
                  "" if ok else "install Python 3.10 or newer and reinstall mkdocs-nanobanana in it")]
    pins = list(ci_python_pins(project_dir))
    bad = [(where, v) for where, v in pins if v is None or v < MIN_PYTHON]
    if bad:
        shown = "; ".join(f"{where} pins {'3.1 (an unquoted 3.10)' if v == (3, 1) else _version(v)}"
                          for where, v in bad)
        rows.append(Check("python in CI", FAIL, shown, "pin \"3.12\" (quoted: YAML reads an unquoted 3.10 as 3.1); "
                          "the plugin needs Python 3.10+"))
    elif pins:
        rows.append(Check("python in CI", PASS, "; ".join(f"{w} pins {_version(v)}" for w, v in pins)))
    return rows


def ci_python_pins(project_dir: Path) -> Iterable[tuple[str, tuple[int, int] | None]]:
    """(file, version) of each Python version pinned by GitHub Actions workflows
    (python-version), .gitlab-ci.yml (image: python:X.Y) or .python-version, looked for
    from the project's folder up to its git root."""
    for folder in _up_to_git_root(project_dir.resolve()):
        for wf in sorted((folder / ".github" / "workflows").glob("*.y*ml")):
            for value in _values_of(_yaml(wf), "python-version"):
                for v in value if isinstance(value, list) else [value]:
                    yield _rel(wf, project_dir), _parse_version(v)
        gitlab = folder / ".gitlab-ci.yml"
        if gitlab.is_file():
            for m in re.finditer(r"\bpython:(\d+)\.(\d+)", gitlab.read_text(encoding="utf-8", errors="replace")):
                yield _rel(gitlab, project_dir), (int(m[1]), int(m[2]))
        pin = folder / ".python-version"
        if pin.is_file():
            yield _rel(pin, project_dir), _parse_version(pin.read_text(encoding="utf-8").strip())


def _up_to_git_root(folder: Path) -> Iterable[Path]:
    for f in (folder, *folder.parents):
        yield f
        if (f / ".git").exists():
            return


def _rel(path: Path, base: Path) -> str:
    return os.path.relpath(path, base).replace(os.sep, "/")


def _yaml(path: Path):
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError, UnicodeDecodeError):
        return None


def _values_of(node, key: str) -> Iterable:
    if isinstance(node, dict):
        for k, v in node.items():
            if k == key:
                yield v
            else:
                yield from _values_of(v, key)
    elif isinstance(node, list):
        for item in node:
            yield from _values_of(item, key)


def _parse_version(value) -> tuple[int, int] | None:
    """(3, 9) from 3.9, "3.9", "3.9.18" or "3.x"; None for what is not a version (an expression)."""
    m = re.match(r"^\s*(\d+)\.(\d+|x)", str(value))
    if not m:
        return None
    return (int(m[1]), 99 if m[2] == "x" else int(m[2]))


def check_hosts() -> list[Check]:
    """MkDocs (which this command and `mkdocs build` use) and ProperDocs if installed."""
    rows = []
    for name, required in (("mkdocs", True), ("properdocs", False)):
        try:
            version = metadata.version(name)
        except metadata.PackageNotFoundError:
            if required:
                rows.append(Check(name, FAIL, "not installed", "pip install 'mkdocs>=1.6,<2'"))
            continue
        parts = tuple(int(p) for p in re.findall(r"\d+", version)[:2])
        low, high = MKDOCS_RANGE
        ok = low <= parts < high
        rows.append(Check(name, PASS if ok else FAIL,
                          f"{version} (needs {_version(low)} or newer, before {_version(high)})",
                          "" if ok else f"pip install '{name}>={_version(low)},<{_version(high)}'"))
    return rows


# --------------------------------------------------------------------------- the plugin


def check_plugin(facts: HostFacts) -> list[Check]:
    if facts.plugin == "missing":
        return [Check("plugin", FAIL, f"nanobanana is not under plugins: in {facts.config_file}",
                      "add `- nanobanana` under plugins: (after `- search`)")]
    if facts.plugin == "disabled":
        return [Check("plugin", WARN, "nanobanana is listed but enabled: false", "remove enabled: false to use it")]
    rows = [Check("plugin", PASS, "nanobanana is enabled")]
    if facts.settings_error:
        rows.append(Check("plugin options", FAIL, facts.settings_error,
                          "change the option the message names in mkdocs.yml"))
    rows.append(check_order(facts))
    return rows


def check_order(facts: HostFacts) -> Check:
    wrong = [f for f in facts.order if not f.ok]
    if not facts.order:
        return Check("plugin order", PASS, "no blog, rss, social or meta plugin to order against")
    if not wrong:
        return Check("plugin order", PASS, "runs " + ", ".join(
            f"{f.wanted} {f.plugin} ({f.event})" for f in facts.order))
    detail = "; ".join(f"must run {f.wanted} {f.plugin} in on_{f.event}: {f.why}" for f in wrong)
    fixes = []
    for f in wrong:
        if f.ours == f.theirs:  # same priority: mkdocs.yml's order decides
            fixes.append(f"list nanobanana {'above' if f.wanted == 'before' else 'below'} {f.plugin} under plugins:")
        else:
            fixes.append(f"{f.plugin} runs on_{f.event} at priority {f.theirs} (nanobanana at {f.ours}): "
                         f"update {f.plugin}")
    return Check("plugin order", FAIL, detail, "; ".join(dict.fromkeys(fixes)))


# --------------------------------------------------------------------------- key, mode, API


def key_shape(key: str) -> str:
    """How a key looks without showing it: its length and the shape of its first four
    characters (a letter is a or A, a digit 9), or Google's public 'AIza' prefix."""
    if key.startswith(GOOGLE_KEY_PREFIX):
        return f"{len(key)} characters, starts with '{GOOGLE_KEY_PREFIX}' (a Google API key)"
    shape = "".join("A" if c.isupper() else "a" if c.isalpha() else "9" if c.isdigit() else c if c in "-_." else "?"
                    for c in key[:4])
    return f"{len(key)} characters, first four shaped '{shape}'"


def check_key(s: Settings, environ: Mapping[str, str], needed: bool = False) -> Check:
    """Set or not, and whether it looks like a key; ``needed``: the mode asks for live."""
    var = s.api_key_env
    key = environ.get(var, "").strip()
    if not key:
        return Check("API key", FAIL if needed else WARN,
                     f"{var} is not set: " + ("the mode is live" if needed else "builds draw placeholders"),
                     f"export {var}=<your key> (in CI: a secret); never put the key in mkdocs.yml")
    problems = []
    if any(c.isspace() for c in key) or key[0] in "'\"" or key[-1] in "'\"":
        problems.append("it holds spaces or quotes: the value was probably pasted with them")
    if len(key) < 20:
        problems.append("it is shorter than any real key")
    if s.provider == "gemini" and not key.startswith(GOOGLE_KEY_PREFIX):
        problems.append(f"Google API keys start with '{GOOGLE_KEY_PREFIX}'")
    detail = f"{var} is set ({key_shape(key)})"
    if problems:
        return Check("API key", WARN, f"{detail}; but {'; '.join(problems)}", f"export {var} again with the key alone")
    return Check("API key", PASS, detail)


def check_mode(s: Settings, mode_error: str | None, environ: Mapping[str, str]) -> Check:
    if mode_error:
        return Check("mode", FAIL, mode_error, "export the key, or set mode: auto (placeholders without it)")
    has_key = bool(environ.get(s.api_key_env, "").strip())
    why = {"environment": f"NANOBANANA_MODE={environ.get('NANOBANANA_MODE', '').strip()} is set in the environment",
           "config": "mkdocs.yml's mode" + (f", {s.api_key_env} set" if has_key else ""),
           "no key": f"mode auto, and {s.api_key_env} is not set"}[s.mode_set_by]
    if s.mode == "live":
        return Check("mode", PASS, f"live ({why}): missing images are generated, within max_credits {s.max_credits}")
    if has_key and s.mode_set_by == "environment":
        return Check("mode", WARN, f"offline although the key is set: {why}", "unset NANOBANANA_MODE")
    if has_key:
        return Check("mode", WARN, "offline although the key is set: mode: offline in mkdocs.yml",
                     "set mode: auto (live whenever the key is set)")
    return Check("mode", PASS, f"offline ({why}): images the cache lacks are placeholders")


def check_api(s: Settings, wanted_live: bool) -> Check:
    """A TCP connection (and a TLS handshake for https) to api_base: no request, no spend."""
    base = s.api_base or PROVIDERS[s.provider].api_base
    parts = urlsplit(base)
    host, port = parts.hostname or "", parts.port or (443 if parts.scheme == "https" else 80)
    try:
        with socket.create_connection((host, port), timeout=CONNECT_TIMEOUT) as sock:
            if parts.scheme == "https":
                with ssl.create_default_context().wrap_socket(sock, server_hostname=host):
                    pass
    except (OSError, ssl.SSLError) as exc:
        reason = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
        return Check("api_base", FAIL if wanted_live else WARN, f"{base}: cannot connect ({reason})",
                     "check the network (a proxy, a firewall), or api_base in mkdocs.yml")
    connection = "TLS" if parts.scheme == "https" else "TCP"
    return Check("api_base", PASS, f"{base}: reachable ({connection} connection; no request sent)")


# --------------------------------------------------------------------------- caches


def check_cache_dir(s: Settings, facts: HostFacts) -> Check:
    """Writable, and a folder. Inside site_dir or docs_dir it never gets here: the
    settings refuse it (settings._cache_dir), and doctor shows that under plugin options."""
    shown = os.path.relpath(s.cache_dir, Path(facts.config_file).parent)
    existing = Path(s.cache_dir)
    while not existing.exists():
        existing = existing.parent
    if not existing.is_dir():
        return Check("cache_dir", FAIL,
                     f"{shown}: {_rel(existing, Path(facts.config_file).parent)} is a file, not a folder",
                     "move that file, or set cache_dir to another folder")
    try:
        with tempfile.NamedTemporaryFile(dir=existing, prefix=".nanobanana-doctor-"):
            pass
    except OSError as exc:
        return Check("cache_dir", FAIL, f"{shown}: cannot write in {existing} ({exc.strerror})",
                     "give this user write access, or set cache_dir to a writable folder")
    made = "" if Path(s.cache_dir).is_dir() else " (created by the first build)"
    return Check("cache_dir", PASS, f"{shown}: writable{made}, outside docs_dir and site_dir")


def check_spill(s: Settings) -> list[Check]:
    """Images a build bought but could not store in cache_dir (full, read-only): kept in a
    spill folder (store/spill.py) until a build can move them in. No row when there are none."""
    rows = []
    for spill in Spill.of(s.cache_dir, (s.docs_dir, s.site_dir)).folders:
        cache = Cache(spill)
        entries = sum(1 for _ in cache.keys())
        partial = len(list(cache.partial_dir.glob("*/*"))) if cache.partial_dir.is_dir() else 0
        if entries or partial:
            rows.append(Check("spilled images", WARN, f"{entries} entr{'y' if entries == 1 else 'ies'} and {partial} "
                              f"partial image(s) bought while cache_dir could not take them are kept in {spill}",
                              "free some space or make cache_dir writable: the next build moves them in, "
                              "checked, and pays nothing for them"))
    return rows


def check_cache_in_git(s: Settings) -> Check:
    """Whether git would commit the cache; a cache that is neither committed nor kept
    elsewhere (CI cache, remote_cache) is paid for again on every fresh checkout."""
    folder = Path(s.cache_dir)
    where = next(p for p in (folder, *folder.parents) if p.is_dir())
    try:
        root = _git(where, "rev-parse", "--show-toplevel")
    except OSError:
        return Check("cache in git", PASS, "git is not installed: not checked")
    if root.returncode != 0:
        return Check("cache in git", PASS, "not in a git repository")
    top = Path(root.stdout.strip())
    rel = _rel(folder.resolve(), top.resolve())
    probe = f"{rel}/images/00/entry.json"  # a file the cache will hold
    if not _ignored(top, probe):
        return Check("cache in git", PASS, f"{rel} is not ignored by git: commit it (or keep it in a CI cache)")
    rule = _git(top, "check-ignore", "-v", "--", probe).stdout.split("\t")[0]
    if s.remote_cache:
        return Check("cache in git", PASS, f"{rel} is ignored by git ({rule}); remote_cache keeps the images")
    lines = " ".join(f"`{line}`" for line in reinclude_lines(top, rel))
    return Check("cache in git", WARN,
                 f"{rel} is ignored by git ({rule}): a fresh clone or CI run has none of its images and pays again",
                 f"either commit it: add {lines} to the end of the top-level .gitignore (git cannot re-include a "
                 "folder whose parent is ignored, hence the lines for each parent); or keep it ignored and keep it "
                 f"elsewhere: a CI cache of {rel} (actions/cache) or remote_cache (README: Teams and CI)")


def reinclude_lines(top: Path, rel: str) -> list[str]:
    """.gitignore lines that make git see ``rel`` (a folder) while its ignored parents'
    other contents stay ignored: from the topmost ignored parent down, re-include the
    folder and ignore its contents, then re-include the next one."""
    parts = rel.split("/")
    chain = ["/".join(parts[: i + 1]) for i in range(len(parts))]
    first = next(i for i, d in enumerate(chain) if _ignored(top, d + "/"))
    lines = []
    for d in chain[first:-1]:
        lines += [f"!/{d}/", f"/{d}/*"]
    return lines + [f"!/{rel}/"]


def _git(where: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["git", "-C", str(where), *args], capture_output=True, text=True, timeout=20)


def _ignored(top: Path, path: str) -> bool:
    return _git(top, "check-ignore", "-q", "--", path).returncode == 0


def check_remote(s: Settings) -> Check:
    if not s.remote_cache:
        return Check("remote cache", PASS, "not configured (remote_cache)")
    from ..store.remote import RemoteError, open_remote

    try:
        store = open_remote(s.remote_cache, s.remote_cache_options)
        exists = store.fs.exists(store.root)
    except RemoteError as exc:
        return Check("remote cache", FAIL, str(exc), "install the backend it names, or fix remote_cache")
    except Exception as exc:  # noqa: BLE001 - any backend's own error (credentials, network)
        return Check("remote cache", FAIL, f"{s.remote_cache}: {type(exc).__name__}: {exc}",
                     "check the backend's credentials in the environment (never in mkdocs.yml) and the URL")
    return Check("remote cache", PASS, f"{s.remote_cache}: reachable" + ("" if exists else ", empty so far"))


# --------------------------------------------------------------------------- social cards


#: What changes for a site that turns Material's social plugin off and nanobanana's cards on.
SWITCH_CHANGES = ("cards become JPEGs at assets/nanobanana/social/<page>.jpg (theirs: PNGs at "
                  "assets/images/social/), drawn with no font download and no cairo (but for an SVG logo), in every "
                  "script the system's fonts have; layouts in cards_layout_dir are not read (write one in nanobanana's "
                  "format: social.layout); icons are not drawn")


def check_material(facts: HostFacts) -> list[Check]:
    """Material's social plugin: how to switch from it, and what of its options is read."""
    theirs = facts.material_cards
    if not theirs.configured:
        return []
    read = ", ".join(theirs.options()) or "none of its options (none is set)"
    if facts.our_cards_option and facts.material_social:
        return [Check("Material's social", WARN, "Material's social plugin is on: it makes every card, nanobanana "
                      f"none. To switch, set enabled: false under it: nanobanana then reads {read}; {SWITCH_CHANGES}",
                      "plugins: - social: {enabled: false} (to keep theirs: social: {enabled: false} under "
                      "nanobanana)")]
    if facts.material_social:
        return [Check("Material's social", PASS, "on, and nanobanana's cards are off (social.enabled: false)")]
    return [Check("Material's social", PASS, f"off: nanobanana makes the cards and reads {read} as its defaults")]


def check_cards(s: Settings, facts: HostFacts) -> list[Check]:
    material = check_material(facts)
    if facts.our_cards_option and facts.material_social:
        return material
    cards = _card_count(s, facts)
    if not cards:
        why = ("social.enabled: false" if not s.social.enabled
               else "no page gets a card (social.source: none, no social: true)")
        return [*material, Check("social cards", PASS, f"off: {why}")]
    rows = [*material, Check("social cards", PASS, f"{cards} page(s) get a card"), check_font(s.social.font)]
    if not facts.site_url:
        rows.append(Check("site_url", WARN, "not set: card URLs are relative, and link previews need absolute ones",
                          "set site_url: https://your.site/ in mkdocs.yml"))
    else:
        rows.append(Check("site_url", PASS, facts.site_url))
    return rows


def _card_count(s: Settings, facts: HostFacts) -> int:
    from ..build.analysis import Analysis
    from ..core.reporting import Reporter
    from ..store.cache import Cache

    analysis = Analysis(s, Cache(s.cache_dir), Reporter(lambda _m: None))  # the build reports page errors
    analysis.read(list(facts.pages))
    return len(analysis.cards)


def check_font(font: str | None) -> Check:
    """The font cards are drawn with: social.font, or Pillow's built-in one (FreeType)."""
    from PIL import ImageFont

    try:
        ImageFont.truetype(font, 30) if font else ImageFont.load_default(size=30)
    except (OSError, ImportError, ValueError) as exc:
        where = f"social.font {font}" if font else "the built-in font"
        return Check("card font", FAIL, f"{where} cannot be loaded ({exc})",
                     "point social.font at a .ttf or .otf file" if font
                     else "install Pillow with FreeType, or set social.font")
    from ..core.card_theme import fallback_fonts

    fallbacks = fallback_fonts()
    others = (f"what it lacks from {len(fallbacks)} system font(s) (fontconfig), e.g. Chinese, Japanese and Korean "
              "with fonts-noto-cjk" if fallbacks else "no system fonts found for what it lacks (install fontconfig "
              "and fonts-noto-core, fonts-noto-cjk)")
    return Check("card font", PASS if fallbacks else WARN,
                 f"{f'social.font {font}' if font else 'built-in (Latin)'}; {others}")
