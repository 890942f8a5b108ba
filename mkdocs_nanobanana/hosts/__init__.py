"""The adapters: each translates one host's objects and hooks into the build's session
calls, and nothing more. mkdocs/: MkDocs and ProperDocs (the plugin); markdown/: the
Python-Markdown extension, for Zensical and plain Python-Markdown.

May import: core, store, imaging, cards, build.
"""
