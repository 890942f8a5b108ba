"""What a build logged, from pytest's caplog."""

from __future__ import annotations


def warnings(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]


def summary(caplog) -> str:
    """The build's summary line ("N cached, M generated (...)...")."""
    return next(r.getMessage() for r in caplog.records if "cached," in r.getMessage())
