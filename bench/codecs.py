"""Figure 4's format comparison: AVIF against WebP at matched visual quality.

For each test image, WebP at the plugin's quality sets the target SSIM; for each AVIF
speed, the lowest AVIF quality whose SSIM is within ``SSIM_SLACK`` of it is found by
bisection, and its bytes and CPU time are compared with WebP's. Times are CPU seconds
(``time.process_time``, every thread of the process counted): on a machine shared with
other work, wall time measures the neighbours.

SSIM is bench/ssim.py's: grey levels, non-overlapping 8x8 windows, Pillow alone.
"""

from __future__ import annotations

import io
import statistics
import time
from collections.abc import Callable
from pathlib import Path

from PIL import Image, ImageDraw, ImageFilter

from bench.ssim import ssim
from mkdocs_nanobanana.core.settings import AvifSettings, Encoding, ProvenanceSettings, Settings
from mkdocs_nanobanana.imaging import copies, provenance
from mkdocs_nanobanana.store.cache import Cache

SSIM_SLACK = 0.005


def illustration(size: tuple[int, int] = (1344, 768)) -> Image.Image:
    """What the default card prompt asks for ("minimal editorial illustration"): a sky
    gradient, soft-edged shapes, a few hard lines, smooth texture and fractal detail. A stand-in for a real
    generated image, which the repository does not ship."""
    w, h = size
    sky = Image.linear_gradient("L").resize(size)
    img = Image.merge("RGB", (sky.point(lambda v: 40 + v // 2), sky.point(lambda v: 90 + v // 3),
                              Image.new("L", size, 200)))
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
    # texture with structure (brush, paper, foliage) rather than sensor noise: smoothed
    # noise, which an encoder can keep and SSIM sees when it does not
    texture = Image.effect_noise(size, 64).filter(ImageFilter.GaussianBlur(1.5)).convert("RGB")
    detail = Image.effect_mandelbrot(size, (-0.75, 0.05, -0.7, 0.08), 200).convert("RGB")
    return Image.blend(Image.blend(img, texture, 0.15), detail, 0.12)


def noisy_photo(size: tuple[int, int] = (1344, 768)) -> Image.Image:
    """The fake API's "photo" (gradients under 35% noise): a worst case, since noise is
    what no encoder can compress."""
    base = Image.linear_gradient("L").resize(size)
    img = Image.merge("RGB", (base, base.transpose(Image.Transpose.FLIP_LEFT_RIGHT), base.rotate(90).resize(size)))
    return Image.blend(img, Image.effect_noise(size, 40).convert("RGB"), 0.35)


def _encoded(img: Image.Image, ext: str, enc: Encoding) -> tuple[bytes, float]:
    start = time.process_time()
    data = copies.encode(img, ext, enc)
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
            data = copies.encode(img, "avif", avif_encoding(q, speed))
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


def figure(tmp: Path, speeds: list[int], repeat: int, width: int = 1024, webp_quality: int = 82) -> dict:
    """Figure 4's AVIF part: per test image at ``width`` px (1024: the largest default
    copy), AVIF at each speed matched to WebP's SSIM, and the default AVIF settings as
    shipped; then the CPU time of a whole image's copies (3 widths) with and without AVIF."""
    default = AvifSettings()
    out: dict = {"ssim_slack": SSIM_SLACK, "webp_quality": webp_quality, "width": width,
                 "default": {"quality": default.quality, "speed": default.speed}, "images": {}}
    for name, make in (("illustration", illustration), ("noisy_photo", noisy_photo)):
        img = make().resize((width, round(768 * width / 1344)), Image.Resampling.LANCZOS)
        row = avif_vs_webp(img, webp_quality, speeds, repeat)
        jpeg = measure(img, "jpg", Encoding(webp_quality), repeat)  # the fallback, at the same quality setting
        row["jpeg"] = {"quality": webp_quality, **jpeg, "bytes_vs_webp": round(jpeg["bytes"] / row["webp"]["bytes"], 3)}
        shipped = measure(img, "avif", avif_encoding(default.quality, default.speed), repeat)
        row["default"] = {**shipped, "bytes_vs_webp": round(shipped["bytes"] / row["webp"]["bytes"], 3),
                          "cpu_vs_webp": round(shipped["cpu_ms"] / row["webp"]["cpu_ms"], 2),
                          "ssim_vs_webp": round(shipped["ssim"] - row["webp"]["ssim"], 5)}
        out["images"][name] = row
    out["per_image_cpu_ms"] = {",".join(fmts): copies_cpu_ms(tmp, fmts, repeat)
                               for fmts in (("webp", "jpeg"), ("avif", "webp", "jpeg"))}
    return out


def copies_cpu_ms(tmp: Path, formats: tuple[str, ...], repeat: int) -> float:
    """Median CPU milliseconds to make one 1344x768 image's copies at 480/768/1024 px in
    ``formats``, with the plugin's default settings (provenance included), as a build does."""
    settings = Settings(docs_dir="", site_dir="", cache_dir="", formats=formats)
    src = illustration()
    made = provenance.of_image(ProvenanceSettings(), "", (), placeholder=False)
    exts = copies.plan_exts(formats, alpha=False)
    times = []
    for n in range(repeat):
        cache = Cache(tmp / f"codecs-{'-'.join(formats)}-{n}-{time.perf_counter_ns()}")
        source = copies.Source(f"src{n}", 1344, 768, False, src.copy, made)
        files = copies.derivative_files(source, [480, 768, 1024], exts, settings.encoding, cache)
        start = time.process_time()
        copies.make_missing(source, files, settings.encoding, cache.temp.create_once)
        times.append(time.process_time() - start)
    return round(statistics.median(times) * 1000, 1)
