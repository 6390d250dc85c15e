"""The webhooks application (`indigo serve`): Telegram webhook, provider callbacks, health, metrics.

    POST /telegram/webhook   updates from Telegram (secret token header; de-duplicated by update_id)
    POST /callbacks/gov      state systems (signed; de-duplicated by event_id)
    POST /callbacks/sms      SMS gateway (signed; de-duplicated by event_id)
    GET  /healthz            the process is alive
    GET  /readyz             the database and Redis answer
    GET  /metrics            Prometheus

Callbacks are verified, validated, stored in the inbox (`core.inbox`) and answered at once; the
effect runs right after in a background task, and failed effects are retried by a loop.
Several processes may serve behind one load balancer: every de-duplication is shared (Redis and
the database's unique keys).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import secrets
import signal
import time
from typing import TYPE_CHECKING, Any

from aiogram import Bot, Dispatcher
from aiogram.webhook.aiohttp_server import SimpleRequestHandler, setup_application
from aiohttp import web
from pydantic import ValidationError
from tortoise.connection import get_connection

from core.platform import metrics
from core.platform.signing import verify
from core.registry import inbox
from webhooks.models import MODELS

if TYPE_CHECKING:
    from core.platform.settings import Settings
    from indigo.app import App

log = logging.getLogger(__name__)

APP_KEY: web.AppKey[Any] = web.AppKey("indigo_app", object)
TASKS_KEY: web.AppKey[set[asyncio.Task[Any]]] = web.AppKey("indigo_tasks", set)
TELEGRAM_DEDUP_PREFIX = "dedup:tg:"
CALLBACK_DEDUP_PREFIX = "dedup:cb:"


def make_web_app(app: App, *, telegram: bool = True) -> web.Application:
    """The aiohttp application for this App; `telegram=False` when polling delivers updates."""
    settings = app.settings
    # Callback bodies are limited by settings.max_body_bytes below; updates may be larger.
    web_app = web.Application(client_max_size=max(settings.max_body_bytes, 1024 * 1024))
    web_app[APP_KEY] = app
    web_app[TASKS_KEY] = set()
    ctx = inbox.InboxContext(events=app.events, gov=app.gov, settings=settings, redis=app.redis)
    _observe_updates(app.dispatcher)

    if telegram:
        handler = DedupRequestHandler(
            dispatcher=app.dispatcher,
            bot=app.bot,
            redis=app.redis,
            secret_tokens=settings.telegram_webhook_secret,
            ttl=settings.dedup_ttl_seconds,
        )
        handler.register(web_app, path="/telegram/webhook")
        setup_application(web_app, app.dispatcher, bot=app.bot)

    web_app.router.add_post("/callbacks/gov", _callback_view("gov", ctx))
    web_app.router.add_post("/callbacks/sms", _callback_view("sms", ctx))
    web_app.router.add_get("/healthz", healthz)
    web_app.router.add_get("/readyz", readyz)
    web_app.router.add_get("/metrics", metrics_view)
    from webhooks.protocols import add_protocol_routes  # public protocols (notify-staff)

    add_protocol_routes(web_app)

    retry: list[asyncio.Task[None]] = []

    async def start_retry_loop(web_app: web.Application) -> None:
        retry.append(asyncio.get_running_loop().create_task(inbox.retry_loop(ctx)))

    async def stop_tasks(web_app: web.Application) -> None:
        for task in retry:
            task.cancel()
        await asyncio.gather(*retry, return_exceptions=True)
        tasks = list(web_app[TASKS_KEY])
        if tasks:  # let effects that are running finish briefly; the retry loop is cancelled
            _, pending = await asyncio.wait(tasks, timeout=2)
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)

    web_app.on_startup.append(start_retry_loop)
    web_app.on_shutdown.append(stop_tasks)
    return web_app


async def serve(settings: Settings) -> None:
    """`indigo serve`: the bot in webhook mode plus every callback, until SIGTERM/SIGINT."""
    from indigo.app import build_app, close_app

    app = await build_app(settings)
    runner = web.AppRunner(make_web_app(app), access_log=None)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    try:
        await runner.setup()
        await web.TCPSite(runner, settings.http_host, settings.http_port).start()
        log.info("serving on http://%s:%s", settings.http_host, settings.http_port)
        await register_webhook(app)
        await stop.wait()
    finally:
        with contextlib.suppress(Exception):
            await runner.cleanup()
        await close_app(app)


async def register_webhook(app: App) -> bool:
    """setWebhook from configuration (URL, secret token, allowed updates, max connections)."""
    settings = app.settings
    if not settings.telegram_webhook_url:
        log.warning("TELEGRAM_WEBHOOK_URL is not set: the webhook is not registered")
        return False
    secret = settings.telegram_webhook_secret[0] if settings.telegram_webhook_secret else None
    await app.bot.set_webhook(
        url=settings.telegram_webhook_url,
        secret_token=secret,
        allowed_updates=app.dispatcher.resolve_used_update_types(),
        max_connections=settings.telegram_max_connections,
        drop_pending_updates=False,
    )
    log.info("webhook registered")
    return True


# -- Telegram --------------------------------------------------------------------------------


class DedupRequestHandler(SimpleRequestHandler):
    """aiogram's handler plus: any of the configured secret tokens (rotation) and update_id
    de-duplication in Redis (SET NX with a TTL), shared by every process."""

    def __init__(
        self,
        dispatcher: Dispatcher,
        bot: Bot,
        *,
        redis: Any,
        secret_tokens: list[str],
        ttl: int,
        **data: Any,
    ) -> None:
        super().__init__(dispatcher=dispatcher, bot=bot, handle_in_background=True, **data)
        self.secret_tokens = list(secret_tokens)
        self.redis = redis
        self.ttl = ttl

    def verify_secret(self, telegram_secret_token: str, bot: Bot) -> bool:
        if not self.secret_tokens:
            return True
        valid = False
        for token in self.secret_tokens:
            valid |= secrets.compare_digest(telegram_secret_token.encode(), token.encode())
        return valid

    async def close(self) -> None:
        pass  # the composition root closes the bot session

    async def handle(self, request: web.Request) -> web.Response:
        if not self.verify_secret(
            request.headers.get("X-Telegram-Bot-Api-Secret-Token", ""), self.bot
        ):
            metrics.WEBHOOK_REJECTS.labels("telegram", "secret").inc()
            return web.json_response({"error": "secret"}, status=401)
        try:
            update = json.loads(await request.read())
            update_id = update["update_id"]
            if not isinstance(update_id, int):
                raise TypeError
        except (ValueError, KeyError, TypeError):
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


def _observe_updates(dispatcher: Dispatcher) -> None:
    """Count updates and time their handling (once per dispatcher; polling mode too)."""
    if getattr(dispatcher, "_indigo_metrics", False):
        return
    dispatcher._indigo_metrics = True  # type: ignore[attr-defined]

    async def observe(handler: Any, event: Any, data: dict[str, Any]) -> Any:
        kind = getattr(event, "event_type", "unknown")
        started = time.perf_counter()
        result = "error"
        try:
            outcome = await handler(event, data)
            result = "unhandled" if outcome is _unhandled() else "handled"
            return outcome
        finally:
            metrics.HANDLER_LATENCY.labels(kind).observe(time.perf_counter() - started)
            metrics.UPDATES.labels(kind, result).inc()

    dispatcher.update.outer_middleware(observe)


def _unhandled() -> Any:
    from aiogram.dispatcher.event.bases import UNHANDLED

    return UNHANDLED


# -- provider callbacks ----------------------------------------------------------------------


def _reject(source: str, status: int, reason: str, **extra: Any) -> web.Response:
    metrics.WEBHOOK_REJECTS.labels(source, reason).inc()
    log.info("%s callback rejected: %s", source, reason)
    return web.json_response({"error": reason, **extra}, status=status)


async def _read_limited(request: web.Request, limit: int) -> bytes | None:
    """The body, or None when it is larger than `limit` bytes (nothing more is read)."""
    if request.content_length is not None and request.content_length > limit:
        return None
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.content.iter_chunked(16 * 1024):
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


def _problems(exc: ValidationError) -> list[dict[str, str]]:
    """Field paths and messages only: never the input values (they may be personal data)."""
    return [
        {"field": ".".join(str(p) for p in err["loc"]) or "body", "problem": err["msg"]}
        for err in exc.errors(include_input=False, include_url=False)
    ]


def _callback_view(source: str, ctx: inbox.InboxContext) -> Any:
    models = MODELS[source]

    async def view(request: web.Request) -> web.Response:
        app: App = request.app[APP_KEY]
        settings = app.settings
        body = await _read_limited(request, settings.max_body_bytes)
        if body is None:
            return _reject(source, 413, "too_large", limit=settings.max_body_bytes)
        secret_list = getattr(settings, f"{source}_callback_secret")
        if not secret_list:
            log.error("%s callbacks arrive but no secret is configured", source)
        reason = verify(
            secret_list,
            request.headers.get("X-Timestamp"),
            request.headers.get("X-Signature"),
            body,
            window_seconds=settings.callback_window_seconds,
        )
        if reason is not None or not secret_list:
            return _reject(source, 401, reason or "signature")
        try:
            data = json.loads(body)
        except ValueError:
            return _reject(source, 400, "malformed_json")
        if not isinstance(data, dict):
            return _reject(source, 400, "not_an_object")
        kind = data.get("type")
        if not isinstance(kind, str) or not kind:
            return _reject(
                source, 400, "invalid", problems=[{"field": "type", "problem": "required"}]
            )
        model = models.get(kind)
        if model is None:
            return _reject(source, 400, "unknown_type", type=kind[:64])
        try:
            model.model_validate_json(body)
        except ValidationError as exc:
            return _reject(source, 400, "invalid", problems=_problems(exc))

        event_id = str(data["event_id"])
        key = f"{CALLBACK_DEDUP_PREFIX}{source}:{event_id}"
        if not await app.redis.set(key, b"1", nx=True, ex=settings.dedup_ttl_seconds):
            metrics.CALLBACKS.labels(source, kind, "duplicate").inc()
            return web.json_response({"status": "duplicate"})
        try:
            status, event = await inbox.store(source, data)
        except Exception:
            await app.redis.delete(key)  # not stored: the provider's retry must get through
            log.exception("%s callback could not be stored", source)
            return web.json_response({"error": "unavailable"}, status=503)
        metrics.CALLBACKS.labels(source, kind, status).inc()
        if event is not None:
            _spawn(request.app, inbox.process(event.id, ctx))
        return web.json_response({"status": status})

    return view


def _spawn(web_app: web.Application, coro: Any) -> asyncio.Task[Any]:
    task = asyncio.get_running_loop().create_task(coro)
    tasks = web_app[TASKS_KEY]
    tasks.add(task)
    task.add_done_callback(tasks.discard)
    return task


# -- health and metrics ----------------------------------------------------------------------


async def healthz(request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


async def readyz(request: web.Request) -> web.Response:
    app: App = request.app[APP_KEY]
    checks: dict[str, str] = {}
    try:
        await asyncio.wait_for(get_connection("default").execute_query("SELECT 1"), 2)
        checks["database"] = "ok"
    except Exception as exc:
        checks["database"] = type(exc).__name__
    try:
        await asyncio.wait_for(app.redis.ping(), 2)
        checks["redis"] = "ok"
    except Exception as exc:
        checks["redis"] = type(exc).__name__
    ready = all(value == "ok" for value in checks.values())
    return web.json_response(
        {"status": "ready" if ready else "unavailable", **checks}, status=200 if ready else 503
    )


async def metrics_view(request: web.Request) -> web.Response:
    with contextlib.suppress(Exception):  # a scrape must work even when the database does not
        await metrics.refresh_gauges()
    return web.Response(body=metrics.render(), headers={"Content-Type": metrics.CONTENT_TYPE})
