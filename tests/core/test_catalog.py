"""The model catalog is data; users add models in config."""

import pytest

from mkdocs_nanobanana.core.catalog import CatalogError, build_catalog


def test_builtin_models():
    cat = build_catalog()
    std, hd = cat.model_for("standard"), cat.model_for("hd")
    assert (std.id, std.credits, hd.id, hd.credits) == ("gemini-2.5-flash-image", 2, "gemini-2.5-flash-image-hd", 5)
    assert std.ratios == ["1:1", "16:9", "9:16", "4:3", "3:4", "2:3", "3:2", "4:5", "5:4"]
    assert std.sizes["16:9"] == (1344, 768) and std.max_num == 9 and std.max_refs == 3


def test_user_model_copies_base_and_adds_ratio():
    cat = build_catalog({"gemini-3.1-flash-image-preview": {"credits": 8, "sizes": {"21:9": [1536, 672]},
                                                            "max_refs": 5}})
    m = cat.get("gemini-3.1-flash-image-preview")
    assert m.credits == 8 and m.sizes["21:9"] == (1536, 672) and m.sizes["1:1"] == (1024, 1024) and m.max_refs == 5


@pytest.mark.parametrize("spec,words", [
    ({}, "credits"), ({"credits": -1}, "credits"), ({"credits": 2, "like": "nope"}, "not a known model"),
    ({"credits": 2, "colour": 1}, "unknown field"), ({"credits": 2, "sizes": {"2:1": "wide"}}, "WIDTHxHEIGHT"),
    ("cheap", "mapping"),
])
def test_bad_user_models(spec, words):
    with pytest.raises(CatalogError, match=words):
        build_catalog({"m": spec})
