"""Images the tests make: real PNGs with structure, and cache entries seeded as if an
earlier build had paid for them."""

from __future__ import annotations

import io
import os
import time

from PIL import Image

from mkdocs_nanobanana.core.catalog import FLASH_IMAGE_SIZES
from mkdocs_nanobanana.core.request import Request
from mkdocs_nanobanana.store.cache import Cache, CacheEntry

# a TrueType font Debian ships (fonts-dejavu-core); tests that need it skip without it
DEJAVU = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"


def photo_png(size: tuple[int, int], seed: int = 0, alpha: bool = False) -> bytes:
    """A real PNG with some structure (not a flat colour) at ``size``."""
    img = Image.linear_gradient("L").resize(size).convert("RGB")
    turned = img.getchannel(0).rotate(90 + seed).resize(size)
    img = Image.merge("RGB", (img.getchannel(0), turned, Image.new("L", size, (seed * 37) % 256)))
    if alpha:
        img.putalpha(Image.linear_gradient("L").resize(size))
    buf = io.BytesIO()
    img.save(buf, "PNG")
    return buf.getvalue()


def seed_cache(cache: Cache, prompt: str, *, model="gemini-2.5-flash-image", ratio="1:1", num=1, refs=(), rev=0,
               alpha=False) -> CacheEntry:
    """Store an entry as if it had been generated earlier; returns it."""
    request = Request(model=model, prompt=prompt, ratio=ratio, num=num, refs=tuple(refs), rev=rev)
    size = FLASH_IMAGE_SIZES[ratio]
    images = [photo_png(size, seed=i, alpha=alpha) for i in range(num)]
    return cache.put(request, images, provider="test", credits=2 * num)


def settled(cache: Cache, hours: float = 2.0) -> None:
    """Make every entry, copy and card of ``cache`` look written ``hours`` ago, as if the
    builds that wrote them were long over: prune keeps one younger than its settle age
    (an hour at least) as in use by a build under way, and the cache's index trusts only
    a shard folder whose mtime had settled when it was read (folder_index.SETTLE_NS)."""
    when = time.time() - hours * 3600
    for folder in (cache.images_dir, cache.partial_dir, cache.derived_dir, cache.root / "social"):
        for path in [folder, *folder.rglob("*")] if folder.exists() else []:
            os.utime(path, (when, when))
