"""One directive occurrence in one build (a ``Slot``), the ``State``s it moves through,
what its figure becomes (``Rendered``), and a page's card (``CardPlan``)."""

from __future__ import annotations

import enum
from concurrent.futures import Future
from dataclasses import dataclass, field

from ..core.card_layouts import CardLayout
from ..core.card_values import CardText
from ..core.directives import Block, Directive, DirectiveError
from ..core.frozen import frozen
from ..core.request import Request
from ..imaging.backdrops import Backdrop
from ..imaging.copies import Variant
from ..store.cache import CachedImage, CacheEntry

__all__: list[str] = []


class State(enum.Enum):
    """What a slot is waiting for; decided by ``scheduler.next_state``."""

    NEW = "new"
    INVALID = "invalid"  # the directive has an error: an error placeholder, nothing paid
    CACHED = "cached"  # its image is in the cache
    AFTER_TARGET = "after target"  # refines a #name whose image is not known yet
    BUYING = "buying"  # approved: a provider call is on its way
    DEFERRED = "deferred"  # approved: serve's background generation will buy it
    PLACEHOLDER = "placeholder"  # not to be had in this build (offline, over budget, failed)
    SETTLED = "settled"  # its image is known (or known to be missing); its figure is being made


@frozen
class Rendered:
    variants: list[Variant]
    placeholder: bool
    note: str  # why it is a placeholder, shown as the image's title
    backdrop: Backdrop | None = None  # what its box shows while it loads; None: nothing


@dataclass(eq=False)
class Slot:
    """One directive occurrence on one page (or a page's card-only image), valid or not."""

    page: str
    block: Block
    directive: Directive | None
    errors: list[DirectiveError] = field(default_factory=list)
    request: Request | None = None
    refs: tuple[str, ...] = ()  # files of the reference images, in order
    entry: CacheEntry | None = None
    blocked_by: str | None = None  # a #name whose image is not known yet
    approved: bool = False  # within max_credits: may be paid for
    shown: bool = True  # False: only a social card's image, no figure on a page
    state: State = State.NEW
    image_known: Future = field(default_factory=Future)  # -> CacheEntry | None, once settled
    figure_ready: Future = field(default_factory=Future)  # -> Rendered

    @property
    def where(self) -> str:
        return self.directive.where if self.directive else f"{self.page}:{self.block.start}"

    @property
    def valid(self) -> bool:
        return self.directive is not None and not self.errors

    @property
    def key(self) -> str | None:
        """The cache key, once it is known (not while a #name ref is pending)."""
        return self.request.key if self.request is not None and self.blocked_by is None else None

    @property
    def missing(self) -> bool:
        """Valid, with a request, and not in the cache: what a build may pay for."""
        return self.request is not None and self.entry is None and not self.errors

    def shown_image(self) -> CachedImage | None:
        """The cached image the slot shows (its directive's ``pick``), once it has one."""
        if self.entry is None or self.directive is None:
            return None
        return self.entry.images[self.directive.pick - 1]

    def resolved_request(self) -> Request:
        """The Request ``Analysis.resolve`` gave the slot, where its state says it has one:
        ``missing``, State.BUYING and State.DEFERRED. A slot without one there is a bug of
        the state machine, not a user's error: the AssertionError names the slot."""
        assert self.request is not None, f"{self.where}: {self.state.value} slot without a request"
        return self.request


@frozen
class PagePicture:
    """The page's own picture as its card image: a file of the site, and its bytes' sha256."""

    path: str
    sha256: str


@frozen
class CardPlan:
    """A page's card: the slot whose image is its card image, or the page's own
    picture, or neither (a text card); its words, and the page's own layout (None: the
    site's). ``image_url``: front matter image as a URL, which the theme may show as
    og:image itself."""

    slot: Slot | None
    text: CardText
    layout: CardLayout | None = None
    picture: PagePicture | None = None
    image_url: str | None = None

    @property
    def source_id(self) -> str | None:
        """What the card is drawn on, for its key: the picture's sha256, "text" for no
        image; None for a slot (its image's id is the renderer's to say)."""
        if self.slot is not None:
            return None
        return self.picture.sha256 if self.picture is not None else "text"

    @property
    def has_image(self) -> bool:
        return self.slot is not None or self.picture is not None
