"""A transfer the government announces before the library ships it is applied from the
override file, and a malformed file is refused."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from core.calendar.working_days import Override, build_year, load_overrides

ADDED = date(2026, 12, 1)


def test_an_announced_transfer_moves_the_day_off() -> None:
    # A hypothetical resolution: Tuesday 5 Jan 2027 made a day off, Saturday 9 Jan 2027 worked.
    transfer = (
        Override(date(2027, 1, 5), "off", "test resolution", ADDED),
        Override(date(2027, 1, 9), "work", "test resolution", ADDED),
    )
    plain = build_year(2027, ())
    moved = build_year(2027, transfer)
    assert date(2027, 1, 5) not in plain.days_off and date(2027, 1, 5) in moved.days_off
    assert date(2027, 1, 9) not in plain.working_days and date(2027, 1, 9) in moved.working_days


def test_an_override_can_cancel_a_library_day_off() -> None:
    # 15 Mar 2027 is Constitution Day in the library; a "work" entry makes it a working day.
    moved = build_year(2027, (Override(date(2027, 3, 15), "work", "test", ADDED),))
    assert date(2027, 3, 15) not in moved.days_off
    assert date(2027, 3, 15) not in moved.holidays


def test_overrides_of_another_year_are_ignored() -> None:
    other = build_year(2027, (Override(date(2028, 1, 5), "off", "test", ADDED),))
    assert other == build_year(2027, ())


def _write(tmp_path: Path, entries: list[dict[str, str]]) -> Path:
    path = tmp_path / "overrides.json"
    path.write_text(json.dumps({"overrides": entries}), encoding="utf-8")
    return path


def test_the_override_file_is_parsed_with_source_and_date_added(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        [{"date": "2027-01-05", "kind": "off", "source": "Resolution No 1", "added": "2026-12-01"}],
    )
    assert load_overrides(path) == (Override(date(2027, 1, 5), "off", "Resolution No 1", ADDED),)


@pytest.mark.parametrize(
    "entries",
    [
        [{"date": "2027-01-05", "kind": "holiday", "source": "x", "added": "2026-12-01"}],
        [{"date": "2027-01-05", "kind": "off", "source": " ", "added": "2026-12-01"}],
        [{"date": "2027-01-05", "kind": "off", "source": "x"}],
        [
            {"date": "2027-01-05", "kind": "off", "source": "x", "added": "2026-12-01"},
            {"date": "2027-01-05", "kind": "work", "source": "y", "added": "2026-12-01"},
        ],
    ],
)
def test_a_malformed_override_file_is_refused(
    tmp_path: Path, entries: list[dict[str, str]]
) -> None:
    with pytest.raises((ValueError, KeyError)):
        load_overrides(_write(tmp_path, entries))
