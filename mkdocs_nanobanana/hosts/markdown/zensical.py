"""What the Markdown extension learns from Zensical, and the one thing it does for it.

Found by experiment with zensical 0.0.73 (see docs/hosts.md, "With Zensical"):

- Zensical renders each page with Python-Markdown and puts a ``ContextPreprocessor``
  (``zensical.extensions.context``) in every Markdown instance: the page's source path,
  its URL (``a/``, or ``a.html`` without use_directory_urls) and the whole config
  (root_dir, docs_dir, site_dir as written). So figures get page-relative URLs, as under
  MkDocs, and files are written into Zensical's site_dir while the page renders.
- Every build empties site_dir first, then renders only the pages whose source changed
  since the last build: the others come from its page cache (``<root>/.cache/<n>``, JSON),
  with no Python call at all. A page cached with our figures would come back without the
  files they point at. So when a build ends, the cache entries that hold a figure are
  forgotten (``forget_cached_pages``): the next build renders those pages again, which
  costs a few hard links from our own cache, never an API call.
- It runs no MkDocs plugin it has not reimplemented, silently. It does not import a
  package for naming it under ``plugins:``, so nothing of ours runs there; but a
  directive left as code is highlighted, and Pygments then loads the lexer plugins
  installed (lexer.py): that is where the missing extension is reported.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Callable
from dataclasses import field
from pathlib import Path
from typing import Any

from ...core.frozen import frozen
from ...imaging.html_images import fix_srcsets
from .names import EXTENSION_NAMES
from .options import Where

__all__: list[str] = []

#: How a figure of ours starts, and a site's own picture (responsive_images), as they
#: stand in Zensical's JSON cache entries.
_FIGURE_IN_JSON = (b'<figure class=\\"nanobanana', b'<picture class=\\"nanobanana-picture')


#: Zensical's theme lays pages out as Material does (its templates are Material's, in
#: both variants): the same column at every window, measured in headless Chromium at 390
#: to 2000 px (tests/hosts/markdown/test_zensical_own_images.py), so Material's sizes.
THEME_FAMILY = "material"


@frozen
class ZensicalPage:
    path: str  # relative to docs_dir, POSIX: what MkDocs calls src_uri
    url: str  # "", "a/", "sub/b/" or "a.html": MkDocs' page.url
    build: int  # the config object's id: Zensical parses its config afresh for every build
    where: Where
    root_dir: str
    meta: dict = field(default_factory=dict)  # its front matter, as Zensical resolved it


def page_of(md: Any) -> ZensicalPage | None:
    """The page Zensical is rendering with ``md``, or None under another host."""
    for processor in md.preprocessors:
        if type(processor).__name__ == "ContextPreprocessor" and type(processor).__module__.startswith("zensical"):
            page, config = processor.page, processor.config
            root = str(config["root_dir"])
            where = Where(config_file=config_file(root), docs_dir=_under(root, config["docs_dir"]),
                          site_dir=_under(root, config["site_dir"]), site_name=str(config.get("site_name") or ""),
                          theme=THEME_FAMILY)
            meta = getattr(page, "meta", None)
            return ZensicalPage(path=str(page.path).replace(os.sep, "/"), url=str(page.url), build=id(config),
                                where=where, root_dir=root, meta=meta if isinstance(meta, dict) else {})
    return None


def _under(root: str, path: str) -> str:
    return os.path.normpath(os.path.join(root, str(path)))


def config_file(root: str) -> str:
    """The config file Zensical reads in ``root``: zensical.toml first, as it does."""
    for name in ("zensical.toml", "mkdocs.yml", "mkdocs.yaml"):
        if os.path.exists(os.path.join(root, name)):
            return os.path.join(root, name)
    return os.path.join(root, "zensical.toml")


def forget_cached_pages(root_dir: str) -> int | None:
    """Drop Zensical's cache entries that hold one of our figures; how many, or None if
    its page cache is not where zensical 0.0.x keeps it."""
    cache = Path(root_dir, ".cache")
    if not cache.is_dir():
        return None
    forgotten = 0
    for entry in cache.iterdir():
        if entry.name.isdigit() and entry.is_file():
            try:
                data = entry.read_bytes()
                if any(marker in data for marker in _FIGURE_IN_JSON):
                    entry.unlink()
                    forgotten += 1
            except OSError:  # another build removed it meanwhile
                continue
    return forgotten


def blog_dirs() -> list[str]:
    """The folders (in site_dir) of the blogs Zensical builds: each `blog` plugin's
    blog_dir, "blog" unless it says."""
    config = _zensical_config() or {}
    blogs = (config.get("plugins") or {}).get("blogs") if isinstance(config.get("plugins"), dict) else None
    if isinstance(blogs, dict):  # zensical 0.0.73 wraps each plugin's instances: {"config": [...]}
        blogs = blogs.get("config")
    dirs = []
    for blog in blogs if isinstance(blogs, list) else ():
        options = blog.get("config") if isinstance(blog, dict) else None
        folder = options.get("blog_dir", "blog") if isinstance(options, dict) else "blog"
        dirs.append(str(folder or "blog").strip("/"))
    return dirs


#: The element Zensical's blog views wrap each post's excerpt in (templates/partials/post.html).
EXCERPT = "md-post--excerpt"


def fix_blog_views(site_dir: str, output_dir: str, folders: list[str]) -> int:
    """Zensical's blog views rewrite each ``src`` of a post's excerpt for the view's URL,
    not its ``srcset``s, which keep the post page's (they then climb above the site's
    root: under a sub-path every <source> 404s); and each excerpt keeps its post's eager
    first image. Every built page of the blogs gets our pictures' URLs made relative to
    itself, and a view only its first picture eager; how many files changed."""
    changed = 0
    for folder in folders:
        for path in sorted(Path(site_dir, folder).rglob("*.html")):
            try:
                text = path.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError):
                continue
            if "<picture" not in text:
                continue
            page_url = path.relative_to(site_dir).as_posix()
            fixed = fix_srcsets(text, page_url, output_dir, view=EXCERPT in text)
            if fixed != text:
                path.write_text(fixed, encoding="utf-8")
                changed += 1
    return changed


_PLUGIN_LISTED = re.compile(
    r"""^\s*-\s*["']?nanobanana["']?\s*:?\s*(#.*)?$|^\s*\[project\.plugins\.nanobanana\]|^\s*plugins\s*=.*["']nanobanana["']""",
    re.MULTILINE,
)


def plugin_listed(config_path: str) -> bool:
    """Whether the config file names the nanobanana plugin (Zensical drops it unread)."""
    try:
        return bool(_PLUGIN_LISTED.search(Path(config_path).read_text(encoding="utf-8")))
    except (OSError, UnicodeDecodeError):
        return False


def _zensical_config() -> dict | None:
    module = sys.modules.get("zensical.config")
    return module.get_config() if module is not None else None


def directive_shown_as_code(warn_once: Callable[[str, str], Any]) -> None:
    """Pygments was asked to highlight a ```nanobanana block: under Zensical, say why
    it is code and what to add. (Under MkDocs the plugin reports its own leftovers.)"""
    config = _zensical_config()
    if not config:
        return
    path = config_file(str(config.get("root_dir", ".")))
    name = os.path.basename(path)
    if any(e in EXTENSION_NAMES for e in config.get("markdown_extensions", ())):
        warn_once("included", "a directive reached a page through an include (pymdownx.snippets), "
                  "so it is shown as code and not generated: put the directive in the page itself")
        return
    why = (f"{name} lists `plugins: - nanobanana`, but Zensical runs no MkDocs plugin it has not reimplemented"
           if plugin_listed(path) else "the nanobanana Markdown extension is not enabled")
    warn_once("missing", f"directives are shown as code, not images: {why}. Add `- mkdocs_nanobanana.markdown` "
              f"under markdown_extensions in {name} (see "
              "https://mkdocs-nanobanana.github.io/mkdocs-nanobanana/hosts/#with-zensical-and-other-python-markdown-hosts)")


def host_logger():
    """Our logger; with a stderr handler of its own when the host configured none
    (Zensical does not configure Python's logging, so an info line would be lost)."""
    import logging

    log = logging.getLogger("mkdocs_nanobanana")
    if not log.handlers and not logging.getLogger().handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("nanobanana: %(message)s"))
        log.addHandler(handler)
        log.setLevel(logging.INFO)
        log.propagate = False
    return log
