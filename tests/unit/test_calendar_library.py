"""The working-day calendar is the `holidays` library's Kazakhstan calendar plus dated overrides."""

from __future__ import annotations

from datetime import date, timedelta

from core.calendar.working_days import is_working_day, library_calendar, overrides

YEARS = range(2024, 2031)


def test_every_day_2024_to_2030_matches_the_library_or_an_override() -> None:
    explained = {entry.day: entry for entry in overrides()}
    unexplained: list[str] = []
    for year in YEARS:
        lib = library_calendar(year)
        day = date(year, 1, 1)
        while day.year == year:
            ours = is_working_day(day)
            entry = explained.get(day)
            if entry is not None:
                if ours != (entry.kind == "work"):
                    unexplained.append(f"{day}: override {entry.kind} not applied")
            elif ours != lib.is_working_day(day):
                unexplained.append(f"{day}: calendar {ours}, library {lib.is_working_day(day)}")
            day += timedelta(days=1)
    assert unexplained == []


def test_no_override_repeats_what_the_library_already_knows() -> None:
    # Once the library ships a transfer, its override entry is stale: delete it from
    # core/calendar/kz_overrides.json.
    stale = [
        f"{entry.day} {entry.kind} (added {entry.added})"
        for entry in overrides()
        if library_calendar(entry.day.year).is_working_day(entry.day) == (entry.kind == "work")
    ]
    assert stale == []


def test_every_override_names_its_source_and_when_it_was_added() -> None:
    for entry in overrides():
        assert entry.source.strip(), entry.day
        assert entry.added <= date.today() + timedelta(days=1), entry.day
