"""A local Telegram Bot API: the bot's side (`/bot<token>/<method>`) and the people's side.

`add_routes(app, config)` mounts both on an aiohttp application and returns the emulator, whose
state tests may also inspect directly. The people's side is described in `users.py`.
"""

from __future__ import annotations

from aiohttp import web

from devtools.sandbox.telegram.botapi import EMULATOR_KEY, add_bot_routes
from devtools.sandbox.telegram.config import TelegramConfig
from devtools.sandbox.telegram.emulator import TelegramEmulator
from devtools.sandbox.telegram.users import add_user_routes

__all__ = ["EMULATOR_KEY", "TelegramConfig", "TelegramEmulator", "add_routes"]


def add_routes(app: web.Application, config: TelegramConfig | None = None) -> TelegramEmulator:
    emulator = TelegramEmulator(config)
    app[EMULATOR_KEY] = emulator
    add_bot_routes(app, emulator)
    add_user_routes(app)

    async def _shutdown(_: web.Application) -> None:
        emulator.shutdown()

    async def _close(_: web.Application) -> None:
        await emulator.close()

    app.on_shutdown.append(_shutdown)
    app.on_cleanup.append(_close)
    return emulator
