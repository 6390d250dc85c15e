"""What the personal cabinet shows: the application card with a pending benefit, the settings."""

from __future__ import annotations

from typing import Any

from core.models import BenefitStatus, Stream
from tests.fixtures.bot import Parent
from tests.fixtures.cabinet import make_family


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
