"""Two `indigo serve` processes behind a load balancer share PostgreSQL and Redis.

The test starts the sandbox (Bot API emulator, fakes), a round-robin balancer in front of the
two workers' Telegram webhooks, and both workers as real subprocesses.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import subprocess
import sys
from collections.abc import AsyncIterator
from datetime import date
from itertools import cycle
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web

from core.models import InboxEvent, Person
from core.platform.settings import Settings
from core.platform.signing import signed_headers
from devtools.client import E2EClient
from devtools.sandbox.gov.personas import AIGERIM
from devtools.sandbox.server import start_sandbox
from scripts.services import free_port
from tests.fixtures.webhooks import eventually

pytestmark = [pytest.mark.slow, pytest.mark.e2e]

ROOT = Path(__file__).resolve().parents[2]


class Balancer:
    """Round-robin over the workers' /telegram/webhook, as a load balancer would."""

    def __init__(self, targets: list[str]) -> None:
        self.targets = cycle(targets)
        self.hits: dict[str, int] = dict.fromkeys(targets, 0)
        self.session: aiohttp.ClientSession | None = None

    async def forward(self, request: web.Request) -> web.Response:
        target = next(self.targets)
        self.hits[target] += 1
        assert self.session is not None
        headers = {
            k: v
            for k, v in request.headers.items()
            if k.lower() in ("content-type", "x-telegram-bot-api-secret-token")
        }
        async with self.session.post(
            target + "/telegram/webhook", data=await request.read(), headers=headers
        ) as resp:
            return web.Response(status=resp.status, body=await resp.read())


@contextlib.asynccontextmanager
async def workers(
    settings: Settings, count: int = 2
) -> AsyncIterator[tuple[str, list[str], Balancer]]:
    sandbox_runner, sandbox_url = await start_sandbox(
        gov_secret="gov-secret", sms_secret="sms-secret"
    )
    ports = [free_port() for _ in range(count)]
    internal_ports = [free_port() for _ in range(count)]  # /readyz is served there only
    urls = [f"http://127.0.0.1:{port}" for port in ports]
    balancer = Balancer(urls)
    balancer.session = aiohttp.ClientSession()
    lb_app = web.Application()
    lb_app.router.add_post("/telegram/webhook", balancer.forward)
    lb_runner = web.AppRunner(lb_app)
    await lb_runner.setup()
    lb_port = free_port()
    await web.TCPSite(lb_runner, "127.0.0.1", lb_port).start()
    processes = []
    for port, internal_port in zip(ports, internal_ports, strict=True):
        env = {
            **os.environ,
            "DATABASE_URL": settings.database_url,
            "REDIS_URL": settings.redis_url or "",
            "HTTP_PORT": str(port),
            "HTTP_INTERNAL_PORT": str(internal_port),
            "BOT_TOKEN": settings.bot_token or "",
            "TELEGRAM_API_URL": sandbox_url,
            "TELEGRAM_WEBHOOK_URL": f"http://127.0.0.1:{lb_port}/telegram/webhook",
            "TELEGRAM_WEBHOOK_SECRET": "tg-secret",
            "GOV_CALLBACK_SECRET": "gov-secret",
            "SMS_CALLBACK_SECRET": "sms-secret",
            "GOV_BASE_URL": f"{sandbox_url}/gov",
            "SMS_BASE_URL": f"{sandbox_url}/sms",
            "OTP_SECRET": "test-otp-secret",
        }
        processes.append(
            subprocess.Popen(  # noqa: ASYNC220 (returns at once)
                [sys.executable, "-m", "indigo.cli", "serve"],
                cwd=ROOT,
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
            )
        )
    try:
        async with aiohttp.ClientSession() as http:
            internal_urls = [f"http://127.0.0.1:{port}" for port in internal_ports]
            for url, process in zip(internal_urls, processes, strict=True):

                async def ready(url: str = url, process: subprocess.Popen = process) -> bool:
                    if process.poll() is not None:
                        raise AssertionError(process.stderr.read().decode()[-3000:])
                    with contextlib.suppress(aiohttp.ClientError):
                        async with http.get(url + "/readyz") as resp:
                            return resp.status == 200
                    return False

                await eventually(ready, within=60, interval=0.2)
        yield sandbox_url, urls, balancer
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            try:
                await asyncio.to_thread(process.wait, 15)
            except subprocess.TimeoutExpired:
                process.kill()
        await balancer.session.close()
        await lb_runner.cleanup()
        await sandbox_runner.cleanup()


async def test_two_workers_process_a_callback_once_and_keep_a_double_tap_consistent(
    settings: Settings, db: None, redis: object
) -> None:
    person = await Person.create(
        iin=AIGERIM.iin, last_name="Old", first_name="Айгерим", birth_date=date(1990, 4, 12)
    )
    async with workers(settings) as (sandbox_url, urls, balancer):
        # The same signed callback delivered to both workers at once: one effect.
        payload = {
            "event_id": "twice",
            "type": "person.updated",
            "iin": AIGERIM.iin,
            "last_name": "Сейткали",
        }
        body = json.dumps(payload).encode()
        async with aiohttp.ClientSession() as http:

            async def post(url: str) -> str:
                async with http.post(
                    url + "/callbacks/gov", data=body, headers=signed_headers("gov-secret", body)
                ) as resp:
                    assert resp.status == 200
                    return (await resp.json())["status"]

            answers = await asyncio.gather(*(post(url) for url in urls))
        assert sorted(answers) == ["accepted", "duplicate"]

        async def renamed() -> bool:
            await person.refresh_from_db()
            return person.last_name == "Сейткали"

        await eventually(renamed)
        assert await InboxEvent.filter(event_id="twice").count() == 1
        assert (await InboxEvent.get(event_id="twice")).attempts == 1

        # A parent's quick double-tap, the two updates landing on different workers.
        async with E2EClient(sandbox_url, 720001, language_code="en", first_name="A") as parent:
            await parent.send("/start")
            question = await parent.expect("Выберите язык")
            button = question.button("Русский язык")
            await asyncio.gather(
                parent.press(callback_data=button["callback_data"], message_id=question.message_id),
                parent.press(callback_data=button["callback_data"], message_id=question.message_id),
            )
            await parent.expect("Язык интерфейса: русский.")
            await parent.send("/start")
            again = await parent.expect("Выберите действие в меню ниже.")
            assert again.reply_keyboard is not None
            assert again.reply_keyboard[0] == ["Встать в очередь", "Проверить очередь"]
        assert all(hits >= 2 for hits in balancer.hits.values())  # both workers took updates
