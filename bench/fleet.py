"""Figure 15 (issue 34): a fleet. K runner processes with empty local caches build the same
cold site on one S3 bucket (moto's server on 127.0.0.1) at the same moment: the POSTs the
fleet makes (goal: one an image, for every K) and the slowest runner's wall time against
one runner's (goal: at most 1.1x). Each runner is a real `mkdocs build` in its own process
and its own folder; every K gets a fresh bucket, so every K starts cold.

The images are the fake API's plain gradients (not the photo-like PNGs of other figures)
and each runner writes one width in one format: the figure is about who buys what and
how long the others wait, and K processes decoding photos on a shared 2-core machine
would measure the cores instead.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from bench.sitegen import write_configs


def fleet_site(root: Path, images: int, plugin: dict) -> Path:
    """``images`` distinct one-image directives, ten a page; the mkdocs.yml's path."""
    docs = root / "docs"
    docs.mkdir(parents=True, exist_ok=True)
    for page in range((images + 9) // 10):
        blocks = [f"```nanobanana\nprompt: Fleet figure image {i}\nalt: Image {i}\n```\n"
                  for i in range(page * 10, min(images, page * 10 + 10))]
        (docs / f"page-{page}.md").write_text(f"# Page {page}\n\n" + "\n".join(blocks), encoding="utf-8")
    (docs / "index.md").write_text("# Fleet\n", encoding="utf-8")
    options = {"max_credits": 1_000_000, "widths": [480], "formats": ["webp"], **plugin}
    return write_configs(root, {"site_name": "Fleet"}, options).on


def moto_server():
    """moto's S3 server on 127.0.0.1 (the test extra installs it), or None."""
    try:
        from moto.server import ThreadedMotoServer
    except ImportError:
        return None
    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # a line a request, on stderr, would bury the table
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    return server


def start_runners(configs: list[Path], env: dict[str, str]) -> list[dict]:
    """Start one `mkdocs build` a config at the same moment; each one's wall time from
    that moment, and what bench/measure.py reports of it."""
    began = time.perf_counter()
    procs = [subprocess.Popen([sys.executable, "-m", "bench.measure", str(c)], env=env, cwd=c.parent, text=True,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE) for c in configs]

    def waited(proc: subprocess.Popen) -> tuple[str, str, float]:  # each runner's own end, not the one before's
        out, err = proc.communicate(timeout=900)
        return out, err, time.perf_counter() - began

    with ThreadPoolExecutor(len(procs)) as pool:
        ends = list(pool.map(waited, procs))
    runs = []
    for proc, config, (out, err, wall) in zip(procs, configs, ends, strict=True):
        if proc.returncode != 0:
            raise RuntimeError(f"fleet runner {config} failed:\n{err[-3000:]}")
        runs.append({"wall_s": wall, **json.loads(out.strip().splitlines()[-1])})
    return runs


def fleet(tmp: Path, api, s: dict, env: dict[str, str]) -> dict:
    images, latency = s["fleet_images"], s["fleet_latency"]
    server = moto_server()
    if server is None:
        return {"measured": False, "note": "moto is not installed (pip install 'moto[server]')", "goal": GOAL}
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    env = {**env, "AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench", "AWS_DEFAULT_REGION": "us-east-1",
           "AWS_ENDPOINT_URL": endpoint}
    saved = api.latency, api.jitter, api.photo
    api.latency, api.jitter, api.photo = latency, 0.0, False
    by_k: dict[str, dict] = {}
    try:
        import boto3

        for k in s["fleet_runners"]:
            bucket = f"nb-fleet-{k}-{uuid.uuid4().hex[:8]}"
            boto3.client("s3", endpoint_url=endpoint, aws_access_key_id="bench", aws_secret_access_key="bench",
                         region_name="us-east-1").create_bucket(Bucket=bucket)
            plugin = {"api_base": api.base, "remote_cache": f"s3://{bucket}/site", "concurrency": s["fleet_conc"],
                      "remote_cache_options": {"skip_instance_cache": True}}
            configs = [fleet_site(tmp / f"fleet-{k}" / f"runner-{i}", images, plugin) for i in range(k)]
            before = len(api.generate_requests)
            runs = start_runners(configs, env)
            by_k[str(k)] = {"posts": len(api.generate_requests) - before, "slowest_s": max(r["wall_s"] for r in runs),
                            "walls_s": [round(r["wall_s"], 2) for r in runs],
                            "cpu_s": [round(r["cpu_s"], 2) for r in runs],
                            "summaries": [r["summary"] for r in runs]}
    finally:
        api.latency, api.jitter, api.photo = saved
        server.stop()
    one = by_k[str(s["fleet_runners"][0])]["slowest_s"]
    for row in by_k.values():
        row["vs_one"] = row["slowest_s"] / one
    return {"measured": True, "images": images, "latency_s": latency, "concurrency": s["fleet_conc"],
            "by_runners": by_k, "load_average": os.getloadavg(), "goal": GOAL}


GOAL = "POSTs = images for every K; slowest runner <= 1.1x one runner's wall time"


def table_row(f: dict) -> tuple[str, str, str]:
    if not f.get("measured"):
        return "15. fleet", f["note"], f["goal"]
    cells = "; ".join(f"K = {k}: **{r['posts']} POSTs**, slowest {r['slowest_s']:.2f} s (**{r['vs_one']:.2f}x**)"
                      for k, r in f["by_runners"].items())
    return ("15. fleet", f"{f['images']} images, L = {f['latency_s']} s, concurrency {f['concurrency']}, K runners "
            f"on one cold bucket at once: {cells} (load average {f['load_average'][0]:.1f}: wall times indicative)",
            f["goal"])
