"""A parent checking a newborn's IIN late in the evening (UTC) is already on the next day in
Kazakhstan: without an explicit `today`, the IIN's birth date is checked against Kazakhstan's
date, not the server's (domain audit §3, the public look-up)."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from core.people.iin import InvalidIin, make_iin, parse_iin
from core.platform import clock

ALMATY = ZoneInfo("Asia/Almaty")


def _next_utc_evening() -> datetime:
    """The next 20:00 UTC: 01:00 of the next day in Kazakhstan (UTC+5)."""
    now = datetime.now(UTC)
    evening = datetime.combine(now.date(), time(20, 0), tzinfo=UTC)
    return evening if evening > now else evening + timedelta(days=1)


def _iin(born) -> str:
    return next(i for s in range(1, 50) if (i := make_iin(born, True, s)))


def test_a_child_born_today_in_kazakhstan_is_accepted_while_the_server_is_still_on_yesterday():
    evening = _next_utc_evening()
    kazakhstan_today = evening.astimezone(ALMATY).date()
    assert kazakhstan_today == evening.date() + timedelta(days=1)
    with clock.travel(evening - datetime.now(UTC)):
        assert parse_iin(_iin(kazakhstan_today)).birth_date == kazakhstan_today
        with pytest.raises(InvalidIin) as refused:
            parse_iin(_iin(kazakhstan_today + timedelta(days=1)))
    assert refused.value.reason == "future"
