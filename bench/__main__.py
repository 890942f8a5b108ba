"""The benchmark suite: every figure a ratio of two things measured side by side in one run.

    python -m bench            # the sizes of issue 7 and 22 (an hour and more on 2 cores:
                               # figure 14 builds 20,000 pages, callgrind counts figure 1)
    python -m bench --quick    # small sizes, a few minutes; figure 14 is left out
    python -m bench --toy      # seconds; the smoke test runs this so the suite cannot rot

Writes bench/results/<date>[-quick|-toy].json and prints a markdown table with the
command, the machine and each figure (medians of --repeat runs).

Every build is a real `mkdocs build` in a fresh process (bench/measure.py), as a user
runs it: startup and imports count. "Plugin off" is the same docs with the plugin not in
mkdocs.yml at all. On and off builds alternate, so drift on a shared machine falls on
both. The API is tests/fakeapi.py in this process: latency with jitter, photo-like PNGs
of the catalog's sizes (~1.6 MB at 16:9), on 127.0.0.1.
"""

from __future__ import annotations

import argparse
import io
import json
import math
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from pathlib import Path

import PIL
import yaml
from PIL import Image

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))

from fakeapi import FLASH_IMAGE_SIZES, FakeAPI, image_png

from bench import codecs, coldcpu, photos
from bench import fleet as fleets
from bench import serve as serving
from bench.sitegen import Site, edit_one_prompt, make_card_site, make_site, write_configs
from mkdocs_nanobanana.cards.social import COVER
from mkdocs_nanobanana.core.request import Request
from mkdocs_nanobanana.core.settings import Encoding, ProvenanceSettings, Settings
from mkdocs_nanobanana.imaging import copies, provenance
from mkdocs_nanobanana.store.cache import Cache
from tests.support.images import settled

SIZES = {  # name -> sizes of each figure
    "full": dict(warm_pages=500, warm_images=200, cold_images=64, cold_latency=1.0, cold_conc=8,
                 conc_levels=[1, 2, 4, 8, 16], deriv_images=8, avif_speeds=[4, 6, 8, 10], codec_width=1024,
                 codec_repeat=3, mem_images=500, scale_pages=[100, 1000, 5000],
                 card_pages=200, card_rounds=3, repeat=3, warm_repeat=5, instructions=True, backdrop_pages=100,
                 backdrop_images=50, sweep_images=40, verify_images=2000, cpu_images=2000,
                 small_warm=(100, 40), serve_pages=500, serve_images=200, serve_saves=5, serve_rounds=2,
                 big=(20_000, 5_000), fleet_images=60, fleet_latency=1.0, fleet_conc=4, fleet_runners=[1, 2, 4],
                 photo_pages=200, photos=500, photo_size=(2000, 1333), photo_repeat=2),
    "quick": dict(warm_pages=100, warm_images=40, cold_images=16, cold_latency=0.5, cold_conc=8,
                  conc_levels=[4, 8], deriv_images=2, avif_speeds=[6, 8, 10], codec_width=1024, codec_repeat=3,
                  mem_images=32, scale_pages=[50, 200, 800],
                  card_pages=30, card_rounds=2, repeat=1, warm_repeat=3, instructions=False, backdrop_pages=30,
                  backdrop_images=12, sweep_images=12, verify_images=200, cpu_images=200,
                  small_warm=None, serve_pages=100, serve_images=40, serve_saves=3, serve_rounds=2, big=None,
                  fleet_images=20, fleet_latency=0.5, fleet_conc=4, fleet_runners=[1, 2, 4],
                  photo_pages=40, photos=60, photo_size=(2000, 1333), photo_repeat=2),
    "toy": dict(warm_pages=10, warm_images=4, cold_images=4, cold_latency=0.2, cold_conc=2,
                conc_levels=[2], deriv_images=1, avif_speeds=[10], codec_width=320, codec_repeat=1, mem_images=4,
                scale_pages=[5, 10, 20],
                card_pages=3, card_rounds=1, repeat=1, warm_repeat=1, instructions=False, backdrop_pages=6,
                backdrop_images=3, sweep_images=4, verify_images=10, cpu_images=8,
                small_warm=None, serve_pages=10, serve_images=4, serve_saves=1, serve_rounds=1, big=(40, 10),
                fleet_images=4, fleet_latency=0.2, fleet_conc=2, fleet_runners=[1, 2],
                photo_pages=4, photos=6, photo_size=(1200, 800), photo_repeat=1),
}
LATENCY, JITTER = 1.5, 0.3  # the API's "under 2 seconds"


def build_env() -> dict[str, str]:
    """What every mkdocs process of the bench runs with: this checkout's package first."""
    env = {**os.environ, "PYTHONPATH": str(REPO), "NANOBANANA_API_KEY": "bench-key"}
    env.pop("NANOBANANA_MODE", None)
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # see compile_package
    return env


def run_build(config: Path, hooks: bool = False, instructions: bool = False) -> dict:
    """One `mkdocs build` in a new process: {"wall_s", "seconds", "peak_rss_mb", "plugin_s",
    "hooks_s"}, and with ``instructions`` the instructions it ran, counted by callgrind."""
    cmd = [sys.executable, "-m", "bench.measure", str(config)] + (["--hooks"] if hooks else [])
    if instructions:
        cmd = ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null"] + cmd
    start = time.perf_counter()
    proc = subprocess.run(cmd, env=build_env(), capture_output=True, text=True, cwd=config.parent)
    wall = time.perf_counter() - start
    if proc.returncode != 0:
        raise RuntimeError(f"build of {config} failed:\n{proc.stderr[-3000:]}")
    out = {"wall_s": wall, **json.loads(proc.stdout.strip().splitlines()[-1])}
    if instructions:
        out["instructions"] = int(re.search(r"Collected : (\d+)", proc.stderr).group(1))
    return out


def instruction_ratio(on: Path, off: Path) -> dict | None:
    """The instructions of a plugin-on and a plugin-off build, counted by callgrind: the
    same on any machine at any load, where wall time on a shared 2-core machine varies by
    10% from one build to the next. Both at once, one a core. None without valgrind."""
    if shutil.which("valgrind") is None:
        return None
    with ThreadPoolExecutor(2) as pool:
        runs = list(pool.map(lambda config: run_build(config, instructions=True), (on, off)))
    return {"instructions_on": runs[0]["instructions"], "instructions_off": runs[1]["instructions"],
            "instructions_ratio": runs[0]["instructions"] / runs[1]["instructions"]}


def compile_package() -> None:
    """Bytecode for the plugin, as a wheel install has: a checkout run with
    PYTHONDONTWRITEBYTECODE (CI images set it) would compile every module in every build,
    which no user pays, while MkDocs' own modules come compiled from pip."""
    import compileall

    compileall.compile_dir(str(REPO / "mkdocs_nanobanana"), quiet=1)


def median(values) -> float:
    return statistics.median(values)


def forget_images(site: Site) -> None:
    """An empty cache: the next build is cold."""
    shutil.rmtree(site.cache, ignore_errors=True)


# --------------------------------------------------------------------------- figures


def warm_overhead(tmp: Path, api: FakeAPI, s: dict) -> tuple[dict, Site]:
    """1. The same site, every image cached: plugin on vs plugin off."""
    api.latency, api.jitter = 0.0, 0.0
    site = make_site(tmp / "warm", s["warm_pages"], s["warm_images"], plugin={"api_base": api.base, "concurrency": 8})
    run_build(site.on)  # fill the cache
    before = len(api.generate_requests)
    on, off = [], []
    for i in range(s["warm_repeat"]):
        for config in ((site.off, site.on) if i % 2 == 0 else (site.on, site.off)):  # ABBA: drift falls on both
            (on if config == site.on else off).append(run_build(config, hooks=config == site.on))
    counted = instruction_ratio(site.on, site.off) if s["instructions"] else None
    warm_requests = len(api.generate_requests) - before  # before the small site fills its own cache
    small = small_site_instructions(tmp, api, s["small_warm"]) if s["instructions"] and s["small_warm"] else {}
    api.latency, api.jitter = LATENCY, JITTER
    on_s, off_s = median(r["wall_s"] for r in on), median(r["wall_s"] for r in off)
    pairs = sorted(a["wall_s"] / b["wall_s"] for a, b in zip(on, off, strict=True))
    hooks = {name: median(r["hooks_s"].get(name, 0.0) for r in on) for name in on[0]["hooks_s"]}
    return {"pages": s["warm_pages"], "images": s["warm_images"], "on_s": on_s, "off_s": off_s, "ratio": on_s / off_s,
            "pair_ratios": pairs, "plugin_hooks_s": median(r["plugin_s"] for r in on),
            "hooks_s": {k: v for k, v in hooks.items() if v >= 0.0005}, **(counted or {}), **small,
            "requests_when_warm": warm_requests,
            "goal": "instructions <= 1.02 (<= 1.05 at 100 pages), 0 requests"}, site


def big_site_or_note(tmp: Path, api: FakeAPI, s: dict) -> dict:
    if s["big"] is None:
        return {"measured": False, "note": "not measured in --quick: minutes; `python -m bench --only big_site`",
                "goal": "ratio <= 1.05, warm peak RSS < 400 MB"}
    return big_site(tmp, api, s)


def small_site_instructions(tmp: Path, api: FakeAPI, size: tuple[int, int]) -> dict:
    """1, small: the instruction ratio of a warm 100-page site, where the plugin's import
    weighs most (a 0.5 s build)."""
    pages, images = size
    site = make_site(tmp / "warm-small", pages, images, plugin={"api_base": api.base, "concurrency": 8})
    run_build(site.on)
    counted = instruction_ratio(site.on, site.off) or {}
    sizes = {"small_pages": pages, "small_images": images} if counted else {}
    return {f"small_{k}": v for k, v in counted.items()} | sizes


def serve_loop(tmp: Path, api: FakeAPI, s: dict) -> dict:
    """13. One save of one page under `mkdocs serve`, every image cached: MkDocs' rebuild
    time with the plugin vs without; then a save that changes a prompt, under the API's
    full latency: the rebuild shows the placeholder without waiting for the network."""
    api.latency, api.jitter = 0.0, 0.0
    site = make_site(tmp / "serve", s["serve_pages"], s["serve_images"],
                     plugin={"api_base": api.base, "concurrency": 8})
    run_build(site.on)
    api.latency, api.jitter = LATENCY, JITTER
    pages = sorted((site.root / "docs").rglob("page-*.md"), key=lambda p: int(p.stem.split("-")[1]))
    saved = next(p for p in pages if "```nanobanana" in p.read_text(encoding="utf-8"))  # a page with a figure
    edited = next(p for p in reversed(pages) if "```nanobanana" in p.read_text(encoding="utf-8"))
    new_text = edited.read_text(encoding="utf-8").replace("prompt: ", "prompt: Served, ", 1)
    timeout = 120 + 0.5 * s["serve_pages"]
    on, off = [], []
    rounds = (((site.off, off), (site.on, on)), ((site.on, on), (site.off, off)))  # ABBA: drift falls on both
    for order in rounds[:s["serve_rounds"]]:
        for config, runs in order:
            runs.append(serving.rebuilds(config, build_env(), saved, s["serve_saves"], timeout))
    before = len(api.generate_requests)
    edit = serving.rebuilds(site.on, build_env(), saved, 0, timeout, prompt_edit=(edited, new_text))
    on_s = median(t for r in on for t in r["rebuild_s"])
    off_s = median(t for r in off for t in r["rebuild_s"])
    return {"pages": s["serve_pages"], "images": s["serve_images"], "saves": s["serve_saves"] * s["serve_rounds"],
            "on_s": on_s, "off_s": off_s, "ratio": on_s / off_s if off_s else float("nan"),
            "on_runs_s": [t for r in on for t in r["rebuild_s"]],
            "off_runs_s": [t for r in off for t in r["rebuild_s"]],
            "prompt_edit_s": edit["prompt_edit_s"],
            "prompt_edit_ratio": edit["prompt_edit_s"] / off_s if off_s else float("nan"),
            "placeholder_shown": edit["placeholder_shown"], "latency_s": LATENCY,
            "requests_after_edit": len(api.generate_requests) - before,
            "goal": "rebuild on / off <= 1.05; a prompt edit shows the placeholder in that time"}


def big_site(tmp: Path, api: FakeAPI, s: dict) -> dict:
    """14. Scale: a warm build of a large site (20,000 pages, 5,000 images): plugin on vs
    off, and the peak RSS of the warm build. A one-line theme, as in figure 7. The cache
    is filled with flat images: photo-like ones would be 8 GB here, for no difference in
    a warm build, which never opens them."""
    pages, images = s["big"]
    api.latency, api.jitter, api.photo = 0.0, 0.0, False
    site = make_site(tmp / "big", pages, images, plugin={"api_base": api.base, "concurrency": 8}, minimal_theme=True)
    try:
        fill = run_build(site.on)
    finally:
        api.latency, api.jitter, api.photo = LATENCY, JITTER, True
    off_1 = run_build(site.off)
    on = run_build(site.on, hooks=True)
    off_2 = run_build(site.off)
    off_s = (off_1["wall_s"] + off_2["wall_s"]) / 2
    return {"pages": pages, "images": images, "cold_fill_s": fill["wall_s"], "on_s": on["wall_s"], "off_s": off_s,
            "ratio": on["wall_s"] / off_s, "plugin_s": on["plugin_s"],
            "hooks_s": {k: v for k, v in on["hooks_s"].items() if v >= 0.0005},
            "warm_peak_rss_mb": on["peak_rss_mb"], "off_peak_rss_mb": max(off_1["peak_rss_mb"], off_2["peak_rss_mb"]),
            "goal": "ratio <= 1.05, warm peak RSS < 400 MB"}


def incremental(site: Site, api: FakeAPI, warm_s: float) -> dict:
    """3. The warm site with one prompt edited: one request, and the warm time plus about L."""
    cached = sum(1 for _ in site.cache.glob("images/*/*.json"))
    edit_one_prompt(site)
    before = len(api.generate_requests)
    edited = run_build(site.on)["wall_s"]
    worst_latency = api.latency + api.jitter
    return {"cached_images": cached, "requests": len(api.generate_requests) - before, "warm_s": warm_s,
            "edited_s": edited, "latency_s": worst_latency, "allowed_s": warm_s + worst_latency + 0.5,
            "goal": "requests == 1, edited <= warm + L + 0.5 s"}


def cold_efficiency(tmp: Path, api: FakeAPI, s: dict) -> dict:
    """2. A cold build of N distinct images vs the ideal ceil(N / concurrency) x L."""
    n, latency = s["cold_images"], s["cold_latency"]
    api.latency, api.jitter = latency, 0.0
    out = {"images": n, "latency_s": latency, "concurrency": s["cold_conc"], "by_concurrency": {}}
    for conc in sorted(set(s["conc_levels"]) | {s["cold_conc"]}):
        site = make_site(tmp / f"cold-{conc}", n, n, plugin={"api_base": api.base, "concurrency": conc})
        offs, colds = [], []
        for _ in range(s["repeat"]):
            offs.append(run_build(site.off)["wall_s"])
            forget_images(site)
            api.max_in_flight = 0
            before = len(api.generate_requests)
            colds.append(run_build(site.on)["wall_s"])
            calls = len(api.generate_requests) - before
        off, cold = median(offs), median(colds)
        ideal = math.ceil(n / conc) * latency  # one call per directive, num > 1 included
        out["by_concurrency"][conc] = {"off_s": off, "cold_s": cold, "ideal_s": ideal,
                                       "efficiency": ideal / (cold - off), "calls": calls,
                                       "max_in_flight": api.max_in_flight}
    out["efficiency"] = out["by_concurrency"][s["cold_conc"]]["efficiency"]
    out["goal"] = ">= 0.9"
    api.latency, api.jitter = LATENCY, JITTER
    return out


CPU_LATENCY, CPU_CONC = 0.2, 8  # issue 25's measurement: the API answers fast, the CPU is the limit


def cold_cpu(tmp: Path, api: FakeAPI, s: dict) -> dict:
    """12. A cold build of many images (ten a page), where the CPU is the limit, against
    its true bound max(ceil(N / C) x L, N x cpu_per_image / cores), cpu_per_image being
    the CPU the build spent beyond the plugin-off build (both report their process CPU
    time); and the CPU of one image's copies by stage, today's recipe against the first
    release's (bench/coldcpu.py)."""
    n = s["cpu_images"]
    api.latency, api.jitter = CPU_LATENCY, 0.0
    site = make_site(tmp / "cpu", max(1, n // 10), n, plugin={"api_base": api.base, "concurrency": CPU_CONC})
    pairs = []
    for _ in range(s["repeat"]):
        off = run_build(site.off)
        forget_images(site)
        before = len(api.generate_requests)
        cold = run_build(site.on, hooks=True)
        pairs.append((cold, off, len(api.generate_requests) - before))
    api.latency, api.jitter = LATENCY, JITTER
    cold, off, calls = sorted(pairs, key=lambda p: p[0]["wall_s"] - p[1]["wall_s"])[len(pairs) // 2]
    src = image_png((1344, 768), 1, photo=True)
    return {"images": n, "pages": max(1, n // 10), "latency_s": CPU_LATENCY, "concurrency": CPU_CONC,
            "cores": os.cpu_count() or 1, "calls": calls,
            **coldcpu.efficiency(n, CPU_CONC, CPU_LATENCY, os.cpu_count() or 1, cold, off),
            "stages": coldcpu.stage_profile(src), "recipe": coldcpu.recipe_check(src), "goal": ">= 0.85 of the bound"}


def derivatives(tmp: Path, s: dict) -> dict:
    """4. Our derivative path vs a plain Pillow script doing the same resizes and encodes;
    and images per second with 1 and 2 worker threads."""
    src = image_png((1344, 768), 1, photo=True)
    widths, exts, enc = [480, 768, 1024], ["webp", "jpg"], Encoding(82)

    def plain(_n: int) -> None:  # what anyone would write: decode, one resize per width, encode
        with Image.open(io.BytesIO(src)) as img:
            img = img.convert("RGB")
            for w in widths:
                resized = img.resize((w, round(768 * w / 1344)), Image.Resampling.LANCZOS)
                for ext in exts:
                    copies.encode(resized, ext, enc)

    # ours as a build runs it: the default settings write the provenance packet too
    made = provenance.of_image(ProvenanceSettings(), "", (), placeholder=False)
    ours_enc = Settings(docs_dir="", site_dir="", cache_dir="").encoding

    def ours(n: int) -> None:
        cache = Cache(tmp / f"deriv-{n}-{time.perf_counter_ns()}")
        source = copies.Source(f"src{n}", 1344, 768, False, lambda: Image.open(io.BytesIO(src)), made)
        files = copies.derivative_files(source, widths, exts, ours_enc, cache)
        copies.make_missing(source, files, ours_enc, cache.temp.create_once)

    def per_image(fn) -> float:
        start = time.perf_counter()
        for n in range(s["deriv_images"]):
            fn(n)
        return (time.perf_counter() - start) / s["deriv_images"]

    plain_s, ours_s = [], []
    for _ in range(max(3, s["repeat"])):  # alternate, so drift falls on both
        plain_s.append(per_image(plain))
        ours_s.append(per_image(ours))

    def throughput(workers: int) -> float:
        n = max(4, s["deriv_images"] * 2)
        start = time.perf_counter()
        with ThreadPoolExecutor(workers) as pool:
            list(pool.map(ours, range(n)))
        return n / (time.perf_counter() - start)

    one, two = throughput(1), throughput(2)
    return {"plain_s_per_image": median(plain_s), "ours_s_per_image": median(ours_s),
            "ratio": median(ours_s) / median(plain_s), "goal": "<= 1.05",
            "images_per_s_1_worker": one, "images_per_s_2_workers": two, "speedup_2_workers": two / one,
            "avif": codecs.figure(tmp, s["avif_speeds"], s["codec_repeat"], s["codec_width"])}


def memory(tmp: Path, api: FakeAPI, s: dict) -> dict:
    """6. Peak RSS (VmHWM) of a cold and a warm build, and of MkDocs alone."""
    api.latency, api.jitter = 0.05, 0.0
    site = make_site(tmp / "mem", max(10, s["mem_images"] // 2), s["mem_images"],
                     plugin={"api_base": api.base, "concurrency": 8})
    out = {"images": s["mem_images"], "goal": "cold < 300 MB"}
    out["off_peak_rss_mb"] = run_build(site.off)["peak_rss_mb"]
    out["cold_peak_rss_mb"] = run_build(site.on)["peak_rss_mb"]
    out["warm_peak_rss_mb"] = run_build(site.on)["peak_rss_mb"]
    api.latency, api.jitter = LATENCY, JITTER
    return out


def scale(tmp: Path, api: FakeAPI, s: dict) -> dict:
    """7. The plugin's own time (inside its hooks) on warm builds of growing sites, and the
    exponent of its growth. A one-line theme: the mkdocs theme's nav makes MkDocs itself
    quadratic in pages, which is not what this figure is about."""
    api.latency, api.jitter = 0.0, 0.0
    points = []
    for pages in s["scale_pages"]:
        site = make_site(tmp / f"scale-{pages}", pages, max(1, pages * 2 // 5), plugin={"api_base": api.base},
                         minimal_theme=True)
        run_build(site.on)
        runs = [run_build(site.on, hooks=True) for _ in range(s["repeat"])]
        points.append({"pages": pages, "images": max(1, pages * 2 // 5), "build_s": median(r["wall_s"] for r in runs),
                       "plugin_s": median(r["plugin_s"] for r in runs)})
    api.latency, api.jitter = LATENCY, JITTER
    xs = [math.log(p["pages"]) for p in points]
    ys = [math.log(p["plugin_s"]) for p in points]
    mx, my = statistics.mean(xs), statistics.mean(ys)
    slope = sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / sum((x - mx) ** 2 for x in xs)
    return {"points": points, "exponent": slope, "goal": "exponent <= 1.1 (linear)"}


def fresh_runner(tmp: Path, api: FakeAPI, s: dict) -> dict:
    """8. A fresh CI runner: the warm figure's site built on an empty local cache from a
    full remote bucket, vs the same site's warm build on this machine. The bucket is a
    file:// folder, so the download is a local read: what is measured is the plugin's own
    extra work (fetch, check, store), not a network."""
    api.latency, api.jitter = 0.0, 0.0
    bucket = tmp / "fresh-bucket"
    bucket.mkdir()
    site = make_site(tmp / "fresh", s["warm_pages"], s["warm_images"],
                     plugin={"api_base": api.base, "concurrency": 8, "remote_cache": bucket.as_uri()})
    run_build(site.on)  # the first machine: pays, encodes and uploads everything
    before = len(api.generate_requests)
    fresh, warm = [], []
    for _ in range(s["warm_repeat"]):  # alternate, so drift falls on both
        forget_images(site)
        fresh.append(run_build(site.on))
        warm.append(run_build(site.on))
    api.latency, api.jitter = LATENCY, JITTER

    def encoded(run: dict) -> int:
        return int(re.search(r"encoded (\d+)", run["summary"]).group(1))

    fresh_s, warm_s = median(r["wall_s"] for r in fresh), median(r["wall_s"] for r in warm)
    return {"pages": s["warm_pages"], "images": s["warm_images"], "fresh_s": fresh_s, "warm_s": warm_s,
            "ratio": fresh_s / warm_s, "encoded_fresh": max(encoded(r) for r in fresh),
            "encoded_warm": max(encoded(r) for r in warm), "requests": len(api.generate_requests) - before,
            "bucket_mb": sum(f.stat().st_size for f in bucket.rglob("*") if f.is_file()) / 1e6,
            "fresh_summary": fresh[-1]["summary"], "goal": "ratio <= 1.5, 0 encodes"}


def html_weight(site_dir: Path) -> tuple[int, int, int]:
    """The bytes of every page of a built site, its figures, and the longest inline style
    an <img> of one carries (a backdrop)."""
    pages = [p.read_text(encoding="utf-8") for p in site_dir.rglob("*.html")]
    styles = [len(m.group(0)) for page in pages for m in re.finditer(r' style="[^"]*"', page)]
    return (sum(len(page.encode("utf-8")) for page in pages),
            sum(page.count('<figure class="nanobanana') for page in pages), max(styles, default=0))


def backdrops(tmp: Path, api: FakeAPI, s: dict) -> dict:
    """9. What a backdrop adds to a page per image (``backdrop: color``, ``blur``, over
    ``none``); that a warm build with blurs decodes nothing (Pillow is never imported) and
    takes what one without them takes; and what an older cache's first build pays once
    to compute them."""
    api.latency, api.jitter = 0.0, 0.0
    site = make_site(tmp / "backdrops", s["backdrop_pages"], s["backdrop_images"],
                     plugin={"api_base": api.base, "concurrency": 8})
    for page in (site.root / "docs").rglob("*.md"):  # every build reads a ref image with Pillow to check it:
        text = page.read_text(encoding="utf-8")      # not what this figure is about
        page.write_text(re.sub(r"^refs: .*\n", "", text, flags=re.M), encoding="utf-8")
    base = yaml.safe_load(site.on.read_text(encoding="utf-8"))
    configs = {}
    for kind in ("none", "color", "blur"):
        base["plugins"][-1]["nanobanana"]["backdrop"] = kind
        configs[kind] = site.root / f"backdrop-{kind}.yml"
        configs[kind].write_text(yaml.safe_dump(base, sort_keys=False), encoding="utf-8")
    run_build(configs["blur"])  # generate, resize and compute every backdrop once
    out: dict = {"pages": s["backdrop_pages"], "images": s["backdrop_images"],
                 "goal": "blur < 1 KB an image; warm: no decode"}
    weight = {}
    for kind, config in configs.items():
        run_build(config)
        weight[kind] = html_weight(site.root / "site")
    figures = weight["none"][1]
    out["figures"] = figures
    out["bytes_per_image"] = {kind: (weight[kind][0] - weight["none"][0]) / figures for kind in ("color", "blur")}
    out["largest_blur_style_bytes"] = weight["blur"][2]
    warm: dict[str, list[dict]] = {"none": [], "blur": []}
    for i in range(max(2, s["warm_repeat"])):  # alternate, so drift falls on both
        for kind in (("none", "blur") if i % 2 == 0 else ("blur", "none")):
            warm[kind].append(run_build(configs[kind], hooks=True))
    out["warm_s"] = {kind: median(r["wall_s"] for r in runs) for kind, runs in warm.items()}
    out["warm_ratio"] = out["warm_s"]["blur"] / out["warm_s"]["none"]
    out["warm_pair_ratios"] = sorted(a["wall_s"] / b["wall_s"] for a, b in zip(warm["blur"], warm["none"], strict=True))
    # the plugin's own time inside its hooks: what backdrops could add, without MkDocs' noise
    out["warm_plugin_ms"] = {kind: median(r["plugin_s"] for r in runs) * 1000 for kind, runs in warm.items()}
    out["warm_pillow_imported"] = any(r["pillow_imported"] for runs in warm.values() for r in runs)
    stored = list(site.cache.glob("derived/*/*-backdrop-v*.json"))
    for path in stored:
        path.unlink()  # a cache from before backdrops
    upgrade = run_build(configs["blur"])
    out["upgrade_ms_per_image"] = max(0.0, upgrade["wall_s"] - out["warm_s"]["blur"]) * 1000 / len(stored)
    out["upgrade_restored"] = len(list(site.cache.glob("derived/*/*-backdrop-v*.json"))) == len(stored)
    api.latency, api.jitter = LATENCY, JITTER
    return out


# --------------------------------------------------------------------------- 10, 11. the cache

#: The settings sweep of figure 10: quality 82 -> 70 -> 60, new widths, WebP only.
SWEEP = ({"quality": 82}, {"quality": 70}, {"quality": 60}, {"quality": 60, "widths": [320, 640, 1280]},
         {"quality": 60, "widths": [320, 640, 1280], "formats": ["webp"]})


def nanobanana(cwd: Path, *args: str) -> tuple[float, str]:
    """Run the `nanobanana` command (this checkout's) in ``cwd``: (wall seconds, stdout)."""
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    start = time.perf_counter()
    proc = subprocess.run([str(Path(sys.executable).with_name("nanobanana")), *args], cwd=cwd, env=env,
                          capture_output=True, text=True)
    wall = time.perf_counter() - start
    if proc.returncode != 0:
        raise RuntimeError(f"nanobanana {' '.join(args)} failed:\n{proc.stdout[-2000:]}{proc.stderr[-2000:]}")
    return wall, proc.stdout


def cache_files(cache: Path) -> dict[str, int]:
    """Every file of a cache by its path inside it, with its size; but the manifest (it
    names the site's folder), the indexes of its sidecars and backdrops (a cache of those
    files, store/folder_index.py) and lock files (empty; one per key ever paid for, made
    by paying, not by the settings)."""
    return {p.relative_to(cache).as_posix(): p.stat().st_size for p in cache.rglob("*")
            if p.is_file() and p.name != "manifest.json" and not p.name.startswith("index-")
            and p.parts[len(cache.parts)] != "locks"}


def set_options(config: Path, options: dict) -> None:
    """mkdocs.yml with the plugin's options updated."""
    import yaml

    data = yaml.safe_load(config.read_text(encoding="utf-8"))
    plugin = next(p for p in data["plugins"] if isinstance(p, dict) and "nanobanana" in p)
    plugin["nanobanana"].update(options)
    config.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")


def cache_size(tmp: Path, api: FakeAPI, s: dict) -> dict:
    """10. The settings sweep, then `nanobanana prune`: the cache against a fresh build's of
    the final settings (a new cache given the same paid images, as a CI cache restore)."""
    api.latency, api.jitter = 0.0, 0.0
    n = s["sweep_images"]
    site = make_site(tmp / "sweep", n, n, plugin={"api_base": api.base, "concurrency": 8})
    steps = []
    for options in SWEEP:
        set_options(site.on, options)
        run_build(site.on)
        files = cache_files(site.cache)
        steps.append({"options": options, "files": len(files), "bytes": sum(files.values())})
    settled(Cache(site.cache))  # the sweep's builds are over: nothing here is a build under way's
    dry = nanobanana(site.root, "prune", "--dry-run")[1]
    classes = {c: {"files": int(f), "bytes": int(b.replace(",", ""))}
               for c, f, b in re.findall(r"^  (\w+): (\d+) file\(s\), ([\d,]+) bytes", dry, re.M)}
    nanobanana(site.root, "prune")
    pruned = cache_files(site.cache)
    fresh = make_site(tmp / "sweep-fresh", n, n, plugin={"api_base": api.base, "concurrency": 8})  # the same pages
    shutil.copytree(site.cache / "images", fresh.cache / "images")
    set_options(fresh.on, SWEEP[-1])
    before = len(api.generate_requests)
    run_build(fresh.on)
    fresh_files = cache_files(fresh.cache)
    api.latency, api.jitter = LATENCY, JITTER
    return {"images": n, "steps": steps, "prune_classes": classes,
            "pruned": {"files": len(pruned), "bytes": sum(pruned.values())},
            "fresh": {"files": len(fresh_files), "bytes": sum(fresh_files.values()),
                      "requests": len(api.generate_requests) - before},
            "same_files": pruned == fresh_files, "goal": "files and bytes equal a fresh build's"}


def verify_cost(tmp: Path, s: dict) -> dict:
    """11. `nanobanana verify` (size and sha256) vs `verify --decode` on a cache of N
    photo-like images of the catalog's sizes (its files in the page cache)."""
    n, sizes = s["verify_images"], sorted(FLASH_IMAGE_SIZES.items())
    (tmp / "verify" / "docs").mkdir(parents=True, exist_ok=True)
    site = write_configs(tmp / "verify", {"site_name": "Verify"}, {})
    (site.root / "docs" / "index.md").write_text("# Verify\n", encoding="utf-8")
    cache = Cache(site.cache)

    def store(i: int) -> int:
        ratio, size = sizes[i % len(sizes)]
        data = image_png(size, i, photo=True)
        cache.put(Request("gemini-2.5-flash-image", f"verify {i}", ratio), [data], "bench", 2)
        return len(data)

    with ThreadPoolExecutor(os.cpu_count() or 1) as pool:
        total = sum(pool.map(store, range(n)))
    by_hash = [nanobanana(site.root, "verify") for _ in range(s["repeat"])]
    decoded = [nanobanana(site.root, "verify", "--decode") for _ in range(s["repeat"])]
    assert all(f"{n} entries checked, 0 bad" in out for _, out in by_hash + decoded)
    hash_s, decode_s = median(t for t, _ in by_hash), median(t for t, _ in decoded)
    return {"images": n, "bytes": total, "hash_s": hash_s, "decode_s": decode_s, "decode_over_hash": decode_s / hash_s,
            "goal": f"{n} images by hash in seconds"}


# --------------------------------------------------------------------------- 5. cards

FONT_DIRS = [  # Debian's fonts-roboto, else DejaVu Sans (on Debian's base image)
    ("Roboto", Path("/usr/share/fonts/truetype/roboto/unhinted/RobotoTTF"), "Roboto-{}.ttf"),
    ("DejaVu Sans", Path("/usr/share/fonts/truetype/dejavu"), "DejaVuSans{}.ttf"),
]


def seed_material_fonts(cache_dir: Path) -> str | None:
    """Material's social plugin downloads its font from Google Fonts, which is out of reach
    here: put a Roboto (or, lacking it, DejaVu Sans) Regular and Bold where it looks first,
    <cache_dir>/fonts/Roboto/<style>.ttf. The name of the font used, or None."""
    for name, folder, pattern in FONT_DIRS:
        regular = folder / pattern.format("Regular" if name == "Roboto" else "")
        bold = folder / pattern.format("Bold" if name == "Roboto" else "-Bold")
        if regular.is_file() and bold.is_file():
            target = cache_dir / "fonts" / "Roboto"
            target.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(regular, target / "Regular.ttf")
            shutil.copyfile(bold, target / "Bold.ttf")
            return name
    return None


def cards_vs_material(tmp: Path, api: FakeAPI, s: dict) -> dict:
    """5. Time per social card: ours (backgrounds cached, cards not) vs Material's social
    plugin (its cache emptied but for the fonts), each minus the same site with no cards,
    under Material for MkDocs."""
    try:
        import cairosvg  # noqa: F401  (Material's plugin needs it, and the cairo library)
        import material  # noqa: F401
    except (ImportError, OSError) as exc:
        return {"measured": False, "note": f"not measured: {exc} (pip install -e '.[bench]'; Debian libcairo2)"}
    root = tmp / "cards"
    pages = s["card_pages"]
    api.latency, api.jitter = 0.0, 0.0
    configs = make_card_site(root, pages, plugin={"api_base": api.base, "concurrency": 8})
    material_cache = root / ".cache" / "plugin" / "social"
    font = seed_material_fonts(material_cache)
    if font is None:
        return {"measured": False, "note": "not measured: no Roboto or DejaVu Sans font files to seed Material's cache"}
    run_build(configs["ours"])  # generate the backgrounds once: they are cached, the cards are what is timed
    ours_cards = root / ".cache" / "nanobanana" / "social"

    def cold_material() -> None:
        for entry in material_cache.iterdir():
            if entry.name != "fonts":
                shutil.rmtree(entry) if entry.is_dir() else entry.unlink()

    covers = root / ".cache" / "nanobanana" / "derived"
    runs: dict[str, list[float]] = {"none": [], "material": [], "material2": [], "ours": [], "ours_first": [],
                                    "ours_text": [], "ours_text_warm": []}
    warm_drawn: list[int] = []  # cards a warm text-card build encoded: each must be 0
    warm_pillow: list[bool] = []
    # the build's CPU time: what a card costs, whatever the load
    cpu: dict[str, list[float]] = {name: [] for name in runs}
    for _ in range(s["card_rounds"]):
        for name in runs:
            if name.startswith("material"):
                cold_material()
            elif name.startswith("ours") and name != "ours_text_warm":  # warm: the cold build's cards are kept
                shutil.rmtree(ours_cards, ignore_errors=True)
            if name == "ours_first":  # the cards' first drawing: each background's cover crop made too
                for cover in covers.rglob(f"*-{COVER.tag}.jpg"):
                    cover.unlink()
            build = run_build(configs[{"ours_first": "ours", "ours_text_warm": "ours_text"}.get(name, name)])
            if name == "ours_text_warm":
                warm_drawn.append(int(re.search(r"encoded (\d+)", build["summary"]).group(1)))
                warm_pillow.append(bool(build["pillow_imported"]))
            runs[name].append(build["wall_s"])
            cpu[name].append(build["cpu_s"])
            if name != "none":
                ours = name.startswith("ours")
                folder = root / "site" / ("assets/nanobanana/social" if ours else "assets/images/social")
                made = sum(1 for _ in folder.rglob("*.*"))
                assert made >= pages, f"{name}: {made} cards for {pages} pages"
    api.latency, api.jitter = LATENCY, JITTER
    base = median(runs["none"])
    per_card = {name: (median(v) - base) / pages for name, v in runs.items() if name != "none"}
    cpu_per_card = {name: (median(v) - median(cpu["none"])) / pages * 1000 for name, v in cpu.items() if name != "none"}
    return {"measured": True, "pages": pages, "font": font, "no_cards_s": base,
            "ours_ms_per_card": per_card["ours"] * 1000, "material_ms_per_card": per_card["material"] * 1000,
            "material_all_cores_ms_per_card": per_card["material2"] * 1000,
            "ours_first_ms_per_card": per_card["ours_first"] * 1000,
            "ratio": per_card["ours"] / per_card["material"],
            "ratio_vs_all_cores": per_card["ours"] / per_card["material2"],
            "first_ratio_vs_all_cores": per_card["ours_first"] / per_card["material2"],
            "cpu_ms_per_card": cpu_per_card, "cpu_ratio": cpu_per_card["ours"] / cpu_per_card["material2"],
            "text_ms_per_card": per_card["ours_text"] * 1000,
            "text_ratio_vs_all_cores": per_card["ours_text"] / per_card["material2"],
            "text_cpu_ratio": cpu_per_card["ours_text"] / cpu_per_card["material2"],
            "text_warm_ms_per_card": per_card["ours_text_warm"] * 1000,
            "text_warm_cards_drawn": max(warm_drawn), "text_warm_pillow_imported": any(warm_pillow),
            "goal": "image cards <= 0.9 x Material on equal cores; text cards <= 0.5, cold; warm: 0 drawn"}


# --------------------------------------------------------------------------- report


def table(results: dict) -> str:
    """One row a figure, for the figures in ``results``."""
    rows = []
    w = results.get("warm_overhead")
    if w:
        pairs = f"pairs {w['pair_ratios'][0]:.2f} to {w['pair_ratios'][-1]:.2f}"
        if "instructions_ratio" in w:
            head = (f"instructions (callgrind) **{w['instructions_ratio']:.3f}**; wall on {w['on_s']:.2f} s / off "
                    f"{w['off_s']:.2f} s = {w['ratio']:.3f} ({pairs})")
        else:
            head = f"wall on {w['on_s']:.2f} s / off {w['off_s']:.2f} s = **{w['ratio']:.3f}** ({pairs})"
        hooks = ", ".join(f"{k.removeprefix('on_')} {v * 1000:.0f}" for k, v in w["hooks_s"].items())
        small = (f"; {w['small_pages']} pages, {w['small_images']} images: instructions "
                 f"**{w['small_instructions_ratio']:.3f}**" if "small_instructions_ratio" in w else "")
        rows.append(("1. warm overhead",
                     f"{w['pages']} pages, {w['images']} images cached: {head}; plugin hooks "
                     f"{w['plugin_hooks_s'] * 1000:.0f} ms ({hooks}); {w['requests_when_warm']} requests{small}",
                     w["goal"]))
    c = results.get("cold_efficiency")
    if c:
        main = c["by_concurrency"][c["concurrency"]]
        conc = ", ".join(f"{k}: {v['efficiency']:.2f}" for k, v in c["by_concurrency"].items())
        rows.append(("2. cold efficiency",
                     f"{c['images']} images, L = {c['latency_s']} s, concurrency {c['concurrency']}: "
                     f"ideal {main['ideal_s']:.1f} s / (cold {main['cold_s']:.2f} s - off {main['off_s']:.2f} s) = "
                     f"**{c['efficiency']:.2f}** ({main['calls']} calls, {main['max_in_flight']} in flight); by "
                     f"concurrency: {conc}", c["goal"]))
    i = results.get("incremental")
    if i:
        rows.append(("3. incremental", f"{i['cached_images']} cached, one prompt edited: **{i['requests']} request**, "
                     f"{i['edited_s']:.2f} s vs allowed {i['allowed_s']:.2f} s (warm {i['warm_s']:.2f} s + L "
                     f"{i['latency_s']:.1f} s + 0.5 s)", i["goal"]))
    d = results.get("derivatives")
    if d:
        rows.append(("4. derivatives",
                     f"1344x768 to 3 widths x WebP + JPEG: ours {d['ours_s_per_image'] * 1000:.0f} ms / "
                     f"plain Pillow {d['plain_s_per_image'] * 1000:.0f} ms per image = **{d['ratio']:.2f}**; 2 workers "
                     f"{d['speedup_2_workers']:.2f}x the images/s of 1", d["goal"]))
        rows.append(("4b. AVIF vs WebP", avif_summary(d["avif"]), f"SSIM within {d['avif']['ssim_slack']} of WebP's"))
    so = results.get("social")
    if so:
        if not so.get("measured"):
            cards = so["note"]
        else:
            cpu = so["cpu_ms_per_card"]
            cards = (f"{so['pages']} pages under Material, equal cores ({os.cpu_count()}): ours "
                     f"{so['ours_ms_per_card']:.0f} ms / Material's {so['material_all_cores_ms_per_card']:.0f} ms per "
                     f"card = **{so['ratio_vs_all_cores']:.2f}**; a background's first card (its cover crop made too) "
                     f"{so['ours_first_ms_per_card']:.0f} ms, {so['first_ratio_vs_all_cores']:.2f}; Material at its "
                     f"default concurrency {so['material_ms_per_card']:.0f} ms ({so['ratio']:.2f}); CPU a card: ours "
                     f"{cpu['ours']:.0f} ms (first {cpu['ours_first']:.0f}), Material's "
                     f"{cpu['material2']:.0f} ms ({so['cpu_ratio']:.2f}); font {so['font']}. Text cards (the "
                     f"defaults, no image), cold: {so['text_ms_per_card']:.0f} ms a card = "
                     f"**{so['text_ratio_vs_all_cores']:.2f}** of Material's (CPU {cpu['ours_text']:.0f} ms, "
                     f"{so['text_cpu_ratio']:.2f}); warm: {so['text_warm_cards_drawn']} cards drawn, Pillow "
                     f"{'imported' if so['text_warm_pillow_imported'] else 'not imported'}, "
                     f"{so['text_warm_ms_per_card']:.1f} ms a page over no cards")
        rows.append(("5. social cards vs Material", cards, "<= 0.9 on equal cores; text cards <= 0.5, warm 0 drawn"))
    m = results.get("memory")
    if m:
        rows.append(("6. memory",
                     f"{m['images']} images: cold **{m['cold_peak_rss_mb']:.0f} MB**, warm "
                     f"{m['warm_peak_rss_mb']:.0f} MB peak RSS (MkDocs alone {m['off_peak_rss_mb']:.0f} MB)",
                     m["goal"]))
    sc = results.get("scale")
    if sc:
        points = ", ".join(f"{p['pages']} pages {p['plugin_s'] * 1000:.0f} ms" for p in sc["points"])
        rows.append(("7. scale", f"plugin's own warm time {points}: exponent **{sc['exponent']:.2f}**", sc["goal"]))
    rows += later_rows(results)
    return "\n".join(["| figure | measured | goal |", "|---|---|---|"] + [f"| {a} | {b} | {g} |" for a, b, g in rows])


def later_rows(results: dict) -> list[tuple[str, str, str]]:
    """``table``'s rows for figures 8 on (the remote tier, formats, the cache, scale)."""
    rows = []
    f = results.get("fresh_runner")
    if f:
        rows.append(("8. fresh runner", f"{f['pages']} pages, {f['images']} images, empty local cache, full bucket "
                     f"({f['bucket_mb']:.0f} MB): fresh {f['fresh_s']:.2f} s / warm {f['warm_s']:.2f} s = "
                     f"**{f['ratio']:.2f}**; **{f['encoded_fresh']} encodes**, {f['requests']} requests", f["goal"]))
    b = results.get("backdrops")
    if b:
        per = b["bytes_per_image"]
        rows.append(("9. backdrops",
                     f"{b['figures']} figures on {b['pages']} pages: color **+{per['color']:.0f} B**, blur "
                     f"**+{per['blur']:.0f} B** of HTML an image (largest blur style "
                     f"{b['largest_blur_style_bytes']} B); warm build with blurs {b['warm_s']['blur']:.2f} s / "
                     f"none {b['warm_s']['none']:.2f} s = {b['warm_ratio']:.3f} "
                     f"(pairs {b['warm_pair_ratios'][0]:.2f} to {b['warm_pair_ratios'][-1]:.2f}; "
                     f"plugin hooks {b['warm_plugin_ms']['blur']:.0f} vs {b['warm_plugin_ms']['none']:.0f} ms), "
                     f"Pillow imported: {'yes' if b['warm_pillow_imported'] else 'no'}; an older "
                     f"cache's first build computes them at {b['upgrade_ms_per_image']:.1f} ms an image", b["goal"]))
    cs = results.get("cache_size")
    if cs:
        sweep = " -> ".join(f"{st['files']}" for st in cs["steps"])
        rows.append(("10. cache size",
                     f"{cs['images']} images, quality 82 -> 70 -> 60, new widths, WebP only: cache "
                     f"files {sweep}; after `prune` **{cs['pruned']['files']} files, {cs['pruned']['bytes']:,} "
                     f"bytes**, a fresh build {cs['fresh']['files']} files, {cs['fresh']['bytes']:,} bytes "
                     f"({'the same files' if cs['same_files'] else 'NOT the same files'})", cs["goal"]))
    v = results.get("verify_cost")
    if v:
        rows.append(("11. verify", f"{v['images']:,} images ({v['bytes'] / 1e9:.2f} GB): `nanobanana verify` "
                     f"**{v['hash_s']:.1f} s**, `--decode` {v['decode_s']:.1f} s ({v['decode_over_hash']:.1f}x)",
                     v["goal"]))
    if results.get("cold_cpu"):
        rows.append(coldcpu.table_row(results["cold_cpu"]))
    sv = results.get("serve_loop")
    if sv:
        rows.append(("13. serve loop",
                     f"{sv['pages']} pages, {sv['images']} images cached, {sv['saves']} saves of one page: "
                     f"rebuild on {sv['on_s']:.2f} s / off {sv['off_s']:.2f} s = **{sv['ratio']:.3f}**; a prompt edit: "
                     f"{sv['prompt_edit_s']:.2f} s ({sv['prompt_edit_ratio']:.2f} of off), placeholder shown: "
                     f"{sv['placeholder_shown']}, under an API latency of {sv['latency_s']} s", sv["goal"]))
    b = results.get("big_site")
    if b:
        big = (f"{b['pages']} pages, {b['images']} images cached: on {b['on_s']:.1f} s / "
               f"off {b['off_s']:.1f} s = **{b['ratio']:.3f}** (plugin hooks {b['plugin_s']:.2f} s); warm peak RSS "
               f"**{b['warm_peak_rss_mb']:.0f} MB** (off {b['off_peak_rss_mb']:.0f} MB)"
               ) if b.get("measured", True) else b["note"]
        rows.append(("14. scale, large site", big, b["goal"]))
    if results.get("fleet"):
        rows.append(fleets.table_row(results["fleet"]))
    if results.get("ordinary_images"):
        rows.append(photos.table_row(results["ordinary_images"]))
    return rows


def avif_summary(a: dict) -> str:
    """Figure 4's AVIF rows in one cell: per image, each speed at its matched quality."""
    parts = []
    for name, row in a["images"].items():
        speeds = ", ".join(f"speed {sp}: q{r['quality']} {r['bytes_vs_webp']:.2f}x bytes {r['cpu_vs_webp']:.1f}x CPU"
                           for sp, r in row["avif"].items())
        dflt = row["default"]
        parts.append(f"{name} (WebP q{row['webp']['quality']} {row['webp']['bytes'] // 1024} KB, "
                     f"{row['webp']['cpu_ms']:.0f} ms): {speeds}; default q{a['default']['quality']} speed "
                     f"{a['default']['speed']}: **{dflt['bytes_vs_webp']:.2f}x bytes**, "
                     f"SSIM {dflt['ssim_vs_webp']:+.4f}")
    cpu = a["per_image_cpu_ms"]
    parts.append("CPU per image, 3 widths: " + ", ".join(f"{k} {v:.0f} ms" for k, v in cpu.items()))
    return "; ".join(parts)


FIGURES = ("warm_overhead", "incremental", "cold_efficiency", "derivatives", "social", "memory", "scale",
           "fresh_runner", "backdrops", "cache_size", "verify_cost", "cold_cpu", "serve_loop", "big_site", "fleet",
           "ordinary_images")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    size = ap.add_mutually_exclusive_group()
    size.add_argument("--quick", action="store_true", help="small sizes, under 2 minutes")
    size.add_argument("--toy", action="store_true", help="tiny sizes, for the smoke test")
    ap.add_argument("--out", type=Path, default=REPO / "bench" / "results")
    ap.add_argument("--only", default=",".join(FIGURES), help=f"comma-separated figures, of: {', '.join(FIGURES)}")
    args = ap.parse_args()
    only = set(args.only.split(","))
    if only - set(FIGURES):
        ap.error(f"--only: unknown figure {sorted(only - set(FIGURES))[0]!r}")
    if "incremental" in only:
        only.add("warm_overhead")  # it edits the warm site
    mode = "toy" if args.toy else "quick" if args.quick else "full"
    s = SIZES[mode]
    started = time.perf_counter()
    suffix = ("" if mode == "full" else f"-{mode}") + ("" if only == set(FIGURES) else "-" + "+".join(sorted(only)))

    def save(results: dict) -> None:
        args.out.mkdir(parents=True, exist_ok=True)
        path = args.out / f"{results['date']}{suffix}.json"
        path.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")

    compile_package()
    results: dict = {"command": "python -m bench" + {"full": "", "quick": " --quick", "toy": " --toy"}[mode]
                     + ("" if only == set(FIGURES) else f" --only {args.only}"),
                     "machine": {"cores": os.cpu_count(), "python": platform.python_version(),
                                 "pillow": PIL.__version__, "system": platform.platform()},
                     "date": date.today().isoformat(),
                     # other processes take cores from wall-time figures: say how many wanted them
                     "load_average_at_start": os.getloadavg()}
    for size in FLASH_IMAGE_SIZES.values():  # the fake server renders each size once: not on the clock
        image_png(size, 0, photo=True)
    with FakeAPI(latency=LATENCY, jitter=JITTER, photo=True) as api, tempfile.TemporaryDirectory() as tmpdir:
        tmp = Path(tmpdir)

        spent = results["figure_seconds"] = {}  # where a run's time goes: what to shrink in the smoke test
        loads = results["figure_load_average"] = {}  # each figure's own: [at its start, at its end] (1 minute)

        def step(name: str, fn, *a):
            print(f"... {name}", file=sys.stderr, flush=True)
            begun, load = time.perf_counter(), os.getloadavg()[0]
            try:
                return fn(*a)
            finally:
                spent[name] = round(time.perf_counter() - begun, 1)
                loads[name] = [round(load, 2), round(os.getloadavg()[0], 2)]

        if "warm_overhead" in only:
            results["warm_overhead"], warm_site = step("warm overhead", warm_overhead, tmp, api, s)
            save(results)  # after every figure: a full run takes an hour, and a later figure may fail
        if "incremental" in only:
            results["incremental"] = step("incremental", incremental, warm_site, api, results["warm_overhead"]["on_s"])
            save(results)
        for name, fn, args_ in (("cold_efficiency", cold_efficiency, (tmp, api, s)),
                                ("derivatives", derivatives, (tmp, s)), ("social", cards_vs_material, (tmp, api, s)),
                                ("memory", memory, (tmp, api, s)),
                                ("scale", scale, (tmp, api, s)), ("fresh_runner", fresh_runner, (tmp, api, s)),
                                ("backdrops", backdrops, (tmp, api, s)),
                                ("cache_size", cache_size, (tmp, api, s)), ("verify_cost", verify_cost, (tmp, s)),
                                ("cold_cpu", cold_cpu, (tmp, api, s)), ("serve_loop", serve_loop, (tmp, api, s)),
                                ("big_site", big_site_or_note, (tmp, api, s)),
                                ("fleet", fleets.fleet, (tmp, api, s, build_env())),
                                ("ordinary_images", photos.figure, (tmp, s, run_build, median))):
            if name in only:
                results[name] = step(name.replace("_", " "), fn, *args_)
                save(results)
    results["seconds"] = round(time.perf_counter() - started, 1)
    results["load_average_at_end"] = os.getloadavg()
    save(results)
    m = results["machine"]
    print(f"command: {results['command']} ({results['seconds']:.0f} s)\n"
          f"machine: {m['cores']} cores, Python {m['python']}, Pillow {m['pillow']}, {m['system']}; load average "
          f"{results['load_average_at_start'][0]:.1f} at the start, "
          f"{results['load_average_at_end'][0]:.1f} at the end\n")
    print(table(results))


if __name__ == "__main__":
    main()
