"""The remote cache tier: memory:// and file:// for the store itself, and a real
S3-compatible server (moto's server mode on 127.0.0.1, through s3fs) for whole builds
on two "machines" that share one bucket."""

from __future__ import annotations

import json
import uuid

import pytest

from mkdocs_nanobanana.store.cache import Cache
from mkdocs_nanobanana.store.remote import BadRemoteEntry, open_remote
from tests.support.commands import bin_path, run
from tests.support.directives import directive
from tests.support.html import figures
from tests.support.images import seed_cache
from tests.support.logs import summary, warnings
from tests.support.sites import machine

# --------------------------------------------------------------------------- the store


@pytest.fixture
def memory_store():
    store = open_remote(f"memory://nb-{uuid.uuid4().hex}", {})
    yield store
    store.fs.rm(store.root, recursive=True)


def test_upload_then_fetch_gives_the_same_entry(memory_store, tmp_path):
    a, b = Cache(tmp_path / "a"), Cache(tmp_path / "b")
    entry = seed_cache(a, "Shared", num=2)
    assert memory_store.upload(entry, a) is True
    assert memory_store.upload(entry, a) is False, "an entry already there is left alone"
    got = memory_store.fetch(entry.key, b)
    assert got is not None and [i.sha256 for i in got.images] == [i.sha256 for i in entry.images]
    assert b.verify_entries() == {} and b.sidecar_path(entry.key).read_bytes() == a.sidecar_path(entry.key).read_bytes()
    assert memory_store.fetch("0" * 64, b) is None
    assert memory_store.has(entry.key) and not memory_store.has("0" * 64)


def test_a_damaged_remote_entry_is_refused_and_nothing_is_stored(memory_store, tmp_path):
    a, b = Cache(tmp_path / "a"), Cache(tmp_path / "b")
    entry = seed_cache(a, "Damaged")
    memory_store.upload(entry, a)
    memory_store.fs.pipe_file(memory_store.blob_path(entry.images[0].sha256), b"\x89PNG not really")
    with pytest.raises(BadRemoteEntry, match="does not match the sha256"):
        memory_store.fetch(entry.key, b)
    assert list(b.keys()) == [] and not any(b.root.rglob("*.png"))
    # a truncated sidecar, as from a killed upload, is refused too
    other = seed_cache(a, "Half uploaded")
    memory_store.upload(other, a)
    memory_store.fs.pipe_file(memory_store.sidecar_path(other.key), b'{"files": [')
    with pytest.raises(BadRemoteEntry, match="unusable sidecar"):
        memory_store.fetch(other.key, b)


def test_prune_keeps_what_is_used_and_verify_finds_damage(tmp_path):
    store = open_remote((tmp_path / "shared").as_uri(), {})  # file://
    local = Cache(tmp_path / "a")
    keep, drop = seed_cache(local, "Keep"), seed_cache(local, "Drop", ratio="16:9")
    for e in (keep, drop):
        store.upload(e, local)
    dry = store.prune({keep.key}, dry_run=True)
    assert len(dry) == 2 and store.keys() == sorted([keep.key, drop.key])
    store.prune({keep.key})
    assert store.keys() == [keep.key] and store.fetch(keep.key, Cache(tmp_path / "b")) is not None
    assert store.verify_entries(Cache(tmp_path / "scratch")) == {}
    store.fs.pipe_file(store.blob_path(keep.images[0].sha256), b"junk")
    assert list(store.verify_entries(Cache(tmp_path / "scratch2"))) == [keep.key]


def test_fetch_many_runs_in_parallel(tmp_path, monkeypatch):
    import threading
    import time

    store = open_remote(f"memory://nb-{uuid.uuid4().hex}", {})
    local = Cache(tmp_path / "a")
    entries = [seed_cache(local, f"Many {i}") for i in range(16)]
    for e in entries:
        store.upload(e, local)
    in_flight, peak, lock = [0], [0], threading.Lock()
    real = store.fs.cat_file

    def slow_cat(path, *a, **k):
        with lock:
            in_flight[0] += 1
            peak[0] = max(peak[0], in_flight[0])
        time.sleep(0.05)
        with lock:
            in_flight[0] -= 1
        return real(path, *a, **k)

    monkeypatch.setattr(store.fs, "cat_file", slow_cat)
    found = store.fetch_many([e.key for e in entries], Cache(tmp_path / "b"), print)
    assert len(found) == 16 and peak[0] >= 4


# --------------------------------------------------------------------------- builds on S3


def test_second_machine_pays_nothing(tmp_path, api, bucket, live_env, caplog):
    first = machine(tmp_path, "one", api, bucket)
    first.build()
    assert len(api.generate_requests) == 4
    assert "; remote cache: 0 fetched, 4 uploaded" in summary(caplog)
    assert "encoded 0" not in summary(caplog), "machine one made the resized copies"
    caplog.clear()
    second = machine(tmp_path, "two", api, bucket)
    second.build()
    assert len(api.generate_requests) == 4, "the second machine made no API request"
    assert ("4 cached, 0 generated (0 credits ~ $0.00), 0 placeholders, 0 failed, encoded 0; "
            "remote cache: 4 fetched, 0 uploaded") in summary(caplog)
    assert second.cache.verify_entries() == {}
    one_figs, two_figs = figures(first.html("a/index.html")), figures(second.html("a/index.html"))
    assert [f["img"]["src"] for f in one_figs] == [f["img"]["src"] for f in two_figs]
    assert all("nanobanana-placeholder" not in f["class"] for f in two_figs)
    for f in two_figs:
        rel = f["img"]["src"].removeprefix("../")
        assert (second.site / rel).read_bytes() == (first.site / rel).read_bytes()


def test_plan_counts_remote_entries_as_cached(tmp_path, api, bucket, live_env):
    machine(tmp_path, "one", api, bucket).build()
    second = machine(tmp_path, "two", api, bucket)
    proc = run([bin_path("nanobanana"), "plan", "--json"], cwd=second.root)
    data = json.loads(proc.stdout)
    assert [r["state"] for r in data["directives"]] == ["cached"] * 4 and data["total_credits"] == 0
    assert all(r["note"] == "remote" for r in data["directives"])
    assert list(second.cache.keys()) == [], "plan downloads nothing"


def test_remote_down_still_builds(tmp_path, api, live_env, caplog, monkeypatch):
    import socket

    with socket.socket() as sock:  # a port nothing listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    for name, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                        "AWS_DEFAULT_REGION": "us-east-1", "AWS_ENDPOINT_URL": f"http://127.0.0.1:{port}"}.items():
        monkeypatch.setenv(name, value)
    site = machine(tmp_path, "one", api, "s3://nowhere/images",
                   remote_cache_options={"skip_instance_cache": True, "config_kwargs": {"retries": {"max_attempts": 1}},
                                         "retries": 1})
    site.build()
    assert len(api.generate_requests) == 4
    assert "4 generated" in summary(caplog) and "0 failed" in summary(caplog)
    text = "\n".join(warnings(caplog))
    assert "building with the local cache only" in text
    assert all("nanobanana-placeholder" not in f["class"] for f in figures(site.html("a/index.html")))
    assert site.cache.verify_entries() == {}


def test_a_corrupt_remote_object_is_rejected_regenerated_and_replaced(tmp_path, api, bucket, live_env, caplog):
    import fsspec

    first = machine(tmp_path, "one", api, bucket)
    first.build()
    fs = fsspec.filesystem("s3", skip_instance_cache=True)
    entry = next(e for e in map(first.cache.get, first.cache.keys()) if e.request.num == 1)
    blob = f"{bucket.removeprefix('s3://')}/blobs/{entry.images[0].sha256[:2]}/{entry.images[0].sha256}"
    fs.pipe_file(blob, b"not the image any more")
    caplog.clear()
    second = machine(tmp_path, "two", api, bucket)
    second.build()
    assert len(api.generate_requests) == 5, "only the damaged entry was paid again"
    assert any("is unusable" in w and "generated again" in w for w in warnings(caplog))
    assert second.cache.verify_entries() == {}
    caplog.clear()
    third = machine(tmp_path, "three", api, bucket)
    third.build()
    assert len(api.generate_requests) == 5, "the replaced remote entry is good"
    assert "4 fetched" in summary(caplog)
    proc = run([bin_path("nanobanana"), "verify", "--remote"], cwd=third.root, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_prune_and_verify_remote_commands(tmp_path, api, bucket, live_env):
    site = machine(tmp_path, "one", api, bucket)
    site.build()
    site.page("a.md", "# A\n\n" + directive("Shared image 0"))  # three directives go
    out = run([bin_path("nanobanana"), "prune", "--remote", "--dry-run"], cwd=site.root).stdout
    # 3 sidecars, their 6 images (1 + 1 + 4), the 18 resized copies of the 3 images they
    # showed (3 widths x webp, jpeg) and those images' 3 backdrops
    assert "would remove 30 file(s)" in out
    run([bin_path("nanobanana"), "prune", "--remote"], cwd=site.root)
    out = run([bin_path("nanobanana"), "verify", "--remote"], cwd=site.root).stdout
    assert "1 entry checked, 0 bad" in out
    proc = run([bin_path("nanobanana"), "prune", "--remote"], cwd=tmp_path, check=False)
    assert proc.returncode != 0


# ------------------------------------------------------------------ the docs' CI recipes (docs/caching-and-ci.md)


def readme_block(marker: str) -> dict:
    import yaml

    from tests.support.commands import REPO

    text = (REPO / "docs" / "caching-and-ci.md").read_text(encoding="utf-8")
    block = text.split(f"<!-- {marker} -->", 1)[1].split(f"<!-- /{marker} -->", 1)[0]
    return yaml.safe_load(block.split("```yaml", 1)[1].split("```", 1)[0])


def test_github_recipe_is_a_complete_workflow():
    """Two jobs: a preview that allows placeholders (forks have no key) and a deploy where
    they fail (gh-deploy's default); the policy each job gets is computed, not read."""
    from mkdocs_nanobanana.core.settings import placeholder_policy

    wf = readme_block("ci-github")
    assert set(wf[True] if True in wf else wf["on"]) == {"push", "pull_request"}  # YAML 1.1 reads `on` as true
    policies = {}
    for name, job in wf["jobs"].items():
        assert job["env"]["NANOBANANA_API_KEY"] == "${{ secrets.NANOBANANA_API_KEY }}"
        steps = {s.get("uses", s.get("run")): s for s in job["steps"]}
        cache = next(s for u, s in steps.items() if u.startswith("actions/cache@"))
        assert cache["with"]["path"] == ".cache/nanobanana" and cache["with"]["restore-keys"]
        runs = [s["run"] for s in job["steps"] if "run" in s]
        assert "nanobanana plan" in runs
        build = next(r for r in runs if r.startswith("mkdocs "))
        command = build.split()[1]
        env = {k: v for k, v in job["env"].items() if not str(v).startswith("${{")}
        policies[name] = (job["if"], command, placeholder_policy(None, env, command))
    assert policies == {
        "preview": ("github.event_name == 'pull_request'", "build", "allow"),
        "deploy": ("github.event_name == 'push'", "gh-deploy", "fail"),
    }


def test_gitlab_recipe_caches_the_folder_and_is_strict_with_a_key(tmp_path):
    job = readme_block("ci-gitlab")["docs"]
    assert job["cache"]["paths"] == [".cache/nanobanana"]
    script = "\n".join(job["script"])
    assert "nanobanana plan" in script and "mkdocs build --strict" in script
    # the shell line does what it says, with and without the key
    import subprocess

    line = next(cmd for cmd in job["script"] if cmd.startswith("if "))
    for key, expected in (("k", "mkdocs build --strict"), ("", "mkdocs build")):
        out = subprocess.run(["bash", "-c", line.replace("mkdocs build", "echo mkdocs build")],
                             env={"NANOBANANA_API_KEY": key, "PATH": "/usr/bin:/bin"}, capture_output=True, text=True)
        assert out.stdout.strip() == expected
