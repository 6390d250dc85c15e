"""The webhooks application (`indigo serve`): Telegram webhook, provider callbacks, health, metrics.

Public listener (`settings.http_host`/`http_port`, `make_web_app`):
    POST /telegram/webhook   updates from Telegram (secret token header; de-duplicated by update_id)
    POST /callbacks/gov      state systems (signed; de-duplicated by event_id)
    POST /callbacks/sms      SMS gateway (signed; de-duplicated by event_id)
    GET  /healthz            the process is alive
    GET  /protocols/...      the public registers (webhooks.registers)
    GET  /public...          the public web page, kk and ru (webhooks.public_page)
    GET  /openapi.json       the contract of the above but Telegram's (docs/openapi.json)
Internal listener (`settings.http_internal_host`/`http_internal_port`, `make_internal_app`):
    GET  /healthz, /readyz (the database and Redis answer), /metrics (Prometheus)

Callbacks are verified, validated, stored in the inbox (`core.registry.inbox`) and answered at
once; the effect runs right after in a background task, and failed effects are retried by a loop.
Several processes may serve behind one load balancer: every de-duplication is shared (Redis and
the database's unique keys). Bodies, connections and idle time are bounded (`webhooks.bounds`).
The process lifecycle is `indigo.runners.serve`.
"""

from __future__ import annotations

from aiohttp import web

from core.platform.settings import Settings
from core.registry import inbox
from indigo.app import App
from webhooks.bounds import BoundedSite, body_middleware, quiet_peer_errors
from webhooks.callbacks import add_callback_routes
from webhooks.health import add_health_routes, add_internal_routes
from webhooks.ledger import add_ledger_routes
from webhooks.openapi import add_openapi_route
from webhooks.public_page import add_public_page_routes
from webhooks.registers import add_register_routes
from webhooks.telegram import WEBHOOK_PATH, add_telegram_routes, observe_updates

# Updates may be larger than a provider callback (limited to settings.max_body_bytes there).
MIN_CLIENT_MAX_SIZE = 1024 * 1024
# After an answer sent before the whole body (408, 413), the rest is drained this long so the
# peer can read the answer, then the connection closes (aiohttp's default is 10 s).
LINGER_SECONDS = 1.0


def make_web_app(app: App, *, telegram: bool = True) -> web.Application:
    """The public aiohttp application for this App; `telegram=False` when polling delivers
    updates."""
    settings = app.settings
    update_limit = max(settings.max_body_bytes, MIN_CLIENT_MAX_SIZE)

    def body_limit(request: web.Request) -> int:
        return update_limit if request.path == WEBHOOK_PATH else settings.max_body_bytes

    quiet_peer_errors()
    web_app = web.Application(
        client_max_size=update_limit,
        middlewares=[body_middleware(settings.http_body_timeout_seconds, body_limit)],
    )
    observe_updates(app.dispatcher)
    if telegram:
        add_telegram_routes(web_app, app.dispatcher, app.bot, app.redis, settings)
    ctx = inbox.InboxContext(settings=settings, events=app.events, gov=app.gov, redis=app.redis)
    add_callback_routes(web_app, ctx, app.redis)
    add_health_routes(web_app)
    add_register_routes(web_app, settings)
    add_ledger_routes(web_app, settings)
    add_public_page_routes(web_app, settings)
    add_openapi_route(web_app)
    return web_app


def make_internal_app(app: App) -> web.Application:
    """Readiness and metrics, for the operator's network only."""
    web_app = web.Application()
    add_internal_routes(web_app, app.redis)
    return web_app


async def start_web(
    app: App, *, telegram: bool = True, reuse_port: bool = False
) -> list[web.AppRunner]:
    """Both listeners started (the public one bounded); clean the runners up in reverse.
    `reuse_port`: several processes listen on the same ports (`indigo serve --workers N`)."""
    settings = app.settings
    public = web.AppRunner(
        make_web_app(app, telegram=telegram),
        access_log=None,
        keepalive_timeout=settings.http_idle_timeout_seconds,
        lingering_time=LINGER_SECONDS,
    )
    internal = web.AppRunner(make_internal_app(app), access_log=None)
    runners: list[web.AppRunner] = []
    try:
        await public.setup()
        runners.append(public)
        await BoundedSite(
            public,
            settings.http_host,
            settings.http_port,
            max_connections=settings.http_max_connections,
            reuse_port=reuse_port,
        ).start()
        await internal.setup()
        runners.append(internal)
        host, port = settings.http_internal_host, settings.http_internal_port
        await web.TCPSite(internal, host, port, reuse_port=reuse_port).start()
    except BaseException:
        await stop_web(runners)
        raise
    return runners


async def stop_web(runners: list[web.AppRunner]) -> None:
    for runner in reversed(runners):
        await runner.cleanup()


def listening(settings: Settings) -> str:
    return (
        f"http://{settings.http_host}:{settings.http_port} "
        f"(internal http://{settings.http_internal_host}:{settings.http_internal_port})"
    )
