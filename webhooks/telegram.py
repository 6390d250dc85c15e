"""Telegram's side of the webhooks app: the de-duplicating webhook, update metrics, setWebhook."""

from __future__ import annotations

import asyncio
import json
import logging
import secrets
import time
import weakref
from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import Bot, Dispatcher
from aiogram.dispatcher.event.bases import UNHANDLED
from aiogram.types import TelegramObject
from aiogram.webhook.aiohttp_server import SimpleRequestHandler, setup_application
from aiohttp import web
from redis.asyncio import Redis

from core.platform import metrics
from core.platform.settings import Settings
from webhooks.bounds import body_of

log = logging.getLogger(__name__)

TELEGRAM_DEDUP_PREFIX = "dedup:tg:"
WEBHOOK_PATH = "/telegram/webhook"
# On shutdown, updates already answered 200 (Telegram will not send them again) get this long to
# finish before the App closes under them; `indigo serve` kills a worker 30 s after SIGTERM.
DRAIN_SECONDS = 20.0


def add_telegram_routes(
    web_app: web.Application, dispatcher: Dispatcher, bot: Bot, redis: Redis, settings: Settings
) -> None:
    """POST /telegram/webhook, and the dispatcher's start-up and shut-down with the web app."""
    handler = DedupRequestHandler(
        dispatcher=dispatcher,
        bot=bot,
        redis=redis,
        secret_tokens=settings.telegram_webhook_secret,
        ttl=settings.dedup_ttl_seconds,
    )
    handler.register(web_app, path=WEBHOOK_PATH)
    setup_application(web_app, dispatcher, bot=bot)


async def register_webhook(bot: Bot, dispatcher: Dispatcher, settings: Settings) -> bool:
    """setWebhook from configuration (URL, secret token, allowed updates, max connections)."""
    if not settings.telegram_webhook_url:
        log.warning("TELEGRAM_WEBHOOK_URL is not set: the webhook is not registered")
        return False
    if not settings.telegram_webhook_secret:  # the route refuses every update without one
        log.error("TELEGRAM_WEBHOOK_SECRET is not set: the webhook is not registered")
        return False
    secret = settings.telegram_webhook_secret[0]  # the first is the current one (rotation)
    await bot.set_webhook(
        url=settings.telegram_webhook_url,
        secret_token=secret,
        allowed_updates=dispatcher.resolve_used_update_types(),
        max_connections=settings.telegram_max_connections,
        drop_pending_updates=False,
    )
    log.info("webhook registered")
    return True


def observe_updates(dispatcher: Dispatcher) -> None:
    """Count updates and time their handling (once per dispatcher; polling mode too)."""
    if dispatcher in _observed:
        return
    _observed.add(dispatcher)

    async def observe(
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        kind = getattr(event, "event_type", "unknown")
        started = time.perf_counter()
        result = "error"
        try:
            outcome = await handler(event, data)
            result = "unhandled" if outcome is UNHANDLED else "handled"
            return outcome
        finally:
            metrics.HANDLER_LATENCY.labels(kind).observe(time.perf_counter() - started)
            metrics.UPDATES.labels(kind, result).inc()

    dispatcher.update.outer_middleware(observe)


class DedupRequestHandler(SimpleRequestHandler):
    """aiogram's handler plus: any of the configured secret tokens (rotation) and update_id
    de-duplication in Redis (SET NX with a TTL), shared by every process."""

    def __init__(
        self,
        dispatcher: Dispatcher,
        bot: Bot,
        *,
        redis: Redis,
        secret_tokens: list[str],
        ttl: int,
        **data: Any,
    ) -> None:
        super().__init__(dispatcher=dispatcher, bot=bot, handle_in_background=True, **data)
        self.secret_tokens = list(secret_tokens)
        self.redis = redis
        self.ttl = ttl

    def verify_secret(self, telegram_secret_token: str, bot: Bot) -> bool:
        # Fails closed: no configured token means no update is authentic (`indigo serve`
        # refuses to start that way, see core.platform.settings.refuse_open_webhook).
        given = telegram_secret_token.encode(errors="replace")  # bytes: any header compares
        valid = False
        for token in self.secret_tokens:
            valid |= secrets.compare_digest(given, token.encode())
        return valid

    async def close(self) -> None:
        """The web app shuts down (its sites no longer accept): let the updates in hand finish,
        a stuck one is cancelled after `DRAIN_SECONDS`. The bot session is closed by the
        composition root, after this."""
        tasks = set(self._background_feed_update_tasks)
        if not tasks:
            return
        log.info("shutting down: %d updates in hand", len(tasks))
        _done, stuck = await asyncio.wait(tasks, timeout=DRAIN_SECONDS)
        for task in stuck:
            task.cancel()
        if stuck:
            log.warning(
                "shutting down: %d updates cancelled after %.0f s", len(stuck), DRAIN_SECONDS
            )

    async def handle(self, request: web.Request) -> web.Response:
        if not self.verify_secret(
            request.headers.get("X-Telegram-Bot-Api-Secret-Token", ""), self.bot
        ):
            metrics.WEBHOOK_REJECTS.labels("telegram", "secret").inc()
            return web.json_response({"error": "secret"}, status=401)
        try:
            update = json.loads(body_of(request))
            update_id = update["update_id"]
            if not isinstance(update_id, int):
                raise TypeError
        except (ValueError, KeyError, TypeError, RecursionError):
            metrics.WEBHOOK_REJECTS.labels("telegram", "malformed").inc()
            return web.json_response({"error": "malformed update"}, status=400)
        first = await self.redis.set(
            f"{TELEGRAM_DEDUP_PREFIX}{update_id}", b"1", nx=True, ex=self.ttl
        )
        if not first:
            metrics.UPDATES.labels("unknown", "duplicate").inc()
            return web.json_response({})
        task = asyncio.create_task(self._background_feed_update(bot=self.bot, update=update))
        self._background_feed_update_tasks.add(task)
        task.add_done_callback(self._background_feed_update_tasks.discard)
        return web.json_response({})


# Dispatchers that have the metrics middleware (a web app may be made twice for one App).
_observed: weakref.WeakSet[Dispatcher] = weakref.WeakSet()
