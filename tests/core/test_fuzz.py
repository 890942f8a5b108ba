"""Issue 35, item 9: property tests over what reads untrusted text and bytes.

For any input, the directive parser, the front matter reader, the sidecar and manifest
readers and the option checks return a value or raise the error they document (with a
page:line, or an option's name), within a time bound, and never anything else. Each
input's time is measured as this thread's CPU time (``time.thread_time``), so other
processes on a shared machine do not make the bound flaky; the bound is 100 ms, a
hundred times what a real input costs.

The default run is derandomized with no example database (the same few hundred
examples on every machine, a few seconds); ``pytest -m slow tests/test_fuzz.py`` runs
thousands of random ones. The examples that found bugs are regular tests below the
properties (and in test_directives.TRICKY_BODIES and the hostile corpus).
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mkdocs_nanobanana.cards import drawing, social
from mkdocs_nanobanana.core.card_values import CardStyle, CardText
from mkdocs_nanobanana.core.catalog import PROVIDERS
from mkdocs_nanobanana.core.directives import Directive, DirectiveError, parse_page, scan
from mkdocs_nanobanana.core.option_kinds import OptionError
from mkdocs_nanobanana.core.options import check_options, rows_of
from mkdocs_nanobanana.core.request import Request
from mkdocs_nanobanana.store.cache import BadSidecar, Cache, load_sidecar, parse_sidecar
from mkdocs_nanobanana.store.manifest_damage import BadManifest

CPU_BOUND = 0.1  # seconds of this thread's CPU per input
CATALOG = PROVIDERS["nanobanana"].catalog({})
KEY = "a" * 64


def quick(examples: int):
    """Settings for the default run: fixed examples, no database, no deadline (the bound
    is ours, in CPU time)."""
    return settings(max_examples=examples, derandomize=True, database=None, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


def thorough(examples: int):
    return settings(max_examples=examples, database=None, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


def timed(fn, *args):
    """``fn(*args)``'s result or exception, and the CPU time it took: if that is over the
    bound, the lesser of two runs (a garbage collection or a first call's warm-up is not
    the input's cost; a slow input is slow twice)."""
    def once():
        started = time.thread_time()
        try:
            result: Any = fn(*args)
        except Exception as exc:  # noqa: BLE001 - judged by the caller
            result = exc
        return result, time.thread_time() - started

    result, took = once()
    if took >= CPU_BOUND:
        took = min(took, once()[1])
    return result, took


def utf8(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


# --------------------------------------------------------------------------- strategies

#: Any character, lone surrogates and NUL included (st.text leaves surrogates out).
ANY_CHAR = st.characters(codec=None, exclude_categories=())
#: Pieces of YAML and of directives, so that examples reach past the first parse error.
PIECES = st.sampled_from([
    "prompt: ", "ratio: ", "num: ", "pick: ", "refs: ", "name: ", "alt: ", "social: ", "rev: ", "width: ",
    "class: ", "sizes: ", "backdrop: ", "variant: ", "model: ", "caption: ", "zzz: ",
    "\n", "\n  ", "\t", " ", "- ", ": ", "? ", "&a ", "*a", "<<: *a", "!!python/object:os.system ", "!!binary ",
    "!!int ", "!!bool ", "!!timestamp ", "!!set ", "!custom ", "[", "]", "{", "}", ",", "'", '"', "|", ">", "#",
    '"\\ud800"', '"\\0"', '"\\x07"', "2001-02-30", "0x_", "1e400", "16:9", "1:1", "yes", "~", "null", "---", "...",
    "%YAML 1.1", "\ufeff", "\x85", "\u2028", "#name", "img/a.png", "../../etc/passwd", "/abs.png",
])
YAMLISH = st.lists(PIECES | st.text(ANY_CHAR, max_size=6), max_size=40).map("".join)
BODIES = YAMLISH | st.text(ANY_CHAR, max_size=200)


def page_of(body: str, fence: str = "```") -> str:
    return f"# Page\n\n{fence}nanobanana\n{body}\n{fence}\n\nText.\n"


# --------------------------------------------------------------------------- the directive parser


def _check_parse(text: str) -> None:
    result, took = timed(parse_page, text, "docs/p.md", "p.md", CATALOG)
    assert took < CPU_BOUND, f"{took:.3f} s of CPU"
    assert not isinstance(result, Exception), repr(result)
    blocks, directives, errors = result
    lines = text.count("\n") + text.count("\r") + 2
    for e in errors:
        assert isinstance(e, DirectiveError) and e.path == "docs/p.md" and 1 <= e.line <= lines, e
        assert utf8(str(e)), f"a message that cannot be printed: {e!r}"
    for d in directives:
        if d is None:
            continue
        assert isinstance(d, Directive)
        for value in (d.prompt, d.alt or "", d.caption or "", d.name or "", d.sizes or "", *d.refs):
            assert utf8(value), d
        Request(model=d.model, prompt=d.prompt, ratio=d.ratio, num=d.num, rev=d.rev).key  # noqa: B018 - it encodes


@quick(250)
@given(body=BODIES)
def test_the_directive_parser_takes_any_body(body):
    _check_parse(page_of(body))


@quick(60)
@given(text=st.text(ANY_CHAR, max_size=300), body=BODIES)
def test_the_directive_parser_takes_any_page(text, body):
    _check_parse(text + "\n```nanobanana\n" + body + "\n" + text[: len(text) // 2])


@quick(150)
@given(text=st.text(ANY_CHAR, max_size=300), body=BODIES)
def test_a_page_without_the_info_word_has_no_block_and_no_error(text, body):
    """parse_page skips scanning a page that lacks "nanobanana": the scan finds nothing
    there either, whatever fences, comments and quotes the page has."""
    page = (text + "\n" + page_of(body)).replace("nanobanana", "nano")
    assert scan(page, "docs/p.md") == ([], [])


@pytest.mark.slow
@thorough(5000)
@given(body=BODIES, text=st.text(ANY_CHAR, max_size=300))
def test_the_directive_parser_takes_anything_thorough(body, text):
    _check_parse(page_of(body))
    _check_parse(text + page_of(body, "~~~~"))


# --------------------------------------------------------------------------- front matter


def _check_front_matter(yaml_text: str) -> None:
    text = f"---\n{yaml_text}\n---\n# Title\n\nBody.\n"

    def read():
        info = social.read_page(text, "blog/p.md")
        try:
            source = social.card_source(info, [], source="generate", template="An image for {title}. {description}",
                                        site_description="A site")
        except social.SocialError as exc:
            assert utf8(str(exc)), repr(exc)
            return info, None
        return info, source

    result, took = timed(read)
    assert took < CPU_BOUND, f"{took:.3f} s of CPU"
    assert not isinstance(result, Exception), repr(result)
    info, source = result
    assert utf8(info.title) and utf8(info.description)
    assert 1 <= info.meta_line <= text.count("\n") + 1
    if source is not None:  # what a card is then named and drawn with
        drawing.card_key("src", CardText(source.title, "Site", source.description or ""), CardStyle())
        social.page_meta(info, source.title, "A site")


FRONT_MATTER = st.sampled_from([
    "title: ", "description: ", "nanobanana:\n  social:\n    prompt: ", "nanobanana:\n  social: ", "date: ",
    "social:\n  cards: ", "    layout: ", "    ratio: ", "    variant: ", "    title: ", "    description: ",
]) | PIECES


@quick(150)
@given(front=st.lists(FRONT_MATTER | st.text(ANY_CHAR, max_size=6), max_size=30).map("".join))
def test_the_front_matter_reader_takes_any_yaml(front):
    _check_front_matter(front)


@pytest.mark.slow
@thorough(3000)
@given(front=st.lists(FRONT_MATTER | st.text(ANY_CHAR, max_size=6), max_size=60).map("".join))
def test_the_front_matter_reader_takes_any_yaml_thorough(front):
    _check_front_matter(front)


# --------------------------------------------------------------------------- sidecars and the manifest

JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-2**70, 2**70) | st.floats(allow_nan=True) | st.text(ANY_CHAR, max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)
SIDECAR = {
    "version": 1, "key": KEY, "model": "gemini-2.5-flash-image", "prompt": "A lamp", "ratio": "1:1", "num": 1,
    "refs": [], "rev": 0, "provider": "nanobanana", "credits": 2, "created": "2026-01-01T00:00:00+00:00",
    "files": [{"name": f"{KEY}-1.png", "sha256": "b" * 64, "bytes": 10, "width": 1024, "height": 1024, "alpha": False}],
}


def _mutated_sidecar(changes: dict[str, Any], file_changes: dict[str, Any]) -> bytes:
    meta = json.loads(json.dumps(SIDECAR))
    meta.update(changes)
    if isinstance(meta.get("files"), list) and meta["files"] and isinstance(meta["files"][0], dict):
        meta["files"][0].update(file_changes)
    return json.dumps(meta, ensure_ascii=False, allow_nan=True).encode("utf-8", "surrogatepass")


def _check_sidecar(data: bytes) -> None:
    def read():
        try:
            return parse_sidecar(KEY, load_sidecar(data), Path("/cache/images/aa"))
        except BadSidecar as exc:
            assert utf8(str(exc)), repr(exc)
            return exc

    result, took = timed(read)
    assert took < CPU_BOUND, f"{took:.3f} s of CPU"
    assert not isinstance(result, Exception) or isinstance(result, BadSidecar), repr(result)
    if not isinstance(result, Exception):
        assert result.request.key and all(img.width >= 1 for img in result.images)  # a value the cache can use


@quick(150)
@given(changes=st.dictionaries(st.sampled_from(sorted(SIDECAR)), JSON_VALUES, max_size=3),
       file_changes=st.dictionaries(st.sampled_from(sorted(SIDECAR["files"][0])), JSON_VALUES, max_size=2))
def test_the_sidecar_reader_takes_any_field(changes, file_changes):
    _check_sidecar(_mutated_sidecar(changes, file_changes))


@quick(100)
@given(data=st.binary(max_size=300) | JSON_VALUES.map(lambda v: json.dumps(v, allow_nan=True).encode("utf-8",
                                                                                                 "surrogatepass")))
def test_the_sidecar_reader_takes_any_bytes(data):
    _check_sidecar(data)


def test_a_sidecar_nested_past_the_json_parser_is_bad_not_a_recursion_error():
    _check_sidecar(b"[" * 100_000 + b"]" * 100_000)


def _sites_or_refusal(cache: Cache) -> dict:
    """The sites, or what could be recovered of a manifest that is not one: read_sites
    raises BadManifest (naming the file, so prune can refuse), and nothing else."""
    try:
        return cache.read_sites()
    except BadManifest as exc:
        assert str(cache.manifest_path) in str(exc)
        return exc.recovered or {}


@quick(100)
@given(data=st.binary(max_size=300) | JSON_VALUES.map(lambda v: json.dumps({"version": 2, "sites": v}).encode(
    "utf-8", "surrogatepass")) | JSON_VALUES.map(lambda v: json.dumps(v).encode("utf-8", "surrogatepass")))
def test_the_manifest_reader_takes_any_bytes(tmp_path_factory, data):
    cache = Cache(tmp_path_factory.mktemp("manifest"))
    cache.root.mkdir(parents=True, exist_ok=True)
    cache.manifest_path.write_bytes(data)
    result, took = timed(lambda: (_sites_or_refusal(cache), cache.read_manifest("site")))
    assert took < CPU_BOUND and not isinstance(result, Exception), repr(result)
    sites, directives = result
    assert all(isinstance(k, str) for k in sites) and all(isinstance(v, str) for v in directives.values())


# --------------------------------------------------------------------------- the option checks

OPTION_NAMES = [o.name for o in rows_of()]


def _check_options(given_options: Any) -> None:
    result, took = timed(check_options, given_options)
    assert took < CPU_BOUND, f"{took:.3f} s of CPU"
    if isinstance(result, OptionError):
        assert utf8(str(result)), repr(result)
        assert result.option == "" or result.option.split(".")[0] in {n.split(".")[0] for n in OPTION_NAMES} \
            or result.problem.startswith("unknown option"), result
        return
    assert not isinstance(result, Exception), repr(result)
    assert isinstance(result, dict)


def _nest(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """Dotted option names and values as the nested mapping mkdocs.yml would hold."""
    out: dict[str, Any] = {}
    for name, value in pairs:
        section, _, key = name.rpartition(".")
        target = out.setdefault(section, {}) if section else out
        if isinstance(target, dict):
            target[key] = value
    return out


@quick(150)
@given(pairs=st.lists(st.tuples(st.sampled_from(OPTION_NAMES) | st.text(ANY_CHAR, max_size=8), JSON_VALUES),
                      max_size=4))
def test_the_option_checks_take_any_value(pairs):
    _check_options(_nest(pairs))


@quick(50)
@given(given_options=JSON_VALUES)
def test_the_option_checks_take_any_shape(given_options):
    _check_options(given_options)


# --------------------------------------------------------------------------- what the properties (and issue 35) found

LAUGHS = "\n".join([' a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]'] + [
    f" {chr(98 + i)}: &{chr(98 + i)} [" + ", ".join([f"*{chr(97 + i)}"] * 9) + "]" for i in range(8)])
FOUND_BODIES = [
    "\ud800",  # a raw lone surrogate: libyaml's UnicodeEncodeError (only a host that decodes loosely could send it)
    "prompt: x\nnum: 2001-02-30",  # ValueError from the timestamp constructor
    "prompt: x\nnum: !!bool maybe",  # KeyError
    "prompt: x\nnum: !!timestamp x",  # AttributeError
    "prompt: x\nnum: !!int 0x_",  # ValueError
    "prompt: x\nalt: " + "[" * 1200 + "]" * 1200,  # RecursionError, then 0.66 s in the pure-Python scanner
    "prompt: x\nalt:\n" + "".join(" " * i + "-\n" for i in range(1100)),  # block nesting past libyaml's 1,000
    "prompt: x\nalt:\n" + LAUGHS,  # nine levels of aliases: hours
    'prompt: "a \\ud800 b"',  # a lone surrogate by escape: UnicodeEncodeError in the cache key
    'prompt: x\nrefs: ["a\\0.png"]',  # "embedded null byte"
]
FOUND_FRONT_MATTER = [
    "title: \ud800",
    'title: "\\ud800"\nnanobanana:\n  social: true',
    "date: 2001-02-30\nnanobanana:\n  social: true",
    LAUGHS.replace("\n ", "\n").strip() + "\nnanobanana:\n  social:\n    title: *i\n    prompt: x",
    "nanobanana:\n  social:\n    layout: " + "[" * 900 + "]" * 900,
]


@pytest.mark.parametrize("body", FOUND_BODIES, ids=range(len(FOUND_BODIES)))
def test_what_broke_the_directive_parser(body):
    _check_parse(page_of(body))


@pytest.mark.parametrize("front", FOUND_FRONT_MATTER, ids=range(len(FOUND_FRONT_MATTER)))
def test_what_broke_the_front_matter_reader(front):
    _check_front_matter(front)
