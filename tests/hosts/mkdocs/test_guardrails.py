"""Issue 20 items 1 and 2: placeholders never reach production by accident, and each
reason a build generates nothing gets its own sentence and its own fix. Real `mkdocs`
processes; the key is never set unless a test says so, and no request leaves 127.0.0.1."""

from __future__ import annotations

import subprocess

import pytest

from tests.support.commands import bin_path, run
from tests.support.directives import directive
from tests.support.live import KEY


def _site(site, plugin: dict | None = None):
    site.configure(plugin or {})
    site.page("index.md", "# Home\n")
    site.page("posts/a.md", "# A\n\nText.\n\n" + directive("A lighthouse"))
    site.page("posts/b.md", "# B\n\n" + directive("A harbour") + directive("Bad", num=12))
    return site


def _git(site):
    for cmd in (["git", "init", "-q", "-b", "main"], ["git", "add", "-A"],
                ["git", "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "site"]):
        subprocess.run(cmd, cwd=site.root, check=True, capture_output=True)


def test_gh_deploy_refuses_to_publish_placeholders(site):
    """gh-deploy publishes: with no key, its build fails before anything is pushed, and
    the error names every placeholder page:line and the three fixes."""
    _git(_site(site))
    proc = run([bin_path("mkdocs"), "gh-deploy", "--no-history"], cwd=site.root, check=False)
    assert proc.returncode != 0
    err = proc.stderr
    assert "3 placeholder(s) would be published, and placeholders is 'fail'" in err
    for where in ("docs/posts/a.md:5", "docs/posts/b.md:3", "docs/posts/b.md:9"):
        assert f"  {where}: " in err, err
    assert "NANOBANANA_API_KEY is not set (mode: auto)" in err
    assert "nanobanana generate" in err and "placeholders: allow" in err and "NANOBANANA_PLACEHOLDERS=allow" in err
    branches = subprocess.run(["git", "branch"], cwd=site.root, capture_output=True, text=True).stdout
    assert "gh-pages" not in branches  # nothing was committed for publishing


@pytest.mark.parametrize("how", ["config", "environment"])
def test_gh_deploy_publishes_placeholders_when_allowed(site, how):
    _git(_site(site, {"placeholders": "allow"} if how == "config" else {}))
    env = {"NANOBANANA_PLACEHOLDERS": "allow"} if how == "environment" else {}
    proc = run([bin_path("mkdocs"), "gh-deploy", "--no-history"], cwd=site.root, env=env, check=False)
    assert "would be published" not in proc.stderr
    branches = subprocess.run(["git", "branch"], cwd=site.root, capture_output=True, text=True).stdout
    assert "gh-pages" in branches  # built and committed; only the push (no remote here) fails


@pytest.mark.parametrize("plugin, env, ok", [
    ({"placeholders": "fail"}, {}, False),
    ({}, {"NANOBANANA_PLACEHOLDERS": "fail"}, False),
    ({"placeholders": "fail"}, {"NANOBANANA_PLACEHOLDERS": "warn"}, True),  # the environment wins
    ({}, {}, True),  # build warns by default
])
def test_build_follows_the_policy(site, plugin, env, ok):
    _site(site, plugin)
    proc = run([bin_path("mkdocs"), "build"], cwd=site.root, env=env, check=False)
    assert (proc.returncode == 0) == ok, proc.stderr
    assert ("would be published" in proc.stderr) != ok


def test_allow_keeps_strict_builds_green_and_warn_does_not(site):
    """A fork's PR build (no key) with placeholders allowed passes --strict: the summary
    still counts them, but nothing warns."""
    _site(site, {"placeholders": "allow"})
    site.page("posts/b.md", "# B\n\n" + directive("A harbour"))
    proc = run([bin_path("mkdocs"), "build", "--strict"], cwd=site.root, check=False)
    assert proc.returncode == 0, proc.stderr
    assert "2 placeholders" in proc.stderr
    _site(site, {"placeholders": "warn"})
    site.page("posts/b.md", "# B\n\n" + directive("A harbour"))
    assert run([bin_path("mkdocs"), "build", "--strict"], cwd=site.root, check=False).returncode != 0


def test_a_bad_policy_in_the_environment_is_named(site):
    _site(site)
    proc = run([bin_path("mkdocs"), "build"], cwd=site.root, env={"NANOBANANA_PLACEHOLDERS": "never"}, check=False)
    assert proc.returncode != 0 and "NANOBANANA_PLACEHOLDERS='never' is not a policy" in proc.stderr


@pytest.mark.parametrize("plugin, env, cause, fix", [
    ({}, {}, "NANOBANANA_API_KEY is not set (mode: auto)", "Export NANOBANANA_API_KEY (the API key)"),
    ({}, {"NANOBANANA_MODE": "offline", "NANOBANANA_API_KEY": KEY}, "NANOBANANA_MODE=offline is set in the environment",
     "Unset NANOBANANA_MODE"),
    ({"mode": "offline"}, {"NANOBANANA_API_KEY": KEY}, "mode: offline is set in mkdocs.yml",
     "Set mode: auto in mkdocs.yml"),
])
def test_each_reason_for_placeholders_has_its_own_fix(site, plugin, env, cause, fix):
    _site(site, {**plugin, "api_base": "http://127.0.0.1:9/v1"})  # never reached: nothing is generated
    site.page("posts/b.md", "# B\n\n" + directive("A harbour"))
    proc = run([bin_path("mkdocs"), "build"], cwd=site.root, env=env)
    said = [line for line in proc.stderr.splitlines() if "image(s) are placeholders" in line]
    assert len(said) == 1 and cause in said[0] and fix in said[0], proc.stderr
    assert "Set NANOBANANA_API_KEY" not in proc.stderr or not env.get("NANOBANANA_API_KEY")
