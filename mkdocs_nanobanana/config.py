"""The plugin's options (SPEC section 4), as MkDocs Config classes.

This module and plugin.py are the MkDocs adapter; everything else is plain Python.
Bad values fail with MkDocs' usual "Config value 'plugins' ..." error.
"""

from __future__ import annotations

import re

from mkdocs.config import base
from mkdocs.config import config_options as c

DEFAULT_PROMPT_TEMPLATE = "Minimal editorial illustration for an article titled '{title}'. {description}"
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
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
            raise base.ValidationError(f"Expected a positive number of seconds, got {value!r}")
        return float(value)


class Ratio(c.Type):
    """An aspect ratio such as "16:9". YAML 1.1 reads an unquoted 16:9 as the base-60
    number 969, and MkDocs' !ENV parses the variable's value the same way; every real
    ratio has parts under 60, so the number turns back into the ratio exactly."""

    def __init__(self, **kwargs) -> None:
        super().__init__(str, **kwargs)

    def run_validation(self, value: object) -> str:
        if isinstance(value, int) and not isinstance(value, bool) and value >= 60:
            return f"{value // 60}:{value % 60}"
        if not isinstance(value, str):
            raise base.ValidationError(f'Expected a ratio such as "16:9", got {value!r}')
        return value


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


class RelativePath(c.Type):
    """A relative POSIX path that stays inside its root (no '..', not absolute)."""

    def __init__(self, **kwargs) -> None:
        super().__init__(str, **kwargs)

    def run_validation(self, value: object) -> str:
        value = super().run_validation(value)
        parts = [p for p in value.replace("\\", "/").split("/") if p not in ("", ".")]
        if value.startswith(("/", "\\")) or ".." in parts or not parts or re.match(r"^[A-Za-z]:", value):
            raise base.ValidationError(f"Expected a relative path inside site_dir, got {value!r}")
        return "/".join(parts)


class SocialConfig(base.Config):
    """Social cards (SPEC section 3)."""

    enabled = c.Type(bool, default=True)
    generate = c.Type(bool, default=False)  # a card for every page, from prompt_template
    prompt_template = c.Type(str, default=DEFAULT_PROMPT_TEMPLATE)
    variant = c.Type(str, default="standard")
    title_overlay = c.Type(bool, default=True)
    font = c.Optional(c.File(exists=True))  # a .ttf/.otf; a built-in font otherwise


class NanobananaConfig(base.Config):
    # What runs
    enabled = c.Type(bool, default=True)
    mode = c.Choice(("auto", "live", "offline"), default="auto")  # env NANOBANANA_MODE wins

    # Who generates
    provider = c.Choice(("nanobanana", "gemini"), default="nanobanana")
    api_key_env = EnvName(default="NANOBANANA_API_KEY")
    api_base = c.Optional(c.URL())  # default depends on the provider
    models = c.Type(dict, default={})  # extra models: {id: {credits: N, like: other-id, ...}}

    # Directive defaults
    variant = c.Type(str, default="standard")
    ratio = Ratio(default="1:1")

    # Where files go
    cache_dir = c.Type(str, default=".cache/nanobanana")  # relative to mkdocs.yml
    output_dir = RelativePath(default="assets/nanobanana")  # inside site_dir
    remote_cache = c.Optional(c.Type(str))  # an fsspec URL shared by every machine: s3://bucket/prefix
    remote_cache_options = c.Type(dict, default={})  # passed to fsspec; never credentials

    # What is written
    widths = c.ListOfItems(WholeNumber(16, 8192), default=[480, 768, 1024])
    formats = c.ListOfItems(c.Choice(IMAGE_FORMATS), default=["webp", "jpeg"])
    quality = WholeNumber(1, 100, default=82)

    # Network and spend
    concurrency = WholeNumber(1, 64, default=4)  # API requests in flight
    timeout = Seconds(default=60)  # per request
    retries = WholeNumber(0, 20, default=4)
    max_credits = WholeNumber(0, default=200)  # per build (per session under serve); 0 never calls the API
    serve_debounce = Seconds(default=2)  # serve: wait this long after the last save before paying

    social = c.SubConfig(SocialConfig)

    def validate(self):
        failed, warnings = super().validate()
        if not failed and not self.widths:
            failed.append(("widths", base.ValidationError("Expected at least one width")))
        if not failed and not self.formats:
            failed.append(("formats", base.ValidationError("Expected at least one format")))
        return failed, warnings
