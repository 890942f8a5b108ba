"""The host-neutral core driven directly, without MkDocs: Analysis on page texts, the
Budget, a slot's life (``next_state``/``placeholder_note``), the Scheduler with an
in-process fake provider, the Renderer, and a BuildSession end to end.

No network: the provider is a Python object that counts its calls and answers with real
PNGs of the catalog size. What the tests assert is what users see and pay for: provider
calls, cache entries, files in the site, figure HTML, warnings and the summary line.
"""

from __future__ import annotations

import hashlib
import re
import threading
from pathlib import Path

import pytest
from PIL import Image

from mkdocs_nanobanana.build.analysis import Analysis
from mkdocs_nanobanana.build.budget import Ask, Budget
from mkdocs_nanobanana.build.plan import plan
from mkdocs_nanobanana.build.purchase import Buyer, Purchase
from mkdocs_nanobanana.build.scheduler import DEFERRED_NOTE, Scheduler, next_state, placeholder_note
from mkdocs_nanobanana.build.session import BuildSession
from mkdocs_nanobanana.build.site_use import record_use
from mkdocs_nanobanana.build.slot import Slot, State
from mkdocs_nanobanana.build.sources import source_of
from mkdocs_nanobanana.cards import drawing
from mkdocs_nanobanana.core import card_values
from mkdocs_nanobanana.core.catalog import FLASH_IMAGE_SIZES
from mkdocs_nanobanana.core.directives import Block, Defaults, Directive, DirectiveError
from mkdocs_nanobanana.core.pages import PageText
from mkdocs_nanobanana.core.reporting import Reporter
from mkdocs_nanobanana.core.request import Request
from mkdocs_nanobanana.core.settings import Settings, SocialSettings
from mkdocs_nanobanana.providers import placeholder
from mkdocs_nanobanana.providers.base import ContentPolicyError, ImageOrder
from mkdocs_nanobanana.store.cache import Cache, CacheEntry
from tests.fakeapi import image_png
from tests.support.analysis import PLANNED_WIDTHS, make_settings, read
from tests.support.directives import fence
from tests.support.images import seed_cache

FLASH = "gemini-2.5-flash-image"
HD = "gemini-2.5-flash-image-hd"
# --------------------------------------------------------------------------- helpers


class FakeProvider:
    """An in-process provider: records each call, answers with real PNGs whose size is the
    catalog's for the requested ratio and whose bytes follow from the request (and so are
    the same on every run)."""

    name = "fake"

    def __init__(self, fail: set[str] = frozenset()) -> None:
        self.calls: list[ImageOrder] = []
        self.fail = set(fail)  # prompts the provider refuses
        self.closed = False
        self._lock = threading.Lock()

    def generate(self, job: ImageOrder, retry) -> list[bytes]:
        with self._lock:
            self.calls.append(job)
        if job.request.prompt in self.fail:
            raise ContentPolicyError("refused by the fake provider")
        size = FLASH_IMAGE_SIZES[job.request.ratio]
        seed = int(job.request.key[:8], 16)
        return [image_png(size, seed + i) for i in range(job.request.num)]

    def close(self) -> None:
        self.closed = True

    @property
    def prompts(self) -> list[str]:
        return [c.request.prompt for c in self.calls]


class Run:
    """One build through Analysis + Scheduler, the way BuildSession wires them."""

    def __init__(self, settings: Settings, pages: dict[str, str], provider: FakeProvider | None = None,
                 defer: bool = False) -> None:
        self.warnings: list[str] = []
        self.cache = Cache(settings.cache_dir)
        report = Reporter(self.warnings.append)
        self.analysis = Analysis(settings, self.cache, report)
        self.analysis.read([PageText(p, t) for p, t in pages.items()])
        buyer = Buyer(provider, self.cache, settings, self.warnings.append) if provider is not None else None
        self.scheduler = Scheduler(settings, self.analysis, report, buyer=buyer, defer=defer)
        self.scheduler.start()
        self.summary = self.scheduler.finish()

    def slot(self, page: str, i: int = 0) -> Slot:
        return self.analysis.slots[page][i]


def outcomes(summary: str) -> str:
    """The summary line's counts of images by outcome, without its count of encodes
    (which test_remote_copies asserts)."""
    m = re.fullmatch(r"(.*), encoded \d+", summary)
    assert m is not None, summary
    return m.group(1)


def parse_figure(html: str) -> dict:
    img = re.search(r"<img ([^>]*)>", html).group(1)
    attrs = dict(re.findall(r'(\w+)="([^"]*)"', img))
    sources = re.findall(r'<source type="([^"]+)" srcset="([^"]+)"', html)
    return {"img": attrs, "sources": sources}


def srcset(value: str) -> list[tuple[str, int]]:
    return [(u, int(w[:-1])) for u, w in (part.strip().rsplit(" ", 1) for part in value.split(","))]


# --------------------------------------------------------------------------- Analysis


def test_directives_become_slots_in_page_order(tmp_path):
    s = make_settings(tmp_path)
    a, warnings = read(s, {
        "a.md": "# A\n\n" + fence("A lighthouse") + "\ntext\n\n" + fence('prompt: A nook\nratio: "16:9"\nvariant: hd'),
        "sub/b.md": fence("prompt: A cat\nname: cat\nnum: 2\npick: 2"),
    })
    assert warnings == []
    assert list(a.slots) == ["a.md", "sub/b.md"]
    first, second = a.slots["a.md"]
    (third,) = a.slots["sub/b.md"]
    assert [x.directive.prompt for x in a.all_slots()] == ["A lighthouse", "A nook", "A cat"]
    assert (first.where, second.where, third.where) == ("docs/a.md:3", "docs/a.md:9", "docs/sub/b.md:1")
    assert (first.block.start, first.block.end) == (3, 5)
    assert second.request == Request(model=HD, prompt="A nook", ratio="16:9")
    assert third.request == Request(model=FLASH, prompt="A cat", ratio="1:1", num=2)
    assert all(x.valid and x.entry is None and x.missing and x.shown for x in a.all_slots())
    assert a.named == {"cat": third}
    assert [a.cost(x) for x in a.all_slots()] == [2, 5, 4]
    assert a.price(a.all_slots()) == pytest.approx(0.11)


def test_errors_carry_page_and_line(tmp_path):
    s = make_settings(tmp_path)
    body = "# Title\n\n" + fence("prompt: A cat\ncolour: red") + "\n" + fence("prompt: fine")
    pages = [PageText("posts/x.md", body, first_line=4), PageText("y.md", "```nanobanana\nnever closed\n")]
    a, warnings = read(s, pages)
    bad, good = a.slots["posts/x.md"]
    assert not bad.valid and good.valid
    assert [(e.path, e.line) for e in bad.errors] == [("docs/posts/x.md", 8)]  # line 5 of the text, from line 4
    assert "unknown key 'colour'" in bad.errors[0].message
    assert bad.request is None and bad.directive is None and bad.block.start == 6
    assert any(w.startswith("docs/posts/x.md:8: unknown key 'colour'") for w in warnings)
    assert any(w.startswith("docs/y.md:1: this ```nanobanana fence is never closed") for w in warnings)
    assert a.slots["y.md"] == []
    assert len(warnings) == 2


def test_duplicate_names_unknown_refs_and_cycles_are_errors(tmp_path):
    s = make_settings(tmp_path)
    a, warnings = read(s, {
        "a.md": fence("prompt: one\nname: hero"),
        "b.md": fence("prompt: two\nname: hero") + "\n" + fence('prompt: three\nrefs: ["#heor"]'),
        "c.md": fence('prompt: x\nname: x\nrefs: ["#y"]') + "\n" + fence('prompt: y\nname: y\nrefs: ["#x"]'),
        "d.md": fence("prompt: fine\nname: fine"),
    })
    dup_a = a.slots["a.md"][0]
    dup_b, unknown = a.slots["b.md"]
    x, y = a.slots["c.md"]
    assert str(dup_a.errors[0]) == ("docs/a.md:3: name 'hero' is also used at docs/b.md:3: "
                                    "names must be unique across the site")
    assert str(dup_b.errors[0]).startswith("docs/b.md:3: name 'hero' is also used at docs/a.md:3")
    assert str(unknown.errors[0]) == ("docs/b.md:8: ref '#heor' names no directive: give the source directive "
                                      "'name: heor'. Did you mean '#hero'?")
    # a loop is reported once, on the directive that closes it; the other waits for it
    assert x.errors == [] and x.blocked_by == "#y" and x.key is None
    assert [str(e) for e in y.errors] == ["docs/c.md:10: refs form a cycle (#x -> #y -> #x): an image cannot be "
                                          "refined from itself; remove one of these refs"]
    assert all(not sl.valid and sl.request is None for sl in (dup_a, dup_b, unknown, y))
    assert a.slots["d.md"][0].valid and set(a.named) == {"fine", "x"}
    assert warnings == [str(e) for e in dup_a.errors + dup_b.errors + unknown.errors + y.errors]


def test_plan_rows_cached_missing_changed_and_error(tmp_path):
    s = make_settings(tmp_path)
    cache = Cache(s.cache_dir)
    seed_cache(cache, "cached one")
    cache.write_manifest({"a.md@2": "0" * 64, "a.md#kept": Request(FLASH, "same", "1:1").key})
    a, _ = read(s, {
        "a.md": (fence("cached one") + "\n" + fence("edited prompt") + "\n" + fence("prompt: same\nname: kept")
                 + "\n" + fence("prompt: bad\nratio: \"7:3\"") + "\n" + fence('prompt: refined\nrefs: ["#kept"]')),
        "b.md": fence("prompt: new\nvariant: hd"),
    })
    rows = {r.where: r for r in plan(a)}
    assert [(r.where, r.state, r.credits) for r in plan(a)] == [
        ("docs/a.md:1", "cached", 0),
        ("docs/a.md:5", "changed", 2),
        ("docs/a.md:9", "missing", 2),  # its manifest key is its key now: it was never built
        ("docs/a.md:16", "error", 0),  # where the error is: the ratio line
        ("docs/a.md:19", "missing", 2),
        ("docs/b.md:1", "missing", 5),
    ]
    assert rows["docs/a.md:1"].key == Request(FLASH, "cached one", "1:1").key and rows["docs/a.md:1"].usd == 0.0
    assert rows["docs/a.md:5"].usd == 0.02 and rows["docs/b.md:1"].usd == 0.05 and rows["docs/b.md:1"].model == HD
    assert rows["docs/a.md:9"].name == "kept"
    assert "ratio '7:3' is not offered" in rows["docs/a.md:16"].note and rows["docs/a.md:16"].key is None
    assert rows["docs/a.md:19"].note == "after #kept" and rows["docs/a.md:19"].key is None
    # a remote hit is planned as cached, at no cost
    remote = {r.where: r for r in plan(a, on_remote={Request(HD, "new", "1:1").key})}
    b = remote["docs/b.md:1"]
    assert (b.state, b.credits, b.note) == ("cached", 0, "remote")


def test_an_identical_directive_on_two_pages_is_one_key(tmp_path):
    s = make_settings(tmp_path)
    a, _ = read(s, {"a.md": fence("A shared image"), "b.md": "# B\n\n" + fence("A shared image")})
    rows = plan(a)
    assert [(r.where, r.state) for r in rows] == [("docs/a.md:1", "missing"), ("docs/b.md:3", "missing")]
    assert rows[0].key == rows[1].key == Request(FLASH, "A shared image", "1:1").key
    assert a.keys_in_use() == {rows[0].key}


def test_card_planning_makes_card_only_slots(tmp_path):
    s = make_settings(tmp_path, social=SocialSettings(generate=True, site_description="A site."))
    a, warnings = read(s, {
        "index.md": "# Home\n\nNo directive here.\n",
        "cover.md": "# Cover\n\n" + fence("prompt: A cover\nsocial: true\nratio: \"16:9\""),
        "own.md": ("---\ntitle: Own\nnanobanana:\n  social:\n    prompt: A card of its own\n"
                   "    ratio: \"4:3\"\n---\n# H\n"),
        "off.md": "---\nnanobanana:\n  social: false\n---\n# Off\n",
    })
    assert warnings == []
    assert set(a.card_slots) == {"index.md", "own.md"}
    home, own = a.card_slots["index.md"], a.card_slots["own.md"]
    assert not home.shown and not own.shown
    assert home.directive.prompt == "Minimal editorial illustration for an article titled 'Home'. A site."
    assert home.request == Request(FLASH, home.directive.prompt, "16:9")
    assert own.request == Request(FLASH, "A card of its own", "4:3") and own.where == "docs/own.md:3"
    def planned(page):
        return a.cards[page].slot, a.cards[page].text.title

    assert planned("cover.md") == (a.slots["cover.md"][0], "Cover")  # the page's own directive
    assert planned("index.md") == (home, "Home") and planned("own.md") == (own, "Own")
    assert "off.md" not in a.cards
    assert a.all_slots()[-2:] == [home, own]  # page images first: they win the budget
    rows = {r.where: r for r in plan(a)}
    assert rows["docs/index.md:1"].note == "social card" and rows["docs/index.md:1"].credits == 2
    assert rows["docs/own.md:3"].note == "social card"
    assert rows["docs/cover.md:3"].note == ""
    assert set(a.identities()) == {"cover.md@1", "index.md#social-card", "own.md#social-card"}


def test_keys_sources_in_use_and_remember(tmp_path):
    s = make_settings(tmp_path)
    cache = Cache(s.cache_dir)
    entry = seed_cache(cache, "cached two", num=2)
    a, _ = read(s, {
        "a.md": fence("prompt: cached two\nnum: 2\nname: two") + "\n" + fence("missing one"),
        "b.md": fence('prompt: refined\nrefs: ["#nothing-yet"]') + fence("prompt: base\nname: nothing-yet")
                + "\n" + fence("prompt: broken\nnum: 0"),
    })
    two, missing = a.slots["a.md"]
    refined, base, broken = a.slots["b.md"]
    assert refined.blocked_by == "#nothing-yet" and refined.key is None and broken.errors
    assert a.keys_in_use() == {entry.key, missing.request.key, base.request.key}
    sources = a.sources_in_use()
    assert {img.sha256 for img in entry.images} <= sources  # both candidates: pick may switch
    assert source_of(missing, s, "")[0].id in sources and source_of(broken, s, "")[0].id in sources
    assert len(sources) == 2 + 4
    assert not cache.manifest_path.exists()
    record_use(a)
    assert cache.read_manifest() == {"a.md#two": entry.key, "a.md@2": missing.request.key,
                                     "b.md#nothing-yet": base.request.key}
    # the next build of an edited page sees it changed
    b, _ = read(s, {"a.md": fence("prompt: cached two\nnum: 2\nname: two") + "\n" + fence("missing one, edited")})
    assert [r.state for r in plan(b)] == ["cached", "changed"]


def test_reread_returns_fresh_slots_only_when_the_directives_changed(tmp_path):
    s = make_settings(tmp_path)
    text = "# A\n\n" + fence("one")
    a, _ = read(s, {"a.md": text})
    known = a.slots["a.md"][0]
    pairs, fresh = a.reread("a.md", "\n" + fence("one"), 2)  # the host dropped the H1 line
    assert fresh == [] and pairs[0][1] is known and pairs[0][0].start == 3
    changed = fence("one") + "\n" + fence('prompt: two\nratio: "3:4"')
    pairs, fresh = a.reread("a.md", changed, 1)
    assert len(fresh) == 2 and [sl for _, sl in pairs] == fresh == a.slots["a.md"]
    assert fresh[0] is not known
    assert fresh[1].request == Request(FLASH, "two", "3:4") and fresh[1].where == "docs/a.md:5"
    # a page read for the first time now (another plugin made it)
    pairs, fresh = a.reread("new.md", fence("made later"), 1)
    assert [sl.directive.prompt for sl in fresh] == ["made later"] and fresh[0].request is not None


# --------------------------------------------------------------------------- Budget


def test_budget_approves_in_order_and_stops_at_the_first_that_does_not_fit():
    b = Budget(5)
    approved, over = b.approve([Ask("a", 2, "p:1"), Ask("b", 4, "p:2"), Ask("c", 1, "p:3"), Ask("d", 2, "p:4")])
    assert [x.key for x in approved] == ["a"]
    assert [x.key for x in over] == ["b", "c", "d"]  # c would fit, but it comes after b
    assert b.left == 3


def test_budget_charges_a_repeated_key_once_and_refunds():
    b = Budget(4)
    approved, over = b.approve([Ask("a", 2, "p:1"), Ask("a", 2, "q:1"), Ask("b", 2, "p:2"), Ask("b", 2, "r:9")])
    assert [(x.key, x.where) for x in approved] == [("a", "p:1"), ("b", "p:2")] and over == []
    assert b.left == 0
    approved, over = b.approve([Ask("c", 1, "p:3")])
    assert approved == [] and [x.key for x in over] == ["c"]
    approved, over = b.approve([Ask("a", 2, "p:1"), Ask("c", 1, "p:3")])  # a page read again
    assert [x.key for x in approved] == ["a"] and [x.key for x in over] == ["c"] and b.left == 0
    b.refund(Ask("a", 2, "p:1"))
    b.refund(Ask("a", 2, "p:1"))  # a second refund of one ask gives nothing back
    b.refund(Ask("z", 5, "p:9"))  # nor does one of an ask never approved
    assert b.left == 2
    approved, _ = b.approve([Ask("c", 1, "p:3"), Ask("d", 1, "p:4"), Ask("e", 1, "p:5")])
    assert [x.key for x in approved] == ["c", "d"] and b.left == 0


# --------------------------------------------------------------------------- next_state / placeholder_note


def hand_slot(**kw) -> Slot:
    d = Directive(path="docs/p.md", page="p.md", line=3, prompt="A cat", model=FLASH, ratio="1:1")
    fields = dict(page="p.md", block=Block(3, 5, "", "A cat"), directive=d, request=Request(FLASH, "A cat", "1:1"))
    fields.update(kw)
    return Slot(**fields)


ENTRY = CacheEntry("k", Request(FLASH, "A cat", "1:1"), (), "test", 2, "")
ERROR = DirectiveError("docs/p.md", 4, "bad")


@pytest.mark.parametrize("slot_kw, flags, state, note", [
    (dict(directive=None), dict(buying=True), State.INVALID, None),
    (dict(errors=[ERROR]), dict(buying=True), State.INVALID, None),
    (dict(entry=ENTRY, approved=True), dict(buying=True, deferring=True), State.CACHED, None),
    (dict(entry=ENTRY, blocked_by="#x"), dict(buying=True), State.CACHED, None),
    (dict(blocked_by="#x", approved=True), dict(buying=True, target_exists=True), State.AFTER_TARGET, None),
    (dict(blocked_by="#x", approved=True), dict(buying=True), State.PLACEHOLDER, "placeholder: waiting for #x"),
    (dict(blocked_by="#x", approved=True), dict(target_exists=True), State.PLACEHOLDER, "placeholder: waiting for #x"),
    (dict(blocked_by="#x", approved=True), dict(deferring=True, target_exists=True), State.PLACEHOLDER,
     "placeholder: waiting for #x"),
    (dict(blocked_by="#x"), dict(buying=True, target_exists=True), State.PLACEHOLDER, "placeholder: over max_credits"),
    (dict(approved=True), dict(deferring=True), State.DEFERRED, None),
    (dict(approved=True), dict(buying=True), State.BUYING, None),
    (dict(), dict(buying=True), State.PLACEHOLDER, "placeholder: over max_credits"),
    (dict(), dict(), State.PLACEHOLDER, "placeholder: not generated yet"),
    (dict(approved=True), dict(), State.PLACEHOLDER, "placeholder: not generated yet"),
])
def test_next_state_and_placeholder_note(slot_kw, flags, state, note):
    slot = hand_slot(**slot_kw)
    args = dict(buying=False, deferring=False, target_exists=False)
    args.update(flags)
    assert next_state(slot, **args) is state
    if note is not None:
        assert placeholder_note(slot, buying=args["buying"], target_exists=args["target_exists"]) == note


# --------------------------------------------------------------------------- Scheduler + fake provider


def test_one_call_for_two_slots_with_the_same_request(tmp_path):
    s = make_settings(tmp_path)
    fake = FakeProvider()
    run = Run(s, {"a.md": fence("Shared"), "b.md": "# B\n\n" + fence("Shared") + "\n" + fence("Own")}, fake)
    assert sorted(fake.prompts) == ["Own", "Shared"]
    shared = run.slot("a.md")
    assert shared.entry is not None and run.slot("b.md").entry.key == shared.entry.key
    assert run.cache.get(shared.request.key).provider == "fake"
    assert run.scheduler.counts() == {"generated": 2, "credits": 4}
    assert outcomes(run.summary) == "0 cached, 2 generated (4 credits ~ $0.04), 0 placeholders, 0 failed"
    assert all(sl.state is State.SETTLED and not sl.figure_ready.result().placeholder
               for sl in run.analysis.all_slots())
    assert fake.closed and run.warnings == []


def test_a_warm_second_session_calls_nothing(tmp_path):
    s = make_settings(tmp_path)
    pages = {"a.md": fence("One") + "\n" + fence('prompt: Two\nratio: "16:9"\nvariant: hd')}
    first = FakeProvider()
    summary = Run(s, pages, first).summary
    assert outcomes(summary) == "0 cached, 2 generated (7 credits ~ $0.07), 0 placeholders, 0 failed"
    second = FakeProvider()
    run = Run(s, pages, second)
    assert second.calls == []
    assert outcomes(run.summary) == "2 cached, 0 generated (0 credits ~ $0.00), 0 placeholders, 0 failed"
    assert [sl.state for sl in run.analysis.all_slots()] == [State.SETTLED, State.SETTLED]
    assert not any(sl.figure_ready.result().placeholder for sl in run.analysis.all_slots())


def test_budget_skips_an_ask_that_can_never_fit_and_resizes_keeping_what_was_spent():
    b = Budget(5)
    approved, over = b.approve([Ask("a", 2, "p:1"), Ask("big", 6, "p:2"), Ask("c", 2, "p:3"), Ask("d", 2, "p:4")])
    assert [x.key for x in approved] == ["a", "c"] and [x.key for x in over] == ["big", "d"]
    assert b.too_big(over[0]) and not b.too_big(over[1]) and b.left == 1
    b.resize(3)  # lowered under what was spent: nothing left, never less
    assert b.left == 0
    b.resize(10)
    assert b.left == 6 and b.approve([Ask("big", 6, "p:2")])[0]


def test_max_credits_pays_only_for_the_approved_in_page_order(tmp_path):
    s = make_settings(tmp_path, max_credits=6)
    fake = FakeProvider()
    run = Run(s, {
        "a.md": fence("first"),
        "b.md": fence("prompt: second\nvariant: hd"),  # 5 credits: does not fit in the 4 left
        "c.md": fence("third"),  # would fit, but comes after one that did not
    }, fake)
    assert fake.prompts == ["first"]
    assert [sl.approved for sl in run.analysis.all_slots()] == [True, False, False]
    over = run.slot("b.md").figure_ready.result()
    assert over.placeholder and over.note == "placeholder: over max_credits"
    assert run.warnings == ["max_credits (6) reached: 2 image(s) needing 7 more credits (~$0.07) are placeholders, "
                            "from docs/b.md:1 on. Raise max_credits or build again to continue."]
    assert outcomes(run.summary) == "0 cached, 1 generated (2 credits ~ $0.02), 2 placeholders, 0 failed"


def test_a_name_ref_waits_for_its_target_and_gets_its_image(tmp_path):
    s = make_settings(tmp_path)
    fake = FakeProvider()
    run = Run(s, {
        "a.md": fence('prompt: the same cat, in snow\nrefs: ["#cat"]'),  # before its target in page order
        "b.md": fence("prompt: a cat\nname: cat\nnum: 2\npick: 2"),
    }, fake)
    assert fake.prompts == ["a cat", "the same cat, in snow"]
    target = run.slot("b.md").entry
    picked = target.images[1]
    assert fake.calls[0].refs == ()
    (ref,) = fake.calls[1].refs
    assert ref.data == picked.path.read_bytes() and ref.mime == "image/png"
    refined = run.slot("a.md")
    assert refined.blocked_by is None and refined.refs == (str(picked.path),)
    assert refined.entry.request.refs == (picked.sha256,)
    assert outcomes(run.summary) == "0 cached, 2 generated (6 credits ~ $0.06), 0 placeholders, 0 failed"


def test_a_ref_to_a_target_that_fails_stays_a_placeholder(tmp_path):
    s = make_settings(tmp_path)
    fake = FakeProvider(fail={"a cat"})
    run = Run(s, {"a.md": fence("prompt: a cat\nname: cat") + "\n" + fence('prompt: in snow\nrefs: ["#cat"]')}, fake)
    assert fake.prompts == ["a cat"]
    target, refined = run.analysis.slots["a.md"]
    assert target.figure_ready.result().note == "placeholder: generation failed"
    assert refined.figure_ready.result().note == "placeholder: #cat could not be generated"
    assert any(w.startswith("docs/a.md:1: the provider refused this prompt") for w in run.warnings)
    assert run.scheduler.counts()["failed"] == 1
    assert outcomes(run.summary) == "0 cached, 0 generated (0 credits ~ $0.00), 1 placeholder, 1 failed"


def test_offline_calls_nothing_and_shows_placeholders(tmp_path):
    s = make_settings(tmp_path, mode="offline")
    fake = FakeProvider()
    warnings: list[str] = []
    pages = [PageText("a.md", fence("one") + "\n" + fence('prompt: two\nrefs: ["#three"]')),
             PageText("b.md", fence("prompt: three\nname: three"))]
    session = BuildSession.open(s, pages, warnings.append, provider=fake)
    assert session.scheduler.buyer is None
    summary = session.close()
    assert fake.calls == []
    notes = [sl.figure_ready.result() for sl in session.analysis.all_slots()]
    assert all(r.placeholder for r in notes)
    assert [r.note for r in notes] == ["placeholder: not generated yet", "placeholder: waiting for #three",
                                       "placeholder: not generated yet"]
    assert warnings == ["3 image(s) are placeholders: mode: offline is set in mkdocs.yml, so nothing is generated "
                        "(6 credits ~ $0.06 to generate them). Set mode: auto in mkdocs.yml (with NANOBANANA_API_KEY "
                        "exported) and build again, or run `nanobanana generate`."]
    assert outcomes(summary) == "0 cached, 0 generated (0 credits ~ $0.00), 3 placeholders, 0 failed"
    # the placeholders' files were made all the same (beside social/: the pages' text cards)
    made = [p for p in Path(s.site_dir, "assets", "nanobanana").iterdir() if p.name != "social"]
    assert len(made) == 3 * len(PLANNED_WIDTHS) * 2


def test_defer_calls_nothing_and_collects_purchases_in_page_order(tmp_path):
    s = make_settings(tmp_path, max_credits=1)  # serve's background holds the budget, not the build
    fake = FakeProvider()
    seed_cache(Cache(s.cache_dir), "cached")
    run = Run(s, {
        "b.md": fence("prompt: zebra\nvariant: hd"),
        "a.md": fence("cached") + "\n" + fence("apple") + "\n" + fence("prompt: zebra\nvariant: hd"),
    }, fake, defer=True)
    assert fake.calls == [] and run.scheduler.buyer is None
    deferred = list(run.scheduler.deferred.values())
    assert deferred == [
        Purchase(Request(HD, "zebra", "1:1"), (), "docs/b.md:1", 5, 1),
        Purchase(Request(FLASH, "apple", "1:1"), (), "docs/a.md:5", 2, 1),
    ]
    assert list(run.scheduler.deferred) == [p.request.key for p in deferred]
    assert run.slot("b.md").figure_ready.result().note == DEFERRED_NOTE
    assert run.slot("a.md").figure_ready.result().note == ""
    assert run.warnings == []
    assert outcomes(run.summary) == "1 cached, 0 generated (0 credits ~ $0.00), 2 placeholders, 0 failed"


def test_counts_and_summary_with_every_outcome(tmp_path):
    s = make_settings(tmp_path)
    seed_cache(Cache(s.cache_dir), "cached")
    fake = FakeProvider(fail={"refused"})
    run = Run(s, {"a.md": fence("cached") + fence("new") + fence("refused") + fence("prompt: bad\nnum: 12")
                  + fence("new")}, fake)
    assert sorted(fake.prompts) == ["new", "refused"]
    assert run.scheduler.counts() == {"cached": 1, "generated": 1, "failed": 2, "credits": 2}
    assert outcomes(run.summary) == "1 cached, 1 generated (2 credits ~ $0.02), 0 placeholders, 2 failed"
    assert run.scheduler.status == {Request(FLASH, "new", "1:1").key: "generated",
                                    Request(FLASH, "refused", "1:1").key: "failed"}


# --------------------------------------------------------------------------- Renderer


def test_source_of_cached_placeholder_and_invalid(tmp_path):
    s = make_settings(tmp_path, defaults=Defaults(ratio="3:4"))
    entry = seed_cache(Cache(s.cache_dir), "cached", num=2)
    a, _ = read(s, {"a.md": fence("prompt: cached\nnum: 2\npick: 2\nratio: \"1:1\"") + "\n"
                    + fence('prompt: wide\nratio: "16:9"') + "\n" + fence("prompt: broken\nvariant: huge")})
    cached, wide, broken = a.slots["a.md"]

    src, is_ph, note = source_of(cached, s, "ignored")
    assert (src.id, src.width, src.height, is_ph, note) == (entry.images[1].sha256, 1024, 1024, False, "")
    with src.open() as img:
        assert img.size == (1024, 1024) and img.format == "PNG"

    src, is_ph, note = source_of(wide, s, "placeholder: over max_credits")
    assert (src.width, src.height, is_ph, note) == (1344, 768, True, "placeholder: over max_credits")
    assert src.id == placeholder.placeholder_id(wide.request.key, 1, "wide")
    assert src.open().size == (1344, 768)

    src, is_ph, note = source_of(broken, s, "")
    assert is_ph and note == str(broken.errors[0]) and note.startswith("docs/a.md:15: unknown variant 'huge'")
    assert (src.width, src.height) == FLASH_IMAGE_SIZES["3:4"]  # the site's default ratio
    text = "Fix the nanobanana directive at docs/a.md:15"
    assert src.id == placeholder.placeholder_id(hashlib.sha256(broken.block.body.encode()).hexdigest(), 1, text)


def test_figure_files_in_the_cache_and_the_site(tmp_path):
    s = make_settings(tmp_path)
    fake = FakeProvider()
    run = Run(s, {"posts/a.md": fence("prompt: named\nname: hero\nalt: A hero\ncaption: Big & bold\nwidth: 500")
                  + "\n" + fence('prompt: wide\nratio: "16:9"')}, fake)
    hero, wide = run.analysis.slots["posts/a.md"]
    out = Path(s.site_dir, "assets", "nanobanana")
    variants = hero.figure_ready.result().variants
    assert sorted((v.width, v.height, v.ext) for v in variants) == sorted(
        (w, w, ext) for w in PLANNED_WIDTHS for ext in ("webp", "jpg"))
    for v in variants:
        assert v.url == f"assets/nanobanana/hero-{v.width}.{v.ext}"
        with Image.open(out / f"hero-{v.width}.{v.ext}") as img:
            assert img.size == (v.width, v.height) and img.format == {"webp": "WEBP", "jpg": "JPEG"}[v.ext]
        derived = run.cache.derived_path(hero.entry.images[0].sha256, v.width, v.ext, s.encoding.tag)
        assert derived.is_file() and derived.read_bytes() == (out / f"hero-{v.width}.{v.ext}").read_bytes()
    base = wide.entry.images[0].sha256[:10]  # no name: the image's id names its files
    assert sorted(p.name for p in out.glob(f"{base}-*")) == sorted(
        f"{base}-{w}.{ext}" for w in (320, 640, 1344) for ext in ("webp", "jpg"))
    with Image.open(out / f"{base}-640.jpg") as img:
        assert img.size == (640, 366)

    html = run.scheduler.renderer.figure(hero, "posts/a/", eager=True)
    fig = parse_figure(html)
    assert html.startswith('<figure class="nanobanana" data-ai-generated="true">')
    assert "<figcaption>Big &amp; bold</figcaption>" in html
    assert fig["sources"][0][0] == "image/webp"
    assert srcset(fig["sources"][0][1]) == [(f"../../assets/nanobanana/hero-{w}.webp", w) for w in PLANNED_WIDTHS]
    img = fig["img"]
    assert img["src"] == "../../assets/nanobanana/hero-1024.jpg"
    assert srcset(img["srcset"]) == [(f"../../assets/nanobanana/hero-{w}.jpg", w) for w in PLANNED_WIDTHS]
    assert (img["width"], img["height"], img["alt"]) == ("1024", "1024", "A hero")
    assert img["sizes"] == "(max-width: 500px) 100vw, 500px" and img["loading"] == "eager"
    assert "title" not in img
    lazy = parse_figure(run.scheduler.renderer.figure(wide, "", eager=False))["img"]
    assert (lazy["width"], lazy["height"], lazy["loading"]) == ("1344", "768", "lazy")


def test_placeholder_figure_html(tmp_path):
    s = make_settings(tmp_path, mode="offline")
    run = Run(s, {"a.md": fence("prompt: later\nclass: wide framed") + fence("prompt: bad\nnum: 0")})
    later, bad = run.analysis.slots["a.md"]
    html = run.scheduler.renderer.figure(later, "a/", eager=False)
    assert html.startswith('<figure class="nanobanana nanobanana-placeholder wide framed">')
    assert parse_figure(html)["img"]["title"] == "placeholder: not generated yet"
    bad_img = parse_figure(run.scheduler.renderer.figure(bad, "a/", eager=False))["img"]
    assert bad_img["alt"] == "Image not generated: the directive has an error"
    assert bad_img["title"].startswith("docs/a.md:7: ")


def test_publish_false_writes_nothing_to_the_site(tmp_path):
    s = make_settings(tmp_path, publish=False)
    fake = FakeProvider()
    run = Run(s, {"a.md": fence("prompt: kept in the cache\nname: kept")}, fake)
    assert len(fake.calls) == 1
    assert not Path(s.site_dir).exists()
    slot = run.slot("a.md")
    assert slot.figure_ready.result().variants == []
    source_id = slot.entry.images[0].sha256
    for w in PLANNED_WIDTHS:
        for ext in ("webp", "jpg"):
            with Image.open(run.cache.derived_path(source_id, w, ext, s.encoding.tag)) as img:
                assert img.width == w


def test_a_card_is_a_1200x630_jpeg(tmp_path):
    s = make_settings(tmp_path, social=SocialSettings(generate=True, site_name="Site"))
    fake = FakeProvider()
    run = Run(s, {"posts/first.md": "---\ntitle: First post\n---\nText.\n"}, fake)
    assert fake.prompts == ["Minimal editorial illustration for an article titled 'First post'."]
    assert fake.calls[0].request.ratio == "16:9"
    card = Path(s.site_dir, "assets", "nanobanana", "social", "posts", "first.jpg")
    with Image.open(card) as img:
        assert img.format == "JPEG" and img.size == (1200, 630)
    slot = run.analysis.card_slots["posts/first.md"]
    assert slot.figure_ready.result().variants == []  # a card background has no figure
    assert not list(Path(s.site_dir, "assets", "nanobanana").glob("*.webp"))
    # the provenance written into it is part of its key (see test_provenance.py)
    key = drawing.card_key(slot.entry.images[0].sha256, card_values.CardText("First post", "Site"),
                           card_values.CardStyle(), repr(s.provenance.extras()))
    assert (run.cache.root / "social" / key[:2] / f"{key}.jpg").read_bytes() == card.read_bytes()
    assert outcomes(run.summary) == "0 cached, 1 generated (2 credits ~ $0.02), 0 placeholders, 0 failed"


# --------------------------------------------------------------------------- BuildSession


def test_build_session_end_to_end(tmp_path):
    s = make_settings(tmp_path, social=SocialSettings(generate=True))
    fake = FakeProvider()
    warnings: list[str] = []
    files = {
        "index.md": "---\ntitle: Home\n---\n# Welcome\n\n" + fence("prompt: a harbour\nsocial: true\nname: harbour")
                    + "\n- item\n\n    ```nanobanana\n    prompt: a boat\n    ```\n",
        "posts/b.md": "# B\n\nNo image, but a card.\n",
    }
    session = BuildSession.open(s, [PageText(p, t) for p, t in files.items()], warnings.append, provider=fake)
    bodies = {p: t.split("---\n", 2)[2] if t.startswith("---") else t for p, t in files.items()}
    md = session.markdown("index.md", bodies["index.md"], lambda: files["index.md"])
    assert "```nanobanana" not in md and "a harbour" not in md
    tokens = re.findall(r"NANOBANANA[0-9A-F]{8}X\d+Y", md)
    assert len(tokens) == 2 and tokens[0] != tokens[1]
    assert f"\n    {tokens[1]}\n" in md  # the token stays in its list item
    assert session.markdown("posts/b.md", bodies["posts/b.md"], lambda: files["posts/b.md"]) == bodies["posts/b.md"]

    html = f"<h1>Welcome</h1>\n<p>{tokens[0]}</p>\n<ul><li><p>{tokens[1]}</p></li></ul>"
    out = session.html("index.md", html, "")
    assert "NANOBANANA" not in out and "<p><figure" not in out
    assert out.count("<figure") == 2
    first, second = (parse_figure(f) for f in out.split("<figure")[1:])
    assert first["img"]["src"] == "assets/nanobanana/harbour-1024.jpg" and first["img"]["loading"] == "eager"
    assert second["img"]["loading"] == "lazy" and second["img"]["alt"] == "a boat"

    page = "<html><head><title>x</title></head><body>{}</body></html>"
    done = session.finish_page("index.md", page.format(out), "")
    assert '<meta property="og:image" content="assets/nanobanana/social/index.jpg">' in done
    assert '<meta property="og:image:alt" content="Home">' in done
    other = session.finish_page("posts/b.md", page.format("<p>B</p>"), "posts/b/")
    assert '<meta property="og:image" content="../../assets/nanobanana/social/posts/b.jpg">' in other
    assert [w for w in warnings if "site_url" in w] == [
        "site_url is not set, so social card URLs are relative; most sites that read og:image need an absolute "
        "URL: set site_url in mkdocs.yml"]

    summary = session.close()
    assert outcomes(summary) == "0 cached, 3 generated (6 credits ~ $0.06), 0 placeholders, 0 failed"
    assert sorted(fake.prompts) == ["Minimal editorial illustration for an article titled 'B'.", "a boat", "a harbour"]
    for card in ("index.jpg", "posts/b.jpg"):
        with Image.open(Path(s.site_dir, "assets", "nanobanana", "social", card)) as img:
            assert img.size == (1200, 630) and img.format == "JPEG"
    assert warnings == [w for w in warnings if "site_url" in w]
    assert Cache(s.cache_dir).read_manifest().keys() == {"index.md#harbour", "index.md@2", "posts/b.md#social-card"}


def test_build_session_embeds_a_token_borrowed_by_another_page(tmp_path):
    s = make_settings(tmp_path, mode="offline", social=SocialSettings(enabled=False))
    files = {"posts/p.md": "# P\n\n" + fence("prompt: excerpt image\nname: ex")}
    session = BuildSession.open(s, [PageText(p, t) for p, t in files.items()], [].append, site_url="https://x.org/")
    md = session.markdown("posts/p.md", files["posts/p.md"], lambda: files["posts/p.md"])
    (token,) = re.findall(r"NANOBANANA[0-9A-F]{8}X\d+Y", md)
    # a blog index shows the post's excerpt: the token reaches a page that never had it
    index = session.finish_page("blog/index.md", f"<html><head></head><body><p>{token}</p></body></html>", "blog/")
    img = parse_figure(index)["img"]
    assert img["src"] == "../assets/nanobanana/ex-1024.jpg" and img["loading"] == "lazy"
    assert "og:image" not in index  # cards are off
    assert outcomes(session.close()) == "0 cached, 0 generated (0 credits ~ $0.00), 1 placeholder, 0 failed"


class GatedProvider(FakeProvider):
    """Holds every call until ``gate`` is set: the images stay in flight."""

    def __init__(self) -> None:
        super().__init__()
        self.gate = threading.Event()

    def generate(self, job: ImageOrder, retry) -> list[bytes]:
        assert self.gate.wait(10), "the test never opened the gate"
        return super().generate(job, retry)


def test_a_page_changed_by_another_plugin_is_read_again_and_bought(tmp_path):
    s = make_settings(tmp_path)
    fake = GatedProvider()
    warnings: list[str] = []
    session = BuildSession.open(s, [PageText("a.md", fence("one"))], warnings.append, provider=fake)
    md = fence("one") + "\n" + fence("added by a plugin")  # e.g. a macro expanded into a directive
    out = session.markdown("a.md", md, lambda: md)
    assert len(re.findall(r"NANOBANANA[0-9A-F]{8}X\d+Y", out)) == 2
    assert [sl.directive.prompt for sl in session.analysis.slots["a.md"]] == ["one", "added by a plugin"]
    fake.gate.set()
    assert outcomes(session.close()) == "0 cached, 2 generated (4 credits ~ $0.04), 0 placeholders, 0 failed"
    assert sorted(fake.prompts) == ["added by a plugin", "one"]  # "one" is still bought once
    assert warnings == []


def test_a_re_read_page_does_not_pay_twice_for_an_image_in_flight(tmp_path):
    s = make_settings(tmp_path, max_credits=4)  # room for exactly "one" and "two"
    fake = GatedProvider()
    warnings: list[str] = []
    session = BuildSession.open(s, [PageText("a.md", fence("one"))], warnings.append, provider=fake)
    md = fence("one") + "\n" + fence("two")
    session.markdown("a.md", md, lambda: md)
    fake.gate.set()
    summary = session.close()
    assert sorted(fake.prompts) == ["one", "two"]
    assert outcomes(summary) == "0 cached, 2 generated (4 credits ~ $0.04), 0 placeholders, 0 failed"
    assert not any("max_credits" in w for w in warnings)
