"""SSIM of two images of one size, on their luminance, with Pillow alone (numpy is not a
dependency): the bench's proof that a faster resize or encoder setting gives
near-identical pictures (issues 22 and 25 ask for SSIM >= 0.995 against today's output).

Means, variances and the covariance are taken over non-overlapping 8x8 blocks
(``Image.reduce`` averages each block in C), the windows of Wang et al. 2004 without
the sliding: a block SSIM, as strict as the sliding one on photos, and fast enough to
run on every copy. Whole blocks only: the last columns and rows that do not fill one
are left out. A ranking tool for one encoder or resize against another on the same
pixels (figures 4b and 12), not a number to compare with other tools' SSIM.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from PIL import Image

BLOCK = 8
C1, C2 = (0.01 * 255) ** 2, (0.03 * 255) ** 2  # the paper's constants for 8-bit samples


def ssim(a: Image.Image, b: Image.Image) -> float:
    """Mean SSIM of ``a`` and ``b`` (same size, any mode), 1.0 for identical pixels."""
    from PIL import ImageMath

    if a.size != b.size:
        raise ValueError(f"sizes differ: {a.size} and {b.size}")
    whole = (0, 0, a.width // BLOCK * BLOCK, a.height // BLOCK * BLOCK)
    x, y = (img.convert("L").convert("F").crop(whole) for img in (a, b))

    def block_mean(img: Image.Image) -> list[float]:
        small = img.reduce(BLOCK)
        return list(getattr(small, "get_flattened_data", small.getdata)())  # getdata: Pillow < 12.1

    products = {name: ImageMath.lambda_eval(fn, x=x, y=y) for name, fn in
                (("xx", lambda v: v["x"] * v["x"]), ("yy", lambda v: v["y"] * v["y"]),
                 ("xy", lambda v: v["x"] * v["y"]))}
    mx, my = block_mean(x), block_mean(y)
    exx, eyy, exy = (block_mean(products[k]) for k in ("xx", "yy", "xy"))
    total = 0.0
    for i, (ux, uy) in enumerate(zip(mx, my, strict=True)):
        vx, vy, cov = exx[i] - ux * ux, eyy[i] - uy * uy, exy[i] - ux * uy
        total += ((2 * ux * uy + C1) * (2 * cov + C2)) / ((ux * ux + uy * uy + C1) * (vx + vy + C2))
    return total / len(mx)
