"""RSS enclosures of our cards with their real byte length.

mkdocs-rss-plugin (1.19, util.py ``get_image``) measures a ``page.meta.image`` given as a
path by looking for the file next to the page's *source* (``Path(abs_src_path).parent /
path``) and builds the item's URL as site_url + path. Our cards live in the built site,
not beside the Markdown, so it finds nothing and writes ``length="None"`` (its template
prints the Python value); an absolute URL instead would make it send a HEAD request to
the live site on every build. So the plugin leaves the path as it is and, once the feed
files are written, fills in the length of each enclosure that names a file of ours.
Nothing else in the feed changes, byte for byte.
"""

from __future__ import annotations

import html
import os
import re
from pathlib import Path
from urllib.parse import unquote

__all__: list[str] = []

#: One enclosure element as the RSS plugin's template writes it (any attribute order).
_ENCLOSURE_RE = re.compile(r"<enclosure\b[^>]*>")
_URL_RE = re.compile(r'\burl="([^"]*)"')
_UNKNOWN_LENGTH_RE = re.compile(r'\blength="(?:None|)"')


def fill_enclosure_lengths(feed: Path, site_url: str, site_dir: Path, output_dir: str) -> int:
    """Give each enclosure of ``feed`` that points into ``output_dir`` under ``site_url``
    and has no length the size of that file in ``site_dir``. The number filled in; the
    feed is rewritten (atomically) only when there is one."""
    try:
        text = feed.read_text(encoding="utf-8")
    except (FileNotFoundError, UnicodeDecodeError):
        return 0
    ours = site_url.rstrip("/") + "/" + output_dir.strip("/") + "/"
    filled = 0

    def fill(match: re.Match[str]) -> str:
        nonlocal filled
        element = match.group(0)
        url = _URL_RE.search(element)
        if not url or not _UNKNOWN_LENGTH_RE.search(element):
            return element
        address = unquote(html.unescape(url.group(1)))  # the file's path, as the site has it
        if not address.startswith(ours) or "/../" in address:  # only files of ours, inside the site
            return element
        path = site_dir / address[len(site_url.rstrip("/")) + 1:]
        try:
            size = os.stat(path).st_size
        except OSError:  # not there: the feed keeps what the RSS plugin wrote
            return element
        filled += 1
        return _UNKNOWN_LENGTH_RE.sub(f'length="{size}"', element, count=1)

    text = _ENCLOSURE_RE.sub(fill, text)
    if filled:  # beside the feed, then renamed: a reader never sees half a feed
        temp = feed.with_name(f".{feed.name}.nanobanana-tmp")
        temp.write_text(text, encoding="utf-8")
        os.replace(temp, feed)
    return filled
