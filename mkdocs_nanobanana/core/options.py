"""The plugin's options, each declared once: its dotted name, its kind (what values it
takes), its default, one line of doc, its group and the hosts that take it.

Both hosts are derived from this table: the MkDocs plugin's Config classes
(hosts/mkdocs/config.py) check each value with the row's kind, and the Markdown
extension (hosts/markdown/options.py) sends its whole options through
``check_options``; so both refuse the same values with the same words, and the options
reference and the JSON schema (option_docs.py) are made from it too.

A default that is a field of a Settings dataclass is read from it (``default_of``), so
it is written once; the others (mode's "auto", where Settings holds the resolved mode)
are written here.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from .card_layouts import LAYOUT_SUFFIXES, LAYOUTS
from .catalog import PROVIDERS
from .directives import BACKDROPS, Defaults
from .frozen import frozen
from .option_kinds import (
    AnyMapping,
    Choice,
    ChoiceOrFile,
    EnvName,
    Flag,
    HttpUrl,
    Kind,
    ListOf,
    OptionError,
    Ratio,
    RelativePath,
    Seconds,
    Text,
    TextOrFlag,
    WholeNumber,
)
from .settings import (
    CARD_SOURCES,
    DEFAULT_CACHE_DIR,
    IMAGE_FORMATS,
    MODES,
    PLACEHOLDER_POLICIES,
    REF_ENCODINGS,
    REF_ROUTES,
    AvifSettings,
    ProvenanceSettings,
    RefSending,
    SocialSettings,
    default_of,
)

__all__: list[str] = []

# Rows, groups and kinds: eq=False, repr=False, as option_kinds.py says why.

MKDOCS, MARKDOWN = "mkdocs", "markdown"
#: The hosts: the MkDocs (and ProperDocs) plugin, and the Markdown extension (Zensical).
BOTH = (MKDOCS, MARKDOWN)
PLUGIN_ONLY = (MKDOCS,)


@frozen(eq=False, repr=False)
class Group:
    """Options that serve one purpose, as the reference and the Config classes list them."""

    title: str
    doc: str


RUNS = Group("What runs", "Whether images are made, and what a build does about one it could not make.")
WHO = Group("Who generates", "The API, its key and its models.")
DIRECTIVES = Group("Directive defaults", "What a directive gets when it does not say.")
FILES = Group("Where files go", "The cache, the published images, the cache every machine shares.")
WRITTEN = Group("What is written", "The published files and their HTML.")
SPEND = Group("Network and spend", "Requests to the API and the credits they cost.")
CARDS = Group("Social cards", "A 1200x630 image per page and the meta tags that point at it; the MkDocs plugin "
                              "alone makes them (an extension never sees a page's <head>).")
GROUPS = (RUNS, WHO, DIRECTIVES, FILES, WRITTEN, SPEND, CARDS)


@frozen(eq=False, repr=False)
class Option:
    name: str  # dotted: "quality", "avif.speed"
    kind: Kind
    default: Any  # None: the option may be unset (null), and is by default
    doc: str
    group: Group
    hosts: tuple[str, ...] = BOTH

    @property
    def section(self) -> str:
        """The mapping it is written under ("" for the top level, "avif" for avif.speed)."""
        return self.name.rpartition(".")[0]

    @property
    def key(self) -> str:
        """Its name within that mapping."""
        return self.name.rpartition(".")[2]

    def initial(self) -> Any:
        """The default as a host hands it over: a fresh copy, lists for tuples."""
        if isinstance(self.default, tuple):
            return list(self.default)
        return copy.deepcopy(self.default)

    def check(self, value: object) -> Any:
        """The value as Settings takes it; OptionError names the option if it cannot be."""
        if value is None and self.default is None:
            return None
        return self.kind.check(value, self.name)


@frozen(eq=False, repr=False)
class Section:
    """A mapping of options under one name (``avif:``), each row named ``avif.<key>``."""

    name: str
    doc: str
    group: Group
    hosts: tuple[str, ...] = BOTH


#: What a section's value must be (also ``models:``'s): the hosts say it in these words.
A_MAPPING = AnyMapping("a mapping of options")


def _social(name: str) -> Any:
    return default_of(name, SocialSettings)


OPTIONS: tuple[Option, ...] = (
    Option("enabled", Flag(), True, "false turns the plugin off: directives stay code blocks", RUNS),
    Option("mode", Choice(MODES), "auto", "auto is live when the key's variable is set, else offline; "
           "env NANOBANANA_MODE wins", RUNS),
    Option("placeholders", Choice(PLACEHOLDER_POLICIES), None, "what a build does about a placeholder it would "
           "ship; unset: fail under gh-deploy, else warn; env NANOBANANA_PLACEHOLDERS wins", RUNS),

    Option("provider", Choice(tuple(PROVIDERS)), default_of("provider"), "the API that generates", WHO),
    Option("api_key_env", EnvName(), default_of("api_key_env"), "the NAME of the variable that holds the key, "
           "never the key itself", WHO),
    Option("api_base", HttpUrl(), default_of("api_base"), "the API's URL; unset: the provider's own", WHO),
    Option("models", AnyMapping("a mapping of model ids to their settings"), {}, "extra models: "
           "{id: {credits: N, like: other-id, sizes: {...}}}", WHO),
    Option("ref_images.route", Choice(REF_ROUTES), default_of("route", RefSending), "generate: in the generate "
           "request; edit: to {api_base}/images/edit", WHO),
    Option("ref_images.encoding", Choice(REF_ENCODINGS), default_of("encoding", RefSending), "each image as a "
           "data URI or as bare base64", WHO),

    Option("variant", Text(), default_of("variant", Defaults), "a directive's variant when it names none", DIRECTIVES),
    Option("style", Text(), default_of("style"), "a house style appended to every prompt (part of the cache key); "
           "a page's own: front matter nanobanana.style", DIRECTIVES),
    Option("ratio", Ratio(), default_of("ratio", Defaults), "a directive's ratio when it names none", DIRECTIVES),

    Option("cache_dir", Text("a folder, relative to mkdocs.yml"), DEFAULT_CACHE_DIR, "relative to mkdocs.yml; a "
           "folder of its own, outside docs_dir and site_dir", FILES),
    Option("output_dir", RelativePath("site_dir"), default_of("output_dir"), "where published images go, inside "
           "site_dir", FILES),
    Option("remote_cache", Text("an fsspec URL or an existing folder"), default_of("remote_cache"), "a cache "
           "every machine shares: an fsspec URL (s3://bucket/prefix) or an existing folder", FILES),
    Option("remote_cache_options", AnyMapping(), default_of("remote_cache_options"), "passed to fsspec; never "
           "credentials", FILES),

    Option("widths", ListOf(WholeNumber(16, 8192), at_least=1, noun="width"), default_of("widths"),
           "the widths of the resized copies, in pixels", WRITTEN),
    Option("formats", ListOf(Choice(IMAGE_FORMATS), at_least=1, noun="format"), default_of("formats"),
           "one <source> per format in this order; the last is the <img> fallback", WRITTEN),
    Option("quality", WholeNumber(1, 100), default_of("quality"), "WebP's and JPEG's quality", WRITTEN),
    Option("sizes", Text(), default_of("sizes"), "<img sizes>; unset: measured for the theme", WRITTEN),
    Option("avif.quality", WholeNumber(1, 100), default_of("quality", AvifSettings), "AVIF's own scale: 55 "
           "matches WebP's 82 on an illustration", WRITTEN),
    Option("avif.speed", WholeNumber(0, 10), default_of("speed", AvifSettings), "AVIF's encoder: 0 slowest and "
           "smallest, 10 fastest", WRITTEN),
    Option("provenance.enabled", Flag(), default_of("enabled", ProvenanceSettings), "an XMP packet in every "
           "published image, data-ai-generated on figures", WRITTEN),
    Option("provenance.credit", Text(), default_of("credit", ProvenanceSettings), "the credit line the files "
           "carry", WRITTEN),
    Option("provenance.include_prompt", Flag(), default_of("include_prompt", ProvenanceSettings), "the prompt "
           "in the files too (it may be private)", WRITTEN),
    Option("provenance.label", Text(), default_of("label", ProvenanceSettings), "visible text after each "
           "generated figure's caption; empty: none", WRITTEN),
    Option("backdrop", Choice(BACKDROPS), default_of("backdrop"), "what an image's box shows while it loads",
           WRITTEN),
    Option("responsive_images", Flag(), default_of("responsive_images"), "the site's own PNG, JPEG, WebP, AVIF and "
           "still GIF pictures become <picture>s of resized copies too", WRITTEN),

    Option("concurrency", WholeNumber(1, 64), default_of("concurrency"), "API requests in flight", SPEND),
    Option("timeout", Seconds(), default_of("timeout"), "seconds to connect and send a request, and to download "
           "an image: nothing is billed yet, so it is retried", SPEND),
    Option("answer_timeout", Seconds(), default_of("answer_timeout"), "seconds to wait for an answer once a request "
           "is sent, per image; cut, it is tried once more only: it may be billed", SPEND),
    Option("retries", WholeNumber(0, 20), default_of("retries"), "retries of a transient failure", SPEND),
    Option("max_credits", WholeNumber(0), default_of("max_credits"), "the most one build spends (serve: one "
           "session); 0 never calls the API", SPEND),
    Option("serve_debounce", Seconds(), default_of("serve_debounce"), "serve: seconds after the last save before "
           "generating", SPEND),

    Option("social.enabled", Flag(), _social("enabled"), "cards and their meta tags at all", CARDS, PLUGIN_ONLY),
    Option("social.generate", Flag(), _social("generate"), "a card for every page, from prompt_template (as "
           "source: generate)", CARDS, PLUGIN_ONLY),
    Option("social.source", Choice(CARD_SOURCES), _social("source"), "where a page without a card of its own "
           "gets one: auto (free: first image, own picture or text), first_image, generate (paid) or none",
           CARDS, PLUGIN_ONLY),
    Option("social.cards_include", ListOf(Text()), _social("include"), "globs over src paths: only these pages "
           "get automatic cards; unset: Material's social plugin's, if configured", CARDS, PLUGIN_ONLY),
    Option("social.cards_exclude", ListOf(Text()), _social("exclude"), "globs over src paths: these pages never "
           "do", CARDS, PLUGIN_ONLY),
    Option("social.prompt_template", Text(), _social("prompt_template"), "a generated card's prompt; {title} "
           "and {description} are the page's", CARDS, PLUGIN_ONLY),
    Option("social.variant", Text(), _social("variant"), "a generated card's variant", CARDS, PLUGIN_ONLY),
    Option("social.title_overlay", Flag(), _social("title_overlay"), "false: the image alone, as layout: "
           "only_image", CARDS, PLUGIN_ONLY),
    Option("social.font", Text("a .ttf or .otf file, relative to mkdocs.yml"), _social("font"), "unset: "
           "a local copy of Material's cards_layout_options.font_family or theme.font.text, else a built-in one",
           CARDS, PLUGIN_ONLY),
    Option("social.layout", ChoiceOrFile(LAYOUTS, LAYOUT_SUFFIXES, "a layout file relative to mkdocs.yml"), None,
           "the site's card layout; unset: Material's social plugin's cards_layout if it is "
           "configured, else default; a page may set its own", CARDS, PLUGIN_ONLY),
    Option("social.background_color", Text("a Material palette name or #hex"), None, "unset: Material's "
           "cards_layout_options.background_color, else theme.palette's primary, else indigo", CARDS, PLUGIN_ONLY),
    Option("social.color", Text("a Material palette name or #hex"), None, "the text on background_color; unset: "
           "Material's cards_layout_options.color, else what Material prints on that primary", CARDS, PLUGIN_ONLY),
    Option("social.accent_color", Text("a Material palette name or #hex"), None, "unset: theme.palette's accent, "
           "else indigo", CARDS, PLUGIN_ONLY),
    Option("social.logo", TextOrFlag("a PNG, JPEG, WebP or SVG file relative to mkdocs.yml, or false"),
           _social("logo"), "unset: Material's cards_layout_options.logo, else theme.logo; false: none", CARDS,
           PLUGIN_ONLY),
)

SECTIONS: tuple[Section, ...] = (
    Section("ref_images", "NanoBanana only: how reference images are sent (its vendor does not document it)", WHO),
    Section("avif", "AVIF's encoder, where formats has avif", WRITTEN),
    Section("provenance", "what the published images say made them, and the figure's AI label", WRITTEN),
    Section("social", "social cards: a 1200x630 image per page and the meta tags that point at it", CARDS,
            PLUGIN_ONLY),
)


def rows_of(section: str = "", host: str | None = None) -> tuple[Option, ...]:
    """The rows written directly under ``section``, in the table's order; only those
    ``host`` takes, if given."""
    return tuple(o for o in OPTIONS if o.section == section and (host is None or host in o.hosts))


def sections_of(host: str | None = None) -> tuple[Section, ...]:
    return tuple(s for s in SECTIONS if host is None or host in s.hosts)


def check_options(given: object, section: str = "") -> dict[str, Any]:
    """Every option under ``section`` ("" for the top level, with its sections), checked
    and converted, with the default of each one not given. OptionError names the first
    that cannot work: an unknown name (with the nearest known one), a value its kind does
    not take, a section that is not a mapping.

    The options of one host alone are checked as well, whichever host asks: one block of
    options may be copied between hosts, and must fail the same way in both."""
    if not isinstance(given, Mapping):
        raise OptionError(section, A_MAPPING.problem(given))
    rows = {o.key: o for o in rows_of(section)}
    sections = [s.name for s in SECTIONS] if not section else []
    for key in given:
        if key not in rows and key not in sections:
            raise OptionError(dotted(section, key), unknown_option(key, [*rows, *sections]))
    checked = {key: option.check(given[key]) if key in given else option.initial() for key, option in rows.items()}
    for name in sections:
        checked[name] = check_options(given.get(name, {}), name)
    return checked


def dotted(section: str, key: object) -> str:
    return f"{section}.{key}" if section else str(key)


def unknown_option(key: object, known: list[str]) -> str:
    """What is wrong with a name no option has: a typo costs money here (``max_credit:
    10`` would leave the default, 200), so both hosts refuse it and say the nearest."""
    import difflib  # here, not at the top: only a mistake needs it, and every build imports this module

    near = difflib.get_close_matches(str(key), known, n=1)
    return f"unknown option: did you mean {near[0]!r}?" if near else f"unknown option: use one of {', '.join(known)}"
