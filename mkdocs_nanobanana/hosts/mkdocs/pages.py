"""The pages of a site as a build reads them: the documentation pages MkDocs includes
(draft_docs only where serve shows them), each text handed over to its File so that
MkDocs does not read the file again."""

from __future__ import annotations

from ...build.session import pages_worth_reading
from ...core.pages import PageText
from ...core.reporting import Reporter
from ...core.settings import Settings

__all__: list[str] = []


def read_pages(files, settings: Settings, report: Reporter, drafts: bool = False,
               hand_over: bool = False) -> list[PageText]:
    """The pages worth reading. Excluded pages never count; draft_docs pages only when
    ``drafts`` (serve shows them). ``hand_over``: each page's text is given to its File,
    so that MkDocs renders the text read here and does not read the file again."""
    # the host's own InclusionLevel methods: ProperDocs has its own copy of the enum
    inclusion = (lambda level: level.is_in_serve()) if drafts else (lambda level: level.is_included())
    documents = files.documentation_pages(inclusion=inclusion)
    return pages_worth_reading(((f.src_uri, _text(f, hand_over)) for f in documents), settings, report)


def draft_pages(files, settings: Settings) -> list[PageText]:
    """The draft_docs pages (MkDocs 1.6: InclusionLevel.DRAFT, shown by serve only) worth
    reading: a build does not show them, but serve generated and paid for their images."""
    drafts = files.documentation_pages(inclusion=lambda level: level.is_in_serve() and not level.is_included())
    return pages_worth_reading(((f.src_uri, _text(f)) for f in drafts), settings, Reporter(lambda _message: None))


def _text(file, hand_over: bool = False) -> str | None:
    try:
        text = file.content_string
    except ValueError:  # not UTF-8
        return None
    if hand_over:
        _hand_over(file, text)
    return text


def _hand_over(file, text: str) -> None:
    """Give the page's text to its File, MkDocs 1.6's way (content_string set in
    on_files): MkDocs then renders it without reading the file a second time. The setter
    clears abs_src_path, which other plugins still read (git dates, Material's blog), so
    it is put back. Not under --dirty: a File that holds its text always counts as
    modified there, and every page would be rebuilt."""
    path = file.abs_src_path
    file.content_string = text
    file.abs_src_path = path


def let_go(file) -> None:
    """MkDocs has read the page (its Markdown is ``page.markdown`` now): the File lets go
    of the text ``_hand_over`` gave it, which it would hold for the whole build (40 MB at
    20,000 pages). Its abs_src_path is in place, so a later reader of content_string
    reads the file, as without the hand-over. MkDocs 1.6 and ProperDocs keep the text in
    ``_content`` and have no public way to unset it; a File that holds bytes, or that
    another plugin gave a text of its own after on_files, is left alone."""
    if isinstance(getattr(file, "_content", None), str) and file.abs_src_path:
        file._content = None
