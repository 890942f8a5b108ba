"""Issue 35, item 1: a download goes only where it should, by address, not by spelling.

The address check once read the host as written: ``2130706433``, ``127.1``,
``0x7f000001`` and ``0`` (each 127.0.0.1 or 0.0.0.0 to the C resolver) passed, and a DNS
name was never resolved, so one pointing at 169.254.169.254 passed too. Every test here
has a real server on 127.0.0.1 behind the refused URL: had the check let it through, the
server would have recorded the GET.

DNS names are answered by a stub resolver (``dns``), in the process: socket.getaddrinfo
is what httpcore's connect and addresses.resolve both call.
"""

from __future__ import annotations

import http.server
import logging
import socket
import ssl
import subprocess

import httpx
import pytest

from mkdocs_nanobanana.providers import addresses
from mkdocs_nanobanana.providers import http as provider_http
from mkdocs_nanobanana.providers.base import ProviderError, TransientError
from tests.fakeapi import FakeAPI, image_png
from tests.support.directives import directive
from tests.support.html import figures
from tests.support.live import answer_with_url
from tests.support.serve import http_server

LOOPBACK = frozenset({"loopback"})


@pytest.fixture
def dns(monkeypatch):
    """Names -> address lists (a list of lists: one per lookup, the last repeated), and
    every lookup made: (name, port)."""
    answers: dict[str, list[list[str]]] = {}
    lookups: list[str] = []
    real = socket.getaddrinfo

    def getaddrinfo(host, port, family=0, type=0, proto=0, flags=0):
        name = host.decode() if isinstance(host, bytes) else host
        lookups.append(name)
        if name not in answers:
            return real(host, port, family, type, proto, flags)
        queue = answers[name]
        found = queue.pop(0) if len(queue) > 1 else queue[0]
        return [(socket.AF_INET6 if ":" in a else socket.AF_INET, socket.SOCK_STREAM, 6, "",
                 (a, port, 0, 0) if ":" in a else (a, port)) for a in found]

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return answers, lookups


SPELLINGS_OF_HOME = ["2130706433", "127.1", "0x7f000001", "017700000001", "0177.0.0.1", "0", "[::ffff:127.0.0.1]",
                     "[::ffff:7f00:1]", "[::1]", "[::]", "localhost", "LOCALHOST.", "127.0.0.1"]


@pytest.mark.parametrize("host", SPELLINGS_OF_HOME)
def test_every_spelling_of_this_machine_is_refused_for_a_public_api(api, host):
    url = api.add_file(image_png((64, 64), 1)).replace("127.0.0.1", host)
    with httpx.Client() as client, pytest.raises(ProviderError) as caught:
        provider_http.download_image(client, url, 5)
    assert "refused" in str(caught.value) and not isinstance(caught.value, TransientError), caught.value
    assert api.downloads == []


@pytest.mark.parametrize("address, kind", [
    ("169.254.169.254", "link-local"), ("10.0.0.8", "private"), ("192.168.1.4", "private"), ("127.0.0.2", "loopback"),
    ("224.0.0.1", "multicast"), ("240.0.0.1", "reserved"), ("100.64.0.1", "not public"), ("fe80::1", "link-local"),
    ("fc00::1", "private"), ("::ffff:169.254.169.254", "link-local"), ("64:ff9b::a9fe:a9fe", "link-local"),
    ("2002:a9fe:a9fe::1", "link-local"),
])
def test_a_dns_name_is_judged_by_every_address_it_resolves_to(api, dns, address, kind):
    """A name resolving to a private address is refused; so is one resolving to a
    public address and a private one (which one a connection gets is the resolver's)."""
    answers, _ = dns
    answers["img.example"] = [[address]]
    answers["mixed.example"] = [["93.184.216.34", address]]
    with httpx.Client() as client:
        for name in ("img.example", "mixed.example"):
            with pytest.raises(ProviderError) as caught:
                provider_http.download_image(client, f"http://{name}:{api.port}/files/x.png", 5, LOOPBACK - {kind})
            assert f"on a {kind} address ({name}, which resolves to {address}): refused" in str(caught.value)
    assert api.downloads == []


def test_each_redirect_hop_is_judged_the_same_way(api, dns):
    answers, _ = dns
    answers["metadata.example"] = [["169.254.169.254"]]
    hops = [f"http://metadata.example:{api.port}/latest/meta-data/", "http://10.0.0.8/x.png", "http://0x0a000008/x.png",
            "http://[::ffff:10.0.0.8]/x.png", "file:///etc/passwd", "gopher://127.0.0.1/"]
    with httpx.Client() as client:
        for hop in hops:
            start = f"{api.origin}/redirect-to/{hop.replace('/', '~')}"
            with pytest.raises(ProviderError) as caught:
                provider_http.download_image(client, start, 5, LOOPBACK)
            assert "refused" in str(caught.value) or "not http(s)" in str(caught.value), hop
    # the API's own loopback: the first hop was fetched, each redirect target refused
    assert [r.path.split("/")[1] for r in api.downloads] == ["redirect-to"] * len(hops)


def test_the_download_connects_to_the_address_it_judged_not_to_a_second_lookup(api, dns):
    """DNS rebinding: the name answers 127.0.0.1 (the API's own, allowed) when judged and
    169.254.169.254 after. The image comes from 127.0.0.1, the name was looked up once,
    and the server saw the name in the Host header."""
    answers, lookups = dns
    answers["rebind.example"] = [["127.0.0.1"], ["169.254.169.254"]]
    url = api.add_file(image_png((64, 64), 2)).replace("127.0.0.1", "rebind.example")
    with httpx.Client() as client:
        data = provider_http.download_image(client, url, 5, LOOPBACK)
    assert data == api.files[url.rsplit("/", 1)[1]]
    assert lookups.count("rebind.example") == 1
    assert api.downloads[-1].headers["host"] == f"rebind.example:{api.port}"


def test_the_next_judged_address_is_tried_when_the_first_refuses_the_connection(api, dns):
    answers, _ = dns
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        dead_port = closed.getsockname()[1]
    answers["two.example"] = [["::1", "127.0.0.1"]]  # nothing listens on ::1 at the fake's port
    url = api.add_file(image_png((64, 64), 3)).replace("127.0.0.1", "two.example")
    with httpx.Client() as client:
        assert provider_http.download_image(client, url, 5, LOOPBACK)
        with pytest.raises(TransientError):
            provider_http.download_image(client, url.replace(str(api.port), str(dead_port)), 5, LOOPBACK)


@pytest.fixture(scope="module")
def tls_server(tmp_path_factory):
    """An HTTPS server on 127.0.0.1 with a certificate for img.example only, signed by a
    CA of its own; (port, the CA's file)."""
    folder = tmp_path_factory.mktemp("tls")
    ca, cert = folder / "ca", folder / "img"

    def openssl(*args):
        subprocess.run(["openssl", *args], check=True, capture_output=True)

    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", f"{ca}.key", "-out", f"{ca}.pem",
            "-days", "2", "-subj", "/CN=test CA", "-addext", "basicConstraints=critical,CA:TRUE",
            "-addext", "keyUsage=critical,keyCertSign")
    openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", f"{cert}.key", "-out", f"{cert}.csr",
            "-subj", "/CN=img.example")
    (folder / "ext").write_text("subjectAltName=DNS:img.example\n")
    openssl("x509", "-req", "-in", f"{cert}.csr", "-CA", f"{ca}.pem", "-CAkey", f"{ca}.key", "-CAcreateserial",
            "-out", f"{cert}.pem", "-days", "2", "-extfile", str(folder / "ext"))
    png = image_png((64, 64), 7)

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(200)
            self.send_header("Content-Type", "image/png")
            self.send_header("Content-Length", str(len(png)))
            self.end_headers()
            self.wfile.write(png)

        def log_message(self, *args):
            pass

    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(f"{cert}.pem", f"{cert}.key")
    with http_server(Handler, tls=context) as server:
        yield server.server_address[1], str(ca) + ".pem", png


def test_https_to_the_judged_address_checks_the_certificate_against_the_name(tls_server, dns):
    """The URL's host is the address, but TLS is told the name (SNI) and checks the
    certificate against it: img.example's certificate is taken for img.example and
    refused for another name that resolves to the same address."""
    port, ca, png = tls_server
    answers, _ = dns
    answers["img.example"] = [["127.0.0.1"]]
    answers["other.example"] = [["127.0.0.1"]]
    with httpx.Client(verify=ssl.create_default_context(cafile=ca)) as client:
        assert provider_http.download_image(client, f"https://img.example:{port}/a.png", 5, LOOPBACK) == png
        with pytest.raises(TransientError):  # the certificate does not name it
            provider_http.download_image(client, f"https://other.example:{port}/a.png", 5, LOOPBACK)


def test_loopback_is_allowed_only_when_the_api_itself_is_on_it():
    assert addresses.allowed_for("127.0.0.1") == LOOPBACK and addresses.allowed_for("::1") == LOOPBACK
    assert addresses.allowed_for("localhost") == LOOPBACK
    assert addresses.allowed_for("10.1.2.3") == {"private"}
    for public in ("api.nanobananaapi.ai", "generativelanguage.googleapis.com", "8.8.8.8", "2606:4700::1111"):
        assert addresses.allowed_for(public) == frozenset(), public


def test_a_build_against_a_public_api_refuses_every_spelling_of_home(site, monkeypatch, caplog, dns, fast_retries):
    """Through `mkdocs build`, with api_base a DNS name (so nothing private is allowed):
    each image URL that reaches this machine is a warning naming page:line and a
    placeholder, nothing is fetched, and the directive whose URL is public-by-name but
    resolves home is refused the same. The rest of the site builds."""
    caplog.set_level(logging.INFO)
    answers, _ = dns
    monkeypatch.setenv("NANOBANANA_API_KEY", "nb-address-test-0123456789")
    with FakeAPI() as api:
        answers["api.example"] = [["127.0.0.1"]]  # the API, reached by its name
        answers["cdn.example"] = [["169.254.169.254"]]
        good = image_png((1024, 1024), 5)
        urls = [api.add_file(good).replace("127.0.0.1", h) for h in ("2130706433", "127.1", "0x7f000001", "0",
                                                                     "[::ffff:127.0.0.1]", "localhost", "cdn.example")]
        site.configure({"api_base": f"http://api.example:{api.port}/v1", "retries": 1, "concurrency": 1})
        site.page("a.md", "# A\n\n" + "".join(directive(f"Image {i}") for i in range(len(urls))))
        for i, url in enumerate(urls):
            api.faults_for[f"Image {i}"] = answer_with_url(url)
        site.build()
        assert len(api.generate_requests) == len(urls) and api.downloads == []
    said = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    for i in range(len(urls)):
        line = 3 + 4 * i
        assert any(m.startswith(f"nanobanana: docs/a.md:{line}: ") and ": refused" in m for m in said), (line, said)
    assert all("nanobanana-placeholder" in f["class"] for f in figures(site.html("a/index.html")))
    assert list(site.cache.keys()) == [] and "Traceback" not in caplog.text


def test_nanobanana_generate_refuses_image_urls_off_the_apis_own_kind_of_address(site, api):
    """`nanobanana generate` against the fake on 127.0.0.1 (so loopback is allowed):
    URLs on the link-local metadata address, a private network (spelt as hex and as
    IPv4-mapped IPv6 too) and this machine's 0.0.0.0 are refused before any connection,
    each a line naming page:line; the exit code says images failed, and nothing traced."""
    import os

    from tests.support.commands import bin_path

    urls = ["http://169.254.169.254/latest/meta-data/iam/", "http://10.0.0.8/x.png", "http://0x0a000008/x.png",
            "http://[::ffff:10.0.0.8]/x.png", "http://0/x.png", "http://[fd00::1]/x.png"]
    site.configure({"api_base": api.base, "retries": 0})
    site.page("a.md", "# A\n\n" + "".join(directive(f"Image {i}") for i in range(len(urls))))
    for i, url in enumerate(urls):
        api.faults_for[f"Image {i}"] = answer_with_url(url)
    env = {**os.environ, "NANOBANANA_API_KEY": "nb-address-test-0123456789"}
    proc = subprocess.run([bin_path("nanobanana"), "generate", "--yes"], cwd=site.root, env=env,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 1 and "Traceback" not in proc.stderr, proc.stderr
    for i in range(len(urls)):
        assert f"docs/a.md:{3 + 4 * i}: generation failed" in proc.stderr, proc.stderr
    assert proc.stderr.count(": refused") == len(urls), proc.stderr
    assert api.downloads == [] and len(api.generate_requests) == len(urls)
