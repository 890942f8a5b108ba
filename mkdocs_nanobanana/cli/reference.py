"""The command line reference in Markdown, made from the click commands themselves (their
usage line, help text and options, as ``--help`` prints them), so the docs say what the
command does. The docs site's page docs/reference/cli.md is this function's output
(scripts/generate_docs.py writes it, a test compares it).
"""

from __future__ import annotations

import inspect

import click

from .commands import main

__all__: list[str] = []


def _help_blocks(text: str) -> list[str]:
    """A command's help as Markdown: its paragraphs, and click's ``\\b`` blocks (kept as
    written, the Examples) as a shell code block under their first line."""
    out = []
    for paragraph in inspect.cleandoc(text).split("\n\n"):
        if paragraph.startswith("\b"):
            title, _, body = paragraph.removeprefix("\b").strip("\n").partition("\n")
            out += [f"{title}", "", "```sh", inspect.cleandoc(body), "```"]
        else:
            out.append(" ".join(line.strip() for line in paragraph.splitlines()))
        out.append("")
    return out


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _options(command: click.Command, ctx: click.Context) -> list[str]:
    """A table of the options as --help lists them (click's own help records)."""
    rows = [record for param in command.get_params(ctx) if (record := param.get_help_record(ctx))]
    if not rows:
        return []
    out = ["| Option | |", "|---|---|"]
    out += [f"| `{_cell(names)}` | {_cell(about)} |" for names, about in rows]
    return out + [""]


def _command(command: click.Command, ctx: click.Context, heading: str) -> list[str]:
    usage = " ".join(command.collect_usage_pieces(ctx))
    out = [f"{heading} `{ctx.command_path}`", "", "```text", f"{ctx.command_path} {usage}", "```", ""]
    out += _help_blocks(command.help or "")
    return out + _options(command, ctx)


def cli_reference(heading: str = "##") -> str:
    """Every command of ``nanobanana``: the group (its options come before the command or
    after it), then each command in the order it is defined."""
    root = click.Context(main, info_name="nanobanana", **main.context_settings)  # -h, --help
    out = _command(main, root, heading)
    for name, command in main.commands.items():
        ctx = click.Context(command, info_name=name, parent=root, **command.context_settings)
        out += _command(command, ctx, heading)
    return "\n".join(out).rstrip("\n") + "\n"
