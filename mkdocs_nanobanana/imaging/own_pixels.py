"""A site's own picture (``responsive_images``) as its copies take it: what it is (its
facts), and its pixels the way a browser shows the original.

- EXIF orientation is applied to the pixels: a phone photo stored sideways with
  "rotate 90" in its EXIF is shown upright by browsers, and its copies carry no EXIF
  orientation to say so, so they must be upright themselves.
- Colours: an RGB ICC profile (Display P3, Adobe RGB) is kept in every copy, so the
  colours are the original's; any other (a CMYK or grey profile, which an RGB copy
  cannot carry) is converted to sRGB first.
- Metadata: of the EXIF, only Artist and Copyright are written into the copies. GPS
  position, camera serial numbers and the rest stay in the original. No XMP and no AI
  provenance mark: these pictures were not generated.

Pillow is imported in each function: a warm build touches no pixels and imports none.
"""

from __future__ import annotations

import io
from typing import TYPE_CHECKING

from ..core import image_bytes
from ..store.own_index import OwnFacts

if TYPE_CHECKING:
    from PIL import Image

__all__: list[str] = []

#: The formats a picture may be (Pillow's names); MPO is how Pillow opens many cameras'
#: JPEGs (a second frame holds a preview or a depth map: the first is the photo).
STILL_FORMATS = ("PNG", "JPEG", "MPO", "WEBP", "AVIF", "GIF")
ORIENTATION, ARTIST, COPYRIGHT = 0x0112, 0x013B, 0x8298
#: EXIF orientations that swap width and height (transposed and rotated by 90 or 270).
_SWAPPED = (5, 6, 7, 8)


def facts_of(data: bytes, sha256: str) -> OwnFacts:
    """What ``data`` is, from its header (no full decode): a still picture and the size
    it shows at, or an animated one, or one Pillow cannot read (``why``)."""
    from PIL import Image

    try:
        with Image.open(io.BytesIO(data)) as img:
            if img.format not in STILL_FORMATS:
                what = f"a {img.format} file, not PNG, JPEG, WebP, AVIF or GIF"
                return OwnFacts(sha256, 1, 1, False, "unreadable", what)
            if img.format != "MPO" and getattr(img, "is_animated", False):
                return OwnFacts(sha256, img.width, img.height, False, "animated")
            if img.width * img.height > image_bytes.MAX_PIXELS:
                return OwnFacts(sha256, img.width, img.height, False, "unreadable",
                                f"{img.width}x{img.height} pixels, more than {image_bytes.MAX_PIXELS:,}")
            width, height = img.size
            if img.getexif().get(ORIENTATION) in _SWAPPED:
                width, height = height, width
            return OwnFacts(sha256, width, height, image_bytes.has_alpha(img))
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as exc:
        return OwnFacts(sha256, 1, 1, False, "unreadable", f"{type(exc).__name__}: {exc}")


def upright(data: bytes) -> Image.Image:
    """The picture's pixels, decoded, oriented as its EXIF says, in colours an RGB copy
    can carry; ``info["icc_profile"]`` is the profile to keep (if any) and
    ``info["exif"]`` the EXIF to write (Artist and Copyright only, if any)."""
    from PIL import Image, ImageOps

    img: Image.Image = Image.open(io.BytesIO(data))
    img.load()
    exif = img.getexif()
    kept = Image.Exif()
    for tag in (ARTIST, COPYRIGHT):
        if exif.get(tag):
            kept[tag] = exif[tag]
    if exif.get(ORIENTATION, 1) != 1:
        img = ImageOps.exif_transpose(img)
    img = _rgb_colours(img)
    img.info.pop("exif", None)
    if len(kept):
        img.info["exif"] = kept.tobytes()
    return img


def _rgb_colours(img: Image.Image) -> Image.Image:
    """Keep an RGB profile on RGB pixels; convert anything else that has a profile to sRGB."""
    icc = img.info.get("icc_profile")
    if not icc:
        return img
    converted = None
    try:
        from PIL import ImageCms
    except ImportError:  # a Pillow built without LittleCMS: the profile cannot be read
        pass
    else:
        try:
            profile = ImageCms.ImageCmsProfile(io.BytesIO(icc))
            if profile.profile.xcolor_space.strip() == "RGB" and img.mode in ("RGB", "RGBA"):
                return img
            mode = "RGBA" if image_bytes.has_alpha(img) else "RGB"
            source = img if img.mode in ("RGB", "RGBA", "CMYK", "L") else img.convert(mode)
            converted = ImageCms.profileToProfile(source, profile, ImageCms.createProfile("sRGB"),
                                                  outputMode=mode if source.mode != "L" else "RGB")
        except (OSError, ValueError, TypeError, ImageCms.PyCMSError):  # a broken profile
            converted = None
    out = converted if converted is not None else img.copy()
    out.info.pop("icc_profile", None)  # its pixels are sRGB now (or the profile could not be read)
    return out
