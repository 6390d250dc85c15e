"""`indigo serve`: the bot in webhook mode plus every callback, until SIGTERM/SIGINT."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from aiohttp import web

from core.platform.settings import Settings, refuse_default_secrets, refuse_open_webhook
from indigo.app import build_app, close_app
from indigo.runners.signals import stop_on_signals
from webhooks.app import listening, start_web, stop_web
from webhooks.telegram import register_webhook

log = logging.getLogger(__name__)


async def serve(settings: Settings) -> None:
    refuse_default_secrets(settings)
    refuse_open_webhook(settings)  # this process mounts the Telegram webhook route
    app = await build_app(settings)
    stop = asyncio.Event()
    stop_on_signals(stop)
    runners: list[web.AppRunner] = []
    try:
        runners = await start_web(app)
        log.info("serving on %s", listening(settings))
        await register_webhook(app.bot, app.dispatcher, settings)
        await stop.wait()
    finally:
        with contextlib.suppress(Exception):
            await stop_web(runners)
        await close_app(app)
