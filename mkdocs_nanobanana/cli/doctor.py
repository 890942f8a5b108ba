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
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import yaml

from ..core.catalog import PROVIDERS
from ..core.frozen import frozen
from ..core.settings import Settings
from ..store.cache import Cache
from ..store.spill import Spill

__all__: list[str] = []

if TYPE_CHECKING:
    from ..hosts.mkdocs.facts import HostFacts, OrderFact

PASS, WARN, FAIL = "pass", "warn", "fail"
EXIT_CODES = {PASS: 0, WARN: 1, FAIL: 2}
MIN_PYTHON = (3, 10)  # pyproject's requires-python
MKDOCS_RANGE = ((1, 6), (2, 0))  # pyproject's mkdocs>=1.6,<2
CONNECT_TIMEOUT = 5.0
#: Google API keys (Gemini's) start with this, by Google's documented key format.
GOOGLE_KEY_PREFIX = "AIza"


@frozen
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


def _version(parts: tuple[int, ...]) -> str:
    """A version as a pin writes it (3.12)."""
    return ".".join(map(str, parts))


#: A command that builds the site: MkDocs', ProperDocs' or Zensical's build or gh-deploy
#: (python -m mkdocs build too). Only the Python of a CI job that runs one is the site's:
#: a library's test matrix in the same repository may pin Pythons the site never sees.
SITE_BUILD = re.compile(r"\b(?:mkdocs|properdocs|zensical)\s+(?:build|gh-deploy)\b")
#: One GitHub Actions expression, as ${{ matrix.python }} or ${{ env.PYTHON }}.
_EXPRESSION = re.compile(r"^\$\{\{\s*(matrix|env)\.([A-Za-z_][\w-]*)\s*\}\}$")


@frozen
class Pin:
    """A Python version a site's build is pinned to: in which file (and CI job), as written."""

    where: str
    version: tuple[int, int]
    written: str
    job: str = ""

    @property
    def shown(self) -> str:
        return "3.1 (an unquoted 3.10)" if self.written == "3.1" else self.written


def check_python(running: tuple[int, int], project_dir: Path) -> list[Check]:
    """This interpreter, and the Python that CI pins (a pin below 3.10 fails only there)."""
    ok = running >= MIN_PYTHON
    rows = [Check("python", PASS if ok else FAIL, f"{_version(running)} (needs {_version(MIN_PYTHON)}+)",
                  "" if ok else "install Python 3.10 or newer and reinstall mkdocs-nanobanana in it")]
    pins = list(ci_python_pins(project_dir))
    bad = [p for p in pins if p.version < MIN_PYTHON]
    if bad:
        rows.append(Check("python in CI", FAIL, _pins_text(bad), "pin \"3.12\" (quoted: YAML reads an unquoted "
                          "3.10 as 3.1) in the jobs that build the site; the plugin needs Python 3.10+"))
    elif pins:
        rows.append(Check("python in CI", PASS, _pins_text(pins)))
    return rows


def _pins_text(pins: list[Pin]) -> str:
    """"docs.yml pins 3.11 (job build)", each file and job once, its versions in order."""
    grouped: dict[tuple[str, str], list[str]] = {}
    for p in pins:
        shown = grouped.setdefault((p.where, p.job), [])
        if p.shown not in shown:
            shown.append(p.shown)
    return "; ".join(f"{where} pins {', '.join(versions)}" + (f" (job {job})" if job else "")
                     for (where, job), versions in grouped.items())


def ci_python_pins(project_dir: Path) -> Iterable[Pin]:
    """Each Python version the site's builds are pinned to: by the GitHub Actions jobs
    (python-version of a job that builds the site, its matrix and env resolved) and
    GitLab CI jobs (image: python:X.Y of a job that builds it), and .python-version,
    looked for from the project's folder up to its git root."""
    for folder in _up_to_git_root(project_dir.resolve()):
        for wf in sorted((folder / ".github" / "workflows").glob("*.y*ml")):
            yield from _workflow_pins(_yaml(wf), _rel(wf, project_dir))
        gitlab = folder / ".gitlab-ci.yml"
        if gitlab.is_file():
            yield from _gitlab_pins(_yaml(gitlab), _rel(gitlab, project_dir))
        pin = folder / ".python-version"
        if pin.is_file():
            first = (pin.read_text(encoding="utf-8", errors="replace").strip().splitlines() or [""])[0]
            version = _parse_version(first)
            if version:
                yield Pin(_rel(pin, project_dir), version, first.strip())


def _builds_the_site(commands: object) -> bool:
    lines = commands if isinstance(commands, list) else [commands]
    return any(isinstance(line, str) and SITE_BUILD.search(line) for line in lines)


def _workflow_pins(doc: Any, where: str) -> Iterable[Pin]:
    """The python-version pins of a workflow's jobs that build the site."""
    jobs = doc.get("jobs") if isinstance(doc, dict) else None
    for name, job in (jobs.items() if isinstance(jobs, dict) else ()):
        steps = job.get("steps") if isinstance(job, dict) else None
        if not isinstance(steps, list) or not any(isinstance(s, dict) and _builds_the_site(s.get("run"))
                                                  for s in steps):
            continue
        strategy = job.get("strategy")
        matrix = strategy.get("matrix") if isinstance(strategy, dict) else None
        env = {**_mapping(doc.get("env")), **_mapping(job.get("env"))}
        for step in steps:
            given = _mapping(step.get("with") if isinstance(step, dict) else None).get("python-version")
            for value in _listed(given):
                for written in _resolved(value, _mapping(matrix), env):
                    version = _parse_version(written)
                    if version:  # an expression left unresolved, or not a version: not judged
                        yield Pin(where, version, written, str(name))


def _mapping(value: object) -> dict:
    return value if isinstance(value, dict) else {}


def _listed(value: object) -> list:
    """python-version as setup-python takes it: one value, a list, or one a line."""
    if isinstance(value, list):
        return value
    if isinstance(value, str) and "\n" in value:
        return [line for line in value.splitlines() if line.strip()]
    return [] if value is None else [value]


def _resolved(value: object, matrix: dict, env: dict) -> list[str]:
    """The versions a python-version value stands for: itself, or each value of the
    matrix key (the include entries' too) or env variable it names; none for any other
    expression (inputs, fromJSON...), which doctor cannot know."""
    written = _written(value)
    m = _EXPRESSION.match(written)
    if not m:
        return [] if "${{" in written else [written]
    scope, key = m[1], m[2]
    if scope == "env":
        return _resolved(env[key], {}, {}) if key in env else []
    values = _listed(matrix.get(key))
    values += [entry[key] for entry in _listed(matrix.get("include")) if isinstance(entry, dict) and key in entry]
    return [w for v in values for w in _resolved(v, {}, env)]


def _written(value: object) -> str:
    """A YAML value as its text: an unquoted 3.10 is the float 3.1, and says so."""
    return repr(value) if isinstance(value, float) else str(value).strip()


def _gitlab_pins(doc: Any, where: str) -> Iterable[Pin]:
    """image: python:X.Y (or pypy:X.Y) of each GitLab CI job that builds the site; a job
    without one runs in the file's default image."""
    if not isinstance(doc, dict):
        return
    default = doc.get("image", _mapping(doc.get("default")).get("image"))
    for name, job in doc.items():
        if not isinstance(job, dict) or not any(_builds_the_site(job.get(k)) for k in ("script", "before_script")):
            continue
        image = job.get("image", default)
        image = image.get("name") if isinstance(image, dict) else image
        m = re.search(r"\b(?:python|pypy):(\d+(?:\.\d+)+)", str(image or ""))
        version = _parse_version(m[1]) if m else None
        if m and version:
            yield Pin(where, version, f"{'pypy' if 'pypy:' in m[0] else 'python'}:{m[1]}", str(name))


def _up_to_git_root(folder: Path) -> Iterable[Path]:
    for f in (folder, *folder.parents):
        yield f
        if (f / ".git").exists():
            return


def _rel(path: Path, base: Path) -> str:
    return os.path.relpath(path, base).replace(os.sep, "/")


class _CiLoader(yaml.SafeLoader):
    """YAML as CI files write it: a tag of their own (GitLab's !reference) is read as null
    rather than failing the whole file."""


_CiLoader.add_multi_constructor("!", lambda loader, suffix, node: None)


def _yaml(path: Path):
    try:
        return yaml.load(path.read_text(encoding="utf-8"), Loader=_CiLoader)  # a SafeLoader: no Python tags
    except (OSError, yaml.YAMLError, UnicodeDecodeError):
        return None


def _parse_version(value: str) -> tuple[int, int] | None:
    """(3, 9) from 3.9, 3.9.18, pypy-3.9-v7.x, pypy3.10 or 3.x (the newest: 3.99); None for
    what is not a version."""
    m = re.match(r"^\s*(?:pypy-?)?(\d+)\.(\d+|x)", value)
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
        return [Check("plugin", FAIL, f"nanobanana is not under plugins: in {Path(facts.config_file).name}",
                      "add `- nanobanana` under plugins: (after `- search`)")]
    if facts.plugin == "disabled":
        return [Check("plugin", WARN, "nanobanana is listed but enabled: false", "remove enabled: false to use it")]
    rows = [Check("plugin", PASS, "nanobanana is enabled")]
    if facts.settings_error:
        rows.append(Check("plugin options", FAIL, facts.settings_error,
                          f"change the option the message names in {Path(facts.config_file).name}"))
    rows.append(check_order(facts))
    return rows


def check_order(facts: HostFacts) -> Check:
    wrong = [f for f in facts.order if not f.ok]
    if not facts.order:
        return Check("plugin order", PASS, "no blog, rss, social or meta plugin to order against")
    if not wrong:
        return Check("plugin order", PASS, "runs " + ", ".join(_placed(facts.order)))
    detail = "; ".join(f"must run {place}: " + "; ".join(dict.fromkeys(f.why for f in wrong if f.plugin == name))
                       for name, place in zip(_neighbours(wrong), _placed(wrong, "in on_{}"), strict=True))
    fixes = []
    for f in wrong:
        if f.ours == f.theirs:  # same priority: mkdocs.yml's order decides
            fixes.append(f"list nanobanana {'above' if f.wanted == 'before' else 'below'} {f.plugin} under plugins:")
        else:
            fixes.append(f"{f.plugin} runs on_{f.event} at priority {f.theirs} (nanobanana at {f.ours}): "
                         f"update {f.plugin}")
    return Check("plugin order", FAIL, detail, "; ".join(dict.fromkeys(fixes)))


def _neighbours(facts: Iterable[OrderFact]) -> list[str]:
    return list(dict.fromkeys(f.plugin for f in facts))


def _placed(facts: tuple[OrderFact, ...] | list[OrderFact], event: str = "({})") -> list[str]:
    """Where ours runs against each neighbour, each named once: "before material/blog
    (page_markdown)", "before and after rss (page_content)"; ``event`` says the event."""
    out = []
    for name in _neighbours(facts):
        mine = [f for f in facts if f.plugin == name]
        events = list(dict.fromkeys(f.event for f in mine))
        if len(events) == 1:
            out.append(f"{' and '.join(dict.fromkeys(f.wanted for f in mine))} {name} {event.format(events[0])}")
        else:
            out.append(" and ".join(f"{f.wanted} {name if i == 0 else 'it'} {event.format(f.event)}"
                                    for i, f in enumerate(mine)))
    return out


# --------------------------------------------------------------------------- key, mode, API


def offline_by_config(s: Settings) -> bool:
    """The site's own config says mode: offline (not the environment): it never calls the
    API, so a missing key or an unreachable api_base is no problem for it."""
    return s.mode == "offline" and s.mode_set_by == "config"


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
    if not key and not needed and offline_by_config(s):
        return Check("API key", PASS, f"{var} is not set, and not needed: mode: offline in {s.config_name}")
    if not key:
        return Check("API key", FAIL if needed else WARN,
                     f"{var} is not set: " + ("the mode is live" if needed else "builds draw placeholders"),
                     f"export {var}=<your key> (in CI: a secret); never put the key in {s.config_name}")
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
           "config": f"{s.config_name}'s mode" + (f", {s.api_key_env} set" if has_key else ""),
           "no key": f"mode auto, and {s.api_key_env} is not set"}[s.mode_set_by]
    if s.mode == "live":
        return Check("mode", PASS, f"live ({why}): missing images are generated, within max_credits {s.max_credits}")
    if has_key and s.mode_set_by == "environment":
        return Check("mode", WARN, f"offline although the key is set: {why}", "unset NANOBANANA_MODE")
    if has_key:
        return Check("mode", WARN, f"offline although the key is set: mode: offline in {s.config_name}",
                     "set mode: auto (live whenever the key is set)")
    return Check("mode", PASS, f"offline ({why}): images the cache lacks are placeholders")


def check_api(s: Settings, wanted_live: bool) -> Check:
    """A TCP connection (and a TLS handshake for https) to api_base: no request, no spend;
    none for a site offline by its config, which never calls the API."""
    base = s.api_base or PROVIDERS[s.provider].api_base
    if not wanted_live and offline_by_config(s):
        return Check("api_base", PASS, f"{base}: not connected to, as mode: offline in {s.config_name} never calls it")
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
                     f"check the network (a proxy, a firewall), or api_base in {s.config_name}")
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
    if offline_by_config(s) and not any(folder.glob("images/*/*.json")):
        return Check("cache in git", PASS, f"{rel} is ignored by git ({rule}), and holds no paid image: "
                     f"mode: offline in {s.config_name} draws placeholders, which are never stored")
    lines = " ".join(f"`{line}`" for line in reinclude_lines(top, rel))
    return Check("cache in git", WARN,
                 f"{rel} is ignored by git ({rule}): a fresh clone or CI run has none of its images and pays again",
                 f"either commit it: add {lines} to the end of the top-level .gitignore (git cannot re-include a "
                 "folder whose parent is ignored, hence the lines for each parent); or keep it ignored and keep it "
                 f"elsewhere: a CI cache of {rel} (actions/cache) or remote_cache (docs: Caching and CI)")


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
                     f"check the backend's credentials in the environment (never in {s.config_name}) and the URL")
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
                          f"set site_url: https://your.site/ in {s.config_name}"))
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
