"""The benchmark suite at toy size, so it cannot rot. No timing is asserted: benchmarks
report ratios (README "Performance"); this checks that every figure is produced and that
the counts that are not timings hold."""

from __future__ import annotations

import json
import sys

from conftest import REPO, run


def test_bench_toy_run_produces_every_figure(tmp_path):
    proc = run([sys.executable, "-m", "bench", "--toy", "--out", str(tmp_path)], cwd=REPO)
    result = json.loads(next(tmp_path.glob("*-toy.json")).read_text())
    for figure in ("warm_overhead", "cold_efficiency", "incremental", "derivatives", "social", "memory", "scale"):
        assert figure in result, figure
    assert result["warm_overhead"]["requests_when_warm"] == 0
    assert result["incremental"]["requests"] == 1
    assert result["memory"]["cold_peak_rss_mb"] > 0
    assert "| 7. scale |" in proc.stdout and "command: python -m bench --toy" in proc.stdout
