"""The names mkdocs.yml may list the directive's Markdown extension under. Apart from the
extension itself, so that the MkDocs plugin can tell them (and remove the extension
where it does the work) without importing the extension's host."""

from __future__ import annotations

__all__: list[str] = []


#: The names mkdocs.yml may list the directive's own Markdown extension under (hosts/markdown/extension.py).
#: Here, not in zensical.py, so that the plugin can tell them without importing it.
EXTENSION_NAMES = ("mkdocs_nanobanana.markdown", "nanobanana")
