"""Issue 32 item 4: both hosts refuse every value the options table refuses, in the same
words, naming the dotted option: a real `mkdocs build` (the plugin), Python-Markdown
with the extension in this process, and for a few cases a real `zensical build`.

Before the table, the extension took `quality: 500`, `concurrency: 0` (then crashed in
ThreadPoolExecutor(0)), `retries: -3`, `widths: [-5]`, `timeout: -1` and
`formats: [gif]` without a word.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

import markdown
import pytest
import yaml

from mkdocs_nanobanana.core.option_kinds import OptionError
from mkdocs_nanobanana.core.settings import SettingsError
from tests.support.commands import bin_path, run

ENTRY = "mkdocs_nanobanana.markdown"
PAGE = "# Home\n\n```nanobanana\nprompt: A lighthouse at dusk\n```\n"
KEYLIKE = "sk-live-1234567890abcdef"

#: (options, the option the error names, what it says is expected): the table's refusals.
TABLE_CASES: list[tuple[dict[str, Any], str, str]] = [
    # the issue's list: each was accepted by the extension
    ({"quality": 500}, "quality", "expected a whole number from 1 to 100, got 500"),
    ({"concurrency": 0}, "concurrency", "expected a whole number from 1 to 64, got 0"),
    ({"retries": -3}, "retries", "expected a whole number from 0 to 20, got -3"),
    ({"widths": [-5]}, "widths",
     "expected a list of at least one width, each a whole number from 16 to 8192, got [-5]"),
    ({"timeout": -1}, "timeout", "expected a positive, finite number of seconds, got -1"),
    ({"formats": ["gif"]}, "formats",
     "expected a list of at least one format, each one of webp, jpeg, png, avif, got ['gif']"),
    # test_config_checks.py's: values once accepted that could not work
    ({"timeout": float("nan")}, "timeout", "expected a positive, finite number of seconds, got nan"),
    ({"timeout": float("inf")}, "timeout", "expected a positive, finite number of seconds, got inf"),
    # issue 33: the wait for an answer is an option of its own
    ({"answer_timeout": 0}, "answer_timeout", "expected a positive, finite number of seconds, got 0"),
    ({"answer_timeout": "5 min"}, "answer_timeout", "expected a positive, finite number of seconds, got '5 min'"),
    ({"serve_debounce": float("nan")}, "serve_debounce", "expected a positive, finite number of seconds, got nan"),
    ({"serve_debounce": float("-inf")}, "serve_debounce", "expected a positive, finite number of seconds, got -inf"),
    ({"api_base": "ftp://api.example.com/v1"}, "api_base",
     "expected an http:// or https:// URL with a host, got 'ftp://api.example.com/v1'"),
    ({"api_base": "api.example.com/v1"}, "api_base",
     "expected an http:// or https:// URL with a host, got 'api.example.com/v1'"),
    ({"api_base": "file:///etc/passwd"}, "api_base",
     "expected an http:// or https:// URL with a host, got 'file:///etc/passwd'"),
    ({"api_base": "https://"}, "api_base", "expected an http:// or https:// URL with a host, got 'https://'"),
    # test_build.py's bad config values
    ({"quality": 0}, "quality", "expected a whole number from 1 to 100, got 0"),
    ({"widths": [480, "big"]}, "widths",
     "expected a list of at least one width, each a whole number from 16 to 8192, got [480, 'big']"),
    ({"widths": []}, "widths", "expected a list of at least one width, each a whole number from 16 to 8192, got []"),
    ({"mode": "sometimes"}, "mode", "expected one of auto, live, offline, got 'sometimes'"),
    ({"concurrency": True}, "concurrency", "expected a whole number from 1 to 64, got True"),
    ({"output_dir": "../outside"}, "output_dir", "expected a relative path inside site_dir, got '../outside'"),
    ({"api_key_env": KEYLIKE}, "api_key_env", "expected the NAME of an environment variable (e.g. "
     "NANOBANANA_API_KEY), not the key itself: never put an API key in mkdocs.yml"),
    # more of the table: a choice, a ratio, sections, names no option has
    ({"backdrop": "blurry"}, "backdrop", "expected one of color, blur, none, got 'blurry'"),
    ({"ratio": True}, "ratio", "expected a ratio such as \"16:9\", got True"),
    ({"models": ["my-model"]}, "models", "expected a mapping of model ids to their settings, got ['my-model']"),
    ({"avif": {"speed": 11}}, "avif.speed", "expected a whole number from 0 to 10, got 11"),
    ({"avif": "fast"}, "avif", "expected a mapping of options, got 'fast'"),
    ({"provenance": {"include_promt": True}}, "provenance.include_promt",
     "unknown option: did you mean 'include_prompt'?"),
    ({"ref_images": {"route": "upload"}}, "ref_images.route", "expected one of generate, edit, got 'upload'"),
    ({"max_credit": 10}, "max_credit", "unknown option: did you mean 'max_credits'?"),
    # the plugin's alone, and checked by the extension all the same: one block serves both
    ({"social": {"layout": "sideways"}}, "social.layout",
     "expected one of default, only_image, invert, got 'sideways'"),
    ({"social": {"cards_include": "blog/*"}}, "social.cards_include", "expected a list, each a text, got 'blog/*'"),
]

#: (options, environment, words): what only the project can refuse (a folder, the key,
#: the catalog), said when the build starts: "nanobanana: ..." by the plugin.
PROJECT_CASES: list[tuple[dict[str, Any], dict[str, str], str]] = [
    # test_config_checks.py's
    ({"remote_cache": "s3//bucket/prefix"}, {}, "remote_cache 's3//bucket/prefix' is neither a URL with a scheme"),
    ({"remote_cache": "shared-cache"}, {}, "remote_cache 'shared-cache' is neither a URL with a scheme"),
    ({"remote_cache": "/no/such/folder/anywhere"}, {}, "nor an existing folder"),
    *[({"models": {"my-model": {"credits": 3, "sizes": sizes}}}, {}, words) for sizes, words in [
        ({"16:9": "wide"}, "model 'my-model': size of ratio '16:9'"),
        ({"16:9": "1344x"}, "model 'my-model': size of ratio '16:9'"),
        ({"16:9": [1344]}, "model 'my-model': size of ratio '16:9'"),
        ({"16:9": [1344.5, 768]}, "model 'my-model': size of ratio '16:9'"),
        ({"16:9": [True, 768]}, "model 'my-model': size of ratio '16:9'"),
        ({"16:9": "0x768"}, "model 'my-model': size of ratio '16:9'"),
        ({"16:9": [100000, 768]}, "model 'my-model': size of ratio '16:9'"),
        ({"16:9": {"w": 1, "h": 2}}, "model 'my-model': size of ratio '16:9'"),
        (["16:9", "1344x768"], "'sizes' must be a mapping"),
        ({True: "1344x768"}, "is not a ratio"),
    ]],
    # test_build.py's plugin-level errors
    ({"ratio": "21:9"}, {}, "ratio '21:9' is not offered by gemini-2.5-flash-image: use one of 1:1, 16:9"),
    ({"variant": "ultra"}, {}, "variant 'ultra' is not one of standard, hd"),
    ({"cache_dir": "docs/.cache"}, {}, "cache_dir is inside docs_dir"),
    ({"mode": "live"}, {}, "the environment variable NANOBANANA_API_KEY is not set"),
    ({"models": {"x": {"credits": "lots"}}}, {}, "model 'x': 'credits'"),
    ({}, {"NANOBANANA_MODE": "turbo"}, "NANOBANANA_MODE='turbo' is not a mode"),
    ({"social": {"font": "missing.ttf"}}, {}, "missing.ttf is not a file: give a .ttf or .otf file"),
    ({"social": {"background_color": "blurple"}}, {}, "social.background_color: 'blurple' is neither a #hex colour"),
]


def project(root: Path, plugin: dict[str, Any] | None = None, extension: dict[str, Any] | None = None) -> Path:
    """A one-page project whose page has a directive; the plugin's entry, or the
    extension's alone (as a site built by Zensical lists it)."""
    (root / "docs").mkdir(parents=True, exist_ok=True)
    (root / "docs" / "index.md").write_text(PAGE, encoding="utf-8")
    doc: dict[str, Any] = {"site_name": "Options"}
    if plugin is not None:
        doc["plugins"] = [{"nanobanana": plugin}]
    if extension is not None:
        doc["markdown_extensions"] = [{ENTRY: extension}]
    (root / "mkdocs.yml").write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
    return root


def said_after(text: str, prefix: str) -> str:
    """The rest of the line that says ``prefix`` (the one error a host printed)."""
    lines = [line.split(prefix, 1)[1] for line in text.splitlines() if prefix in line]
    assert len(lines) == 1, f"{prefix!r} is said {len(lines)} times in:\n{text}"
    return lines[0]


def mkdocs_refuses(root: Path, env: dict[str, str] | None = None) -> str:
    proc = run([bin_path("mkdocs"), "build"], cwd=root, env=env, check=False)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr and not (root / "site" / "assets").exists(), proc.stderr
    return proc.stderr


def convert(root: Path, options: dict[str, Any]) -> str:
    """The page through Python-Markdown with the extension, in this process; the host
    options say where the project is, as a host without pages must."""
    where = {"config_file": str(root / "mkdocs.yml"), "docs_dir": str(root / "docs"), "site_dir": str(root / "site")}
    md = markdown.Markdown(extensions=[ENTRY], extension_configs={ENTRY: {**options, **where}})
    return str(md.convert(PAGE))


@pytest.mark.parametrize("options,name,expected", TABLE_CASES, ids=[f"{n}={o}" for o, n, _ in TABLE_CASES])
def test_both_hosts_refuse_a_bad_value_in_the_same_words(tmp_path, options, name, expected):
    root = project(tmp_path / "proj", plugin=options)
    by_mkdocs = said_after(mkdocs_refuses(root), f"Config value 'plugins': Plugin 'nanobanana' option '{name}': ")
    with pytest.raises(OptionError) as refused:  # when the extension is made: before any page
        convert(root, options)
    assert refused.value.option == name
    by_extension = said_after(str(refused.value), f"{ENTRY}: {name}: ")
    assert by_mkdocs == by_extension == expected
    assert KEYLIKE not in by_mkdocs + by_extension


@pytest.mark.parametrize("options,env,words", PROJECT_CASES, ids=[w[:40] for _, _, w in PROJECT_CASES])
def test_both_hosts_refuse_what_cannot_work_in_the_project(tmp_path, monkeypatch, options, env, words):
    root = project(tmp_path / "proj", plugin=options)
    by_mkdocs = said_after(mkdocs_refuses(root, env), "ERROR   -  nanobanana: ")
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(SettingsError) as refused:  # when the first directive opens the build
        convert(root, options)
    by_extension = said_after(str(refused.value), f"{ENTRY}: ")
    assert by_mkdocs == by_extension and words in by_mkdocs, (by_mkdocs, by_extension)
    assert not (root / "s3").exists() and not (root / "shared-cache").exists() and not (root / "site").exists()


def test_the_edges_of_each_range_are_taken_by_both_hosts(site):
    """What the table takes, both hosts build with: the refusals above are not a host
    refusing everything."""
    edges = {"quality": 1, "concurrency": 64, "retries": 0, "widths": [16, 8192], "timeout": 0.5, "answer_timeout": 0.5,
             "formats": ["png"], "max_credits": 0, "avif": {"speed": 0, "quality": 100}, "ratio": "16:9",
             "social": {"layout": "invert"}}
    site.configure(edges)
    site.page("index.md", PAGE)
    site.build()
    for html in (site.html("index.html"), convert(site.root, edges)):
        assert '<figure class="nanobanana nanobanana-placeholder">' in html and "-16.png 16w" in html, html


def test_a_shared_mkdocs_yml_with_a_bad_extension_entry_fails_under_mkdocs_too(tmp_path):
    """MkDocs makes every listed extension once to check its options: the extension's
    refusal is MkDocs' config error, which names the entry."""
    root = project(tmp_path / "proj", plugin={}, extension={"quality": 500})
    proc = run([bin_path("mkdocs"), "build"], cwd=root, check=False)
    assert proc.returncode == 1 and "Config value 'markdown_extensions'" in proc.stderr, proc.stderr
    assert f"{ENTRY}: quality: expected a whole number from 1 to 100, got 500" in proc.stderr


zensical = pytest.mark.skipif(importlib.util.find_spec("zensical") is None, reason="zensical is not installed")


@zensical
@pytest.mark.parametrize("options,said", [
    ({"quality": 500}, "quality: expected a whole number from 1 to 100, got 500"),
    ({"concurrency": 0}, "concurrency: expected a whole number from 1 to 64, got 0"),
    ({"formats": ["gif"]}, "formats: expected a list of at least one format, each one of webp, jpeg, png, avif, "
                           "got ['gif']"),
    ({"avif": {"speed": 11}}, "avif.speed: expected a whole number from 0 to 10, got 11"),
    ({"max_credit": 10}, "max_credit: unknown option: did you mean 'max_credits'?"),
    ({"remote_cache": "shared-cache"}, "remote_cache 'shared-cache' is neither a URL with a scheme"),
])
def test_zensical_build_fails_on_them_too(tmp_path, options, said):
    root = project(tmp_path / "proj", extension=options)
    proc = run([bin_path("zensical"), "build"], cwd=root, check=False)
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0 and f"{ENTRY}: {said}" in out, out
    assert not (root / "site" / "assets" / "nanobanana").exists() and not (root / ".cache" / "nanobanana").exists()
