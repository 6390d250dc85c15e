"""Provider callbacks (gov, SMS): verified, validated, stored in the inbox, answered at once.

The effect runs right after the answer in a background task (`core.registry.inbox.process`);
failed effects are retried by a loop that lives as long as the web app.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

from aiohttp import web
from pydantic import ValidationError
from redis.asyncio import Redis

from core.platform import metrics
from core.platform.signing import verify
from core.registry import inbox
from webhooks.bounds import body_of
from webhooks.models import MODELS

log = logging.getLogger(__name__)

CALLBACK_DEDUP_PREFIX = "dedup:cb:"
SHUTDOWN_GRACE_SECONDS = 2.0  # effects that are running at shut-down get this long to finish
TASKS_KEY: web.AppKey[set[asyncio.Task[bool]]] = web.AppKey("indigo_callback_tasks")

View = Callable[[web.Request], Awaitable[web.Response]]


def add_callback_routes(web_app: web.Application, ctx: inbox.InboxContext, redis: Redis) -> None:
    """POST /callbacks/gov and /callbacks/sms, plus the inbox retry loop for the app's life."""
    web_app[TASKS_KEY] = set()
    web_app.router.add_post("/callbacks/gov", _callback_view("gov", ctx, redis))
    web_app.router.add_post("/callbacks/sms", _callback_view("sms", ctx, redis))
    retry: list[asyncio.Task[None]] = []

    async def start_retry_loop(web_app: web.Application) -> None:
        retry.append(asyncio.get_running_loop().create_task(inbox.retry_loop(ctx)))

    async def stop_tasks(web_app: web.Application) -> None:
        for loop in retry:
            loop.cancel()
        await asyncio.gather(*retry, return_exceptions=True)
        running: set[asyncio.Task[bool]] = web_app[TASKS_KEY]
        if running:  # let effects that are running finish briefly; the retry loop is cancelled
            _, pending = await asyncio.wait(set(running), timeout=SHUTDOWN_GRACE_SECONDS)
            for effect in pending:
                effect.cancel()
            await asyncio.gather(*pending, return_exceptions=True)

    web_app.on_startup.append(start_retry_loop)
    web_app.on_shutdown.append(stop_tasks)


def _callback_view(source: str, ctx: inbox.InboxContext, redis: Redis) -> View:
    models = MODELS[source]
    settings = ctx.settings
    warned: list[bool] = []

    async def view(request: web.Request) -> web.Response:
        body = body_of(request)  # read whole, bounded in size and time (webhooks.bounds)
        secret_list: list[str] = getattr(settings, f"{source}_callback_secret")
        if not secret_list and not warned:  # once per process, not once per request
            warned.append(True)
            log.error("%s callbacks arrive but no secret is configured: all refused", source)
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
            data = json.loads(body, parse_constant=_no_constant)
        except (ValueError, RecursionError):
            return _reject(source, 400, "malformed_json")
        if not isinstance(data, dict):
            return _reject(source, 400, "not_an_object")
        if _has_nul(data):  # the database stores no NUL character: refuse, not a 503
            return _reject(
                source, 400, "invalid", problems=[{"field": "body", "problem": "NUL character"}]
            )
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
        if not await redis.set(key, b"1", nx=True, ex=settings.dedup_ttl_seconds):
            metrics.CALLBACKS.labels(source, kind, "duplicate").inc()
            return web.json_response({"status": "duplicate"})
        try:
            status, event = await inbox.store(source, data)
        except Exception:
            await redis.delete(key)  # not stored: the provider's retry must get through
            log.exception("%s callback could not be stored", source)
            return web.json_response({"error": "unavailable"}, status=503)
        metrics.CALLBACKS.labels(source, kind, status).inc()
        if event is not None:
            _spawn(request.app, inbox.process(event.id, ctx))
        return web.json_response({"status": status})

    return view


def _reject(source: str, status: int, reason: str, **extra: Any) -> web.Response:
    # Counted by reason; a flood of forgeries must not become a flood of log lines.
    metrics.WEBHOOK_REJECTS.labels(source, reason).inc()
    log.debug("%s callback rejected: %s", source, reason)
    return web.json_response({"error": reason, **extra}, status=status)


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")  # NaN and Infinity: Python accepts them, JSON not


def _has_nul(data: Any) -> bool:
    pending = [data]  # iterative: a body may nest as deep as the JSON parser allows
    while pending:
        value = pending.pop()
        if isinstance(value, str) and "\x00" in value:
            return True
        if isinstance(value, dict):
            pending.extend(value.keys())
            pending.extend(value.values())
        elif isinstance(value, list):
            pending.extend(value)
    return False


def _problems(exc: ValidationError) -> list[dict[str, str]]:
    """Field paths and messages only: never the input values (they may be personal data)."""
    return [
        {"field": ".".join(str(p) for p in err["loc"]) or "body", "problem": err["msg"]}
        for err in exc.errors(include_input=False, include_url=False)
    ]


def _spawn(web_app: web.Application, coro: Coroutine[Any, Any, bool]) -> asyncio.Task[bool]:
    task = asyncio.get_running_loop().create_task(coro)
    tasks = web_app[TASKS_KEY]
    tasks.add(task)
    task.add_done_callback(tasks.discard)
    return task
