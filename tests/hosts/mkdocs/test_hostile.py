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
