"""Issue 32 item 4: one table of options (core/options.py). Both hosts' options are made
from it (names and defaults), its defaults are the Settings', and the options reference
and the JSON schema the docs publish are made from it too."""

from __future__ import annotations

import re
from dataclasses import fields
from typing import Any

import jsonschema
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mkdocs_nanobanana.core.option_docs import options_reference, plugin_schema
from mkdocs_nanobanana.core.option_kinds import OptionError
from mkdocs_nanobanana.core.options import (
    BOTH,
    GROUPS,
    MARKDOWN,
    MKDOCS,
    OPTIONS,
    SECTIONS,
    check_options,
    rows_of,
    sections_of,
)
from mkdocs_nanobanana.core.settings import AvifSettings, ProvenanceSettings, RefSending, Settings, build_settings
from mkdocs_nanobanana.hosts.markdown.extension import NanobananaExtension
from mkdocs_nanobanana.hosts.markdown.options import HOST_OPTION_NAMES
from mkdocs_nanobanana.hosts.mkdocs.config import NanobananaConfig, TableConfig


def table_defaults(host: str) -> dict[str, Any]:
    """What the table says a host's options are by default, read row by row."""
    out: dict[str, Any] = {o.key: o.initial() for o in rows_of("", host)}
    for s in sections_of(host):
        out[s.name] = {o.key: o.initial() for o in rows_of(s.name, host)}
    return out


def plain(value: Any) -> Any:
    """A MkDocs Config (a mapping, sections too) as plain dicts."""
    return {k: plain(v) for k, v in value.items()} if hasattr(value, "items") else value


def test_the_plugins_config_classes_are_the_tables_rows():
    config = NanobananaConfig()
    config.load_dict({})
    failed, warnings = config.validate()
    assert failed == [] and warnings == []
    assert [name for name, _ in NanobananaConfig._schema] == list(table_defaults(MKDOCS))
    assert plain(config) == table_defaults(MKDOCS)
    for s in sections_of(MKDOCS):
        schema = TableConfig._by_section[s.name]._schema
        assert [name for name, _ in schema] == [o.key for o in rows_of(s.name, MKDOCS)], s.name


def test_the_extensions_options_are_the_tables_rows_and_its_own():
    configs = NanobananaExtension().getConfigs()
    assert list(configs) == [*(o.key for o in rows_of("", MARKDOWN)), *HOST_OPTION_NAMES,
                             *(s.name for s in sections_of(MARKDOWN))]
    assert {k: v for k, v in configs.items() if k not in HOST_OPTION_NAMES} == table_defaults(MARKDOWN)
    assert all(configs[name] is None for name in HOST_OPTION_NAMES)
    # the plugin's alone: social cards (an extension never sees <head>)
    assert {o.name for o in OPTIONS if MARKDOWN not in o.hosts} == {o.name for o in OPTIONS if o.section == "social"}
    assert "social" not in configs


def test_the_defaults_are_the_settings_defaults(tmp_path):
    """Written once, in the Settings dataclasses: the table reads them, and Settings built
    from the table's defaults have the dataclasses' own values."""
    (tmp_path / "docs").mkdir()
    built = build_settings(check_options({}), config_file=str(tmp_path / "mkdocs.yml"), docs_dir=str(tmp_path / "docs"),
                           site_dir=str(tmp_path / "site"), environ={})
    for f in fields(Settings):
        if f.name in ("quality", "widths", "formats", "concurrency", "retries", "max_credits", "timeout",
                      "answer_timeout", "serve_debounce", "backdrop", "output_dir", "api_key_env", "provider",
                      "api_base", "remote_cache", "sizes"):
            assert getattr(built, f.name) == f.default, f.name
    assert (built.avif, built.provenance, built.ref_images) == (AvifSettings(), ProvenanceSettings(), RefSending())
    assert built.defaults.ratio == "1:1" and built.defaults.variant == "standard"


def test_every_row_is_well_formed():
    names = [o.name for o in OPTIONS]
    assert len(names) == len(set(names))
    for o in OPTIONS:
        assert o.group in GROUPS and set(o.hosts) <= set(BOTH) and o.hosts, o.name
        assert o.doc and "\n" not in o.doc and len(o.doc) < 140, o.name
        assert o.section in {"", *(s.name for s in SECTIONS)}, o.name
        # a default its own kind refused would be a bug no user could fix
        assert o.default is None or o.check(o.initial()) == o.initial(), o.name
    for s in SECTIONS:
        assert rows_of(s.name), s.name
        assert all(set(o.hosts) <= set(s.hosts) for o in rows_of(s.name)), s.name


def test_the_check_converts_as_settings_take_values():
    checked = check_options({"ratio": 969, "timeout": 5, "output_dir": "./img//x/", "api_base": " https://a.example "})
    assert (checked["ratio"], checked["timeout"], checked["output_dir"]) == ("16:9", 5.0, "img/x")
    assert checked["api_base"] == "https://a.example" and isinstance(checked["timeout"], float)


@pytest.fixture(scope="module")
def validator() -> jsonschema.Draft7Validator:
    schema = plugin_schema()
    jsonschema.Draft7Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft-07/schema"
    return jsonschema.Draft7Validator(schema)


def test_the_schema_accepts_the_defaults(validator):
    for entry in ("nanobanana", {"nanobanana": {}}, {"nanobanana": table_defaults(MKDOCS)},
                  {"nanobanana": {"ratio": 969, "placeholders": None, "api_base": "https://api.example.com/v1",
                                  "social": {"logo": False, "font": "fonts/a.ttf"}}}):
        assert list(validator.iter_errors(entry)) == [], entry


@pytest.mark.parametrize("options", [
    {"quality": 500}, {"concurrency": 0}, {"retries": -3}, {"widths": [-5]}, {"widths": []}, {"timeout": -1},
    {"formats": ["gif"]}, {"concurrency": True}, {"mode": "sometimes"}, {"api_key_env": "sk-live-123"},
    {"api_base": "ftp://api.example.com"}, {"api_base": "https://"}, {"output_dir": "../outside"},
    {"output_dir": "/abs"}, {"avif": {"speed": 11}}, {"provenance": {"include_promt": True}},
    {"max_credit": 10}, {"social": {"layout": "sideways"}}, {"avif": "fast"},
])
def test_the_schema_refuses_what_the_table_refuses(validator, options):
    with pytest.raises(OptionError):
        check_options(options)
    assert list(validator.iter_errors({"nanobanana": options})), options


def test_the_reference_has_a_table_per_group_and_every_option_once():
    text = options_reference()
    assert re.findall(r"^### (.+)$", text, re.M) == [g.title for g in GROUPS]
    for o in OPTIONS:
        rows = re.findall(rf"^\| `{re.escape(o.name)}` \| (.+?) \| (.+?) \| ", text, re.M)
        assert len(rows) == 1, o.name
        assert rows[0][0] == o.kind.expected.replace("<", "&lt;").replace(">", "&gt;"), o.name
    assert "| `quality` | a whole number from 1 to 100 | `82` |" in text
    assert "| `social.font` | a .ttf or .otf file, relative to mkdocs.yml | unset |" in text
    assert "<img>" not in text and "&lt;img&gt;" in text  # a word in a cell, not HTML
    cards = text.split("### Social cards", 1)[1]
    assert "The MkDocs plugin only" in cards and text.count("The MkDocs plugin only") == 1


values = st.recursive(
    st.none() | st.booleans() | st.integers(-10**6, 10**6) | st.floats() | st.text(max_size=12)
    | st.sampled_from(["webp", "gif", "16:9", "https://a.example", "NAME_1", "../x", "blur", "auto"]),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=2),
    max_leaves=6,
)


@settings(max_examples=300, deadline=None)
@given(option=st.sampled_from(OPTIONS), value=values)
def test_both_hosts_agree_on_any_value(option, value):
    """Whatever a user writes, the plugin's Config and the extension's check take it as
    the same value or refuse it in the same words."""
    given_options: dict[str, Any] = {option.section: {option.key: value}} if option.section else {option.key: value}
    config = NanobananaConfig()
    config.load_dict(given_options)
    failed, _ = config.validate()
    try:
        checked = check_options(given_options)
    except OptionError as exc:
        assert [(name, str(error)) for name, error in failed] == [(exc.option, exc.problem)]
        return
    assert failed == []
    assert plain(config) == checked
