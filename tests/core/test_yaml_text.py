"""yaml_text's shortcut: front matter with no alias and too few indicators to nest past
MAX_DEPTH is not walked (a card reads every page's front matter on every build). The
shortcut must never let a deep tree through, nor change a value."""

from __future__ import annotations

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from mkdocs_nanobanana.core import yaml_text

scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=8))
values = st.recursive(scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=5), inner, max_size=3)), max_leaves=60)


def _depth(node: yaml.Node) -> int:
    if isinstance(node, yaml.SequenceNode):
        return 1 + max((_depth(n) for n in node.value), default=0)
    if isinstance(node, yaml.MappingNode):
        return 1 + max((_depth(n) for pair in node.value for n in pair), default=0)
    return 1


@settings(max_examples=300, deadline=None)
@given(values, st.sampled_from([None, True, False]))
def test_text_counted_shallow_is_never_deep(value, flow):
    text = yaml.safe_dump(value, default_flow_style=flow, allow_unicode=True)
    node = yaml.compose(text, Loader=yaml.SafeLoader)
    if yaml_text._shallow(text):
        assert node is None or _depth(node) <= yaml_text.MAX_DEPTH
    assert yaml_text.load_bounded(text) == yaml.safe_load(text)


@pytest.mark.parametrize("text", [
    "- " * 40 + "x",  # block sequences nested on one line
    "[" * 40 + "]" * 40,
    "".join(f"{'  ' * i}k{i}:\n" for i in range(40)) + "  " * 40 + "v",
])
def test_deep_front_matter_is_still_refused(text):
    with pytest.raises(yaml_text.Refused, match="levels deep"):
        yaml_text.load_bounded(text)


def test_a_front_matter_of_a_few_keys_takes_the_shortcut():
    text = "title: A post\ndescription: What it says\ndate: 2026-12-07\ntags:\n  - one\n  - two\n"
    assert yaml_text._shallow(text)
    assert yaml_text.load_bounded(text)["tags"] == ["one", "two"]
