"""Image providers: the NanoBanana API, and offline placeholders."""

from __future__ import annotations

from .base import Provider


class ProviderUnavailable(ValueError):
    """The configured provider cannot be used."""


def connect(name: str, api_base: str | None, api_key: str, timeout: float, concurrency: int) -> Provider:
    """A provider with one pooled HTTP client for the whole build, made when first needed
    (closed by ``close()``)."""
    import httpx  # here, not at the top: a build that calls no API never needs it

    from .http import LazyClient

    limits = httpx.Limits(max_connections=concurrency * 2, max_keepalive_connections=concurrency * 2)
    if name == "nanobanana":
        from .nanobanana import DEFAULT_API_BASE, NanoBananaProvider

        client = LazyClient(limits=limits, timeout=timeout)  # trust_env: HTTPS_PROXY works
        return NanoBananaProvider(client, api_base or DEFAULT_API_BASE, api_key, timeout, concurrency)
    if name == "gemini":
        from .gemini import DEFAULT_API_BASE as GEMINI_BASE
        from .gemini import GeminiProvider

        client = LazyClient(limits=limits, timeout=timeout)
        return GeminiProvider(client, api_base or GEMINI_BASE, api_key, timeout, concurrency)
    raise ProviderUnavailable(f"provider '{name}' is not known: use provider: nanobanana or provider: gemini")
