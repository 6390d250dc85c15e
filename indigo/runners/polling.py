"""`indigo run`: the bot with long polling (development), plus the callbacks web app.

aiogram's polling stops on SIGTERM/SIGINT itself; the web app and the App are closed after it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from aiohttp import web

from core.platform.settings import Settings, refuse_default_secrets
from indigo.app import build_app, close_app
from webhooks.app import listening, start_web, stop_web

log = logging.getLogger(__name__)


async def run_polling(settings: Settings) -> None:
    """Long polling, plus the callbacks web app on `settings.http_port`."""
    refuse_default_secrets(settings)
    app = await build_app(settings)
    runners: list[web.AppRunner] = []
    try:
        runners = await start_web(app, telegram=False)
        log.info("callbacks on %s", listening(settings))
        await app.bot.delete_webhook(drop_pending_updates=False)
        await app.dispatcher.start_polling(app.bot)
    except asyncio.CancelledError:
        pass
    finally:
        with contextlib.suppress(Exception):
            await stop_web(runners)
        await close_app(app)
