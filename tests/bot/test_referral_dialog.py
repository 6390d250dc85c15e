"""Getting a referral, fed to the production Dispatcher: free seats after a release, the
referral with its validity and documents, and two parents racing for the last seat."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from core.models import Referral
from core.referrals import take
from core.seats import releases
from tests.fixtures.bot import Parent
from tests.fixtures.cabinet import make_family
from tests.fixtures.seats import make_group


async def _to_confirmation(parent: Parent, menu: str, number: int, search: str) -> str:
    await parent.send(menu)
    await parent.press(f"№{number}")
    await parent.press(search)
    await parent.press("Ясли-сад" if "Ясли" in " ".join(parent.buttons()) else "бақша")
    return await parent.press("Средняя группа")


async def test_two_parents_race_for_the_last_seat_one_gets_the_referral(
    bot_app: Any, settings: Any
) -> None:
    first = await make_family(601, "ru")
    second = await make_family(602, "kk", city=first.city, kindergarten=first.kindergarten)
    group = await make_group(first.kindergarten, birth_year=first.application.birth_year)
    await releases.release_seats(
        group.id, 1, actor="staff:test", settings=settings, window=timedelta(0)
    )
    ru = Parent(bot_app, 601, "ru")
    kk = Parent(bot_app, 602, "kk")
    shown = await _to_confirmation(
        ru, "Получить направление", first.application.number, "Поиск свободных мест"
    )
    assert f"Получить направление по заявлению №{first.application.number}" in shown
    shown = await _to_confirmation(
        kk, "Жолдама алу", second.application.number, "Бос орындарды іздеу"
    )
    assert f"№{second.application.number}" in shown

    won = await ru.press("Получить направление")
    referral = await Referral.get(application_id=first.application.id)
    assert f"Направление №{referral.number} получено" in won
    assert "Действительно до" in won and "Осталось" in won
    assert "свидетельство о рождении ребенка" in won and "065/у" in won

    lost = await kk.press("Жолдама алу")
    assert "соңғы орынды басқа біреу жаңа ғана алды" in lost
    assert "Қазір балаңызға бос орын жоқ" in lost
    assert not await Referral.filter(application_id=second.application.id).exists()


async def test_a_parent_extends_a_referral_once_after_confirming(
    bot_app: Any, settings: Any
) -> None:

    family = await make_family(611, "ru")
    group = await make_group(family.kindergarten, birth_year=family.application.birth_year)
    await releases.release_seats(
        group.id, 1, actor="staff:test", settings=settings, window=timedelta(0)
    )
    referral = await take.take_seat(
        family.application.id, group.id, actor="test", settings=settings
    )
    parent = Parent(bot_app, 611, "ru")
    await parent.send("Личный кабинет")
    await parent.press("Мои направления")
    await parent.press(f"№{referral.number}")
    asked = await parent.press("Продлить на 30 дней")
    assert f"Продлить направление №{referral.number} на 30 дней?" in asked
    await parent.press("Нет")  # changing one's mind changes nothing
    await referral.refresh_from_db()
    assert not referral.extended
    before = referral.expires_at

    await parent.press("Продлить на 30 дней")
    done = await parent.press("Да, продлить")
    assert "Направление продлено." in done
    await referral.refresh_from_db()
    assert referral.extended and (referral.expires_at - before).days == 30
    assert "Продлить на 30 дней" not in parent.buttons()  # only once
