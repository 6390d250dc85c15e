"""Dates, money, phone numbers and countdowns as the reader writes them (kk or ru).

One copy of each format: every conversation and handler shows a date the same way. The
language is one of ours ("kk", "ru"); the Babel locale comes from core.platform.catalogs.
"""

from __future__ import annotations

import html
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_datetime, format_timedelta
from babel.numbers import format_decimal

from core.platform import clock
from core.platform.catalogs import babel_locale


def fmt_date(day: date, language: str) -> str:
    """ "12 сентября 2025" / "12 қыркүйек 2025"."""
    return format_date(day, "d MMMM y", locale=babel_locale(language))


def day_month(day: date, language: str) -> str:
    """ "1 сентября" / "1 қыркүйек" (a date within the current year)."""
    return format_date(day, "d MMMM", locale=babel_locale(language))


def fmt_datetime(value: datetime, tz: ZoneInfo, language: str) -> str:
    """ "12 сентября 2025, 17:02" in the service time zone."""
    return format_datetime(value, "d MMMM y, HH:mm", tzinfo=tz, locale=babel_locale(language))


def fmt_money(amount: int, language: str) -> str:
    """ "85 000" / "85 000": a sum in tenge with the reader's digit grouping."""
    return format_decimal(amount, locale=babel_locale(language))


def fmt_decimal(value: float, language: str) -> str:
    return format_decimal(value, locale=babel_locale(language))


def countdown(until: datetime, language: str) -> str:
    """Time left to the minute ("2 дня 3 часа 15 минут"); empty when it has passed."""
    left = until - clock.now()
    if left <= timedelta(0):
        return ""
    minutes = int(left.total_seconds() // 60)
    days, rest = divmod(minutes, 24 * 60)
    hours, minutes = divmod(rest, 60)
    locale = babel_locale(language)
    parts = [
        format_timedelta(timedelta(**{unit: value}), threshold=1, locale=locale)
        for unit, value in (("days", days), ("hours", hours), ("minutes", minutes))
        if value
    ]
    return " ".join(parts) or format_timedelta(timedelta(minutes=1), threshold=1, locale=locale)


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
