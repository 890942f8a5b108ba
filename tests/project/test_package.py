"""The package as PyPI would get it: `python -m build` makes an sdist and a wheel (the
wheel from the sdist, so the sdist is complete), `twine check` passes, the metadata says
what a user checks before installing (license, Python versions, Framework :: MkDocs,
addresses that agree with the docs site), and the built wheel, installed into a fresh
virtual environment (not the editable install), builds the example blog and the docs
site. The release workflow passes actionlint.

The fresh environment is quick: it has no pip of its own and gets the wheel with
`--no-deps` from this environment's pip (`pip --python`); its dependencies come from this
environment's site-packages through a .pth line. That line only adds the folder to
sys.path: the .pth files in it (this environment's editable finder among them) are not
run, and the fresh site-packages comes first, so `import mkdocs_nanobanana` is the
wheel's; the test checks that it is.
"""

from __future__ import annotations

import email
import re
import shutil
import subprocess
import sys
import sysconfig
import tarfile
import zipfile
from pathlib import Path

import pytest
import yaml

import mkdocs_nanobanana
from tests.support.commands import REPO, bin_path, run
from tests.support.docs_site import docs_copy

VERSION = mkdocs_nanobanana.__version__
WORKFLOW = REPO / ".github" / "workflows" / "release.yml"


@pytest.fixture(scope="module")
def dist(tmp_path_factory) -> Path:
    """The sdist and the wheel, built once for this file (no isolation: this environment's
    setuptools, so no download)."""
    out = tmp_path_factory.mktemp("dist")
    run([sys.executable, "-m", "build", "--no-isolation", "--outdir", str(out), str(REPO)], cwd=out)
    return out


def _wheel(dist: Path) -> Path:
    return dist / f"mkdocs_nanobanana-{VERSION}-py3-none-any.whl"


def _metadata(dist: Path) -> email.message.Message:
    with zipfile.ZipFile(_wheel(dist)) as wheel:
        return email.message_from_bytes(wheel.read(f"mkdocs_nanobanana-{VERSION}.dist-info/METADATA"))


def test_build_makes_an_sdist_and_a_wheel_that_twine_passes(dist):
    sdist = dist / f"mkdocs_nanobanana-{VERSION}.tar.gz"
    assert sdist.is_file() and _wheel(dist).is_file()
    proc = run([sys.executable, "-m", "twine", "check", "--strict", str(sdist), str(_wheel(dist))], cwd=dist)
    assert proc.stdout.count("PASSED") == 2, proc.stdout
    with zipfile.ZipFile(_wheel(dist)) as wheel:
        names = wheel.namelist()
    assert "mkdocs_nanobanana/py.typed" in names
    assert f"mkdocs_nanobanana-{VERSION}.dist-info/licenses/LICENSE" in names
    assert not [n for n in names if n.startswith(("tests/", "docs/", "bench/"))]
    with tarfile.open(sdist) as tar:
        inside = {n.split("/", 1)[1] for n in tar.getnames() if "/" in n}
    # what the tests need to run from the sdist: the tests, the docs site, the example
    for name in ("LICENSE", "CHANGELOG.md", "mkdocs.yml", "docs/index.md", "tests/conftest.py",
                 "tests/cli/mkdocs-workflows/ci.yml", "example_site/mkdocs.yml", "scripts/generate_docs.py",
                 ".github/workflows/release.yml"):
        assert name in inside, name


def test_the_metadata_says_what_users_check(dist):
    meta = _metadata(dist)
    assert meta["Version"] == VERSION and meta["License-Expression"] == "MIT"
    assert meta["Requires-Python"] == ">=3.10"
    classifiers = meta.get_all("Classifier")
    for wanted in ("Development Status :: 4 - Beta", "Framework :: MkDocs", "Typing :: Typed",
                   "Topic :: Documentation", *(f"Programming Language :: Python :: 3.{m}" for m in (10, 11, 12, 13))):
        assert wanted in classifiers, wanted
    assert "mkdocs-plugin" in meta["Keywords"].split(",")
    urls = dict(u.split(", ", 1) for u in meta.get_all("Project-URL"))
    docs = yaml.load((REPO / "mkdocs.yml").read_text(encoding="utf-8"), Loader=yaml.BaseLoader)
    assert urls["Documentation"] == docs["site_url"]
    assert urls["Changelog"] == docs["site_url"] + "changelog/"
    assert urls["Source"] == docs["repo_url"] and urls["Issues"] == docs["repo_url"] + "/issues"
    assert (REPO / "LICENSE").read_text(encoding="utf-8").startswith("MIT License")


def test_the_changelog_has_this_version():
    text = (REPO / "CHANGELOG.md").read_text(encoding="utf-8")
    assert "[Keep a Changelog](https://keepachangelog.com/" in text
    assert re.search(rf"^## \[{re.escape(VERSION)}\] - (\d{{4}}-\d\d-\d\d|Unreleased)$", text, re.M)


def _fresh_venv(root: Path, dist: Path) -> Path:
    """A venv with the wheel alone installed, this environment's packages readable."""
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(root)], check=True, timeout=120)
    python = root / "bin" / "python"
    run([sys.executable, "-m", "pip", "--python", str(python), "install", "-q", "--no-deps", str(_wheel(dist))],
        cwd=root)
    purelib = Path(run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                       cwd=root).stdout.strip())
    (purelib / "_test_environment.pth").write_text(sysconfig.get_paths()["purelib"] + "\n", encoding="utf-8")
    return python


def test_the_wheel_builds_the_example_and_the_docs_in_a_fresh_venv(dist, tmp_path):
    python = _fresh_venv(tmp_path / "venv", dist)
    where = run([str(python), "-c", "import mkdocs_nanobanana.plugin as p, mkdocs_nanobanana as m; "
                                    "print(p.__file__); print(m.__version__)"], cwd=tmp_path)
    module, version = where.stdout.split()
    assert Path(module).is_relative_to(tmp_path / "venv") and version == VERSION, "the wheel's code, not the clone's"
    shutil.copytree(REPO / "example_site", tmp_path / "example_site", ignore=shutil.ignore_patterns("site", ".cache"))
    env = {"NO_MKDOCS_2_WARNING": "1", "PYTHONPATH": ""}
    proc = run([str(python), "-m", "mkdocs", "build", "-f", "example_site/mkdocs.yml"], cwd=tmp_path, env=env)
    assert "0 generated" in proc.stderr and (tmp_path / "example_site" / "site" / "index.html").is_file()
    root = docs_copy(tmp_path / "docs-site")
    run([str(python), "-m", "mkdocs", "build", "--strict"], cwd=root, env=env)
    assert (root / "site" / "reference" / "options" / "index.html").is_file()
    # the wheel's console script, on the same site
    doctor = run([str(tmp_path / "venv" / "bin" / "nanobanana"), "doctor"], cwd=root, env=env)
    assert doctor.stdout.rstrip().endswith("0 failed"), doctor.stdout


def _actionlint(path: Path) -> subprocess.CompletedProcess:
    return run([bin_path("actionlint"), "-no-color", str(path)], cwd=path.parent, check=False)


def test_the_release_workflow_passes_actionlint():
    proc = _actionlint(WORKFLOW)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_actionlint_catches_a_broken_workflow(tmp_path):
    """So the test above can fail: a matrix key that does not exist, a job that needs none."""
    broken = tmp_path / "release.yml"
    text = WORKFLOW.read_text(encoding="utf-8").replace("${{ matrix.python }}", "${{ matrix.pyhton }}")
    broken.write_text(text.replace("needs: [test, docs, package]", "needs: [test, docs, wheel]"), encoding="utf-8")
    proc = _actionlint(broken)
    assert proc.returncode == 1
    assert "pyhton" in proc.stdout and "wheel" in proc.stdout


def test_the_release_workflow_tests_builds_and_publishes_on_a_tag():
    wf = yaml.safe_load(WORKFLOW.read_text(encoding="utf-8"))
    on = wf.get("on", wf.get(True))  # YAML 1.1 reads `on` as true
    assert on["push"]["tags"] == ["v*"] and "pull_request" in on
    jobs = wf["jobs"]
    assert jobs["test"]["strategy"]["matrix"]["python"] == ["3.10", "3.11", "3.12", "3.13"]
    assert any(s.get("run") == ".ci/run" for s in jobs["test"]["steps"])
    assert any(s.get("run") == "mkdocs build --strict" for s in jobs["docs"]["steps"])
    publish = jobs["publish"]
    assert set(publish["needs"]) == {"test", "docs", "package"} and publish["if"].startswith("startsWith(github.ref")
    assert publish["permissions"] == {"id-token": "write"} and publish["environment"]["name"] == "pypi"
    assert [s["uses"] for s in publish["steps"]][-1].startswith("pypa/gh-action-pypi-publish@")
    assert not any("password" in s.get("with", {}) for s in publish["steps"]), "trusted publishing: no token"


def test_the_catalog_entry_names_this_package(dist):
    """The MkDocs catalog entry the docs offer (docs/development.md) names the package
    PyPI gets and the repository the docs site links."""
    text = (REPO / "docs" / "development.md").read_text(encoding="utf-8")
    block = text.split("<!-- catalog-entry -->", 1)[1].split("<!-- /catalog-entry -->", 1)[0]
    [entry] = yaml.safe_load(block.split("```yaml", 1)[1].split("```", 1)[0])
    docs = yaml.load((REPO / "mkdocs.yml").read_text(encoding="utf-8"), Loader=yaml.BaseLoader)
    assert entry["pypi_id"] == _metadata(dist)["Name"]
    assert "https://github.com/" + entry["github_id"] == docs["repo_url"]
    assert entry["labels"] == ["plugin"] and entry["category"] == "charts"
    assert set(entry) == {"name", "github_id", "pypi_id", "labels", "category"}  # the fields projects.yaml uses
