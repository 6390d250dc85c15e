"""Feeding updates to the production Dispatcher (build_app) with a recording bot session.

`RecordingSession` answers every Bot API call with a plausible result and keeps the requests,
FIFO, so a test reads what the parent would have seen.
"""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import pytest
from aiogram import Bot
from aiogram.client.session.base import BaseSession
from aiogram.methods import TelegramMethod
from aiogram.types import (
    CallbackQuery,
    Chat,
    Contact,
    InlineKeyboardMarkup,
    Location,
    Message,
    ReplyKeyboardMarkup,
    Sticker,
    Update,
    User,
)

from core.platform.settings import Settings
from indigo.app import App, build_app, close_app

_ids = itertools.count(1000)


class RecordingSession(BaseSession):
    def __init__(self) -> None:
        super().__init__()
        self.requests: list[TelegramMethod[Any]] = []

    async def make_request(
        self,
        bot: Bot,
        method: TelegramMethod[Any],
        timeout: int | None = None,  # noqa: ASYNC109
    ) -> Any:
        self.requests.append(method)
        returning = method.__returning__
        if returning is bool or method.__api_method__ in {"answerCallbackQuery", "setMyCommands"}:
            return True
        chat_id = getattr(method, "chat_id", None)
        if chat_id is not None and method.__api_method__.startswith(("send", "edit", "copy")):
            return Message(
                message_id=getattr(method, "message_id", None) or next(_ids),
                date=datetime.now(UTC),
                chat=Chat(id=int(chat_id), type="private"),
                text=getattr(method, "text", None) or getattr(method, "caption", None) or "",
                reply_markup=getattr(method, "reply_markup", None)
                if isinstance(getattr(method, "reply_markup", None), InlineKeyboardMarkup)
                else None,
            ).as_(bot)
        return True

    async def stream_content(self, *args: Any, **kwargs: Any) -> AsyncIterator[bytes]:
        yield b""

    async def close(self) -> None:
        pass

    def take(self) -> list[TelegramMethod[Any]]:
        taken, self.requests[:] = list(self.requests), []
        return taken


class Chatter:
    """One Telegram user talking to the bot: sends updates, reads what the bot sent back."""

    def __init__(self, app: App, session: RecordingSession, user_id: int, language: str | None):
        self.app = app
        self.session = session
        self.user = User(id=user_id, is_bot=False, first_name="Parent", language_code=language)
        self.chat = Chat(id=user_id, type="private")

    async def _feed(self, **update: Any) -> None:
        await self.app.dispatcher.feed_update(self.app.bot, Update(update_id=next(_ids), **update))

    def _message(self, **fields: Any) -> Message:
        return Message(
            message_id=next(_ids),
            date=datetime.now(UTC),
            chat=self.chat,
            from_user=self.user,
            **fields,
        )

    async def send(self, text: str) -> list[TelegramMethod[Any]]:
        entities = None
        if text.startswith("/"):
            from aiogram.types import MessageEntity

            command = text.split()[0]
            entities = [MessageEntity(type="bot_command", offset=0, length=len(command))]
        await self._feed(message=self._message(text=text, entities=entities))
        return self.session.take()

    async def send_sticker(self) -> list[TelegramMethod[Any]]:
        sticker = Sticker(
            file_id="s1",
            file_unique_id="s1",
            type="regular",
            width=512,
            height=512,
            is_animated=False,
            is_video=False,
        )
        await self._feed(message=self._message(sticker=sticker))
        return self.session.take()

    async def send_contact(
        self, phone: str, user_id: int | None = None
    ) -> list[TelegramMethod[Any]]:
        contact = Contact(phone_number=phone, first_name="Parent", user_id=user_id or self.user.id)
        await self._feed(message=self._message(contact=contact))
        return self.session.take()

    async def send_location(self, lat: float, lon: float) -> list[TelegramMethod[Any]]:
        await self._feed(message=self._message(location=Location(latitude=lat, longitude=lon)))
        return self.session.take()

    async def press(self, data: str, message_id: int | None = None) -> list[TelegramMethod[Any]]:
        message = self._message(text="…")
        if message_id is not None:
            message = message.model_copy(update={"message_id": message_id})
        callback = CallbackQuery(
            id=str(next(_ids)), from_user=self.user, chat_instance="ci", data=data, message=message
        )
        await self._feed(callback_query=callback)
        return self.session.take()


def texts(requests: list[TelegramMethod[Any]]) -> list[str]:
    """The texts the parent saw (messages sent or edited, callback alerts)."""
    found = []
    for request in requests:
        text = getattr(request, "text", None)
        if isinstance(text, str):
            found.append(text)
    return found


def reply_keyboard(requests: list[TelegramMethod[Any]]) -> list[list[str]] | None:
    for request in reversed(requests):
        markup = getattr(request, "reply_markup", None)
        if isinstance(markup, ReplyKeyboardMarkup):
            return [[button.text for button in row] for row in markup.keyboard]
    return None


def inline_buttons(requests: list[TelegramMethod[Any]]) -> list[tuple[str, str]]:
    """(caption, callback_data) of the last inline keyboard sent."""
    for request in reversed(requests):
        markup = getattr(request, "reply_markup", None)
        if isinstance(markup, InlineKeyboardMarkup):
            return [
                (button.text, button.callback_data or "")
                for row in markup.inline_keyboard
                for button in row
            ]
    return []


@pytest.fixture
async def bot_app(
    settings: Settings, db: None, redis: Any
) -> AsyncIterator[tuple[App, RecordingSession]]:
    session = RecordingSession()
    app = await build_app(settings, bot_session=session, init_database=False)
    try:
        yield app, session
    finally:
        await close_app(app)
