"""Loads (or creates, on first contact) the applicant for the update's Telegram user.

Every update reads its applicant, so on PostgreSQL the read is one prepared statement built
once (no query building per update: that was the ORM's largest share of the CPU of an update);
the row becomes the same `Applicant` model the ORM would give. A first contact, a changed chat
and other databases go through `core.people.applicants.get_or_create_applicant`.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware, Router
from aiogram.types import Chat, TelegramObject, User
from tortoise import connections
from tortoise.backends.asyncpg.client import AsyncpgDBClient

from core.models import Applicant
from core.people.applicants import get_or_create_applicant


@functools.cache
def _select_by_telegram_user() -> str:
    meta = Applicant._meta
    columns = ", ".join(f'"{column}"' for column in sorted(meta.db_fields))
    return f'SELECT {columns} FROM "{meta.db_table}" WHERE "telegram_user_id" = $1'


async def applicant_of(user: User, chat_id: int | None) -> Applicant:
    """The applicant of a Telegram user (created on first contact, chat id kept current)."""
    client = connections.get("default")
    if isinstance(client, AsyncpgDBClient):
        rows = await client.execute_query_dict(_select_by_telegram_user(), [user.id])
        if rows:
            applicant = Applicant._init_from_db(**rows[0])
            if chat_id is None or applicant.chat_id == chat_id:
                return applicant
    return await get_or_create_applicant(user.id, chat_id, user.language_code)


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
            data["applicant"] = await applicant_of(user, chat_id)
        return await handler(event, data)
