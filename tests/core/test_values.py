"""The plain values every part shares: the catalog's one choice of model and ratio, the
provider registry, the settings' defaults, and the HTTP providers' common base."""

import importlib

import pytest

from mkdocs_nanobanana.core.catalog import (
    DEFAULT_PROVIDER,
    DEFAULT_VARIANT,
    PROVIDERS,
    ChoiceError,
    build_catalog,
    normalize_ratio,
)
from mkdocs_nanobanana.core.directives import Defaults
from mkdocs_nanobanana.core.settings import (
    DEFAULT_KEY_ENV,
    Settings,
    SocialSettings,
    Timeouts,
    default_of,
    key_variable,
)

NANO, GEMINI = build_catalog(), build_catalog(provider="gemini")


# --------------------------------------------------------------------------- Catalog.choose


def test_choose_by_variant_by_model_and_by_default():
    assert NANO.choose(ratio="16:9", variant="hd").id == "gemini-2.5-flash-image-hd"
    assert NANO.choose(ratio="1:1").id == NANO.model_for(DEFAULT_VARIANT).id == "gemini-2.5-flash-image"
    # model wins over variant, even over a variant the catalog does not know
    assert NANO.choose(ratio="1:1", variant="nonsense", model="gemini-2.5-flash-image").id == "gemini-2.5-flash-image"


@pytest.mark.parametrize("catalog,choice,key,message", [
    (NANO, {"variant": "hdd"}, "variant", "unknown variant 'hdd': did you mean 'hd'? use standard or hd"),
    (NANO, {"variant": "ultra"}, "variant", "unknown variant 'ultra': use standard or hd"),
    (GEMINI, {"variant": "hd"}, "variant",  # refused: says what to do instead
     "variant 'hd' has no model in the official Gemini API: use variant: standard, or provider: nanobanana for HD"),
    (NANO, {"model": "dall-e-3"}, "model", "unknown model 'dall-e-3': use one of gemini-2.5-flash-image, "
                                           "gemini-2.5-flash-image-hd or add it under 'models:' in mkdocs.yml"),
    (NANO, {"variant": "hd", "ratio": "21:9"}, "ratio", "ratio '21:9' is not offered by gemini-2.5-flash-image-hd: "
                                                        "use one of 1:1, 16:9, 9:16, 4:3, 3:4, 2:3, 3:2, 4:5, 5:4"),
    (NANO, {"variant": "ultra", "ratio": "21:9"}, "variant", "unknown variant 'ultra': use standard or hd"),  # first
])
def test_choice_errors_name_the_key_and_say_what_to_use(catalog, choice, key, message):
    with pytest.raises(ChoiceError) as caught:
        catalog.choose(**{"ratio": "1:1", **choice})
    assert (caught.value.key, str(caught.value)) == (key, message)


def test_pick_keeps_the_model_when_only_the_ratio_is_wrong():
    model = NANO.pick(variant="hd")
    with pytest.raises(ChoiceError):
        model.size("21:9")
    assert model.size("16:9") == (1344, 768)


def test_choice_error_is_a_value_error_with_a_key():
    exc = ChoiceError("ratio", "the message")
    assert isinstance(exc, ValueError) and exc.key == "ratio" and str(exc) == "the message"


# --------------------------------------------------------------------------- normalize_ratio


@pytest.mark.parametrize("value,ratio", [
    ("16:9", "16:9"), ("1:1", "1:1"), ("21:9", "21:9"),
    (969, "16:9"), (61, "1:1"), (243, "4:3"), (1269, "21:9"),  # YAML 1.1 base-60 readings
    (" 16:9", " 16:9"),  # text is kept as written: the catalog judges it
    (True, None), (False, None), (59, None), (0, None), (1.5, None), (None, None), ([16, 9], None),
])
def test_normalize_ratio(value, ratio):
    assert normalize_ratio(value) == ratio


# --------------------------------------------------------------------------- the provider registry


def test_registry_names_and_default():
    assert tuple(PROVIDERS) == ("nanobanana", "gemini") and DEFAULT_PROVIDER == "nanobanana"
    assert all(name == info.name for name, info in PROVIDERS.items())


def test_nanobanana_provider():
    info = PROVIDERS["nanobanana"]
    assert info.api_base == "https://api.nanobananaapi.dev/v1"
    assert info.key_variables == ("NANOBANANA_API_KEY",) and DEFAULT_KEY_ENV == "NANOBANANA_API_KEY"
    catalog = info.catalog()
    assert set(catalog.models) == {"gemini-2.5-flash-image", "gemini-2.5-flash-image-hd"}
    assert dict(catalog.variants) == {"standard": "gemini-2.5-flash-image", "hd": "gemini-2.5-flash-image-hd"}
    assert dict(catalog.refused) == {}


def test_gemini_provider():
    info = PROVIDERS["gemini"]
    assert info.api_base == "https://generativelanguage.googleapis.com/v1beta"
    # google-genai's order (GOOGLE_API_KEY wins when both are set); messages ask for GEMINI_API_KEY
    assert info.key_variables == ("GOOGLE_API_KEY", "GEMINI_API_KEY")
    assert info.key_variable({}) == "GEMINI_API_KEY" and info.key_variable({"GEMINI_API_KEY": "k"}) == "GEMINI_API_KEY"
    assert info.key_variable({"GEMINI_API_KEY": "k", "GOOGLE_API_KEY": "g"}) == "GOOGLE_API_KEY"
    catalog = info.catalog()
    assert list(catalog.models) == ["gemini-2.5-flash-image"] and catalog.models["gemini-2.5-flash-image"].credits == 4
    assert dict(catalog.variants) == {"standard": "gemini-2.5-flash-image"} and list(catalog.refused) == ["hd"]


def test_build_catalog_is_the_providers_catalog_with_user_models():
    extra = {"mine": {"credits": 3}}
    for name, info in PROVIDERS.items():
        assert build_catalog(extra, name) == info.catalog(extra)
        assert build_catalog(extra, name).get("mine").credits == 3


@pytest.mark.parametrize("provider,configured,environ,expected", [
    ("nanobanana", DEFAULT_KEY_ENV, {}, "NANOBANANA_API_KEY"),
    ("nanobanana", "MY_KEY", {"NANOBANANA_API_KEY": "k"}, "MY_KEY"),
    ("gemini", DEFAULT_KEY_ENV, {}, "GEMINI_API_KEY"),  # named in the "not set" message
    ("gemini", DEFAULT_KEY_ENV, {"GOOGLE_API_KEY": "g"}, "GOOGLE_API_KEY"),
    # both set: GOOGLE_API_KEY, as google-genai reads them (issue 33, item 7)
    ("gemini", DEFAULT_KEY_ENV, {"GEMINI_API_KEY": "x", "GOOGLE_API_KEY": "g"}, "GOOGLE_API_KEY"),
    ("gemini", DEFAULT_KEY_ENV, {"GEMINI_API_KEY": "  ", "GOOGLE_API_KEY": "g"}, "GOOGLE_API_KEY"),
    ("gemini", DEFAULT_KEY_ENV, {"GEMINI_API_KEY": "x", "GOOGLE_API_KEY": " "}, "GEMINI_API_KEY"),
    ("gemini", "MY_KEY", {"GEMINI_API_KEY": "x"}, "MY_KEY"),  # a name the user chose wins
])
def test_key_variable(provider, configured, environ, expected):
    assert key_variable(provider, configured, environ) == expected


@pytest.mark.parametrize("name", list(PROVIDERS))
def test_each_factory_is_an_http_provider_of_that_name(name):
    from mkdocs_nanobanana.providers.http import HttpProvider

    module, _, cls = PROVIDERS[name].factory.partition(":")
    provider_class = getattr(importlib.import_module(module), cls)
    assert issubclass(provider_class, HttpProvider) and provider_class.name == name


def test_connect_refuses_an_unknown_provider():
    from mkdocs_nanobanana.providers import ProviderUnavailable, connect

    with pytest.raises(ProviderUnavailable, match="use provider: nanobanana or provider: gemini"):
        connect("dalle", None, "k", Timeouts(), 1)


# --------------------------------------------------------------------------- the HTTP base


SECRET = "sk-test-0123456789abcdef"


@pytest.mark.parametrize("name", list(PROVIDERS))
def test_http_provider_repr_shows_the_endpoint_never_the_key(name):
    module, _, cls = PROVIDERS[name].factory.partition(":")
    provider_class = getattr(importlib.import_module(module), cls)
    provider = provider_class.open("https://api.example.test/v1/", SECRET, Timeouts(5, 5), 2)
    try:
        assert repr(provider) == f"{cls}(api_base='https://api.example.test/v1')"
        assert SECRET not in repr(provider) and SECRET not in str(provider)
        assert SECRET in str(provider.auth_headers())  # where it goes, and only there
    finally:
        provider.close()


# --------------------------------------------------------------------------- defaults


def test_default_of_reads_the_dataclass_defaults():
    assert default_of("quality") == 82 and default_of("widths") == (480, 768, 1024)
    assert default_of("remote_cache_options") == {}  # a default_factory
    assert default_of("variant", SocialSettings) == DEFAULT_VARIANT
    assert default_of("ratio", Defaults) == "1:1"
    with pytest.raises(KeyError):
        default_of("nonsense")


def test_config_defaults_are_the_settings_defaults():
    from mkdocs_nanobanana.hosts.mkdocs.config import NanobananaConfig

    config = NanobananaConfig()
    config.load_dict({})
    assert config.validate() == ([], [])
    plain = Settings(docs_dir="d", site_dir="s", cache_dir="c")
    for name in ("output_dir", "quality", "concurrency", "retries", "max_credits", "api_key_env", "provider",
                 "api_base", "timeout", "answer_timeout", "serve_debounce"):
        assert config[name] == getattr(plain, name), name
    assert tuple(config["widths"]) == plain.widths and tuple(config["formats"]) == plain.formats
    assert (config["ratio"], config["variant"]) == (plain.defaults.ratio, plain.defaults.variant)
    social = SocialSettings()
    for name in ("enabled", "generate", "prompt_template", "variant", "title_overlay", "font", "layout"):
        assert config["social"][name] == getattr(social, name), name


def test_retry_once_is_retried_once_whatever_the_budget():
    from mkdocs_nanobanana.providers.base import RetryOnce, RetryPolicy, TransientError

    calls = []

    def failing(kinds):
        def call():
            calls.append(1)
            raise kinds[min(len(calls) - 1, len(kinds) - 1)]("no")
        return call

    policy = RetryPolicy(retries=5, sleep=lambda s: None)
    with pytest.raises(RetryOnce):
        policy.run(failing([RetryOnce]))
    assert len(calls) == 2  # the first try and one retry, though 5 were allowed
    calls.clear()
    with pytest.raises(TransientError):
        policy.run(failing([TransientError]))
    assert len(calls) == 6  # ordinary transient failures use the whole budget
