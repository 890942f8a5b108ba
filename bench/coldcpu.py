"""Figure 9 (issue 25): a cold build at scale, where the CPU is the limit, against its true
bound; and the per-stage CPU of one image's copies (decode, resize, encode), today's
recipe against the first release's, with SSIM and bytes to show the pictures are the same.

CPU is measured as CPU time (``time.thread_time``, the build's ``process_time``), not
wall time: on a shared machine, wall time is what the other processes leave over.
"""

from __future__ import annotations

import io
import math
import time
from collections.abc import Callable

from PIL import Image

from bench.ssim import ssim
from mkdocs_nanobanana.core.settings import Encoding, Settings
from mkdocs_nanobanana.imaging import copies

WIDTHS = (480, 768, 1024)
EXTS = ("webp", "jpg")


def first_release_copies(img: Image.Image, enc: Encoding) -> dict[tuple[int, str], bytes]:
    """The copies as the first release made them: every width from the source, progressive
    JPEG, WebP effort 2. The reference that today's recipe must match."""
    out = {}
    for w in WIDTHS:
        resized = img.resize((w, round(img.height * w / img.width)), Image.Resampling.LANCZOS)
        for ext in EXTS:
            buf = io.BytesIO()
            if ext == "jpg":
                resized.save(buf, "JPEG", quality=enc.quality, optimize=True, progressive=True)
            else:
                resized.save(buf, "WEBP", quality=enc.quality, method=2)
            out[(w, ext)] = buf.getvalue()
    return out


def todays_copies(img: Image.Image, enc: Encoding) -> dict[tuple[int, str], bytes]:
    """The copies as copies.make_missing makes them now (same resize order and cascade)."""
    out, made = {}, []
    for w in sorted(WIDTHS, reverse=True):
        resized = copies.resize(img, (w, round(img.height * w / img.width)), made)
        made.append(resized)
        for ext in EXTS:
            out[(w, ext)] = copies.encode(resized, ext, enc)
    return out


def _cpu_ms(fn: Callable[[], object], repeat: int) -> float:
    """The least thread CPU time of ``repeat`` calls, in ms: the cost without the noise
    of other processes taking the core away."""
    best = math.inf
    for _ in range(repeat):
        start = time.thread_time()
        fn()
        best = min(best, time.thread_time() - start)
    return best * 1000


def stage_profile(png: bytes, repeat: int = 3) -> dict:
    """CPU ms of each stage for one source: decode (open, load, to RGB), resize (the three
    widths, as today's make_missing does), encode (WebP and JPEG of each)."""
    enc = Settings(docs_dir="", site_dir="", cache_dir="").encoding

    def decode() -> Image.Image:
        img = Image.open(io.BytesIO(png))
        img.load()
        return img.convert("RGB")

    img = decode()
    made: list[Image.Image] = []

    def resize_all() -> None:
        made.clear()
        for w in sorted(WIDTHS, reverse=True):
            made.append(copies.resize(img, (w, round(img.height * w / img.width)), made))

    resize_all()
    stages = {"decode_ms": _cpu_ms(decode, repeat), "resize_ms": _cpu_ms(resize_all, repeat),
              "encode_ms": _cpu_ms(lambda: [copies.encode(c, ext, enc) for c in made for ext in EXTS], repeat)}
    return {"source": f"{img.width}x{img.height} PNG, {len(png) / 1e6:.1f} MB", **stages,
            "total_ms": sum(stages.values())}


def recipe_check(png: bytes, repeat: int = 3) -> dict:
    """Today's copies against the first release's: the CPU of each recipe (resize and
    encode, one source), bytes, and SSIM of every copy, against the old copy and against
    an exact resize from the source (the picture both try to keep). On the fake API's
    noisy sources two lossy encodes differ by their own noise, so the fair test is the
    second: today's copy is as close to the exact picture as the old one was."""
    enc = Settings(docs_dir="", site_dir="", cache_dir="").encoding
    img = Image.open(io.BytesIO(png)).convert("RGB")
    old, new = first_release_copies(img, enc), todays_copies(img, enc)
    rows = {}
    for (w, ext), data in new.items():
        exact = img.resize((w, round(img.height * w / img.width)), Image.Resampling.LANCZOS)
        then, now = Image.open(io.BytesIO(old[(w, ext)])), Image.open(io.BytesIO(data))
        rows[f"{w}.{ext}"] = {"ssim_vs_old": round(ssim(then, now), 5), "ssim_exact_old": round(ssim(exact, then), 5),
                              "ssim_exact_new": round(ssim(exact, now), 5),
                              "bytes_ratio": round(len(data) / len(old[(w, ext)]), 4)}
    old_ms = _cpu_ms(lambda: first_release_copies(img, enc), repeat)
    new_ms = _cpu_ms(lambda: todays_copies(img, enc), repeat)
    return {"first_release_ms": old_ms, "today_ms": new_ms, "cpu_ratio": new_ms / old_ms,
            "bytes_ratio_all": sum(map(len, new.values())) / sum(map(len, old.values())),
            "worst_ssim_exact_drop": max(r["ssim_exact_old"] - r["ssim_exact_new"] for r in rows.values()),
            "copies": rows}


def efficiency(n: int, conc: int, latency: float, cores: int, cold: dict, off: dict) -> dict:
    """The cold build against its true bound: the API's waits, ceil(N / C) x L, or the CPU
    it spent beyond the plugin-off build spread over the cores, whichever is longer."""
    cpu_per_image = (cold["cpu_s"] - off["cpu_s"]) / n
    network = math.ceil(n / conc) * latency
    cpu_bound = n * cpu_per_image / cores
    bound = max(network, cpu_bound)
    spent = cold["wall_s"] - off["wall_s"]
    return {"cold_s": cold["wall_s"], "off_s": off["wall_s"], "cold_cpu_s": cold["cpu_s"], "off_cpu_s": off["cpu_s"],
            "cpu_ms_per_image": cpu_per_image * 1000, "network_bound_s": network, "cpu_bound_s": cpu_bound,
            "bound_s": bound, "limit": "cpu" if cpu_bound >= network else "network", "efficiency": bound / spent,
            "page_content_wait_s": (cold.get("hooks_s") or {}).get("on_page_content")}


def table_row(cc: dict) -> tuple[str, str, str]:
    """Figure 9's row of the bench's table: (figure, measured, goal)."""
    st, rc = cc["stages"], cc["recipe"]
    return ("12. cold at scale (CPU)", f"{cc['images']} images, {cc['pages']} pages, L = {cc['latency_s']} s, "
            f"concurrency {cc['concurrency']}: bound {cc['bound_s']:.1f} s ({cc['limit']}: network "
            f"{cc['network_bound_s']:.1f} s, CPU {cc['cpu_ms_per_image']:.0f} ms an image x N / {cc['cores']} cores "
            f"= {cc['cpu_bound_s']:.1f} s) / (cold {cc['cold_s']:.1f} s - off {cc['off_s']:.1f} s) = "
            f"**{cc['efficiency']:.2f}**; one 1344x768 image: decode {st['decode_ms']:.0f}, resize "
            f"{st['resize_ms']:.0f}, encode {st['encode_ms']:.0f} ms CPU; copies {rc['cpu_ratio']:.2f}x the "
            f"first release's CPU, {rc['bytes_ratio_all']:.3f}x its bytes", cc["goal"])
