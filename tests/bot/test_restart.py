"""A conversation survives a restart of the bot: its state lives in Redis, not in the process."""

from typing import Any

from core.platform.settings import Settings
from indigo.app import build_app, close_app
from tests.fixtures.bot import Chatter, RecordingSession, inline_buttons, texts


async def test_a_parent_continues_the_wizard_after_the_bot_restarts(
    settings: Settings, db: None, redis: Any
) -> None:
    first_session = RecordingSession()
    first = await build_app(settings, bot_session=first_session, init_database=False)
    try:
        parent = Chatter(first, first_session, 4401, "ru")
        await parent.send("/start")
        sent = await parent.send("Встать в очередь")
        buttons = dict(inline_buttons(sent))
        consent_notify = next(data for caption, data in buttons.items() if "уведомлений" in caption)
        sent = await parent.press(consent_notify)
        buttons = dict(inline_buttons(sent))
    finally:
        await close_app(first)

    # A new process: new Bot, Dispatcher and dialogs, the same Redis.
    second_session = RecordingSession()
    second = await build_app(settings, bot_session=second_session, init_database=False)
    try:
        parent = Chatter(second, second_session, 4401, "ru")
        consent_offer = next(data for caption, data in buttons.items() if "оферты" in caption)
        sent = await parent.press(consent_offer)
        captions = [caption for caption, _ in inline_buttons(sent)]
        # Both boxes ticked: the first one was remembered across the restart.
        assert sum(caption.startswith("☑") for caption in captions) == 2, captions
        general = next(
            data for caption, data in inline_buttons(sent) if "общеобразовательную" in caption
        )
        sent = await parent.press(general)
        assert any("Подтверждение телефона" in text for text in texts(sent)), texts(sent)
    finally:
        await close_app(second)
