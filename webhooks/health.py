"""Health, readiness and Prometheus metrics of a web process.

/healthz is public (a load balancer's probe); /readyz and /metrics are served only by the
internal app (`settings.http_internal_host`/`http_internal_port`), never beside the callbacks.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from aiohttp import web
from redis.asyncio import Redis
from tortoise.connection import get_connection

from core.platform import metrics

log = logging.getLogger(__name__)

CHECK_TIMEOUT_SECONDS = 2.0


def add_health_routes(web_app: web.Application) -> None:
    """GET /healthz: the process is alive (public)."""
    web_app.router.add_get("/healthz", healthz)


def add_internal_routes(web_app: web.Application, redis: Redis) -> None:
    """GET /healthz, /readyz (the database and Redis answer), /metrics: the internal app."""

    async def readyz(request: web.Request) -> web.Response:
        checks: dict[str, str] = {}
        try:
            await asyncio.wait_for(
                get_connection("default").execute_query("SELECT 1"), CHECK_TIMEOUT_SECONDS
            )
            checks["database"] = "ok"
        except Exception as exc:
            checks["database"] = _failed("database", exc)
        try:
            await asyncio.wait_for(_ping(redis), CHECK_TIMEOUT_SECONDS)
            checks["redis"] = "ok"
        except Exception as exc:
            checks["redis"] = _failed("redis", exc)
        ready = all(value == "ok" for value in checks.values())
        return web.json_response(
            {"status": "ready" if ready else "unavailable", **checks}, status=200 if ready else 503
        )

    web_app.router.add_get("/healthz", healthz)
    web_app.router.add_get("/readyz", readyz)
    web_app.router.add_get("/metrics", metrics_view)


def _failed(dependency: str, exc: Exception) -> str:
    # The cause goes to the log, not to whoever asks.
    log.warning("readiness: %s does not answer: %s", dependency, type(exc).__name__)
    return "unavailable"


async def healthz(request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


async def metrics_view(request: web.Request) -> web.Response:
    with contextlib.suppress(Exception):  # a scrape must work even when the database does not
        await metrics.refresh_gauges()
    return web.Response(body=metrics.render(), headers={"Content-Type": metrics.CONTENT_TYPE})


async def _ping(redis: Redis) -> None:
    # redis-py types ping() as `Awaitable[bool] | bool` (one class for sync and async clients).
    await redis.ping()  # type: ignore[misc]
