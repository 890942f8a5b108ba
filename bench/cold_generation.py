"""Cold-build generation efficiency against the fake API, as a ratio to the ideal.

    python bench/cold_generation.py [--images 12] [--latency 1.0] [--concurrency 4] [--repeat 3]

For each repeat, in one run: a build with the plugin off (directives left as code
blocks) and a cold live build (empty cache) of the same site. The plugin's cost is
cold - off; the ideal is ceil(images / concurrency) x latency (every call waits the
full latency, nothing else costs anything). Efficiency = ideal / (cold - off).
"""

from __future__ import annotations

import argparse
import math
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

import PIL
import yaml

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))

from fakeapi import FakeAPI  # noqa: E402


def make_site(root: Path, images: int, api_base: str, concurrency: int, enabled: bool) -> Path:
    docs = root / "docs"
    docs.mkdir(parents=True, exist_ok=True)
    ratios = ["1:1", "16:9", "4:3", "3:2"]
    for i in range(images):
        (docs / f"post-{i}.md").write_text(
            f"# Post {i}\n\nSome text.\n\n```nanobanana\nprompt: Illustration number {i}\n"
            f"ratio: \"{ratios[i % len(ratios)]}\"\n```\n\nMore text.\n",
            encoding="utf-8",
        )
    config = {
        "site_name": "bench",
        "plugins": [{"nanobanana": {"enabled": enabled, "api_base": api_base, "concurrency": concurrency, "max_credits": 10_000}}],
    }
    (root / "mkdocs.yml").write_text(yaml.safe_dump(config), encoding="utf-8")
    return root / "mkdocs.yml"


def build(config_file: Path) -> float:
    from mkdocs.commands.build import build as mkdocs_build
    from mkdocs.config import load_config

    start = time.perf_counter()
    mkdocs_build(load_config(str(config_file)))
    return time.perf_counter() - start


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--images", type=int, default=12)
    ap.add_argument("--latency", type=float, default=1.0)
    ap.add_argument("--concurrency", type=int, default=4)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    os.environ["NANOBANANA_API_KEY"] = "bench-key"
    os.environ.pop("NANOBANANA_MODE", None)
    import logging

    logging.getLogger("mkdocs").setLevel(logging.ERROR)

    ideal = math.ceil(args.images / args.concurrency) * args.latency
    rows = []
    with FakeAPI(latency=args.latency, photo=True) as api:
        for _ in range(args.repeat):
            with tempfile.TemporaryDirectory() as tmp:
                off = build(make_site(Path(tmp) / "off", args.images, api.base, args.concurrency, enabled=False))
                before = len(api.generate_requests)
                cold = build(make_site(Path(tmp) / "on", args.images, api.base, args.concurrency, enabled=True))
                calls = len(api.generate_requests) - before
                warm = build(Path(tmp) / "on" / "mkdocs.yml")
                rows.append((off, cold, warm, calls, api.max_in_flight))
    offs, colds, warms = ([r[i] for r in rows] for i in range(3))
    plugin_time = statistics.median(c - o for c, o in zip(colds, offs))
    print(f"command: python {' '.join(sys.argv)}")
    print(f"machine: {os.cpu_count()} cores, Python {platform.python_version()}, Pillow {PIL.__version__}")
    print()
    print("| figure | value |")
    print("|---|---|")
    print(f"| images, latency, concurrency | {args.images}, {args.latency} s, {args.concurrency} |")
    print(f"| API calls per cold build | {rows[0][3]} (max in flight {rows[0][4]}) |")
    print(f"| plugin off, median | {statistics.median(offs):.2f} s |")
    print(f"| cold build, median | {statistics.median(colds):.2f} s |")
    print(f"| warm build, median | {statistics.median(warms):.2f} s |")
    print(f"| ideal generation time | {ideal:.2f} s |")
    print(f"| cold - off, median | {plugin_time:.2f} s |")
    print(f"| efficiency = ideal / (cold - off) | {ideal / plugin_time:.2f} |")


if __name__ == "__main__":
    main()
