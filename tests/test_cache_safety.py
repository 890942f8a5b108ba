"""Issue 18 items 1-7: nothing paid for is lost, nothing not ours is touched, and a
damaged cache (or a damaged remote store) is a warning, never a crash. Through real
`mkdocs build`s and real `nanobanana` subprocesses against the fake API."""

from __future__ import annotations

import json

import pytest
from conftest import bin_path, run, seed_cache
from test_live import KEY, directive, warnings
from test_remote import machine


def nb(site, *args, env=None, check=False):
    return run([bin_path("nanobanana"), *args], cwd=site.root, env=env, check=check)


# --------------------------------------------------------------------------- item 7: sidecars

#: Ways a sidecar can be wrong while still being JSON, each a function of the good one.
MALFORMED = {
    "sha256 is a number": lambda m: m["files"][0].update(sha256=12345),
    "name is ..": lambda m: m["files"][0].update(name=".."),
    "name climbs out": lambda m: m["files"][0].update(name="../../../../../escaped.png"),
    "name of another entry": lambda m: m["files"][0].update(name="0" * 64 + "-1.png"),
    "files is an object": lambda m: m.update(files={"name": "x"}),
    "num is true": lambda m: m.update(num=True),
    "prompt is missing": lambda m: m.pop("prompt"),
    "width is text": lambda m: m["files"][0].update(width="1024"),
    "alpha is a number": lambda m: m["files"][0].update(alpha=0),
    "refs hold a number": lambda m: m.update(refs=[7]),
}
RAW = {"a list": b"[1, 2]", "nested too deep": b"[" * 100_000, "not UTF-8": b"\xff\xfe{}"}


def _damage(path, how: str) -> None:
    if how in RAW:
        path.write_bytes(RAW[how])
        return
    meta = json.loads(path.read_bytes())
    MALFORMED[how](meta)
    path.write_text(json.dumps(meta), encoding="utf-8")


DAMAGES = list(MALFORMED) + list(RAW)


@pytest.fixture
def live_env(monkeypatch, caplog, fast_retries):
    import logging

    caplog.set_level(logging.INFO)
    monkeypatch.setenv("NANOBANANA_API_KEY", KEY)


def test_malformed_remote_sidecars_are_rejected_and_regenerated(tmp_path, api, live_env, caplog):
    store = tmp_path / "store"
    store.mkdir()
    pages = "# A\n\n" + "".join(directive(f"Image {i}") for i in range(len(DAMAGES)))
    one = machine(tmp_path, "one", api, str(store))
    one.page("a.md", pages)
    one.build()
    assert len(api.generate_requests) == len(DAMAGES)
    sidecars = sorted(store.glob("images/*/*.json"))
    assert len(sidecars) == len(DAMAGES)
    for path, how in zip(sidecars, DAMAGES):
        _damage(path, how)

    check = run([bin_path("nanobanana"), "verify", "--remote"], cwd=one.root, check=False)
    assert check.returncode == 1 and "Traceback" not in check.stderr, check.stderr
    assert f"{len(DAMAGES)} entries checked, {len(DAMAGES)} bad" in check.stdout

    caplog.clear()
    two = machine(tmp_path, "two", api, str(store))
    two.page("a.md", pages)
    two.build()  # no traceback: each is a remote failure, paid again and replaced
    assert len(api.generate_requests) == 2 * len(DAMAGES)
    assert sum("is unusable" in w for w in warnings(caplog)) == len(DAMAGES)
    assert not list(tmp_path.rglob("escaped.png"))
    assert two.cache.verify_entries() == {}
    fixed = run([bin_path("nanobanana"), "verify", "--remote"], cwd=two.root, check=False)
    assert fixed.returncode == 0 and f"{len(DAMAGES)} entries checked, 0 bad" in fixed.stdout


def test_malformed_local_sidecars_are_bad_entries_not_crashes(site, api, live_env, caplog):
    site.configure({"api_base": api.base, "retries": 1})
    site.page("a.md", "# A\n\n" + "".join(directive(f"Image {i}") for i in range(len(DAMAGES))))
    site.build()
    keys = sorted(site.cache.keys())
    for key, how in zip(keys, DAMAGES):
        _damage(site.cache.sidecar_path(key), how)
    check = nb(site, "verify")
    assert check.returncode == 1 and "Traceback" not in check.stderr, check.stderr
    assert f"{len(DAMAGES)} entries checked, {len(DAMAGES)} bad" in check.stdout
    assert nb(site, "plan").returncode == 0
    site.build()
    assert len(api.generate_requests) == 2 * len(DAMAGES), "each damaged entry is paid again, once"
    assert site.cache.verify_entries() == {}
