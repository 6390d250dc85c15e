"""One aiohttp application on one port: the Bot API emulator, the gov fake and the SMS fake.

/bot<token>/<method>, /file/bot<token>/<path>   Bot API (sandbox.telegram)
/sandbox/users/..., /sandbox/telegram/...       people's side and emulator controls
/gov/..., /sandbox/gov/...                      state systems (sandbox.gov)
/sms/..., /sandbox/sms/...                      SMS gateway (sandbox.sms)
"""

from __future__ import annotations

import logging
import socket
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from devtools.sandbox.gov import GOV, GovConfig
from devtools.sandbox.gov import add_routes as add_gov_routes
from devtools.sandbox.sms import SMS, SmsConfig
from devtools.sandbox.sms import add_routes as add_sms_routes
from devtools.sandbox.telegram import EMULATOR_KEY, TelegramConfig, TelegramEmulator
from devtools.sandbox.telegram import add_routes as add_telegram_routes

log = logging.getLogger(__name__)

SANDBOX_CONFIG = web.AppKey("sandbox_config", object)


@dataclass
class SandboxConfig:
    telegram: TelegramConfig = field(default_factory=TelegramConfig)
    # Base URL of the project's webhooks app; the fakes call back `<base>/callbacks/gov|sms`.
    callbacks_url: str | None = None
    gov_secret: str = "gov-secret"
    sms_secret: str = "sms-secret"
    gov_api_key: str = ""
    sms_api_key: str = ""
    auto_consent: bool = False


def make_sandbox_app(config: SandboxConfig | None = None) -> web.Application:
    config = config or SandboxConfig()
    app = web.Application(client_max_size=60 * 1024 * 1024)  # documents up to Telegram's 50 MB
    app[SANDBOX_CONFIG] = config
    add_telegram_routes(app, config.telegram)
    base = (config.callbacks_url or "").rstrip("/")
    add_gov_routes(
        app,
        GovConfig(
            callback_url=f"{base}/callbacks/gov" if base else None,
            secret=config.gov_secret,
            auto_consent=config.auto_consent,
            api_key=config.gov_api_key,
        ),
    )
    add_sms_routes(
        app,
        SmsConfig(
            callback_url=f"{base}/callbacks/sms" if base else None,
            secret=config.sms_secret,
            api_key=config.sms_api_key,
        ),
    )
    app.router.add_get("/sandbox/healthz", _healthz)
    return app


def set_callbacks_url(app: web.Application, base: str) -> None:
    """Point the fakes' callbacks at the webhooks app (known only once it listens)."""
    base = base.rstrip("/")
    if GOV in app:
        app[GOV].config.callback_url = f"{base}/callbacks/gov"
    if SMS in app:
        app[SMS].config.callback_url = f"{base}/callbacks/sms"


def emulator_of(app: web.Application) -> TelegramEmulator:
    return app[EMULATOR_KEY]


async def _healthz(request: web.Request) -> web.Response:
    return web.json_response({"ok": True})


def bind_socket(host: str = "127.0.0.1", port: int = 0) -> socket.socket:
    """A listening socket (port 0: a free one), so a server's URL is known before it starts."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(128)
    sock.setblocking(False)
    return sock


async def serve_app(
    app: web.Application, sock: socket.socket, **runner_kwargs: Any
) -> tuple[web.AppRunner, str]:
    runner = web.AppRunner(app, access_log=None, **runner_kwargs)
    await runner.setup()
    await web.SockSite(runner, sock).start()
    host, port = sock.getsockname()[:2]
    return runner, f"http://{host}:{port}"


async def start_sandbox(
    port: int = 0, host: str = "127.0.0.1", **config: Any
) -> tuple[web.AppRunner, str]:
    """Start the sandbox; `config` holds SandboxConfig fields (`telegram` may be a dict)."""
    telegram = config.pop("telegram", None)
    if isinstance(telegram, dict):
        telegram = TelegramConfig(**telegram)
    sandbox_config = SandboxConfig(telegram=telegram or TelegramConfig(), **config)
    return await serve_app(make_sandbox_app(sandbox_config), bind_socket(host, port))
