"""Image providers: the NanoBanana API, and offline placeholders."""

from __future__ import annotations

import httpx

from .base import Provider


class ProviderUnavailable(ValueError):
    """The configured provider cannot be used."""


def connect(name: str, api_base: str | None, api_key: str, timeout: float, concurrency: int) -> Provider:
    """A provider with one pooled HTTP client for the whole build (closed by ``close()``)."""
    if name == "nanobanana":
        from .nanobanana import DEFAULT_API_BASE, NanoBananaProvider

        limits = httpx.Limits(max_connections=concurrency * 2, max_keepalive_connections=concurrency * 2)
        client = httpx.Client(limits=limits, timeout=timeout)  # trust_env: HTTPS_PROXY works
        return NanoBananaProvider(client, api_base or DEFAULT_API_BASE, api_key, timeout)
    raise ProviderUnavailable(f"provider '{name}' is not available in this version: use provider: nanobanana")
