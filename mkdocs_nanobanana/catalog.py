"""The model catalog: credits, aspect ratios, pixel sizes and limits, as data.

Adding a model is one entry in ``BUILTIN_MODELS`` (or one entry under ``models:`` in
mkdocs.yml); nothing else in the code branches on a model id.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping

#: 1 credit is $0.01 (NanoBanana API pricing).
USD_PER_CREDIT = 0.01

#: Output pixel sizes of gemini-2.5-flash-image per aspect ratio (official table).
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


@dataclass(frozen=True)
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


BUILTIN_MODELS: tuple[Model, ...] = (
    Model("gemini-2.5-flash-image", credits=2, sizes=FLASH_IMAGE_SIZES),
    Model("gemini-2.5-flash-image-hd", credits=5, sizes=FLASH_IMAGE_SIZES),
)

#: `variant:` in a directive picks one of these models unless `model:` names one.
VARIANTS: dict[str, str] = {
    "standard": "gemini-2.5-flash-image",
    "hd": "gemini-2.5-flash-image-hd",
}

#: The official Gemini API: ~$0.039 an image (1290 output tokens at $30 per 1M tokens),
#: budgeted as 4 credits so max_credits never under-counts; it has no HD model.
GEMINI_PRICE = 1290 * 30 / 1_000_000
GEMINI_MODELS: tuple[Model, ...] = (
    Model("gemini-2.5-flash-image", credits=4, sizes=FLASH_IMAGE_SIZES, price=GEMINI_PRICE),
)
GEMINI_REFUSED = {
    "hd": "variant 'hd' has no model in the official Gemini API: use variant: standard, "
          "or provider: nanobanana for HD",
}


class CatalogError(ValueError):
    """A user-supplied model entry is malformed."""


@dataclass(frozen=True)
class Catalog:
    models: Mapping[str, Model] = field(default_factory=dict)
    variants: Mapping[str, str] = field(default_factory=lambda: dict(VARIANTS))
    #: variants this provider cannot serve, with the message that says what to do instead
    refused: Mapping[str, str] = field(default_factory=dict)

    def get(self, model_id: str) -> Model | None:
        return self.models.get(model_id)

    def model_for(self, variant: str) -> Model:
        return self.models[self.variants[variant]]


def _parse_size(ratio: str, value: Any) -> tuple[int, int]:
    if isinstance(value, str) and "x" in value:
        value = value.lower().split("x", 1)
    try:
        w, h = (int(v) for v in value)
    except (TypeError, ValueError):
        raise CatalogError(f"ratio {ratio!r}: size must be 'WIDTHxHEIGHT' or [width, height]") from None
    if w <= 0 or h <= 0:
        raise CatalogError(f"ratio {ratio!r}: size must be positive")
    return w, h


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
    for ratio, value in (spec.get("sizes") or {}).items():
        sizes[str(ratio)] = _parse_size(str(ratio), value)
    limits = {}
    for name in ("max_num", "max_refs"):
        value = spec.get(name, getattr(base, name))
        if isinstance(value, bool) or not isinstance(value, int) or value < (1 if name == "max_num" else 0):
            raise CatalogError(f"model {model_id!r}: {name!r} must be a whole number")
        limits[name] = value
    return Model(model_id, credits=credits, sizes=sizes, **limits)


def build_catalog(extra: Mapping[str, Any] | None = None, provider: str = "nanobanana") -> Catalog:
    """The provider's built-in models plus (or overridden by) the user's ``models:`` entries."""
    gemini = provider == "gemini"
    models: dict[str, Model] = {m.id: m for m in (GEMINI_MODELS if gemini else BUILTIN_MODELS)}
    for model_id, spec in (extra or {}).items():
        models[str(model_id)] = user_model(str(model_id), spec, models)
    if gemini:
        variants = {v: m for v, m in VARIANTS.items() if v not in GEMINI_REFUSED}
        return Catalog(models=models, variants=variants, refused=GEMINI_REFUSED)
    return Catalog(models=models)
