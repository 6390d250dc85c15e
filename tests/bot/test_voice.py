"""A voice message mid-conversation (kk and ru): a kind "I can't listen" and the conversation
stays where it was."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from aiogram.types import Update, Voice

from core.people import applicants
from tests.fixtures.bot import Parent, texts
from tests.fixtures.e2e_cabinet import applicant_of, t

VOICE = "Sorry, I can't listen to voice messages. Please type your answer or use the buttons."


async def send_voice(parent: Parent) -> str:
    chat = parent.chat
    message = chat._message(voice=Voice(file_id="v1", file_unique_id="v1", duration=3))
    update = Update(update_id=int(datetime.now(UTC).timestamp() * 1000), message=message)
    await chat.app.dispatcher.feed_update(chat.app.bot, update)
    parent.seen = chat.session.take()
    return "\n".join(texts(parent.seen))


@pytest.mark.parametrize("language", ["ru", "kk"])
async def test_a_voice_message_in_the_cabinet_is_answered_and_the_cabinet_stays(
    bot_app: tuple, language: str
) -> None:
    user_id = 339 if language == "ru" else 340
    parent = Parent(bot_app, user_id, language)
    await parent.send("/start")
    await applicants.verify_phone(await applicant_of(user_id), "+77011230340")
    await parent.send(t("Personal cabinet", language))
    said = await send_voice(parent)
    assert t(VOICE, language) in said
    assert t("Choose a section.", language) in said  # the step is shown again
    said = await parent.press(t("My applications", language))
    assert t("You have no applications.", language) in said
