"""What each figure and card is made from, before anything is decoded: a slot's Source
(its cached image, checked against its sha256 when opened, or its placeholder), what a
card is drawn on and its key, a figure's backdrop kind, and the warning for a cached
image that cannot be used. Pure functions over a slot's values, shared by the renderer,
the card renderer, the analysis and what a build records of its use of the cache.
"""

from __future__ import annotations

import functools
import hashlib
import io
from typing import TYPE_CHECKING

from ..cards import drawing
from ..core import image_bytes
from ..core.request import sha256
from ..core.settings import Settings
from ..imaging import copies, provenance
from ..store.cache import CachedImage
from .slot import CardPlan, Slot

# Pillow is imported where pixels are touched: a warm build touches none, and skips it.
if TYPE_CHECKING:
    from PIL import Image

__all__: list[str] = []


def source_of(slot: Slot, settings: Settings, note: str, cached: bool = True) -> tuple[copies.Source, bool, str]:
    """The image a slot shows, whether it is a placeholder, and a hover text. Nothing is
    decoded or drawn here: the Source opens or draws it when asked. ``cached=False``:
    the placeholder, even if the cache has the image (it turned out damaged)."""
    d = slot.directive
    if cached and slot.entry is not None and d is not None:
        img = slot.entry.images[d.pick - 1]
        made = provenance.of_image(settings.provenance, d.prompt, d.refs, placeholder=False)
        return copies.Source(img.sha256, img.width, img.height, img.alpha, lambda: open_checked(img), made), False, ""
    model = settings.catalog.get(d.model) if d else None
    if d is None or slot.errors or model is None:
        first = slot.errors[0] if slot.errors else None
        text = f"Fix the nanobanana directive at {first.path}:{first.line}" if first else "Invalid directive"
        key = hashlib.sha256(slot.block.body.encode()).hexdigest()
        fallback = settings.catalog.model_for(settings.defaults.variant)
        size = fallback.sizes.get(settings.defaults.ratio, (1024, 1024))
        title, index, of = str(first) if first else text, 1, 1
    else:
        key = slot.request.key if slot.request else ""
        text, size, index, of, title = d.prompt, model.sizes[d.ratio], d.pick, d.num, note
    from ..providers import placeholder  # a warm build shows none: it does not import the providers

    pid = placeholder.placeholder_id(key, index, text)
    drawn = provenance.of_image(settings.provenance, text, (), placeholder=True)
    draw = functools.partial(placeholder.render, text, key, size, index, of)  # when the Source is opened
    return copies.Source(pid, size[0], size[1], False, draw, drawn), True, title


def card_source_id(plan: CardPlan, settings: Settings) -> str:
    """What a page's card is drawn on: its slot's image (or placeholder), the page's own
    picture, or "text"."""
    return plan.source_id or source_of(plan.slot, settings, "")[0].id  # type: ignore[arg-type]


def card_key(settings: Settings, plan: CardPlan, source_id: str | None = None) -> str:
    """The name of a page's card: ``Renderer.card`` draws it under this key and
    ``site_use.card_keys`` keeps it, so both must ask here. A generated image writes the
    provenance XMP into its card, and its key says so; a text card or a page's own
    picture carries none."""
    meta = repr(settings.provenance.extras()) if settings.provenance.enabled and plan.slot is not None else ""
    return drawing.card_key(source_id or card_source_id(plan, settings), plan.text, settings.social.style(plan.layout),
                            meta, plan.has_image)


def backdrop_kind(slot: Slot, settings: Settings) -> str:
    """color | blur | none: the directive's ``backdrop``, else the site's."""
    d = slot.directive
    return d.backdrop if d is not None and d.backdrop and not slot.errors else settings.backdrop


def open_checked(img: CachedImage) -> Image.Image:
    """A cached image, its bytes checked against the sidecar's sha256 first: a file that
    changed since it was stored may still decode, into the wrong picture. Only a build
    that resizes it reads it, so the hash costs little next to the resize. A download
    this thread has just checked and stored is not read again: its pixels are at hand."""
    fresh = image_bytes.take_fresh(img.sha256)
    if fresh is not None:
        return fresh
    data = img.path.read_bytes()
    if sha256(data) != img.sha256:
        raise image_bytes.BadImage("its bytes no longer match the sha256 its sidecar recorded")
    from PIL import Image

    return Image.open(io.BytesIO(data))


def unusable(where: str, image: object, exc: Exception) -> str:
    """The warning for a cached image that cannot be shown (damaged bytes, or a shape no
    encoder takes, stored before that was checked): its figure and card are placeholders."""
    return (f"{where}: the cached image {image} cannot be read or used ({exc}); its figure and card show a "
            "placeholder: run `nanobanana verify --fix --decode` and build again to generate it anew")
