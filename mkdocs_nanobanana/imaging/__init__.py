"""Pixels into published files: resized and re-encoded copies (copies), the
``<figure><picture>`` that shows them (markup), what an image's box shows while it loads
(backdrops), and the provenance metadata written into every file (provenance).

May import: core, store.
"""
