"""Stale buttons, unexpected content, and the last-resort error answer.

`make_router()` comes first (errors observers); `make_fallback_router()` is included after every
dialog, so it only sees what no command, menu or conversation took.
"""

from __future__ import annotations

import contextlib
import logging
import traceback
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from aiogram import F, Router
from aiogram.exceptions import TelegramRetryAfter
from aiogram.filters import ExceptionTypeFilter
from aiogram.types import CallbackQuery, ErrorEvent, Message
from aiogram.utils.callback_answer import CallbackAnswer
from aiogram.utils.i18n import gettext as _
from aiogram_dialog import DialogManager, ShowMode
from aiogram_dialog.api.exceptions import OutdatedIntent, UnknownIntent, UnknownState

from bot.keyboards import main_menu
from bot.texts.reasons import error_text
from core.platform import clock
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


# Identical failures (same exception type, same place) within this interval are logged once:
# the first with its traceback, the rest as a count on the next line logged after the interval.
REPEAT_INTERVAL = timedelta(seconds=60)


@dataclass
class _Seen:
    since: datetime
    repeats: int = 0


@dataclass
class RepeatedErrors:
    """Counts failures by kind so a burst (35 updates of one flooding user, a dead Bot API)
    writes one line per interval instead of one traceback per update."""

    interval: timedelta = REPEAT_INTERVAL
    _seen: dict[tuple[str, ...], _Seen] = field(default_factory=dict)

    def admit(self, key: tuple[str, ...]) -> int | None:
        """None: a repeat within the interval (only counted). Otherwise log it now, with the
        number of repeats that were not logged since the last line of this kind."""
        now = clock.now()
        seen = self._seen.get(key)
        if seen is not None and now - seen.since < self.interval:
            seen.repeats += 1
            return None
        self._seen[key] = _Seen(since=now)
        if len(self._seen) > 1000:  # many distinct kinds: forget the oldest
            oldest = min(self._seen, key=lambda k: self._seen[k].since)
            del self._seen[oldest]
        return seen.repeats if seen is not None else 0


def failure_key(error: BaseException) -> tuple[str, ...]:
    """The exception type and the innermost frame it was raised in: "the same failure"."""
    frames = traceback.extract_tb(error.__traceback__)
    where = f"{frames[-1].filename}:{frames[-1].lineno}" if frames else ""
    return (type(error).__name__, where)


def make_router() -> Router:
    """The error handlers (the Dispatcher propagates errors of every router to it)."""
    router = Router(name=__name__)
    repeats = RepeatedErrors()
    # Before every conversation: a voice message is answered politely wherever it comes.
    router.message.register(voice_message, F.voice | F.video_note | F.audio)
    router.errors.register(
        stale_dialog_button, ExceptionTypeFilter(UnknownIntent, OutdatedIntent, UnknownState)
    )
    router.errors.register(unhandled_refusal, ExceptionTypeFilter(DomainError))
    router.errors.register(
        _counted(flood_control, repeats), ExceptionTypeFilter(TelegramRetryAfter)
    )
    router.errors.register(_counted(unexpected_error, repeats))
    return router


def _counted(
    handler: Callable[[ErrorEvent, int | None], Awaitable[None]], repeats: RepeatedErrors
) -> Callable[[ErrorEvent], Awaitable[None]]:
    """`handler(event, n)`: n is None for a repeat that is not logged, else the repeats since
    the last line logged of this kind."""

    async def counted(event: ErrorEvent) -> None:
        await handler(event, repeats.admit(failure_key(event.exception)))

    return counted


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


async def flood_control(event: ErrorEvent, repeats: int | None = None) -> None:
    """Telegram's 429 outlasted the retries (bot.middlewares.retry): the chat is flooded, so
    an answer would meet the same limit. A warning without a traceback: nothing is broken."""
    error = event.exception
    assert isinstance(error, TelegramRetryAfter)
    if repeats is not None:
        log.warning(
            "update %s: Telegram flood control, retry after %s s%s",
            event.update.update_id,
            error.retry_after,
            _repeated(repeats),
        )


async def unexpected_error(event: ErrorEvent, repeats: int | None = None) -> None:
    if repeats is not None:
        error = event.exception
        # Only the exception type and the update id: the message may hold an IIN or a phone.
        log.error(
            "update %s failed: %s%s",
            event.update.update_id,
            type(error).__name__,
            _repeated(repeats),
            exc_info=(type(error), error, error.__traceback__),
        )
    await _answer(
        event,
        _("Sorry, something went wrong. Please try again, or press /start to begin anew."),
        log_failure=repeats is not None,
    )


def _repeated(repeats: int) -> str:
    return f" ({repeats} more like it since the last one logged)" if repeats else ""


async def voice_message(message: Message, dialog_manager: DialogManager | None = None) -> None:
    """The bot cannot listen: say so kindly, and keep the conversation where it was (its
    current step is shown again; a plain-handler step such as "send the IIN" keeps its state)."""
    await message.answer(
        _("Sorry, I can't listen to voice messages. Please type your answer or use the buttons.")
    )
    if dialog_manager is not None and dialog_manager.has_context():
        await dialog_manager.show(ShowMode.SEND)


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


async def _answer(event: ErrorEvent, text: str, *, log_failure: bool = True) -> None:
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
    except Exception as exc:  # answering an error must not raise another one
        if log_failure:
            log.warning(
                "could not answer the failed update %s: %s", update.update_id, type(exc).__name__
            )
