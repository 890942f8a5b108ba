"""Figure 16 (issue 37): a site's own photos through ``responsive_images``.

A site of ``pages`` pages showing ``photos`` JPEG photos (2000x1333 at full size, as a
camera or phone export resized for the web), each an ordinary ``![alt](path)``:

- cold: the plugin's build with an empty cache against what a site would do without it:
  the same `mkdocs build` without the plugin plus a plain Pillow script that makes the
  same copies (each photo upright, one resize per width from the original, LANCZOS,
  each format at the plugin's encoder settings), on as many threads as the plugin's
  image pool has (``Settings.workers``: the cores);
- warm: every copy cached, the plugin on against the plugin off (ABBA);
- bytes: the originals' bytes against the copies', exactly (per width and format).

The photos' pixels are photo-like (a gradient under noise, 8 crops of one render) and
each file's bytes its own (a JPEG comment), so each is hashed and encoded on its own.
"""

from __future__ import annotations

import io
import random
import re
import shutil
import struct
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from PIL import Image, ImageOps

from bench.sitegen import Site, _sentence, write_configs
from mkdocs_nanobanana.core.settings import Settings
from mkdocs_nanobanana.imaging import copies

#: The JPEG quality of the photos themselves (a camera's "fine", an export's default).
ORIGINAL_QUALITY = 90
_SAVE = {"jpg": ("JPEG", {"optimize": True}), "webp": ("WEBP", {"method": 0})}


def photo_bytes(size: tuple[int, int], count: int) -> list[bytes]:
    """``count`` JPEGs of ``size``: 8 different pictures, each file's bytes unique."""
    w, h = size
    big = (w + w // 5, h + h // 5)
    base = Image.linear_gradient("L").resize(big)
    img = Image.merge("RGB", (base, base.transpose(Image.Transpose.FLIP_LEFT_RIGHT), base.rotate(90).resize(big)))
    img = Image.blend(img, Image.effect_noise(big, 40).convert("RGB"), 0.35)
    rng = random.Random(15)
    kinds = []
    for _ in range(8):
        x, y = rng.randrange(big[0] - w), rng.randrange(big[1] - h)
        buf = io.BytesIO()
        img.crop((x, y, x + w, y + h)).save(buf, "JPEG", quality=ORIGINAL_QUALITY)
        kinds.append(buf.getvalue())
    out = []
    for i in range(count):
        comment = f"bench photo {i}".encode()
        jpeg = kinds[i % len(kinds)]  # a COM segment after SOI: same pixels, bytes of its own
        out.append(jpeg[:2] + b"\xff\xfe" + struct.pack(">H", len(comment) + 2) + comment + jpeg[2:])
    return out


def make_photo_site(root: Path, pages: int, photos: int, size: tuple[int, int]) -> Site:
    """The site: pages in folders of 50, photo i on page i * pages // photos."""
    rng = random.Random(37)
    img = root / "docs" / "img"
    img.mkdir(parents=True, exist_ok=True)
    for i, data in enumerate(photo_bytes(size, photos)):
        (img / f"photo-{i}.jpg").write_bytes(data)
    shown: list[list[int]] = [[] for _ in range(pages)]
    for i in range(photos):
        shown[i * pages // photos].append(i)
    nav = []
    for p in range(pages):
        name = f"section-{p // 50}/page-{p}.md"
        parts = [f"# Page {p}\n"] + [f"{_sentence(rng)} {_sentence(rng)}\n\n![Photo {i}](../img/photo-{i}.jpg)\n"
                                     for i in shown[p]] + [" ".join(_sentence(rng) for _ in range(4)) + "\n"]
        (root / "docs" / name).parent.mkdir(parents=True, exist_ok=True)
        (root / "docs" / name).write_text("\n".join(parts), encoding="utf-8")
        nav.append(name)
    (root / "docs" / "index.md").write_text("# Photos\n", encoding="utf-8")
    config = {"site_name": "Bench photos", "nav": ["index.md"] + nav}
    # cards off: the figure compares the photos' copies with a script that makes the same
    # copies (a card on every page, the default, is figure 5's to measure)
    return write_configs(root, config, {"responsive_images": True, "social": {"source": "none"}})


def plain_copies(paths: list[Path], out: Path, settings: Settings) -> int:
    """What anyone would write: each photo opened, made upright, resized from the original
    once per width, each size encoded in each format; on ``settings.workers`` threads.
    How many files it wrote."""
    quality = settings.own_encoding.quality
    out.mkdir(parents=True, exist_ok=True)

    def one(path: Path) -> int:
        with Image.open(path) as opened:
            img = ImageOps.exif_transpose(opened).convert("RGB")
        written = 0
        for w in copies.plan_widths(img.width, settings.widths):
            resized = img.resize((w, round(img.height * w / img.width)), Image.Resampling.LANCZOS)
            for ext in copies.plan_exts(settings.formats, False):
                kind, options = _SAVE[ext]
                resized.save(out / f"{path.stem}-{w}.{ext}", kind, quality=quality, **options)
                written += 1
        return written

    with ThreadPoolExecutor(settings.workers) as pool:
        return sum(pool.map(one, paths))


def copy_bytes(cache: Path) -> dict[str, int]:
    """The bytes of the copies the cache holds, by "<width>.<ext>" (a copy's file is
    ``<sha256>-<width>w-q<quality>-<settings>.<ext>``)."""
    totals: dict[str, int] = {}
    for path in (cache / "derived").rglob("*"):
        found = re.search(r"-(\d+)w-.*\.(webp|jpg)$", path.name)
        if found and path.is_file():
            key = f"{found.group(1)}.{found.group(2)}"
            totals[key] = totals.get(key, 0) + path.stat().st_size
    return dict(sorted(totals.items(), key=lambda kv: (int(kv[0].split(".")[0]), kv[0])))


def figure(tmp: Path, s: dict, run_build: Callable[..., dict], median: Callable) -> dict:
    pages, photos, size = s["photo_pages"], s["photos"], s["photo_size"]
    site = make_photo_site(tmp / "photos", pages, photos, size)
    originals = sorted((site.root / "docs" / "img").glob("photo-*.jpg"))
    settings = Settings(docs_dir="", site_dir="", cache_dir="")
    off = [run_build(site.off)]  # also fills the OS's file cache, for both
    plains, colds = [], []
    for i in range(s["photo_repeat"]):  # ABBA: the script, the build, the build, the script
        for kind in (("plain", "cold") if i % 2 == 0 else ("cold", "plain")):
            if kind == "plain":
                start, start_cpu = time.perf_counter(), time.process_time()
                written = plain_copies(originals, tmp / f"plain-copies-{i}", settings)
                plains.append((time.perf_counter() - start, time.process_time() - start_cpu))
            else:
                shutil.rmtree(site.cache, ignore_errors=True)  # cold: no copy, no index
                colds.append(run_build(site.on))
    plain_s, plain_cpu_s = median(p[0] for p in plains), median(p[1] for p in plains)
    cold = min(colds, key=lambda r: abs(r["wall_s"] - median(c["wall_s"] for c in colds)))
    cold = {**cold, "wall_s": median(c["wall_s"] for c in colds), "cpu_s": median(c["cpu_s"] for c in colds)}
    on, off_warm = [], []
    for i in range(s["warm_repeat"]):
        for config in ((site.off, site.on) if i % 2 == 0 else (site.on, site.off)):  # ABBA: drift falls on both
            (on if config == site.on else off_warm).append(run_build(config))
    off_s = median(r["wall_s"] for r in off + off_warm)
    on_s, warm_off_s = median(r["wall_s"] for r in on), median(r["wall_s"] for r in off_warm)
    off_cpu = median(r["cpu_s"] for r in off + off_warm)
    on_cpu, warm_off_cpu = median(r["cpu_s"] for r in on), median(r["cpu_s"] for r in off_warm)
    original_bytes = sum(p.stat().st_size for p in originals)
    by_copy = copy_bytes(site.cache)
    largest = f"{max(copies.plan_widths(size[0], settings.widths))}.webp"
    return {
        "pages": pages, "photos": photos, "size": list(size), "workers": settings.workers,
        "cold_s": cold["wall_s"], "off_s": off_s, "plain_s": plain_s, "plain_files": written,
        "cold_runs_s": [c["wall_s"] for c in colds], "plain_runs_s": [p[0] for p in plains],
        "cold_summary": cold["summary"], "encoded_cold": _encoded(cold["summary"]),
        "cold_ratio": cold["wall_s"] / (off_s + plain_s),
        "cold_plugin_over_plain": (cold["wall_s"] - off_s) / plain_s,
        # CPU time (all threads): what the other processes of a shared machine cannot take
        "cold_cpu_s": cold["cpu_s"], "off_cpu_s": off_cpu, "plain_cpu_s": plain_cpu_s,
        "cold_cpu_ratio": cold["cpu_s"] / (off_cpu + plain_cpu_s),
        "warm_on_cpu_s": on_cpu, "warm_off_cpu_s": warm_off_cpu, "warm_cpu_ratio": on_cpu / warm_off_cpu,
        "warm_on_s": on_s, "warm_off_s": warm_off_s, "warm_ratio": on_s / warm_off_s,
        "warm_pair_ratios": sorted(a["wall_s"] / b["wall_s"] for a, b in zip(on, off_warm, strict=True)),
        "encoded_warm": [_encoded(r["summary"]) for r in on], "warm_pillow_imported": any(
            r.get("pillow_imported") for r in on),
        "original_bytes": original_bytes, "copy_bytes": by_copy, "largest_webp": largest,
        "saved_bytes": original_bytes - by_copy.get(largest, 0),
        "goal": "cold <= 1.05 of (plugin off + plain Pillow script), warm <= 1.02 of plugin off",
    }


def _encoded(summary: str | None) -> int | None:
    found = (summary or "").rsplit("encoded ", 1)
    return int(found[1].split()[0].rstrip(",;")) if len(found) == 2 else None


def table_row(p: dict) -> tuple[str, str, str]:
    """Figure 16's row of the bench's table: (figure, measured, goal)."""
    largest = p["copy_bytes"].get(p["largest_webp"], 0)
    return ("16. ordinary images",
            f"{p['pages']} pages, {p['photos']} photos {p['size'][0]}x{p['size'][1]} JPEG, {p['workers']} workers: "
            f"cold {p['cold_s']:.1f} s / (off {p['off_s']:.1f} s + plain Pillow {p['plain_s']:.1f} s) = "
            f"**{p['cold_ratio']:.3f}** (CPU {p['cold_cpu_ratio']:.3f}; the plugin's part / plain: "
            f"{p['cold_plugin_over_plain']:.3f}; encoded {p['encoded_cold']}, plain wrote {p['plain_files']}); warm "
            f"on {p['warm_on_s']:.2f} s / off {p['warm_off_s']:.2f} s = **{p['warm_ratio']:.3f}** (CPU "
            f"{p['warm_on_cpu_s']:.2f} / {p['warm_off_cpu_s']:.2f} s = {p['warm_cpu_ratio']:.3f}; pairs "
            f"{p['warm_pair_ratios'][0]:.2f} to {p['warm_pair_ratios'][-1]:.2f}; encoded {p['encoded_warm']}, "
            f"Pillow imported: {'yes' if p['warm_pillow_imported'] else 'no'}); bytes: originals "
            f"{p['original_bytes']:,}, the {p['largest_webp']} copies {largest:,}: **{p['saved_bytes']:,} bytes "
            f"saved** ({p['saved_bytes'] / p['original_bytes']:.1%})", p["goal"])
