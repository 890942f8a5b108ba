"""The options table (options.py) as documents: the options reference in Markdown, and
the JSON schema of the plugin's entry in mkdocs.yml. Pure functions of the table, so
the docs say what the hosts check; the docs site writes their results into its pages
and its published schema.
"""

from __future__ import annotations

import html
import json
from typing import Any

from .options import GROUPS, MARKDOWN, MKDOCS, OPTIONS, Option, rows_of, sections_of

__all__: list[str] = []

#: The JSON Schema draft Material for MkDocs' schemas use (yaml-language-server reads it).
DRAFT_07 = "https://json-schema.org/draft-07/schema"


def _cell(text: str) -> str:
    """Text for a Markdown table cell: no raw HTML (<img> is a word here), no stray column."""
    return html.escape(text, quote=False).replace("|", "\\|")


def _default(option: Option) -> str:
    value = option.initial()
    return "unset" if value is None else f"`{_cell(json.dumps(value))}`"


def options_reference(heading: str = "###") -> str:
    """The options reference: per group (in the table's order) a heading, its line of
    doc and a table of its options (name, what it takes, default, doc), then what each
    of its sections is. Options of the plugin alone are marked, or the group is."""
    out: list[str] = []
    for group in GROUPS:
        rows = [o for o in OPTIONS if o.group is group]
        plugin_only = all(MARKDOWN not in o.hosts for o in rows)
        out += [f"{heading} {group.title}", "", _cell(group.doc), ""]
        if plugin_only:
            out += ["*The MkDocs plugin only: the Markdown extension checks these options and ignores them.*", ""]
        out += ["| Option | Takes | Default | |", "|---|---|---|---|"]
        for o in rows:
            note = " *(MkDocs plugin only)*" if MARKDOWN not in o.hosts and not plugin_only else ""
            out.append(f"| `{o.name}` | {_cell(o.kind.expected)} | {_default(o)} | {_cell(o.doc)}{note} |")
        sections = [s for s in sections_of() if s.group is group]
        if sections:
            out += [""] + [f"- `{s.name}:` {_cell(s.doc)}" for s in sections]
        out.append("")
    return "\n".join(out)


def _property(option: Option, docs_url: str | None) -> dict[str, Any]:
    kind = option.kind.schema()
    default = option.initial()
    if default is None:  # unset is a value the option takes
        kind = {"anyOf": [kind, {"type": "null"}]}
    about = option.doc + (f"\n\n{docs_url}" if docs_url else "")
    return {"title": option.doc, "markdownDescription": about, **kind,
            **({} if default is None else {"default": default})}


def _object(section: str, docs_url: str | None) -> dict[str, Any]:
    properties = {o.key: _property(o, docs_url) for o in rows_of(section, MKDOCS)}
    if not section:
        for s in sections_of(MKDOCS):
            properties[s.name] = {"title": s.doc, "markdownDescription": s.doc, **_object(s.name, docs_url)}
    return {"type": "object", "properties": properties, "additionalProperties": False}


def plugin_schema(docs_url: str | None = None) -> dict[str, Any]:
    """The JSON schema (draft-07) of the plugin's item under ``plugins:`` in mkdocs.yml,
    shaped as Material for MkDocs publishes its plugins' (docs/schema/plugins/*.json):
    the bare name, or a mapping from the name to its options. ``docs_url``, the options
    reference's address, is added to every description."""
    about = docs_url or "Images generated from ```nanobanana directives at build time"
    return {
        "$schema": DRAFT_07,
        "title": "nanobanana: images generated at build time",
        "oneOf": [
            {"markdownDescription": about, "const": "nanobanana"},
            {"type": "object", "properties": {"nanobanana": {"markdownDescription": about, **_object("", docs_url)}},
             "additionalProperties": False},
        ],
    }


def _yaml_value(value: Any) -> str:
    """A default as YAML writes it in a flow: JSON is YAML, but for what needs no quotes."""
    if value is None:
        return "null"
    if isinstance(value, str) and value and value.replace("_", "").replace("-", "").replace("/", "").replace(".", "") \
            .isalnum() and value not in ("true", "false", "null", "yes", "no", "on", "off"):
        return value
    return json.dumps(value, ensure_ascii=False)


def options_yaml(indent: str = "      ") -> str:
    """Every option of the plugin with its default, as it sits under ``- nanobanana:`` in
    mkdocs.yml, each with its doc as a comment: a block to copy from, made from the table
    so it never drifts from the defaults."""
    rows: list[tuple[str, str]] = []  # (the YAML line, its comment)

    def add(section: str, depth: str) -> None:
        for o in rows_of(section, MKDOCS):
            rows.append((f"{depth}{o.key}: {_yaml_value(o.initial())}", o.doc))
        for s in (sections_of(MKDOCS) if not section else ()):
            rows.append((f"{depth}{s.name}:", s.doc))
            add(s.name, depth + "  ")

    add("", indent)
    lines = ["plugins:", "  - nanobanana:"]
    lines += [f"{line}  # {doc}" for line, doc in rows]
    return "\n".join(lines) + "\n"


def mkdocs_schema(docs_url: str | None = None) -> dict[str, Any]:
    """A JSON schema (draft-07) of a whole mkdocs.yml that checks the nanobanana item of its
    ``plugins:`` against the plugin's schema (held inside it, so an editor needs no second
    file) and lets every other item and key be: for a ``# yaml-language-server: $schema=...``
    line in a site that uses no other schema."""
    return {
        "$schema": DRAFT_07,
        "title": "mkdocs.yml with the nanobanana plugin",
        "type": "object",
        "definitions": {"nanobanana": {k: v for k, v in plugin_schema(docs_url).items() if k != "$schema"}},
        "properties": {
            "plugins": {
                "type": "array",
                "items": {
                    "if": {"anyOf": [{"const": "nanobanana"},
                                     {"type": "object", "required": ["nanobanana"]}]},
                    "then": {"$ref": "#/definitions/nanobanana"},
                },
            },
        },
    }
