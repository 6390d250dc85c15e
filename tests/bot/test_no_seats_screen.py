"""The free-seat search never promises "we will tell you" to an application nobody would tell:
a parent waiting for a referral date reads why and from when; a parent who may take a seat
reads how seats reach the queue, and seats opened to everyone reach that parent."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from bot.notifications.render import render
from core.models import Application, Notification, ReferralMode
from core.notifications.kinds import load
from core.seats import releases
from tests.fixtures.bot import Parent
from tests.fixtures.cabinet import make_family
from tests.fixtures.seats import make_group


async def test_a_parent_waiting_for_a_date_is_told_why_and_from_when_and_only_others_are_told(
    bot_app: Any, settings: Any
) -> None:
    waiting = await make_family(611, "ru")
    ready = await make_family(612, "kk", city=waiting.city, kindergarten=waiting.kindergarten)
    wanted = date(waiting.application.birth_year + 5, 9, 1)  # "from 1 September" of that year
    await Application.filter(id=waiting.application.id).update(
        referral_mode=ReferralMode.from_date, referral_from=wanted
    )

    ru = Parent(bot_app, 611, "ru")
    await ru.send("Получить направление")
    await ru.press(f"№{waiting.application.number}")
    shown = await ru.press("Поиск свободных мест")
    assert "Мы сообщим" not in shown
    assert "Этому заявлению сейчас не предлагаются места" in shown
    assert f"Направления выдаются с: 1 сентября {wanted.year}" in shown
    assert "Дату направления можно изменить в Личном кабинете" in shown

    kk = Parent(bot_app, 612, "kk")
    await kk.send("Жолдама алу")
    await kk.press(f"№{ready.application.number}")
    shown = await kk.press("Бос орындарды іздеу")
    assert "Қазір балаңызға бос орын жоқ" in shown
    assert "кезектің басындағы өтініштерге бірден хабарланады" in shown

    # Two seats straight to general access: the parent who may take one is told, in Kazakh;
    # the one waiting for a date is not.
    group = await make_group(waiting.kindergarten, birth_year=ready.application.birth_year)
    await releases.release_seats(
        group.id, 2, actor="staff:test", settings=settings, window=timedelta(0)
    )
    told = await Notification.filter(kind="seat_offered").values_list("applicant_id", "params")
    assert [applicant for applicant, _ in told] == [ready.parent.id]
    message = render(load("seat_offered", told[0][1]), "kk", tz=settings.tz)
    assert "бірінші алған алады" in message.sms and "Жолдама — Indigo ботында." in message.sms
    shown = await kk.press("Жаңарту")  # Refresh: the kindergarten is listed now
    assert "Қазір балаңызға бос орын жоқ" not in shown
    assert any(label.endswith("бос орындар: 2") for label in kk.buttons()), kk.buttons()
