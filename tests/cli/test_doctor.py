"""`nanobanana doctor`, run as a real subprocess on small sites that each get one thing wrong.

A healthy site passes every check (exit 0); each case below breaks one check and expects
that row's status, its words, and the exit code (1 for a warning, 2 for a failure).
Everything stays on 127.0.0.1: api_base is the fake API, or a port nothing listens on.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import textwrap

import pytest

from mkdocs_nanobanana.core.catalog import FLASH_IMAGE_SIZES
from mkdocs_nanobanana.core.request import Request
from mkdocs_nanobanana.store.cache import Cache
from tests.support.commands import REPO, bin_path, run
from tests.support.directives import directive
from tests.support.images import photo_png
from tests.support.live import KEY

CODES = {"PASS": 0, "WARN": 1, "FAIL": 2}


def doctor(site, *args, env=None):
    return run([bin_path("nanobanana"), *args, "doctor"], cwd=site.root, env=env, check=False)


def rows(out: str) -> dict[str, tuple[str, str]]:
    """check name -> (status, its text with the fix line)."""
    table, last = {}, None
    for line in out.splitlines():
        status = line[:4]
        if status in CODES:
            name = line[6:].split("  ")[0]
            table[name], last = (status, line), name
        elif line.strip().startswith("fix:") and last:
            table[last] = (table[last][0], table[last][1] + "\n" + line)
    return table


@pytest.fixture
def healthy(site, api):
    """A site on which every check passes: the key set, api_base the fake API."""
    site.configure({"api_base": api.base}, site_url="https://example.org/")
    site.page("index.md", "# Home\n\n" + directive("A lighthouse at dusk"))
    return site


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_a_healthy_site_passes_everything(healthy, api):
    proc = doctor(healthy, env={"NANOBANANA_API_KEY": KEY})
    table = rows(proc.stdout)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert {s for s, _ in table.values()} == {"PASS"}
    for name in ("python", "mkdocs", "plugin", "plugin order", "API key", "mode", "api_base", "cache_dir",
                 "cache in git", "remote cache", "social cards"):
        assert name in table, name
    assert "28 characters, first four shaped 'aa-a'" in table["API key"][1]
    assert "live" in table["mode"][1]
    assert api.requests == [], "a connection only: no request is sent"
    assert KEY not in proc.stdout + proc.stderr and "Traceback" not in proc.stderr


def workflow(site, name: str, text: str) -> None:
    wf = site.root / ".github" / "workflows"
    wf.mkdir(parents=True, exist_ok=True)
    (wf / name).write_text(textwrap.dedent(text), encoding="utf-8")


def _ci_pin(site, api):
    workflow(site, "docs.yml", """\
        jobs:
          build:
            steps:
              - uses: actions/setup-python@v5
                with:
                  python-version: 3.9
              - run: mkdocs gh-deploy --force
        """)


def _ci_unquoted_310(site, api):
    workflow(site, "docs.yml", """\
        jobs:
          b:
            strategy:
              matrix:
                python-version: [3.10, '3.12']
            steps:
              - uses: actions/setup-python@v5
                with:
                  python-version: ${{ matrix.python-version }}
              - run: python -m mkdocs build --strict
        """)


def _no_plugin(site, api):
    site.configure(plugins=["search"])


def _disabled(site, api):
    site.configure({"api_base": api.base, "enabled": False}, site_url="https://example.org/")


def _cache_in_docs(site, api):
    site.configure({"api_base": api.base, "cache_dir": "docs/.cache"}, site_url="https://example.org/")


def _quoted_key(site, api):
    return {"NANOBANANA_API_KEY": f"'{KEY}'"}


def _gemini_key(site, api):
    site.configure({"api_base": f"{api.origin}/v1beta", "provider": "gemini"}, site_url="https://example.org/")
    return {"GEMINI_API_KEY": KEY}


def _live_without_key(site, api):
    return {"NANOBANANA_API_KEY": "", "NANOBANANA_MODE": "live"}


def _offline_with_key(site, api):
    return {"NANOBANANA_MODE": "offline"}


def _unreachable(site, api):
    site.configure({"api_base": f"http://127.0.0.1:{closed_port()}/v1"}, site_url="https://example.org/")


def _cache_in_site(site, api):
    site.configure({"api_base": api.base, "cache_dir": "site/.cache"}, site_url="https://example.org/")


def _cache_under_a_file(site, api):
    (site.root / ".cache").write_text("not a folder", encoding="utf-8")


def _git_ignores_cache(site, api):
    subprocess.run(["git", "init", "-q", str(site.root)], check=True)
    (site.root / ".gitignore").write_text("# the Python template\n.cache\n", encoding="utf-8")


def _remote_unknown(site, api):
    site.configure({"api_base": api.base, "remote_cache": "nosuchstore://bucket/images"}, site_url="https://example.org/")


def _bad_font(site, api):
    (site.root / "broken.ttf").write_bytes(b"<!DOCTYPE html><html>this is not a font")
    site.configure({"api_base": api.base, "social": {"source": "first_image", "font": "broken.ttf"}},
                   site_url="https://example.org/")


def _damaged_font(site, api):
    """It starts as an OpenType font does (the settings take it), and FreeType refuses it."""
    (site.root / "broken.ttf").write_bytes(b"OTTO" + bytes(200))
    site.configure({"api_base": api.base, "social": {"source": "first_image", "font": "broken.ttf"}},
                   site_url="https://example.org/")


def _material_social(site, api):
    site.configure(plugins=["search", "social", {"nanobanana": {"api_base": api.base}}], theme={"name": "material"}, site_url="https://example.org/")


def _no_site_url(site, api):
    site.configure({"api_base": api.base, "social": {"source": "first_image"}})


def _spilled_images(site, api):
    """An image a build bought while cache_dir was full, kept beside it (issue 33 item 11)."""
    spill = Cache(site.cache.root.with_name(site.cache.root.name + ".spill"))
    request = Request(model="gemini-2.5-flash-image", prompt="Bought on a full disk", ratio="1:1")
    spill.put(request, [photo_png(FLASH_IMAGE_SIZES["1:1"])], provider="nanobanana", credits=2)


CASES = [
    # (setup, check, status, words in its row[, other checks this also fails])
    (_ci_pin, "python in CI", "FAIL", ".github/workflows/docs.yml pins 3.9 (job build)"),
    (_ci_unquoted_310, "python in CI", "FAIL", "docs.yml pins 3.1 (an unquoted 3.10) (job b)"),
    (_no_plugin, "plugin", "FAIL", "add `- nanobanana` under plugins:"),
    (_disabled, "plugin", "WARN", "enabled: false"),
    (_cache_in_docs, "plugin options", "FAIL", "cache_dir is inside docs_dir"),
    (_quoted_key, "API key", "WARN", "spaces or quotes"),
    (_gemini_key, "API key", "WARN", "Google API keys start with 'AIza'"),
    (_live_without_key, "mode", "FAIL", "NANOBANANA_API_KEY is not set", ("API key",)),
    (_offline_with_key, "mode", "WARN", "fix: unset NANOBANANA_MODE"),
    (_unreachable, "api_base", "FAIL", "cannot connect"),
    (_cache_in_site, "plugin options", "FAIL", "inside site_dir"),  # refused by the settings themselves (issue 18)
    (_cache_under_a_file, "cache_dir", "FAIL", ".cache is a file"),
    (_git_ignores_cache, "cache in git", "WARN", "(.gitignore:2:.cache)"),
    (_remote_unknown, "remote cache", "FAIL", "nosuchstore"),
    # issue 35: not a font at all is refused by the settings themselves, naming the option
    (_bad_font, "plugin options", "FAIL", "social.font: "),
    (_damaged_font, "card font", "FAIL", "broken.ttf cannot be loaded"),
    (_material_social, "Material's social", "WARN", "set enabled: false under it"),
    (_no_site_url, "site_url", "WARN", "fix: set site_url"),
    (_spilled_images, "spilled images", "WARN", "1 entry and 0 partial image(s) bought while cache_dir could not"),
]


@pytest.mark.parametrize("setup, name, status, words, also", [(*c, ()) if len(c) == 4 else c for c in CASES],
                         ids=[c[0].__name__.strip("_") for c in CASES])
def test_each_check_fails_on_a_site_built_to_fail_it(healthy, api, setup, name, status, words, also):
    env = {"NANOBANANA_API_KEY": KEY, **(setup(healthy, api) or {})}
    proc = doctor(healthy, env=env)
    table = rows(proc.stdout)
    assert name in table, proc.stdout + proc.stderr
    got, text = table[name]
    assert (got, words in text) == (status, True), text
    others = [n for n, (s, _) in table.items() if s != "PASS" and n != name and n not in also]
    assert others == [], f"only {name} should fail here:\n{proc.stdout}"
    assert proc.returncode == CODES[status]
    assert KEY not in proc.stdout + proc.stderr and "Traceback" not in proc.stderr
    assert api.requests == []


def test_the_gitignore_fix_it_prints_works(healthy, api):
    """Appending the lines the warning gives makes git see the cache, and only it."""
    _git_ignores_cache(healthy, api)
    fix = rows(doctor(healthy, env={"NANOBANANA_API_KEY": KEY}).stdout)["cache in git"][1]
    lines = fix.split("add ", 1)[1].split(" to the end")[0].replace("`", "").split()
    assert lines == ["!/.cache/", "/.cache/*", "!/.cache/nanobanana/"]
    with (healthy.root / ".gitignore").open("a", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")
    proc = doctor(healthy, env={"NANOBANANA_API_KEY": KEY})
    assert rows(proc.stdout)["cache in git"][0] == "PASS" and proc.returncode == 0, proc.stdout
    ignored = subprocess.run(["git", "check-ignore", "-q", ".cache/pip/x"], cwd=healthy.root)
    assert ignored.returncode == 0, "the rest of .cache stays ignored"


def test_a_remote_cache_is_checked_with_remote_cache_kept(healthy, api, tmp_path):
    """An ignored cache is fine when remote_cache keeps the images; a reachable remote passes."""
    _git_ignores_cache(healthy, api)
    healthy.configure({"api_base": api.base, "remote_cache": f"file://{tmp_path / 'bucket'}"}, site_url="https://example.org/")
    proc = doctor(healthy, env={"NANOBANANA_API_KEY": KEY})
    table = rows(proc.stdout)
    assert table["remote cache"][0] == "PASS" and "empty so far" in table["remote cache"][1]
    assert table["cache in git"][0] == "PASS" and "remote_cache keeps" in table["cache in git"][1]


OLD_BLOG = '''
from mkdocs.plugins import BasePlugin


class OldBlog(BasePlugin):
    """A blog plugin whose on_page_markdown runs at the default priority (0), as ours does:
    the order under plugins: then decides which runs first."""

    def on_page_markdown(self, markdown, page, config, files):
        return markdown
'''


@pytest.fixture
def old_blog(tmp_path):
    """A plugin installed as `blog` (an entry point in a dist-info on PYTHONPATH)."""
    folder = tmp_path / "plugins"
    (folder / "oldblog-0.1.dist-info").mkdir(parents=True)
    (folder / "oldblog.py").write_text(textwrap.dedent(OLD_BLOG), encoding="utf-8")
    (folder / "oldblog-0.1.dist-info" / "METADATA").write_text("Metadata-Version: 2.1\nName: oldblog\nVersion: 0.1\n")
    (folder / "oldblog-0.1.dist-info" / "entry_points.txt").write_text("[mkdocs.plugins]\nblog = oldblog:OldBlog\n")
    return {"PYTHONPATH": os.pathsep.join(p for p in (os.environ.get("PYTHONPATH"), str(folder)) if p)}


@pytest.mark.parametrize("order, status", [(["blog", "nanobanana"], "FAIL"), (["nanobanana", "blog"], "PASS")])
def test_plugin_order_is_judged_on_the_order_hooks_run(healthy, api, old_blog, order, status):
    healthy.configure(plugins=[p if p == "blog" else {"nanobanana": {"api_base": api.base}} for p in order], site_url="https://example.org/")
    proc = doctor(healthy, env={**old_blog, "NANOBANANA_API_KEY": KEY})
    got, text = rows(proc.stdout)["plugin order"]
    assert got == status, proc.stdout + proc.stderr
    if status == "FAIL":
        assert "must run before blog in on_page_markdown" in text
        assert "fix: list nanobanana above blog under plugins:" in text
        assert proc.returncode == 2


def test_material_blog_is_in_order_whatever_the_list_says(healthy, api):
    """Material's blog runs on_page_markdown at priority -50: after ours even when listed first."""
    healthy.configure(plugins=["blog", {"nanobanana": {"api_base": api.base}}], theme={"name": "material"}, site_url="https://example.org/")
    proc = doctor(healthy, env={"NANOBANANA_API_KEY": KEY})
    got, text = rows(proc.stdout)["plugin order"]
    assert got == "PASS" and "before material/blog (page_markdown)" in text, proc.stdout + proc.stderr


def test_glightbox_is_checked_to_run_before_the_link_is_moved_out_of_the_picture(healthy, api):
    """mkdocs-glightbox wraps each <img> in an <a> at on_page_content's default priority;
    ours that moves the <a> around the <picture> runs at -90, after it, wherever it is listed."""
    pytest.importorskip("mkdocs_glightbox", reason="the test extra installs mkdocs-glightbox")
    healthy.configure(plugins=["glightbox", {"nanobanana": {"api_base": api.base}}])
    proc = doctor(healthy, env={"NANOBANANA_API_KEY": KEY})
    got, text = rows(proc.stdout)["plugin order"]
    assert got == "PASS" and "after glightbox (page_content)" in text, proc.stdout + proc.stderr


def test_no_config_file_fails_with_exit_2(tmp_path):
    proc = run([bin_path("nanobanana"), "doctor"], cwd=tmp_path, check=False)
    assert proc.returncode == 2 and "FAIL  config file" in proc.stdout and "properdocs.yml" in proc.stdout
    assert "fix: run it in the site's folder" in proc.stdout


def test_group_and_command_config_file(healthy, tmp_path):
    """Item 5: -f before the command and after it; the command's own -f wins."""
    other = tmp_path / "elsewhere"
    other.mkdir()
    cfg = str(healthy.config_file)
    before = run([bin_path("nanobanana"), "-f", cfg, "plan", "--json"], cwd=other, check=False)
    after = run([bin_path("nanobanana"), "plan", "--json", "-f", cfg], cwd=other, check=False)
    assert before.returncode == after.returncode == 0, before.stderr + after.stderr
    assert before.stdout == after.stdout and '"missing": 1' in before.stdout
    both = run([bin_path("nanobanana"), "-f", str(other / "nope.yml"), "plan", "-f", cfg], cwd=other, check=False)
    assert both.returncode == 0, both.stderr
    wrong = run([bin_path("nanobanana"), "-f", cfg, "plan", "-f", str(other / "nope.yml")], cwd=other, check=False)
    assert wrong.returncode == 1 and "nope.yml" in wrong.stderr
    checked = run([bin_path("nanobanana"), "-f", cfg, "doctor"], cwd=other, check=False)
    # the site -f names, read from elsewhere: its one page gets a card (social.source auto)
    assert rows(checked.stdout)["plugin"][0] == "PASS" and "1 page(s) get a card" in checked.stdout, checked.stdout


# --------------------------------------------------------------------------- issue 38 item 6: no false alarms


def test_mkdocs_own_workflows_pass_on_the_docs_job_alone(healthy, api):
    """MkDocs' repository (tests/cli/mkdocs-workflows/SOURCE.md): ci.yml's library test matrix
    pins 3.8, 3.9, ${{ matrix.python-version }} and PyPy 3.9, and builds no site; docs.yml's
    build job runs `mkdocs build --strict` on 3.11. Only that job is judged."""
    dest = healthy.root / ".github" / "workflows"
    shutil.copytree(REPO / "tests" / "cli" / "mkdocs-workflows", dest, ignore=shutil.ignore_patterns("*.md"))
    subprocess.run(["git", "init", "-q", str(healthy.root)], check=True)  # the workflows' repository
    proc = doctor(healthy, env={"NANOBANANA_API_KEY": KEY})
    got, text = rows(proc.stdout)["python in CI"]
    assert (got, proc.returncode) == ("PASS", 0), proc.stdout
    assert text.endswith("python in CI  .github/workflows/docs.yml pins 3.11 (job build)"), text
    assert "?" not in proc.stdout and "ci.yml" not in proc.stdout


def test_expressions_and_pypy_in_a_site_job_are_resolved_or_skipped(healthy, api):
    """A docs job's matrix and env are resolved (the include entries too), PyPy reads as
    its Python version, an expression doctor cannot know is left out, never "pins ?"."""
    workflow(healthy, "docs.yml", """\
        env:
          PYTHON: "3.12"
        jobs:
          docs:
            strategy:
              matrix:
                python: ["3.11", pypy-3.9]
                include:
                  - python: "3.13"
            steps:
              - uses: actions/setup-python@v5
                with:
                  python-version: ${{ matrix.python }}
              - uses: actions/setup-python@v5
                with:
                  python-version: ${{ env.PYTHON }}
              - uses: actions/setup-python@v5
                with:
                  python-version: ${{ inputs.python }}
              - run: |
                  pip install -r requirements.txt
                  zensical build
        """)
    proc = doctor(healthy, env={"NANOBANANA_API_KEY": KEY})
    got, text = rows(proc.stdout)["python in CI"]
    assert got == "FAIL" and "docs.yml pins pypy-3.9 (job docs)" in text, proc.stdout
    assert "?" not in text
    workflow(healthy, "docs.yml", (healthy.root / ".github/workflows/docs.yml").read_text().replace(", pypy-3.9", ""))
    got, text = rows(doctor(healthy, env={"NANOBANANA_API_KEY": KEY}).stdout)["python in CI"]
    assert got == "PASS" and "docs.yml pins 3.11, 3.13, 3.12 (job docs)" in text, text


def test_gitlab_jobs_count_only_when_they_build_the_site(healthy, api):
    (healthy.root / ".gitlab-ci.yml").write_text(textwrap.dedent("""\
        image: python:3.8
        .setup: &setup
          before_script: [pip install -e .]
        test:
          <<: *setup
          script: [pytest]
        pages:
          image: python:3.12
          script:
            - !reference [.setup, before_script]
            - mkdocs build --strict -d public
        """), encoding="utf-8")
    got, text = rows(doctor(healthy, env={"NANOBANANA_API_KEY": KEY}).stdout)["python in CI"]
    assert got == "PASS" and text.endswith(".gitlab-ci.yml pins python:3.12 (job pages)"), text


def test_plugin_order_names_each_neighbour_once(healthy, api):
    """Material's blog and mkdocs-rss-plugin: ours runs before blog, and before and after
    rss in on_page_content; each is named once."""
    plugins = ["blog", {"rss": {"match_path": "blog/posts/.*"}}, {"nanobanana": {"api_base": api.base}}]
    healthy.configure(plugins=plugins, theme={"name": "material"}, site_url="https://example.org/")
    proc = doctor(healthy, env={"NANOBANANA_API_KEY": KEY})
    got, text = rows(proc.stdout)["plugin order"]
    assert got == "PASS", proc.stdout + proc.stderr
    assert text.endswith("runs before material/blog (page_markdown), before and after rss (page_content)"), text


def test_a_site_offline_by_its_config_needs_no_key_and_no_connection(healthy, api, tmp_path):
    """mode: offline in the config: no key is fine, api_base is not connected to (here a port
    nothing listens on), and an ignored cache that holds no paid image is fine; once it
    holds one (`nanobanana generate` buys for an offline site too), the warning is back."""
    healthy.configure({"api_base": f"http://127.0.0.1:{closed_port()}/v1", "mode": "offline"},
                      site_url="https://example.org/")  # every page's card: absolute URLs
    _git_ignores_cache(healthy, api)
    proc = doctor(healthy)
    table = rows(proc.stdout)
    assert proc.returncode == 0 and {s for s, _ in table.values()} == {"PASS"}, proc.stdout
    assert "not needed: mode: offline in mkdocs.yml" in table["API key"][1]
    assert "not connected to" in table["api_base"][1]
    assert "holds no paid image" in table["cache in git"][1]
    healthy.configure({"api_base": api.base, "mode": "offline"})
    assert run([bin_path("nanobanana"), "generate", "--yes"], cwd=healthy.root, env={"NANOBANANA_API_KEY": KEY}
               ).returncode == 0
    assert rows(doctor(healthy).stdout)["cache in git"][0] == "WARN"
