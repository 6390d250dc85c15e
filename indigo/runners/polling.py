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
from webhooks.app import make_web_app

log = logging.getLogger(__name__)


async def run_polling(settings: Settings) -> None:
    """Long polling, plus the callbacks web app on `settings.http_port`."""
    refuse_default_secrets(settings)
    app = await build_app(settings)
    runner = web.AppRunner(make_web_app(app, telegram=False))
    try:
        await runner.setup()
        await web.TCPSite(runner, settings.http_host, settings.http_port).start()
        log.info("callbacks on http://%s:%s", settings.http_host, settings.http_port)
        await app.bot.delete_webhook(drop_pending_updates=False)
        await app.dispatcher.start_polling(app.bot)
    except asyncio.CancelledError:
        pass
    finally:
        with contextlib.suppress(Exception):
            await runner.cleanup()
        await close_app(app)
