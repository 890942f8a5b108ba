"""The benchmark suite: every figure a ratio of two things measured side by side in one run.

    python -m bench --quick        # small sizes, a couple of minutes on 2 cores
    python -m bench                # the sizes of the issue (takes long: 500-image builds)
    python -m bench --toy          # seconds; the smoke test runs this so the suite cannot rot

Writes bench/results/<date>[-quick|-toy].json and prints a markdown table with the command,
the machine and each figure (median of --repeat runs where it repeats). The API is
tests/fakeapi.py: latency with jitter, photo-like PNGs of the catalog's sizes.
"""

from __future__ import annotations

import argparse
import io
import json
import logging
import math
import os
import platform
import shutil
import statistics
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from pathlib import Path

import PIL
from PIL import Image

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))

from fakeapi import FakeAPI, image_png  # noqa: E402

from bench.sitegen import make_site, set_enabled  # noqa: E402
from mkdocs_nanobanana import assets  # noqa: E402
from mkdocs_nanobanana.cache import Cache  # noqa: E402

SIZES = {  # name -> sizes of each figure
    "full": dict(warm_pages=500, warm_images=200, cold_images=64, cold_latency=1.0, cold_conc=8,
                 conc_levels=[1, 2, 4, 8, 16], deriv_images=8, mem_images=500, scale_pages=[100, 1000, 5000],
                 repeat=3),
    "quick": dict(warm_pages=200, warm_images=80, cold_images=32, cold_latency=1.0, cold_conc=8,
                  conc_levels=[2, 4, 8], deriv_images=4, mem_images=64, scale_pages=[50, 200, 800], repeat=3),
    "toy": dict(warm_pages=12, warm_images=6, cold_images=4, cold_latency=0.2, cold_conc=2,
                conc_levels=[2], deriv_images=1, mem_images=4, scale_pages=[5, 10, 20], repeat=1),
}


def build(config_file: Path) -> float:
    """One in-process `mkdocs build`; its wall time."""
    from mkdocs.commands.build import build as mkdocs_build
    from mkdocs.config import load_config

    start = time.perf_counter()
    mkdocs_build(load_config(str(config_file)))
    return time.perf_counter() - start


def median_of(n: int, fn) -> float:
    return statistics.median(fn() for _ in range(n))


def fresh(config_file: Path) -> None:
    """Forget every image and derivative: the next build is cold."""
    shutil.rmtree(config_file.parent / ".cache", ignore_errors=True)


# --------------------------------------------------------------------------- figures


def warm_overhead(tmp: Path, api: FakeAPI, s: dict) -> dict:
    cfg = make_site(tmp / "warm", s["warm_pages"], s["warm_images"], plugin={"api_base": api.base})
    build(cfg)  # fill the cache
    set_enabled(cfg, False)
    off = median_of(s["repeat"], lambda: build(cfg))
    set_enabled(cfg, True)
    before = len(api.generate_requests)
    on = median_of(s["repeat"], lambda: build(cfg))
    return {"pages": s["warm_pages"], "images": s["warm_images"], "off_s": off, "on_s": on, "ratio": on / off,
            "requests_when_warm": len(api.generate_requests) - before, "goal": "<= 1.05"}


def cold_efficiency(tmp: Path, api: FakeAPI, s: dict) -> dict:
    api.latency, api.jitter = s["cold_latency"], 0.0
    out = {"images": s["cold_images"], "latency_s": s["cold_latency"], "goal": ">= 0.9", "by_concurrency": {}}
    for conc in sorted(set(s["conc_levels"]) | {s["cold_conc"]}):
        cfg = make_site(tmp / f"cold-{conc}", s["cold_images"], s["cold_images"], plugin={"api_base": api.base, "concurrency": conc})
        set_enabled(cfg, False)
        off = median_of(s["repeat"], lambda: build(cfg))
        set_enabled(cfg, True)
        colds = []
        for _ in range(s["repeat"]):
            fresh(cfg)
            colds.append(build(cfg))
        cold = statistics.median(colds)
        ideal = math.ceil(s["cold_images"] / conc) * s["cold_latency"]  # one call per directive, num > 1 too
        out["by_concurrency"][conc] = {"off_s": off, "cold_s": cold, "ideal_s": ideal, "efficiency": ideal / (cold - off)}
    main = out["by_concurrency"][s["cold_conc"]]
    out.update(concurrency=s["cold_conc"], efficiency=main["efficiency"])
    api.latency, api.jitter = 1.5, 0.3
    return out


def incremental(tmp: Path, api: FakeAPI, s: dict) -> dict:
    cfg = make_site(tmp / "inc", s["warm_pages"], s["warm_images"], plugin={"api_base": api.base})
    build(cfg)
    warm = median_of(s["repeat"], lambda: build(cfg))
    page = next(p for p in sorted((cfg.parent / "docs").rglob("page-*.md")) if "```nanobanana" in p.read_text())
    text = page.read_text()
    page.write_text(text.replace("prompt: ", "prompt: Edited, ", 1))
    before = len(api.generate_requests)
    edited = build(cfg)
    latency = api.latency + api.jitter
    return {"cached_images": s["warm_images"], "requests": len(api.generate_requests) - before, "warm_s": warm,
            "edited_s": edited, "allowed_s": warm + latency + 0.5, "goal": "requests == 1, edited <= warm + L + 0.5 s"}


def derivatives(tmp: Path, s: dict) -> dict:
    """Our derivative path vs a plain Pillow script doing the same resizes and encodes."""
    src = image_png((1344, 768), 1, photo=True)
    widths, exts, quality = [480, 768, 1024], ["webp", "jpg"], 82

    def plain(_n: int) -> None:
        with Image.open(io.BytesIO(src)) as img:
            img = img.convert("RGB")
            for ext in exts:
                for w in widths:
                    resized = img.resize((w, round(768 * w / 1344)), Image.Resampling.LANCZOS)
                    assets.encode(resized, ext, quality)

    def ours(n: int) -> None:
        cache = Cache(tmp / f"deriv-{n}-{time.perf_counter_ns()}")
        source = assets.Source(f"src{n}", 1344, 768, False, lambda: Image.open(io.BytesIO(src)))
        assets.ensure_derivatives(source, widths, exts, quality, cache)

    def per_image(fn) -> float:
        start = time.perf_counter()
        for n in range(s["deriv_images"]):
            fn(n)
        return (time.perf_counter() - start) / s["deriv_images"]

    t_plain = median_of(s["repeat"], lambda: per_image(plain))
    t_ours = median_of(s["repeat"], lambda: per_image(ours))

    def throughput(workers: int) -> float:
        n = max(2, s["deriv_images"] * 2)
        start = time.perf_counter()
        with ThreadPoolExecutor(workers) as pool:
            list(pool.map(ours, range(n)))
        return n / (time.perf_counter() - start)

    one, two = throughput(1), throughput(2)
    return {"plain_s_per_image": t_plain, "ours_s_per_image": t_ours, "ratio": t_ours / t_plain, "goal": "<= 1.05",
            "images_per_s_1_worker": one, "images_per_s_2_workers": two, "speedup_2_workers": two / one}


def memory(tmp: Path, api: FakeAPI, s: dict) -> dict:
    """Peak RSS of a cold and of a warm build, each in its own process (os.wait4)."""
    api.latency, api.jitter = 0.05, 0.0
    cfg = make_site(tmp / "mem", max(10, s["mem_images"] // 2), s["mem_images"], plugin={"api_base": api.base, "concurrency": 8})
    code = f"from bench.__main__ import build; build(__import__('pathlib').Path({str(cfg)!r}))"
    out = {"images": s["mem_images"], "goal": "cold < 300 MB"}
    for name in ("cold", "warm"):
        pid = os.spawnve(os.P_NOWAIT, sys.executable, [sys.executable, "-c", code],
                         {**os.environ, "PYTHONPATH": str(REPO)})
        _, status, usage = os.wait4(pid, 0)
        assert status == 0, f"{name} build failed"
        out[f"{name}_peak_rss_mb"] = usage.ru_maxrss / 1024
    api.latency, api.jitter = 1.5, 0.3
    return out


def scale(tmp: Path, api: FakeAPI, s: dict) -> dict:
    """The plugin's own warm time (on - off) at growing page counts, and its growth exponent."""
    points = []
    for pages in s["scale_pages"]:
        cfg = make_site(tmp / f"scale-{pages}", pages, max(1, pages * 2 // 5), plugin={"api_base": api.base})
        api.latency, api.jitter = 0.0, 0.0
        build(cfg)
        set_enabled(cfg, False)
        off = median_of(s["repeat"], lambda: build(cfg))
        set_enabled(cfg, True)
        on = median_of(s["repeat"], lambda: build(cfg))
        points.append({"pages": pages, "off_s": off, "on_s": on, "plugin_s": max(on - off, 1e-4)})
    xs = [math.log(p["pages"]) for p in points]
    ys = [math.log(p["plugin_s"]) for p in points]
    mx, my = statistics.mean(xs), statistics.mean(ys)
    slope = sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / sum((x - mx) ** 2 for x in xs)
    api.latency, api.jitter = 1.5, 0.3
    return {"points": points, "exponent": slope, "goal": "exponent <= 1.1 (linear)"}


# --------------------------------------------------------------------------- report


def table(results: dict) -> str:
    w, c, i, d, m, sc = (results[k] for k in ("warm_overhead", "cold_efficiency", "incremental", "derivatives", "memory", "scale"))
    conc = ", ".join(f"{k}: {v['efficiency']:.2f}" for k, v in c["by_concurrency"].items())
    rows = [
        ("1. warm overhead", f"{w['pages']} pages, {w['images']} images cached: on {w['on_s']:.2f} s / off {w['off_s']:.2f} s = **{w['ratio']:.3f}**, {w['requests_when_warm']} requests", w["goal"]),
        ("2. cold efficiency", f"{c['images']} images, L = {c['latency_s']} s, concurrency {c['concurrency']}: ideal / (cold - off) = **{c['efficiency']:.2f}** (by concurrency: {conc})", c["goal"]),
        ("3. incremental", f"{i['cached_images']} cached, one prompt edited: **{i['requests']} request**, {i['edited_s']:.2f} s vs allowed {i['allowed_s']:.2f} s (warm {i['warm_s']:.2f} s)", i["goal"]),
        ("4. derivatives", f"ours {d['ours_s_per_image']:.3f} s / plain Pillow {d['plain_s_per_image']:.3f} s per image = **{d['ratio']:.2f}**; 2 workers {d['speedup_2_workers']:.2f}x of 1", d["goal"]),
        ("5. social cards vs Material", results["social"]["note"], "ours <= Material"),
        ("6. memory", f"{m['images']} images: cold **{m['cold_peak_rss_mb']:.0f} MB**, warm {m['warm_peak_rss_mb']:.0f} MB peak RSS", m["goal"]),
        ("7. scale", "plugin's warm time " + ", ".join(f"{p['pages']} pages {p['plugin_s']:.3f} s" for p in sc["points"]) + f": exponent **{sc['exponent']:.2f}**", sc["goal"]),
    ]
    lines = ["| figure | measured | goal |", "|---|---|---|"] + [f"| {a} | {b} | {g} |" for a, b, g in rows]
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--toy", action="store_true")
    ap.add_argument("--out", type=Path, default=REPO / "bench" / "results")
    args = ap.parse_args()
    mode = "toy" if args.toy else "quick" if args.quick else "full"
    s = SIZES[mode]
    os.environ["NANOBANANA_API_KEY"] = "bench-key"
    os.environ.pop("NANOBANANA_MODE", None)
    logging.getLogger("mkdocs").setLevel(logging.ERROR)
    started = time.perf_counter()
    results: dict = {"command": "python -m bench" + {"full": "", "quick": " --quick", "toy": " --toy"}[mode],
                     "machine": {"cores": os.cpu_count(), "python": platform.python_version(), "pillow": PIL.__version__},
                     "date": date.today().isoformat()}
    with FakeAPI(latency=1.5, jitter=0.3, photo=True) as api, tempfile.TemporaryDirectory() as tmpdir:
        tmp = Path(tmpdir)
        for name, fn in (("warm_overhead", warm_overhead), ("cold_efficiency", cold_efficiency),
                         ("incremental", incremental), ("memory", memory), ("scale", scale)):
            print(f"... {name}", file=sys.stderr, flush=True)
            results[name] = fn(tmp, api, s)
        print("... derivatives", file=sys.stderr, flush=True)
        results["derivatives"] = derivatives(tmp, s)
    results["social"] = {"note": "not measured yet: needs cairosvg, libcairo2 and fonts-roboto (see the note on issue 7)"}
    results["seconds"] = round(time.perf_counter() - started, 1)
    args.out.mkdir(parents=True, exist_ok=True)
    suffix = "" if mode == "full" else f"-{mode}"
    (args.out / f"{results['date']}{suffix}.json").write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    m = results["machine"]
    print(f"command: {results['command']}\nmachine: {m['cores']} cores, Python {m['python']}, Pillow {m['pillow']}\n")
    print(table(results))


if __name__ == "__main__":
    main()
