"""`indigo serve --workers N` over HTTP: the same load on 1 and on 2 worker processes.

The load goes through the real webhook route (`POST /telegram/webhook` with the secret token
header, update_id de-duplication in Redis, the handling in the background as in production)
of processes started as `indigo serve --workers N` starts them (`indigo.runners.serve
.start_workers`), sharing one PostgreSQL and one Redis. Their Bot API is a small fake server in
this process that answers every method at once and tells which chat each request was for.

Simulated parents (32 at once), each in turn: /start, the language button, "Check the queue" +
a child's IIN, "Kindergartens" + a search, /start. An update counts as answered when the first
Bot API request for its chat arrives; the next update of that parent is sent then.

Figures: `updates_per_s_1`, `updates_per_s_2`, `scaling_2_vs_1` (their ratio; target ≥ 1.7 on
2 cores), `p50_ms`/`p99_ms` per update (POST to the first reply) for each, `unanswered`.
This process (the load and the fake Bot API) shares the machine's cores with the workers,
PostgreSQL and Redis: on a 2-core machine the ratio is bounded well below 2.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import random
import socket
import time
from collections import defaultdict
from typing import Any

import aiohttp
import redis.asyncio as aioredis
from aiohttp import web

from bench.common import BenchContext, Result, main_for, percentiles
from bench.data import populate_city
from bot.i18n import make_i18n
from core.platform.db import close_db
from core.queue.index import PositionIndex
from indigo.runners.serve import start_workers, stop_workers
from webhooks.telegram import WEBHOOK_PATH

SECRET = "bench-webhook-secret"
_ids = itertools.count(1_000)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class FakeBotApi:
    """Answers every Bot API method; per chat, a queue of the methods called for it."""

    def __init__(self) -> None:
        self.chats: dict[int, asyncio.Queue[str]] = defaultdict(asyncio.Queue)
        self.requests = 0
        self.runner: web.AppRunner | None = None
        self.port = _free_port()

    async def start(self) -> str:
        app = web.Application()
        app.router.add_post("/bot{token}/{method}", self.handle)
        self.runner = web.AppRunner(app, access_log=None)
        await self.runner.setup()
        await web.TCPSite(self.runner, "127.0.0.1", self.port).start()
        return f"http://127.0.0.1:{self.port}"

    async def stop(self) -> None:
        if self.runner is not None:
            await self.runner.cleanup()

    async def handle(self, request: web.Request) -> web.Response:
        self.requests += 1
        method = request.match_info["method"]
        form = await request.post()
        chat = form.get("chat_id")
        result: Any = True
        if isinstance(chat, str) and chat.lstrip("-").isdigit():
            chat_id = int(chat)
            self.chats[chat_id].put_nowait(method)
            if method.startswith(("send", "edit", "copy")):
                message_id = form.get("message_id")
                result = {
                    "message_id": int(str(message_id)) if message_id else next(_ids),
                    "date": int(time.time()),
                    "chat": {"id": chat_id, "type": "private"},
                    "text": "",
                }
        return web.json_response({"ok": True, "result": result})


class Parent:
    def __init__(self, http: aiohttp.ClientSession, url: str, api: FakeBotApi, user_id: int):
        self.http, self.url, self.api = http, url, api
        self.user_id = user_id
        self.user = {"id": user_id, "is_bot": False, "first_name": "Parent", "language_code": "ru"}
        self.chat = {"id": user_id, "type": "private"}
        self.latencies: list[float] = []
        self.unanswered = 0

    def _message(self, text: str) -> dict[str, Any]:
        message: dict[str, Any] = {
            "message_id": next(_ids),
            "date": int(time.time()),
            "chat": self.chat,
            "from": self.user,
            "text": text,
        }
        if text.startswith("/"):
            message["entities"] = [
                {"type": "bot_command", "offset": 0, "length": len(text.split()[0])}
            ]
        return message

    async def _post(self, update: dict[str, Any]) -> None:
        replies = self.api.chats[self.user_id]
        while not replies.empty():  # late replies of the previous update
            replies.get_nowait()
        started = time.perf_counter()
        async with self.http.post(
            self.url,
            json={"update_id": next(_ids), **update},
            headers={"X-Telegram-Bot-Api-Secret-Token": SECRET},
        ) as response:
            response.raise_for_status()
        try:
            await asyncio.wait_for(replies.get(), timeout=10)
        except TimeoutError:
            self.unanswered += 1
            return
        self.latencies.append((time.perf_counter() - started) * 1000)

    async def send(self, text: str) -> None:
        await self._post({"message": self._message(text)})

    async def press(self, data: str) -> None:
        callback = {
            "id": str(next(_ids)),
            "from": self.user,
            "chat_instance": "ci",
            "data": data,
            "message": self._message("…"),
        }
        await self._post({"callback_query": callback})


async def _wait_ready(http: aiohttp.ClientSession, base: str) -> None:
    deadline = time.monotonic() + 600  # spawned workers import everything (slow under load)
    while time.monotonic() < deadline:
        try:
            async with http.get(f"{base}/healthz") as response:
                if response.status == 200:
                    return
        except aiohttp.ClientError:
            pass
        await asyncio.sleep(0.2)
    raise RuntimeError("the workers did not start")


async def _run_workers(
    ctx: BenchContext,
    database: str,
    workers: int,
    parents: int,
    concurrency: int,
    iins: list[str],
    first_user: int,
) -> dict[str, Any]:
    api = FakeBotApi()
    api_url = await api.start()
    port = _free_port()
    settings = ctx.settings(
        database,
        pool=10,
        telegram_api_url=api_url,
        telegram_webhook_secret=[SECRET],
        http_port=port,
        http_internal_port=_free_port(),
    )
    processes = start_workers(settings, workers)
    i18n = make_i18n()
    rng = random.Random(workers)
    base = f"http://127.0.0.1:{port}"
    url = base + WEBHOOK_PATH
    try:
        connector = aiohttp.TCPConnector(limit=concurrency * 2, force_close=False)
        async with aiohttp.ClientSession(connector=connector) as http:
            await _wait_ready(http, base)

            async def flow(n: int) -> Parent:
                parent = Parent(http, url, api, first_user + n)
                await parent.send("/start")
                await parent.press("lang:ru")
                await parent.send(str(i18n.gettext("Check the queue", locale="ru")))
                await parent.send(rng.choice(iins))
                await parent.send(str(i18n.gettext("Kindergartens", locale="ru")))
                await parent.send(f"№{rng.randrange(1, 13)}")
                await parent.send("/start")
                return parent

            gate = asyncio.Semaphore(concurrency)

            async def one(n: int) -> Parent:
                async with gate:
                    return await flow(n)

            # Warm-up (every worker's imports, pools, prepared statements), then the run.
            await asyncio.gather(*(one(n) for n in range(concurrency * 2)))
            started = time.perf_counter()
            done = await asyncio.gather(*(one(n) for n in range(1_000, 1_000 + parents)))
            elapsed = time.perf_counter() - started
            # Let the last updates finish before the workers stop (a stop cuts them off).
            seen = -1
            while seen != api.requests:
                seen = api.requests
                await asyncio.sleep(1.0)
    finally:
        stop_workers(processes)
        await api.stop()
    latencies = [ms for p in done for ms in p.latencies]
    figures = percentiles(latencies)
    result = {
        "updates": len(latencies),
        "updates_per_s": round(len(latencies) / elapsed, 1),
        "p50_ms": figures["p50_ms"],
        "p99_ms": figures["p99_ms"],
        "unanswered": sum(p.unanswered for p in done),
        "load_average": round(os.getloadavg()[0], 1),
    }
    print(f"scaling: {workers} worker(s): {result}", flush=True)
    return result


async def run(ctx: BenchContext, quick: bool) -> list[Result]:
    parents, concurrency = (150, 32) if quick else (600, 32)
    database = "bench_scaling"
    await ctx.fresh_database(database)
    city = await populate_city(5_000, rng=random.Random(16))
    redis = aioredis.from_url(ctx.redis_url)
    await redis.flushdb()
    await PositionIndex(redis).rebuild(grace_s=0)
    await redis.aclose()
    await close_db()
    one = await _run_workers(
        ctx, database, 1, parents, concurrency, city.child_iins, first_user=90_000_000
    )
    two = await _run_workers(
        ctx, database, 2, parents, concurrency, city.child_iins, first_user=91_000_000
    )
    return [
        Result(
            name="scaling",
            params={"parents": parents, "concurrency": concurrency, "workers": [1, 2]},
            figures={
                "scaling_2_vs_1": round(two["updates_per_s"] / max(one["updates_per_s"], 0.1), 2),
                "updates_per_s_2": two["updates_per_s"],
                "p50_ms_2": two["p50_ms"],
                "p99_ms_2": two["p99_ms"],
                "unanswered_2": two["unanswered"],
                "updates_2": two["updates"],
            },
            baseline={
                "updates_per_s_1": one["updates_per_s"],
                "p50_ms_1": one["p50_ms"],
                "p99_ms_1": one["p99_ms"],
                "unanswered_1": one["unanswered"],
            },
            target="scaling_2_vs_1 >= 1.7 on 2 cores (same load over HTTP to the webhook)",
        )
    ]


if __name__ == "__main__":
    main_for(run)
