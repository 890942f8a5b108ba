"""Where the core's messages go: one callable given by the host, plus warn-once, and the
one place every message is scrubbed of the API key.

The host decides what a warning is (MkDocs' plugin logger, the CLI's stderr); the core
only says what happened. Some things are worth saying once per build or session however
often they happen (a missing site_url, a spent budget): ``once`` keeps that promise in one
place.

A server may echo the key it was sent (in an error message, a URL it returns, a header),
and what it says reaches our messages: every Reporter, the CLI's errors and the HTTP
libraries' log lines pass through ``scrub``, which blanks each secret it was told of
(``add_secret``: the settings, when they read the key variable; a provider, when it opens).
"""

from __future__ import annotations

import logging
import threading
import urllib.parse
from collections.abc import Callable

__all__: list[str] = []

#: A secret shorter than this is not scrubbed: no API key is that short, and blanking
#: every "k" or "x" of a message (tests use such keys) would make it unreadable.
MIN_SECRET_CHARS = 8
SCRUBBED = "[key]"

_secrets: frozenset[str] = frozenset()
_secrets_lock = threading.Lock()


def add_secret(value: str | None) -> None:
    """From now on, ``value`` (stripped, and as a URL would carry it) is never shown."""
    global _secrets
    value = (value or "").strip()
    if len(value) < MIN_SECRET_CHARS:
        return
    forms = {value, urllib.parse.quote(value, safe=""), urllib.parse.quote_plus(value)}
    with _secrets_lock:
        _secrets = _secrets | forms


def scrub(text: str) -> str:
    """``text`` with every secret blanked out, longest first (a key that holds another)."""
    secrets = _secrets
    if not secrets or not text:
        return text
    for secret in sorted(secrets, key=len, reverse=True):
        if secret in text:
            text = text.replace(secret, SCRUBBED)
    return text


class ScrubbingFilter(logging.Filter):
    """Scrubs a log record's message (its arguments formatted in) before any handler
    sees it: on the loggers of httpx and httpcore, which log URLs and headers at INFO
    and DEBUG, a server's echo included."""

    def filter(self, record: logging.LogRecord) -> bool:
        if _secrets:
            message = record.getMessage()
            clean = scrub(message)
            if clean != message:
                record.msg, record.args = clean, None
        return True


#: The third-party loggers that may print what a server sent. A logger's filters see
#: only its own records (not its children's), so each one that logs is named.
HTTP_LOGGERS = ("httpx", "httpcore", "httpcore.connection", "httpcore.http11", "httpcore.http2", "httpcore.proxy",
                "httpcore.socks")
_filter = ScrubbingFilter()


def scrub_http_logs() -> None:
    """Put the scrubbing filter on the HTTP libraries' loggers (once; safe to call again)."""
    for name in HTTP_LOGGERS:
        logger = logging.getLogger(name)
        if _filter not in logger.filters:
            logger.addFilter(_filter)


class Reporter:
    def __init__(self, warn: Callable[[str], None] = print) -> None:
        self._sink = warn
        self._said: set[str] = set()
        self._lock = threading.Lock()

    def warn(self, message: str) -> None:
        """Say ``message``, scrubbed of every secret."""
        self._sink(scrub(message))

    def once(self, topic: str, message: str) -> bool:
        """Warn ``message`` unless ``topic`` was warned about before; True if it was said now."""
        with self._lock:
            if topic in self._said:
                return False
            self._said.add(topic)
        self.warn(message)
        return True
