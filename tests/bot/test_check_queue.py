"""Checking the queue by the child's IIN, as a parent does it through the bot."""

from __future__ import annotations

from datetime import date
from typing import Any

from core.models import Applicant, ApplicationStatus, Child, Kindergarten, Language, Person
from core.people.iin import make_iin
from tests.fixtures.bot import Chatter, texts
from tests.fixtures.seats import cohort_year, make_application, make_city


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
    assert "Ясли-сад №1" not in shown  # the chosen kindergartens are not public
