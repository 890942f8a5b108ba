"""Issue 17, NanoBanana side: what a failed call costs decides how it is retried.

Every test counts the POSTs that reached the fake API (each one is paid for, if it
succeeded), not only what the page shows.
"""

from __future__ import annotations

import base64

import pytest
from mkdocs.exceptions import Abort
from PIL import Image

from tests.support.directives import directive
from tests.support.html import figures
from tests.support.logs import summary, warnings


def answer(body: dict, status: int = 200):
    """A scripted answer of the API with this JSON body."""
    def respond(handler):
        handler._json(status, body)
    return respond


def one_at_a_time(live, api):
    """So that the request after a refusal waits for it, as it would behind a slow one."""
    live.configure({"api_base": api.base, "concurrency": 1, "retries": 3, "timeout": 5})


def build(live, api, faults, text=None):
    api.faults.extend(faults)
    live.page("a.md", "# A\n\n" + (text or directive("One image")))
    live.build()
    return figures(live.html("a/index.html"))


# --------------------------------------------------------------------------- item 9


@pytest.mark.parametrize("code, message", [
    (401, "invalid api key"), (403, "forbidden"), ("401", "unauthorized"),
])
def test_a_key_refused_in_a_200_body_stops_every_call(live, api, caplog, code, message):
    """The vendor's clients see errors both as HTTP statuses and as a `code` in a 200 body:
    a body code 401/403 means what HTTP 401/403 means, one message and no further call."""
    one_at_a_time(live, api)
    build(live, api, [answer({"code": code, "message": message})],
          directive("First") + directive("Second") + directive("Third"))
    assert len(api.generate_requests) == 1
    assert sum("refused the key" in m for m in warnings(caplog)) == 1


def test_out_of_credits_in_a_200_body_stops_every_call(live, api, caplog):
    one_at_a_time(live, api)
    build(live, api, [answer({"code": 402, "message": "payment required"})], directive("First") + directive("Second"))
    assert len(api.generate_requests) == 1
    assert any("out of credits" in m and "top up" in m for m in warnings(caplog))


def test_a_rate_limit_in_a_200_body_is_waited_out(live, api, caplog):
    fig, = build(live, api, [answer({"code": 429, "message": "too many requests"})])
    assert "nanobanana-placeholder" not in fig["class"]
    assert len(api.generate_requests) == 2 and "1 generated" in summary(caplog)


@pytest.mark.parametrize("body", [
    {"code": 400, "message": "image_size must be one of 1:1, 16:9, ..."},
    {"code": 422, "msg": "num out of range"},
])
def test_a_wrong_request_in_a_200_body_is_not_sent_again(live, api, caplog, body):
    """4xx means the request itself is wrong: sending it again gets the same answer."""
    fig, = build(live, api, [answer(body)] * 4)
    assert "nanobanana-placeholder" in fig["class"]
    assert len(api.generate_requests) == 1
    assert any("refused the request" in m and "docs/a.md:3" in m for m in warnings(caplog))


def test_credit_words_in_a_successful_answer_are_not_an_error(live, api, caplog):
    """Only a failed call can mean "out of credits": a success that mentions credits (a
    balance, a cost) is a success."""
    url = api.add_file(_png())
    fig, = build(live, api, [answer({"code": 0, "message": "ok, 2 credits used, balance 98",
                                     "data": {"url": url}})])
    assert "nanobanana-placeholder" not in fig["class"]
    assert len(api.generate_requests) == 1 and "1 generated" in summary(caplog)


# --------------------------------------------------------------------------- item 11


@pytest.mark.parametrize("fault", ["slow:1.5", "reset"])
def test_a_request_lost_after_it_was_sent_is_tried_twice_at_most(live, api, caplog, fault):
    """A read timeout or a connection broken after the POST went out may have been
    billed: one more try, with a warning that says so, and never the whole retry budget."""
    live.configure({"api_base": api.base, "answer_timeout": 0.5, "retries": 4})
    fig, = build(live, api, [fault] * 5)
    assert "nanobanana-placeholder" in fig["class"]
    assert len(api.generate_requests) == 2  # retries: 4 would have sent 5
    assert any("the first attempt may have been charged" in m and "docs/a.md:3" in m for m in warnings(caplog))


def test_a_request_lost_once_after_it_was_sent_is_made_by_the_second_try(live, api, caplog):
    live.configure({"api_base": api.base, "answer_timeout": 0.5, "retries": 4})
    fig, = build(live, api, ["slow:1.5"])
    assert "nanobanana-placeholder" not in fig["class"]
    assert len(api.generate_requests) == 2 and "1 generated" in summary(caplog)


def test_the_timeout_is_per_image(live, api, caplog):
    """A request for 3 images may take 3 times as long: cutting it at `answer_timeout`
    would pay for a retry that the first request was about to make unnecessary."""
    live.configure({"api_base": api.base, "answer_timeout": 0.6, "retries": 2})
    api.latency = 1.0  # over the timeout for one image, within it for three
    fig, = build(live, api, [], directive("Three", num=3, pick=2))
    assert "nanobanana-placeholder" not in fig["class"]
    assert len(api.generate_requests) == 1 and "1 generated (6 credits" in summary(caplog)


# --------------------------------------------------------------------------- item 10


def _png(color: str = "red") -> bytes:
    import io

    buf = io.BytesIO()
    Image.new("RGB", (1024, 1024), color).save(buf, "PNG")
    return buf.getvalue()


def _with_ref(live):
    (live.docs / "sketch.png").write_bytes(_png("blue"))
    return directive("Ink it", refs=["sketch.png"])


def test_references_go_to_generate_as_data_uris_by_default(live, api):
    build(live, api, [], _with_ref(live))
    call, = api.generate_requests
    ref, = call.json()["ref_images"]
    assert ref.startswith("data:image/png;base64,")
    assert base64.b64decode(ref.split(",", 1)[1]) == (live.docs / "sketch.png").read_bytes()
    assert api.edit_requests == []


@pytest.mark.parametrize("encoding", ["data_uri", "base64"])
def test_references_can_go_to_the_edit_route(live, api, caplog, encoding):
    live.configure({"api_base": api.base, "ref_images": {"route": "edit", "encoding": encoding}})
    fig, = build(live, api, [], _with_ref(live) + directive("No reference"))[:1]
    assert "nanobanana-placeholder" not in fig["class"]
    edit, = api.edit_requests
    assert edit.path == "/v1/images/edit" and "ref_images" not in edit.json()
    sent = edit.json()["image"]
    raw = sent.split(",", 1)[1] if encoding == "data_uri" else sent
    assert sent.startswith("data:image/png;base64,") == (encoding == "data_uri")
    assert base64.b64decode(raw) == (live.docs / "sketch.png").read_bytes()
    plain, = api.generate_requests  # a directive without references still goes to generate
    assert plain.json()["prompt"] == "No reference"


@pytest.mark.parametrize("ref_images", [{"route": "upload"}, {"encoding": "url"}])
def test_an_unknown_route_or_encoding_is_a_config_error(live, api, caplog, ref_images):
    live.configure({"api_base": api.base, "ref_images": ref_images})
    live.page("a.md", directive("One"))
    with pytest.raises(Abort, match="configuration error"):
        live.build()
    errors = [r.getMessage() for r in caplog.records if r.levelname == "ERROR"]
    assert any("ref_images" in m and next(iter(ref_images.values())) in m for m in errors), errors
    assert api.requests == []
