"""The extension questionnaire, fed to the production Dispatcher with the campaign open:
six questions answered, the application extended by a year, the answers shown back."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from core.models import Application, ExtensionAnswers
from indigo.app import build_app, close_app
from tests.fixtures.bot import Parent, RecordingSession
from tests.fixtures.cabinet import make_family


@pytest.fixture
async def campaign_app(settings: Any, db: None, redis: Any) -> AsyncIterator[Any]:
    open_all_year = settings.model_copy(
        update={"extension_opens": "01-01", "extension_deadline": "12-31"}
    )
    session = RecordingSession()
    app = await build_app(open_all_year, bot_session=session, init_database=False)
    try:
        yield app, session
    finally:
        await close_app(app)


async def test_a_parent_fills_the_questionnaire_and_extends_the_application(
    campaign_app: Any,
) -> None:
    family = await make_family(701, "ru")
    valid_before = family.application.valid_until
    parent = Parent(campaign_app, 701, "ru")
    await parent.send("Личный кабинет")
    await parent.press("Анкета")
    shown = await parent.press("Заполнить анкету")
    assert "Вопрос 1 из 6" in shown and "Ожидаемые дошкольные организации" in shown
    await parent.press("Ясли-сад №1")
    shown = await parent.press("Далее")
    assert "Вопрос 2 из 6" in shown
    await parent.press("Государственная")
    await parent.press("Качество")
    shown = await parent.press("Далее")
    assert "Вопрос 3 из 6" in shown
    await parent.press("Русский")
    shown = await parent.press("Далее")
    assert "Вопрос 4 из 6" in shown
    assert any("110" in label and "000" in label for label in parent.buttons())
    await parent.press("до 50")
    shown = await parent.press("Далее")
    assert "Вопрос 5 из 6" in shown
    await parent.press("Шахматы")
    await parent.press("Другое")
    shown = await parent.press("Далее")
    assert "какие ещё занятия" in shown
    shown = await parent.send("Плавание")
    assert "Вопрос 6 из 6" in shown
    await parent.press("Безналичные платежи")
    shown = await parent.press("Далее")
    await parent.press(f"№{family.application.number}")
    assert "Продлить заявления (1 шт.)" in parent.buttons()
    shown = await parent.press("Продлить заявления (1 шт.)")
    assert "продлены на один год" in shown

    await family.application.refresh_from_db()
    assert family.application.valid_until > valid_before
    stored = await ExtensionAnswers.get(applicant_id=family.parent.id)
    assert stored.answers["activities_other"] == "Плавание"

    shown = await parent.press("Посмотреть анкету")
    assert "Ясли-сад №1" in shown and "Шахматы, Плавание" in shown
    assert "Безналичные платежи" in shown and "Государственная" in shown
    assert await Application.filter(id=family.application.id).exists()
