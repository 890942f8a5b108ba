"""The model catalog and the provider registry: credits, aspect ratios, pixel sizes,
limits, and which provider serves which models, as data.

Adding a model is one entry in a provider's ``models`` (or one entry under ``models:`` in
mkdocs.yml); adding a provider is one ``ProviderInfo`` in ``PROVIDERS``. Nothing else in
the code branches on a model id or a provider name.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import field
from typing import Any

from .errors import NanobananaError
from .frozen import frozen

__all__: list[str] = []

#: 1 credit is $0.01 (NanoBanana API pricing).
USD_PER_CREDIT = 0.01

#: Output pixel sizes of gemini-2.5-flash-image per aspect ratio, as the NanoBanana API
#: offers them (its `image_size`: these nine ratios).
FLASH_IMAGE_SIZES: dict[str, tuple[int, int]] = {
    "1:1": (1024, 1024),
    "16:9": (1344, 768),
    "9:16": (768, 1344),
    "4:3": (1184, 864),
    "3:4": (864, 1184),
    "2:3": (832, 1248),
    "3:2": (1248, 832),
    "4:5": (896, 1152),
    "5:4": (1152, 896),
}

#: The same model through Google's own API: ten ratios, 21:9 among them
#: (ai.google.dev/gemini-api/docs/image-generation, "Aspect ratios": the table of
#: gemini-2.5-flash-image, 21:9 at 1536x672).
GEMINI_FLASH_IMAGE_SIZES: dict[str, tuple[int, int]] = {**FLASH_IMAGE_SIZES, "21:9": (1536, 672)}


class ChoiceError(NanobananaError, ValueError):
    """A variant/model/ratio choice the catalog cannot serve. ``key`` is 'variant', 'model'
    or 'ratio': the setting the user must change. Callers add where it was written."""

    def __init__(self, key: str, message: str) -> None:
        super().__init__(message)
        self.key = key


@frozen
class Model:
    """One image model and what it accepts."""

    id: str
    credits: int  # per image, in budget units of $0.01 (max_credits counts these)
    sizes: Mapping[str, tuple[int, int]]  # ratio -> (width, height) in pixels
    max_num: int = 9
    max_refs: int = 3
    price: float | None = None  # USD per image when it is not credits x $0.01

    @property
    def ratios(self) -> list[str]:
        return list(self.sizes)

    @property
    def usd(self) -> float:
        """USD per image."""
        return self.price if self.price is not None else self.credits * USD_PER_CREDIT

    def size(self, ratio: str) -> tuple[int, int]:
        """Pixel size of an image in ``ratio``; ChoiceError when this model does not offer it."""
        try:
            return self.sizes[ratio]
        except KeyError:
            raise ChoiceError(
                "ratio", f"ratio '{ratio}' is not offered by {self.id}: use one of {', '.join(self.ratios)}"
            ) from None


NANOBANANA_MODELS: tuple[Model, ...] = (
    Model("gemini-2.5-flash-image", credits=2, sizes=FLASH_IMAGE_SIZES),
    Model("gemini-2.5-flash-image-hd", credits=5, sizes=FLASH_IMAGE_SIZES),
)

#: `variant:` in a directive picks one of these models unless `model:` names one.
VARIANTS: dict[str, str] = {
    "standard": "gemini-2.5-flash-image",
    "hd": "gemini-2.5-flash-image-hd",
}
#: The variant of a directive when neither it nor the config names one.
DEFAULT_VARIANT = "standard"

#: The official Gemini API charges 1290 output tokens at $30 per 1M tokens for an image,
#: budgeted as 4 credits so max_credits never under-counts; it has no HD model.
GEMINI_PRICE = 1290 * 30 / 1_000_000
GEMINI_MODELS: tuple[Model, ...] = (
    Model("gemini-2.5-flash-image", credits=4, sizes=GEMINI_FLASH_IMAGE_SIZES, price=GEMINI_PRICE),
)
GEMINI_REFUSED = {
    "hd": "variant 'hd' has no model in the official Gemini API: use variant: standard, "
          "or provider: nanobanana for HD",
}


class CatalogError(NanobananaError, ValueError):
    """A user-supplied model entry is malformed."""


@frozen
class Catalog:
    models: Mapping[str, Model] = field(default_factory=dict)
    variants: Mapping[str, str] = field(default_factory=lambda: dict(VARIANTS))
    #: variants this provider cannot serve, with the message that says what to do instead
    refused: Mapping[str, str] = field(default_factory=dict)

    def get(self, model_id: str) -> Model | None:
        return self.models.get(model_id)

    def of(self, model_id: str) -> Model:
        """The model of a valid directive (or of its Request): the catalog chose it when
        the directive was read, so it is there (KeyError otherwise)."""
        return self.models[model_id]

    def model_for(self, variant: str) -> Model:
        return self.models[self.variants[variant]]

    def choose(self, *, ratio: str, variant: str | None = None, model: str | None = None) -> Model:
        """The model that serves this choice; ChoiceError names the first part it cannot.

        ``model`` wins over ``variant``; ``variant`` None means DEFAULT_VARIANT (callers
        with a configured default pass it).
        """
        chosen = self.pick(variant=variant, model=model)
        chosen.size(ratio)
        return chosen

    def pick(self, *, variant: str | None = None, model: str | None = None) -> Model:
        """``choose`` without the ratio: for callers that check the ratio on their own and
        still need the model (its limits) when the ratio is wrong."""
        if model is not None:
            found = self.models.get(model)
            if found is None:
                raise ChoiceError("model", f"unknown model '{model}': use one of {', '.join(self.models)} "
                                           "or add it under 'models:' in mkdocs.yml")
            return found
        variant = DEFAULT_VARIANT if variant is None else variant
        if variant in self.refused:
            raise ChoiceError("variant", self.refused[variant])
        if variant not in self.variants:
            import difflib  # here, not at the top: only a mistake needs it, and every build imports this module

            close = difflib.get_close_matches(variant, list(self.variants), n=1)
            hint = f"did you mean '{close[0]}'? " if close else ""
            raise ChoiceError("variant", f"unknown variant '{variant}': {hint}use {' or '.join(self.variants)}")
        return self.model_for(variant)


def normalize_ratio(value: object) -> str | None:
    """An aspect ratio as text, or None when ``value`` cannot be one.

    YAML 1.1 reads an unquoted 16:9 as the base-60 number 969, and MkDocs' !ENV parses a
    variable's value the same way; every real ratio has parts under 60, so such a number
    turns back into the ratio exactly.
    """
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return f"{value // 60}:{value % 60}" if value >= 60 else None
    return value if isinstance(value, str) else None


#: Largest side a user model may declare: beyond it no image fits images.MAX_PIXELS.
MAX_SIDE = 16384


def _parse_size(model_id: str, ratio: str, value: Any) -> tuple[int, int]:
    """A size under ``models: {id: {sizes: {ratio: ...}}}``: "WIDTHxHEIGHT" or
    [width, height], whole positive numbers (a float or a bool is a typo, not a size)."""
    if isinstance(value, str):
        parts = value.lower().replace(" ", "").split("x")
        value = [int(p) if p.isdigit() else p for p in parts]
    ok = (isinstance(value, (list, tuple)) and len(value) == 2
          and all(isinstance(v, int) and not isinstance(v, bool) and 0 < v <= MAX_SIDE for v in value))
    if not ok:
        raise CatalogError(f"model {model_id!r}: size of ratio {ratio!r} must be 'WIDTHxHEIGHT' or [width, height], "
                           f"whole numbers from 1 to {MAX_SIDE}, got {value!r}")
    return value[0], value[1]


def _user_sizes(model_id: str, sizes: Any) -> dict[str, tuple[int, int]]:
    if sizes is None:
        return {}
    if not isinstance(sizes, Mapping):
        raise CatalogError(f"model {model_id!r}: 'sizes' must be a mapping of ratio to size, e.g. {{'16:9': 1344x768}}")
    out = {}
    for key, value in sizes.items():
        ratio = normalize_ratio(key)  # an unquoted 16:9 reached us as YAML's base-60 969
        if ratio is None:
            raise CatalogError(f"model {model_id!r}: {key!r} under 'sizes' is not a ratio such as '16:9'")
        out[ratio] = _parse_size(model_id, ratio, value)
    return out


def user_model(model_id: str, spec: Mapping[str, Any], known: Mapping[str, Model]) -> Model:
    """Build a model from a ``models:`` entry in mkdocs.yml.

    ``like`` copies ratios and limits from a known model (default gemini-2.5-flash-image);
    ``credits`` is required because billing must never be guessed.
    """
    if not isinstance(spec, Mapping):
        raise CatalogError(f"model {model_id!r}: expected a mapping with at least 'credits'")
    unknown = set(spec) - {"credits", "like", "sizes", "max_num", "max_refs"}
    if unknown:
        raise CatalogError(f"model {model_id!r}: unknown field(s) {', '.join(sorted(unknown))}")
    base_id = spec.get("like", "gemini-2.5-flash-image")
    base = known.get(base_id)
    if base is None:
        raise CatalogError(f"model {model_id!r}: 'like: {base_id}' is not a known model")
    credits = spec.get("credits")
    if isinstance(credits, bool) or not isinstance(credits, int) or credits < 0:
        raise CatalogError(f"model {model_id!r}: 'credits' (per image) must be a whole number >= 0")
    sizes = dict(base.sizes)
    sizes.update(_user_sizes(model_id, spec.get("sizes")))
    limits = {}
    for name in ("max_num", "max_refs"):
        value = spec.get(name, getattr(base, name))
        if isinstance(value, bool) or not isinstance(value, int) or value < (1 if name == "max_num" else 0):
            raise CatalogError(f"model {model_id!r}: {name!r} must be a whole number")
        limits[name] = value
    return Model(model_id, credits=credits, sizes=sizes, **limits)


@frozen
class ProviderInfo:
    """One provider: the models it serves, where it is reached, where its key is found,
    and the class that talks to it (imported only when a build calls the API)."""

    name: str
    models: tuple[Model, ...]
    api_base: str  # the endpoint when api_base is not configured
    #: where the key is looked for while api_key_env is left at its default: the first set wins
    key_variables: tuple[str, ...]
    factory: str  # "module:Class" of the provider; its constructor takes the api_base
    #: variants it has no model for, with the message that says what to do instead
    refused: Mapping[str, str] = field(default_factory=dict)
    #: the variable messages ask for when none is set ("": the first of key_variables)
    key_to_export: str = ""

    def catalog(self, extra: Mapping[str, Any] | None = None) -> Catalog:
        """Its models plus (or overridden by) the user's ``models:`` entries."""
        models: dict[str, Model] = {m.id: m for m in self.models}
        for model_id, spec in (extra or {}).items():
            models[str(model_id)] = user_model(str(model_id), spec, models)
        variants = {v: m for v, m in VARIANTS.items() if v not in self.refused}
        return Catalog(models=models, variants=variants, refused=dict(self.refused))

    def key_variable(self, environ: Mapping[str, str]) -> str:
        """The first of its key variables that is set, else the one messages ask to
        export; never reads more of a key than whether it is set."""
        return next((name for name in self.key_variables if environ.get(name, "").strip()),
                    self.key_to_export or self.key_variables[0])

    def key_conflict(self, environ: Mapping[str, str]) -> str | None:
        """What to say when two of its key variables hold different keys (the values are
        compared, never shown): the first is used, as Google's SDK uses GOOGLE_API_KEY."""
        keys = [(name, environ.get(name, "").strip()) for name in self.key_variables]
        given = [(name, value) for name, value in keys if value]
        if len({value for _, value in given}) < 2:
            return None
        used, other = given[0][0], ", ".join(name for name, _ in given[1:])
        return (f"{used} and {other} are both set, to different keys: using {used}, as Google's SDK "
                f"(google-genai) does; unset {other} (or name the variable you mean with api_key_env)")


PROVIDERS: Mapping[str, ProviderInfo] = {p.name: p for p in (
    ProviderInfo(
        "nanobanana", NANOBANANA_MODELS, api_base="https://api.nanobananaapi.dev/v1",
        key_variables=("NANOBANANA_API_KEY",), factory="mkdocs_nanobanana.providers.nanobanana:NanoBananaProvider",
    ),
    ProviderInfo(
        # The names Google's own tools read, in the order google-genai reads them: "Both
        # GOOGLE_API_KEY and GEMINI_API_KEY are set. Using GOOGLE_API_KEY."
        # (googleapis/python-genai, google/genai/_api_client.py, get_env_api_key). Google's
        # docs ask for GEMINI_API_KEY, so messages do too.
        "gemini", GEMINI_MODELS, api_base="https://generativelanguage.googleapis.com/v1beta",
        key_variables=("GOOGLE_API_KEY", "GEMINI_API_KEY"), factory="mkdocs_nanobanana.providers.gemini:GeminiProvider",
        refused=GEMINI_REFUSED, key_to_export="GEMINI_API_KEY",
    ),
)}
DEFAULT_PROVIDER = "nanobanana"


def build_catalog(extra: Mapping[str, Any] | None = None, provider: str = DEFAULT_PROVIDER) -> Catalog:
    """The catalog of ``provider`` (a name in PROVIDERS) with the user's ``models:`` entries."""
    return PROVIDERS[provider].catalog(extra)
