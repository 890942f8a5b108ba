"""Where a warm build's memory goes: the Python heap tracemalloc sees, plugin on vs off,
and the plugin's largest allocation sites while every page is built (taken as the build
session closes). Not a figure: the profile behind figure 14's memory row.

    python -m bench.traced 4000 1000     # pages, images; a one-line theme, as figure 14

The site is made under a temporary folder, its cache filled by one build against the
tests' fake API (flat images, no latency), then built warm twice in fresh processes.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))

from fakeapi import FakeAPI  # noqa: E402

from bench.sitegen import make_site  # noqa: E402

# run in the build's own process: python -c PROBE config.yml on|off
PROBE = r'''
import linecache, os, sys, tracemalloc
tracemalloc.start(1)
from mkdocs.commands.build import build
from mkdocs.config import load_config
if sys.argv[2] == "on":
    from mkdocs_nanobanana.build import session

    close = session.BuildSession.close

    def report(self):
        snapshot = tracemalloc.take_snapshot()
        print("the largest allocating files, every page built (the plugin's, MkDocs' and the stdlib's):")
        for s in snapshot.statistics("filename")[:8]:
            print(f"  {s.size / 1e6:6.1f} MB {s.traceback[0].filename.split('site-packages/')[-1]}")
        print("the plugin's largest allocation sites:")
        top = [s for s in snapshot.statistics("lineno")[:400]
               if "mkdocs_nanobanana" in s.traceback[0].filename][:12]
        for s in top:
            frame = s.traceback[0]
            where = frame.filename.split("mkdocs_nanobanana/")[-1]
            line = linecache.getline(frame.filename, frame.lineno).strip()[:80]
            print(f"  {s.size / 1e6:6.1f} MB {where}:{frame.lineno} {line}")
        return close(self)

    session.BuildSession.close = report
build(load_config(sys.argv[1]))
print(f"traced peak, plugin {sys.argv[2]}: {tracemalloc.get_traced_memory()[1] / 1e6:.1f} MB")
'''


def main() -> None:
    pages, images = int(sys.argv[1]), int(sys.argv[2])
    env = {**os.environ, "PYTHONPATH": str(REPO), "NANOBANANA_API_KEY": "bench-key"}
    with FakeAPI(latency=0.0, jitter=0.0) as api, tempfile.TemporaryDirectory() as tmp:
        site = make_site(Path(tmp) / "site", pages, images, plugin={"api_base": api.base, "concurrency": 8},
                         minimal_theme=True)
        subprocess.run([sys.executable, "-m", "mkdocs", "build", "-q", "-f", str(site.on)], env=env, check=True)
        for config, state in ((site.on, "on"), (site.off, "off")):
            out = subprocess.run([sys.executable, "-c", PROBE, str(config), state], env=env, capture_output=True,
                                 text=True, check=True, cwd=config.parent)
            print(out.stdout, end="")


if __name__ == "__main__":
    main()
