"""Days off transferred by the yearly orders count in referral deadlines (`holidays` library)."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from core.calendar.working_days import add_working_days, is_working_day

ALMATY = ZoneInfo("Asia/Almaty")


def test_transferred_days_off_and_working_weekend_days() -> None:
    # 2024: Saturday 4 May worked, Wednesday 8 May off (between 7 and 9 May holidays).
    assert is_working_day(date(2024, 5, 4)) and not is_working_day(date(2024, 5, 8))
    # 2025: Friday 3 January off, Sunday 5 January worked.
    assert not is_working_day(date(2025, 1, 3)) and is_working_day(date(2025, 1, 5))


def test_a_referral_deadline_over_the_may_2024_holidays() -> None:
    start = datetime(2024, 5, 2, 11, 30, tzinfo=ALMATY)  # Thursday
    # 3 May, 4 May (a working Saturday), 6 May, 10 May, 13 May: 7, 8 and 9 May are off.
    assert add_working_days(start, 5, ALMATY) == datetime(2024, 5, 13, 11, 30, tzinfo=ALMATY)


def test_a_referral_deadline_over_new_year_2025() -> None:
    start = datetime(2024, 12, 31, 9, 0, tzinfo=ALMATY)  # Tuesday
    # 5 January (a working Sunday), 6, 8, 9 and 10 January; 1-4 and 7 January are off.
    assert add_working_days(start, 5, ALMATY) == datetime(2025, 1, 10, 9, 0, tzinfo=ALMATY)
