"""What an option's value may be: a small set of frozen checker values, each able to
check a value, say what it expects (for an error and for the options reference) and
give its JSON schema (for editors that read mkdocs.yml's schema).

A kind never names its option: ``check(value, name)`` raises OptionError with the name
its caller gives, so that the core, the MkDocs adapter and the Markdown extension word
every refusal the same way: ``quality: expected a whole number from 1 to 100, got 500``.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from .catalog import normalize_ratio
from .frozen import frozen
from .settings import SettingsError

__all__: list[str] = []

# The kinds here and the rows of options.py are dataclasses with eq=False, repr=False:
# they are made once, at import, and only ever compared by identity. Each method a
# dataclass generates is one exec() of generated source when the module is imported,
# and every build (the warm one too) imports this table: without eq and repr, a frozen
# dataclass costs three of them rather than six.

#: What an environment variable's name may be (POSIX's portable names, as shells take them).
ENV_NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class OptionError(SettingsError):
    """An option's value is not one it takes: ``option`` is its dotted name ("quality",
    "avif.speed"), ``problem`` what is expected (and what was given, unless it may be a
    secret). ``entry`` names the host's entry the option was read from, if the host
    says so (the Markdown extension: its markdown_extensions entry)."""

    def __init__(self, option: str, problem: str, entry: str = "") -> None:
        self.option, self.problem, self.entry = option, problem, entry
        named = f"{option}: {problem}" if option else problem
        super().__init__(f"{entry}: {named}" if entry else named)

    def __reduce__(self) -> tuple[Any, ...]:  # a process pool or a pickling host gets it whole
        return type(self), (self.option, self.problem, self.entry)


@frozen(eq=False, repr=False)
class Kind:
    """What one option takes. Subclasses say ``expected`` (a noun phrase, "a whole number
    from 1 to 100"), which values they accept, how an accepted value is kept, and its
    schema."""

    @property
    def expected(self) -> str:
        raise NotImplementedError

    def accepts(self, value: object) -> bool:
        raise NotImplementedError

    def convert(self, value: Any) -> Any:
        """An accepted value as Settings takes it (most kinds: as given)."""
        return value

    def schema(self) -> dict[str, Any]:
        raise NotImplementedError

    def problem(self, value: object) -> str:
        return f"expected {self.expected}, got {value!r}"

    def check(self, value: object, name: str) -> Any:
        if not self.accepts(value):
            raise OptionError(name, self.problem(value))
        return self.convert(value)


def _number(value: object) -> int | float | None:
    """``value`` if it is an int or a float and not a bool (YAML's true is an int to
    Python), else None."""
    return None if isinstance(value, bool) or not isinstance(value, (int, float)) else value


@frozen(eq=False, repr=False)
class WholeNumber(Kind):
    low: int
    high: int | None = None

    @property
    def expected(self) -> str:
        if self.high is None:
            return f"a whole number of at least {self.low}"
        return f"a whole number from {self.low} to {self.high}"

    def accepts(self, value: object) -> bool:
        number = _number(value)
        return isinstance(number, int) and self.low <= number and (self.high is None or number <= self.high)

    def schema(self) -> dict[str, Any]:
        bounds = {"minimum": self.low} | ({} if self.high is None else {"maximum": self.high})
        return {"type": "integer", **bounds}


@frozen(eq=False, repr=False)
class Seconds(Kind):
    """A positive, finite number of seconds: YAML's .nan and .inf are floats too, and
    would make a timeout that never ends or a debounce that is never over."""

    @property
    def expected(self) -> str:
        return "a positive, finite number of seconds"

    def accepts(self, value: object) -> bool:
        number = _number(value)
        try:
            seconds = float(number) if number is not None else math.nan
        except OverflowError:  # an int too large for a float: no timeout means that
            return False
        return math.isfinite(seconds) and seconds > 0

    def convert(self, value: Any) -> float:
        return float(value)

    def schema(self) -> dict[str, Any]:
        return {"type": "number", "exclusiveMinimum": 0}


@frozen(eq=False, repr=False)
class Choice(Kind):
    choices: tuple[str, ...]

    @property
    def expected(self) -> str:
        return f"one of {', '.join(self.choices)}"

    def accepts(self, value: object) -> bool:
        return isinstance(value, str) and value in self.choices

    def schema(self) -> dict[str, Any]:
        return {"enum": list(self.choices)}


@frozen(eq=False, repr=False)
class ChoiceOrFile(Kind):
    """One of ``choices``, or a file's path ending in one of ``suffixes`` (social.layout:
    a built-in layout, or a layout file of the site's)."""

    choices: tuple[str, ...]
    suffixes: tuple[str, ...]
    what: str  # the file: "a layout file"

    @property
    def expected(self) -> str:
        return f"one of {', '.join(self.choices)}, or {self.what} ({' or '.join(self.suffixes)})"

    def accepts(self, value: object) -> bool:
        return isinstance(value, str) and (value in self.choices or value.lower().endswith(self.suffixes))

    def schema(self) -> dict[str, Any]:
        ends = "|".join(re.escape(s) for s in self.suffixes)
        return {"anyOf": [{"enum": list(self.choices)}, {"type": "string", "pattern": f"(?i)({ends})$"}]}


@frozen(eq=False, repr=False)
class Flag(Kind):
    @property
    def expected(self) -> str:
        return "true or false"

    def accepts(self, value: object) -> bool:
        return isinstance(value, bool)

    def schema(self) -> dict[str, Any]:
        return {"type": "boolean"}


@frozen(eq=False, repr=False)
class Text(Kind):
    #: what the text is, where "a text" says too little ("a file, relative to mkdocs.yml")
    what: str = "a text"

    @property
    def expected(self) -> str:
        return self.what

    def accepts(self, value: object) -> bool:
        return isinstance(value, str)

    def schema(self) -> dict[str, Any]:
        return {"type": "string"}


@frozen(eq=False, repr=False)
class TextOrFlag(Kind):
    """A text, or a bool that switches the thing on or off (social.logo: a file, or false)."""

    what: str

    @property
    def expected(self) -> str:
        return self.what

    def accepts(self, value: object) -> bool:
        return isinstance(value, (str, bool))

    def schema(self) -> dict[str, Any]:
        return {"type": ["string", "boolean"]}


@frozen(eq=False, repr=False)
class ListOf(Kind):
    """A list whose every item is ``item``, with at least ``at_least`` of them; ``noun``
    names one item in the message ("at least one width")."""

    item: Kind
    at_least: int = 0
    noun: str = "item"

    @property
    def expected(self) -> str:
        many = f" of at least {self.at_least} {self.noun}s"
        count = {0: "", 1: f" of at least one {self.noun}"}.get(self.at_least, many)
        return f"a list{count}, each {self.item.expected}"

    def accepts(self, value: object) -> bool:
        return isinstance(value, list) and len(value) >= self.at_least and all(self.item.accepts(v) for v in value)

    def convert(self, value: Any) -> list[Any]:
        return [self.item.convert(v) for v in value]

    def schema(self) -> dict[str, Any]:
        return {"type": "array", "items": self.item.schema(), **({"minItems": self.at_least} if self.at_least else {})}


@frozen(eq=False, repr=False)
class AnyMapping(Kind):
    """A mapping whose keys and values another part checks (models: the catalog)."""

    what: str = "a mapping"

    @property
    def expected(self) -> str:
        return self.what

    def accepts(self, value: object) -> bool:
        return isinstance(value, Mapping)

    def convert(self, value: Any) -> dict[Any, Any]:
        return dict(value)

    def schema(self) -> dict[str, Any]:
        return {"type": "object"}


@frozen(eq=False, repr=False)
class EnvName(Kind):
    """The NAME of an environment variable. A refusal never echoes the value: what is
    there instead of a name is most often the key itself, pasted."""

    @property
    def expected(self) -> str:
        return "the NAME of an environment variable (e.g. NANOBANANA_API_KEY)"

    def accepts(self, value: object) -> bool:
        return isinstance(value, str) and bool(ENV_NAME_RE.match(value))

    def problem(self, value: object) -> str:
        return f"expected {self.expected}, not the key itself: never put an API key in mkdocs.yml"

    def schema(self) -> dict[str, Any]:
        return {"type": "string", "pattern": ENV_NAME_RE.pattern}


@frozen(eq=False, repr=False)
class HttpUrl(Kind):
    """An http(s) URL with a host: what an API is reached at."""

    @property
    def expected(self) -> str:
        return "an http:// or https:// URL with a host"

    def accepts(self, value: object) -> bool:
        if not isinstance(value, str):
            return False
        try:
            parts = urlsplit(value.strip())
            return parts.scheme.lower() in ("http", "https") and bool(parts.hostname)
        except ValueError:  # a bad port or bracketed host
            return False

    def convert(self, value: Any) -> str:
        return str(value).strip()

    def schema(self) -> dict[str, Any]:
        return {"type": "string", "pattern": r"^\s*[Hh][Tt][Tt][Pp][Ss]?://[^/?#\s]+"}


@frozen(eq=False, repr=False)
class Ratio(Kind):
    """An aspect ratio such as "16:9", also when YAML read an unquoted one as a base-60
    number (see catalog.normalize_ratio). Whether a model offers it, the catalog says."""

    @property
    def expected(self) -> str:
        return 'a ratio such as "16:9"'

    def accepts(self, value: object) -> bool:
        return normalize_ratio(value) is not None

    def convert(self, value: Any) -> str | None:
        return normalize_ratio(value)

    def schema(self) -> dict[str, Any]:
        return {"anyOf": [{"type": "string"}, {"type": "integer", "minimum": 60}]}


@frozen(eq=False, repr=False)
class RelativePath(Kind):
    """A relative POSIX path that stays inside its root: no '..', not absolute, no drive."""

    root: str

    @property
    def expected(self) -> str:
        return f"a relative path inside {self.root}"

    def accepts(self, value: object) -> bool:
        if not isinstance(value, str):
            return False
        parts = self._parts(value)
        return not (value.startswith(("/", "\\")) or ".." in parts or not parts or re.match(r"^[A-Za-z]:", value))

    @staticmethod
    def _parts(value: str) -> list[str]:
        return [p for p in value.replace("\\", "/").split("/") if p not in ("", ".")]

    def convert(self, value: Any) -> str:
        return "/".join(self._parts(value))

    def schema(self) -> dict[str, Any]:
        return {"type": "string", "minLength": 1, "not": {"pattern": r"^[/\\]|^[A-Za-z]:|(^|[/\\])\.\.([/\\]|$)"}}
