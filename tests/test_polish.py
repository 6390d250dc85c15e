"""Polish found by walking through the demo: realistic seed data and the wording parents see."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from aiogram.methods import AnswerCallbackQuery, SendMessage
from aiogram.utils.i18n import I18n

from bot.texts import group_label, phone_text, years_text
from core.applications.extension import annual_cleaning
from core.models import (
    Applicant,
    Application,
    ApplicationStatus,
    BenefitStatus,
    Child,
    ExtensionAnswers,
    Group,
    Kindergarten,
    Language,
    Person,
    StaffRole,
    Stream,
)
from core.people.iin import make_iin
from core.people.staff import add_staff
from core.platform import clock
from devtools.seed import SeedSize, seed
from tests.fixtures.bot import Chatter, inline_buttons, texts
from tests.fixtures.cabinet import make_family
from tests.fixtures.seats import cohort_year, make_application, make_city, make_group

ROOT = Path(__file__).resolve().parent.parent
SMALL = SeedSize(kindergartens=12, applications=900, random_seed=7)


# --- seed ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "today",
    [datetime(2026, 11, 21, 9, 0, tzinfo=UTC), datetime(2027, 10, 2, 9, 0, tzinfo=UTC)],
    ids=["november", "day-after-deadline"],
)
async def test_seeded_queue_survives_the_annual_cleaning(db: None, settings, today) -> None:
    """The demo ran the annual cleaning at start and ~80% of the seeded queue went to the
    stop-list: seeded applications must look extended this season."""
    with clock.travel(today - clock.now()):
        await seed(settings, SMALL)
        stop_listed_before = await Application.filter(status=ApplicationStatus.stop_listed).count()
        local_today = clock.now().astimezone(settings.tz).date()
        cleaned = await annual_cleaning(settings, local_today)
    assert cleaned < 900 * 0.05
    # A small share was already stop-listed for not extending; the rest are in the queue.
    assert 900 * 0.01 < stop_listed_before < 900 * 0.06
    assert await ExtensionAnswers.filter(season=today.year).count() > 300
    assert not await Application.filter(
        status=ApplicationStatus.active, valid_until__lte=local_today
    ).exists()


async def test_seeded_names_are_distinct_and_language_neutral(db: None, settings) -> None:
    await seed(settings, SMALL)
    names_ru = await Kindergarten.all().values_list("name_ru", flat=True)
    names_kk = await Kindergarten.all().values_list("name_kk", flat=True)
    assert len(set(names_ru)) == len(names_ru) and len(set(names_kk)) == len(names_kk)
    for name in await Group.all().values_list("name", flat=True):
        assert name.startswith("№") and len(name) <= 4, name


# --- wording -------------------------------------------------------------------------------


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


# --- check the queue -----------------------------------------------------------------------


def _iin(born: date, male: bool) -> str:
    return next(v for s in range(100, 200) if (v := make_iin(born, male, s)))


async def test_check_queue_accepts_another_iin_after_nothing_was_found(bot_app: Any) -> None:
    parent = Chatter(*bot_app, 301, "ru")
    await parent.send("Проверить очередь")
    first = texts(await parent.send(_iin(date(2021, 4, 5), True)))
    assert first[-1] == "По этому ИИН заявлений не найдено."
    second = texts(await parent.send(_iin(date(2022, 6, 7), False)))
    assert second[-1] == "По этому ИИН заявлений не найдено."


async def test_a_stop_listed_application_does_not_look_queued(bot_app: Any) -> None:
    city = await make_city()
    kindergarten = await Kindergarten.create(
        city=city,
        name_ru="Ясли-сад №1",
        name_kk="№1 бөбекжай-бақша",
        ownership="state",
        address_ru="ул. Абая, 1",
        address_kk="Абай к-сі, 1",
        latitude=51.13,
        longitude=71.43,
    )
    born = date(cohort_year(), 6, 1)
    child_iin = _iin(born, True)
    parent_person = await Person.create(
        last_name="Ахметов", first_name="Ерлан", birth_date=date(1990, 5, 17)
    )
    parent = await Applicant.create(person=parent_person, language=Language.ru)
    child_person = await Person.create(
        iin=child_iin, last_name="Ахметов", first_name="Алихан", birth_date=born
    )
    child = await Child.create(person=child_person, representative=parent)
    await make_application(
        city=city,
        applicant=parent,
        child=child,
        choices=[(kindergarten, Language.ru)],
        status=ApplicationStatus.stop_listed,
    )
    chat = Chatter(*bot_app, 302, "ru")
    await chat.send("Проверить очередь")
    shown = texts(await chat.send(child_iin))[-1]
    assert "в стоп-листе; место после восстановления: 1" in shown
    assert "место 1 из" not in shown
    assert "(русский)" in shown and "(Русский)" not in shown


# --- cabinet, settings, directory, staff, wizard -------------------------------------------


class Parent:
    def __init__(self, bot_app: Any, user_id: int, language: str) -> None:
        self.chat = Chatter(*bot_app, user_id, language)
        self.seen: list[Any] = []

    async def send(self, text: str) -> str:
        self.seen = await self.chat.send(text)
        return "\n".join(texts(self.seen))

    async def press(self, caption: str) -> str:
        match = [data for label, data in inline_buttons(self.seen) if caption in label]
        assert match, f"no button {caption!r} in {inline_buttons(self.seen)}"
        self.seen = await self.chat.press(match[0])
        return "\n".join(texts(self.seen))


async def test_the_application_card_shows_a_pending_benefit(bot_app: Any) -> None:
    family = await make_family(311, "ru")
    app = family.application
    app.stream, app.benefit_category = Stream.extraordinary, 1
    app.benefit_status = BenefitStatus.pending
    await app.save()
    parent = Parent(bot_app, 311, "ru")
    await parent.send("Личный кабинет")
    await parent.press("Мои заявления")
    shown = await parent.press(f"№{app.number}")
    assert (
        "Сведения о льготе: внеочередная (Дети военнослужащих) — ожидает подтверждения "
        "отделом образования" in shown
    )


async def test_settings_show_phones_grouped(bot_app: Any) -> None:
    await make_family(312, "ru")
    parent = Parent(bot_app, 312, "ru")
    await parent.send("Личный кабинет")
    shown = await parent.press("Настройки")
    assert "+7 701 " in shown and "+7701" not in shown


async def test_the_kindergarten_card_has_a_back_button_to_the_list(bot_app: Any) -> None:
    city = await make_city()
    kindergarten = await Kindergarten.create(
        city=city,
        name_ru="Ясли-сад №7 «Балапан»",
        name_kk="№7 «Балапан» бөбекжай-бақшасы",
        ownership="state",
        address_ru="ул. Абая, 1",
        address_kk="Абай к-сі, 1",
        latitude=51.13,
        longitude=71.43,
        languages="kk,ru",
    )
    parent = Parent(bot_app, 313, "ru")
    await parent.send("Детские сады")
    await parent.send("балапан")
    card = await parent.press(kindergarten.name_ru)
    assert "Языки обучения: казахский, русский" in card
    back = await parent.press("Назад")
    assert "Найдено детских садов: 1" in back


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("ru", "Средняя группа №2, {year} г.р., казахский язык"),
        ("kk", "Ортаңғы топ №2, {year} ж.т., қазақ тілі"),
    ],
)
async def test_staff_release_lists_groups_by_label(
    bot_app: Any, language: str, expected: str
) -> None:
    city = await make_city()
    kindergarten = await Kindergarten.create(
        city=city,
        name_ru="Ясли-сад №2",
        name_kk="№2 бөбекжай-бақша",
        ownership="state",
        address_ru="ул. Абая, 1",
        address_kk="Абай к-сі, 1",
        latitude=51.13,
        longitude=71.43,
    )
    await make_group(kindergarten, name="№2", language=Language.kk)
    await add_staff(900000321, StaffRole.superadmin, by="test")
    staff = Parent(bot_app, 900000321, language)
    await staff.send("/release")
    await staff.press(kindergarten.name_ru if language == "ru" else kindergarten.name_kk)
    captions = [label for label, _ in inline_buttons(staff.seen)]
    assert expected.format(year=cohort_year()) in captions, captions


async def test_joining_without_consents_answers_with_a_popup(bot_app: Any) -> None:
    parent = Parent(bot_app, 314, "ru")
    await parent.send("Встать в очередь")
    sent = await parent.chat.press(
        next(data for label, data in inline_buttons(parent.seen) if "общеобразовательную" in label)
    )
    alerts = [r for r in sent if isinstance(r, AnswerCallbackQuery) and r.show_alert]
    assert alerts and "поставьте обе отметки" in (alerts[0].text or "")
    assert not [r for r in sent if isinstance(r, SendMessage)]
