"""Issue 18 item 10: options that were accepted but could not work fail at config time,
with one error that names the option (and, under `models:`, the model)."""

from __future__ import annotations

import pytest
from mkdocs.exceptions import Abort

from tests.support.commands import bin_path, run


def _errors(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelname == "ERROR"]


@pytest.mark.parametrize("plugin,option,words", [
    ({"timeout": float("nan")}, "timeout", "finite"),
    ({"timeout": float("inf")}, "timeout", "finite"),
    ({"serve_debounce": float("nan")}, "serve_debounce", "finite"),
    ({"serve_debounce": float("-inf")}, "serve_debounce", "finite"),
    ({"api_base": "ftp://api.example.com/v1"}, "api_base", "http:// or https://"),
    ({"api_base": "api.example.com/v1"}, "api_base", "http:// or https://"),
    ({"api_base": "file:///etc/passwd"}, "api_base", "http:// or https://"),
    ({"api_base": "https://"}, "api_base", "with a host"),
])
def test_values_that_cannot_work_are_config_errors_naming_the_option(site, caplog, plugin, option, words):
    site.configure(plugin)
    with pytest.raises(Abort, match="configuration error"):
        site.build()
    errors = _errors(caplog)
    assert any(f"option '{option}'" in m and words in m for m in errors), errors


@pytest.mark.parametrize("remote,words", [
    ("s3//bucket/prefix", "remote_cache 's3//bucket/prefix' is neither a URL with a scheme"),
    ("shared-cache", "remote_cache 'shared-cache' is neither a URL with a scheme"),
    ("/no/such/folder/anywhere", "nor an existing folder"),
])
def test_remote_cache_neither_url_nor_existing_folder(site, caplog, remote, words):
    site.configure({"remote_cache": remote})
    with pytest.raises(Abort):
        site.build()
    assert any(m.startswith("nanobanana: ") and words in m for m in _errors(caplog)), _errors(caplog)
    assert not (site.root / "s3").exists() and not (site.root / "shared-cache").exists()


def test_relative_remote_cache_is_read_from_mkdocs_yml_not_the_working_directory(site, tmp_path, monkeypatch):
    """Built from another folder, a relative remote_cache still means the folder beside
    mkdocs.yml: the entry lands there, and nothing appears in the working directory."""
    (site.root / "shared").mkdir()
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    site.configure({"remote_cache": "shared", "mode": "offline"})
    site.page("a.md", "```nanobanana\nprompt: A\n```\n")
    site.build()
    proc = run([bin_path("nanobanana"), "verify", "--remote", "-f", str(site.config_file)], cwd=elsewhere, check=False)
    assert "Error" not in proc.stderr, proc.stderr
    assert "0 entries checked, 0 bad" in proc.stdout
    assert list(elsewhere.iterdir()) == []


@pytest.mark.parametrize("sizes,words", [
    ({"16:9": "wide"}, "size of ratio '16:9'"),
    ({"16:9": "1344x"}, "size of ratio '16:9'"),
    ({"16:9": [1344]}, "size of ratio '16:9'"),
    ({"16:9": [1344.5, 768]}, "size of ratio '16:9'"),
    ({"16:9": [True, 768]}, "size of ratio '16:9'"),
    ({"16:9": "0x768"}, "size of ratio '16:9'"),
    ({"16:9": [100000, 768]}, "size of ratio '16:9'"),
    ({"16:9": {"w": 1, "h": 2}}, "size of ratio '16:9'"),
    (["16:9", "1344x768"], "'sizes' must be a mapping"),
    ({True: "1344x768"}, "is not a ratio"),
])
def test_a_bad_size_under_models_names_the_model(site, caplog, sizes, words):
    site.configure({"models": {"my-model": {"credits": 3, "sizes": sizes}}})
    with pytest.raises(Abort):
        site.build()
    errors = _errors(caplog)
    assert any("model 'my-model'" in m and words in m for m in errors), errors
    assert "Traceback" not in caplog.text


def test_a_good_size_under_models_and_an_unquoted_ratio_work(site):
    site.configure({"widths": [2000],
                    "models": {"my-model": {"credits": 3, "sizes": {969: "1400x800", "4:3": [1200, 900]}}}})
    site.page("a.md", "```nanobanana\nprompt: A\nmodel: my-model\nratio: '16:9'\n```\n")
    site.build()
    assert 'width="1400" height="800"' in site.html("a/index.html")
