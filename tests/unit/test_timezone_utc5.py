"""Kazakhstan is UTC+5 countrywide since 1 March 2024 (tzdata 2024a); the project ships `tzdata`
so the result does not depend on the host's zoneinfo (docs/rules.md #57)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import tzdata

from core.platform.settings import Settings

MOMENTS = [datetime(2024, 3, 1, 0, 0, tzinfo=UTC) + timedelta(days=d) for d in range(0, 2600, 37)]


def _bundled_almaty() -> ZoneInfo:
    with (Path(tzdata.__file__).parent / "zoneinfo" / "Asia" / "Almaty").open("rb") as f:
        return ZoneInfo.from_file(f, key="Asia/Almaty")


def test_the_bundled_tzdata_puts_almaty_at_utc_plus_5_from_1_march_2024() -> None:
    almaty = _bundled_almaty()
    assert datetime(2024, 2, 29, 12, 0, tzinfo=UTC).astimezone(almaty).utcoffset() == timedelta(
        hours=6
    )
    for moment in MOMENTS:
        assert moment.astimezone(almaty).utcoffset() == timedelta(hours=5), moment


def test_the_zone_the_service_uses_agrees_with_the_bundled_tzdata() -> None:
    # ZoneInfo prefers the host's zoneinfo; an outdated host (before tzdata 2024a) would show
    # UTC+6 for Almaty. This fails then, instead of every local time being an hour off.
    used = ZoneInfo(Settings.model_fields["timezone"].default)
    bundled = _bundled_almaty()
    for moment in MOMENTS:
        assert moment.astimezone(used).utcoffset() == moment.astimezone(bundled).utcoffset()
