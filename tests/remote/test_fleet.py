"""Issue 34: a fleet buys each image once. Runners with empty local caches that start the
same cold site together on one remote cache (moto's S3 server on 127.0.0.1, or a file://
folder) take turns by claim: each image is paid for once, every runner publishes the
real images, and a runner killed while it holds a claim is taken over after its
deadline. Each runner is a real `mkdocs build` process."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from mkdocs_nanobanana.store.claims import Claim
from mkdocs_nanobanana.store.remote import open_remote
from tests.support.commands import bin_path, run
from tests.support.directives import directive
from tests.support.html import figures
from tests.support.live import KEY
from tests.support.sites import Site

PROMPTS = [f"Fleet image {i}" for i in range(6)]
PAGE = "# A\n\n" + "".join(directive(p) for p in PROMPTS)


def runner(root: Path, name: str, api, remote: str, page: str = PAGE, **extra) -> Site:
    """One CI runner's checkout: its own folder and its own (empty) local cache."""
    s = Site(root / name)
    s.docs.mkdir(parents=True)
    s.configure({"api_base": api.base, "remote_cache": remote, "remote_cache_options": {"skip_instance_cache": True},
                 "retries": 1, "concurrency": 2, **extra})
    s.page("a.md", page)
    return s


def start(site: Site) -> subprocess.Popen:
    env = {**os.environ, "NANOBANANA_API_KEY": KEY}
    env.pop("NANOBANANA_MODE", None)
    return subprocess.Popen([bin_path("mkdocs"), "build"], cwd=site.root, env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def finish(proc: subprocess.Popen, timeout: float = 120) -> str:
    _, err = proc.communicate(timeout=timeout)
    assert proc.returncode == 0, err
    return err


def summary_of(log: str) -> dict[str, int]:
    m = re.search(r"nanobanana: (\d+) cached, (\d+) generated .*?(\d+) placeholders?, (\d+) failed", log)
    assert m, log
    return dict(zip(("cached", "generated", "placeholders", "failed"), map(int, m.groups()), strict=True))


def published(site: Site) -> list[bytes]:
    """The bytes of every image the page shows (its fallback <img>), in page order."""
    figs = figures(site.html("a/index.html"))
    assert all("nanobanana-placeholder" not in f["class"] for f in figs), "no runner shows a placeholder"
    return [(site.site / f["img"]["src"].removeprefix("../")).read_bytes() for f in figs]


def run_together(sites: list[Site]) -> list[str]:
    procs = [start(s) for s in sites]  # within milliseconds of each other
    return [finish(p) for p in procs]


def test_three_runners_on_a_cold_bucket_buy_each_image_once(tmp_path, api, bucket):
    api.latency = 0.4  # purchases overlap: all three runners are buying at once
    sites = [runner(tmp_path, f"runner{i}", api, bucket) for i in range(3)]
    logs = run_together(sites)
    bought = sorted(r.json()["prompt"] for r in api.generate_requests)
    # the runners' logs in the message: a second purchase says why (an upload that failed,
    # a store that could not coordinate, a retry), which the count alone does not
    assert bought == sorted(PROMPTS), "each image was bought exactly once: " + "\n".join([repr(bought), *logs])
    counts = [summary_of(log) for log in logs]
    assert sum(c["generated"] for c in counts) == len(PROMPTS)
    assert all(c["cached"] + c["generated"] == len(PROMPTS) and c["placeholders"] == c["failed"] == 0 for c in counts)
    shown = [published(s) for s in sites]
    assert shown[0] == shown[1] == shown[2], "every runner publishes the same real images"
    assert all(s.cache.verify_entries() == {} and len(list(s.cache.keys())) == len(PROMPTS) for s in sites)
    store = open_remote(bucket, {"skip_instance_cache": True})
    assert len(store.keys()) == len(PROMPTS)
    assert store.list_objects("claims/*/*.json") == [], "every claim was let go once its image was uploaded"
    assert not any("cannot coordinate" in log for log in logs)


def test_the_same_with_a_file_folder_as_the_remote(tmp_path, api):
    api.latency = 0.4
    shared = (tmp_path / "mounted-share").as_uri()
    sites = [runner(tmp_path, f"runner{i}", api, shared) for i in range(3)]
    logs = run_together(sites)
    assert len(api.generate_requests) == len(PROMPTS)
    assert sum(summary_of(log)["generated"] for log in logs) == len(PROMPTS)
    shown = [published(s) for s in sites]
    assert shown[0] == shown[1] == shown[2]
    assert not list((tmp_path / "mounted-share" / "claims").rglob("*.json"))


def _claims(store) -> list[str]:
    store.fs.invalidate_cache()  # s3fs keeps listings: a claim made since would not show
    return store.list_objects("claims/*/*.json")


@pytest.fixture(params=["s3", "file"])
def shared_store(request, tmp_path) -> str:
    """The remote cache the runners share: a moto bucket, or a (mounted) folder."""
    if request.param == "s3":
        return request.getfixturevalue("bucket")
    return (tmp_path / "mounted-share").as_uri()


def test_a_runner_killed_holding_a_claim_is_taken_over_after_its_deadline(tmp_path, api, shared_store):
    """The first runner claims the one image and is killed (SIGKILL: no cleanup) while
    its request is in flight; the second waits for the claim's deadline, then takes it
    over and buys the image itself: one more POST, no placeholder, no hang."""
    bucket = shared_store
    page = "# A\n\n" + directive("The contested image")
    # no retry, 2 s to send, 3 s for the answer, 2 s for the download: the claim's deadline
    # is 2 x (1 attempt x 7 s) = 14 s after it was made. The answer's 3 s leave time to
    # kill the first runner before it gives up on its request (and tries it once more)
    options = {"timeout": 2, "answer_timeout": 3, "retries": 0}
    api.latency = 30  # the first runner's request never comes back
    first = runner(tmp_path, "killed", api, bucket, page, **options)
    store = open_remote(bucket, {"skip_instance_cache": True})
    proc = start(first)
    deadline = time.monotonic() + 60
    while not (_claims(store) and api.generate_requests):
        assert proc.poll() is None and time.monotonic() < deadline, "the first runner claimed the image"
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.communicate()
    claim = json.loads(store.read_object(_claims(store)[0]))
    assert set(claim) == {"version", "holder", "deadline", "ttl"} and claim["ttl"] == 14.0
    assert re.fullmatch(r"[0-9a-f]{16}", claim["holder"]), "a random id: no key, no host name"
    api.latency = 0.1
    second = runner(tmp_path, "second", api, bucket, page, **options)
    began = time.monotonic()
    log = finish(start(second))
    waited = time.monotonic() - began
    assert len(api.generate_requests) == 2, "the abandoned claim was taken over and the image bought once more"
    assert summary_of(log)["generated"] == 1 and published(second)
    assert claim["deadline"] - time.time() < 0 and waited < 14 + 30, waited
    store.fs.invalidate_cache()
    assert store.keys() == [next(second.cache.keys())]


def test_a_runner_waiting_on_a_claim_buys_the_images_nobody_claimed_meanwhile(tmp_path, api, bucket):
    """Another runner holds the first image's claim (made by hand here, live for 20 s:
    longer than a loaded machine takes to start a build): the build buys the other two at
    once, without waiting for it, and takes the first over once the claim's deadline has
    passed."""
    site = runner(tmp_path, "waiting", api, bucket, "# A\n\n" + "".join(directive(p) for p in PROMPTS[:3]))
    store = open_remote(bucket, {"skip_instance_cache": True})
    key = json.loads(run([bin_path("nanobanana"), "plan", "--json"], cwd=site.root).stdout)["directives"][0]["key"]
    held = Claim(key, 0, "0123456789abcdef", time.time() + 20, 20.0)
    assert store.create_object(held.path, held.encode())
    log = finish(start(site))
    bought = {r.json()["prompt"]: r.at for r in api.generate_requests}
    assert sorted(bought) == sorted(PROMPTS[:3]) and summary_of(log)["generated"] == 3
    deadline = time.monotonic() - (time.time() - held.deadline)  # the claim's deadline on the API's clock
    assert bought[PROMPTS[1]] < deadline and bought[PROMPTS[2]] < deadline, "the others were bought meanwhile"
    assert bought[PROMPTS[0]] >= deadline, "the claimed one only once its claim was abandoned"
    assert published(site)


def test_a_store_without_an_atomic_create_builds_as_before_with_one_warning(tmp_path, api, bucket, monkeypatch):
    """An S3-compatible server that ignores If-None-Match: the probe finds it, the build
    says so once and buys as before."""
    # moto honours If-None-Match (moto/s3/responses.py, PreconditionFailed("If-None-Match"));
    # a server that ignores it answers 200 to the second create: the plugin sees that as
    # s3fs's pipe_file(mode="create") returning without FileExistsError.
    sitecustom = tmp_path / "ignoring"
    sitecustom.mkdir()
    (sitecustom / "sitecustomize.py").write_text(
        "import s3fs.core\n"
        "_real = s3fs.core.S3FileSystem._pipe_file\n"
        "async def _ignoring(self, path, data, *a, mode='overwrite', **k):\n"
        "    return await _real(self, path, data, *a, **k)\n"
        "s3fs.core.S3FileSystem._pipe_file = _ignoring\n", encoding="utf-8")
    monkeypatch.setenv("PYTHONPATH", str(sitecustom) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    site = runner(tmp_path, "alone", api, bucket)
    log = finish(start(site))
    warned = [line for line in log.splitlines() if "cannot coordinate" in line]
    assert len(warned) == 1 and "ignores If-None-Match" in warned[0], log
    assert len(api.generate_requests) == len(PROMPTS) and summary_of(log)["generated"] == len(PROMPTS)
    assert published(site)


def test_a_stop_while_waiting_for_another_runner_ends_promptly(tmp_path, api, bucket):
    """Ctrl-C (SIGINT) while the build waits on another runner's live claim: it exits at
    once, paying nothing, rather than waiting out the claim's deadline."""
    page = "# A\n\n" + directive("Held elsewhere")
    site = runner(tmp_path, "waiting", api, bucket, page)  # timeout 60 s: a claim of minutes
    store = open_remote(bucket, {"skip_instance_cache": True})
    key = json.loads(run([bin_path("nanobanana"), "plan", "--json"], cwd=site.root).stdout)["directives"][0]["key"]
    other = Claim(key, 0, "0123456789abcdef", time.time() + 600, 600.0)
    assert store.create_object(other.path, other.encode())
    proc = start(site)
    time.sleep(6)  # started, and waiting on the claim
    assert proc.poll() is None
    began = time.monotonic()
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=30)
    assert time.monotonic() - began < 10, "the wait ended with the stop"
    assert proc.returncode == 130, err
    assert api.generate_requests == [], "nothing was bought: another runner holds the claim"
    assert _claims(store) == [other.path], "another runner's claim is left alone"


def test_prune_remote_keeps_what_another_runner_has_claimed_and_removes_abandoned_claims(tmp_path, api, bucket):
    """A key no page uses any more, but another runner holds a live claim on it (a build
    of another branch is buying it): prune --remote keeps it and says so. A claim past
    its deadline (a killed runner's) goes."""
    site = runner(tmp_path, "main", api, bucket)
    finish(start(site))
    store = open_remote(bucket, {"skip_instance_cache": True})
    keys = json.loads(run([bin_path("nanobanana"), "plan", "--json"], cwd=site.root).stdout)["directives"]
    gone, held = keys[-1]["key"], keys[-2]["key"]
    site.page("a.md", "# A\n\n" + "".join(directive(p) for p in PROMPTS[:-2]))  # two directives go
    live = Claim(held, 0, "0123456789abcdef", time.time() + 600, 600.0)
    dead = Claim(gone, 0, "fedcba9876543210", time.time() - 1, 4.0)
    assert store.create_object(live.path, live.encode()) and store.create_object(dead.path, dead.encode())
    out = run([bin_path("nanobanana"), "prune", "--remote"], cwd=site.root).stdout
    assert f"kept remote entry {held}: in use by a build under way (another runner is buying it" in out, out
    assert "claims: 1 file(s)" in out
    store = open_remote(bucket, {"skip_instance_cache": True})  # a fresh listing
    assert set(store.keys()) == {k["key"] for k in keys[:-1]}, "the claimed entry stays, the unclaimed one goes"
    assert _claims(store) == [live.path], "the abandoned claim went, the live one is left alone"
    store.remove_object(live.path)  # its runner is done
    out = run([bin_path("nanobanana"), "prune", "--remote"], cwd=site.root).stdout
    assert held not in open_remote(bucket, {"skip_instance_cache": True}).keys(), out


if sys.platform == "win32":  # pragma: no cover - SIGKILL, SIGINT
    pytestmark = pytest.mark.skip("POSIX signals")
