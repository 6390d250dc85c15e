"""The personal cabinet, fed to the production Dispatcher: applications, withdraw with a
confirmation, the event feed, and the language switch, in Russian and Kazakh."""

from __future__ import annotations

from typing import Any

from core.models import (
    Applicant,
    Application,
    ApplicationStatus,
    ArchiveReason,
    BenefitStatus,
    ReferralMode,
    Stream,
)
from tests.fixtures.bot import Parent
from tests.fixtures.cabinet import add_notifications, make_family


async def test_a_parent_sees_the_application_and_withdraws_it_after_confirming(
    bot_app: Any,
) -> None:
    family = await make_family(501, "ru")
    parent = Parent(bot_app, 501, "ru")
    shown = await parent.send("Личный кабинет")
    assert "Мои заявления" in parent.buttons()
    shown = await parent.press("Мои заявления")
    assert f"№{family.application.number}" in " ".join(parent.buttons())
    shown = await parent.press(f"№{family.application.number}")
    assert f"№{family.application.number}" in shown
    assert "1" in shown and "Действительно до" in shown
    shown = await parent.press("Отозвать заявление")
    assert "Отозвать заявление" in shown or "Отозвать" in shown
    # Saying no keeps it.
    await parent.press("Нет")
    await family.application.refresh_from_db()
    assert family.application.status == ApplicationStatus.active
    await parent.press("Отозвать заявление")
    shown = await parent.press("Да, отозвать")
    assert "отозвано" in shown
    await family.application.refresh_from_db()
    assert family.application.status == ApplicationStatus.archived


async def test_the_feed_pages_newest_first_in_kazakh(bot_app: Any) -> None:
    family = await make_family(502, "kk")
    await add_notifications(family.parent, 7)
    parent = Parent(bot_app, 502, "kk")
    await parent.send("Жеке кабинет")
    shown = await parent.press("Оқиғалар")
    assert "Хабар 7" in shown and "Хабар 1" not in shown
    shown = await parent.press("▶")
    assert "Хабар 1" in shown and "Хабар 7" not in shown


async def test_a_parent_switches_the_language_in_settings(bot_app: Any) -> None:
    family = await make_family(503, "ru")
    parent = Parent(bot_app, 503, "ru")
    await parent.send("Личный кабинет")
    await parent.press("Настройки")
    await parent.press("Язык")
    shown = await parent.press("Қазақ тілі")
    assert "Тіл" in shown
    await family.parent.refresh_from_db()
    assert str(family.parent.language) == "kk"
    assert await Application.filter(id=family.application.id, notification_language="kk").exists()


async def test_without_a_verified_phone_the_cabinet_asks_to_confirm_one(bot_app: Any) -> None:
    await make_family(504, "ru", verified_phones=0)
    parent = Parent(bot_app, 504, "ru")
    shown = await parent.send("Личный кабинет")
    assert "телефон" in shown.lower()
    assert await Applicant.filter(telegram_user_id=504).exists()


async def test_the_card_shows_the_wanted_date_and_no_pending_check_once_archived(
    bot_app: Any,
) -> None:
    from datetime import date

    family = await make_family(503, "ru")
    application = family.application
    application.referral_mode = ReferralMode.from_date
    application.referral_from = date(2027, 9, 1)
    application.stream = Stream.extraordinary
    application.benefit_category = 1
    application.benefit_status = BenefitStatus.pending
    await application.save()
    parent = Parent(bot_app, 503, "ru")
    await parent.send("Личный кабинет")
    await parent.press("Мои заявления")
    shown = await parent.press(f"№{application.number}")
    assert "Направление нужно с: 1 сентября 2027" in shown
    assert "ожидает подтверждения" in shown

    application.status = ApplicationStatus.archived
    application.archive_reason = ArchiveReason.withdrawn
    await application.save()
    await parent.press("Назад")
    shown = await parent.press(f"№{application.number}")
    assert "Дети военнослужащих" in shown and "ожидает подтверждения" not in shown
