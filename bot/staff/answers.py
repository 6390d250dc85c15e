"""Answering staff presses exactly once, a refusal as an alert, the end of a dialog as its last
screen."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiogram.types import CallbackQuery, Message, TelegramObject
from aiogram.utils.callback_answer import CallbackAnswerMiddleware
from aiogram_dialog import DialogManager, ShowMode

from bot.texts.reasons import error_text
from core.platform.errors import DomainError


class AnsweredByHandler(CallbackAnswerMiddleware):
    """Every staff press is answered once by whoever handles it: a plain staff button by its
    handler (often with an alert, see `guard`), a dialog button by aiogram-dialog. The automatic
    answer the composition root adds to a router without one would come second, and Telegram
    refuses it ("query is too old"): that turned every staff button into "something went
    wrong". Registered on the staff router, this one keeps the automatic one out and adds none.
    """

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        return await handler(event, data)


async def guard(query: CallbackQuery, body: Awaitable[None]) -> None:
    """Run a button's action; a domain refusal becomes an alert in the staff member's language."""
    try:
        await body
    except DomainError as exc:
        await query.answer(error_text(exc), show_alert=True)
        return
    await query.answer()


async def close_with(callback: CallbackQuery, manager: DialogManager, text: str) -> None:
    """End a staff dialog: its last screen becomes the outcome, no buttons left to press twice."""
    if isinstance(callback.message, Message):
        await callback.message.edit_text(text)
    await manager.done(show_mode=ShowMode.NO_UPDATE)
