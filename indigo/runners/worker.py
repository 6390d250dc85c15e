"""`indigo worker`: the outbox sender and the scheduled jobs, until SIGTERM/SIGINT.

The Bot, the SMS gateway and Redis come from the composition root, like every other process.
"""

from __future__ import annotations

import asyncio

from core.platform.settings import Settings, refuse_default_secrets
from indigo.app import build_app, close_app
from indigo.runners.signals import stop_on_signals
from worker.main import run_worker_loop


async def run_worker(settings: Settings) -> None:
    refuse_default_secrets(settings)
    app = await build_app(settings)
    stop = asyncio.Event()
    stop_on_signals(stop)
    try:
        await run_worker_loop(app.settings, app.bot, app.sms, app.redis, stop=stop)
    finally:
        await close_app(app)
