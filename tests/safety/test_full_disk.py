"""Issue 33 item 11: a full disk (ENOSPC) or a read-only cache_dir while a bought image is
stored loses nothing. The page shows the image, its bytes are kept in a spill folder
(``<cache_dir>.spill``, named in the warning) and the next build uses or adopts them
instead of paying, after checking them as a download is checked.

cache_dir is a small tmpfs mounted for the test (filled, or remounted read-only): real
ENOSPC and EROFS from the kernel, not a mock. A runner that cannot mount (not root, no
CAP_SYS_ADMIN) skips these tests and says why. Real `mkdocs build` subprocesses against
the fake API; the assertions count its POSTs.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from mkdocs_nanobanana.store.spill import Spill
from tests.support.commands import bin_path, run
from tests.support.directives import directive
from tests.support.html import figures
from tests.support.stops import LIVE


def mkdocs_build(site) -> subprocess.CompletedProcess:
    return run([bin_path("mkdocs"), "build"], cwd=site.root, env=LIVE)


def _mount(cmd: list[str]) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, capture_output=True, text=True, timeout=30)


@contextlib.contextmanager
def small_disk(root: Path) -> Iterator[Path]:
    """``root`` as a 1 MiB tmpfs of its own, unmounted after."""
    if os.geteuid() != 0:
        pytest.skip("needs root to mount a small tmpfs as cache_dir (real ENOSPC and EROFS)")
    root.mkdir(parents=True)
    mounted = _mount(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(root)])
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.strip()}")
    try:
        yield root
    finally:
        _mount(["umount", "-l", str(root)])


@pytest.fixture
def small_cache(site):
    """cache_dir on a small tmpfs of its own (its spill folder, beside it, is not)."""
    with small_disk(site.cache.root) as root:
        yield root


def fill(root: Path) -> None:
    """Take every free block of the tmpfs (the lock files, empty, still fit)."""
    with open(root / "ballast", "wb", buffering=0) as f:
        try:
            while True:
                f.write(b"\0" * 4096)
        except OSError:
            pass


def spilled(site) -> list[Path]:
    return sorted((site.root / ".cache" / "nanobanana.spill" / "images").glob("*/*.json"))


def shows_the_image(site) -> bool:
    fig, = figures(site.html("a/index.html"))
    return "nanobanana-placeholder" not in fig["class"]


def test_a_full_cache_disk_keeps_the_bought_image_and_the_next_build_pays_nothing(site, api, small_cache):
    site.configure({"api_base": api.base, "retries": 0})
    site.page("a.md", "# A\n\n" + directive("A lighthouse"))
    fill(small_cache)
    proc = mkdocs_build(site)
    assert len(api.generate_requests) == 1
    assert "1 generated (2 credits" in proc.stderr, proc.stderr
    assert "No space left on device" in proc.stderr and "nanobanana.spill" in proc.stderr, proc.stderr
    assert "the next build adopts them (checked) instead of paying again" in proc.stderr
    assert shows_the_image(site), "the page shows the image that was bought"
    assert len(spilled(site)) == 1 and site.cache.get(spilled(site)[0].stem) is None

    plan = json.loads(run([bin_path("nanobanana"), "plan", "--json"], cwd=site.root).stdout)
    assert plan["total_credits"] == 0, "plan counts the spilled image as held"
    proc = mkdocs_build(site)  # the disk is still full: the image is used from the spill
    assert len(api.generate_requests) == 1, "the spilled image is not paid for again"
    assert "1 cached, 0 generated" in proc.stderr and shows_the_image(site), proc.stderr
    assert "still cannot take them (No space left on device)" in proc.stderr

    (small_cache / "ballast").unlink()  # space again: the next build adopts the spill into the cache
    proc = mkdocs_build(site)
    assert len(api.generate_requests) == 1
    assert "adopted 1 image entry that an earlier build kept in" in proc.stderr, proc.stderr
    assert "1 cached, 0 generated" in proc.stderr and shows_the_image(site)
    assert list(site.cache.keys()) and not (site.root / ".cache" / "nanobanana.spill").exists()
    assert site.cache.verify_entries(decode=True) == {}


def test_a_read_only_cache_dir_keeps_the_bought_image_for_the_next_build(site, api, small_cache):
    site.configure({"api_base": api.base, "retries": 0})
    site.page("a.md", "# A\n\n" + directive("A lighthouse"))
    assert _mount(["mount", "-o", "remount,ro", str(small_cache)]).returncode == 0
    proc = mkdocs_build(site)
    assert len(api.generate_requests) == 1 and "1 generated (2 credits" in proc.stderr, proc.stderr
    assert "Read-only file system" in proc.stderr and shows_the_image(site), proc.stderr
    assert len(spilled(site)) == 1

    assert _mount(["mount", "-o", "remount,rw", str(small_cache)]).returncode == 0
    proc = mkdocs_build(site)
    assert len(api.generate_requests) == 1, "the next build adopts the kept image instead of paying"
    assert "adopted 1 image entry" in proc.stderr and "1 cached, 0 generated" in proc.stderr, proc.stderr


def test_a_spilled_image_that_does_not_match_its_sidecar_is_never_shown(site, api):
    """A spill is checked as a download is: bytes changed since (or a file put there by
    hand) are removed, never adopted, and the image is bought again."""
    site.configure({"api_base": api.base, "retries": 0})
    site.page("a.md", "# A\n\n" + directive("A lighthouse"))
    mkdocs_build(site)  # a real entry, moved into the spill as a full disk would have left it
    cache_root = site.cache.root
    spill = site.root / ".cache" / "nanobanana.spill"
    spill.mkdir()
    (spill / "images").mkdir()
    os.rename(cache_root / "images", spill / "images")
    (cache_root / "images").mkdir()
    sidecar, = spilled(site)
    image = spill / "images" / sidecar.parent.name / json.loads(sidecar.read_text())["files"][0]["name"]
    data = bytearray(image.read_bytes())
    data[-20] ^= 0xFF  # one byte changed
    image.write_bytes(bytes(data))
    proc = mkdocs_build(site)
    assert "does not match the sha256 of its sidecar: removed, not adopted" in proc.stderr, proc.stderr
    assert len(api.generate_requests) == 2, "the damaged spill is not used: the image is bought again"
    assert not spill.exists() and site.cache.verify_entries(decode=True) == {}


def test_images_that_arrived_before_a_failure_are_kept_when_the_disk_is_full(site, api, small_cache):
    """num: 3, the second download fails for good: the two images that arrived are paid
    for. With cache_dir full they go to the spill's partial/, and the next build, with
    space again, asks for the missing one only."""
    site.configure({"api_base": api.base, "retries": 0})
    site.page("a.md", "# A\n\n" + directive("Three of them", num=3, pick=3))
    api.faults.extend(["get503always:2"])
    fill(small_cache)
    proc = mkdocs_build(site)
    assert len(api.generate_requests) == 1 and "0 generated (4 credits" in proc.stderr, proc.stderr
    assert "could not keep 2 paid image(s) in cache_dir" in proc.stderr, proc.stderr
    assert len(list((site.root / ".cache" / "nanobanana.spill" / "partial").glob("*/*.png"))) == 2

    api.faults.clear()
    (small_cache / "ballast").unlink()
    proc = mkdocs_build(site)
    assert len(api.generate_requests) == 2 and api.generate_requests[-1].json()["num"] == 1, proc.stderr
    assert "0 cached, 1 generated (2 credits" in proc.stderr, proc.stderr
    entry, = (site.cache.get(k) for k in site.cache.keys())
    assert len(entry.images) == 3 and not (site.root / ".cache" / "nanobanana.spill").exists()


def test_when_the_folder_beside_the_cache_is_full_too_the_system_temp_dir_keeps_the_image(site, api):
    site.configure({"api_base": api.base, "retries": 0})
    site.page("a.md", "# A\n\n" + directive("A lighthouse"))
    in_temp = Spill.of(site.cache.root).folders[1]
    try:
        with small_disk(site.root / ".cache") as disk:  # cache_dir and the folder beside it
            fill(disk)
            proc = mkdocs_build(site)
            assert len(api.generate_requests) == 1 and shows_the_image(site), proc.stderr
            assert f"its bytes are kept in {in_temp}" in proc.stderr, proc.stderr
            (disk / "ballast").unlink()
            proc = mkdocs_build(site)
            assert len(api.generate_requests) == 1 and "adopted 1 image entry" in proc.stderr, proc.stderr
            assert not in_temp.exists() and list(site.cache.keys())
    finally:
        shutil.rmtree(in_temp, ignore_errors=True)


def test_a_spilled_image_still_reaches_the_remote_cache(site, api, small_cache):
    """With a remote cache, the image bought onto a full disk is uploaded from the spill:
    other machines do not pay for it either."""
    bucket = site.root / "bucket"
    site.configure({"api_base": api.base, "retries": 0, "remote_cache": bucket.as_uri()})
    site.page("a.md", "# A\n\n" + directive("A lighthouse"))
    fill(small_cache)
    proc = mkdocs_build(site)
    assert len(api.generate_requests) == 1 and "1 uploaded" in proc.stderr, proc.stderr
    sidecar, = spilled(site)
    assert (bucket / "images" / sidecar.parent.name / sidecar.name).read_bytes() == sidecar.read_bytes()
    assert len(list((bucket / "blobs").glob("*/*"))) == 1
