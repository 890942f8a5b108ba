"""MkDocs plugin that turns image-generation directives into responsive images.

The public surface is small: the plugin (``mkdocs_nanobanana.plugin``), the Markdown
extension (``mkdocs_nanobanana.markdown``), the ``nanobanana`` command, the provider
interface (``mkdocs_nanobanana.providers``), the settings and directive values, and one
exception base. ARCHITECTURE.md lists every exported name; every other module is
internal (its ``__all__`` is empty).
"""

from .core.errors import NanobananaError

__all__ = ["NanobananaError", "__version__"]

__version__ = "0.1.0"
