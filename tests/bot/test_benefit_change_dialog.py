"""Adding a benefit later from the cabinet, through the production Dispatcher: the registry's
first-priority benefit, an extraordinary one with its certificate, and a forged button."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from aiogram.types import PhotoSize

from core.models import Application, AuditEntry, BenefitStatus, Stream
from core.platform import clock
from core.platform.settings import Settings
from tests.fixtures.benefits import BenefitsRegistry, consented_family
from tests.fixtures.bot import Parent, inline_buttons
from tests.fixtures.cabinet import make_family

CAPTIONS = {
    "ru": ("Личный кабинет", "Мои заявления", "Указать или изменить льготу"),
    "kk": ("Жеке кабинет", "Менің өтініштерім", "Жеңілдікті көрсету немесе өзгерту"),
}


async def open_benefit(parent: Parent, number: int, language: str = "ru") -> str:
    cabinet, applications, benefit = CAPTIONS[language]
    await parent.send(cabinet)
    await parent.press(applications)
    await parent.press(f"№{number}")
    return await parent.press(benefit)


async def test_a_kazakh_parent_sees_the_benefits_the_registry_found_in_kazakh(
    bot_app: Any, settings: Settings
) -> None:
    family = await make_family(524, "kk")
    child = await family.application.child
    until = clock.now().astimezone(settings.tz).date() + timedelta(days=90)
    await consented_family(family.parent, [child], {8: until})
    parent = Parent(bot_app, 524, "kk")
    shown = await open_benefit(parent, family.application.number, "kk")
    assert "Қазіргі жеңілдік: Жоқ" in shown
    shown = await parent.press("8.")
    assert "мемлекеттік тізілім растады" in shown


async def test_a_parent_adds_the_large_family_benefit_the_registry_found_and_moves_up(
    bot_app: Any, settings: Settings
) -> None:
    family = await make_family(521, "ru")
    child = await family.application.child
    until = clock.now().astimezone(settings.tz).date() + timedelta(days=90)
    await consented_family(family.parent, [child], {8: until})
    parent = Parent(bot_app, 521, "ru")

    shown = await open_benefit(parent, family.application.number)
    assert "Текущая льгота: Отсутствует" in shown
    assert any(label.startswith("8.") for label in parent.buttons())
    assert not any(label.startswith("5.") for label in parent.buttons())  # not found: not offered

    shown = await parent.press("8.")
    assert "подтверждена государственным реестром" in shown
    assert "первоочередной очереди" in shown
    app = await Application.get(id=family.application.id)
    assert (app.stream, app.benefit_category, app.benefit_status) == (
        Stream.first_priority,
        8,
        BenefitStatus.confirmed,
    )
    shown = await parent.press("Вернуться к заявлению")
    assert "первоочередная" in shown  # the application card shows the new benefit


async def test_a_forged_benefit_button_changes_nothing_and_is_answered_as_outdated(
    bot_app: Any,
) -> None:
    family = await make_family(522, "ru")
    child = await family.application.child
    await consented_family(family.parent, [child], {})  # the registry found no benefit
    app, _ = bot_app
    app.dispatcher.workflow_data["gov"] = BenefitsRegistry()  # and finds none when asked again
    parent = Parent(bot_app, 522, "ru")
    await open_benefit(parent, family.application.number)
    [shown_one] = [data for label, data in inline_buttons(parent.seen) if label.startswith("1.")]
    forged = shown_one.rsplit(":", 1)[0] + ":8"

    seen = await parent.chat.press(forged)

    text = " ".join(str(getattr(r, "text", "")) for r in seen)
    # The window refuses a button it did not show; the core would refuse it too
    # (tests/service/test_benefit_entitlement.py).
    assert "Эта кнопка устарела" in text
    app = await Application.get(id=family.application.id)
    assert (app.stream, app.benefit_category) == (Stream.general, None)
    assert not await AuditEntry.filter(action="benefit.changed").exists()


async def test_an_extraordinary_benefit_added_later_waits_for_the_education_department(
    bot_app: Any, settings: Settings
) -> None:
    family = await make_family(523, "ru")
    parent = Parent(bot_app, 523, "ru")
    await open_benefit(parent, family.application.number)
    shown = await parent.press("1.")
    assert "Загрузите документ" in shown
    photo = PhotoSize(file_id="cert-photo", file_unique_id="u1", width=800, height=600)
    await parent.chat._feed(message=parent.chat._message(photo=[photo]))
    parent.seen = parent.chat.session.take()
    text = " ".join(str(getattr(r, "text", "")) for r in parent.seen)
    assert "ожидает подтверждения отделом образования" in text
    assert "Справка действительна до" in text
    app = await Application.get(id=family.application.id)
    assert (app.stream, app.benefit_category, app.benefit_status) == (
        Stream.extraordinary,
        1,
        BenefitStatus.pending,
    )
    assert app.benefit_valid_until == clock.now().astimezone(settings.tz).date() + timedelta(
        days=settings.benefit_certificate_valid_days
    )
