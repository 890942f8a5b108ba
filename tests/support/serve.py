"""`mkdocs serve` (or `properdocs serve`) as a subprocess on a free port, its pages
fetched over HTTP and its log collected as it comes."""

from __future__ import annotations

import contextlib
import http.server
import os
import socket
import ssl
import subprocess
import threading
import time
from collections.abc import Iterator

import httpx

from tests.support.commands import bin_path
from tests.support.html import figures
from tests.support.live import KEY


@contextlib.contextmanager
def http_server(handler, tls: ssl.SSLContext | None = None) -> Iterator[http.server.ThreadingHTTPServer]:
    """A ThreadingHTTPServer on 127.0.0.1 (a free port: ``server_address[1]``) answering
    with ``handler`` from a thread for the block, over TLS with ``tls``; shut down after."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    if tls is not None:
        server.socket = tls.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """`<host> serve` as a subprocess; its log lines are collected as they come."""

    def __init__(self, host: str, site, port: int) -> None:
        self.url = f"http://127.0.0.1:{port}"
        env = {**os.environ, "NANOBANANA_API_KEY": KEY}
        self.proc = subprocess.Popen(
            [bin_path(host), "serve", "-a", f"127.0.0.1:{port}"], cwd=site.root, env=env,
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        )
        self.lines: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        for line in self.proc.stdout:
            self.lines.append(line.rstrip())

    @property
    def builds(self) -> int:
        return sum("Building documentation" in line for line in self.lines)

    def log(self) -> str:
        return "\n".join(self.lines)

    def figure(self, path: str) -> dict:
        fig, = figures(httpx.get(self.url + path, timeout=5).text)
        return fig

    def wait_for(self, path: str, test, timeout: float = 30, what: str = "") -> dict:
        deadline = time.monotonic() + timeout
        last = None
        while time.monotonic() < deadline:
            try:
                last = self.figure(path)
                if test(last):
                    return last
            except (httpx.HTTPError, ValueError):
                pass
            time.sleep(0.1)
        raise AssertionError(f"timed out waiting for {what or path}: last figure {last}\n{self.log()}")

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
