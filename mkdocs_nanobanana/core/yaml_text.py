"""YAML that a page's author wrote, read so that no text can hang or crash a build.

Two dangers are in plain YAML, safe loaders included. Aliases: ten lines of nested
``&a [*b, *b, ...]`` ("billion laughs") stand for 9**9 values, which PyYAML builds as a
small graph of shared nodes, and which anything that walks it (our checks, ``repr``,
``json.dumps``) walks exponentially: seconds at 7 levels, hours at 9. Nesting: PyYAML's
pure-Python composer recurses once per level and dies of RecursionError near 300 levels
(libyaml stops at 1000 with a YAMLError, but whatever walks such a tree recurses too).

A directive has no use for either, so ``compose_plain`` refuses anchors, aliases and
deep nesting where it finds them (with the line). Front matter belongs to the page and
to other plugins too, so ``load_bounded`` takes aliases as long as what they expand to
stays small, and refuses the rest (the line of the front matter).

Every refusal is a ``yaml.YAMLError`` with a ``problem_mark``, as PyYAML's own are, so a
caller words it and places it as it does a parse error.
"""

from __future__ import annotations

from typing import Any

import yaml
from yaml.composer import ComposerError

from .errors import NanobananaError

__all__: list[str] = []

#: Deeper than any directive or front matter a person writes (a directive is two levels
#: deep, a Material front matter four or five), far below where PyYAML's composer recurses
#: out of stack.
MAX_DEPTH = 32
#: The most values front matter may expand to through aliases: a generous front matter
#: has a few hundred.
MAX_EXPANDED = 10_000

#: libyaml's loader, when PyYAML was built with it (its wheels are): much faster than
#: the pure-Python one, which matters on a warm build of a large site.
FAST_LOADER = getattr(yaml, "CSafeLoader", None)


class Refused(NanobananaError, ComposerError):
    """YAML that parses but is refused: an anchor or alias, nesting past MAX_DEPTH, or
    aliases that expand past MAX_EXPANDED. ``problem`` says it of "it"; the caller
    names what "it" is (a directive, the front matter)."""

    def __init__(self, problem: str, mark: Any) -> None:
        super().__init__(None, None, problem, mark)


ALIAS_PROBLEM = "uses a YAML anchor or alias (&name, *name), which it may not: write each value out"
DEPTH_PROBLEM = f"nests more than {MAX_DEPTH} levels deep: write it flatter"
EXPANSION_PROBLEM = f"has YAML aliases (*name) that expand to more than {MAX_EXPANDED:,} values: write it without them"


class PlainLoader(yaml.SafeLoader):
    """PyYAML's safe loader, refusing anchors, aliases and deep nesting as it composes:
    the node that would be the first alias (or the first level too deep) names the line."""

    refuse_aliases = True

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._depth = 0

    def compose_node(self, parent: Any, index: Any) -> Any:
        event = self.peek_event()
        if self.refuse_aliases and (isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None) is not None):
            raise Refused(ALIAS_PROBLEM, event.start_mark)
        if self._depth >= MAX_DEPTH:
            raise Refused(DEPTH_PROBLEM, event.start_mark)
        self._depth += 1
        try:
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


class ShallowLoader(PlainLoader):
    """PyYAML's safe loader refusing deep nesting only: where libyaml is missing, front
    matter is composed by it (aliases are bounded after)."""

    refuse_aliases = False


def compose_plain(text: str) -> tuple[yaml.SafeLoader, yaml.Node | None]:
    """The node tree of ``text`` (a tree: no node in it twice) and the loader that can
    construct its values (the caller disposes of it). yaml.YAMLError otherwise.

    libyaml composes first: it is fast, and it bounds nesting on its own (a tree of any
    depth is walked here without recursion). Its tree is the answer when the text cannot
    hold an anchor or alias (neither ``&`` nor ``*`` is in it); anything else, and text
    libyaml refuses for another reason, is read by the pure-Python loader, which words
    and places every error the way our messages expect and is the judge of what is
    valid. That loader only ever sees shallow text from here: deep flow nesting costs its
    scanner time quadratic in the depth (1,200 brackets: 0.6 s).
    """
    if FAST_LOADER is not None:
        try:
            loader = FAST_LOADER(text)  # libyaml takes UTF-8: a lone surrogate fails to encode here
            node = loader.get_single_node()
        except UnicodeEncodeError:
            pass  # the pure-Python reader names the character and its place
        except yaml.YAMLError as exc:
            loader.dispose()
            if getattr(exc, "problem", None) == "exceeded maximum nesting depth":
                raise Refused(DEPTH_PROBLEM, getattr(exc, "problem_mark", None)) from None
        else:
            deep = _too_deep(node, MAX_DEPTH) if node is not None else None
            if deep is not None:
                loader.dispose()
                raise Refused(DEPTH_PROBLEM, deep.start_mark)
            if "&" not in text and "*" not in text:
                return loader, node
            loader.dispose()
    loader = PlainLoader(text)  # refuses some characters (NUL) right here
    try:
        return loader, loader.get_single_node()
    except BaseException:
        loader.dispose()
        raise


def load_bounded(text: str) -> Any:
    """``text``'s value, aliases taken while what they expand to is at most MAX_EXPANDED
    values and MAX_DEPTH levels deep. yaml.YAMLError otherwise (a Refused at the text's
    first line when the expansion is too large)."""
    try:
        loader = (FAST_LOADER or ShallowLoader)(text)
    except UnicodeEncodeError:  # libyaml takes UTF-8; the pure-Python reader refuses the character
        loader = ShallowLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        if "*" not in text and _shallow(text):
            return construct(loader, node)  # nothing to expand, and too few levels to be deep
        expanded, depth = _expansion(node)
        if expanded > MAX_EXPANDED:
            raise Refused(EXPANSION_PROBLEM, node.start_mark)
        if depth > MAX_DEPTH:
            raise Refused(DEPTH_PROBLEM, node.start_mark)
        return construct(loader, node)
    finally:
        loader.dispose()


#: What PyYAML's safe constructors raise, besides YAMLError, for a scalar its tag
#: cannot hold: ``2001-02-30`` (a timestamp, ValueError), ``!!int "zz"`` (ValueError),
#: ``!!bool "maybe"`` (KeyError), ``!!timestamp "x"`` (AttributeError).
_CONSTRUCT_ERRORS = (ValueError, TypeError, KeyError, AttributeError, OverflowError, IndexError)


def construct(loader: yaml.SafeLoader, node: yaml.Node) -> Any:
    """The value of ``node``; every failure a yaml.YAMLError that names the node's line."""
    try:
        return loader.construct_object(node, deep=True)
    except yaml.YAMLError:
        raise
    except _CONSTRUCT_ERRORS as exc:
        written = f"{node.value!r} " if isinstance(node, yaml.ScalarNode) else "a value in it "
        raise yaml.constructor.ConstructorError(
            None, None, f"{written}cannot be read as its YAML type says ({type(exc).__name__}: {exc})",
            node.start_mark) from None


def _shallow(text: str) -> bool:
    """Whether ``text`` cannot nest past MAX_DEPTH, by counting: each level of nesting is
    a mapping or a sequence, and each of those is written with at least one indicator of
    its own (``:`` ``-`` ``?`` ``[`` ``{``). Most front matter has a handful, and then the
    tree is not walked (a page's card reads its front matter on every build)."""
    return sum(text.count(c) for c in ":-?[{") < MAX_DEPTH


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    if isinstance(node, yaml.MappingNode):
        return [n for pair in node.value for n in pair]
    return []


def _too_deep(root: yaml.Node, limit: int) -> yaml.Node | None:
    """The first node more than ``limit`` levels below ``root``'s level, or None. Walked
    with a stack of its own, each node once (libyaml makes an alias the very node it
    names), so a tree of any depth or a graph of aliases costs no recursion."""
    seen: set[int] = set()
    stack = [(root, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > limit:
            return node
        if id(node) in seen:
            continue
        seen.add(id(node))
        stack.extend((child, depth + 1) for child in _children(node))
    return None


def _expansion(root: yaml.Node) -> tuple[int, int]:
    """How many values the graph under ``root`` stands for once every alias is written
    out, and its depth: counted once per distinct node (memoised, children first, with a
    stack of its own), so a billion laughs costs as many steps as it has lines. A cycle
    (a recursive alias, which the constructor refuses anyway) counts as too large."""
    size: dict[int, tuple[int, int]] = {}
    on_path: set[int] = set()
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:
        node, children_done = stack.pop()
        key = id(node)
        if children_done:
            kids = [size[id(c)] for c in _children(node)]
            size[key] = (1 + sum(k[0] for k in kids), 1 + max((k[1] for k in kids), default=0))
            on_path.discard(key)
            continue
        if key in size:
            continue
        if key in on_path:
            return MAX_EXPANDED + 1, 0
        on_path.add(key)
        stack.append((node, True))
        stack.extend((child, False) for child in _children(node) if id(child) not in size)
    return size[id(root)]


def lone_surrogate(text: str) -> str | None:
    """The first lone surrogate in ``text`` as it would be escaped (``\\ud800``), or None.
    YAML's double-quoted escapes can write one (``"a \\ud800 b"``); no UTF-8 text can
    hold it, so a cache key, a request body or a page written with it fails to encode."""
    for ch in text:
        if "\ud800" <= ch <= "\udfff":
            return f"\\u{ord(ch):04x}"
    return None


def surrogate_problem(text: str, what: str) -> str | None:
    """What to say of ``what`` (e.g. "'alt'") holding a lone surrogate, or None."""
    found = lone_surrogate(text)
    if found is None:
        return None
    return (f"{what} holds {found}, half of a UTF-16 pair, which no UTF-8 text can hold: "
            "write the character itself, or remove the escape")


def without_surrogates(text: str) -> str:
    """``text`` with each lone surrogate replaced by U+FFFD: for text that is shown, not
    paid for (a page's title or description on its card), where a refusal helps no one."""
    if lone_surrogate(text) is None:
        return text
    return "".join("\ufffd" if "\ud800" <= ch <= "\udfff" else ch for ch in text)
