"""MkDocs plugin that turns image-generation directives into responsive images."""

__version__ = "0.1.0"
