"""A broadcast's audience typed as one line: `all` or `kindergarten=12 birth_year=2021 ...`."""

from __future__ import annotations

from typing import Any

from core.notifications import broadcasts

ALL_WORDS = ("all", "барлығы", "все")


def is_audience_line(text: str) -> bool:
    """A typed text that sets filters (rather than searching a kindergarten by name)."""
    return "=" in text or text.strip().lower() in ALL_WORDS


def parse_audience(text: str) -> dict[str, Any] | None:
    """The filters of a typed line, or None when a part is not `key=value` of a known filter."""
    text = text.strip()
    if text.lower() in ALL_WORDS:
        return {}
    audience: dict[str, Any] = {}
    for part in text.split():
        key, sep, value = part.partition("=")
        if not sep or key not in broadcasts.AUDIENCE_KEYS or not value:
            return None
        if key in ("kindergarten", "birth_year"):
            if not value.isdigit():
                return None
            audience[key] = int(value)
        else:
            audience[key] = value
    return audience
