"""The nanobanana directive as a Python-Markdown extension, for hosts without MkDocs
plugins: Zensical above all (it runs `markdown_extensions`, not `plugins`), and plain
Python-Markdown.

    markdown_extensions:
      - mkdocs_nanobanana.markdown      # options: the plugin's, under this entry

A second adapter over the same core as the MkDocs plugin (hosts/mkdocs/plugin.py): a preprocessor swaps each directive
for a token of the build (``BuildSession.markdown``, as on_page_markdown does), a
postprocessor swaps each token for its <figure> (``BuildSession.html``). Same cache,
same keys, same modes. Under MkDocs with the plugin enabled, the plugin removes this
extension from the build: one of the two works per build.

Where the figure files go and how pages address them (docs/hosts.md, "With Zensical"): under
Zensical, into its site_dir, with page-relative URLs, as the plugin does. Elsewhere the
host says nothing, so the options ``site_dir`` (where files go) and ``site_url`` (the
site's root URL, "/" by default: root-relative URLs) say it.

The options are checked when the extension is made (options.py, from the options
table): a value the plugin refuses, the extension refuses, with the same words, before
any page is read. What depends on the project (a folder, the key in the environment)
is checked when the build's first directive opens its session (host.py).
"""

from __future__ import annotations

import itertools
import os
import posixpath
from typing import Any

from markdown import Markdown
from markdown.extensions import Extension
from markdown.postprocessors import Postprocessor
from markdown.preprocessors import Preprocessor

from ...build.own_choice import wants_own_pictures
from ...build.own_images import in_docs
from ...core.directives import INFO_WORD
from ...core.settings import SettingsError, hidden_sidebars
from .host import HOST, Build
from .options import Where, extension_options, markdown_config, named
from .zensical import page_of

__all__: list[str] = []

#: Before pymdownx.snippets (32) and whitespace normalising (30): the page as written,
#: which is what the plugin reads in on_page_markdown and what line numbers count.
PRE_PRIORITY = 40
#: After raw HTML is put back (30) and everything else: tokens are plain words until then.
POST_PRIORITY = 1

#: How every token of a BuildSession starts (session.py).
TOKEN_WORD = "NANOBANANA"

_documents = itertools.count(1)


class NanobananaExtension(Extension):
    def __init__(self, **options: Any) -> None:
        # Python-Markdown's idiom: the options with their docs (getConfigs() reads them)
        self.config = markdown_config()
        super().__init__()
        try:
            checked = extension_options(options)
        except SettingsError as exc:
            raise named(exc) from None
        for name, entry in self.config.items():
            entry[0] = checked[name]
        self.options = options  # as given: the host's build is one per set of options

    def extendMarkdown(self, md: Markdown) -> None:  # noqa: N802 (Python-Markdown's name)
        if not self.getConfig("enabled"):
            return
        state: dict[str, Any] = {}  # this conversion's page, shared by the two processors
        md.preprocessors.register(_Tokens(md, self.options, state), "nanobanana", PRE_PRIORITY)
        md.postprocessors.register(_Figures(md, state), "nanobanana_figures", POST_PRIORITY)


def _page(md: Markdown, options: dict[str, Any]) -> tuple[Build, str, str, str, dict]:
    """(the build, the page's name, its URL, site_url for absolute URLs or "", its front matter)."""
    z = page_of(md)
    if z is not None:
        # Zensical reads every relative URL in a page's HTML (src, srcset) as relative to
        # the page's source file, as a Markdown image link is, and rewrites it for where
        # the page is written (a/ or a.html): so figures are addressed from the source.
        return Build(z.build, z.where, root_dir=z.root_dir), z.path, z.path, "", z.meta
    # plain Python-Markdown: no page, no site; the options say where files go
    cwd = os.getcwd()
    where = Where(
        config_file=os.path.abspath(options.get("config_file") or os.path.join(cwd, "mkdocs.yml")),
        docs_dir=os.path.abspath(options.get("docs_dir") or os.path.join(cwd, "docs")),
        site_dir=os.path.abspath(options.get("site_dir") or os.path.join(cwd, "site")),
    )
    page = f"document-{next(_documents)}.md"
    return Build("plain", where, read_docs=False), page, "", options.get("site_url") or "/", {}


class _Tokens(Preprocessor):
    def __init__(self, md: Markdown, options: dict[str, Any], state: dict[str, Any]) -> None:
        super().__init__(md)
        self.options, self.state = options, state

    def run(self, lines: list[str]) -> list[str]:
        text = "\n".join(lines)
        pictures = bool(self.options.get("responsive_images")) and ("![" in text or "<img" in text or "]:" in text)
        if INFO_WORD not in text and not pictures:  # most pages: no session, nothing read
            return lines
        build, page, url, site_url, meta = _page(self.md, self.options)
        if "session" in self.state:  # a fragment of a page being converted: its tokens are made
            return lines
        if INFO_WORD not in text and not build.read_docs:  # plain Python-Markdown: no docs_dir to find pictures in
            return lines
        session = HOST.session_for(build, self.options)
        source = os.path.join(build.where.docs_dir, *page.split("/"))
        with HOST.lock:
            out = session.markdown(page, text, lambda: _read(source, text))
        self.state.update(session=session, page=page, url=url, site_url=site_url, meta=meta,
                          docs_dir=build.where.docs_dir if build.read_docs else None)
        return out.split("\n")


def _read(path: str, fallback: str) -> str:
    """The page's file (front matter included: line numbers count from it)."""
    try:
        with open(path, encoding="utf-8-sig") as f:
            return f.read()
    except (OSError, UnicodeDecodeError):
        return fallback


class _Figures(Postprocessor):
    def __init__(self, md: Markdown, state: dict[str, Any]) -> None:
        super().__init__(md)
        self.state = state

    def run(self, text: str) -> str:
        # Some extensions run the processors again on fragments of the page (toc runs the
        # postprocessors on each heading): the state is the page's from the first
        # preprocessor run to the postprocessor run that sees the tokens.
        if "session" not in self.state or (TOKEN_WORD not in text and "<img" not in text):
            return text
        s = dict(self.state)
        if TOKEN_WORD in text:
            self.state.clear()  # a page's own pictures alone may be converted again: the last run has them all
        own = wants_own_pictures(s["meta"])
        return s["session"].html(s["page"], text, s["url"], site_url=s["site_url"], resolve=_resolver(s),
                                 own=own, hidden=hidden_sidebars(s["meta"]))


def _resolver(state: dict[str, Any]):
    """Where an <img src> of the page is: Zensical leaves each src relative to the page's
    source file until it writes the page."""
    docs_dir = state.get("docs_dir")
    if docs_dir is None:
        return None
    folder = posixpath.dirname(state["page"])
    return lambda path: in_docs(posixpath.join(folder, path), docs_dir)


def makeExtension(**options: Any) -> NanobananaExtension:  # noqa: N802 (Python-Markdown's name)
    return NanobananaExtension(**options)
