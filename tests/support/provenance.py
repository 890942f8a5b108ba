"""What provenance tests share: the XMP fields of a published file, a cache entry of an
image of its own, the files a build published."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

from PIL import Image

from mkdocs_nanobanana.core.request import Request
from tests.support.images import photo_png

__all__ = ["NS", "cached", "published", "xmp_of"]


NS = {"rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#", "Iptc4xmpExt": "http://iptc.org/std/Iptc4xmpExt/2008-02-29/",
      "dc": "http://purl.org/dc/elements/1.1/", "photoshop": "http://ns.adobe.com/photoshop/1.0/"}


def xmp_of(path: Path) -> dict | None:
    """The provenance fields of a published file, read back with Pillow; None if it has no XMP."""
    with Image.open(path) as img:
        img.load()
        packet = img.info.get("xmp") or img.info.get("XML:com.adobe.xmp")
        assert img.getxmp() or not packet, f"{path.name}: Pillow's getxmp() finds no packet"
    if not packet:
        return None
    root = ET.fromstring(packet if isinstance(packet, bytes) else packet.encode())
    desc = root.find(".//rdf:Description", NS)
    q = "{%s}%s"
    text = desc.find("dc:description/rdf:Alt/rdf:li", NS)
    return {"type": desc.get(q % (NS["Iptc4xmpExt"], "DigitalSourceType")),
            "credit": desc.get(q % (NS["photoshop"], "Credit")),
            "description": text.text if text is not None else None}


def cached(site, prompt: str, seed: int, refs: tuple[str, ...] = ()):
    """A cache entry of an image of its own (seed_cache gives every prompt the same pixels,
    which the cache stores once: they would share their copies, and so their metadata)."""
    request = Request(model="gemini-2.5-flash-image", prompt=prompt, ratio="1:1", num=1, refs=refs)
    return site.cache.put(request, [photo_png((1024, 1024), seed=seed)], provider="test", credits=2)


def published(site, under: str = "assets/nanobanana") -> list[Path]:
    return sorted(p for p in (site.site / under).rglob("*") if p.is_file())
