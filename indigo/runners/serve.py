"""`indigo serve`: the bot in webhook mode plus every callback, until SIGTERM/SIGINT."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from aiohttp import web

from core.platform.settings import Settings, refuse_default_secrets
from indigo.app import build_app, close_app
from indigo.runners.signals import stop_on_signals
from webhooks.app import make_web_app
from webhooks.telegram import register_webhook

log = logging.getLogger(__name__)


async def serve(settings: Settings) -> None:
    refuse_default_secrets(settings)
    app = await build_app(settings)
    runner = web.AppRunner(make_web_app(app), access_log=None)
    stop = asyncio.Event()
    stop_on_signals(stop)
    try:
        await runner.setup()
        await web.TCPSite(runner, settings.http_host, settings.http_port).start()
        log.info("serving on http://%s:%s", settings.http_host, settings.http_port)
        await register_webhook(app.bot, app.dispatcher, settings)
        await stop.wait()
    finally:
        with contextlib.suppress(Exception):
            await runner.cleanup()
        await close_app(app)
