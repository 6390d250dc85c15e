"""Dates, money, phone numbers and countdowns as the reader writes them (kk or ru).

One copy of each format: every conversation and handler shows a date the same way. The
language is one of ours ("kk", "ru"); the Babel locale comes from core.platform.catalogs.
"""

from __future__ import annotations

import html
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_datetime
from babel.numbers import format_decimal
from babel.units import format_unit

from core.platform import clock
from core.platform.catalogs import babel_locale

# One pattern per language. Kazakh puts the year first, in the genitive-like "жылғы" form
# ("2026 жылғы 1 желтоқсан"), as official Kazakh texts do; Russian keeps "1 декабря 2026".
# A formatted date never takes a case ending: a text puts it after a colon ("Мерзімі: {date}")
# or before a word that takes the ending ("{date} күнінен бастап").
DATE_PATTERNS = {"kk": "y 'жылғы' d MMMM", "ru": "d MMMM y"}
DAY_MONTH_PATTERN = "d MMMM"
TIME_PATTERN = "HH:mm"


def _language(language: str) -> str:
    """Our language for a language code or a Babel locale ("kk", "kk_KZ"); Russian otherwise."""
    return "kk" if str(language).lower().startswith("kk") else "ru"


def fmt_date(day: date, language: str) -> str:
    """ "12 сентября 2025" / "2025 жылғы 12 қыркүйек"."""
    lang = _language(language)
    return format_date(day, DATE_PATTERNS[lang], locale=babel_locale(lang))


def day_month(day: date, language: str) -> str:
    """ "1 сентября" / "1 қыркүйек" (a date within the current year)."""
    lang = _language(language)
    return format_date(day, DAY_MONTH_PATTERN, locale=babel_locale(lang))


def fmt_datetime(value: datetime, tz: ZoneInfo, language: str) -> str:
    """ "12 сентября 2025, 17:02" / "2025 жылғы 12 қыркүйек, 17:02" in the service time zone."""
    lang = _language(language)
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    pattern = f"{DATE_PATTERNS[lang]}, {TIME_PATTERN}"
    return format_datetime(value, pattern, tzinfo=tz, locale=babel_locale(lang))


def fmt_money(amount: int, language: str) -> str:
    """ "85 000" / "85 000": a sum in tenge with the reader's digit grouping."""
    return format_decimal(amount, locale=babel_locale(_language(language)))


def fmt_decimal(value: float, language: str) -> str:
    return format_decimal(value, locale=babel_locale(_language(language)))


def _units(value: int, unit: str, language: str) -> str:
    """ "37 дней" / "37 күн": a count with its unit word, plural by CLDR, never rounded."""
    return format_unit(value, f"duration-{unit}", length="long", locale=babel_locale(language))


def countdown(until: datetime, language: str) -> str:
    """Time left to the minute in days, hours and minutes ("37 дней 23 часа 59 минут"); never
    rounded to weeks or months (Babel's format_timedelta shows 37 days as "1 месяц"). Empty
    when the moment has passed."""
    left = until - clock.now()
    if left <= timedelta(0):
        return ""
    lang = _language(language)
    minutes = max(1, int(left.total_seconds() // 60))
    days, rest = divmod(minutes, 24 * 60)
    hours, minutes = divmod(rest, 60)
    parts = [
        _units(value, unit, lang)
        for unit, value in (("day", days), ("hour", hours), ("minute", minutes))
        if value
    ]
    return " ".join(parts)


def months_text(months: int, language: str) -> str:
    """ "8 месяцев" / "8 ай": the age of a child under one year."""
    return _units(months, "month", _language(language))


def full_months(born: date, today: date) -> int:
    """Whole months from `born` to `today` (0 on the birth day, 11 the day before one year)."""
    months = (today.year - born.year) * 12 + today.month - born.month
    if today.day < born.day:
        months -= 1
    return max(0, months)


def application_number(number: int | str) -> str:
    """ "№1292002": the one way an application number is written, in both languages."""
    return f"№{str(number).lstrip('#№ ')}"


def referral_number(number: str) -> str:
    """ "№NP-2026-000002": the one way a referral number is written (HTML-escaped)."""
    return f"№{esc(str(number).lstrip('#№ '))}"


def phone_text(number: str) -> str:
    """A Kazakhstan mobile number as people write it: "+7 701 111 00 01"."""
    digits = "".join(ch for ch in str(number) if ch.isdigit())
    if len(digits) == 11 and digits[0] in "78":
        return f"+7 {digits[1:4]} {digits[4:7]} {digits[7:9]} {digits[9:11]}"
    return str(number)


def esc(value: Any) -> str:
    """THE escape of a value inside an HTML message (the bot sends with parse mode HTML).

    Every text a parent, a staff member or a registry typed (queries, names, reasons, "other"
    answers, kindergarten and group names) goes through here where it is put into a message,
    so `<b>`, `<a href>` or a lone `<i` show as typed instead of formatting the bot's words or
    failing with "can't parse entities". Button captions are plain text: never escape them.
    """
    return html.escape(str(value), quote=False)
