"""The audit's cases (domain-audit-2026-12 §2): Constitution Day moved to 15 March from 2027,
Kurban ait in every year, and the referral deadlines those days change."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from core.calendar.working_days import add_working_days, holidays, is_working_day

ALMATY = ZoneInfo("Asia/Almaty")


def test_constitution_day_is_15_march_from_2027() -> None:
    assert not is_working_day(date(2027, 3, 15))  # Monday
    assert not is_working_day(date(2028, 3, 15))  # Wednesday
    assert date(2030, 3, 15) in holidays(2030)


def test_30_august_and_its_moved_day_are_worked_from_2026() -> None:
    # 2026: no Constitution Day at all; 30 Aug is a Sunday and Monday 31 Aug is worked.
    assert is_working_day(date(2026, 8, 31))
    assert is_working_day(date(2027, 8, 30))  # Monday
    assert is_working_day(date(2028, 8, 30))  # Wednesday
    assert date(2026, 8, 30) not in holidays(2026)


def test_a_referral_issued_before_constitution_day_2027_expires_after_nauryz() -> None:
    # Fri 12 Mar 2027 10:00: 15 Mar (Constitution Day) and 22-24 Mar (Nauryz, 21 Mar moved to 24)
    # are off, so the 5 working days are 16, 17, 18, 19 and 25 March.
    issued = datetime(2027, 3, 12, 10, 0, tzinfo=ALMATY)
    assert add_working_days(issued, 5, ALMATY) == datetime(2027, 3, 25, 10, 0, tzinfo=ALMATY)


def test_a_referral_issued_late_august_2027_is_not_stretched_by_30_august() -> None:
    # Mon 23 Aug 2027 10:00: 24, 25, 26, 27 and 30 August are all working days.
    issued = datetime(2027, 8, 23, 10, 0, tzinfo=ALMATY)
    assert add_working_days(issued, 5, ALMATY) == datetime(2027, 8, 30, 10, 0, tzinfo=ALMATY)


def test_kurban_ait_is_a_day_off_in_every_year() -> None:
    assert date(2029, 4, 24) in holidays(2029)
    assert not is_working_day(date(2029, 4, 24))  # Tuesday
    assert not is_working_day(date(2027, 5, 16)) and not is_working_day(date(2028, 5, 5))
