"""The MkDocs and ProperDocs plugin at the path its entry point names
(``mkdocs_nanobanana.plugin:NanobananaPlugin``). The adapter itself is
hosts/mkdocs/plugin.py."""

from .hosts.mkdocs.plugin import NanobananaPlugin

__all__ = ["NanobananaPlugin"]
