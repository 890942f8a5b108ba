"""The plugin's options, as MkDocs Config classes.

This module and plugin.py are the MkDocs adapter; everything else is plain Python.
Bad values fail with MkDocs' usual "Config value 'plugins' ..." error. An option that
becomes a field of Settings takes its default from that field (``default_of``), so the
host's defaults and the Settings' cannot drift apart.
"""

from __future__ import annotations

import math
import re
from typing import Any

from mkdocs.config import base
from mkdocs.config import config_options as c

from ...core.card_values import LAYOUTS
from ...core.catalog import PROVIDERS, normalize_ratio
from ...core.directives import BACKDROPS, Defaults
from ...core.settings import (
    CARD_SOURCES,
    DEFAULT_CACHE_DIR,
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

ENV_NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
IMAGE_FORMATS = ("webp", "jpeg", "png", "avif")


class WholeNumber(c.Type):
    """An int (not a bool) within [low, high]."""

    def __init__(self, low: int, high: int | None = None, **kwargs) -> None:
        super().__init__(int, **kwargs)
        self.low, self.high = low, high

    def run_validation(self, value: object) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise base.ValidationError(f"Expected a whole number, got {value!r}")
        if value < self.low or (self.high is not None and value > self.high):
            span = f"from {self.low} to {self.high}" if self.high is not None else f"of at least {self.low}"
            raise base.ValidationError(f"Expected a number {span}, got {value}")
        return value


class Seconds(c.Type):
    """A positive number of seconds."""

    def __init__(self, **kwargs) -> None:
        super().__init__((int, float), **kwargs)

    def run_validation(self, value: object) -> float:
        # .nan and .inf are YAML floats: a timeout that never ends, a debounce never over
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value <= 0:
            raise base.ValidationError(f"Expected a positive, finite number of seconds, got {value!r}")
        return float(value)


class HttpUrl(c.Type[str]):
    """An http(s) URL with a host: what an API is reached at."""

    def __init__(self, **kwargs) -> None:
        super().__init__(str, **kwargs)

    def run_validation(self, value: object) -> str:
        from urllib.parse import urlsplit

        value = super().run_validation(value)
        try:
            parts = urlsplit(value.strip())
            ok = parts.scheme.lower() in ("http", "https") and bool(parts.hostname)
        except ValueError:  # a bad port or bracketed host
            ok = False
        if not ok:
            raise base.ValidationError(f"Expected an http:// or https:// URL with a host, got {value!r}")
        return value.strip()


class Ratio(c.Type):
    """An aspect ratio such as "16:9", also when YAML read an unquoted one as a number
    (see catalog.normalize_ratio)."""

    def __init__(self, **kwargs) -> None:
        super().__init__(str, **kwargs)

    def run_validation(self, value: object) -> str:
        ratio = normalize_ratio(value)
        if ratio is None:
            raise base.ValidationError(f'Expected a ratio such as "16:9", got {value!r}')
        return ratio


class EnvName(c.Type):
    """The NAME of an environment variable. Never echoes the value: it may be a pasted key."""

    def __init__(self, **kwargs) -> None:
        super().__init__(str, **kwargs)

    def run_validation(self, value: object) -> str:
        if not isinstance(value, str) or not ENV_NAME_RE.match(value):
            raise base.ValidationError(
                "Expected the NAME of an environment variable (e.g. NANOBANANA_API_KEY), not the key "
                "itself: never put an API key in mkdocs.yml"
            )
        return value


class RelativePath(c.Type[str]):
    """A relative POSIX path that stays inside its root (no '..', not absolute)."""

    def __init__(self, **kwargs) -> None:
        super().__init__(str, **kwargs)

    def run_validation(self, value: object) -> str:
        value = super().run_validation(value)
        parts = [p for p in value.replace("\\", "/").split("/") if p not in ("", ".")]
        if value.startswith(("/", "\\")) or ".." in parts or not parts or re.match(r"^[A-Za-z]:", value):
            raise base.ValidationError(f"Expected a relative path inside site_dir, got {value!r}")
        return "/".join(parts)


def _social(name: str) -> Any:
    return default_of(name, SocialSettings)


class SocialConfig(base.Config):
    """Social cards: a 1200x630 image per page and the meta tags that point at it."""

    enabled = c.Type(bool, default=_social("enabled"))
    generate = c.Type(bool, default=_social("generate"))  # a card for every page, from prompt_template
    source = c.Optional(c.Choice(CARD_SOURCES))  # none | first_image | generate; unset: generate's
    cards_include = c.ListOfItems(c.Type(str), default=[])  # globs over src paths
    cards_exclude = c.ListOfItems(c.Type(str), default=[])
    prompt_template = c.Type(str, default=_social("prompt_template"))
    variant = c.Type(str, default=_social("variant"))
    title_overlay = c.Type(bool, default=_social("title_overlay"))  # false: layout only_image
    font = c.Optional(c.File(exists=True))  # a .ttf/.otf; unset: the theme's font.text if installed, else built-in
    layout = c.Choice(LAYOUTS, default=_social("layout"))  # default | only_image | invert
    # a Material palette name or #hex; unset: from theme.palette (primary, accent), else indigo
    background_color = c.Optional(c.Type(str))
    color = c.Optional(c.Type(str))  # the text on background_color; unset: Material's for that primary
    accent_color = c.Optional(c.Type(str))
    logo = c.Optional(c.Type((str, bool)))  # a PNG/JPEG/WebP/SVG file; unset: theme.logo; false: none


class RefImagesConfig(base.Config):
    """NanoBanana only: how reference images are sent (undocumented by the vendor)."""

    route = c.Choice(REF_ROUTES, default=RefSending.route)
    encoding = c.Choice(REF_ENCODINGS, default=RefSending.encoding)


class ProvenanceConfig(base.Config):
    """The XMP provenance packet in every published image, and the figure's AI label."""

    enabled = c.Type(bool, default=ProvenanceSettings.enabled)
    credit = c.Type(str, default=ProvenanceSettings.credit)
    include_prompt = c.Type(bool, default=ProvenanceSettings.include_prompt)  # the prompt may be private
    label = c.Type(str, default=ProvenanceSettings.label)  # visible text in the caption; "" none


class AvifConfig(base.Config):
    """AVIF's encoder: its own quality scale, and speed (0 slowest and smallest, 10 fastest)."""

    quality = WholeNumber(1, 100, default=AvifSettings.quality)
    speed = WholeNumber(0, 10, default=AvifSettings.speed)


class NanobananaConfig(base.Config):
    # What runs
    enabled = c.Type(bool, default=True)
    mode = c.Choice(MODES, default="auto")  # env NANOBANANA_MODE wins
    # a placeholder in the built site: allow | warn | fail; unset: fail under gh-deploy,
    # warn otherwise; env NANOBANANA_PLACEHOLDERS wins
    placeholders = c.Optional(c.Choice(PLACEHOLDER_POLICIES))

    # Who generates
    provider = c.Choice(tuple(PROVIDERS), default=default_of("provider"))
    api_key_env = EnvName(default=default_of("api_key_env"))
    api_base = c.Optional(HttpUrl())  # default depends on the provider
    models = c.Type(dict, default={})  # extra models: {id: {credits: N, like: other-id, ...}}
    ref_images = c.SubConfig(RefImagesConfig)

    # Directive defaults
    variant = c.Type(str, default=default_of("variant", Defaults))
    ratio = Ratio(default=default_of("ratio", Defaults))

    # Where files go
    cache_dir = c.Type(str, default=DEFAULT_CACHE_DIR)  # relative to mkdocs.yml
    output_dir = RelativePath(default=default_of("output_dir"))  # inside site_dir
    remote_cache = c.Optional(c.Type(str))  # an fsspec URL shared by every machine: s3://bucket/prefix
    remote_cache_options = c.Type(dict, default={})  # passed to fsspec; never credentials

    # What is written
    widths = c.ListOfItems(WholeNumber(16, 8192), default=list(default_of("widths")))
    formats = c.ListOfItems(c.Choice(IMAGE_FORMATS), default=list(default_of("formats")))
    quality = WholeNumber(1, 100, default=default_of("quality"))
    sizes = c.Optional(c.Type(str))  # <img sizes>; unset: measured for the theme
    avif = c.SubConfig(AvifConfig)
    provenance = c.SubConfig(ProvenanceConfig)
    # what an image's box shows while it loads (not "placeholder": that option is above)
    backdrop = c.Choice(BACKDROPS, default=default_of("backdrop"))

    # Network and spend
    concurrency = WholeNumber(1, 64, default=default_of("concurrency"))  # API requests in flight
    timeout = Seconds(default=default_of("timeout"))  # per request
    retries = WholeNumber(0, 20, default=default_of("retries"))
    max_credits = WholeNumber(0, default=default_of("max_credits"))  # per build; 0 never calls the API
    serve_debounce = Seconds(default=default_of("serve_debounce"))  # serve: wait this long after the last save

    social = c.SubConfig(SocialConfig)

    def validate(self):
        failed, warnings = super().validate()
        if not failed and not self.widths:
            failed.append(("widths", base.ValidationError("Expected at least one width")))
        if not failed and not self.formats:
            failed.append(("formats", base.ValidationError("Expected at least one format")))
        return failed, warnings
