"""The folder index (store/folder_index.py): one read of a sharded folder's JSON files,
trusted shard by shard while each folder's mtime is the one recorded."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest

from mkdocs_nanobanana.store import folder_index
from mkdocs_nanobanana.store.folder_index import FolderIndex

NAME = re.compile(r"[0-9a-f]{8}\.json\Z")


def write(path: Path, data: bytes) -> None:
    path.write_bytes(data)


def put_file(top: Path, name: str, data: object, age: float = 10.0) -> None:
    """A JSON file in its shard, the shard dated ``age`` seconds back (settled)."""
    shard = top / name[:2]
    shard.mkdir(parents=True, exist_ok=True)
    (shard / name).write_text(json.dumps(data), encoding="utf-8")
    stamp = shard.stat().st_mtime - age
    os.utime(shard, (stamp, stamp))


@pytest.fixture
def top(tmp_path):
    folder = tmp_path / "images"
    put_file(folder, "ab000001.json", {"n": 1})
    put_file(folder, "ab000002.json", {"n": 2})
    put_file(folder, "cd000003.json", {"n": 3})
    return folder


def index_of(top: Path) -> FolderIndex:
    return FolderIndex(top, top.parent / "index.json", NAME, write)


def listed_during(monkeypatch, call) -> list[str]:
    seen: list[str] = []
    real = os.listdir

    def listing(path="."):
        seen.append(os.fspath(path))
        return real(path)

    monkeypatch.setattr(os, "listdir", listing)
    call()
    monkeypatch.undo()
    return seen


def test_a_settled_shard_is_read_once_then_taken_from_the_index(top, monkeypatch):
    first = index_of(top)
    assert first.get("ab000002.json") == {"n": 2} and first.get("cd000003.json") == {"n": 3}
    assert first.shards_read == 2
    first.save()
    second = index_of(top)
    assert listed_during(monkeypatch, lambda: second.get("ab000001.json")) == []
    assert second.get("ab000001.json") == {"n": 1} and second.shards_read == 0


def test_a_changed_shard_is_read_again_and_only_it(top, monkeypatch):
    first = index_of(top)
    first.get("ab000001.json"), first.get("cd000003.json")
    first.save()
    (top / "ab" / "ab000001.json").unlink()  # behind its back: the folder's mtime changes
    put_file(top, "ab000009.json", {"n": 9}, age=0)
    second = index_of(top)
    listed = listed_during(monkeypatch, lambda: (second.get("ab000001.json"), second.get("cd000003.json")))
    assert listed == [os.fspath(top / "ab")]
    assert second.get("ab000001.json") is None and second.get("ab000009.json") == {"n": 9}
    assert second.get("cd000003.json") == {"n": 3}


def test_a_young_shard_is_not_trusted_next_time(top, monkeypatch):
    put_file(top, "ef000004.json", {"n": 4}, age=0)  # changed just now: another change may share its tick
    first = index_of(top)
    assert first.get("ef000004.json") == {"n": 4}
    first.save()
    second = index_of(top)
    assert listed_during(monkeypatch, lambda: second.get("ef000004.json")) == [os.fspath(top / "ef")]
    assert folder_index.SETTLE_NS < 1_000_000_000  # a build seconds after another still trusts it


@pytest.mark.parametrize("damage", ["<<<<<<< HEAD\n", "[]", '{"version": 99, "shards": {}}',
                                    '{"version": 1, "shards": {"ab": {"mtime_ns": "x", "files": []}}}'])
def test_a_damaged_or_foreign_index_is_read_as_none(top, damage):
    (top.parent / "index.json").write_text(damage, encoding="utf-8")
    index = index_of(top)
    assert index.get("ab000002.json") == {"n": 2}
    index.save()
    assert json.loads((top.parent / "index.json").read_text(encoding="utf-8"))["version"] == folder_index.INDEX_VERSION


def test_damaged_files_and_refused_ones_are_left_out(top):
    (top / "ab" / "ab00000a.json").write_text("{not json", encoding="utf-8")
    index = FolderIndex(top, top.parent / "index.json", NAME, write, usable=lambda path, data: data != {"n": 2})
    assert index.get("ab00000a.json") is None and index.get("ab000002.json") is None
    assert index.get("ab000001.json") == {"n": 1}


def test_differences_name_what_the_index_says_and_the_files_do_not(top):
    index = index_of(top)
    index.get("ab000001.json")
    index.save()
    shard = top / "ab"
    stamp = shard.stat().st_mtime_ns
    (shard / "ab000001.json").write_text(json.dumps({"n": 100}), encoding="utf-8")  # in place: mtime unchanged
    os.utime(shard, ns=(stamp, stamp))
    assert index_of(top).differences() == {"ab000001.json": "index.json differs from ab/ab000001.json"}
    index_of(top).forget()
    assert not (top.parent / "index.json").exists() and index_of(top).get("ab000001.json") == {"n": 100}


def test_an_unwritable_index_costs_only_reads(top, tmp_path):
    def refuse(path: Path, data: bytes) -> None:
        raise PermissionError(13, "read-only", str(path))

    index = FolderIndex(top, tmp_path / "index.json", NAME, refuse)
    assert index.get("ab000001.json") == {"n": 1}
    index.save()  # says nothing, breaks nothing
    assert not (tmp_path / "index.json").exists()
