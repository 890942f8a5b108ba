"""The plugin's settings as plain values, checked and resolved once.

``build_settings`` turns the options of mkdocs.yml, each value already checked against
the options table (core/options.py: by MkDocs' Config classes for the plugin and the
command line, by ``check_options`` for the Markdown extension), into a frozen Settings:
paths resolved against the config file's folder, the mode resolved against the
environment, defaults checked against the catalog. Every host calls it, so they cannot
disagree.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.util
import os
import re
from collections.abc import Mapping
from dataclasses import field, fields, replace
from typing import Any, TypedDict, TypeVar

from . import card_theme, reporting
from .card_layouts import CardLayout, LayoutError, load_layout
from .card_theme import ThemeStyle
from .card_values import CardStyle
from .catalog import DEFAULT_PROVIDER, DEFAULT_VARIANT, PROVIDERS, Catalog, CatalogError, ChoiceError
from .directives import Defaults
from .errors import NanobananaError
from .frozen import frozen

__all__ = ["AvifSettings", "Encoding", "ProvenanceSettings", "RefSending", "Settings", "SettingsError",
           "SocialSettings", "Timeouts", "build_settings"]

DEFAULT_PROMPT_TEMPLATE = "Minimal editorial illustration for an article titled '{title}'. {description}"
#: api_key_env's default; a Gemini site that keeps it reads Gemini's own variables instead.
DEFAULT_KEY_ENV = PROVIDERS[DEFAULT_PROVIDER].key_variables[0]


class SettingsError(NanobananaError, ValueError):
    """The configuration or the environment cannot work; the message says what to change."""


@frozen
class SocialSettings:
    enabled: bool = True
    generate: bool = False  # a card for every page, from prompt_template (source: generate)
    #: where a page with no card of its own (front matter, a `social: true` directive) gets
    #: one: auto (its first image, else its own picture, else a text card: free), none,
    #: first_image (its first image only) or generate (a prompt per page, paid)
    source: str = "auto"
    include: tuple[str, ...] = ()  # globs over src paths: only these pages get automatic cards
    exclude: tuple[str, ...] = ()  # ... and never these
    prompt_template: str = DEFAULT_PROMPT_TEMPLATE
    variant: str = DEFAULT_VARIANT
    ratio: str = "16:9"  # closest catalog ratio to a 1200x630 card
    title_overlay: bool = True  # false: the image alone, as layout: only_image
    font: str | None = None  # a .ttf/.otf; a built-in font otherwise
    font_bold: str | None = None  # its bold file, when the theme's family has one
    site_name: str = ""
    site_description: str = ""
    #: a built-in layout (LAYOUTS) or the site's own file; a page may set its own
    layout: CardLayout = field(default_factory=lambda: load_layout("default", "."))
    background_color: str = card_theme.PRIMARY[card_theme.DEFAULT_PRIMARY][0]  # #rrggbb
    color: str = card_theme.PRIMARY[card_theme.DEFAULT_PRIMARY][1]
    accent_color: str = card_theme.ACCENT[card_theme.DEFAULT_ACCENT]
    accent_text_color: str = card_theme.ACCENT_TEXT[card_theme.DEFAULT_ACCENT]
    logo: str | None = None  # an absolute path: social.logo, else the theme's
    base_dir: str = "."  # mkdocs.yml's folder: a page's own layout file is relative to it
    font_dirs: tuple[str, ...] = ()  # where a layout's font families are looked for

    def __post_init__(self) -> None:
        if self.generate and self.source == "auto":  # `generate: true` says `source: generate`, as _social reads it
            object.__setattr__(self, "source", "generate")

    def style(self, layout: CardLayout | None = None) -> CardStyle:
        """How a card looks, in ``layout`` (a page's own) or the site's: one value a
        layout, so what ``CardStyle.key_parts`` keeps is worked out once a build."""
        layout = layout or self.layout
        made = self._styles.get(id(layout))  # the style holds its layout: the id is not reused
        if made is None:
            made = self._styles[id(layout)] = CardStyle(layout, self.background_color, self.color, self.accent_color,
                                                        self.font, self.logo, self.accent_text_color, self.font_bold)
        return made

    @functools.cached_property
    def _styles(self) -> dict[int, CardStyle]:
        return {}  # a memo of ``style``, not a field: the value's equality and hash ignore it

    def layout_named(self, value: str, option: str) -> CardLayout:
        """A built-in layout or a file relative to mkdocs.yml; LayoutError names ``option``."""
        return load_layout(value, self.base_dir, self.font_dirs, option)


@frozen
class RefSending:
    """How the NanoBanana API is sent reference images, which its vendor does not document
    (see docs/providers.md, "Reference images"): on the generate route in ``ref_images``, or on the
    edit route (``{api_base}/images/edit``) in ``image``; each as a data URI or bare base64."""

    route: str = "generate"  # generate | edit
    encoding: str = "data_uri"  # data_uri | base64


@frozen
class Timeouts:
    """How long a paid call may take, in two parts that cost differently (http.post).

    ``send``: to connect, get a pooled connection and write the request, and each image
    download. Nothing was billed when one of these runs out, so it is retried as usual.

    ``answer``: the wait for the answer once the request was sent, per image asked for
    (generation time grows with the count). Cutting it may throw away an image that was
    being made, and paid for: so it is long. Public clients of the NanoBanana API allow
    120 to 600 s for one answer; google-genai sets no timeout by default
    (googleapis/python-genai, google/genai/_api_client.py: the httpx client is made with
    ``timeout=None`` unless HttpOptions.timeout is given).
    """

    send: float = 60.0
    answer: float = 300.0

    def answer_for(self, images: int) -> float:
        return self.answer * max(1, images)


REF_ROUTES = ("generate", "edit")
REF_ENCODINGS = ("data_uri", "base64")


@frozen
class Encoding:
    """Everything besides the pixels that decides a resized copy's bytes. ``quality`` is in
    every copy's name; ``extras`` (encoder choices and the metadata written into the file,
    as sorted (name, value) pairs) add a short digest to it, so changing one re-encodes
    the copies from the cached source (no API call) and prune knows the old ones are
    stale. No extras: the names of the first release, which existing caches hold."""

    quality: int
    extras: tuple[tuple[str, str], ...] = ()

    @functools.cached_property
    def tag(self) -> str:
        """The part of a copy's name after its width: "q82", or "q82-<8 hex>" with extras."""
        if not self.extras:
            return f"q{self.quality}"
        digest = hashlib.sha256(repr(sorted(self.extras)).encode()).hexdigest()[:8]
        return f"q{self.quality}-{digest}"

    def option(self, name: str, default: str) -> str:
        """The value of extra ``name``: how the encoder reads the choices that name it."""
        return dict(self.extras).get(name, default)


#: What the published files say made them, unless the site says otherwise.
DEFAULT_CREDIT = "Generated with Gemini 2.5 Flash Image"


@frozen
class ProvenanceSettings:
    """The XMP packet written into every published image (see provenance.py): IPTC's
    digital source type, a credit line, and the prompt only if asked (it may be private).
    ``label``: a visible text under each generated figure; empty, none."""

    enabled: bool = True
    credit: str = DEFAULT_CREDIT
    include_prompt: bool = False
    label: str = ""

    def extras(self) -> tuple[tuple[str, str], ...]:
        """What of these settings is written into the files (the label is HTML only)."""
        if not self.enabled:
            return ()
        # "xmp" is the packet's layout version: bump it when provenance.xmp writes other fields
        return (("xmp", "1"), ("credit", self.credit), ("prompt", "yes" if self.include_prompt else "no"))


@frozen
class AvifSettings:
    """AVIF's own quality scale and encoder speed (0 slowest, 10 fastest); docs/responsive-images.md,
    "Image formats", says how the defaults were measured."""

    quality: int = 55  # WebP q82's SSIM on the bench's illustration, at 0.7x its bytes
    speed: int = 8  # 3x WebP's CPU for 0.55-0.7x its bytes; 6 saves 9% more at 4x the CPU of 8


#: How the copies are resized and encoded since the cold-build work of issues 22/25
#: (assets.make_missing, assets.encode): a copy made the first release's way (every width
#: from the source, progressive JPEG, WebP effort 2) has other bytes, so it is named
#: apart and made once more from the cached source, with no API call.
COPY_RECIPE = (("jpeg", "baseline"), ("resize", "lanczos-cascade2x"), ("webp_method", "0"))


@frozen
class Settings:
    """Plain values the pipeline needs; the host adapter fills them from its config.

    The defaults here are the plugin's defaults: the hosts offer these very values to
    the host (see ``default_of``), so each is written once.
    """

    docs_dir: str
    site_dir: str
    cache_dir: str
    site: str = ""  # the site as the shared cache's manifest names it: mkdocs.yml's path and git branch
    config_name: str = "mkdocs.yml"  # the config file's name as read (properdocs.yml...), for messages
    output_dir: str = "assets/nanobanana"
    docs_label: str = "docs"  # how messages name docs_dir, e.g. docs/page.md:3
    mode: str = "offline"
    mode_set_by: str = "config"  # config | environment | no key (auto without the key): for messages
    placeholders: str = "warn"  # allow | warn | fail: what a build does about a placeholder it ships
    sizes: str | None = None  # <img sizes> as the site sets it; None: the theme's (``sizes_for``), else the widest
    theme: str = ""  # the theme family whose columns THEME_SIZES knows ("material" for Material and its forks)
    responsive_images: bool = False  # a site's own pictures through the same copies (build/own_images.py)
    backdrop: str = "color"  # color | blur | none: what an image's box shows while it loads
    widths: tuple[int, ...] = (480, 768, 1024)
    formats: tuple[str, ...] = ("webp", "jpeg")
    quality: int = 82
    workers: int = max(1, os.cpu_count() or 1)  # image work (Pillow releases the GIL)
    concurrency: int = 4  # API calls in flight
    retries: int = 4
    max_credits: int = 200  # per build (per session under serve); 0 never calls the API
    api_key_env: str = DEFAULT_KEY_ENV
    key_note: str = ""  # two of the provider's key variables hold different keys: what to say (once)
    provider: str = DEFAULT_PROVIDER
    api_base: str | None = None  # None: the provider's default
    ref_images: RefSending = RefSending()  # NanoBanana only
    style: str = ""  # the house style every prompt ends with (directives' and card images'); a page may set its own
    timeout: float = Timeouts.send  # seconds to connect and send a request, and to download an image
    answer_timeout: float = Timeouts.answer  # seconds to wait for an answer once it was sent, per image
    remote_cache: str | None = None  # fsspec URL of the shared second tier
    remote_cache_options: Mapping[str, Any] = field(default_factory=dict)
    serve_debounce: float = 2.0  # serve: seconds after the last save before generating
    publish: bool = True  # write derivatives into site_dir (False: only into the cache)
    avif: AvifSettings = AvifSettings()
    provenance: ProvenanceSettings = ProvenanceSettings()
    social: SocialSettings = field(default_factory=lambda: SocialSettings())
    defaults: Defaults = Defaults()
    catalog: Catalog = field(default_factory=Catalog)

    @property
    def timeouts(self) -> Timeouts:
        return Timeouts(self.timeout, self.answer_timeout)

    def call_seconds(self, images: int) -> float:
        """The longest one attempt of a paid call for ``images`` images may take: the
        request sent, its answer, and a download per image (NanoBanana's)."""
        return self.timeout + self.timeouts.answer_for(images) + self.timeout * max(1, images)

    @functools.cached_property
    def encoding(self) -> Encoding:
        """How resized copies are encoded (see Encoding): part of their names. AVIF's
        settings count only where AVIF is written, so a site without it keeps its names."""
        avif = (("avif_quality", str(self.avif.quality)), ("avif_speed", str(self.avif.speed)))
        return Encoding(self.quality, COPY_RECIPE + self.provenance.extras() + (avif if "avif" in self.formats else ()))

    @functools.cached_property
    def own_encoding(self) -> Encoding:
        """How a site's own pictures' copies are encoded (responsive_images): the same
        recipe, no provenance mark (they were not generated), and what own_pixels does to
        the pixels before (orientation, colours, the EXIF kept), which ``own`` names."""
        avif = (("avif_quality", str(self.avif.quality)), ("avif_speed", str(self.avif.speed)))
        return Encoding(self.quality, COPY_RECIPE + (("own", OWN_PIXELS),) + (avif if "avif" in self.formats else ()))

    def sizes_for(self, hidden: frozenset[str] | tuple[str, ...] = ()) -> str | None:
        """<img sizes> on a page that hides ``hidden`` of the theme's sidebars (Material's
        front matter ``hide: [navigation, toc]``): the site's ``sizes`` if it sets one,
        else the theme's column, else None (each image then says its own widest)."""
        return self.sizes or theme_sizes(self.theme, hidden)


def page_label(settings: Settings, page: str) -> str:
    """How messages name a page: docs/page.md, relative to mkdocs.yml's folder."""
    return f"{settings.docs_label}/{page}" if settings.docs_label else page


def default_of(name: str, of: type = Settings) -> Any:
    """The default that ``of`` (Settings, SocialSettings or Defaults) gives field ``name``."""
    for f in fields(of):
        if f.name == name:
            return f.default_factory() if callable(f.default_factory) else f.default  # one of them is set
    raise KeyError(f"{of.__name__} has no field {name!r}")


MODES = ("auto", "live", "offline")
#: What the resized copies may be written as (formats:); Pillow writes AVIF from 11.3.
IMAGE_FORMATS = ("webp", "jpeg", "png", "avif")
#: cache_dir's default, relative to the config file's folder: the plugin's and the
#: Markdown extension's, so an image paid for under one host is found under the other.
DEFAULT_CACHE_DIR = ".cache/nanobanana"
PLACEHOLDER_POLICIES = ("allow", "warn", "fail")

#: What own_pixels does to a site's own picture before its copies are made (the
#: ``own`` extra of ``Settings.own_encoding``): bump it when that changes.
OWN_PIXELS = "exif-orient,rgb-icc-kept,artist-copyright"

#: The width an image in the content column shows at, per theme and per sidebars the page
#: hides, measured in headless Chromium at 390-2400 px windows (tests/hosts/mkdocs/test_sizes.py checks
#: them at 390, 768, 1280, 1600 and 2000): a 1280 px window then loads the 768w file for
#: Material's 688 px column, not the 1024w one. Material's root font grows at 100em and
#: 125em, and its column with it; a page with ``hide: [navigation]`` or ``[toc]`` gets a
#: column one sidebar wider from 76.25em (below, the navigation is a drawer anyway), both
#: hidden two sidebars wider.
THEME_SIZES = {
    "material": "(min-width: 125em) 826px, (min-width: 100em) 757px, (min-width: 76.25em) 688px, "
                "(min-width: 60em) calc(100vw - 274px), calc(100vw - 32px)",
    "material hide navigation": "(min-width: 125em) 1126px, (min-width: 100em) 1032px, (min-width: 76.25em) 938px, "
                                "(min-width: 60em) calc(100vw - 274px), calc(100vw - 32px)",
    "material hide toc": "(min-width: 125em) 1126px, (min-width: 100em) 1032px, (min-width: 76.25em) 938px, "
                         "calc(100vw - 32px)",
    "material hide navigation toc": "(min-width: 125em) 1426px, (min-width: 100em) 1307px, (min-width: 76.25em) "
                                    "1188px, calc(100vw - 32px)",
    "mkdocs": "(min-width: 1400px) 966px, (min-width: 1200px) 831px, (min-width: 992px) 696px, "
              "(min-width: 576px) 516px, calc(100vw - 39px)",
    "readthedocs": "(min-width: 1100px) 697px, (min-width: 769px) calc(100vw - 404px), calc(100vw - 52px)",
}
#: The sidebars a page may hide whose width THEME_SIZES knows (Material's ``hide:``).
HIDEABLE = ("navigation", "toc")


def hidden_sidebars(meta: Mapping[str, Any]) -> tuple[str, ...]:
    """The sidebars a page whose front matter (as its host resolved it) is ``meta`` hides,
    as its column sees them: Material's ``hide: [navigation, toc]``. Material's blog (and
    Zensical's) adds ``navigation`` to every post's ``hide``, and blog-post.html puts the
    post's own sidebar (date, authors) in the navigation's place: a post's column is as
    wide as if the navigation were there (measured: 688 px at a 1280 px window, not 938)."""
    hide = meta.get("hide")
    hidden = tuple(h for h in hide if isinstance(h, str)) if isinstance(hide, list) else ()
    if str(meta.get("template") or "").endswith("blog-post.html"):
        hidden = tuple(h for h in hidden if h != "navigation")
    return hidden


def theme_sizes(theme: str, hidden: frozenset[str] | tuple[str, ...] = ()) -> str | None:
    """THEME_SIZES' entry for ``theme`` with ``hidden`` sidebars (others are ignored)."""
    gone = [name for name in HIDEABLE if name in hidden]
    return THEME_SIZES.get(" ".join([theme, "hide", *gone]) if gone else theme) or THEME_SIZES.get(theme)


#: Commands that publish the site: a placeholder must not go out with it unless allowed.
PUBLISHING_COMMANDS = ("gh-deploy",)


class ModeError(SettingsError):
    """The mode cannot run as asked (a bad NANOBANANA_MODE, live without a key)."""


def resolve_mode(configured: str, environ, api_key_env: str) -> str:
    """``live`` or ``offline``: env NANOBANANA_MODE wins, ``auto`` is live when the key is set.

    Never reads more of the key than whether it is set.
    """
    mode = environ.get("NANOBANANA_MODE", "").strip().lower() or configured
    if mode not in MODES:
        raise ModeError(f"NANOBANANA_MODE={mode!r} is not a mode: use one of {', '.join(MODES)}")
    has_key = bool(environ.get(api_key_env, "").strip())
    if mode == "auto":
        return "live" if has_key else "offline"
    if mode == "live" and not has_key:
        raise ModeError(
            f"mode is live but the environment variable {api_key_env} is not set: export it "
            "(the API key), or use mode: offline to build with placeholders"
        )
    return mode


def key_variable(provider: str, configured: str, environ: Mapping[str, str]) -> str:
    """The variable that holds the key: api_key_env if the user set one; left at the
    default, the provider's own (for Gemini GOOGLE_API_KEY, else GEMINI_API_KEY)."""
    if configured != DEFAULT_KEY_ENV:
        return configured
    return PROVIDERS[provider].key_variable(environ)


def mode_set_by(configured: str, environ: Mapping[str, str], api_key_env: str) -> str:
    """What decided the mode, so that a message names the one fix that applies: the
    environment (NANOBANANA_MODE), the config (mode:), or, under auto, a missing key."""
    if environ.get("NANOBANANA_MODE", "").strip():
        return "environment"
    if configured == "auto" and not environ.get(api_key_env, "").strip():
        return "no key"
    return "config"


def placeholder_policy(configured: str | None, environ: Mapping[str, str], command: str) -> str:
    """allow | warn | fail: NANOBANANA_PLACEHOLDERS wins, then the config; unset, a
    command that publishes (gh-deploy) fails and every other one warns."""
    value = environ.get("NANOBANANA_PLACEHOLDERS", "").strip().lower() or configured
    if value is None:
        return "fail" if command in PUBLISHING_COMMANDS else "warn"
    if value not in PLACEHOLDER_POLICIES:
        raise SettingsError(f"NANOBANANA_PLACEHOLDERS={value!r} is not a policy: use one of "
                            f"{', '.join(PLACEHOLDER_POLICIES)}")
    return value


def build_settings(
    options: Mapping[str, Any], *, config_file: str, docs_dir: str, site_dir: str, environ: Mapping[str, str],
    site_name: str = "", site_description: str = "", command: str = "build", theme: str = "",
    theme_style: ThemeStyle = ThemeStyle(),
) -> Settings:
    """Settings from the plugin's options; SettingsError says what to fix."""
    base_dir = os.path.dirname(os.path.abspath(config_file))
    provider = options["provider"]
    catalog = _catalog(options["models"], provider)
    api_key_env = key_variable(provider, options["api_key_env"], environ)
    reporting.add_secret(environ.get(api_key_env))  # from here on, no message shows it
    mode = resolve_mode(options["mode"], environ, api_key_env)
    defaults = Defaults(ratio=options["ratio"], variant=options["variant"])
    _check_choice(catalog, "", defaults.variant, defaults.ratio)
    cache_dir = _cache_dir(options["cache_dir"], base_dir, docs_dir, site_dir)
    social = _social(options["social"], site_name, site_description, theme_style, base_dir)
    _check_choice(catalog, "social.", social.variant, social.ratio)
    label = os.path.relpath(docs_dir, base_dir).replace(os.sep, "/")
    return Settings(
        docs_dir=docs_dir, site_dir=site_dir, cache_dir=cache_dir, docs_label="" if label == "." else label,
        site=site_identity(config_file), config_name=os.path.basename(config_file), mode=mode,
        api_key_env=api_key_env, provider=provider,
        key_note=(PROVIDERS[provider].key_conflict(environ) or "") if options["api_key_env"] == DEFAULT_KEY_ENV else "",
        social=social, defaults=defaults,
        mode_set_by=mode_set_by(options["mode"], environ, api_key_env),
        placeholders=placeholder_policy(options.get("placeholders"), environ, command),
        sizes=options.get("sizes") or None, theme=theme if theme in THEME_SIZES else "", backdrop=options["backdrop"],
        responsive_images=bool(options.get("responsive_images", False)),
        catalog=catalog, **_plain_options(options, base_dir),
    )


def _catalog(models: Mapping[str, Any], provider: str) -> Catalog:
    try:
        return PROVIDERS[provider].catalog(models)
    except CatalogError as exc:
        raise SettingsError(str(exc)) from None


def _check_choice(catalog: Catalog, prefix: str, variant: str, ratio: str) -> None:
    """A default variant and ratio must be ones the catalog serves; ``prefix`` is where
    they are set ("" or "social."), and the message says it as the config writes it."""
    try:
        catalog.choose(ratio=ratio, variant=variant)
    except ChoiceError as exc:
        if exc.key == "variant" and variant not in catalog.refused:
            raise SettingsError(f"{prefix}variant '{variant}' is not one of {', '.join(catalog.variants)}") from None
        where = f"{prefix}variant: " if exc.key == "variant" else prefix
        raise SettingsError(f"{where}{exc}") from None


def site_identity(config_file: str) -> str:
    """How a cache shared by several sites (or branches of one) names this one: the
    config file's absolute path, and the git branch checked out, if any. Two branches
    of one checkout are two sites: each keeps its own entries from the other's prune."""
    path = os.path.realpath(config_file)  # one name however the command was started
    branch = _git_branch(os.path.dirname(path))
    return f"{path} @ {branch}" if branch else path


def _git_branch(folder: str) -> str | None:
    """The branch (or detached commit) of the git checkout holding ``folder``, read from
    its HEAD file: no git process."""
    while True:
        dot_git = os.path.join(folder, ".git")
        try:
            if os.path.isfile(dot_git):  # a worktree or submodule: "gitdir: <path>"
                with open(dot_git, encoding="utf-8") as f:
                    target = f.read().strip().removeprefix("gitdir:").strip()
                dot_git = os.path.join(folder, target)
            if os.path.isdir(dot_git):
                with open(os.path.join(dot_git, "HEAD"), encoding="utf-8") as f:
                    head = f.read().strip()
                return head.removeprefix("ref: refs/heads/") if head.startswith("ref:") else head[:12]
        except OSError:
            return None
        parent = os.path.dirname(folder)
        if parent == folder:
            return None
        folder = parent


def _inside(path: str, folder: str) -> bool:
    """Whether ``path`` is ``folder`` or under it, symlinks followed."""
    real, top = os.path.realpath(path), os.path.realpath(folder)
    return real == top or real.startswith(top.rstrip(os.sep) + os.sep)


def _cache_dir(configured: str, base_dir: str, docs_dir: str, site_dir: str) -> str:
    """cache_dir, relative to the config file's folder: never inside docs_dir or
    site_dir, and never a folder that holds the project (prune works inside it)."""
    cache_dir = os.path.normpath(os.path.join(base_dir, os.path.expanduser(configured)))
    use = "Use a folder of its own beside docs_dir, e.g. .cache/nanobanana"
    if _inside(cache_dir, docs_dir):
        raise SettingsError(
            "cache_dir is inside docs_dir: MkDocs would copy the cache (every prompt) into the site, "
            f"and `mkdocs serve` would rebuild in a loop. {use}")
    if _inside(cache_dir, site_dir):
        raise SettingsError(
            "cache_dir is inside site_dir, which MkDocs empties before every build: every image would be "
            f"paid for again, and the cache (every prompt) deployed with the site. {use}")
    for what, path in (("the project folder (where mkdocs.yml is)", base_dir), ("docs_dir", docs_dir)):
        if _inside(path, cache_dir):
            raise SettingsError(
                f"cache_dir {configured!r} contains {what}: the cache must be a folder of its own, since "
                f"`nanobanana prune` deletes what it holds. {use}")
    return cache_dir


#: A URL's scheme, as fsspec reads it (s3://, gs://, file://, memory://); a Windows
#: drive letter (C:\\) has one letter, so it is a path.
_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]+://")


def _remote_cache(value: str | None, base_dir: str) -> str | None:
    """remote_cache as fsspec gets it: a URL as written, or a folder resolved against
    mkdocs.yml's folder (not the working directory) that must exist: a typo such as
    ``s3//bucket`` would otherwise become a local folder and share nothing."""
    if not value:
        return None
    if _SCHEME.match(value):
        return value
    path = os.path.normpath(os.path.join(base_dir, os.path.expanduser(value)))
    if not os.path.isdir(path):
        raise SettingsError(
            f"remote_cache {value!r} is neither a URL with a scheme (s3://bucket/prefix, gs://..., "
            f"file:///shared/folder) nor an existing folder ({path}; a relative path is read from "
            "mkdocs.yml's folder): fix the URL or create the folder")
    return path


_SOCIAL_OPTIONS = ("enabled", "prompt_template", "variant", "title_overlay")


CARD_SOURCES = ("auto", "none", "first_image", "generate")


def _social(options: Mapping[str, Any], site_name: str, site_description: str, theme: ThemeStyle,
            base_dir: str) -> SocialSettings:
    """The card settings: each option as set, else what Material's social plugin is
    configured with (a site moving off it keeps its look), else the theme's."""
    values = {name: options[name] for name in _SOCIAL_OPTIONS}
    material = theme.material
    # `generate: true` is what `source: generate` says; a source set to anything but the default wins
    source = options.get("source") or "auto"
    if options.get("generate") and source == "auto":
        source = "generate"
    font_dirs = theme.font_dirs + card_theme.system_font_dirs()
    font, bold = _card_fonts(options.get("font"), material.font_family or theme.font_family, font_dirs, base_dir)
    social = SocialSettings(
        **values, generate=source == "generate", source=source, font=font, font_bold=bold,
        include=tuple(options.get("cards_include") or material.include),
        exclude=tuple(options.get("cards_exclude") or material.exclude),
        site_name=site_name or "", site_description=site_description or "",
        **_card_colours(options, theme), logo=_card_logo(options.get("logo"), theme, base_dir),
        base_dir=base_dir, font_dirs=font_dirs,
    )
    layout = options.get("layout") or card_theme.MATERIAL_LAYOUTS.get(material.layout or "", "default")
    if not values["title_overlay"] and layout == "default":  # the option from before layouts
        layout = "only_image"
    try:
        return replace(social, layout=social.layout_named(layout, "social.layout"))
    except LayoutError as exc:
        raise SettingsError(str(exc)) from None


def _card_fonts(option: str | None, family: str | None, dirs: tuple[str, ...],
                base_dir: str) -> tuple[str | None, str | None]:
    """social.font (its file, no bold of its own), else a local copy of ``family`` (Material's
    cards_layout_options.font_family, else theme.font.text) and its bold file."""
    if option:
        return _card_font(option, base_dir), None
    if not family:
        return None, None
    regular = card_theme.find_font(family, dirs)
    bold = card_theme.find_font(family, dirs, "Bold") if regular else None
    return regular, bold if bold and bold != regular and "bold" in os.path.basename(bold).lower() else None


class _CardColours(TypedDict):
    background_color: str
    color: str
    accent_color: str
    accent_text_color: str


def _card_colours(options: Mapping[str, Any], theme: ThemeStyle) -> _CardColours:
    """The card's colours: each option as set (a Material palette name or #hex), else
    Material's social plugin's cards_layout_options, else the theme palette's primary
    and accent, else Material's indigo. The text colour goes with the primary, as
    Material's cards print it (black on yellow, white on indigo)."""
    material = theme.material
    theirs = "Material's social plugin: cards_layout_options."
    chosen, where = options.get("background_color"), "social.background_color"
    if not chosen and material.background_color:
        chosen, where = material.background_color, theirs + "background_color"
    if chosen:
        background, text = _colour_option(where, card_theme.primary_colours(chosen), chosen)
    else:  # a palette name Material does not know ("custom"): its cards fall back to indigo too
        background, text = card_theme.primary_colours(theme.primary) or card_theme.PRIMARY[card_theme.DEFAULT_PRIMARY]
    color, where = options.get("color"), "social.color"
    if not color and material.color:
        color, where = material.color, theirs + "color"
    if color:
        text = _colour_option(where, card_theme.primary_colours(color), color)[0]
    option = options.get("accent_color")
    if option:
        accent, named = _colour_option("social.accent_color", card_theme.accent_colour(option), option), option
    else:
        found = card_theme.accent_colour(theme.accent)
        accent, named = found or card_theme.ACCENT[card_theme.DEFAULT_ACCENT], theme.accent if found else None
    return {"background_color": background, "color": text, "accent_color": accent,
            "accent_text_color": card_theme.accent_text(accent, named)}


_Colour = TypeVar("_Colour")  # a primary (background, text) or an accent


def _colour_option(option: str, colour: _Colour | None, value: str) -> _Colour:
    if colour is None:
        raise SettingsError(f"{option}: {value!r} is neither a #hex colour nor a Material palette colour "
                            f"({', '.join(card_theme.PRIMARY)})")
    return colour


def _card_font(option: str, base_dir: str) -> str:
    """social.font, relative to mkdocs.yml (as MkDocs' File options are), made absolute."""
    path = os.path.abspath(os.path.join(base_dir, option))
    if not os.path.isfile(path):
        raise SettingsError(f"social.font: {path} is not a file: give a .ttf or .otf file, relative to mkdocs.yml")
    problem = card_theme.font_problem(path)
    if problem:  # Pillow's own error would come later, from the first card, as a traceback
        raise SettingsError(f"social.font: {path}: {problem}: give a .ttf or .otf file, relative to mkdocs.yml")
    return path


def _card_logo(option: str | bool | None, theme: ThemeStyle, base_dir: str) -> str | None:
    """social.logo (relative to mkdocs.yml), else Material's social plugin's
    cards_layout_options.logo (as it reads it: relative to mkdocs.yml's folder), else the
    theme's; ``false``: none."""
    if option is False:
        return None
    if option is True or not option:
        theirs = theme.material.logo and os.path.join(base_dir, theme.material.logo)
        return theirs if theirs and os.path.isfile(theirs) else theme.logo
    path = os.path.normpath(os.path.join(base_dir, option))
    if not os.path.isfile(path):
        raise SettingsError(f"social.logo: {path} is not a file: give a PNG, JPEG, WebP or SVG file, "
                            "relative to mkdocs.yml")
    problem = card_theme.logo_problem(path)
    if problem:
        raise SettingsError(f"social.logo: {path}: {problem}: give a PNG, JPEG, WebP or SVG file, "
                            "relative to mkdocs.yml, or social.logo: false")
    return path


#: Options that Settings takes as the options table checked them.
_PLAIN_OPTIONS = ("output_dir", "quality", "concurrency", "retries", "max_credits", "api_base", "timeout",
                  "answer_timeout", "serve_debounce", "style")


def _plain_options(options: Mapping[str, Any], base_dir: str) -> dict[str, Any]:
    values = {name: options[name] for name in _PLAIN_OPTIONS}
    values.update(
        widths=tuple(options["widths"]), formats=_formats(options["formats"]),
        remote_cache=_remote_cache(options["remote_cache"], base_dir),
        remote_cache_options=dict(options["remote_cache_options"]),
        ref_images=RefSending(**dict(options["ref_images"])),
        avif=AvifSettings(**dict(options["avif"])), provenance=ProvenanceSettings(**dict(options["provenance"])),
    )
    return values


def _formats(formats: list[str]) -> tuple[str, ...]:
    """The formats, if this Pillow can write them: AVIF needs Pillow 11.3 or later built
    with libavif (its wheels are). Asked of the import system, which does not load Pillow:
    a warm build never does."""
    if "avif" in formats and importlib.util.find_spec("PIL._avif") is None:
        raise SettingsError("formats: this Pillow cannot write AVIF: upgrade it (pip install -U 'Pillow>=11.3'), "
                            "or remove avif from formats")
    return tuple(formats)
