"""End to end: the whole service on free ports, a parent talking to it through the emulator."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from core.platform.settings import Settings
from devtools.stack import Stack, run_stack

pytestmark = pytest.mark.e2e


@pytest.fixture
async def stack(settings: Settings, db: None, redis: object) -> AsyncIterator[Stack]:
    async with run_stack(settings=settings) as running:
        yield running


@pytest.mark.parametrize(
    ("user_id", "language", "chosen", "menu_rows"),
    [
        (
            710001,
            "Қазақ тілі",
            "Интерфейс тілі: қазақ тілі.",
            [["Кезекке тұру", "Кезекті тексеру"], ["Жолдама алу", "Жеке кабинет"]],
        ),
        (
            710002,
            "Русский язык",
            "Язык интерфейса: русский.",
            [["Встать в очередь", "Проверить очередь"], ["Получить направление", "Личный кабинет"]],
        ),
    ],
    ids=["kk", "ru"],
)
async def test_a_parent_starts_chooses_a_language_and_sees_the_main_menu(
    stack: Stack, user_id: int, language: str, chosen: str, menu_rows: list[list[str]]
) -> None:
    # A phone set to English: the bot cannot guess, so it asks in both languages.
    parent = stack.client(user_id, language_code="en", first_name="Айгерім")
    await parent.send("/start")
    question = await parent.expect("Выберите язык")
    assert "Тілді таңдаңыз" in question.text
    assert question.buttons == ["Қазақ тілі", "Русский язык"]

    await parent.press(language)
    await parent.expect(chosen)
    greeting = await parent.expect()
    assert greeting.reply_keyboard is not None
    assert greeting.reply_keyboard[:2] == menu_rows
    assert (await parent.messages())[0].buttons == []  # the language buttons are gone

    # The choice sticks: /start again greets in that language without asking.
    await parent.send("/start")
    again = await parent.expect()
    assert again.reply_keyboard[:2] == menu_rows


async def test_the_same_conversation_over_the_telegram_webhook(
    settings: Settings, db: None, redis: object
) -> None:
    async with run_stack(settings=settings, webhook=True) as stack:
        parent = stack.client(710003, language_code="ru")
        await parent.send("/start")  # a Russian phone: no language question
        greeting = await parent.expect()
        assert greeting.reply_keyboard[0] == ["Встать в очередь", "Проверить очередь"]
        info = stack.telegram.webhook
        assert info is not None and info["url"].endswith("/telegram/webhook")
        assert stack.telegram.stats["webhook_deliveries"] >= 1
        # Registered from configuration: secret, max connections, the updates the bot uses.
        assert info["secret_token"] == stack.app.settings.telegram_webhook_secret[0]
        assert info["max_connections"] == stack.app.settings.telegram_max_connections
        assert {"message", "callback_query"} <= set(stack.telegram.allowed_updates or ())


async def test_commands_are_registered_in_both_languages(stack: Stack) -> None:
    kk = stack.telegram.commands.get(('{"type": "default"}', "kk"))
    ru = stack.telegram.commands.get(('{"type": "default"}', "ru"))
    assert kk and ru
    assert [c["command"] for c in kk] == [c["command"] for c in ru]
    assert kk != ru  # descriptions are translated
