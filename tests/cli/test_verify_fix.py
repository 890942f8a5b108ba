"""Issue 33 item 12: `nanobanana verify --fix` never deletes intact paid bytes. A bad
entry is removed, but each of its image files that is still the image paid for (checked
by its sha256 and a decode, or by a decode alone when the sidecar is what is damaged)
moves to partial/ first, and the next build takes it instead of paying.

Real `mkdocs build` and `nanobanana verify` subprocesses against the fake API; the
assertions count its POSTs and the images in the cache.
"""

from __future__ import annotations

import json

import pytest

from tests.support.commands import bin_path, run
from tests.support.directives import directive
from tests.support.stops import LIVE


def mkdocs_build(site) -> str:
    return run([bin_path("mkdocs"), "build"], cwd=site.root, env=LIVE).stderr


def verify(site, *args: str, check: bool = True) -> str:
    return run([bin_path("nanobanana"), "verify", *args], cwd=site.root, env=LIVE, check=check).stdout


def bought(site, api):
    """A live build that buys one entry of two images; that entry."""
    site.configure({"api_base": api.base, "retries": 0})
    site.page("a.md", "# A\n\n" + directive("A lighthouse", num=2, pick=2))
    mkdocs_build(site)
    assert len(api.generate_requests) == 1
    entry, = (site.cache.get(k) for k in site.cache.keys())
    return entry


def one_byte_changed(text: str) -> str:
    return text.replace('"A lighthouse"', '"A lighthousE"')  # the sidecar now describes another request


def cut_short(text: str) -> str:
    return text[: len(text) // 2]  # no longer JSON


@pytest.mark.parametrize("damage", [one_byte_changed, cut_short])
def test_a_damaged_sidecar_keeps_its_images_and_the_next_build_pays_nothing(site, api, damage):
    entry = bought(site, api)
    sidecar = site.cache.sidecar_path(entry.key)
    sidecar.write_text(damage(sidecar.read_text()))
    assert "1 bad" in verify(site, check=False)
    fixed = verify(site, "--fix")
    assert f"removed entry {entry.key}: 2 intact image(s) kept in partial/" in fixed, fixed
    assert "1 bad, removed; 2 intact image(s) kept in partial/" in fixed
    assert site.cache.get(entry.key) is None and len(list((site.cache.root / "partial").glob("*/*"))) == 2

    err = mkdocs_build(site)
    assert len(api.generate_requests) == 1, "the next build pays for nothing"
    assert "1 generated (0 credits" in err, err
    again = site.cache.get(entry.key)
    assert again is not None and [i.sha256 for i in again.images] == [i.sha256 for i in entry.images]
    assert verify(site, "--decode").strip().endswith("1 entry checked, 0 bad")


def test_a_damaged_image_is_dropped_and_only_it_is_bought_again(site, api):
    entry = bought(site, api)
    path = entry.images[1].path
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))
    fixed = verify(site, "--fix")
    assert f"removed entry {entry.key}: 1 intact image(s) kept in partial/; 1 damaged file(s) removed" in fixed
    mkdocs_build(site)
    assert len(api.generate_requests) == 2 and api.generate_requests[-1].json()["num"] == 1
    again = site.cache.get(entry.key)
    assert again is not None and again.images[0].sha256 == entry.images[0].sha256


def test_swapped_images_are_both_kept_in_the_order_they_were_bought(site, api):
    entry = bought(site, api)
    first, second = (img.path.read_bytes() for img in entry.images)
    entry.images[0].path.write_bytes(second)
    entry.images[1].path.write_bytes(first)
    assert "2 intact image(s) kept" in verify(site, "--fix")
    mkdocs_build(site)
    assert len(api.generate_requests) == 1
    again = site.cache.get(entry.key)
    assert again is not None and [i.sha256 for i in again.images] == [i.sha256 for i in entry.images]


def test_a_sidecar_that_lies_about_pixels_keeps_its_images(site, api):
    """`verify --decode` finds a sidecar whose size is wrong: the images are intact (their
    sha256 is the one recorded), so they are kept; nothing is paid again."""
    entry = bought(site, api)
    sidecar = site.cache.sidecar_path(entry.key)
    meta = json.loads(sidecar.read_text())
    meta["files"][0]["width"] += 1
    sidecar.write_text(json.dumps(meta))
    assert "2 intact image(s) kept" in verify(site, "--decode", "--fix")
    mkdocs_build(site)
    assert len(api.generate_requests) == 1
