"""Joining the queue asks for both consents before anything else."""

from __future__ import annotations

from typing import Any

from aiogram.methods import AnswerCallbackQuery, SendMessage

from tests.fixtures.bot import Parent, inline_buttons


async def test_joining_without_consents_answers_with_a_popup(bot_app: Any) -> None:
    parent = Parent(bot_app, 314, "ru")
    await parent.send("Встать в очередь")
    sent = await parent.chat.press(
        next(data for label, data in inline_buttons(parent.seen) if "общеобразовательную" in label)
    )
    alerts = [r for r in sent if isinstance(r, AnswerCallbackQuery) and r.show_alert]
    assert alerts and "поставьте обе отметки" in (alerts[0].text or "")
    assert not [r for r in sent if isinstance(r, SendMessage)]
