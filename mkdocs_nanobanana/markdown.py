"""The directive as a Python-Markdown extension, at the module path mkdocs.yml and
zensical.toml name it by (``markdown_extensions: [mkdocs_nanobanana.markdown]``, or the
entry point name ``nanobanana``). The extension itself is hosts/markdown/extension.py."""

from .hosts.markdown.extension import NanobananaExtension, makeExtension

__all__ = ["NanobananaExtension", "makeExtension"]
