"""The multi-step conversations (aiogram-dialog), collected for the composition root.

`all_dialogs()` builds a fresh Dialog of every conversation (tests build several Dispatchers in
one process); `subscribe(app)` connects the conversations that continue by themselves to core
events (the gov family result moves the submission wizard and access recovery on).

Until bot/setup.py takes over the wiring, indigo/app.py calls these two.
"""

from __future__ import annotations

from typing import Protocol

from aiogram import Bot, Dispatcher
from aiogram_dialog import BgManagerFactory, Dialog
from redis.asyncio import Redis

from bot.dialogs import (
    cabinet,
    extension,
    recovery,
    referral,
    settings,
    submission,
    verification,
)
from core.platform.events import EventBus


class App(Protocol):
    """What `subscribe` needs of indigo.app.App (the dialogs do not import the composition)."""

    events: EventBus
    redis: Redis
    bot: Bot
    dispatcher: Dispatcher


def all_dialogs() -> list[Dialog]:
    """Every conversation, each a fresh Dialog."""
    return [
        cabinet.make_dialog(),
        extension.make_dialog(),
        recovery.make_dialog(),
        referral.make_dialog(),
        settings.make_dialog(),
        submission.make_dialog(),
        verification.make_dialog(),
    ]


def subscribe(app: App) -> None:
    """Subscribe the conversations that react to core events (called once by the composition)."""
    bg_factory: BgManagerFactory = app.dispatcher.workflow_data["dialog_bg_factory"]
    recovery.subscribe(app.events, app.redis, app.bot, bg_factory)
    submission.subscribe(app.events, app.redis, app.bot, bg_factory)
