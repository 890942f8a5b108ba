"""Figure 4's format comparison: AVIF against WebP at matched visual quality.

For each test image, WebP at the plugin's quality sets the target SSIM; for each AVIF
speed, the lowest AVIF quality whose SSIM is within ``SSIM_SLACK`` of it is found by
bisection, and its bytes and CPU time are compared with WebP's. Times are CPU seconds
(``time.process_time``, every thread of the process counted): on a machine shared with
other work, wall time measures the neighbours.

SSIM here is the grey-level SSIM of Wang et al. (2004) over non-overlapping 8x8 windows,
computed with Pillow's own float images (no numpy): the windows' means come from
``Image.reduce``. It is a ranking tool for one encoder against another on the same
pixels, not a number to compare with other tools' SSIM.
"""

from __future__ import annotations

import io
import time
from typing import Callable

from PIL import Image, ImageDraw, ImageFilter, ImageMath

from mkdocs_nanobanana import assets
from mkdocs_nanobanana.settings import Encoding

SSIM_SLACK = 0.005
_WINDOW = 8
_C1, _C2 = (0.01 * 255) ** 2, (0.03 * 255) ** 2


def ssim(a: Image.Image, b: Image.Image) -> float:
    """Mean SSIM of two images of one size, on their grey levels."""
    x, y = (_grey(img) for img in (a, b))
    w, h = (x.width // _WINDOW) * _WINDOW, (x.height // _WINDOW) * _WINDOW
    x, y = x.crop((0, 0, w, h)), y.crop((0, 0, w, h))

    def mean(img: Image.Image) -> list[float]:
        return list(img.reduce(_WINDOW).get_flattened_data())

    def product(p: Image.Image, q: Image.Image) -> Image.Image:
        return ImageMath.lambda_eval(lambda d: d["p"] * d["q"], p=p, q=q)

    windows = zip(mean(x), mean(y), mean(product(x, x)), mean(product(y, y)), mean(product(x, y)))
    total, n = 0.0, 0
    for ux, uy, xx, yy, xy in windows:
        var_x, var_y, cov = xx - ux * ux, yy - uy * uy, xy - ux * uy
        total += ((2 * ux * uy + _C1) * (2 * cov + _C2)) / ((ux * ux + uy * uy + _C1) * (var_x + var_y + _C2))
        n += 1
    return total / n


def _grey(img: Image.Image) -> Image.Image:
    return img.convert("RGB").convert("L").convert("F")


def illustration(size: tuple[int, int] = (1344, 768)) -> Image.Image:
    """What the default card prompt asks for ("minimal editorial illustration"): a sky
    gradient, soft-edged shapes, a few hard lines and light grain. A stand-in for a real
    generated image, which the repository does not ship."""
    w, h = size
    sky = Image.linear_gradient("L").resize(size)
    img = Image.merge("RGB", (sky.point(lambda v: 40 + v // 2), sky.point(lambda v: 90 + v // 3), Image.new("L", size, 200)))
    shapes = Image.new("RGBA", size, (0, 0, 0, 0))
    draw = ImageDraw.Draw(shapes)
    draw.ellipse((w * 0.55, h * 0.12, w * 0.8, h * 0.55), fill=(250, 190, 90, 255))
    draw.polygon([(0, h), (w * 0.35, h * 0.45), (w * 0.7, h)], fill=(60, 110, 80, 255))
    draw.polygon([(w * 0.4, h), (w * 0.75, h * 0.5), (w, h * 0.8), (w, h)], fill=(35, 70, 60, 255))
    img.paste(shapes.filter(ImageFilter.GaussianBlur(3)), (0, 0), shapes.filter(ImageFilter.GaussianBlur(3)))
    draw = ImageDraw.Draw(img)
    for i in range(12):  # fine lines: the edges an encoder must keep
        x = int(w * 0.05 + i * w * 0.025)
        draw.line((x, h * 0.1, x + w * 0.1, h * 0.35), fill=(245, 245, 240), width=2)
    grain = Image.effect_noise(size, 24).convert("RGB")
    return Image.blend(img, grain, 0.06)


def noisy_photo(size: tuple[int, int] = (1344, 768)) -> Image.Image:
    """The fake API's "photo" (gradients under 35% noise): a worst case, since noise is
    what no encoder can compress."""
    base = Image.linear_gradient("L").resize(size)
    img = Image.merge("RGB", (base, base.transpose(Image.Transpose.FLIP_LEFT_RIGHT), base.rotate(90).resize(size)))
    return Image.blend(img, Image.effect_noise(size, 40).convert("RGB"), 0.35)


def _encoded(img: Image.Image, ext: str, enc: Encoding) -> tuple[bytes, float]:
    start = time.process_time()
    data = assets.encode(img, ext, enc)
    return data, time.process_time() - start


def measure(img: Image.Image, ext: str, enc: Encoding, repeat: int) -> dict:
    """Bytes, SSIM against ``img`` and median CPU seconds of one encode."""
    times = []
    for _ in range(repeat):
        data, spent = _encoded(img, ext, enc)
        times.append(spent)
    with Image.open(io.BytesIO(data)) as back:
        score = ssim(img, back)
    return {"bytes": len(data), "ssim": round(score, 5), "cpu_ms": round(sorted(times)[len(times) // 2] * 1000, 1)}


def matched_quality(score_of: Callable[[int], float], target: float, low: int = 20, high: int = 95) -> int:
    """The lowest quality in [low, high] whose score is at least ``target`` (scores rise
    with quality, near enough for a bisection); ``high`` if none is."""
    while low < high:
        mid = (low + high) // 2
        if score_of(mid) >= target:
            high = mid
        else:
            low = mid + 1
    return low


def avif_vs_webp(img: Image.Image, webp_quality: int, speeds: list[int], repeat: int) -> dict:
    """WebP at ``webp_quality`` and, per AVIF speed, AVIF at the quality that matches its
    SSIM within SSIM_SLACK."""
    webp = measure(img, "webp", Encoding(webp_quality), repeat)
    out = {"webp": {"quality": webp_quality, **webp}, "avif": {}}
    target = webp["ssim"] - SSIM_SLACK
    for speed in speeds:
        def score(q: int, speed: int = speed) -> float:
            data = assets.encode(img, "avif", avif_encoding(q, speed))
            with Image.open(io.BytesIO(data)) as back:
                return ssim(img, back)

        q = matched_quality(score, target)
        row = measure(img, "avif", avif_encoding(q, speed), repeat)
        out["avif"][speed] = {"quality": q, **row, "bytes_vs_webp": round(row["bytes"] / webp["bytes"], 3),
                              "cpu_vs_webp": round(row["cpu_ms"] / webp["cpu_ms"], 2)}
    return out


def avif_encoding(quality: int, speed: int) -> Encoding:
    """An Encoding whose AVIF settings are these (see settings.Settings.encoding)."""
    return Encoding(82, (("avif_quality", str(quality)), ("avif_speed", str(speed))))
