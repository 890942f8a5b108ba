"""The Python-Markdown extension, for Zensical and plain Python-Markdown: the extension
(extension), one build per process (host), its options (options), what Zensical tells
it (zensical), the names it is listed under (names), and the Pygments lexer that says
what to add where the extension is missing (lexer).

May import: core, store, imaging, cards, build. Never MkDocs.
"""
