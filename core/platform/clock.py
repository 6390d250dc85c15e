"""The current time. Services call `now()`; tests may shift it with `travel()`."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

_offset = timedelta(0)


def now() -> datetime:
    return datetime.now(UTC) + _offset


@contextlib.contextmanager
def travel(delta: timedelta) -> Iterator[None]:
    """Move the service clock forward by `delta` inside the block (tests and demos)."""
    global _offset
    previous = _offset
    _offset = previous + delta
    try:
        yield
    finally:
        _offset = previous


@contextlib.contextmanager
def travel_to(instant: datetime) -> Iterator[None]:
    """Set the service clock to read `instant` now (it runs on from there): a test or a demo
    whose story depends on the calendar (ages, seasons, campaigns) tells the same story any day."""
    with travel(instant - now()):
        yield
