"""The whole service against the sandbox, in this process, on free ports (tests and the demo).

    async with run_stack(settings=settings) as stack:   # the `settings` fixture's DB and Redis
        client = stack.client(700001, language_code="ru")
        await client.send("/start")

Starts the sandbox server (Bot API emulator + gov + SMS fakes), builds the App with the
production composition root pointed at it (the real `Bot` over HTTP), runs long polling, the
webhooks app (gov and SMS callbacks; the fakes call it back) and the worker loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from aiohttp import web
from tortoise.connection import get_connection

from core.platform.settings import Settings
from devtools.client import E2EClient
from devtools.sandbox.gov import GOV, GovFake
from devtools.sandbox.server import (
    SandboxConfig,
    bind_socket,
    emulator_of,
    make_sandbox_app,
    serve_app,
    set_callbacks_url,
)
from devtools.sandbox.sms import SMS, SmsFake
from devtools.sandbox.telegram import TelegramConfig, TelegramEmulator
from indigo.app import PLACEHOLDER_TOKEN, App, build_app, close_app
from webhooks.app import make_web_app
from webhooks.telegram import register_webhook
from worker.main import run_worker_loop

log = logging.getLogger(__name__)

# End-to-end conversations press buttons faster than people do; a burst of 10 keeps Telegram's
# per-chat rate (1/s) without failing a quick test; every reply is checked against the Bot API
# specification. Benchmarks pass their own limits.
STACK_TELEGRAM = {"per_chat_burst": 10, "validate": True}


@dataclass
class Stack:
    sandbox_url: str
    webhooks_url: str
    app: App
    sandbox_app: web.Application
    http: aiohttp.ClientSession
    tasks: list[asyncio.Task[Any]] = field(default_factory=list)

    @property
    def settings(self) -> Settings:
        return self.app.settings

    @property
    def telegram(self) -> TelegramEmulator:
        return emulator_of(self.sandbox_app)

    @property
    def gov(self) -> GovFake:
        return self.sandbox_app[GOV]

    @property
    def sms(self) -> SmsFake:
        return self.sandbox_app[SMS]

    def client(self, user_id: int, language_code: str | None = None, **profile: Any) -> E2EClient:
        return E2EClient(
            self.sandbox_url, user_id, language_code=language_code, session=self.http, **profile
        )

    async def sms_inbox(self, phone: str) -> list[dict[str, Any]]:
        async with self.http.get(f"{self.sandbox_url}/sandbox/sms/inbox/{phone}") as resp:
            resp.raise_for_status()
            body = await resp.json()
        messages: list[dict[str, Any]] = (
            body.get("messages", body) if isinstance(body, dict) else body
        )
        return messages


def stack_settings(base: Settings, sandbox_url: str, **overrides: Any) -> Settings:
    """`base` pointed at the sandbox; callback secrets made up when `base` has none."""
    changes: dict[str, Any] = {
        "telegram_api_url": sandbox_url,
        "gov_base_url": f"{sandbox_url}/gov",
        "sms_base_url": f"{sandbox_url}/sms",
        "telegram_webhook_url": None,  # long polling unless run_stack(webhook=True)
    }
    if not base.gov_callback_secret:
        changes["gov_callback_secret"] = ["sandbox-gov-secret"]
    if not base.sms_callback_secret:
        changes["sms_callback_secret"] = ["sandbox-sms-secret"]
    changes.update(overrides)
    return base.model_copy(update=changes)


@contextlib.asynccontextmanager
async def run_stack(
    settings_overrides: dict[str, Any] | None = None,
    *,
    settings: Settings,
    telegram: dict[str, Any] | None = None,
    auto_consent: bool = False,
    worker: bool = True,
    webhook: bool = False,
    init_database: bool | None = None,
    sandbox_port: int = 0,
    host: str = "127.0.0.1",
) -> AsyncIterator[Stack]:
    """Everything up and polling; torn down in reverse order on exit.

    `telegram`: TelegramConfig fields (rate limits...). `webhook`: the emulator delivers updates
    to the webhooks app's /telegram/webhook instead of long polling. `init_database`: None
    initialises Tortoise only when nothing did yet (the `db` fixture already has).
    """
    sandbox_sock = bind_socket(host, sandbox_port)
    hooks_sock = bind_socket(host, 0)
    sandbox_url = "http://{}:{}".format(*sandbox_sock.getsockname()[:2])
    webhooks_url = "http://{}:{}".format(*hooks_sock.getsockname()[:2])
    overrides = dict(settings_overrides or {})
    # the public page (open data, protocols, the log) is served by this stack's webhooks app
    overrides.setdefault("public_url", settings.public_url or webhooks_url)
    if webhook:
        overrides.setdefault("telegram_webhook_url", f"{webhooks_url}/telegram/webhook")
        if not settings.telegram_webhook_secret:
            overrides.setdefault("telegram_webhook_secret", ["sandbox-tg-secret"])
    app_settings = stack_settings(settings, sandbox_url, **overrides)
    token = app_settings.bot_token or PLACEHOLDER_TOKEN
    sandbox_app = make_sandbox_app(
        SandboxConfig(
            telegram=TelegramConfig(token=token, **{**STACK_TELEGRAM, **(telegram or {})}),
            callbacks_url=webhooks_url,
            gov_secret=app_settings.gov_callback_secret[0],
            sms_secret=app_settings.sms_callback_secret[0],
            gov_api_key=app_settings.gov_api_key,
            sms_api_key=app_settings.sms_api_key,
            auto_consent=auto_consent,
        )
    )
    cleanups: list[Any] = []
    http = aiohttp.ClientSession()
    cleanups.append(http.close)
    try:
        sandbox_runner, _ = await serve_app(sandbox_app, sandbox_sock)
        cleanups.append(sandbox_runner.cleanup)
        if init_database is None:
            init_database = not _database_ready()
        app = await build_app(app_settings, init_database=init_database)
        cleanups.append(lambda: close_app(app))

        hooks_runner, _ = await serve_app(make_web_app(app, telegram=webhook), hooks_sock)
        cleanups.append(hooks_runner.cleanup)
        set_callbacks_url(sandbox_app, webhooks_url)
        stack = Stack(
            sandbox_url=sandbox_url,
            webhooks_url=webhooks_url,
            app=app,
            sandbox_app=sandbox_app,
            http=http,
        )

        if webhook:
            await register_webhook(app.bot, app.dispatcher, app.settings)
        else:
            polling = asyncio.create_task(
                app.dispatcher.start_polling(
                    app.bot, handle_signals=False, close_bot_session=False, polling_timeout=10
                ),
                name="polling",
            )
            stack.tasks.append(polling)
            cleanups.append(lambda: _stop_polling(app, polling))
        if worker:
            stop_worker = asyncio.Event()
            worker_task = asyncio.create_task(
                run_worker_loop(app.settings, app.bot, app.sms, app.redis, stop=stop_worker),
                name="worker",
            )
            stack.tasks.append(worker_task)
            cleanups.append(lambda: _stop_worker(worker_task, stop_worker))
        if not webhook:
            await _wait_polling(stack.telegram, polling)
        yield stack
    finally:
        for cleanup in reversed(cleanups):
            try:
                await cleanup()
            except Exception:
                log.exception("stopping the stack: %s failed", cleanup)


def _database_ready() -> bool:
    try:
        get_connection("default")
    except Exception:  # not initialised, or closed
        return False
    return True


async def _stop_worker(task: asyncio.Task[Any], stop: asyncio.Event) -> None:
    stop.set()
    try:
        await asyncio.wait_for(asyncio.shield(task), 10)
    except (TimeoutError, Exception):
        await _cancel(task)


async def _wait_polling(emulator: TelegramEmulator, polling: asyncio.Task[Any]) -> None:
    """Ready once the bot asks for updates (start-up hooks such as setMyCommands are done)."""
    deadline = time.monotonic() + 30
    while emulator.poll_generation == 0:
        if polling.done():
            polling.result()  # raises what stopped it
            raise RuntimeError("polling stopped before it started")
        if time.monotonic() > deadline:
            raise TimeoutError("the bot did not start polling the sandbox within 30 s")
        await asyncio.sleep(0.02)


async def _stop_polling(app: App, polling: asyncio.Task[Any]) -> None:
    if not polling.done():
        with contextlib.suppress(RuntimeError):
            await app.dispatcher.stop_polling()
        try:
            await asyncio.wait_for(polling, 5)
        except (TimeoutError, asyncio.CancelledError):
            await _cancel(polling)
    elif not polling.cancelled() and polling.exception() is not None:
        log.error("polling had stopped: %r", polling.exception())


async def _cancel(task: asyncio.Task[Any]) -> None:
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError, Exception):
        await task
