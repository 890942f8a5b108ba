"""Image providers: the NanoBanana API, the Gemini API, and offline placeholders.

Which providers exist, their endpoints, key variables and classes are data in
``core.catalog.PROVIDERS``; ``connect`` turns a name into a working provider. The
interface a new provider implements is base.py (``Provider``, ``ImageOrder``, the errors
it raises); http.py is the shared HTTP client a provider POSTs through, and its guarded
image download, whose every hop addresses.py judges by the addresses its host resolves to.

May import: core.
"""

from __future__ import annotations

import importlib
import threading
from collections.abc import Callable
from typing import Protocol

from ..core import reporting
from ..core.catalog import PROVIDERS, ProviderInfo
from ..core.errors import NanobananaError
from ..core.settings import RefSending, Timeouts
from .base import ImageOrder, Provider, RetryPolicy

__all__ = ["ProviderUnavailable", "connect"]

NAMES = tuple(PROVIDERS)


class ProviderUnavailable(NanobananaError, ValueError):
    """The configured provider cannot be used."""


class _Pooled(Provider, Protocol):
    """What ``_open`` makes: an API client that holds its HTTP connections until ``close``."""

    def close(self) -> None: ...


def connect(name: str, api_base: str | None, api_key: str, timeouts: Timeouts, concurrency: int,
            ref_images: RefSending = RefSending()) -> Provider:
    """The provider ``name``, with one pooled HTTP client for the whole build (closed by
    ``close()``), made on its first call: a build that calls no API (a warm one) then
    neither imports an HTTP library nor sets up a client, which would cost it time for
    nothing."""
    info = PROVIDERS.get(name)
    if info is None:
        choices = " or ".join(f"provider: {known}" for known in PROVIDERS)
        raise ProviderUnavailable(f"provider '{name}' is not known: use {choices}")
    reporting.add_secret(api_key)  # whatever a server echoes of it, no message shows it
    return _OnFirstCall(name, lambda: _open(info, api_base, api_key, timeouts, concurrency, ref_images))


def _open(info: ProviderInfo, api_base: str | None, api_key: str, timeouts: Timeouts, concurrency: int,
          ref_images: RefSending) -> _Pooled:
    module, _, cls = info.factory.partition(":")
    provider_class = getattr(importlib.import_module(module), cls)
    provider = provider_class.open(api_base or info.api_base, api_key, timeouts, concurrency)
    provider.ref_images = ref_images  # only NanoBanana reads it: Gemini's format is documented
    return provider


class _OnFirstCall:
    """Stands in for a provider until its first ``generate``, then hands every call on."""

    def __init__(self, name: str, make: Callable[[], _Pooled]) -> None:
        self.name = name
        self._make = make
        self._provider: _Pooled | None = None
        self._lock = threading.Lock()

    def __repr__(self) -> str:  # the key is in ``_make``'s closure: never show it
        return f"<{self.name} provider>"

    def generate(self, job: ImageOrder, retry: RetryPolicy) -> list[bytes]:
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
