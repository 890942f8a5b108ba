"""The fence-aware scanner and the YAML -> Directive parser, with page:line errors."""

import os

import pytest

from mkdocs_nanobanana.core.catalog import build_catalog
from mkdocs_nanobanana.core.directives import (
    Defaults,
    check_names,
    parse_page,
    ref_order,
    replace_blocks,
    resolve_ref_path,
    scan,
)
from tests.support.commands import REPO
from tests.support.corpus import HOSTILE

CATALOG = build_catalog()
PATH = "docs/post.md"
DEFAULTS = Defaults()


def parse(text, defaults=DEFAULTS):
    blocks, directives, errors = parse_page(text, PATH, "post.md", CATALOG, defaults)
    return blocks, directives, errors


def one(text):
    _, directives, errors = parse(text)
    assert not errors, [str(e) for e in errors]
    assert len(directives) == 1
    return directives[0]


def only_error(text):
    _, _, errors = parse(text)
    assert len(errors) == 1, [str(e) for e in errors]
    return str(errors[0])


# --------------------------------------------------------------------------- scanning


def test_backtick_and_tilde_fences_of_any_length():
    text = "```nanobanana\nA\n```\n\n~~~~ nanobanana\nB\n~~~~\n\n`````nanobanana\nC\n`````\n"
    blocks, errors = scan(text, PATH)
    assert not errors
    assert [b.body for b in blocks] == ["A", "B", "C"]
    assert [(b.start, b.end) for b in blocks] == [(1, 3), (5, 7), (9, 11)]


def test_block_inside_longer_outer_fence_is_not_a_directive():
    text = "````markdown\n```nanobanana\nprompt: shown, not generated\n```\n````\n\n~~~\n```nanobanana\nx\n```\n~~~\n"
    blocks, errors = scan(text, PATH)
    assert blocks == [] and errors == []


def test_closing_fence_must_be_as_long_as_the_opening():
    text = "````nanobanana\nprompt: a\n```\nstill inside\n````\n"
    blocks, _ = scan(text, PATH)
    assert len(blocks) == 1 and blocks[0].body == "prompt: a\n```\nstill inside"


def test_other_languages_and_inline_backticks_are_ignored():
    text = "```python\nx = 1\n```\n```nanobanana``` is inline code\n```nanobananas\nnot ours\n```\n"
    blocks, errors = scan(text, PATH)
    assert blocks == [] and errors == []


def test_indented_directive_in_list_and_admonition():
    text = (
        "- item\n\n    ```nanobanana\n    prompt: in a list\n    ratio: \"16:9\"\n    ```\n\n"
        '!!! note\n\n    ```nanobanana\n    prompt: in an admonition\n    ```\n\n'
        '=== "Tab"\n\n    ```nanobanana\n    prompt: in a tab\n    ```\n'
    )
    _, directives, errors = parse(text)
    assert not errors
    assert [d.prompt for d in directives] == ["in a list", "in an admonition", "in a tab"]
    assert directives[0].ratio == "16:9" and directives[0].line == 3


def test_tabs_for_indentation_and_after_colon():
    text = "-\titem\n\n\t```nanobanana\n\tprompt:\tA tabbed prompt\n\tratio:\t\"4:3\"\n\t```\n"
    d = one(text)
    assert d.prompt == "A tabbed prompt" and d.ratio == "4:3"


def test_crlf_file_gives_right_lines_and_values():
    text = "# T\r\n\r\n```nanobanana\r\nprompt: crlf\r\nratio: \"3:2\"\r\n```\r\n"
    d = one(text)
    assert (d.prompt, d.ratio, d.line) == ("crlf", "3:2", 3)


def test_unicode_and_emoji_prompt():
    d = one("```nanobanana\nprompt: Ein Bücherregal 📚 猫と本, «soft» light\n```\n")
    assert d.prompt == "Ein Bücherregal 📚 猫と本, «soft» light"


def test_unclosed_fence_is_an_error_not_a_crash():
    msg = only_error("text\n\n```nanobanana\nprompt: never closed\n")
    assert msg.startswith("docs/post.md:3:") and "never closed" in msg and "```" in msg


def test_first_line_offset_for_front_matter():
    blocks, _ = scan("```nanobanana\nx\n```\n", PATH, first_line=5)
    assert (blocks[0].start, blocks[0].end) == (5, 7)


def test_replace_blocks_keeps_indent_and_other_text():
    text = "intro\n- item\n    ```nanobanana\n    prompt: a\n    ```\nafter\n"
    blocks, _ = scan(text, PATH)
    out = replace_blocks(text, blocks, ["TOKEN"])
    assert out == "intro\n- item\n\n    TOKEN\n\nafter\n"


# --------------------------------------------------------------------------- values


def test_plain_string_is_the_prompt_with_defaults():
    d = one("```nanobanana\nA cozy reading nook by a rainy window\n```\n")
    assert (d.prompt, d.ratio, d.model, d.num, d.pick, d.rev) == (
        "A cozy reading nook by a rainy window", "1:1", "gemini-2.5-flash-image", 1, 1, 0)
    assert d.alt_text == d.prompt


def test_plain_string_with_colon_is_still_the_prompt():
    d = one("```nanobanana\nA lighthouse at dusk: long exposure, film grain\n```\n")
    assert d.prompt == "A lighthouse at dusk: long exposure, film grain"


def test_config_defaults_apply():
    _, directives, _ = parse("```nanobanana\nx\n```\n", Defaults(ratio="16:9", variant="hd"))
    assert directives[0].ratio == "16:9" and directives[0].model == "gemini-2.5-flash-image-hd"


def test_every_key():
    d = one(
        "```nanobanana\nprompt: P\nratio: 16:9\nvariant: hd\nalt: yes\ncaption: C\nname: nook\n"
        "num: 4\npick: 2\nrefs: [a.png, \"#other\"]\nsocial: true\nrev: 3\nwidth: 600\nclass: wide framed\n```\n"
    )
    # unquoted 16:9 is YAML 1.1 base-60 (969); the raw text is what the writer meant
    assert d.ratio == "16:9" and d.alt == "yes"
    assert (d.model, d.caption, d.name, d.num, d.pick, d.refs, d.social, d.rev, d.width, d.css_class) == (
        "gemini-2.5-flash-image-hd", "C", "nook", 4, 2, ("a.png", "#other"), True, 3, 600, ("wide", "framed"))


def test_model_overrides_variant():
    d = one("```nanobanana\nprompt: P\nvariant: standard\nmodel: gemini-2.5-flash-image-hd\n```\n")
    assert d.model == "gemini-2.5-flash-image-hd"


def test_user_model_from_config_is_accepted():
    catalog = build_catalog({"my-model": {"credits": 8, "sizes": {"21:9": "1536x672"}}})
    _, directives, errors = parse_page("```nanobanana\nprompt: P\nmodel: my-model\nratio: \"21:9\"\n```\n", PATH,
                                       "post.md", catalog)
    assert not errors and directives[0].model == "my-model"


# --------------------------------------------------------------------------- bad input, one message each


def test_bad_yaml_names_the_line():
    msg = only_error("# t\n\n```nanobanana\nprompt: [unclosed\nratio: x\n```\n")
    assert msg.startswith("docs/post.md:5:") and "does not parse" in msg


def test_python_tag_is_refused():
    msg = only_error("```nanobanana\nprompt: !!python/object/apply:os.system [echo hi]\n```\n")
    assert msg.startswith("docs/post.md:2:") and "prompt" in msg


def test_unknown_key_suggests_closest():
    msg = only_error("```nanobanana\nprompt: P\nration: 16:9\n```\n")
    assert msg.startswith("docs/post.md:3:") and "did you mean 'ratio'?" in msg


def test_duplicate_key():
    msg = only_error("```nanobanana\nprompt: P\nprompt: Q\n```\n")
    assert msg.startswith("docs/post.md:3:") and "twice" in msg


def test_empty_directive_and_empty_prompt():
    assert "empty directive" in only_error("```nanobanana\n\n```\n")
    msg = only_error("```nanobanana\nprompt: \"  \"\nratio: \"1:1\"\n```\n")
    assert msg.startswith("docs/post.md:2:") and "empty 'prompt'" in msg


def test_missing_prompt():
    assert "missing 'prompt'" in only_error("```nanobanana\nratio: \"1:1\"\n```\n")


def test_huge_prompt():
    msg = only_error("```nanobanana\nprompt: " + "x" * 100_000 + "\n```\n")
    assert "100,000 characters" in msg


def test_ratio_the_model_lacks_lists_valid_ones():
    msg = only_error("```nanobanana\nprompt: P\nratio: \"21:9\"\n```\n")
    assert msg.startswith("docs/post.md:3:") and "1:1, 16:9, 9:16" in msg


@pytest.mark.parametrize("num", ["0", "10", "two", "true", "2.5"])
def test_num_outside_1_to_9(num):
    msg = only_error(f"```nanobanana\nprompt: P\nnum: {num}\n```\n")
    assert msg.startswith("docs/post.md:3:") and "'num" in msg


def test_pick_past_num():
    msg = only_error("```nanobanana\nprompt: P\nnum: 2\npick: 3\n```\n")
    assert msg.startswith("docs/post.md:4:") and "pick: 3" in msg and "1 to 2" in msg


def test_too_many_refs():
    msg = only_error("```nanobanana\nprompt: P\nrefs: [a.png, b.png, c.png, d.png]\n```\n")
    assert msg.startswith("docs/post.md:3:") and "at most 3" in msg


@pytest.mark.parametrize("name", ["a/b", "..", "has space", "x" * 65])
def test_bad_names(name):
    msg = only_error(f"```nanobanana\nprompt: P\nname: \"{name}\"\n```\n")
    assert msg.startswith("docs/post.md:3:") and "name" in msg


def test_unknown_variant_and_model():
    assert "did you mean 'hd'" in only_error("```nanobanana\nprompt: P\nvariant: hdd\n```\n")
    assert "unknown model 'dall-e'" in only_error("```nanobanana\nprompt: P\nmodel: dall-e\n```\n")


def test_wrong_types():
    assert "list of image paths" in only_error("```nanobanana\nprompt: P\nrefs: {a: 1}\n```\n")
    assert "true or false" in only_error("```nanobanana\nprompt: P\nsocial: maybe\n```\n")
    assert "must be text" in only_error("```nanobanana\nprompt: [a, b]\n```\n")
    assert "not a list" in only_error("```nanobanana\n- a\n- b\n```\n")


def test_nul_byte_in_prompt():
    assert "NUL" in only_error("```nanobanana\nprompt: \"a\\0b\"\n```\n")


def test_errors_in_one_block_do_not_hide_the_next():
    text = "```nanobanana\nprompt: P\nnum: 0\n```\n\n```nanobanana\nGood\n```\n"
    _, directives, errors = parse(text)
    assert len(errors) == 1 and directives[0] is None and directives[1].prompt == "Good"


# --------------------------------------------------------------------------- site checks


def directives_of(*pages):
    out = []
    for i, text in enumerate(pages):
        _, ds, errors = parse_page(text, f"docs/p{i}.md", f"p{i}.md", CATALOG)
        assert not errors
        out.extend(ds)
    return out


def test_duplicate_names_name_both_places():
    ds = directives_of("```nanobanana\nprompt: A\nname: hero\n```\n", "\n\n```nanobanana\nprompt: B\nname: hero\n```\n")
    messages = [str(e) for _, e in check_names(ds)]
    assert len(messages) == 2
    assert messages[0].startswith("docs/p1.md:5:") and "docs/p0.md:3" in messages[0]
    assert messages[1].startswith("docs/p0.md:3:") and "docs/p1.md:5" in messages[1]


def test_ref_to_missing_name_suggests():
    ds = directives_of("```nanobanana\nprompt: A\nname: hero\n```\n```nanobanana\nprompt: B\nrefs: [\"#heroo\"]\n```\n")
    (d, err), = check_names(ds)
    assert str(err).startswith("docs/p0.md:7:") and "'#heroo' names no directive" in str(err) and "#hero" in str(err)


def test_ref_cycle_detected():
    ds = directives_of(
        "```nanobanana\nprompt: A\nname: a\nrefs: ['#b']\n```\n"
        "```nanobanana\nprompt: B\nname: b\nrefs: ['#a']\n```\n"
    )
    errors = [str(e) for _, e in check_names(ds)]
    assert len(errors) == 1 and "cycle" in errors[0] and "#a -> #b -> #a" in errors[0]


def test_self_ref_is_a_cycle():
    ds = directives_of("```nanobanana\nprompt: A\nname: a\nrefs: ['#a']\n```\n")
    assert "cycle" in str(check_names(ds)[0][1])


def test_ref_order_puts_targets_first():
    ds = directives_of(
        "```nanobanana\nprompt: C\nrefs: ['#b']\n```\n```nanobanana\nprompt: B\nname: b\nrefs: ['#a']\n```\n"
        "```nanobanana\nprompt: A\nname: a\n```\n"
    )
    assert [d.prompt for d in ref_order(ds)] == ["A", "B", "C"]


def test_ref_paths_resolve_and_stay_inside_docs(tmp_path):
    docs = tmp_path / "docs"
    (docs / "posts" / "img").mkdir(parents=True)
    (docs / "img").mkdir()
    (docs / "posts" / "img" / "a.png").write_bytes(b"x")
    (docs / "img" / "b.png").write_bytes(b"x")
    (tmp_path / "secret.png").write_bytes(b"x")
    os.symlink(tmp_path / "secret.png", docs / "link.png")
    assert resolve_ref_path("img/a.png", "posts/p.md", str(docs)).endswith("posts/img/a.png")
    assert resolve_ref_path("/img/b.png", "posts/p.md", str(docs)).endswith("docs/img/b.png")
    assert resolve_ref_path("../img/b.png", "posts/p.md", str(docs)).endswith("docs/img/b.png")
    for bad, words in [
        ("../../secret.png", "outside docs_dir"),
        ("../../../../etc/passwd", "outside docs_dir"),
        (str(tmp_path / "secret.png"), "absolute path on disk, which is refused"),
        ("C:/Windows/x.png", "absolute path"),
        ("link.png", "outside docs_dir"),
        ("img/missing.png", "does not exist"),
    ]:
        with pytest.raises(ValueError, match=words):
            resolve_ref_path(bad, "p.md", str(docs))


# --------------------------------------------------------------------------- libyaml vs PyYAML

TRICKY_BODIES = [
    "prompt: A: B", 'prompt: "A: B"', "prompt: a # b", "ratio: 16:9\nprompt: x", "prompt: x\nprompt: y",
    "prompt: x\n\tratio: '1:1'", "prompt:\tx", "- a\n- b", "prompt: [unclosed", "prompt: {a: 1}",
    "prompt: x\nnum: 0x10", "prompt: x\nnum: 1_0", "prompt: x\nnum: 3.0", "prompt: x\nnum: yes",
    "prompt: x\nalt: no", "prompt: !!python/object:os.system x", "prompt: !custom x", "prompt: &a x\nalt: *a",
    "prompt: *undefined", "prompt: x\n  bad: indent", "? complex\n: key", "prompt: |\n  multi\n  line",
    "prompt: >\n  folded\n  text", "prompt: x\u0085y", "prompt: caf\u00e9 \U0001F600", "prompt: x\x07",
    "prompt: x\nrefs: [a.png, '#n', b.png]", "prompt: x\nrev: -1", "%YAML 1.1\n---\nprompt: x", "---\nprompt: x\n...",
    "prompt: x\n---\nprompt: y", "prompt: 'it''s'", 'prompt: "tab\\tescape"', "prompt: x\nwidth: 1e3",
    "just a prompt line", "prompt: x\nnum: 2\npick: 3", "'", '"', "{", "prompt: \ufeffx",
    # issue 35: what a constructor, an alias or nesting must not crash or hang
    "prompt: x\nnum: 2001-02-30", "prompt: x\nnum: !!bool maybe", 'prompt: "a \\ud800 b"',
    "prompt: x\nalt: " + "[" * 40 + "]" * 40, "prompt: x\nalt: " + "[" * 1200 + "]" * 1200,
    "prompt: x\nalt:\n" + "".join(" " * i + "-\n" for i in range(40)), "prompt: salt & pepper *hot*",
]


def _bodies():
    files = [str(p) for p in sorted(HOSTILE.iterdir())]
    for root, _, names in os.walk(REPO / "example_site"):
        files += [os.path.join(root, n) for n in names if n.endswith(".md")]
    for f in files:
        with open(f, encoding="utf-8", errors="replace") as fh:
            yield from (b.body for b in scan(fh.read(), f)[0])
    yield from TRICKY_BODIES


def test_libyaml_reads_every_directive_as_pure_python_yaml_does(monkeypatch):
    """The fast loader is only a speed-up: for every body of the hostile corpus, the
    example site and a list of YAML corner cases, the result (directive or errors, with
    their lines) is the same as with PyYAML's own loader."""
    from mkdocs_nanobanana.core import yaml_text

    assert yaml_text.FAST_LOADER is not None, "PyYAML without libyaml: this test would compare a loader with itself"
    bodies = list(_bodies())
    assert len(bodies) > 60
    for body in bodies:
        text = "```nanobanana\n" + body + "\n```\n"
        fast = parse(text)
        monkeypatch.setattr(yaml_text, "FAST_LOADER", None)
        slow = parse(text)
        monkeypatch.undo()
        assert fast[1] == slow[1], body
        assert [str(e) for e in fast[2]] == [str(e) for e in slow[2]], body
