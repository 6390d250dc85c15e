"""Releasing seats as staff through the bot (kk, ru): group labels, no priority window, protocol."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from core.models import Kindergarten, Language, StaffRole
from core.people.staff import add_staff
from core.platform.settings import Settings
from core.seats import releases
from tests.fixtures.bot import Parent, inline_buttons
from tests.fixtures.e2e_cabinet import t
from tests.fixtures.seats import cohort_year, make_city, make_group, make_kindergarten
from tests.fixtures.worker import make_staff


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


@pytest.mark.parametrize("language", ["ru", "kk"])
async def test_a_release_without_priority_window_does_not_promise_one(
    bot_app: Any, settings: Settings, language: str
) -> None:
    """Choosing "None: open to general access at once" still said only the first parents may
    take the seats until now, and the result said "priority until" the release moment."""
    city = await make_city()
    kindergarten = await make_kindergarten(city)
    group = await make_group(kindergarten)
    await make_staff(907)
    staff = Parent(bot_app, 907, language)
    await staff.send("/release")
    await staff.press(kindergarten.name_ru if language == "ru" else kindergarten.name_kk)
    await staff.press(group.name)
    await staff.press("1")
    asked = await staff.press(t("None: open to general access at once", language))
    only_first = {"ru": "занять места могут только они", "kk": "орындарды тек солар ала алады"}
    assert only_first[language] not in asked
    assert {"ru": "любой родитель", "kk": "кез келген ата-ана"}[language] in asked
    done = await staff.press(t("Release", language))
    assert {"ru": "Приоритет до", "kk": "Басымдық мерзімінің соңы"}[language] not in done
    assert {"ru": "без приоритетного срока", "kk": "Басымдық мерзімінсіз"}[language] in done


async def test_the_seat_protocol_says_a_release_had_no_priority_window(
    bot_app: Any, settings: Settings
) -> None:
    city = await make_city()
    kindergarten = await make_kindergarten(city)
    group = await make_group(kindergarten)
    await releases.release_seats(
        group.id, 1, actor="staff:test", settings=settings, window=timedelta(0)
    )
    await make_staff(908)
    shown = await Parent(bot_app, 908, "ru").send("/protocol seats")
    assert "освободилось мест: 1, сразу в общем доступе" in shown
    assert "приоритет до" not in shown
