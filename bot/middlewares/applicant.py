"""Loads (or creates, on first contact) the applicant for the update's Telegram user."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware, Router
from aiogram.types import Chat, TelegramObject, User

from core.people.applicants import get_or_create_applicant


class ApplicantMiddleware(BaseMiddleware):
    """Puts `applicant` (core.models.Applicant) into the handler data."""

    def setup(self, router: Router) -> ApplicantMiddleware:
        """Outer middleware on every observer but `update` (like aiogram's I18nMiddleware)."""
        for name, observer in router.observers.items():
            if name != "update":
                observer.outer_middleware(self)
        return self

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        user: User | None = data.get("event_from_user")
        if user is not None and not user.is_bot and "applicant" not in data:
            chat: Chat | None = data.get("event_chat")
            chat_id = chat.id if chat is not None and chat.type == "private" else None
            data["applicant"] = await get_or_create_applicant(user.id, chat_id, user.language_code)
        return await handler(event, data)
