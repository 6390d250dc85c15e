"""After every update: move the applications this update changed in the position index.

Services note changed applications (`core.queue.sync_choices`); whichever entry point ran
them applies the notes after the commit. Doing it here covers every handler and dialog at
once, so no conversation can leave the index stale.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware, Dispatcher
from aiogram.types import TelegramObject
from redis.asyncio import Redis

from core.queue.changes import take_changed
from core.queue.index import sync_changed


class PositionIndexMiddleware(BaseMiddleware):
    def __init__(self, redis: Redis) -> None:
        self.redis = redis

    def setup(self, dispatcher: Dispatcher) -> PositionIndexMiddleware:
        dispatcher.update.outer_middleware(self)
        return self

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        take_changed()  # start clean: notes belong to this update only
        try:
            return await handler(event, data)
        finally:
            await sync_changed(self.redis)
