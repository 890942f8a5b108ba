"""A corpus of hostile Markdown (tests/support/hostile/), built as one real site.

Each bad input must give one warning naming docs/<page>.md:<line> and what to do, never a
traceback; every other page must still build, with a placeholder where the image would
be; `--strict` must fail.
"""

from __future__ import annotations

import logging
import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest
from mkdocs.exceptions import Abort
from PIL import Image

from tests.support.corpus import HOSTILE
from tests.support.html import figures
from tests.support.sites import Site, new_site

CORPUS = HOSTILE

# file -> (line, words the message must contain)
EXPECTED = {
    "bad-yaml.md": (5, "does not parse"),
    "python-tag.md": (4, "the YAML tag !!python/object/apply:os.system is not allowed"),
    "unknown-key.md": (5, "did you mean 'ratio'?"),
    "wrong-type-num.md": (5, "'num' must be a whole number"),
    "wrong-type-refs.md": (5, "'refs' must be a list of image paths"),
    "wrong-type-social.md": (5, "'social' must be true or false"),
    "empty-prompt.md": (4, "empty 'prompt'"),
    "missing-prompt.md": (3, "missing 'prompt'"),
    "huge-prompt.md": (4, "keep it under 20,000"),
    "ratio-lacking.md": (5, "ratio '21:9' is not offered by gemini-2.5-flash-image: use one of 1:1"),
    "num-zero.md": (5, "'num: 0' is out of range: use a number from 1 to 9"),
    "num-ten.md": (5, "'num: 10' is out of range"),
    "pick-past-num.md": (6, "'pick: 5' is past the 2 candidate(s)"),
    "four-refs.md": (5, "4 refs given but gemini-2.5-flash-image takes at most 3"),
    "ref-etc-passwd.md": (5, "points outside docs_dir"),
    "ref-absolute.md": (5, "absolute path on disk, which is refused"),
    "ref-symlink.md": (5, "points outside docs_dir"),
    "ref-not-image.md": (5, "is not an image we can read"),
    "ref-missing-name.md": (5, "ref '#nobody' names no directive"),
    "ref-cycle.md": (12, "refs form a cycle"),
    "duplicate-name-a.md": (5, "name 'twin' is also used at docs/duplicate-name-b.md:5"),
    "duplicate-name-b.md": (5, "name 'twin' is also used at docs/duplicate-name-a.md:5"),
    "name-slash.md": (5, "name 'a/b' must be letters, digits"),
    "name-dotdot.md": (5, "name '..' must be letters, digits"),
    "name-space.md": (5, "name 'my image' must be letters, digits"),
    "unclosed-fence.md": (3, "fence is never closed"),
    "nul-byte.md": (4, "a character YAML does not allow (#x0000): remove it"),
    "crlf.md": (5, "'num: 0' is out of range"),
    "list-directive.md": (3, "not a list"),
    "duplicate-key.md": (5, "'prompt' is given twice"),
    "variant-typo.md": (5, "did you mean 'hd'?"),
    "unknown-model.md": (5, "unknown model 'dall-e-3'"),
    "class-injection.md": (5, "'class' holds CSS class names"),
    # issue 35
    "billion-laughs.md": (6, "uses a YAML anchor or alias (&name, *name), which it may not"),
    "front-matter-laughs.md": (11, "expand to more than 10,000 values"),
    "surrogate.md": (4, "'prompt' holds \\ud800, half of a UTF-16 pair"),
    "nul-in-ref.md": (5, "remove the NUL character from refs"),
    "deep-nesting.md": (5, "nests more than 32 levels deep"),
    "bad-timestamp.md": (5, "'2001-02-30' cannot be read as its YAML type says"),
}


def write_corpus(site: Site, folder: Path, huge: bool = True) -> Site:
    """The corpus in the site's docs, a symlink out of it, a good page and, with ``huge``,
    a 10 MB page of 2,000 directives (they are all the same: scanned, one image)."""
    for f in CORPUS.iterdir():
        shutil.copy(f, site.docs / f.name)
    secret = folder / "secret.png"
    Image.new("RGB", (8, 8)).save(secret)
    (site.docs / "escape.png").symlink_to(secret)
    site.page("good.md", "# Good\n\n```nanobanana\nA perfectly fine lamp\n```\n")
    if huge:
        filler = ("Lorem ipsum dolor sit amet. " * 180 + "\n\n")
        block = "```nanobanana\nprompt: The same lamp, two thousand times\n```\n\n"
        site.page("huge-page.md", "# Huge\n\n" + (filler + block) * 2000)
    return site


@dataclass(frozen=True)
class Built:
    site: Site
    records: list[logging.LogRecord]

    @property
    def messages(self) -> list[str]:
        return [r.getMessage() for r in self.records if r.levelname in ("WARNING", "ERROR")]

    @property
    def text(self) -> str:
        """The log as caplog.text has it, tracebacks included."""
        formatter = logging.Formatter()
        return "\n".join(formatter.format(r) for r in self.records)


class _Keep(logging.Handler):
    def __init__(self, records: list[logging.LogRecord]) -> None:
        super().__init__(logging.INFO)
        self.records = records

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Built:
    """The whole corpus built once for the tests that read it: the build is this file's
    slowest step (the 10 MB page through Python-Markdown), and reading does not change it."""
    folder = tmp_path_factory.mktemp("hostile")
    site = write_corpus(new_site(folder / "proj"), folder)
    records: list[logging.LogRecord] = []
    root, handler = logging.getLogger(), _Keep(records)
    level = root.level
    with pytest.MonkeyPatch.context() as env:
        for name in ("NANOBANANA_API_KEY", "NANOBANANA_MODE"):  # as conftest's _no_key, at module scope
            env.delenv(name, raising=False)
        root.addHandler(handler)
        root.setLevel(logging.INFO)
        try:
            site.build()
        finally:
            root.removeHandler(handler)
            root.setLevel(level)
    return Built(site, records)


def test_every_bad_input_is_named_and_the_site_builds(built):
    assert len(EXPECTED) >= 25
    messages = built.messages
    for name, (line, words) in EXPECTED.items():
        prefix = f"nanobanana: docs/{name}:{line}:"
        hits = [m for m in messages if m.startswith(prefix)]
        assert hits, f"{name}: no message starting {prefix!r}; got {[m for m in messages if name in m]}"
        assert any(words in m for m in hits), f"{name}: {hits}"
    assert "Traceback" not in built.text
    # every page was built, and each bad directive has a placeholder that names its line
    for name in EXPECTED:
        page = built.site.site / name[:-3] / "index.html"
        assert page.is_file(), name
    fig, = figures(built.site.html("ref-etc-passwd/index.html"))
    assert "nanobanana-placeholder" in fig["class"] and fig["img"]["title"].startswith("docs/ref-etc-passwd.md:5:")
    assert len(figures(built.site.html("good/index.html"))) == 1
    assert len(figures(built.site.html("huge-page/index.html"))) == 2000


def test_escaping_of_alt_caption_and_prompt(built):
    html = built.site.html("script-in-alt/index.html")
    assert "<script>alert(1)" not in html and "<img src=x onerror" not in html
    fig, = figures(html)
    assert fig["img"]["alt"] == "<script>alert(1)</script>"
    assert fig["caption"] == '"><img src=x onerror=alert(2)>'
    assert "onload" not in built.site.html("class-injection/index.html").split("<figure", 1)[1].split("</figure>")[0]


def test_strict_fails(site, tmp_path):
    """The bad inputs' warnings fail a --strict build (the 10 MB page, which warns of
    nothing, is left out: it would only make the build slower)."""
    write_corpus(site, tmp_path, huge=False)
    with pytest.raises(Abort):
        site.build(strict=True)


def test_non_utf8_page_is_named_not_a_traceback(site, caplog):
    caplog.set_level(logging.INFO)
    (site.docs / "latin1.md").write_bytes("# Caf\xe9\n\n```nanobanana\nprompt: Un caf\xe9\n```\n".encode("latin-1"))
    site.page("good.md", "# Good\n")
    with pytest.raises(UnicodeDecodeError):  # MkDocs itself then stops on the page it cannot decode
        site.build()
    ours = [r.getMessage() for r in caplog.records if r.getMessage().startswith("nanobanana: docs/latin1.md")]
    assert ours and "not UTF-8" in ours[0] and "save it as UTF-8" in ours[0]


# --------------------------------------------------------------------------- issue 35: YAML and text

ROUND_THREE = ("billion-laughs.md", "front-matter-laughs.md", "surrogate.md", "nul-in-ref.md", "deep-nesting.md",
               "bad-timestamp.md")


def test_yaml_bombs_and_unencodable_text_are_named_by_build_and_plan_in_moments(site):
    """Nine levels of nested aliases took hours (`mkdocs build` and `plan` alike), and a
    lone surrogate killed both with UnicodeEncodeError in the cache key: now each is one
    message naming page:line, the rest of the site builds, and the next build too."""
    import time

    from tests.support.commands import bin_path, run

    for name in ROUND_THREE:
        shutil.copy(CORPUS / name, site.docs / name)
    site.page("good.md", "# Good\n\n```nanobanana\nA perfectly fine lamp\n```\n")
    for _ in range(2):  # the next build is not broken either
        started = time.monotonic()
        proc = run([bin_path("mkdocs"), "build"], site.root)
        assert time.monotonic() - started < 60  # a subprocess on a shared machine; the bomb took hours
        assert "Traceback" not in proc.stderr and "UnicodeEncodeError" not in proc.stderr
        for name in ROUND_THREE:
            line, words = EXPECTED[name]
            assert f"docs/{name}:{line}: " in proc.stderr and words in proc.stderr, (name, proc.stderr)
        assert len(figures(site.html("good/index.html"))) == 1
        assert "nanobanana-placeholder" in figures(site.html("surrogate/index.html"))[0]["class"]
    plan = run([bin_path("nanobanana"), "plan"], site.root, check=False)
    assert plan.returncode == 1 and "Traceback" not in plan.stderr
    for name in ROUND_THREE[2:] + ROUND_THREE[:1]:  # the directives' errors are rows of the plan
        line, words = EXPECTED[name]
        assert f"docs/{name}:{line}" in plan.stdout and words in plan.stdout, (name, plan.stdout)


def test_a_billion_laughs_is_refused_in_well_under_a_second():
    import time

    from mkdocs_nanobanana.cards import social
    from mkdocs_nanobanana.core.catalog import PROVIDERS
    from mkdocs_nanobanana.core.directives import parse_page

    catalog = PROVIDERS["nanobanana"].catalog({})
    for name in ("billion-laughs.md", "deep-nesting.md"):
        text = (CORPUS / name).read_text(encoding="utf-8")
        started = time.perf_counter()
        _, directives, errors = parse_page(text, f"docs/{name}", name, catalog)
        assert time.perf_counter() - started < 0.5 and directives == [None] and len(errors) == 1
    started = time.perf_counter()
    info = social.read_page((CORPUS / "front-matter-laughs.md").read_text(encoding="utf-8"), "front-matter-laughs.md")
    assert time.perf_counter() - started < 0.5 and info.meta == {} and "10,000" in info.problem
    # aliases that stay small are front matter's business (other plugins use them): read
    small = social.read_page("---\nbase: &b {cards: true}\nsocial: *b\n---\n# T\n", "t.md")
    assert small.meta["social"] == {"cards": True} and small.problem is None


# --------------------------------------------------------------------------- issue 35: the XMP packet


def test_a_prompt_too_long_for_xmp_is_cut_with_one_warning(site):
    """A 19,000-character prompt of & and < escapes to 95,000 bytes, past JPEG's 64 KB
    segment: `mkdocs build` died ("XMP data is too long"). Now every file carries the
    prompt's start and says it was shortened; one warning names page:line."""
    from mkdocs_nanobanana.imaging.provenance import MAX_XMP_BYTES
    from tests.support.commands import bin_path, run
    from tests.support.provenance import cached, published, xmp_of

    prompt = "&<" * 9_500
    site.configure({"formats": ["webp", "jpeg", "png"], "provenance": {"include_prompt": True}},
                   site_url="https://example.org/")
    site.page("a.md", f"# A\n\n```nanobanana\nprompt: '{prompt}'\nsocial: true\n```\n")
    site.page("b.md", "# B\n\n```nanobanana\nprompt: A short one\n```\n")
    cached(site, prompt, seed=1)
    cached(site, "A short one", seed=2)  # pixels of its own: copies of their own
    for _ in range(2):  # the second build reads what the first wrote
        proc = run([bin_path("mkdocs"), "build"], site.root)
        assert "Traceback" not in proc.stderr and "too long" in proc.stderr
        assert proc.stderr.count("the prompt is too long for the XMP packet") == 1, proc.stderr
        assert "docs/a.md:3: the prompt is too long for the XMP packet" in proc.stderr
    files = published(site)
    long_name = figures(site.html("a/index.html"))[0]["img"]["src"].split("/")[-1][:10]
    cut = [f for f in files if f.name.startswith(long_name)]
    assert {f.suffix for f in cut} == {".webp", ".jpg", ".png"}
    for path in cut + [f for f in files if "social" in f.parts]:
        meta = xmp_of(path)
        assert meta["description"].startswith("&<&<") and "shortened to fit the XMP packet" in meta["description"]
        assert meta["description"].endswith(f"of {len(prompt):,} characters]"), path
    for path in files:  # every packet within the limit; the short prompt whole
        with Image.open(path) as img:
            packet = img.info.get("xmp") or img.info.get("XML:com.adobe.xmp")
        assert len(packet if isinstance(packet, bytes) else packet.encode()) <= MAX_XMP_BYTES
    short = [f for f in files if f not in cut and "social" not in f.parts]
    assert short and all(xmp_of(f)["description"] == "A short one" for f in short)


# --------------------------------------------------------------------------- issue 35: images of extreme shapes


def _strip_png(size: tuple[int, int]) -> bytes:
    import io

    buf = io.BytesIO()
    Image.new("RGB", size, (200, 120, 40)).save(buf, "PNG")
    return buf.getvalue()


STRIPS = {"tall": (2, 40_000), "wide": (40_000, 2), "thin": (4_000, 200)}  # thin: 20:1, within WebP's sides


def _strip_page(site) -> dict[str, int]:
    """A page with one directive per strip (the first one's image is also the card);
    each strip's fence line."""
    text = "# A\n\n" + "".join(f"```nanobanana\nprompt: A {name} strip\nsocial: {str(name == 'tall').lower()}\n```\n\n"
                                for name in STRIPS)
    site.page("a.md", text)
    lines = text.split("\n")
    return {name: lines.index(f"prompt: A {name} strip") for name in STRIPS}  # the fence: the line before, 1-based


@pytest.mark.parametrize("provider", ["nanobanana", "gemini"])
def test_an_api_image_of_an_extreme_shape_is_never_stored(site, api, monkeypatch, caplog, fast_retries, provider):
    """A 2x40,000 or 40,000x2 PNG from the API was stored, then every build failed (WebP's
    16,383 px limit; MemoryError drawing the card): now it is refused where it arrives, a
    warning naming page:line and a placeholder, and the next build buys a usable one."""
    import base64

    from tests.support.live import answer_with_url

    caplog.set_level(logging.INFO)
    if provider == "gemini":
        monkeypatch.setenv("GEMINI_API_KEY", "AIza-shape-test-0123456789")
        site.configure({"provider": "gemini", "api_base": f"{api.origin}/v1beta", "retries": 1, "concurrency": 1},
                       site_url="https://example.org/")

        def answer(size):  # Gemini's answer shape (fakeapi._gemini), with this image inline
            data = base64.b64encode(_strip_png(size)).decode()
            return lambda h: h._json(200, {"candidates": [{"content": {"parts": [
                {"inlineData": {"mimeType": "image/png", "data": data}}]}, "finishReason": "STOP"}]})
    else:
        monkeypatch.setenv("NANOBANANA_API_KEY", "nb-shape-test-0123456789")
        site.configure({"api_base": api.base, "retries": 1, "concurrency": 1}, site_url="https://example.org/")

        def answer(size):
            return answer_with_url(api.add_file(_strip_png(size)))
    fences = _strip_page(site)
    for name, size in STRIPS.items():
        api.faults_for[f"A {name} strip"] = answer(size)
    site.build()
    calls = api.gemini_requests if provider == "gemini" else api.generate_requests
    # NanoBanana: the download is retried, never the POST; Gemini's image was in the paid
    # answer itself: one more call (RetryOnce), which the fake answers with a usable image
    assert len(calls) == (6 if provider == "gemini" else 3)
    said = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert "Traceback" not in caplog.text
    if provider == "gemini":  # the second call got a usable image: stored, shown
        assert len(list(site.cache.keys())) == 3
        assert not any("nanobanana-placeholder" in f["class"] for f in figures(site.html("a/index.html")))
        for name, (w, h) in STRIPS.items():
            assert any(m.startswith(f"nanobanana: docs/a.md:{fences[name]}: ") and f"{w}x{h} pixels" in m
                       for m in said), (name, said)
        return
    for name, (w, h) in STRIPS.items():
        hits = [m for m in said if m.startswith(f"nanobanana: docs/a.md:{fences[name]}: ")]
        assert any(f"{w}x{h} pixels" in m for m in hits), (name, said)
    assert list(site.cache.keys()) == [], "nothing unusable was stored"
    assert ["nanobanana-placeholder" in f["class"] for f in figures(site.html("a/index.html"))] == [True] * 3
    caplog.clear()
    site.build()  # the API answers properly now: every image is bought, the build is fine
    assert len(list(site.cache.keys())) == 3 and "Traceback" not in caplog.text
    assert not any("nanobanana-placeholder" in f["class"] for f in figures(site.html("a/index.html")))


def _store_unchecked(cache, prompt: str, data: bytes):
    """An entry as a build before the shape check stored it (or as a build fetches one
    from the bucket: by hash, undecoded): written with the shape check switched off."""
    from unittest import mock

    from mkdocs_nanobanana.core import image_bytes
    from mkdocs_nanobanana.core.request import Request

    with mock.patch.object(image_bytes, "shape_problem", lambda w, h: None):
        entry = cache.put(Request("gemini-2.5-flash-image", prompt, "1:1"), [data], "test", 2)
    image_bytes._passed.clear()  # what passed then must be judged again
    return entry


def test_a_cached_image_of_an_extreme_shape_is_a_placeholder_not_a_broken_build(site):
    """`mkdocs build` warns naming page:line, shows placeholders for the figure and the
    card, exits 0, and every build after it too; `verify --fix --decode` removes it."""
    from tests.support.commands import bin_path, run

    site.configure({"backdrop": "blur", "formats": ["webp", "jpeg"]}, site_url="https://example.org/")
    fences = _strip_page(site)
    for name, size in STRIPS.items():
        _store_unchecked(site.cache, f"A {name} strip", _strip_png(size))
    site.page("b.md", "# B\n\n```nanobanana\nprompt: A fine lamp\n```\n")
    for _ in range(2):
        proc = run([bin_path("mkdocs"), "build"], site.root)
        assert "Traceback" not in proc.stderr and "MemoryError" not in proc.stderr
        for name, (w, h) in STRIPS.items():
            assert f"docs/a.md:{fences[name]}: the cached image" in proc.stderr, (name, proc.stderr)
            assert f"{w}x{h} pixels" in proc.stderr and "verify --fix --decode" in proc.stderr
        assert ["nanobanana-placeholder" in f["class"] for f in figures(site.html("a/index.html"))] == [True] * 3
        assert (site.site / "assets/nanobanana/social/a.jpg").is_file()
    fixed = run([bin_path("nanobanana"), "verify", "--fix", "--decode"], site.root)
    assert "3 bad, removed" in fixed.stdout and list(site.cache.keys()) == []


@pytest.mark.parametrize("where", ["encode", "resize", "backdrop", "card", "cover"])
def test_an_encoder_or_memory_error_is_a_warning_and_a_placeholder(site, caplog, monkeypatch, where):
    """Whatever Pillow raises while it resizes, encodes, draws a backdrop or a card (here:
    MemoryError, for the image; its placeholder draws fine), the build ends, the figure
    or card shows a placeholder (a backdrop is just left out), a warning names page:line,
    and nothing is a traceback."""
    from mkdocs_nanobanana.cards import drawing
    from mkdocs_nanobanana.imaging import backdrops, copies
    from tests.support.images import seed_cache

    module, name = {"encode": (copies, "encode"), "resize": (copies, "resize"), "backdrop": (backdrops, "compute"),
                    "card": (drawing, "render_card"), "cover": (drawing, "cover")}[where]
    real, calls = getattr(module, name), []

    def first_call_out_of_memory(*args, **kwargs):
        calls.append(1)
        if len(calls) == 1:
            raise MemoryError()
        return real(*args, **kwargs)

    caplog.set_level(logging.INFO)
    site.configure({"backdrop": "blur"}, site_url="https://example.org/")
    site.page("a.md", "# A\n\n```nanobanana\nprompt: A lamp\nsocial: true\n```\n")
    seed_cache(site.cache, "A lamp")
    monkeypatch.setattr(module, name, first_call_out_of_memory)
    site.build()
    assert calls and "Traceback" not in caplog.text
    fig, = figures(site.html("a/index.html"))
    said = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert (site.site / "assets/nanobanana/social/a.jpg").is_file()
    if where == "backdrop":  # the image all the same; its backdrop computed again from the cached file
        assert "nanobanana-placeholder" not in fig["class"] and len(calls) == 2
        return
    assert any(m.startswith("nanobanana: docs/a.md:3:") and "MemoryError" in m for m in said), said
    assert ("nanobanana-placeholder" in fig["class"]) == (where in ("encode", "resize"))


# --------------------------------------------------------------------------- issue 35: font and logo files


@pytest.mark.parametrize("option, name, content", [
    ("font", "Inter.ttf", b"<!DOCTYPE html>\n<html><head><title>Download Inter</title></head></html>"),
    ("font", "empty.otf", b""),
    ("logo", "logo.png", b"<!DOCTYPE html>\n<html>Page not found</html>"),
    ("logo", "logo.svg", b"<!DOCTYPE html>\n<html><body><svg></svg></body></html>"),  # HTML holding an SVG
])
def test_a_font_or_logo_that_is_not_one_is_a_config_error_naming_the_option(site, option, name, content):
    """Was a traceback from Pillow in `mkdocs build`; now each command that reads the
    settings stops with the option's name and what to give instead."""
    from tests.support.commands import bin_path, run

    (site.root / name).write_bytes(content)
    site.configure({"social": {"source": "first_image", option: name}}, site_url="https://example.org/")
    site.page("a.md", "# A\n\n```nanobanana\nprompt: A lamp\n```\n")
    for cmd in ([bin_path("mkdocs"), "build"], [bin_path("nanobanana"), "plan"]):
        proc = run(cmd, site.root, check=False)
        assert proc.returncode != 0 and "Traceback" not in proc.stderr, proc.stderr
        assert f"social.{option}: {site.root / name}: it is not a" in proc.stderr, proc.stderr
        assert ("give a .ttf or .otf file" if option == "font" else "PNG, JPEG, WebP or SVG") in proc.stderr


def test_real_fonts_and_logos_pass_and_a_damaged_font_draws_with_the_built_in_one(site):
    from tests.support.commands import bin_path, run

    Image.new("RGB", (64, 64), (200, 20, 20)).save(site.root / "logo.webp")
    (site.root / "logo.svg").write_text('<?xml version="1.0"?>\n<!-- ours -->\n<svg xmlns="http://www.w3.org/2000/svg" '
                                        'viewBox="0 0 8 8"><rect width="8" height="8"/></svg>')
    (site.root / "damaged.ttf").write_bytes(b"OTTO" + bytes(300))  # looks like OpenType, is not
    site.page("a.md", "# A\n\n```nanobanana\nprompt: A lamp\n```\n")
    for logo in ("logo.webp", "logo.svg"):
        site.configure({"social": {"source": "first_image", "logo": logo, "font": "damaged.ttf"}},
                       site_url="https://example.org/")
        proc = run([bin_path("mkdocs"), "build"], site.root)
        assert "Traceback" not in proc.stderr
        assert proc.stderr.count("cannot be loaded") == 1 and "drawn with the built-in font" in proc.stderr
        assert (site.site / "assets/nanobanana/social/a.jpg").is_file()
