"""The Kazakhstan working-day calendar: the `holidays` library plus a small dated override file.

Referral deadlines count working days (DOMAIN.md): Saturdays, Sundays, public holidays, holidays
moved off a weekend and days off transferred by the government are not working days; a weekend
day the government declares a working day is one. The maintained `holidays` package
(`country_holidays("KZ")`) knows all of these, including the 2026 move of Constitution Day from
30 August to 15 March (observed from 2027), Kurban ait, and the transfers it has shipped
(its substituted days and `weekend_workdays`). `kz_overrides.json` holds only the transfers the
government announced before the library shipped them; each entry names its resolution or news
source and the date it was added. `tests/unit/test_calendar_library.py` fails on any day where
this calendar and the library disagree without an override entry, and on an override the library
already agrees with (remove it then).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Literal, cast
from zoneinfo import ZoneInfo

import holidays as holidays_lib

OVERRIDES = Path(__file__).with_name("kz_overrides.json")

OverrideKind = Literal["off", "work"]


@dataclass(frozen=True)
class Override:
    """A day the government made a day off ("off") or a working day ("work")."""

    day: date
    kind: OverrideKind
    source: str  # the resolution or the news item that announced it
    added: date  # when the entry was added (to tell stale entries once the library ships them)


@dataclass(frozen=True)
class YearCalendar:
    holidays: frozenset[date]  # statutory holidays and transferred days off, without observed days
    days_off: frozenset[date]  # every weekday that is not worked
    working_days: frozenset[date]  # weekend days declared working


def is_working_day(day: date) -> bool:
    """True on a day people work in Kazakhstan."""
    year = _year(day.year)
    if day in year.working_days:
        return True
    if day.weekday() >= 5:
        return False
    return day not in year.days_off


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
    """The public holidays of `year` and the days off transferred to it (not the observed days
    a holiday on a weekend moves to)."""
    return _year(year).holidays


def library_calendar(year: int) -> holidays_lib.HolidayBase:
    """The library's Kazakhstan calendar around `year` (a transfer may come from a neighbouring
    year's weekend, so the years on both sides are included)."""
    return holidays_lib.country_holidays("KZ", years=range(year - 1, year + 2))


def overrides() -> tuple[Override, ...]:
    """The entries of `kz_overrides.json`."""
    return _overrides()


def build_year(year: int, extra: tuple[Override, ...]) -> YearCalendar:
    """The calendar of `year`: the library's, then the override entries of that year on top."""
    lib = library_calendar(year)
    statutory = holidays_lib.country_holidays("KZ", years=year, observed=False)
    days_off = {d for d in lib if d.year == year and d.weekday() < 5}
    working = {d for d in lib.weekend_workdays if d.year == year}
    listed = {d for d in statutory if d.year == year}
    for entry in extra:
        if entry.day.year != year:
            continue
        if entry.kind == "off":
            days_off.add(entry.day)
            working.discard(entry.day)
            listed.add(entry.day)
        else:
            days_off.discard(entry.day)
            listed.discard(entry.day)
            if entry.day.weekday() >= 5:
                working.add(entry.day)
    return YearCalendar(frozenset(listed), frozenset(days_off), frozenset(working))


def load_overrides(path: Path) -> tuple[Override, ...]:
    """Parse an override file; a malformed entry raises (the file ships with the code)."""
    data = json.loads(path.read_text(encoding="utf-8"))
    entries: list[Override] = []
    for raw in cast("list[dict[str, str]]", data["overrides"]):
        kind = raw["kind"]
        if kind not in ("off", "work"):
            raise ValueError(f"override {raw['date']}: kind must be 'off' or 'work', not {kind!r}")
        if not raw["source"].strip():
            raise ValueError(f"override {raw['date']}: the source is required")
        entries.append(
            Override(
                day=date.fromisoformat(raw["date"]),
                kind=cast("OverrideKind", kind),
                source=raw["source"],
                added=date.fromisoformat(raw["added"]),
            )
        )
    days = [entry.day for entry in entries]
    if len(days) != len(set(days)):
        raise ValueError("an override date is listed twice")
    return tuple(entries)


# One entry per year: is_working_day runs inside deadline loops and the library builds a year in
# milliseconds, so each year is built once per process.
@lru_cache(maxsize=64)
def _year(year: int) -> YearCalendar:
    return build_year(year, _overrides())


@lru_cache(maxsize=1)
def _overrides() -> tuple[Override, ...]:
    return load_overrides(OVERRIDES)
