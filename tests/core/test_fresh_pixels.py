"""A download's pixels, decoded once to check them, are resized by the thread that
checked it without decoding the file again (image_bytes.keeping_fresh / take_fresh)."""

from __future__ import annotations

import threading

from mkdocs_nanobanana.build.sources import open_checked
from mkdocs_nanobanana.core import image_bytes
from mkdocs_nanobanana.core.request import Request, sha256
from mkdocs_nanobanana.store.cache import Cache
from tests.support.images import photo_png


def test_checked_pixels_are_kept_only_where_asked_and_taken_once():
    data = photo_png((64, 48), seed=11)
    digest = sha256(data)
    image_bytes.inspect(data)  # outside keeping_fresh: nothing is held
    assert image_bytes.take_fresh(digest) is None
    other = photo_png((64, 48), seed=12)
    image_bytes.keeping_fresh(image_bytes.inspect, other)
    img = image_bytes.take_fresh(sha256(other))
    assert img is not None and img.size == (64, 48)
    assert image_bytes.take_fresh(sha256(other)) is None, "taken once"


def test_another_thread_never_sees_them():
    data = photo_png((64, 48), seed=13)
    image_bytes.keeping_fresh(image_bytes.inspect, data)
    seen = []
    worker = threading.Thread(target=lambda: seen.append(image_bytes.take_fresh(sha256(data))))
    worker.start()
    worker.join()
    assert seen == [None]
    assert image_bytes.take_fresh(sha256(data)) is not None


def test_at_most_two_are_held_and_a_take_drops_the_rest():
    blobs = [photo_png((32, 32), seed=20 + i) for i in range(3)]
    image_bytes.keeping_fresh(lambda: [image_bytes.inspect(b) for b in blobs])
    assert image_bytes.take_fresh(sha256(blobs[1])) is not None
    assert image_bytes.take_fresh(sha256(blobs[2])) is None, "dropped by the take"
    image_bytes._passed.clear()  # inspect decodes them again
    image_bytes.keeping_fresh(lambda: [image_bytes.inspect(b) for b in blobs])
    assert image_bytes.take_fresh(sha256(blobs[0])) is None, "the oldest of three is not held"


def test_open_checked_takes_the_fresh_pixels_instead_of_reading_the_file(tmp_path):
    data = photo_png((96, 64), seed=14)
    cache = Cache(tmp_path)
    request = Request("gemini-2.5-flash-image", "fresh pixels", "1:1", 1, (), 0)
    entry = image_bytes.keeping_fresh(cache.put, request, [data], "nanobanana", 1)
    stored = entry.images[0]
    stored.path.unlink()  # reading it would fail: the pixels come from the check
    assert open_checked(stored).size == (96, 64)
