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
    for figure in ("warm_overhead", "cold_efficiency", "incremental", "derivatives", "social", "memory", "scale",
                   "serve_loop", "big_site"):
        assert figure in result, figure
    warm = result["warm_overhead"]
    assert warm["requests_when_warm"] == 0
    assert warm["plugin_hooks_s"] > 0 and "on_files" in warm["hooks_s"], "the plugin-on builds were timed inside"
    assert result["incremental"]["requests"] == 1
    cold = result["cold_efficiency"]["by_concurrency"]["2"]
    assert cold["calls"] == result["cold_efficiency"]["images"] and cold["max_in_flight"] <= 2
    # the test extra installs cairosvg, and Debian's libcairo2 is on the machine: the
    # comparison with Material's social plugin really ran (it asserts the cards exist)
    assert result["social"]["measured"], result["social"].get("note")
    memory = result["memory"]
    assert memory["off_peak_rss_mb"] < memory["cold_peak_rss_mb"] < 300
    assert [p["pages"] for p in result["scale"]["points"]] == [5, 10, 20]
    serve = result["serve_loop"]
    assert len(serve["on_runs_s"]) == len(serve["off_runs_s"]) == serve["saves"] >= 1
    assert serve["placeholder_shown"], "a prompt edit under serve shows its placeholder in that rebuild"
    big = result["big_site"]
    assert big["pages"] == 40 and big["warm_peak_rss_mb"] > 0 and big["plugin_s"] > 0
    assert "| 8. serve loop |" in proc.stdout and "| 9. scale, large site |" in proc.stdout
    assert "| 7. scale |" in proc.stdout and "command: python -m bench --toy" in proc.stdout


def test_bench_refuses_an_unknown_figure(tmp_path):
    proc = run([sys.executable, "-m", "bench", "--toy", "--only", "warm", "--out", str(tmp_path)], cwd=REPO, check=False)
    assert proc.returncode == 2 and "unknown figure 'warm'" in proc.stderr
    assert not list(tmp_path.iterdir())
