"""The content-addressed store: keys, layout, atomic writes, verify."""

import json

import pytest

from mkdocs_nanobanana.core.image_bytes import BadImage
from mkdocs_nanobanana.core.request import Request
from mkdocs_nanobanana.store import cache as cache_mod
from mkdocs_nanobanana.store.cache import Cache
from tests.support.images import photo_png, seed_cache

BASE = dict(model="gemini-2.5-flash-image", prompt="A nook", ratio="16:9", num=2, refs=("ab" * 32,), rev=0)


def test_key_is_sha256_of_canonical_json():
    import hashlib

    expected = hashlib.sha256(
        b'{"model":"gemini-2.5-flash-image","num":2,"prompt":"A nook","ratio":"16:9",'
        b'"refs":["' + b"ab" * 32 + b'"],"rev":0}'
    ).hexdigest()
    assert Request(**BASE).key == expected


@pytest.mark.parametrize("field,value", [
    ("prompt", "A nook!"), ("ratio", "1:1"), ("model", "gemini-2.5-flash-image-hd"),
    ("num", 3), ("rev", 1), ("refs", ("cd" * 32,)), ("refs", ()),
])
def test_key_changes_with_what_changes_pixels(field, value):
    assert Request(**{**BASE, field: value}).key != Request(**BASE).key


def test_key_ignores_presentation(site):
    # alt, caption, pick, social, the page: none is part of a Request at all; prove it
    # through real parsing of two directives that differ only in those.
    from mkdocs_nanobanana.core.catalog import build_catalog
    from mkdocs_nanobanana.core.directives import parse_page

    a = parse_page("```nanobanana\nprompt: P\nnum: 2\nalt: A\ncaption: C\npick: 1\n```\n", "docs/a.md", "a.md",
                   build_catalog())[1][0]
    b = parse_page("\n\n```nanobanana\nprompt: P\nnum: 2\nsocial: true\npick: 2\n```\n", "docs/x/b.md", "x/b.md",
                   build_catalog())[1][0]
    ra = Request(a.model, a.prompt, a.ratio, a.num, (), a.rev)
    rb = Request(b.model, b.prompt, b.ratio, b.num, (), b.rev)
    assert ra.key == rb.key


def test_put_get_layout_and_sidecar(tmp_path):
    cache = Cache(tmp_path)
    req = Request(**BASE)
    entry = cache.put(req, [photo_png((1344, 768), 1), photo_png((1344, 768), 2)], provider="nanobanana", credits=4)
    key = req.key
    assert [p.path for p in entry.images] == [tmp_path / "images" / key[:2] / f"{key}-{i}.png" for i in (1, 2)]
    sidecar = tmp_path / "images" / key[:2] / f"{key}.json"
    text = sidecar.read_text()
    meta = json.loads(text)
    assert list(meta) == sorted(meta)  # sorted keys: stable git diffs
    assert meta["files"][0]["width"] == 1344 and meta["files"][0]["height"] == 768
    assert meta["provider"] == "nanobanana" and meta["credits"] == 4 and meta["refs"] == ["ab" * 32]
    assert cache.get(key) == entry
    assert cache.verify_entries() == {}


def test_entry_counts_only_with_sidecar_and_matching_files(tmp_path):
    cache = Cache(tmp_path)
    entry = seed_cache(cache, "P")
    entry.images[0].path.write_bytes(entry.images[0].path.read_bytes()[:100])
    assert cache.get(entry.key) is None
    cache.sidecar_path(entry.key).unlink()
    assert cache.get(entry.key) is None


def test_write_interrupted_midway_leaves_no_entry(tmp_path, monkeypatch):
    cache = Cache(tmp_path)
    req = Request(**{**BASE, "num": 2})
    real_replace = cache_mod.os.replace
    calls = []

    def failing_replace(src, dst):
        calls.append(dst)
        if len(calls) == 2:  # the second image: the sidecar is never reached
            raise OSError("disk full")
        return real_replace(src, dst)

    monkeypatch.setattr(cache_mod.os, "replace", failing_replace)
    with pytest.raises(OSError, match="disk full"):
        cache.put(req, [photo_png((1344, 768)), photo_png((1344, 768), 1)], "t", 4)
    monkeypatch.undo()
    assert cache.get(req.key) is None
    assert not list(tmp_path.rglob("*.tmp")), "temp file left behind"
    assert not cache.sidecar_path(req.key).exists()


def test_bad_candidate_stores_nothing(tmp_path):
    cache = Cache(tmp_path)
    req = Request(**{**BASE, "num": 2})
    with pytest.raises(BadImage):
        cache.put(req, [photo_png((1344, 768)), b"<html>not an image</html>"], "t", 4)
    assert cache.get(req.key) is None and not list(tmp_path.rglob("*.json"))


def test_verify_finds_truncated_swapped_and_missing_files(tmp_path):
    cache = Cache(tmp_path)
    a = seed_cache(cache, "A")
    b = seed_cache(cache, "B", ratio="16:9")
    c = seed_cache(cache, "C")
    data = a.images[0].path.read_bytes()
    a.images[0].path.write_bytes(data[: len(data) // 2])
    b_bytes = b.images[0].path.read_bytes()
    b.images[0].path.write_bytes(c.images[0].path.read_bytes())
    c.images[0].path.unlink()
    problems = [p for entry in cache.verify_entries().values() for p in entry]
    assert len(problems) == 3
    assert any(str(a.images[0].path) in p and "size" in p for p in problems)
    assert any(str(b.images[0].path) in p for p in problems)
    assert any(str(c.images[0].path) in p and "missing" in p for p in problems)
    b.images[0].path.write_bytes(b_bytes)
    assert sum(map(len, cache.verify_entries().values())) == 2


def test_clean_temp_goes_by_age_never_by_pid(tmp_path):
    """A pid means nothing across containers or machines sharing the folder: a young
    temp file stays whoever wrote it, an old one goes (issue 18 item 5)."""
    import os
    import subprocess
    import time

    from mkdocs_nanobanana.store.temp import temp_age

    cache = Cache(tmp_path)
    seed_cache(cache, "A")
    proc = subprocess.Popen(["true"])  # a pid that has certainly exited
    proc.wait()
    folder = cache.temp.path
    assert folder == tmp_path / "tmp" and folder.is_dir()  # the entry's writes went through it
    assert not list(folder.iterdir()), "temp file left behind"
    dead = folder / f"x-1.png.{proc.pid}.k2j3.tmp"  # "dead" here; alive in another PID namespace
    other_live = folder / "z-1.png.1.q0w9.tmp"  # pid 1 is alive
    half_hour = folder / "v-1.png.1.aa22.tmp"
    old = folder / "w-1.png.1.zz11.tmp"
    for f in (dead, other_live, half_hour, old):
        f.write_bytes(b"half")
    os.utime(half_hour, (time.time() - 1800, time.time() - 1800))
    os.utime(old, (time.time() - 3700, time.time() - 3700))
    assert temp_age(60, 4) == 3600 and temp_age(1000, 4) == 5000
    assert cache.temp.clean(temp_age(60, 4)) == 1
    assert dead.exists() and other_live.exists() and half_hour.exists() and not old.exists()
    assert cache.temp.clean(temp_age(1000, 4)) == 0
    assert cache.temp.clean(1000) == 1 and not half_hour.exists()


def test_create_once_never_replaces_and_survives_concurrent_linking(tmp_path):
    """Derived files are write-once: a concurrent hard link of one never fails with ENOENT
    (it would if the name were renamed over while being linked)."""
    import os
    import threading

    create_once = Cache(tmp_path / "cache").temp.create_once
    src = tmp_path / "d" / "x.jpg"
    create_once(src, b"first")
    create_once(src, b"second")
    assert src.read_bytes() == b"first"
    stop = threading.Event()

    def writer():
        while not stop.is_set():
            create_once(src, b"again")

    t = threading.Thread(target=writer)
    t.start()
    try:
        for i in range(3000):
            dest = tmp_path / f"l{i}"
            os.link(src, dest)
            dest.unlink()
    finally:
        stop.set()
        t.join()
    assert not list((tmp_path / "d").glob("*.tmp"))


def test_writes_make_their_folders_skip_a_leftover_temp_name_and_follow_the_umask(tmp_path, monkeypatch):
    """A write makes the folders it lacks only when it finds them missing (no mkdir before
    each one), takes the next name when a killed writer's temp file holds one, and leaves
    a file the umask allows others to read, as any file the user makes."""
    import itertools
    import os

    from mkdocs_nanobanana.store import temp

    cache = Cache(tmp_path / "cache")
    monkeypatch.setattr(temp, "_SERIAL", itertools.count())
    cache.temp.path.mkdir(parents=True)
    (cache.temp.path / f"a.jpg.{temp._WRITER}.0{temp.TEMP_SUFFIX}").write_bytes(b"a killed writer's")
    old = os.umask(0o027)
    try:
        cache.temp.create_once(tmp_path / "cache" / "derived" / "ab" / "a.jpg", b"once")
        cache.temp.atomic_write(tmp_path / "cache" / "new" / "b.json", b"{}")
    finally:
        os.umask(old)
    once, replaced = tmp_path / "cache" / "derived" / "ab" / "a.jpg", tmp_path / "cache" / "new" / "b.json"
    assert once.read_bytes() == b"once" and replaced.read_bytes() == b"{}"
    assert oct(once.stat().st_mode & 0o777) == oct(replaced.stat().st_mode & 0o777) == oct(0o640)
    assert [f.name for f in cache.temp.path.iterdir()] == [f"a.jpg.{temp._WRITER}.0{temp.TEMP_SUFFIX}"]
    made: list[str] = []
    real_mkdir = os.mkdir
    monkeypatch.setattr(os, "mkdir", lambda path, *a, **k: made.append(str(path)) or real_mkdir(path, *a, **k))
    big = os.urandom(3 << 20)  # more than one write(2) may take
    cache.temp.atomic_write(replaced, big)
    cache.temp.create_once(once.with_name("c.jpg"), b"c")
    assert replaced.read_bytes() == big and made == []  # their folders are there: not one mkdir


def test_the_same_bytes_are_decoded_once_and_changed_bytes_again(monkeypatch):
    """A download is checked where it arrives and again by the cache: one full decode."""
    from mkdocs_nanobanana.core import image_bytes

    decodes = []
    real = image_bytes._decode
    monkeypatch.setattr(image_bytes, "_decode", lambda data, *rest: decodes.append(len(data)) or real(data, *rest))
    png = photo_png((64, 48))
    assert image_bytes.inspect(png) == image_bytes.inspect(png)
    assert len(decodes) == 1
    truncated = png[: len(png) // 2]
    for _ in range(2):
        with pytest.raises(BadImage):
            image_bytes.inspect(truncated)  # a failure is not remembered: each time decoded, each time refused
    assert len(decodes) == 3
