"""How the bot words things for a parent in kk and ru: group labels, ages, phones, Kazakh dates
and the refusal of a closed extension."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from aiogram.utils.i18n import I18n

from bot.texts.formats import phone_text
from bot.texts.labels import group_label, referral_mode_text, years_text
from bot.texts.reasons import reason_text
from tests.fixtures.seats import cohort_year

ROOT = Path(__file__).resolve().parents[2]


def _in(locale: str, render: Any) -> str:
    i18n = I18n(path=ROOT / "locales", default_locale="ru", domain="messages")
    with i18n.context(), i18n.use_locale(locale):
        return render()


@pytest.mark.parametrize(
    ("locale", "expected"),
    [
        ("ru", "Средняя группа №3, {year} г.р., казахский язык"),
        ("kk", "Ортаңғы топ №3, {year} ж.т., қазақ тілі"),
    ],
)
def test_a_group_reads_as_age_group_year_and_language(locale: str, expected: str) -> None:
    year = cohort_year(3)
    label = _in(locale, lambda: group_label("№3", year, "kk", "general"))
    assert label == expected.format(year=year)


@pytest.mark.parametrize(
    ("locale", "age", "expected"),
    [("ru", 1, "1 год"), ("ru", 3, "3 года"), ("ru", 5, "5 лет"), ("kk", 1, "1 жас")],
)
def test_ages_have_the_right_plural(locale: str, age: int, expected: str) -> None:
    assert _in(locale, lambda: years_text(age)) == expected


def test_phones_are_grouped_as_people_write_them() -> None:
    assert phone_text("+77011110001") == "+7 701 111 00 01"


def test_kazakh_dates_take_a_word_with_the_case_ending() -> None:
    """Kazakh postpositions need a case ending on the word before them: "25 қараша 2026
    бастап" and "22 қараша 2027 дейін" are wrong; the date now stands before a word that
    takes the ending (or after a colon)."""
    i18n = I18n(path=ROOT / "locales", default_locale="ru", domain="messages")
    with i18n.context(), i18n.use_locale("kk"):
        from_date = referral_mode_text("from_date", "2026-11-25", "kk")
    assert from_date == "2026 жылғы 25 қараша күнінен бастап"
    for msgid in (
        "Valid until: {date}",
        "Valid until: {when}",
        "Valid until {when}.",
        "Released {seats} seat(s). Parents notified: {addressees}. Priority until {deadline}.",
    ):
        text = i18n.gettext(msgid, locale="kk")
        assert text != msgid
        assert "} дейін" not in text, text


@pytest.mark.parametrize(
    ("locale", "expected"),
    [("ru", "с 1 сентября по 1 октября"), ("kk", "ұзарту мерзімінде (1 қыркүйек – 1 қазан)")],
)
def test_closed_extension_says_when_it_opens_in_words(locale: str, expected: str) -> None:
    """The refusal used to say only "closed now"; its ISO dates must read as words."""
    i18n = I18n(path=ROOT / "locales", default_locale="ru", domain="messages")
    with i18n.context(), i18n.use_locale(locale):
        text = reason_text("extension_closed", opens="2026-09-01", deadline="2026-10-01")
    assert expected in text
    assert "2026-09-01" not in text
