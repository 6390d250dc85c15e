"""The webhooks application (`indigo serve`): Telegram webhook, provider callbacks, health, metrics.

    POST /telegram/webhook   updates from Telegram (secret token header; de-duplicated by update_id)
    POST /callbacks/gov      state systems (signed; de-duplicated by event_id)
    POST /callbacks/sms      SMS gateway (signed; de-duplicated by event_id)
    GET  /healthz            the process is alive
    GET  /readyz             the database and Redis answer
    GET  /metrics            Prometheus
    GET  /protocols/...      the public registers (webhooks.registers)

Callbacks are verified, validated, stored in the inbox (`core.registry.inbox`) and answered at
once; the effect runs right after in a background task, and failed effects are retried by a loop.
Several processes may serve behind one load balancer: every de-duplication is shared (Redis and
the database's unique keys). The process lifecycle is `indigo.runners.serve`.
"""

from __future__ import annotations

from aiohttp import web

from core.registry import inbox
from indigo.app import App
from webhooks.callbacks import add_callback_routes
from webhooks.health import add_health_routes
from webhooks.registers import add_register_routes
from webhooks.telegram import add_telegram_routes, observe_updates

# Updates may be larger than a provider callback (limited to settings.max_body_bytes there).
MIN_CLIENT_MAX_SIZE = 1024 * 1024


def make_web_app(app: App, *, telegram: bool = True) -> web.Application:
    """The aiohttp application for this App; `telegram=False` when polling delivers updates."""
    settings = app.settings
    web_app = web.Application(client_max_size=max(settings.max_body_bytes, MIN_CLIENT_MAX_SIZE))
    observe_updates(app.dispatcher)
    if telegram:
        add_telegram_routes(web_app, app.dispatcher, app.bot, app.redis, settings)
    ctx = inbox.InboxContext(settings=settings, events=app.events, gov=app.gov, redis=app.redis)
    add_callback_routes(web_app, ctx, app.redis)
    add_health_routes(web_app, app.redis)
    add_register_routes(web_app, settings)
    return web_app
