"""The benchmark suite at toy size, so it cannot rot. No timing is asserted: benchmarks
report ratios (docs/performance.md); this checks that every figure is produced and that
the counts that are not timings hold.

The toy run is a minute of CPU (every figure builds real sites in fresh processes), so it
has a marker of its own: not in the default run, and run by README's test command (so by
.ci/run) right after it: ``python -m pytest -m bench``."""

from __future__ import annotations

import json
import sys

import pytest

from tests.support.commands import REPO, run


@pytest.mark.bench
def test_bench_toy_run_produces_every_figure(tmp_path):
    proc = run([sys.executable, "-m", "bench", "--toy", "--out", str(tmp_path)], cwd=REPO)
    result = json.loads(next(tmp_path.glob("*-toy.json")).read_text())
    for figure in ("warm_overhead", "cold_efficiency", "incremental", "derivatives", "social", "memory", "scale",
                   "fresh_runner", "backdrops", "cache_size", "verify_cost", "cold_cpu", "serve_loop", "big_site",
                   "fleet", "ordinary_images"):
        assert figure in result, figure
    fleet = result["fleet"]  # K runners on one cold moto bucket: each image bought once, for every K
    assert fleet["measured"] and set(fleet["by_runners"]) == {"1", "2"}, fleet
    assert all(row["posts"] == fleet["images"] for row in fleet["by_runners"].values()), fleet
    assert "| 15. fleet |" in proc.stdout
    fresh = result["fresh_runner"]
    assert (fresh["encoded_fresh"], fresh["requests"]) == (0, 0) and fresh["encoded_warm"] == 0
    assert "fetched" in fresh["fresh_summary"] and fresh["bucket_mb"] > 0
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
    at_scale = result["cold_cpu"]
    assert at_scale["calls"] == at_scale["images"] == 8 and at_scale["cpu_ms_per_image"] > 0
    assert at_scale["bound_s"] == max(at_scale["network_bound_s"], at_scale["cpu_bound_s"])
    assert set(at_scale["stages"]) >= {"decode_ms", "resize_ms", "encode_ms"}
    copies = at_scale["recipe"]["copies"]
    assert len(copies) == 6 and all(0 < c["ssim_exact_new"] <= 1 and c["bytes_ratio"] > 0 for c in copies.values())
    assert "| 8. fresh runner |" in proc.stdout and "| 7. scale |" in proc.stdout
    assert "command: python -m bench --toy" in proc.stdout
    # AVIF's quality was matched to WebP's SSIM, as figure 4 says (or is the top of the search)
    for name, row in result["derivatives"]["avif"]["images"].items():
        for speed, avif in row["avif"].items():
            assert avif["ssim"] >= row["webp"]["ssim"] - 0.005 or avif["quality"] == 95, (name, speed)
    assert "| 4b. AVIF vs WebP |" in proc.stdout
    backdrops = result["backdrops"]
    assert backdrops["figures"] == backdrops["images"]
    assert 0 < backdrops["bytes_per_image"]["color"] < backdrops["bytes_per_image"]["blur"] < 1024
    assert not backdrops["warm_pillow_imported"] and backdrops["upgrade_restored"]
    assert "| 9. backdrops |" in proc.stdout
    sweep = result["cache_size"]
    assert sweep["same_files"] and sweep["pruned"] == {"files": sweep["fresh"]["files"],
                                                       "bytes": sweep["fresh"]["bytes"]}
    assert sweep["fresh"]["requests"] == 0 and sweep["steps"][-2]["files"] > sweep["pruned"]["files"]
    assert result["verify_cost"]["images"] == 10 and "| 11. verify |" in proc.stdout
    assert "| 12. cold at scale (CPU) |" in proc.stdout
    serve = result["serve_loop"]
    assert len(serve["on_runs_s"]) == len(serve["off_runs_s"]) == serve["saves"] >= 1
    assert serve["placeholder_shown"], "a prompt edit under serve shows its placeholder in that rebuild"
    big = result["big_site"]
    assert big["pages"] == 40 and big["warm_peak_rss_mb"] > 0 and big["plugin_s"] > 0
    assert "| 13. serve loop |" in proc.stdout and "| 14. scale, large site |" in proc.stdout
    own = result["ordinary_images"]  # the copies the plain script made (3 widths x 2 formats), made once
    assert own["encoded_cold"] == own["plain_files"] == own["photos"] * 6 and set(own["encoded_warm"]) == {0}
    assert not own["warm_pillow_imported"] and 0 < own["saved_bytes"] < own["original_bytes"]
    assert "| 16. ordinary images |" in proc.stdout


def test_bench_refuses_an_unknown_figure(tmp_path):
    proc = run([sys.executable, "-m", "bench", "--toy", "--only", "warm", "--out", str(tmp_path)], cwd=REPO,
               check=False)
    assert proc.returncode == 2 and "unknown figure 'warm'" in proc.stderr
    assert not list(tmp_path.iterdir())


def test_ssim_ranks_damage():
    """The bench's SSIM: 1 for the same pixels, lower the more an image is blurred, and
    the same whichever image comes first."""
    from PIL import ImageFilter

    from bench.codecs import illustration
    from bench.ssim import ssim

    img = illustration((256, 144))
    scores = [ssim(img, img.filter(ImageFilter.GaussianBlur(r))) for r in (0.5, 1, 3)]
    assert ssim(img, img) == pytest.approx(1.0)
    assert 1 > scores[0] > scores[1] > scores[2]
    blurred = img.filter(ImageFilter.GaussianBlur(1))
    assert ssim(blurred, img) == pytest.approx(ssim(img, blurred))


def test_matched_quality_is_the_lowest_that_reaches_the_target():
    from bench.codecs import matched_quality

    asked = []

    def score(q: int) -> float:
        asked.append(q)
        return q / 100

    assert matched_quality(score, 0.61) == 61 and len(asked) <= 7  # a bisection, not a scan
    assert matched_quality(lambda q: 0.0, 0.5) == 95  # never reached: the top of the range
