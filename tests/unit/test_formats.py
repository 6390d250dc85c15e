"""Dates, countdowns, ages and numbers as a Kazakh or Russian reader writes them: one format per
language, Kazakh dates year first, time left never rounded to weeks or months."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from aiogram.utils.i18n import I18n

from bot.texts.formats import (
    application_number,
    countdown,
    day_month,
    fmt_date,
    fmt_datetime,
    full_months,
    referral_number,
)
from bot.texts.labels import age_text
from core.platform import clock

ROOT = Path(__file__).resolve().parents[2]
TZ = ZoneInfo("Asia/Almaty")
KK_MONTHS = (
    "қаңтар ақпан наурыз сәуір мамыр маусым шілде тамыз қыркүйек қазан қараша желтоқсан".split()
)
RU_MONTHS = (
    "января февраля марта апреля мая июня июля августа сентября октября ноября декабря".split()
)


@pytest.mark.parametrize("month", range(1, 13))
def test_a_kazakh_date_puts_the_year_first_and_a_russian_one_last(month: int) -> None:
    day = date(2026, month, 1)
    assert fmt_date(day, "kk") == f"2026 жылғы 1 {KK_MONTHS[month - 1]}"
    assert fmt_date(day, "ru") == f"1 {RU_MONTHS[month - 1]} 2026"
    assert day_month(day, "kk") == f"1 {KK_MONTHS[month - 1]}"


@pytest.mark.parametrize("year", range(2020, 2030))
def test_every_year_reads_with_the_same_word(year: int) -> None:
    """No suffix chosen by the year's last digit: «жылғы» follows every year."""
    assert fmt_date(date(year, 12, 1), "kk") == f"{year} жылғы 1 желтоқсан"


def test_a_moment_is_shown_in_kazakhstan_time_in_the_one_pattern() -> None:
    moment = datetime(2026, 12, 2, 6, 16, tzinfo=UTC)
    assert fmt_datetime(moment, TZ, "kk") == "2026 жылғы 2 желтоқсан, 11:16"
    assert fmt_datetime(moment, TZ, "ru") == "2 декабря 2026, 11:16"
    assert fmt_datetime(moment, TZ, "kk_KZ") == fmt_datetime(moment, TZ, "kk")  # a Babel locale


@pytest.fixture
def now(monkeypatch: pytest.MonkeyPatch) -> datetime:
    fixed = datetime(2026, 12, 1, 6, 16, tzinfo=UTC)
    monkeypatch.setattr(clock, "now", lambda: fixed)
    return fixed


@pytest.mark.parametrize(
    ("left", "kk", "ru"),
    [
        (
            timedelta(days=37, hours=23, minutes=59),
            "37 күн 23 сағат 59 минут",
            "37 дней 23 часа 59 минут",
        ),
        (timedelta(days=11), "11 күн", "11 дней"),
        (timedelta(days=7, hours=1), "7 күн 1 сағат", "7 дней 1 час"),
        (timedelta(days=45), "45 күн", "45 дней"),
        (timedelta(days=2, minutes=3), "2 күн 3 минут", "2 дня 3 минуты"),
        (timedelta(seconds=20), "1 минут", "1 минута"),
    ],
)
def test_time_left_is_days_hours_and_minutes_never_weeks_or_months(
    now: datetime, left: timedelta, kk: str, ru: str
) -> None:
    """37 days used to show as «1 ай» / «1 месяц» and 11 days as «2 апта» (Babel rounding)."""
    assert countdown(now + left, "kk") == kk
    assert countdown(now + left, "ru") == ru


def test_no_time_left_once_the_moment_has_passed(now: datetime) -> None:
    assert countdown(now, "ru") == ""
    assert countdown(now - timedelta(days=1), "kk") == ""


def _in(locale: str, **age: date) -> str:
    i18n = I18n(path=ROOT / "locales", default_locale="ru", domain="messages")
    with i18n.context(), i18n.use_locale(locale):
        return age_text(age["born"], age["today"], locale)


@pytest.mark.parametrize(
    ("born", "today", "kk", "ru"),
    [
        (date(2026, 4, 2), date(2026, 12, 2), "8 ай", "8 месяцев"),
        (date(2026, 4, 3), date(2026, 12, 2), "7 ай", "7 месяцев"),
        (date(2026, 11, 20), date(2026, 12, 2), "0 ай", "0 месяцев"),
        (date(2025, 12, 3), date(2026, 12, 2), "11 ай", "11 месяцев"),
        (date(2025, 12, 2), date(2026, 12, 2), "1 жас", "1 год"),
        (date(2022, 2, 5), date(2026, 12, 2), "4 жас", "4 года"),
        (date(2021, 1, 1), date(2026, 12, 2), "5 жас", "5 лет"),
    ],
)
def test_a_child_under_one_is_months_old_not_zero_years(
    born: date, today: date, kk: str, ru: str
) -> None:
    assert _in("kk", born=born, today=today) == kk
    assert _in("ru", born=born, today=today) == ru


def test_full_months_count_a_month_only_when_its_day_is_reached() -> None:
    assert full_months(date(2026, 1, 31), date(2026, 2, 28)) == 0
    assert full_months(date(2026, 1, 31), date(2026, 3, 31)) == 2
    assert full_months(date(2026, 5, 1), date(2026, 4, 1)) == 0  # not born yet: never negative


def test_application_and_referral_numbers_have_one_form() -> None:
    for typed in (1292002, "1292002", "#1292002", "№ 1292002"):
        assert application_number(typed) == "№1292002"
    assert referral_number("#NP-2026-000002") == "№NP-2026-000002"
    assert referral_number("NP<b>") == "№NP&lt;b&gt;"


# Where dates may be formatted: the formatter itself and the month calendar widget.
ALLOWED = {"bot/texts/formats.py", "bot/dialogs/submission/calendar.py"}
DATE_CALLS = re.compile(r"\bformat_(date|datetime|time|timedelta|skeleton)\(|\"d MMMM")


def test_no_code_formats_a_date_outside_the_one_formatter() -> None:
    """Five places used to hard-code "d MMMM y": the same moment read two ways."""
    found = []
    for package in ("bot", "webhooks", "worker", "core"):
        for path in (ROOT / package).rglob("*.py"):
            name = path.relative_to(ROOT).as_posix()
            if name in ALLOWED:
                continue
            for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
                if DATE_CALLS.search(line):
                    found.append(f"{name}:{number}: {line.strip()}")
    assert found == []
