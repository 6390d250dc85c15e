"""The Kazakhstan working-day calendar, kept as data in `core/calendar/kz_calendar.json`.

Referral deadlines count working days (DOMAIN.md): Saturdays, Sundays, public holidays, holidays
moved off a weekend and days off transferred by the government are not working days; a Saturday
the government declares a working day is one. Years missing from the data fall back to the fixed
holidays with the weekend-move rule (no Kurban ait, no transfers), so nothing breaks on 1 January.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any, cast
from zoneinfo import ZoneInfo

DATA = Path(__file__).with_name("kz_calendar.json")

# Used only for years the data file does not cover: (month, day, moves when on a weekend).
_FIXED_FALLBACK = (
    (1, 1, True),
    (1, 2, True),
    (1, 7, False),
    (3, 8, True),
    (3, 21, True),
    (3, 22, True),
    (3, 23, True),
    (5, 1, True),
    (5, 7, True),
    (5, 9, True),
    (7, 6, True),
    (8, 30, True),
    (10, 25, True),
    (12, 16, True),
)


@dataclass(frozen=True)
class YearCalendar:
    holidays: frozenset[date]
    days_off: frozenset[date]  # moved and transferred days off (weekdays that are not worked)
    working_days: frozenset[date]  # weekend days declared working


def is_working_day(day: date) -> bool:
    """True on a day people work in Kazakhstan."""
    year = _year(day.year)
    if day in year.working_days:
        return True
    if day.weekday() >= 5:
        return False
    return day not in year.holidays and day not in year.days_off


def next_working_day(day: date) -> date:
    """The first working day strictly after `day`."""
    day += timedelta(days=1)
    while not is_working_day(day):
        day += timedelta(days=1)
    return day


def add_working_days(start: datetime, n: int, tz: ZoneInfo) -> datetime:
    """The moment `n` working days after `start`, at the same local time ("to the minute").

    The days are counted on the local calendar of `tz`; the result keeps `start`'s tzinfo.
    """
    if start.tzinfo is None:
        raise ValueError("start must be timezone-aware")
    local = start.astimezone(tz)
    day = local.date()
    for _ in range(n):
        day = next_working_day(day)
    result = datetime.combine(day, local.timetz().replace(tzinfo=None), tzinfo=tz)
    return result.astimezone(start.tzinfo)


def holidays(year: int) -> frozenset[date]:
    """The public holidays of `year` (not including days off moved from a weekend)."""
    return _year(year).holidays


@lru_cache(maxsize=64)
def _year(year: int) -> YearCalendar:
    data = _load().get(str(year))
    if data is None:
        return _fallback(year)
    return YearCalendar(
        holidays=frozenset(date.fromisoformat(d) for d in data["holidays"]),
        days_off=frozenset(
            date.fromisoformat(d) for d in (*data["days_off_moved"], *data["days_off_transferred"])
        ),
        working_days=frozenset(date.fromisoformat(d) for d in data["working_days"]),
    )


@lru_cache(maxsize=1)
def _load() -> dict[str, dict[str, Any]]:
    data = json.loads(DATA.read_text(encoding="utf-8"))
    return cast("dict[str, dict[str, Any]]", data["years"])


def _fallback(year: int) -> YearCalendar:
    holidays = {date(year, month, day_) for month, day_, _ in _FIXED_FALLBACK}
    moved: set[date] = set()
    for month, day_, movable in _FIXED_FALLBACK:
        day = date(year, month, day_)
        if movable and day.weekday() >= 5:
            nxt = day + timedelta(days=1)
            while nxt.weekday() >= 5 or nxt in holidays or nxt in moved:
                nxt += timedelta(days=1)
            moved.add(nxt)
    return YearCalendar(frozenset(holidays), frozenset(moved), frozenset())
