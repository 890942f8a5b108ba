"""Derivatives and the <figure> HTML."""

import io
import posixpath
from html.parser import HTMLParser
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st
from PIL import Image

from mkdocs_nanobanana.cards import social
from mkdocs_nanobanana.core.request import sha256
from mkdocs_nanobanana.core.settings import Encoding
from mkdocs_nanobanana.imaging import copies, markup
from mkdocs_nanobanana.store.cache import Cache
from tests.support.images import photo_png


def ensure_derivatives(source: copies.Source, widths, exts, quality: int, cache: Cache) -> list[copies.DerivedFile]:
    """Every derivative's (file, width, height, ext), making the missing ones, as a build does."""
    enc = Encoding(quality)
    files = copies.derivative_files(source, widths, exts, enc, cache)
    copies.make_missing(source, files, enc, cache.temp.create_once)
    return files


def source_of(data: bytes) -> copies.Source:
    img = Image.open(io.BytesIO(data))
    return copies.Source(sha256(data), img.width, img.height, "A" in img.getbands(),
                         lambda: Image.open(io.BytesIO(data)))


def test_plan_widths_never_upscales():
    assert copies.plan_widths(1344, [480, 768, 1024]) == [480, 768, 1024]
    assert copies.plan_widths(800, [480, 768, 1024]) == [480, 768, 800]
    assert copies.plan_widths(300, [480, 768]) == [300]


def test_plan_exts_png_for_alpha():
    assert copies.plan_exts(["webp", "jpeg"], alpha=False) == ["webp", "jpg"]
    assert copies.plan_exts(["webp", "jpeg"], alpha=True) == ["webp", "png"]


def test_derivatives_sizes_formats_and_cache(tmp_path):
    cache = Cache(tmp_path)
    src = source_of(photo_png((1344, 768)))
    files = ensure_derivatives(src, copies.plan_widths(1344, [480, 768, 1024]), ["webp", "jpg"], 82, cache)
    assert len(files) == 6
    for path, w, h, ext in files:
        with Image.open(path) as img:
            assert img.size == (w, h)
            assert img.format == {"webp": "WEBP", "jpg": "JPEG"}[ext]
    assert (files[0][1], files[0][2]) == (480, 274)
    mtimes = [p.stat().st_mtime_ns for p, *_ in files]

    def boom():
        raise AssertionError("a warm call must not open the source")

    warm = copies.Source(src.id, src.width, src.height, src.alpha, boom)
    assert ensure_derivatives(warm, [480, 768, 1024], ["webp", "jpg"], 82, cache) == files
    assert [p.stat().st_mtime_ns for p, *_ in files] == mtimes


def test_encoder_settings_name_the_copies(tmp_path):
    """Quality and every other encoder choice are in a copy's name: a change re-encodes (a
    new name) instead of showing the old bytes; no extras keep the first release's names,
    which existing caches hold; the cache owns both kinds of name (prune may remove them)."""
    from mkdocs_nanobanana.store.cache import DERIVED_NAME_RE

    cache, sid = Cache(tmp_path), "a" * 64
    plain = copies.derivative_files(copies.Source(sid, 960, 540, False, None), [480], ["webp"], Encoding(82), cache)
    assert plain[0][0].name == f"{sid}-480w-q82.webp"
    names = {copies.derivative_files(copies.Source(sid, 960, 540, False, None), [480], ["webp"], enc, cache)[0][0].name
             for enc in (Encoding(82), Encoding(70), Encoding(82, (("xmp", "on"),)), Encoding(82, (("xmp", "off"),)))}
    assert len(names) == 4
    assert Encoding(82, (("a", "1"), ("b", "2"))).tag == Encoding(82, (("b", "2"), ("a", "1"))).tag  # order-free
    assert all(DERIVED_NAME_RE.match(n) for n in names)


def test_alpha_source_keeps_transparency(tmp_path):
    cache = Cache(tmp_path)
    src = source_of(photo_png((1024, 1024), alpha=True))
    files = ensure_derivatives(src, [480], copies.plan_exts(["webp", "jpeg"], True), 82, cache)
    exts = [f[3] for f in files]
    assert exts == ["webp", "png"]
    with Image.open(files[1][0]) as img:
        assert img.mode == "RGBA" and img.getextrema()[3][0] < 255


def test_small_source_is_not_upscaled(tmp_path):
    cache = Cache(tmp_path)
    src = source_of(photo_png((300, 200)))
    files = ensure_derivatives(src, copies.plan_widths(300, [480, 768]), ["jpg"], 82, cache)
    assert [(w, h) for _, w, h, _ in files] == [(300, 200)]
    with Image.open(files[0][0]) as img:
        assert img.size == (300, 200)


def test_relative_urls():
    r = markup.relative_url
    assert r("assets/nanobanana/a.jpg", "") == "assets/nanobanana/a.jpg"
    assert r("assets/nanobanana/a.jpg", "index.html") == "assets/nanobanana/a.jpg"
    assert r("assets/nanobanana/a.jpg", "posts/a/") == "../../assets/nanobanana/a.jpg"
    assert r("assets/nanobanana/a.jpg", "posts/a.html") == "../assets/nanobanana/a.jpg"
    assert r("assets/nanobanana/a.jpg", "assets/nanobanana/") == "a.jpg"
    assert r("assets/nanobanana/social/a.jpg", "assets/nanobanana/x.html") == "social/a.jpg"
    assert r("a.jpg", "posts/a/") == "../../a.jpg"
    assert r("a.jpg", "") == "a.jpg"
    assert r("assets/b/a.jpg", "assets/c/d/") == "../../b/a.jpg"


class Tags(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags = []
        self.text = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data):
        self.text.append(data)


def test_figure_html_escapes_and_marks():
    variants = [
        copies.Variant("assets/nb/x-480.webp", 480, 270, "webp"),
        copies.Variant("assets/nb/x-1024.webp", 1024, 576, "webp"),
        copies.Variant("assets/nb/x-480.jpg", 480, 270, "jpg"),
        copies.Variant("assets/nb/x-1024.jpg", 1024, 576, "jpg"),
    ]
    out = markup.figure_html(
        variants, page_url="posts/a/", alt='<script>alert("x")</script> & co', caption="<b>bold</b> & 'q'",
        eager=True, placeholder=True, css_class=("wide",),
    )
    assert "<script>" not in out and "<b>" not in out
    p = Tags()
    p.feed(out)
    tags = dict(p.tags)
    assert tags["figure"]["class"] == "nanobanana nanobanana-placeholder wide"
    assert tags["source"]["type"] == "image/webp"
    assert tags["source"]["srcset"] == "../../assets/nb/x-480.webp 480w, ../../assets/nb/x-1024.webp 1024w"
    img = tags["img"]
    assert img["src"] == "../../assets/nb/x-1024.jpg" and (img["width"], img["height"]) == ("1024", "576")
    assert img["alt"] == '<script>alert("x")</script> & co'
    assert img["loading"] == "eager" and img["fetchpriority"] == "high" and img["decoding"] == "async"
    assert "".join(p.text).strip() == "<b>bold</b> & 'q'"


def test_figure_lazy_and_width_hint():
    variants = [copies.Variant("a/x-1024.jpg", 1024, 1024, "jpg")]
    out = markup.figure_html(variants, page_url="", alt="a", width_hint=600)
    assert 'loading="lazy"' in out and "fetchpriority" not in out
    assert 'sizes="(max-width: 600px) 100vw, 600px"' in out and "<source" not in out


def test_embed_takes_the_paragraph_and_tokens_do_not_prefix_each_other():
    # plugin tokens end in "Y", so token 1 is never a prefix of token 12
    page = "<p>NBX1Y</p>\n<li>NBX12Y</li>"
    token = r"NBX\d+Y"
    assert markup.embed(page, {"NBX1Y": "<figure/>"}, token) == "<figure/>\n<li>NBX12Y</li>"
    assert markup.embed(page, {"NBX12Y": "<figure/>"}, token) == "<p>NBX1Y</p>\n<li><figure/></li>"
    assert markup.embed(page, {"NBX1Y": "<a/>", "NBX12Y": "<b/>"}, token) == "<a/>\n<li><b/></li>"


def test_each_width_is_resized_once_for_every_format(tmp_path, monkeypatch):
    """Resizing is half of a cold build's local work: one resize per width, encoded to
    WebP and JPEG from the same pixels."""
    src = source_of(photo_png((1344, 768)))
    calls = []
    real_resize = Image.Image.resize
    def counting_resize(self, size, *a, **k):
        calls.append(size)
        return real_resize(self, size, *a, **k)

    monkeypatch.setattr(Image.Image, "resize", counting_resize)
    files = ensure_derivatives(src, [480, 768, 1024], ["webp", "jpg"], 82, Cache(tmp_path))
    assert sorted(calls) == [(480, 274), (768, 439), (1024, 585)]
    assert len(files) == 6
    for path, w, h, ext in files:
        with Image.open(path) as img:
            assert img.size == (w, h) and img.format == {"webp": "WEBP", "jpg": "JPEG"}[ext]


def test_publishing_copies_where_links_cannot_be_made_and_replaces_stale_files(tmp_path, monkeypatch):
    """The cache on another file system (EXDEV), with and without a stale file of an
    earlier --dirty build in the site: the site gets the cache's bytes each time."""
    import errno
    import os

    src = tmp_path / "cache" / "a.jpg"
    src.parent.mkdir()
    src.write_bytes(b"new bytes")
    out = tmp_path / "site"
    files = [(src, 480, 270, "jpg")]
    assert [v.url for v in copies.publish(files, out, "assets/nb", "x")] == ["assets/nb/x-480.jpg"]
    assert os.path.samefile(src, out / "x-480.jpg")  # a hard link where it can be one

    (out / "x-480.jpg").unlink()
    (out / "x-480.jpg").write_bytes(b"stale")
    real_link = os.link

    def cross_device(a, b):
        if os.path.exists(b):
            return real_link(a, b)  # the kernel says EEXIST first
        raise OSError(errno.EXDEV, "Invalid cross-device link")

    monkeypatch.setattr(os, "link", cross_device)
    copies.publish(files, out, "assets/nb", "x")
    assert (out / "x-480.jpg").read_bytes() == b"new bytes"
    copies.publish(files, out, "assets/nb", "x")  # a copy already there: copied again, no error
    assert (out / "x-480.jpg").read_bytes() == b"new bytes"
    assert copies.publish_cached([(tmp_path / "cache" / "missing.jpg", 480, 270, "jpg")], out, "assets/nb", "y") is None


def test_small_widths_are_resized_from_a_copy_twice_as_wide_with_the_same_picture():
    """The cascade (a width made from a copy at least twice as wide, not from the source)
    keeps the picture: SSIM >= 0.995 against LANCZOS from the source, on the fake API's
    noisy photo-like image, the hardest case for it. A copy less than twice as wide is
    not used."""
    from bench.ssim import ssim
    from tests.fakeapi import image_png

    src = Image.open(io.BytesIO(image_png((1344, 768), 0, photo=True))).convert("RGB")
    wide = copies.resize(src, (1024, 585), [])
    small = copies.resize(src, (480, 274), [wide])
    assert small.size == (480, 274)
    exact = src.resize((480, 274), Image.Resampling.LANCZOS)
    assert small.tobytes() != exact.tobytes(), "made from the 1024 copy"
    assert ssim(small, exact) >= 0.995
    exact = src.resize((768, 439), Image.Resampling.LANCZOS)
    assert copies.resize(src, (768, 439), [wide]).tobytes() == exact.tobytes()
    assert copies.resize(src, src.size, [wide]) is src


def test_todays_copies_are_named_apart_from_the_first_releases(tmp_path):
    """Copies are made differently since the first release (baseline JPEG, WebP effort 0,
    the cascade): their names say so, so an old cache's copies are made again from the
    cached source (no API call), and prune knows the old ones are stale."""
    from mkdocs_nanobanana.core.settings import COPY_RECIPE, Settings

    enc = Settings(docs_dir="d", site_dir="s", cache_dir="c").encoding
    assert enc.extras[:len(COPY_RECIPE)] == COPY_RECIPE and enc.tag != Encoding(82).tag and enc.tag.startswith("q82-")
    data = photo_png((1024, 1024))
    files = copies.derivative_files(source_of(data), [480], ["jpg", "webp"], enc, Cache(tmp_path))
    assert all(path.name.endswith(f"-480w-{enc.tag}.{ext}") for path, _, _, ext in files)
    copies.make_missing(source_of(data), files, enc, Cache(tmp_path).temp.create_once)
    with Image.open(files[0][0]) as jpeg:
        assert not jpeg.info.get("progressive"), "baseline: same pixels, a third of the CPU"


# --------------------------------------------------------------------------- relative folders

_SEGMENT = st.sampled_from(["a", "b", "posts", "my page", ".", "..", "x.y", ""])


@given(st.lists(_SEGMENT, max_size=5), st.lists(_SEGMENT, max_size=5))
def test_relative_folders_are_what_relpath_says(to, start):
    """markup works a folder's relative path out from the parts (relpath asks the OS for
    the working directory twice a call): the same answer as posixpath.relpath, for any
    two folders a site's URLs have."""
    folder, base = "/".join(to) or ".", "/".join(start) or "."
    assert markup._relative_folder.__wrapped__(folder, base) == posixpath.relpath(folder, base)


@given(st.lists(st.text(alphabet="ab #,%é", min_size=1, max_size=3), min_size=1, max_size=4),
       st.lists(_SEGMENT, max_size=3), st.sampled_from(["/", ".html"]))
def test_a_picture_links_each_copy_as_its_own_relative_url_would(url_parts, page_parts, end):
    """A <picture> works its copies' folder out once (``_linker``): each URL is still
    the file's own relative URL, percent-encoded and escaped, from any page."""
    url = "/".join(url_parts)
    page_url = "/".join(page_parts) + end if page_parts else ""
    link = markup._linker(page_url, "")
    expected = markup.html.escape(markup.url_path(markup.relative_url(url, page_url)))
    assert link(url) == expected and link(url) == expected  # the second from the memo


@given(st.lists(st.sampled_from(["a", "b.", ".hidden", "x.md", "..md", "c#.md", "d.tar.md"]), min_size=1,
                max_size=4))
def test_a_card_url_cuts_the_suffix_as_pathlib_does(parts):
    """A page src path (MkDocs never gives one a "." part) loses its suffix as Path.suffix reads it."""
    src = "/".join(parts)
    path = Path(src)
    assert social.card_url(src, "out") == f"out/social/{src[: -len(path.suffix)] if path.suffix else src}.jpg"
