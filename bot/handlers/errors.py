"""Stale buttons, unexpected content, and the last-resort error answer.

`make_router()` comes first (errors observers); `make_fallback_router()` is included after every
dialog, so it only sees what no command, menu or conversation took.
"""

from __future__ import annotations

import contextlib
import logging

from aiogram import F, Router
from aiogram.filters import ExceptionTypeFilter
from aiogram.types import CallbackQuery, ErrorEvent, Message
from aiogram.utils.callback_answer import CallbackAnswer
from aiogram.utils.i18n import gettext as _
from aiogram_dialog import DialogManager
from aiogram_dialog.api.exceptions import OutdatedIntent, UnknownIntent, UnknownState

from bot.keyboards import main_menu
from bot.texts.reasons import error_text
from core.platform.errors import DomainError

log = logging.getLogger(__name__)

# Content no handler expects: answered with the menu instead of silence.
UNEXPECTED_CONTENT = (
    F.sticker
    | F.photo
    | F.voice
    | F.video
    | F.video_note
    | F.animation
    | F.audio
    | F.document
    | F.location
    | F.contact
    | F.dice
    | F.poll
    | F.venue
)


def make_router() -> Router:
    """The error handlers (the Dispatcher propagates errors of every router to it)."""
    router = Router(name=__name__)
    router.errors.register(
        stale_dialog_button, ExceptionTypeFilter(UnknownIntent, OutdatedIntent, UnknownState)
    )
    router.errors.register(unhandled_refusal, ExceptionTypeFilter(DomainError))
    router.errors.register(unexpected_error)
    return router


def make_fallback_router() -> Router:
    """Whatever nobody else handled: unexpected content, unknown text, old buttons."""
    router = Router(name=__name__ + ".fallback")
    router.message.register(unexpected_content, UNEXPECTED_CONTENT)
    router.message.register(unknown_text, F.text)
    router.callback_query.register(unknown_button)
    return router


def stale_button_text() -> str:
    return _("This button is outdated. Here is the main menu.")


async def stale_dialog_button(
    event: ErrorEvent, dialog_manager: DialogManager | None = None
) -> None:
    """A button of a conversation that has already moved on (or of a bot restart with new code)."""
    log.info("stale dialog button: %s", type(event.exception).__name__)
    if dialog_manager is not None:
        try:
            await dialog_manager.reset_stack(remove_keyboard=False)
        except Exception:  # the stack may be the broken part; the menu below still helps
            log.debug("could not reset the dialog stack", exc_info=True)
    await _answer(event, stale_button_text())


async def unhandled_refusal(event: ErrorEvent) -> None:
    """A refusal a handler did not catch: still explained in the parent's words."""
    error = event.exception
    assert isinstance(error, DomainError)
    log.info("refusal not handled in place: %s", error.reason)
    await _answer(event, error_text(error))


async def unexpected_error(event: ErrorEvent) -> None:
    # Only the exception type and the update id: the message may hold an IIN or a phone.
    log.error(
        "update %s failed: %s",
        event.update.update_id,
        type(event.exception).__name__,
        exc_info=(type(event.exception), event.exception, event.exception.__traceback__),
    )
    await _answer(
        event,
        _("Sorry, something went wrong. Please try again, or press /start to begin anew."),
    )


async def unexpected_content(message: Message) -> None:
    await message.answer(
        _(
            "I cannot use this here. Please choose an action in the menu below or type "
            "the requested text."
        ),
        reply_markup=main_menu(),
    )


async def unknown_text(message: Message) -> None:
    await message.answer(
        _("I did not understand that. Please choose an action in the menu below."),
        reply_markup=main_menu(),
    )


async def unknown_button(callback: CallbackQuery, callback_answer: CallbackAnswer) -> None:
    """A button nobody handles any more (an old message): say so and show the menu."""
    callback_answer.text = stale_button_text()
    if isinstance(callback.message, Message):
        await callback.message.answer(stale_button_text(), reply_markup=main_menu())


async def _answer(event: ErrorEvent, text: str) -> None:
    update = event.update
    message = update.message
    if update.callback_query is not None:
        callback = update.callback_query
        message = callback.message if isinstance(callback.message, Message) else None
        # Not answered yet when the failure came before the handler (a stale dialog button).
        with contextlib.suppress(Exception):
            await callback.answer(text)
    if message is None:
        return
    try:
        await message.answer(text, reply_markup=main_menu())
    except Exception:  # answering an error must not raise another one
        log.warning("could not answer the failed update %s", update.update_id)
