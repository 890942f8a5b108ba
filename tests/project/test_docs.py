"""The docs site (root mkdocs.yml, docs/): it builds with `mkdocs build --strict`, with
this plugin (offline: its figures and cards are placeholders, nothing is paid),
`nanobanana doctor` finds nothing to fix in it, and its generated pages are what the code
makes now (scripts/generate_docs.py --check), so the references cannot drift."""

from __future__ import annotations

import json
import shutil
import sys

import jsonschema
import yaml

from tests.support.commands import REPO, bin_path, run
from tests.support.docs_site import built_page, docs_copy, nav_pages
from tests.support.html import figures, tags


def test_docs_build_strict_with_the_plugin(tmp_path):
    root = docs_copy(tmp_path / "docs-site")
    proc = run([bin_path("mkdocs"), "build", "--strict"], cwd=root, env={"NO_MKDOCS_2_WARNING": "1"})
    site = root / "site"
    pages = nav_pages(root / "mkdocs.yml")
    assert {"index.md", "reference/options.md", "reference/cli.md", "changelog.md", "performance.md"} <= set(pages)
    assert not [p for p in pages if not built_page(site, p).is_file()]
    # it dogfoods the plugin: a figure from the home page's directive, a card for every page
    assert "0 generated (0 credits" in proc.stderr and "placeholders" in proc.stderr, proc.stderr
    home = built_page(site, "index.md").read_text(encoding="utf-8")
    assert figures(home) and "<picture" in home
    for page in pages:
        head = tags(built_page(site, page).read_text(encoding="utf-8"))
        card = [c for c in head.get("og:image", []) if "/assets/nanobanana/social/" in c]
        assert card, page
    # the schema editors are pointed at is published with the docs, as the repository has it
    for name in ("schema.json", "schema/plugin.json"):
        assert (site / name).read_text(encoding="utf-8") == (REPO / "docs" / name).read_text(encoding="utf-8")
    # the included root files are in the pages, not copied by hand
    changelog = built_page(site, "changelog.md").read_text(encoding="utf-8")
    assert "Keep a Changelog" in changelog and "0.1.0" in changelog


def test_doctor_is_clean_on_the_docs_site(tmp_path):
    root = docs_copy(tmp_path / "docs-site")
    proc = run([bin_path("nanobanana"), "doctor"], cwd=root)
    assert proc.stdout.rstrip().endswith("0 warning(s), 0 failed"), proc.stdout
    assert "release.yml pins 3.12 (job docs)" in proc.stdout, "the release workflow's docs job is judged"


def test_generated_pages_are_what_the_code_makes():
    proc = run([sys.executable, "scripts/generate_docs.py", "--check"], cwd=REPO, check=False)
    assert proc.returncode == 0, proc.stderr


def test_a_stale_generated_page_fails_the_check(tmp_path):
    """A hand edit (or a new option or command without regenerating) is caught, by name."""
    shutil.copytree(REPO / "scripts", tmp_path / "scripts")
    shutil.copytree(REPO / "docs", tmp_path / "docs")
    cli = tmp_path / "docs" / "reference" / "cli.md"
    cli.write_text(cli.read_text(encoding="utf-8").replace("--json", "--jsn"), encoding="utf-8")
    (tmp_path / "docs" / "schema.json").unlink()
    proc = run([sys.executable, "scripts/generate_docs.py", "--check"], cwd=tmp_path, check=False,
               env={"PYTHONPATH": str(REPO)})
    assert proc.returncode == 1
    assert "docs/reference/cli.md is not what the code makes" in proc.stderr
    assert "docs/schema.json is not what the code makes" in proc.stderr
    assert "options.md" not in proc.stderr
    run([sys.executable, "scripts/generate_docs.py"], cwd=tmp_path, env={"PYTHONPATH": str(REPO)})
    assert cli.read_text(encoding="utf-8") == (REPO / "docs" / "reference" / "cli.md").read_text(encoding="utf-8")


def test_the_references_name_every_option_and_command():
    """What the generated pages list, checked against the hosts' own objects."""
    from mkdocs_nanobanana.cli.commands import main
    from mkdocs_nanobanana.hosts.mkdocs.config import NanobananaConfig

    options = (REPO / "docs" / "reference" / "options.md").read_text(encoding="utf-8")
    for name, _ in NanobananaConfig._schema:
        assert f"`{name}`" in options or f"`{name}.`" in options or f"`{name}:`" in options, name
    cli = (REPO / "docs" / "reference" / "cli.md").read_text(encoding="utf-8")
    for name, command in main.commands.items():
        assert f"## `nanobanana {name}`" in cli, name
        for param in command.params:
            for opt in getattr(param, "opts", []):
                if opt.startswith("-"):
                    assert f"`{opt}" in cli or f", {opt}" in cli, (name, opt)


def test_the_docs_own_config_passes_the_published_schema():
    """The docs' mkdocs.yml is checked against docs/schema/plugin.json as an editor would;
    a typo in it would not be."""
    schema = json.loads((REPO / "docs" / "schema" / "plugin.json").read_text(encoding="utf-8"))
    validator = jsonschema.Draft7Validator(schema)
    config = yaml.safe_load((REPO / "mkdocs.yml").read_text(encoding="utf-8"))  # it has no !ENV or !!python tag
    item = next(p for p in config["plugins"] if isinstance(p, dict) and "nanobanana" in p)
    assert not list(validator.iter_errors(item))
    assert list(validator.iter_errors({"nanobanana": {**item["nanobanana"], "max_credit": 10}}))
    # the whole-file schema the root mkdocs.yml's first line names: the same check, other keys left alone
    whole = json.loads((REPO / "docs" / "schema.json").read_text(encoding="utf-8"))
    jsonschema.Draft7Validator.check_schema(whole)
    first_line = (REPO / "mkdocs.yml").read_text(encoding="utf-8").splitlines()[0]
    assert first_line == "# yaml-language-server: $schema=docs/schema.json"
    assert not list(jsonschema.Draft7Validator(whole).iter_errors(config))
    config["plugins"] = ["search", {"nanobanana": {**item["nanobanana"], "quality": 500}}]
    assert [e.validator for e in jsonschema.Draft7Validator(whole).iter_errors(config)]
