"""The queue submission wizard: the windows (`windows.py`, top to bottom as the parent meets
them) and, beside them, the getters and handlers of each step (consent, family, child_no_iin,
kindergartens, benefits, review)."""

from __future__ import annotations

from aiogram import Bot
from aiogram_dialog import BgManagerFactory
from redis.asyncio import Redis

from bot.dialogs.common import Dialog
from bot.dialogs.submission import family
from bot.dialogs.submission.windows import windows
from core.platform.events import EventBus


def make_dialog() -> Dialog:
    """A fresh Dialog for each Dispatcher (tests build several in one process)."""
    return Dialog(*windows())


def subscribe(events: EventBus, redis: Redis, bot: Bot, bg_factory: BgManagerFactory) -> None:
    """Let the gov family result continue waiting wizards (called once at start-up)."""
    family.subscribe(events, redis, bot, bg_factory)
