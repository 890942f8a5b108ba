"""Social cards: which image a page's card comes from, where its file goes, and its
meta tags. The drawing is drawing.py's.

Pure functions but for ``card_file`` (the cache).
"""

from __future__ import annotations

import html
import posixpath
import re
import string
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any, TypedDict

import yaml

from ..core import yaml_text
from ..core.card_layouts import is_layout_file
from ..core.card_values import CARD_SIZE, LAYOUTS
from ..core.catalog import normalize_ratio
from ..core.directives import prompt_problem
from ..core.errors import NanobananaError
from ..core.frozen import frozen
from ..core.request import Request
from ..core.settings import Encoding
from ..store.cache import Cache

__all__: list[str] = []

_FRONT_MATTER_RE = re.compile(r"^-{3}[ \t]*\n(.*?\n)(?:\.{3}|-{3})[ \t]*\n", re.DOTALL)
_ATX_H1_RE = re.compile(r"^ {0,3}#[ \t]+(.+?)(?:[ \t]+#+)?[ \t]*$")
_SETEXT_H1_RE = re.compile(r"^ {0,3}=+[ \t]*$")
_FENCE_RE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
#: Inline Markdown a title shows as plain text: code spans, emphasis, links, images, tags,
#: attribute lists ({ #id .class }).
_INLINE_MARKUP = (
    (re.compile(r"!?\[([^\]]*)\]\([^)]*\)"), r"\1"),
    (re.compile(r"`+([^`]*)`+"), r"\1"),
    (re.compile(r"(\*\*|__)(.+?)\1"), r"\2"),
    (re.compile(r"(?<![\w*])([*_])(.+?)\1(?![\w*])"), r"\2"),
    (re.compile(r"<[^>]+>"), ""),
    (re.compile(r"\s*\{\s*[:#.][^}]*\}\s*$"), ""),
)


def plain_text(markdown: str) -> str:
    """A heading's text as a reader sees it, without its inline markup."""
    for pattern, repl in _INLINE_MARKUP:
        markdown = pattern.sub(repl, markdown)
    return " ".join(markdown.split())


def first_heading(body: str) -> str | None:
    """The page's first level-1 heading, ATX (``# Title``) or setext (``Title`` over
    ``=====``), outside fenced code (a ``# comment`` in a shell block is no title), as
    plain text: what MkDocs takes for the page title."""
    fence: str | None = None
    previous = ""
    for line in body.split("\n"):
        m = _FENCE_RE.match(line)
        if fence is not None:
            if m and m.group(1)[0] == fence[0] and len(m.group(1)) >= len(fence) and not line.strip(" `~"):
                fence = None
        elif m:
            fence = m.group(1)
        elif (h := _ATX_H1_RE.match(line)) or (previous.strip() and _SETEXT_H1_RE.match(line)):
            text = plain_text(h.group(1) if h else previous)
            if text:
                return text
        previous = line if fence is None and not m else ""
    return None


@frozen
class PageInfo:
    """What a card needs to know of a page, read from its source text."""

    meta: Mapping[str, Any]
    title: str
    description: str
    meta_line: int  # line of the `nanobanana:` key in the front matter (for messages)
    # where the text after the front matter starts: an offset, not a copy of it, which a
    # site of 20,000 pages kept for the whole build (37 MB)
    body_start: int = 0
    body_line: int = 1  # the file line it starts at
    image_line: int = 1  # line of the `image:` key in the front matter

    #: why the front matter was not read (yaml_text refused it), when a card would need it
    problem: str | None = None

    def line_of(self, key: str) -> int:
        return self.image_line if key == "image" else self.meta_line

    def body(self, text: str) -> str:
        """The text after the front matter, of ``text``: the page this was read from."""
        return _unix_newlines(text)[self.body_start:]


def _unix_newlines(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n")


def front_matter_mentions_us(text: str) -> bool:
    """Whether the page's front matter may hold a ``nanobanana:`` key: a cheap test that
    spares a large site the YAML of every page that has a directive but no card."""
    if not text.startswith("---"):  # no front matter: no copy of a long page to learn it
        return False
    m = _FRONT_MATTER_RE.match(_unix_newlines(text))
    return m is not None and "nanobanana" in m.group(1)


def read_page(text: str, src_uri: str) -> PageInfo:
    """Front matter, title and description, the way MkDocs reads them: front matter
    `title`, else the first `# heading`, else the file name."""
    text = _unix_newlines(text)
    meta: Mapping[str, Any] = {}
    start, problem = 0, None
    m = _FRONT_MATTER_RE.match(text)
    if m:
        try:
            loaded = yaml_text.load_bounded(m.group(1))
        except yaml_text.Refused as exc:  # MkDocs reads it (linearly); a card from it could hang a build
            loaded, problem = None, f"the front matter {exc.problem}"
        except yaml.YAMLError:  # MkDocs ignores front matter it cannot read: so do we
            loaded = None
        if isinstance(loaded, dict):
            meta, start = loaded, m.end()
    title = meta.get("title")
    if not isinstance(title, str) or not title.strip():
        h1 = first_heading(text[start:])  # text[0:] is text itself, not a copy
        stem = Path(src_uri).stem
        name = Path(src_uri).parent.name if stem == "index" else stem
        title = h1 if h1 else name.replace("-", " ").replace("_", " ").strip().capitalize() or "Home"
    description = meta.get("description")
    lines = {"nanobanana": 1, "image": 1}
    if m:
        for i, line in enumerate(m.group(1).split("\n"), start=2):
            key = line.split(":", 1)[0]
            if key in lines and lines[key] == 1:
                lines[key] = i
    body_line = text.count("\n", 0, start) + 1
    description = description.strip() if isinstance(description, str) else ""
    # shown on the card, not paid for: a lone surrogate (a YAML escape) becomes U+FFFD
    return PageInfo(meta, yaml_text.without_surrogates(title.strip()), yaml_text.without_surrogates(description),
                    lines["nanobanana"], start, body_line, lines["image"], problem)


@frozen
class CardSource:
    """Where a page's card image comes from: a directive on the page (``ordinal``), a
    prompt, the page's own picture (``picture``), or none (a text card: ``ordinal``,
    ``prompt`` and ``picture`` all None); and the page's own layout and description for
    it, if it sets them."""

    title: str
    ordinal: int | None = None  # index of the page's `social: true` directive
    prompt: str | None = None
    ratio: str | None = None
    variant: str | None = None
    picture: str | None = None  # an absolute path: the page's own picture
    image_url: str | None = None  # front matter image as a URL: the page's own og:image, maybe
    layout: str | None = None  # front matter nanobanana.social.layout
    description: str | None = None  # front matter nanobanana.social.description

    @property
    def text_only(self) -> bool:
        return self.ordinal is None and self.prompt is None and self.picture is None


class SocialError(NanobananaError, ValueError):
    pass


#: Front matter keys that change how the card looks, not where its image comes from.
STYLE_KEYS = ("layout", "description")
SOURCE_KEYS = ("prompt", "ratio", "variant", "title")
_FORMS = "social: false or social: {prompt: ..., ratio: ..., variant: ..., title: ..., layout: ..., description: ...}"


def card_source(
    info: PageInfo, social_ordinals: list[int], *, source: str, template: str, site_description: str,
    first_image: int | None = None, picture: str | None = None, automatic: bool = True,
) -> CardSource | None:
    """The page's card source, by precedence: front matter `nanobanana.social: false` or
    Material's `social: {cards: false}` (no card) > front matter `social: {prompt, ...}` > a
    `social: true` directive > the automatic source (``automatic``: the page is within
    cards_include/cards_exclude), by ``source`` (social.source):

    - ``auto``: the page's first image (``first_image``, its index), else its own
      picture (``picture``), else a text card;
    - ``first_image``: that image, else no card; ``generate``: the template's prompt;
      ``none``: no card.

    A front matter `social` with only ``layout`` and ``description`` keeps the automatic
    choice. SocialError for a malformed front matter."""
    if info.problem:
        raise SocialError(f"{info.problem}; the page gets no card")
    material = info.meta.get("social")
    if isinstance(material, dict) and material.get("cards") is False:
        return None
    social = _our_block(info.meta).get("social")
    if social is False or (isinstance(social, dict) and social.get("cards") is False):
        return None
    style: _Style = {}
    if isinstance(social, dict):
        style = _style_keys(social)
        if not any(k in social for k in SOURCE_KEYS):
            social = None  # a look of its own, the source everyone gets
    found = _source(info, social, social_ordinals, source=source, template=template,
                    site_description=site_description, first_image=first_image, picture=picture, automatic=automatic)
    return replace(found, **style) if found is not None and style else found


def _our_block(meta: Mapping[str, Any]) -> Mapping[str, Any]:
    """Front matter ``nanobanana:``, checked: it takes ``social`` and ``style``."""
    block = meta.get("nanobanana")
    if block is None:
        return {}
    if not isinstance(block, dict) or set(block) - {"social", "style", "responsive_images"}:
        raise SocialError(f"front matter 'nanobanana' takes social ({_FORMS}), style: ... and "
                          "responsive_images: false")
    return block


def page_style(meta: Mapping[str, Any]) -> str | None:
    """Front matter ``nanobanana: {style: ...}``: the page's own house style ("" for none),
    or None where it sets none. SocialError if it is not a text."""
    style = _our_block(meta).get("style")
    if style is not None and not isinstance(style, str):
        raise SocialError("front matter nanobanana.style must be a text (the style every prompt of the page ends "
                          "with; '' for none)")
    return None if style is None else " ".join(style.split())


def _source(info: PageInfo, social: Any, social_ordinals: list[int], *, source: str, template: str,
            site_description: str, first_image: int | None, picture: str | None, automatic: bool) -> CardSource | None:
    if isinstance(social, dict):
        return _front_matter_card(info, social, social_ordinals, template, site_description)
    if social not in (None, True):
        raise SocialError("front matter nanobanana.social must be false, true or a mapping with a prompt")
    if social_ordinals:
        return CardSource(info.title, ordinal=social_ordinals[0])
    if social is None and not automatic:
        return None
    if social is True or source == "generate":
        return CardSource(info.title, prompt=_fill(template, info.title, info.description or site_description))
    if first_image is not None and source in ("first_image", "auto"):
        return CardSource(info.title, ordinal=first_image)
    if source == "auto":
        url = info.meta.get("image") if isinstance(info.meta.get("image"), str) else None
        return CardSource(info.title, picture=picture, image_url=None if picture else url)
    return None


class _Style(TypedDict, total=False):
    """The CardSource fields a page's front matter may set (STYLE_KEYS)."""

    layout: str
    description: str


def _style_keys(social: dict) -> _Style:
    """The page's own layout and card description, checked."""
    unknown = set(social) - set(SOURCE_KEYS) - set(STYLE_KEYS) - {"cards"}
    if unknown:
        raise SocialError(f"front matter nanobanana.social: unknown key '{sorted(unknown)[0]}': use "
                          f"{', '.join(SOURCE_KEYS + STYLE_KEYS)}, cards")
    style: _Style = {}
    if "layout" in social:
        layout = social["layout"]
        if not isinstance(layout, str) or not (layout in LAYOUTS or is_layout_file(layout)):
            raise SocialError(f"front matter nanobanana.social.layout must be one of {', '.join(LAYOUTS)} or a "
                              f"layout file (.yml, relative to mkdocs.yml), not {layout!r}")
        style["layout"] = layout
    if "description" in social:
        if not isinstance(social["description"], str):
            raise SocialError("front matter nanobanana.social.description must be a text")
        style["description"] = " ".join(social["description"].split())
    return style


def _front_matter_card(info: PageInfo, social: dict, social_ordinals: list[int], template: str,
                       site_description: str) -> CardSource:
    title = yaml_text.without_surrogates(str(social.get("title") or info.title))
    prompt = social.get("prompt")
    if prompt is None:
        return CardSource(title, ordinal=social_ordinals[0]) if social_ordinals else (
            CardSource(title, prompt=_fill(template, title, info.description or site_description)))
    if not isinstance(prompt, str) or not prompt.strip():
        raise SocialError("front matter nanobanana.social.prompt must be a non-empty text")
    if prompt_problem(prompt):
        raise SocialError(f"front matter nanobanana.social.prompt: {prompt_problem(prompt)}")
    return CardSource(title, prompt=prompt.strip(), ratio=_ratio(social.get("ratio")),
                      variant=_text(social.get("variant")))


def _text(value: Any) -> str | None:
    return None if value is None else yaml_text.without_surrogates(str(value))


def _ratio(value: Any) -> str | None:
    """A ratio as a directive takes it: an unquoted 16:9 (YAML's base-60 969) works here too."""
    if value is None:
        return None
    ratio = normalize_ratio(value)
    if ratio is None:
        raise SocialError(f'front matter nanobanana.social.ratio must be a ratio such as "16:9", not {value!r}')
    return ratio


def _fill(template: str, title: str, description: str) -> str:
    try:
        prompt = template.format(title=title, description=description).strip()
    except (KeyError, IndexError, ValueError) as exc:
        raise SocialError(
            f"social.prompt_template: only {{title}} and {{description}} can be filled in ({exc})") from None
    problem = prompt_problem(prompt)
    if problem:  # a title or description as long as a book, say
        raise SocialError(f"the card prompt made from social.prompt_template, the title and the description: {problem}")
    return prompt


def filled(template: str, title: str, description: str) -> str | None:
    """The card prompt ``template`` makes of a title and description; None if it makes
    none (where planning a card says why: ``_fill``)."""
    try:
        return _fill(template, title, description)
    except SocialError:
        return None


def template_fields(template: str, prompt: str) -> dict[str, str] | None:
    """The ``{title}`` and ``{description}`` that ``prompt`` was filled with from
    ``template``; None if it was not made from this template. Whitespace in the template
    matches any run of it (the filled prompt is stripped)."""
    pattern, seen = r"\s*", set()
    try:
        for literal, name, _spec, _conversion in string.Formatter().parse(template):
            pattern += r"\s*".join(re.escape(part) for part in re.split(r"\s+", literal))
            if name is None:
                continue
            if name not in ("title", "description"):
                return None
            pattern += f"(?P={name})" if name in seen else f"(?P<{name}>.*?)"
            seen.add(name)
    except ValueError:  # not a template str.format reads: it made no prompt
        return None
    m = re.fullmatch(pattern + r"\s*", prompt, re.DOTALL)
    return m.groupdict() if m else None


def why_new_card_image(template: str, old: Request | None, new: Request, title: str, description: str) -> str:
    """Why a page's card image from ``template`` is a new image (a new paid request)
    since the last build, for ``plan``: a renamed page says so."""
    if old is None:
        return "new card image: its prompt changed (the title, the description or social.prompt_template)"
    if old.prompt == new.prompt:
        return "new card image: social.ratio or social.variant changed"
    fields = template_fields(template, old.prompt)
    if fields is None:
        return "new card image: social.prompt_template changed"
    changes = [f"the {name} changed ({_short(fields[name])!r} -> {_short(now)!r})"
               for name, now in (("title", title), ("description", description))
               if name in fields and fields[name] != now]
    return "new card image: " + (" and ".join(changes) or "its prompt changed")


def _short(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


#: How a card image's cover crop is kept (renderer.Renderer.card_cover), named as a copy
#: of its own: JPEG at 95, so near lossless (SSIM 0.987 to the exact crop on the fake
#: API's noisy photos) that the card saved from it at 86 is as close to the exact picture
#: as one drawn from the source (0.911 vs 0.916, the card's own JPEG loss dominating).
COVER = Encoding(95, (("social", "cover-1200x630"),))


# --------------------------------------------------------------------------- files


def card_path(cache: Cache, key: str) -> Path:
    """Where the card for ``key`` lives in the cache."""
    return cache.root.joinpath("social", key[:2], f"{key}.jpg")  # one join, not three: a card a page asks


def card_file(cache: Cache, key: str, draw) -> Path:
    """The cached card for ``key``, drawn by ``draw()`` only when it is not there yet."""
    path = card_path(cache, key)
    if not path.exists():
        cache.temp.create_once(path, draw())
    return path


def card_url(src_uri: str, output_dir: str) -> str:
    """Where the card lands in the site: <output_dir>/social/<page path>.jpg."""
    name = posixpath.basename(src_uri)  # the suffix as Path(src_uri).suffix reads it, without a Path a call
    dot = name.rfind(".")
    stem = src_uri[: dot - len(name)] if 0 < dot < len(name) - 1 else src_uri
    return f"{output_dir}/social/{stem}.jpg"


# --------------------------------------------------------------------------- meta tags


@frozen
class PageMeta:
    """What a link preview says of a page besides its card."""

    title: str
    description: str = ""
    published: str = ""  # ISO dates from front matter `date` (Material's blog posts)
    modified: str = ""

    @property
    def article(self) -> bool:
        return bool(self.published)


def page_meta(info: PageInfo, title: str, site_description: str) -> PageMeta:
    """The page's preview text and dates: front matter `description` (else the site's),
    and `date` as Material's blog writes it (a date, or {created: ..., updated: ...})."""
    date = info.meta.get("date")
    created, updated = (date.get("created"), date.get("updated")) if isinstance(date, dict) else (date, None)
    return PageMeta(title, info.description or site_description, _iso(created), _iso(updated))


def _iso(value: Any) -> str:
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value.strip() if isinstance(value, str) else ""


def has_tag(head: str, name: str) -> bool:
    """Whether ``head`` has a <meta> of property or name ``name`` (og:image, twitter:card)."""
    return name in meta_names(head)


_META_RE = re.compile(r"<meta\b[^>]*>", re.I)
_NAMED_RE = re.compile(r"""\b(?:property|name)\s*=\s*["']([^"']*)["']""", re.I)


def meta_names(head: str) -> set[str]:
    """The property and name of every <meta> in ``head``: one pass over it, however many
    tags are asked about (every page of a site with cards asks about sixteen)."""
    return {name for tag in _META_RE.findall(head) for name in _NAMED_RE.findall(tag)}


def meta_tags(image_url: str, page: PageMeta, existing_head: str, *, page_url: str = "", site_name: str = "") -> str:
    """The Open Graph and Twitter tags Material's social plugin writes, leaving out any
    the page already has (the theme's, another plugin's); no image tags without ``image_url``."""
    e = html.escape
    plain = not site_name or page.title.casefold() == site_name.casefold()
    title = page.title if plain else f"{page.title} - {site_name}"
    tags = [
        ("property", "og:type", "article" if page.article else "website"),
        ("property", "og:title", title),
        ("property", "og:description", page.description),
        ("property", "og:url", page_url),
        ("property", "og:site_name", site_name),
        ("property", "og:image", image_url),
        ("property", "og:image:type", "image/jpeg"),
        ("property", "og:image:width", str(CARD_SIZE[0])),
        ("property", "og:image:height", str(CARD_SIZE[1])),
        ("property", "og:image:alt", page.title),
        ("property", "article:published_time", page.published),
        ("property", "article:modified_time", page.modified),
        ("name", "twitter:card", "summary_large_image"),
        ("name", "twitter:title", title),
        ("name", "twitter:description", page.description),
        ("name", "twitter:image", image_url),
    ]
    out = []
    present = meta_names(existing_head)
    for attr, name, value in tags:
        imageless = not image_url and name.startswith(("og:image", "twitter:image"))
        if not value or name in present or imageless:
            continue
        out.append(f'<meta {attr}="{name}" content="{e(value)}">')
    return "\n".join(out)


def inject_head(page_html: str, tags: str) -> str:
    """``tags`` just before </head>, in any theme; the page as is if it has no head."""
    if not tags:
        return page_html
    if "</head>" in page_html:  # one copy of the page: slicing and joining it made three (57 vs 4 us)
        return page_html.replace("</head>", tags + "\n</head>", 1)
    i = head_end(page_html)
    return page_html if i < 0 else page_html[:i] + tags + "\n" + page_html[i:]


def head_end(page_html: str) -> int:
    """Where ``</head>`` starts, -1 if nowhere: as themes write it, found without
    lower-casing the whole page; in any case otherwise."""
    i = page_html.find("</head>")
    return i if i >= 0 else page_html.lower().find("</head>")
