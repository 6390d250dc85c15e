"""Telegram's 429 ("Too Many Requests: retry after N") on the bot's replies: wait and send again.

A parent who taps quickly, or a burst of updates to one chat, meets Telegram's flood control
(about one message a second per chat). Failing the handler there shows nothing or "something went
wrong" for a reply Telegram would have taken a second later. `RetryAfterMiddleware` (a request
middleware on the Bot's session, wired by `indigo.app.make_bot`) waits `retry_after` and sends
again, a bounded number of times and never longer than `max_wait` in all (the update holds its
chat's lock meanwhile).

Only replies retry in place: `ReplyScope` (an outer update middleware of the Dispatcher) marks the
requests made while an update is handled. The worker shares the Bot in one process (the demo) but
has its own policy for 429 (a global pause and a rescheduled row, `worker.sender`), so its
requests pass through unchanged.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any

from aiogram import BaseMiddleware
from aiogram.client.session.middlewares.base import (
    BaseRequestMiddleware,
    NextRequestMiddlewareType,
)
from aiogram.exceptions import TelegramRetryAfter
from aiogram.methods import Response, TelegramMethod
from aiogram.methods.base import TelegramType
from aiogram.types import TelegramObject

if TYPE_CHECKING:
    from aiogram import Bot

log = logging.getLogger(__name__)

# Telegram's usual per-chat answer is 1-5 s; a longer wait is a real flood (or a ban) and the
# parent is better served by the error answer than by a handler hanging for minutes.
MAX_WAIT_SECONDS = 30.0
ATTEMPTS = 3  # retries after the first request

_replying: ContextVar[bool] = ContextVar("indigo_replying", default=False)

Sleep = Callable[[float], Awaitable[Any]]


class ReplyScope(BaseMiddleware):
    """Marks the Bot API requests made while the Dispatcher handles an update as replies."""

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        token = _replying.set(True)
        try:
            return await handler(event, data)
        finally:
            _replying.reset(token)


class RetryAfterMiddleware(BaseRequestMiddleware):
    """On `TelegramRetryAfter` of a reply: sleep `retry_after` and retry, up to `attempts`
    times and `max_wait` seconds in all; past either bound the error goes to the handler."""

    def __init__(
        self,
        *,
        max_wait: float = MAX_WAIT_SECONDS,
        attempts: int = ATTEMPTS,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self.max_wait = max_wait
        self.attempts = attempts
        self.sleep = sleep

    async def __call__(
        self,
        make_request: NextRequestMiddlewareType[TelegramType],
        bot: Bot,
        method: TelegramMethod[TelegramType],
    ) -> Response[TelegramType]:
        retries, waited = 0, 0.0
        while True:
            try:
                return await make_request(bot, method)
            except TelegramRetryAfter as exc:
                wait = max(exc.retry_after, 0)
                if not _replying.get() or retries >= self.attempts or waited + wait > self.max_wait:
                    raise
                retries, waited = retries + 1, waited + wait
                # Method name and wait only: the request may carry a parent's text.
                log.info("429 on %s: retry %d in %s s", method.__api_method__, retries, wait)
                await self.sleep(wait)
