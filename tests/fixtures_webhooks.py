"""Fixtures of the webhooks area: the webhooks app and the gov/SMS fakes on free ports.

`callbacks_stack` runs `webhooks.app.make_web_app` for a small App (the real Redis and database
of the test session, a plain Dispatcher that records updates) and a sandbox app with the gov and
SMS fakes calling back into it, like `indigo serve` against `make demo`.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

import aiohttp
import pytest
from aiogram import Bot, Dispatcher, Router
from aiogram.types import Message
from aiohttp import web
from redis.asyncio import Redis

from core.platform.events import FAMILY_RESULT, EventBus
from core.platform.settings import Settings
from core.platform.signing import signed_headers
from core.registry.gov_client import HttpGovGateway
from core.registry.sms_client import HttpSmsGateway
from devtools.sandbox.gov import GovConfig, GovFake
from devtools.sandbox.gov import add_routes as add_gov_routes
from devtools.sandbox.sms import SmsConfig, SmsFake
from devtools.sandbox.sms import add_routes as add_sms_routes
from scripts.services import free_port
from webhooks.app import make_web_app


@dataclass
class CallbacksStack:
    settings: Settings
    app: Any
    web_url: str
    sandbox_url: str
    gov_fake: GovFake
    sms_fake: SmsFake
    gov: HttpGovGateway
    sms: HttpSmsGateway
    http: aiohttp.ClientSession
    family_results: list[dict[str, Any]] = field(default_factory=list)
    texts: list[str] = field(default_factory=list)

    async def post_signed(
        self,
        path: str,
        payload: dict[str, Any] | bytes,
        *,
        secret: str | None = None,
        timestamp: int | None = None,
        headers: dict[str, str] | None = None,
    ) -> tuple[int, dict[str, Any]]:
        body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        source = "gov" if "gov" in path else "sms"
        secret = secret or getattr(self.settings, f"{source}_callback_secret")[0]
        sent_headers = headers if headers is not None else signed_headers(secret, body, timestamp)
        async with self.http.post(self.web_url + path, data=body, headers=sent_headers) as resp:
            return resp.status, await resp.json(content_type=None)


async def eventually(
    check: Callable[[], Awaitable[Any]], *, within: float = 10.0, interval: float = 0.05
) -> Any:
    """Poll `check` until it returns something truthy (the effect runs after the answer)."""
    deadline = asyncio.get_running_loop().time() + within
    while True:
        value = await check()
        if value:
            return value
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("the expected effect did not happen")
        await asyncio.sleep(interval)


def _recording_dispatcher(texts: list[str]) -> Dispatcher:
    router = Router()

    @router.message()
    async def record(message: Message) -> None:
        texts.append(message.text or "")

    dispatcher = Dispatcher()
    dispatcher.include_router(router)
    return dispatcher


@contextlib.asynccontextmanager
async def run_callbacks_stack(
    settings: Settings, redis: Redis, **overrides: Any
) -> AsyncIterator[CallbacksStack]:
    web_port, sandbox_port = free_port(), free_port()
    web_url = f"http://127.0.0.1:{web_port}"
    sandbox_url = f"http://127.0.0.1:{sandbox_port}"
    settings = settings.model_copy(
        update={
            "gov_base_url": f"{sandbox_url}/gov",
            "sms_base_url": f"{sandbox_url}/sms",
            "gov_api_key": "gov-key",
            "sms_api_key": "sms-key",
            **overrides,
        }
    )
    texts: list[str] = []
    events = EventBus()
    gov, sms = HttpGovGateway(settings), HttpSmsGateway(settings)
    app = SimpleNamespace(
        settings=settings,
        redis=redis,
        bot=Bot(token=settings.bot_token or "1:x"),
        dispatcher=_recording_dispatcher(texts),
        events=events,
        gov=gov,
        sms=sms,
    )
    sandbox = web.Application()
    gov_fake = add_gov_routes(
        sandbox,
        GovConfig(
            callback_url=f"{web_url}/callbacks/gov",
            secret=settings.gov_callback_secret[0],
            api_key="gov-key",
        ),
    )
    sms_fake = add_sms_routes(
        sandbox,
        SmsConfig(
            callback_url=f"{web_url}/callbacks/sms",
            secret=settings.sms_callback_secret[0],
            api_key="sms-key",
        ),
    )
    runners = [web.AppRunner(make_web_app(app)), web.AppRunner(sandbox)]
    for runner, port in zip(runners, (web_port, sandbox_port), strict=True):
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", port).start()
    http = aiohttp.ClientSession()
    stack = CallbacksStack(
        settings=settings,
        app=app,
        web_url=web_url,
        sandbox_url=sandbox_url,
        gov_fake=gov_fake,
        sms_fake=sms_fake,
        gov=gov,
        sms=sms,
        http=http,
        texts=texts,
    )

    async def on_family(payload: dict[str, Any]) -> None:
        stack.family_results.append(payload)

    events.subscribe(FAMILY_RESULT, on_family)
    try:
        yield stack
    finally:
        await http.close()
        for runner in reversed(runners):
            await runner.cleanup()
        await gov.close()
        await sms.close()
        await app.bot.session.close()


@pytest.fixture(name="stack")
async def stack_fixture(
    settings: Settings, db: None, redis: Redis
) -> AsyncIterator[CallbacksStack]:
    async with run_callbacks_stack(settings, redis) as running:
        yield running
