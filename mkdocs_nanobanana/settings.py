"""The plugin's settings as plain values, checked and resolved once.

``build_settings`` turns the options of mkdocs.yml (already type-checked by the host's
config layer) into a frozen Settings: paths resolved against the config file's folder,
the mode resolved against the environment, defaults checked against the catalog. The
MkDocs plugin and the command line both call it, so they cannot disagree.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any, Mapping

from .catalog import Catalog, CatalogError, build_catalog
from .directives import Defaults


class SettingsError(ValueError):
    """The configuration or the environment cannot work; the message says what to change."""


@dataclass(frozen=True)
class SocialSettings:
    enabled: bool = True
    generate: bool = False
    prompt_template: str = "Minimal editorial illustration for an article titled '{title}'. {description}"
    variant: str = "standard"
    ratio: str = "16:9"  # closest catalog ratio to a 1200x630 card
    title_overlay: bool = True
    font: str | None = None
    site_name: str = ""
    site_description: str = ""


@dataclass(frozen=True)
class Settings:
    """Plain values the pipeline needs; the host adapter fills them from its config."""

    docs_dir: str
    site_dir: str
    cache_dir: str
    output_dir: str = "assets/nanobanana"
    docs_label: str = "docs"  # how messages name docs_dir, e.g. docs/page.md:3
    mode: str = "offline"
    widths: tuple[int, ...] = (480, 768, 1024)
    formats: tuple[str, ...] = ("webp", "jpeg")
    quality: int = 82
    workers: int = max(1, os.cpu_count() or 1)  # image work (Pillow releases the GIL)
    concurrency: int = 4  # API calls in flight
    retries: int = 4
    max_credits: int = 200
    api_key_env: str = "NANOBANANA_API_KEY"
    provider: str = "nanobanana"
    api_base: str | None = None  # None: the provider's default
    timeout: float = 60.0
    remote_cache: str | None = None  # fsspec URL of the shared second tier
    remote_cache_options: Mapping[str, Any] = field(default_factory=dict)
    serve_debounce: float = 2.0  # serve: seconds after the last save before generating
    publish: bool = True  # write derivatives into site_dir (False: only into the cache)
    social: SocialSettings = field(default_factory=lambda: SocialSettings())
    defaults: Defaults = Defaults()
    catalog: Catalog = field(default_factory=Catalog)


MODES = ("auto", "live", "offline")


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


DEFAULT_KEY_ENV = "NANOBANANA_API_KEY"
GEMINI_KEY_ENVS = ("GEMINI_API_KEY", "GOOGLE_API_KEY")


def key_variable(provider: str, configured: str, environ: Mapping[str, str]) -> str:
    """The variable that holds the key: api_key_env if the user set one; for Gemini left at
    the default, GEMINI_API_KEY or else GOOGLE_API_KEY (the names Google's tools use)."""
    if provider != "gemini" or configured != DEFAULT_KEY_ENV:
        return configured
    return next((name for name in GEMINI_KEY_ENVS if environ.get(name, "").strip()), GEMINI_KEY_ENVS[0])


def build_settings(
    options: Mapping[str, Any], *, config_file: str, docs_dir: str, site_dir: str, environ: Mapping[str, str],
    site_name: str = "", site_description: str = "",
) -> Settings:
    """Settings from the plugin's options; SettingsError says what to fix."""
    base_dir = os.path.dirname(os.path.abspath(config_file))
    provider = options["provider"]
    try:
        catalog = build_catalog(options["models"], provider)
    except CatalogError as exc:
        raise SettingsError(str(exc)) from None
    api_key_env = key_variable(provider, options["api_key_env"], environ)
    mode = resolve_mode(options["mode"], environ, api_key_env)
    if options["variant"] in catalog.refused:
        raise SettingsError(f"variant: {catalog.refused[options['variant']]}")
    if options["variant"] not in catalog.variants:
        raise SettingsError(f"variant '{options['variant']}' is not one of {', '.join(catalog.variants)}")
    default_model = catalog.model_for(options["variant"])
    if options["ratio"] not in default_model.sizes:
        raise SettingsError(
            f"ratio '{options['ratio']}' is not offered by {default_model.id}: use one of {', '.join(default_model.ratios)}"
        )
    cache_dir = os.path.normpath(os.path.join(base_dir, os.path.expanduser(options["cache_dir"])))
    real_docs = os.path.realpath(docs_dir)
    real_cache = os.path.realpath(cache_dir)
    if real_cache == real_docs or real_cache.startswith(real_docs + os.sep):
        raise SettingsError(
            "cache_dir is inside docs_dir; that would make `mkdocs serve` rebuild in a loop. "
            "Use a folder beside docs_dir, e.g. .cache/nanobanana"
        )
    social = options["social"]
    if social["variant"] in catalog.refused:
        raise SettingsError(f"social.variant: {catalog.refused[social['variant']]}")
    if social["variant"] not in catalog.variants:
        raise SettingsError(f"social.variant '{social['variant']}' is not one of {', '.join(catalog.variants)}")
    label = os.path.relpath(docs_dir, base_dir).replace(os.sep, "/")
    return Settings(
        docs_dir=docs_dir,
        site_dir=site_dir,
        cache_dir=cache_dir,
        output_dir=options["output_dir"],
        docs_label="" if label == "." else label,
        mode=mode,
        widths=tuple(options["widths"]),
        formats=tuple(options["formats"]),
        quality=options["quality"],
        concurrency=options["concurrency"],
        retries=options["retries"],
        max_credits=options["max_credits"],
        api_key_env=api_key_env,
        provider=provider,
        api_base=options["api_base"],
        timeout=options["timeout"],
        serve_debounce=options["serve_debounce"],
        remote_cache=options["remote_cache"] or None,
        remote_cache_options=dict(options["remote_cache_options"]),
        social=SocialSettings(
            enabled=social["enabled"], generate=social["generate"], prompt_template=social["prompt_template"],
            variant=social["variant"], title_overlay=social["title_overlay"], font=social["font"],
            site_name=site_name or "", site_description=site_description or "",
        ),
        defaults=Defaults(ratio=options["ratio"], variant=options["variant"]),
        catalog=catalog,
    )
