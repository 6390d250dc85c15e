"""Kazakhstan individual identification numbers (ИИН / ЖСН): parsing and validation.

Stable interface: `parse_iin(text) -> Iin`, raising `InvalidIin` (a ValueError) whose `.reason`
is one of `length`, `not_digits`, `century`, `date`, `future`, `checksum`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Literal

from core.platform.dates import local_today

_FIRST_WEIGHTS = tuple(range(1, 12))
_SECOND_WEIGHTS = (3, 4, 5, 6, 7, 8, 9, 10, 11, 1, 2)
_CENTURY = {1: 1800, 2: 1800, 3: 1900, 4: 1900, 5: 2000, 6: 2000}


class InvalidIin(ValueError):
    def __init__(self, reason: str) -> None:
        super().__init__(f"invalid IIN: {reason}")
        self.reason = reason


@dataclass(frozen=True)
class Iin:
    value: str
    birth_date: date
    sex: Literal["male", "female"]

    def __str__(self) -> str:
        return self.value


def parse_iin(text: str, today: date | None = None) -> Iin:
    """`today`: the day a birth date may not be after (default: today in Kazakhstan)."""
    value = text.strip().replace(" ", "")
    if not value.isascii() or not value.isdigit():
        raise InvalidIin("not_digits" if value else "length")
    if len(value) != 12:
        raise InvalidIin("length")
    digits = [int(ch) for ch in value]
    century_digit = digits[6]
    if century_digit not in _CENTURY:
        raise InvalidIin("century")
    year = _CENTURY[century_digit] + int(value[0:2])
    try:
        born = date(year, int(value[2:4]), int(value[4:6]))
    except ValueError:
        raise InvalidIin("date") from None
    if born > (today or local_today()):  # Kazakhstan's date, not the server's (UTC)
        raise InvalidIin("future")
    if check_digit(value) != digits[11]:
        raise InvalidIin("checksum")
    return Iin(value=value, birth_date=born, sex="male" if century_digit % 2 else "female")


def check_digit(first_eleven: str) -> int | None:
    """The 12th digit for these 11, or None when both weight passes give 10 (no valid IIN)."""
    digits = [int(ch) for ch in first_eleven[:11]]
    for weights in (_FIRST_WEIGHTS, _SECOND_WEIGHTS):
        remainder = sum(d * w for d, w in zip(digits, weights, strict=True)) % 11
        if remainder != 10:
            return remainder
    return None


def make_iin(born: date, male: bool, serial: int) -> str | None:
    """Build a valid IIN (for seeds and fakes); None when this serial has no check digit."""
    century = {1800: 1, 1900: 3, 2000: 5}[born.year // 100 * 100] + (0 if male else 1)
    first = f"{born:%y%m%d}{century}{serial % 10000:04d}"
    digit = check_digit(first)
    return None if digit is None else first + str(digit)


def full_years(born: date, day: date) -> int:
    years = day.year - born.year
    if (day.month, day.day) < (born.month, born.day):
        years -= 1
    return years
