"""The directive as a Python-Markdown extension, through a real `zensical build`.

One mkdocs.yml serves both hosts, as a site moving to Zensical has it: the plugin under
`plugins:` (MkDocs runs it, Zensical ignores it) and the extension under
`markdown_extensions:` (Zensical runs it, the plugin removes it under MkDocs).
"""

from __future__ import annotations

import importlib.util
import os
import re
from pathlib import Path

import pytest
import yaml

from tests.support.commands import REPO, bin_path, run
from tests.support.html import check_files, figures

pytestmark = pytest.mark.skipif(
    importlib.util.find_spec("zensical") is None,
    reason="zensical is not installed (pip install -e '.[test]' installs it)",
)

KEY = "test-key-not-real"
PAGES = {
    "index.md": "# Home\n\n```nanobanana\nprompt: A lighthouse at dusk\nalt: A lighthouse\n```\n",
    "sub/b.md": ("---\ntitle: B\n---\n# B\n\nText.\n\n!!! note\n\n"
                 "    ```nanobanana\n    prompt: A reading nook\n    ratio: \"16:9\"\n    ```\n"),
    "plain.md": "# Plain\n\nNo image here.\n",
}


def make_site(root: Path, api_base: str, pages: dict[str, str] = PAGES, **config) -> Path:
    for name, text in pages.items():
        path = root / "docs" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    options = {"api_base": api_base, "concurrency": 2, "retries": 0, "timeout": 5, "widths": [256]}
    doc = {"site_name": "Both hosts", "plugins": [{"nanobanana": options}],
           "markdown_extensions": ["admonition", {"mkdocs_nanobanana.markdown": options}], **config}
    (root / "mkdocs.yml").write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
    return root


def build(root: Path, host: str = "zensical"):
    return run([bin_path(host), "build"], cwd=root, env={"NANOBANANA_API_KEY": KEY})


def html_of(root: Path, page: str, directory_urls: bool) -> tuple[str, str]:
    """(the built file of a docs page, relative to site/; its text)."""
    stem = page[: -len(".md")]
    name = "index.html" if stem == "index" else (f"{stem}/index.html" if directory_urls else f"{stem}.html")
    return name, (root / "site" / name).read_text(encoding="utf-8")


def check_site(root: Path, directory_urls: bool = True, placeholders: bool = False) -> None:
    """Each directive is one figure whose every URL resolves to a file in site/."""
    for page, want in (("index.md", 1), ("sub/b.md", 1), ("plain.md", 0)):
        name, html = html_of(root, page, directory_urls)
        figs = figures(html)
        assert len(figs) == want, (name, html[:2000])
        assert "NANOBANANA" not in html and "language-nanobanana" not in html
        for fig in figs:
            assert ("nanobanana-placeholder" in fig["class"]) == placeholders
            check_files(root / "site", name, fig)


@pytest.mark.parametrize("directory_urls", [True, False])
def test_zensical_build_generates_once_and_rebuilds_from_cache(tmp_path, api, directory_urls):
    root = make_site(tmp_path / "proj", api.base, use_directory_urls=directory_urls)
    proc = build(root)
    assert "0 cached, 2 generated" in proc.stderr, proc.stderr
    assert len(api.generate_requests) == 2
    check_site(root, directory_urls)
    # Zensical empties site/ and serves unchanged pages from its page cache: the images
    # must be there all the same, with no API call
    proc = build(root)
    assert len(api.generate_requests) == 2
    check_site(root, directory_urls)
    assert KEY not in proc.stdout + proc.stderr


def test_one_cache_for_mkdocs_and_zensical(tmp_path, api):
    root = make_site(tmp_path / "proj", api.base)
    proc = build(root, "mkdocs")
    assert "0 cached, 2 generated" in proc.stderr and len(api.generate_requests) == 2
    check_site(root)  # the plugin did the work, the extension stood aside: no token is left
    build(root, "zensical")
    assert len(api.generate_requests) == 2
    check_site(root)
    # and the other way round: an image paid for under Zensical is MkDocs' too
    (root / "docs" / "plain.md").write_text("# Plain\n\n```nanobanana\nA new one\n```\n", encoding="utf-8")
    build(root, "zensical")
    assert len(api.generate_requests) == 3
    proc = build(root, "mkdocs")
    assert len(api.generate_requests) == 3 and "3 cached, 0 generated" in proc.stderr, proc.stderr


def test_offline_placeholders_and_max_credits(tmp_path, api):
    root = make_site(tmp_path / "proj", api.base)
    proc = run([bin_path("zensical"), "build"], cwd=root)  # no key: offline
    assert "NANOBANANA_API_KEY is not set" in proc.stderr and "2 placeholders" in proc.stderr
    check_site(root, placeholders=True)
    doc = yaml.safe_load((root / "mkdocs.yml").read_text())
    doc["markdown_extensions"][1]["mkdocs_nanobanana.markdown"]["max_credits"] = 2  # one image
    (root / "mkdocs.yml").write_text(yaml.safe_dump(doc), encoding="utf-8")
    proc = build(root)
    assert len(api.generate_requests) == 1 and "max_credits (2) reached" in proc.stderr, proc.stderr


def test_plugin_without_the_extension_is_reported(tmp_path):
    """Zensical ignores `plugins: - nanobanana`; the directive, left as code, is
    highlighted, and Pygments loads our lexer plugin, which says what to add."""
    root = tmp_path / "proj"
    (root / "docs").mkdir(parents=True)
    (root / "docs" / "index.md").write_text("# Home\n\n```nanobanana\nA cat\n```\n\n```nanobanana\nA dog\n```\n")
    (root / "mkdocs.yml").write_text("site_name: Plugin only\nplugins:\n  - nanobanana\n")
    # the entry point pyproject.toml declares, for the worktree under test
    dist = tmp_path / "ep" / "nanobanana_lexer_test-0.dist-info"
    dist.mkdir(parents=True)
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: nanobanana-lexer-test\nVersion: 0\n")
    lexer = re.search(r'\[project\.entry-points\."pygments\.lexers"\]\s*nanobanana = "([^"]+)"',
                      (REPO / "pyproject.toml").read_text(encoding="utf-8")).group(1)
    (dist / "entry_points.txt").write_text(f"[pygments.lexers]\nnanobanana = {lexer}\n")
    path = os.pathsep.join(filter(None, [str(tmp_path / "ep"), os.environ.get("PYTHONPATH", "")]))
    proc = run([bin_path("zensical"), "build"], cwd=root, env={"PYTHONPATH": path})
    out = proc.stdout + proc.stderr
    assert out.count("mkdocs.yml lists `plugins: - nanobanana`, but Zensical runs no MkDocs plugin") == 1, out
    assert "Add `- mkdocs_nanobanana.markdown` under markdown_extensions in mkdocs.yml" in out


