"""The Kazakhstan working-day calendar that referral deadlines are counted on."""

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from core.calendar.working_days import add_working_days, holidays, is_working_day

ALMATY = ZoneInfo("Asia/Almaty")


def test_public_holidays_are_days_off() -> None:
    for day in (
        date(2026, 1, 1),
        date(2026, 1, 2),
        date(2026, 1, 7),
        date(2026, 3, 23),
        date(2026, 5, 1),
        date(2026, 5, 7),
        date(2026, 7, 6),
        date(2026, 12, 16),
    ):
        assert not is_working_day(day), day


def test_ordinary_weekdays_work_and_weekends_do_not() -> None:
    assert is_working_day(date(2026, 2, 10))  # Tuesday
    assert not is_working_day(date(2026, 2, 14))  # Saturday
    assert not is_working_day(date(2026, 2, 15))  # Sunday


def test_kurban_ait_varies_by_year() -> None:
    assert date(2025, 6, 6) in holidays(2025)
    assert date(2026, 5, 27) in holidays(2026)
    assert not is_working_day(date(2026, 5, 27))
    assert is_working_day(date(2025, 5, 27))


def test_a_holiday_on_a_weekend_moves_to_the_next_working_day() -> None:
    # Nauryz 2026: Saturday 21, Sunday 22, Monday 23 March -> 24 and 25 March are days off too.
    assert not is_working_day(date(2026, 3, 24))
    assert not is_working_day(date(2026, 3, 25))
    assert is_working_day(date(2026, 3, 26))
    # Victory Day 2026 is a Saturday: Monday 11 May is off.
    assert not is_working_day(date(2026, 5, 11))


def test_religious_holidays_do_not_move() -> None:
    # 7 January 2029 is a Sunday; Monday 8 January is worked.
    assert date(2029, 1, 7) in holidays(2029)
    assert is_working_day(date(2029, 1, 8))
    # Kurban ait 2024 fell on Sunday 16 June; Monday 17 June 2024 was a working day.
    assert is_working_day(date(2024, 6, 17))


def test_years_beyond_the_data_still_know_fixed_holidays() -> None:
    assert not is_working_day(date(2030, 12, 16))
    assert not is_working_day(date(2030, 3, 25))  # Nauryz 2030 starts on a Thursday: 21..23
    assert is_working_day(date(2030, 3, 26))


def test_five_working_days_to_the_minute() -> None:
    # Tuesday 10 Feb 2026 14:37 local -> Tuesday 17 Feb 2026 14:37 local.
    start = datetime(2026, 2, 10, 14, 37, tzinfo=ALMATY).astimezone(UTC)
    deadline = add_working_days(start, 5, ALMATY)
    assert deadline.astimezone(ALMATY) == datetime(2026, 2, 17, 14, 37, tzinfo=ALMATY)
    assert deadline.tzinfo is UTC


def test_working_days_skip_holidays_and_moved_days() -> None:
    # Friday 20 March 2026 09:00: 21-25 March are off; 26, 27, 30, 31 March, 1 April.
    start = datetime(2026, 3, 20, 9, 0, tzinfo=ALMATY)
    assert add_working_days(start, 5, ALMATY) == datetime(2026, 4, 1, 9, 0, tzinfo=ALMATY)


def test_days_are_counted_on_the_local_calendar() -> None:
    # 20:30 UTC on Friday is already Saturday 01:30 in Almaty: counting starts from Saturday.
    start = datetime(2026, 2, 13, 20, 30, tzinfo=UTC)
    deadline = add_working_days(start, 1, ALMATY)
    assert deadline.astimezone(ALMATY) == datetime(2026, 2, 16, 1, 30, tzinfo=ALMATY)


def test_naive_start_is_refused() -> None:
    with pytest.raises(ValueError):
        add_working_days(datetime(2026, 1, 5, 10, 0), 1, ALMATY)
