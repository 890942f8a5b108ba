"""Find ```nanobanana fences in Markdown and turn their YAML into checked Directives.

Pure text in, values and errors out: no MkDocs, no file I/O except where a ref path is
resolved (``resolve_ref_path``). Every error carries the file and line the user must edit.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import field
from typing import Any

import yaml

from . import yaml_text
from .catalog import DEFAULT_VARIANT, Catalog, ChoiceError, Model
from .errors import NanobananaError
from .frozen import frozen

__all__ = ["Defaults", "Directive", "DirectiveError", "parse_page"]

INFO_WORD = "nanobanana"

KEYS = (
    "prompt", "ratio", "variant", "model", "alt", "caption", "name", "num", "pick",
    "refs", "social", "rev", "width", "class", "sizes", "backdrop",
)
#: What an image's box shows while the image loads (the ``backdrop`` key and option).
BACKDROPS = ("color", "blur", "none")

#: Long enough for any real prompt; short enough that a pasted file is caught early.
MAX_PROMPT_CHARS = 20_000

_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")
_CLASS_RE = re.compile(r"^-?[A-Za-z_][A-Za-z0-9_-]*$")
_FENCE_OPEN_RE = re.compile(r"^(?P<indent>[ \t]*)(?P<fence>`{3,}|~{3,})(?P<info>.*)$")


@frozen
class DirectiveError(NanobananaError):
    """A problem the user fixes at ``path:line``."""

    path: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.message}"


@frozen
class Block:
    """A ```nanobanana fence as found in the text (1-based line numbers)."""

    start: int  # line of the opening fence
    end: int  # line of the closing fence
    indent: str  # the opening fence's leading whitespace (and ``>`` markers), kept for the replacement line
    body: str  # fence content, dedented by the fence's indent


@frozen
class Directive:
    """One checked directive. ``refs`` are as written; resolution needs the site."""

    path: str  # display path for messages, e.g. docs/posts/a.md
    page: str  # page source path relative to docs_dir, POSIX style
    line: int  # line of the opening fence
    prompt: str
    model: str
    ratio: str
    num: int = 1
    pick: int = 1
    alt: str | None = None
    caption: str | None = None
    name: str | None = None
    refs: tuple[str, ...] = ()
    social: bool = False
    rev: int = 0
    width: int | None = None
    css_class: tuple[str, ...] = ()
    sizes: str | None = None  # the <img sizes> value; the site's (theme-aware) default otherwise
    backdrop: str | None = None  # color | blur | none; the site's ``backdrop`` otherwise
    #: line of each key in the file, so later checks (refs, names) can point at it
    key_lines: Mapping[str, int] = field(default_factory=dict, compare=False, hash=False)

    def line_of(self, key: str) -> int:
        return self.key_lines.get(key, self.line)

    @property
    def where(self) -> str:
        return f"{self.path}:{self.line}"

    @property
    def alt_text(self) -> str:
        return self.alt if self.alt is not None else self.prompt


# --------------------------------------------------------------------------- scanning


def split_lines(text: str) -> list[str]:
    """Lines as Markdown sees them: CRLF and lone CR are line ends too."""
    return text.replace("\r\n", "\n").replace("\r", "\n").split("\n")


def _width(whitespace: str) -> int:
    return len(whitespace.expandtabs(4))


def _dedent(line: str, columns: int) -> str:
    """Remove up to ``columns`` columns of leading whitespace (tabs count to the next stop of 4)."""
    col = 0
    i = 0
    while i < len(line) and line[i] in " \t" and col < columns:
        col = col + 4 - col % 4 if line[i] == "\t" else col + 1
        i += 1
    return " " * max(0, col - columns) + line[i:]


_QUOTE_RE = re.compile(r"^(?:[ ]{0,3}>[ ]?)+")
#: Lines whose content is indented 4 columns further (Python-Markdown's tab length):
#: list items, admonitions and details, content tabs, footnotes, definitions.
_CONTAINER_RE = re.compile(r"^[ \t]*(?:[-*+][ \t]|\d{1,9}[.)][ \t]|!!!|\?\?\?|===|\[\^[^\]]+\]:|:[ \t])")


#: The first character of a line that may open a fence, a quote or an HTML comment.
_MAY_OPEN = frozenset("`~><")


def _unquote(line: str) -> tuple[str, str]:
    """A line's blockquote markers (``> ``, nested ones too) and the rest of it."""
    m = _QUOTE_RE.match(line)
    return (m.group(0), line[m.end():]) if m else ("", line)


def _leading_columns(text: str) -> int:
    return _width(text[: len(text) - len(text.lstrip(" \t"))])


def _opens_comment(rest: str) -> bool:
    """An HTML comment that starts the line and does not end on it: what follows, up to
    its ``-->``, is hidden from readers, so no directive in it is one."""
    stripped = rest.lstrip(" \t")
    return stripped.startswith("<!--") and "-->" not in stripped[4:]


def _in_indented_code(lines: list[str], i: int, columns: int) -> bool:
    """Whether a fence indented ``columns`` at ``lines[i]`` is shown as an indented code
    block: 4 columns past its container's content, after a blank line. Such a block is
    how a page shows the directive's syntax, not a request for an image."""
    if columns < 4 or (i > 0 and _unquote(lines[i - 1])[1].strip()):
        return False  # right after a text line it continues a paragraph or a list item
    for j in range(i - 1, -1, -1):
        rest = _unquote(lines[j])[1]
        if rest.strip() and _leading_columns(rest) < columns:
            base = _leading_columns(rest) + (4 if _CONTAINER_RE.match(rest) else 0)
            return columns - base >= 4
    return True  # nothing less indented above: top level


def scan(text: str, path: str, first_line: int = 1) -> tuple[list[Block], list[DirectiveError]]:
    """Find the nanobanana fences of a Markdown text.

    A fence opened by ``n`` backticks (or tildes) closes only on a line of at least ``n`` of
    the same character, so a ```nanobanana block shown inside a longer outer fence is code,
    not a directive. Fences may be indented (lists, admonitions, content tabs) or quoted
    (``>``). A fence inside an HTML comment, or in an indented code block, is not one.
    """
    blocks: list[Block] = []
    lines = split_lines(text)
    open_fence: tuple[str, int, int, str, bool, bool] | None = None  # char, length, start, indent, ours, quoted
    in_comment = False
    body: list[str] = []
    for i, line in enumerate(lines):
        if open_fence is None:
            if in_comment:
                in_comment = "-->" not in line
                continue
            first = line.lstrip(" \t")[:1]
            if first not in _MAY_OPEN:  # most lines: prose, no fence, quote or comment here
                continue
            quote, rest = _unquote(line) if first == ">" else ("", line)
            if _opens_comment(rest):
                in_comment = True
                continue
            m = _FENCE_OPEN_RE.match(rest)
            if not m or (m.group("fence")[0] == "`" and "`" in m.group("info")):
                continue  # ```code``` on one line is an inline code span, not a fence
            words = m.group("info").split()
            ours = bool(words) and words[0] == INFO_WORD and not _in_indented_code(lines, i, _width(m.group("indent")))
            open_fence = (m.group("fence")[0], len(m.group("fence")), first_line + i, quote + m.group("indent"), ours,
                          bool(quote))
            body = []
            continue
        char, length, start, indent, ours, quoted = open_fence
        inner = _unquote(line)[1] if quoted else line
        stripped = inner.strip(" \t")
        if stripped and set(stripped) == {char} and len(stripped) >= length:
            if ours:
                cols = _width(indent[len(_unquote(indent)[0]):])
                blocks.append(Block(start, first_line + i, indent, "\n".join(_dedent(b, cols) for b in body)))
            open_fence = None
        elif ours:
            body.append(inner)
    return blocks, _unclosed(open_fence, path)


def _unclosed(open_fence, path: str) -> list[DirectiveError]:
    if open_fence is None or not open_fence[4]:
        return []
    char, length, start = open_fence[:3]
    return [DirectiveError(
        path, start,
        f"this {char * length}{INFO_WORD} fence is never closed: add a line of "
        f"{char * length} after the directive's YAML",
    )]


# --------------------------------------------------------------------------- parsing


@frozen
class Defaults:
    """Site-wide defaults from the plugin config (these are the config's own defaults)."""

    ratio: str = "1:1"
    variant: str = DEFAULT_VARIANT


def _suggest(key: str) -> str:
    import difflib  # here, not at the top: only a mistake needs it, and every build imports this module

    close = difflib.get_close_matches(key.lower(), KEYS, n=1, cutoff=0.5)
    hint = f"did you mean '{close[0]}'? " if close else ""
    return f"unknown key '{key}': {hint}valid keys are {', '.join(KEYS)}"


def _yaml_ready(body: str) -> str:
    """YAML refuses tabs as indentation and after ``key:``; writers paste them anyway."""
    out = []
    for line in body.split("\n"):
        stripped = line.lstrip(" \t")
        lead = line[: len(line) - len(stripped)].expandtabs(4)
        out.append(lead + re.sub(r"^([A-Za-z_]+):\t+", r"\1: ", stripped))
    return "\n".join(out)


_CORE_TAGS = {"str", "int", "float", "bool", "null", "seq", "map", "timestamp", "binary"}


def _foreign_tag(node: yaml.Node) -> str | None:
    """A tag outside YAML's core types (``!!python/object``, ``!custom``), as written."""
    for n in _walk(node):
        prefix = "tag:yaml.org,2002:"
        if not n.tag.startswith(prefix) or n.tag[len(prefix):] not in _CORE_TAGS:
            return "!!" + n.tag[len(prefix):] if n.tag.startswith(prefix) else n.tag
    return None


def _walk(node: yaml.Node):
    yield node
    if isinstance(node, yaml.SequenceNode):
        for child in node.value:
            yield from _walk(child)
    elif isinstance(node, yaml.MappingNode):
        for k, v in node.value:
            yield from _walk(k)
            yield from _walk(v)


class _Fields:
    """Reads typed values out of a YAML mapping node, collecting errors with lines.

    It also carries what the readers share: the catalog and the site's defaults, a
    prompt-only block's text, and the model once chosen (its limits bound num and refs).
    """

    def __init__(
        self, loader: yaml.SafeLoader, path: str, first_line: int, catalog: Catalog, defaults: Defaults
    ) -> None:
        self.loader = loader
        self.path = path
        self.first_line = first_line
        self.catalog = catalog
        self.defaults = defaults
        self.errors: list[DirectiveError] = []
        self.lines: dict[str, int] = {}
        self.nodes: dict[str, yaml.Node] = {}
        self.unread: set[str] = set()  # keys whose value could not be read (and that was said)
        self.prompt_only: str | None = None  # the whole block, when it is a prompt alone
        self.model: Model | None = None

    def error(self, key: str, message: str) -> None:
        self.errors.append(DirectiveError(self.path, self.lines.get(key, self.first_line), message))

    def text(self, key: str) -> str | None:
        node = self.nodes.get(key)
        if node is None:
            return None
        # The raw scalar, not YAML 1.1's reading of it: `ratio: 16:9` would be 969 and
        # `alt: yes` would be True.
        if not isinstance(node, yaml.ScalarNode):
            self.error(key, f"'{key}' must be text, not a list or mapping")
            return None
        problem = yaml_text.surrogate_problem(node.value, f"'{key}'")
        if problem:
            self.error(key, problem)
            return None
        return node.value

    def value(self, key: str) -> Any:
        node = self.nodes.get(key)
        if node is None:
            return None
        try:
            value = yaml_text.construct(self.loader, node)
        except yaml.YAMLError as exc:
            self.error(key, f"'{key}': {getattr(exc, 'problem', None) or exc}")
            self.unread.add(key)
            return None
        texts = value if isinstance(value, list) else [value]  # refs: a list (no deeper: refused below)
        problems = (yaml_text.surrogate_problem(v, f"'{key}'") for v in texts if isinstance(v, str))
        problem = next((p for p in problems if p), None)
        if problem:
            self.error(key, problem)
            self.unread.add(key)
            return None
        return value

    def integer(self, key: str, low: int, high: int | None, default: int | None) -> int | None:
        if key not in self.nodes:
            return default
        v = self.value(key)
        if key in self.unread:
            return default
        if isinstance(v, bool) or not isinstance(v, int):
            self.error(key, f"'{key}' must be a whole number, got {self.text(key)!r}")
            return default
        if v < low or (high is not None and v > high):
            span = f"from {low} to {high}" if high is not None else f"at least {low}"
            self.error(key, f"'{key}: {v}' is out of range: use a number {span}")
            return default
        return v


def parse_block(
    block: Block, path: str, page: str, catalog: Catalog, defaults: Defaults = Defaults()
) -> tuple[Directive | None, list[DirectiveError]]:
    """YAML of one block -> a checked Directive, or the errors that stop it."""
    first = block.start + 1  # line of the first body line
    text = _yaml_ready(block.body)
    loader = None
    try:
        try:
            loader, node = yaml_text.compose_plain(text)
        except yaml.YAMLError as exc:
            return None, [DirectiveError(path, first + _error_line(exc, text), _yaml_problem(exc))]
        return _directive_from_node(loader, node, block, path, page, catalog, defaults)
    finally:
        if loader is not None:
            loader.dispose()


def _error_line(exc: yaml.YAMLError, text: str) -> int:
    """0-based line of a YAML error within ``text``."""
    mark = getattr(exc, "problem_mark", None)
    if mark is not None:
        return mark.line
    position = getattr(exc, "position", None)  # ReaderError: a bad character
    return text.count("\n", 0, position) if isinstance(position, int) else -1


def _yaml_problem(exc: yaml.YAMLError) -> str:
    if isinstance(exc, yaml.reader.ReaderError):
        return (f"the directive contains a character YAML does not allow (#x{exc.character:04x}): "
                "remove it")
    if isinstance(exc, yaml_text.Refused):
        return f"the directive {exc.problem}"
    problem = getattr(exc, "problem", None) or str(exc)
    return (f"the directive's YAML does not parse ({problem}); quote values that contain "
            "': ' or '#', e.g. prompt: \"A: B\"")


def _directive_from_node(loader, node, block, path, page, catalog, defaults):
    shape = _shape(node, block, path)
    if isinstance(shape, DirectiveError):
        return None, [shape]
    mapping, prompt_only = shape
    f = _Fields(loader, path, block.start, catalog, defaults)
    f.prompt_only = prompt_only
    if mapping is not None:
        _collect_keys(f, mapping, block.start + 1)
    values: dict[str, Any] = {}
    for read in _READERS:
        values.update(read(f))
    if f.errors:
        return None, f.errors
    return Directive(path=path, page=page, line=block.start, key_lines=dict(f.lines), **values), []


def _shape(node, block: Block, path: str) -> tuple[yaml.MappingNode | None, str | None] | DirectiveError:
    """The block's mapping of keys, or (None, its text) when the block is a prompt alone."""
    if node is None or (isinstance(node, yaml.ScalarNode) and not node.value.strip()):
        return DirectiveError(path, block.start, "empty directive: write a prompt, e.g. prompt: A lighthouse at dusk")
    if isinstance(node, yaml.ScalarNode):
        return None, block.body.strip()
    if not isinstance(node, yaml.MappingNode):
        return DirectiveError(
            path, block.start,
            "a directive is a prompt or a mapping of keys (prompt:, ratio:, ...), not a list",
        )
    keys = [k.value for k, _ in node.value if isinstance(k, yaml.ScalarNode)]
    # "A cozy nook: watercolor" is a prompt that YAML reads as a mapping; no writer
    # means a key with spaces in it, so take the whole text as the prompt.
    if keys and len(node.value) == 1 and " " in keys[0].strip() and keys[0] not in KEYS:
        return None, block.body.strip()
    return node, None


def _collect_keys(f: _Fields, node: yaml.MappingNode, first: int) -> None:
    """Each known key's value node and line; unknown, repeated or tagged keys are errors."""
    for knode, vnode in node.value:
        line = first + knode.start_mark.line
        if not isinstance(knode, yaml.ScalarNode):
            f.errors.append(DirectiveError(f.path, line, "keys must be plain words such as prompt or ratio"))
            continue
        key = knode.value
        if key in f.nodes:
            f.errors.append(DirectiveError(f.path, line, f"'{key}' is given twice: keep one"))
            continue
        f.lines[key] = line
        if key not in KEYS:
            f.errors.append(DirectiveError(f.path, line, _suggest(key)))
            continue
        tag = _foreign_tag(vnode)
        if tag:
            f.errors.append(DirectiveError(
                f.path, line, f"'{key}': the YAML tag {tag} is not allowed: write a plain value"))
            continue
        f.nodes[key] = vnode


# One reader per group of keys, in the order their errors are reported; each returns
# the Directive fields it fills.


def prompt_problem(prompt: str) -> str | None:
    """What is wrong with a prompt's text, wherever it comes from (a directive, a card's
    front matter, the card template filled in), or None."""
    if not prompt.strip():
        return "empty 'prompt': say what the image shows"
    if len(prompt) > MAX_PROMPT_CHARS:
        return f"'prompt' is {len(prompt):,} characters; keep it under {MAX_PROMPT_CHARS:,}"
    if "\x00" in prompt:
        return "'prompt' contains a NUL character: remove it"
    return yaml_text.surrogate_problem(prompt, "'prompt'")


def _read_prompt(f: _Fields) -> dict[str, Any]:
    prompt = f.prompt_only if f.prompt_only is not None else f.text("prompt")
    if f.prompt_only is None and "prompt" not in f.lines:  # present but refused: already said
        f.error("prompt", "missing 'prompt': say what the image shows, e.g. prompt: A lighthouse at dusk")
    elif prompt is not None and (problem := prompt_problem(prompt)) is not None:
        f.error("prompt", problem)
    return {"prompt": prompt.strip() if prompt is not None else None}


def _read_model(f: _Fields) -> dict[str, Any]:
    """model, variant and ratio: the catalog judges them, the site's defaults fill in."""
    model_id, variant = f.text("model"), f.text("variant")
    try:
        f.model = f.catalog.pick(model=model_id, variant=variant if variant is not None else f.defaults.variant)
    except ChoiceError as exc:
        f.error(exc.key, str(exc))
    ratio = f.text("ratio")
    ratio = (ratio if ratio is not None else f.defaults.ratio).strip()
    if f.model is not None:
        try:
            f.model.size(ratio)
        except ChoiceError as exc:
            f.error(exc.key, f'{exc} (quote it: ratio: "16:9")')
    return {"model": f.model.id if f.model else None, "ratio": ratio}


#: Whose limits bound num and refs when the model is unknown (that error is already
#: reported): the limits every model has unless its entry says otherwise.
_ANY_MODEL = Model("the model", credits=0, sizes={})


def _read_counts(f: _Fields) -> dict[str, Any]:
    num = f.integer("num", 1, (f.model or _ANY_MODEL).max_num, 1)
    pick = f.integer("pick", 1, None, 1)
    if pick is not None and num is not None and pick > num:
        f.error("pick", f"'pick: {pick}' is past the {num} candidate(s) of 'num: {num}': use 1 to {num}, or raise num")
    return {"num": num, "pick": pick}


def _read_rev_width(f: _Fields) -> dict[str, Any]:
    return {"rev": f.integer("rev", 0, None, 0), "width": f.integer("width", 1, 10_000, None)}


def _read_name(f: _Fields) -> dict[str, Any]:
    name = f.text("name")
    if name is not None and not _NAME_RE.match(name):
        f.error("name", f"name '{name}' must be letters, digits, '-' or '_' (no spaces, '/' or '..'), "
                        "at most 64 characters")
    return {"name": name}


def _read_refs(f: _Fields) -> dict[str, Any]:
    if "refs" not in f.nodes:
        return {"refs": ()}
    raw = f.value("refs")
    if "refs" in f.unread:
        return {"refs": ()}
    if isinstance(raw, str):
        raw = [raw]
    if raw is None and f.nodes["refs"].tag.endswith(":null"):
        raw = []
    if not isinstance(raw, list) or not all(isinstance(r, str) and r.strip() for r in raw):
        f.error("refs", "'refs' must be a list of image paths or #names, e.g. refs: [img/sketch.png, \"#hero\"]")
        return {"refs": ()}
    refs = tuple(r.strip() for r in raw)
    with_nul = next((r for r in refs if "\x00" in r), None)
    if with_nul is not None:  # the OS would refuse the path with only "embedded null byte"
        f.error("refs", f"ref {with_nul!r} contains a NUL character, which no file name can: "
                        "remove the NUL character from refs")
        return {"refs": ()}
    model = f.model or _ANY_MODEL
    if len(refs) > model.max_refs:
        f.error("refs", f"{len(refs)} refs given but {model.id} takes at most {model.max_refs}: "
                        f"remove {len(refs) - model.max_refs}")
    return {"refs": refs}


def _read_social(f: _Fields) -> dict[str, Any]:
    value = f.value("social") if "social" in f.nodes else False
    if "social" in f.unread:
        value = False
    elif not isinstance(value, bool):
        f.error("social", "'social' must be true or false")
        value = False
    return {"social": value}


def _read_class(f: _Fields) -> dict[str, Any]:
    cls = f.text("class")
    css = tuple(cls.split()) if cls is not None else ()
    bad = [c for c in css if not _CLASS_RE.match(c)]
    if bad:
        f.error("class", f"'class' holds CSS class names separated by spaces; {bad[0]!r} is not one")
    return {"css_class": css}


def _read_texts(f: _Fields) -> dict[str, Any]:
    sizes = f.text("sizes")
    if sizes is not None and ('"' in sizes or "<" in sizes or not sizes.strip()):
        f.error("sizes", "'sizes' is an HTML sizes value, e.g. sizes: \"(min-width: 60em) 700px, 100vw\"")
        sizes = None
    return {"alt": f.text("alt"), "caption": f.text("caption"), "sizes": sizes.strip() if sizes else None}


def _read_backdrop(f: _Fields) -> dict[str, Any]:
    backdrop = f.text("backdrop")
    if backdrop is not None and backdrop not in BACKDROPS:
        f.error("backdrop", f"'backdrop' is what the image's box shows while it loads: {', '.join(BACKDROPS)}; "
                            f"got {backdrop!r}")
        backdrop = None
    return {"backdrop": backdrop}


_READERS = (
    _read_prompt, _read_model, _read_counts, _read_rev_width, _read_name, _read_refs, _read_social,
    _read_class, _read_texts, _read_backdrop,
)


def parse_page(
    text: str, path: str, page: str, catalog: Catalog, defaults: Defaults = Defaults(), first_line: int = 1
) -> tuple[list[Block], list[Directive | None], list[DirectiveError]]:
    """Every block of a page, its Directive (None where invalid), and all errors."""
    if INFO_WORD not in text:  # no fence of ours can open: most pages, each read for its card
        return [], [], []
    blocks, errors = scan(text, path, first_line)
    directives: list[Directive | None] = []
    for block in blocks:
        d, errs = parse_block(block, path, page, catalog, defaults)
        directives.append(d)
        errors.extend(errs)
    return blocks, directives, errors


# --------------------------------------------------------------------------- site checks


def is_name_ref(ref: str) -> bool:
    return ref.startswith("#")


def check_names(directives: list[Directive]) -> list[tuple[Directive, DirectiveError]]:
    """Duplicate names (reported at both places), refs to missing names, and ref cycles.

    Each error comes with the directive it stops.
    """
    found: list[tuple[Directive, DirectiveError]] = []
    by_name: dict[str, Directive] = {}
    for d in directives:
        if d.name is None:
            continue
        other = by_name.get(d.name)
        if other is not None:
            for here, there in ((d, other), (other, d)):
                found.append((here, DirectiveError(
                    here.path, here.line_of("name"),
                    f"name '{d.name}' is also used at {there.path}:{there.line_of('name')}: "
                    "names must be unique across the site",
                )))
        else:
            by_name[d.name] = d
    for d in directives:
        for ref in d.refs:
            if is_name_ref(ref) and ref[1:] not in by_name:
                import difflib  # here, not at the top: only a mistake needs it, and every build imports this module

                close = difflib.get_close_matches(ref[1:], list(by_name), n=1)
                hint = f" Did you mean '#{close[0]}'?" if close else ""
                found.append((d, DirectiveError(
                    d.path, d.line_of("refs"),
                    f"ref '{ref}' names no directive: give the source directive 'name: {ref[1:]}'.{hint}",
                )))
    found.extend(_cycles(directives, by_name))
    return found


def _cycles(directives: list[Directive], by_name: Mapping[str, Directive]) -> list[tuple[Directive, DirectiveError]]:
    found = []
    state: dict[str, int] = {}  # 1 = on the current path, 2 = done

    def visit(name: str, trail: list[str]) -> None:
        state[name] = 1
        d = by_name[name]
        for ref in d.refs:
            target = ref[1:] if is_name_ref(ref) else None
            if target is None or target not in by_name:
                continue
            if state.get(target) == 1:
                loop = trail[trail.index(target):] + [target]
                found.append((d, DirectiveError(
                    d.path, d.line_of("refs"),
                    f"refs form a cycle ({' -> '.join('#' + n for n in loop)}): an image cannot be "
                    "refined from itself; remove one of these refs",
                )))
            elif target not in state:
                visit(target, trail + [target])
        state[name] = 2

    for d in directives:
        if d.name is not None and d.name not in state and by_name.get(d.name) is d:
            visit(d.name, [d.name])
    return found


def ref_order(directives: list[Directive]) -> list[Directive]:
    """Directives so that each comes after every directive it refs by #name."""
    by_name = {d.name: d for d in directives if d.name}
    done: set[int] = set()
    out: list[Directive] = []

    def place(d: Directive, depth: int = 0) -> None:
        if id(d) in done or depth > len(directives):
            return
        done.add(id(d))
        for ref in d.refs:
            target = by_name.get(ref[1:]) if is_name_ref(ref) else None
            if target is not None:
                place(target, depth + 1)
        out.append(d)

    for d in directives:
        place(d)
    return out


def resolve_ref_path(ref: str, page: str, docs_dir: str) -> str:
    """The real path of a file ref, confined to docs_dir; ValueError says what is wrong.

    ``ref`` is relative to the page's folder, or rooted at docs_dir when it starts with
    ``/``. Symlinks are resolved first, so a link out of docs_dir is refused too.
    """
    if "\x00" in ref:
        raise ValueError(f"ref {ref!r} contains a NUL character: remove the NUL character from refs")
    root = os.path.realpath(docs_dir)
    if ref.startswith("/"):
        candidate = os.path.join(root, ref.lstrip("/"))
    elif os.path.isabs(ref) or re.match(r"^[A-Za-z]:[\\/]", ref):
        raise ValueError(f"ref '{ref}' is an absolute path: use a path relative to the page or starting with / "
                         "(docs_dir)")
    else:
        candidate = os.path.join(root, os.path.dirname(page), ref)
    real = os.path.realpath(candidate)
    if real != root and not real.startswith(root + os.sep):
        raise ValueError(f"ref '{ref}' points outside docs_dir: put the image inside the docs folder")
    if not os.path.isfile(real):
        if ref.startswith("/") and os.path.exists(ref):
            raise ValueError(
                f"ref '{ref}' is an absolute path on disk, which is refused: refs starting with / "
                "are rooted at docs_dir, so copy the image into docs_dir"
            )
        raise ValueError(f"ref '{ref}' does not exist (looked for {os.path.relpath(real, root)} in docs_dir)")
    return real


def replace_blocks(text: str, blocks: list[Block], tokens: list[str], first_line: int = 1) -> str:
    """``text`` with each block's fence lines replaced by its token on a paragraph of its own.

    The token keeps the fence's indent, so a directive in a list item, an admonition or a
    content tab stays inside it; the blank lines around it end any paragraph before it.
    """
    lines = split_lines(text)
    for block, token in sorted(zip(blocks, tokens, strict=True), key=lambda bt: bt[0].start, reverse=True):
        start, end = block.start - first_line, block.end - first_line
        blank = block.indent.rstrip()  # ">" inside a blockquote: a bare blank line would end it
        lines[start:end + 1] = [blank, block.indent + token, blank]
    return "\n".join(lines)
