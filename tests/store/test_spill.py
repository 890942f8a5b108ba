"""Where a spill goes (store/spill.py): next to the cache, then the system temp dir, and
never inside docs_dir or site_dir (MkDocs would publish it, or empty it)."""

from __future__ import annotations

import tempfile
from pathlib import Path

from mkdocs_nanobanana.store.spill import Spill


def test_the_spill_is_beside_the_cache_then_in_the_system_temp_dir(tmp_path):
    beside, in_temp = Spill.of(tmp_path / ".cache" / "nanobanana").folders
    assert beside == tmp_path / ".cache" / "nanobanana.spill"
    assert in_temp.parent == Path(tempfile.gettempdir()) / "nanobanana-spill"
    assert Spill.of(tmp_path / "other").folders[1] != in_temp, "each cache_dir has its own"


def test_a_spill_folder_inside_docs_dir_or_site_dir_is_never_used(tmp_path):
    cache = tmp_path / "cache"
    folders = Spill.of(cache, keep_out=(str(tmp_path / "cache.spill"),)).folders
    assert folders == Spill.of(cache).folders[1:]
    assert Spill.of(cache, keep_out=(str(tmp_path), tempfile.gettempdir())).folders == ()
