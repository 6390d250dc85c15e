"""Calendar arithmetic of the service: "today" in the service's time zone, and year steps
that survive 29 February (validity terms, age limits)."""

from __future__ import annotations

from datetime import date

from core.platform import clock
from core.platform.settings import Settings, get_settings


def local_today(settings: Settings | None = None) -> date:
    """Today's date in the service's time zone (`settings.tz`; by default the configured one,
    Kazakhstan's), not the server's."""
    return clock.now().astimezone((settings or get_settings()).tz).date()


def years_after(day: date, years: int) -> date:
    """The same day `years` later (negative: earlier); 29 February becomes 28 February."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def one_year_after(day: date) -> date:
    """A validity term of one year (29 February safe)."""
    return years_after(day, 1)
