"""A broadcast to 20,000 parents through the sandbox Bot API emulator, at its global limit.

`core.broadcasts.create_broadcast` materialises one outbox row per recipient; the worker's
`worker.sender.Sender` (the `indigo worker` outbox loop) sends them over real HTTP to the
emulator (`sandbox.server.make_sandbox_app`), which runs in its own OS process with
`global_per_second` = the limit (`params.limit_per_s`) and answers 429 above it. Run at 300/s
and again at 1000/s (paid broadcast).

Figures: `achieved_rate_ratio` (messages accepted by the emulator per second between the first
and the last, divided by the limit; target >= 0.95), `http_429` (target 0), `duplicates`
(messages beyond the first in any chat; must be 0), `delivered`. QUICK: 3,000 recipients.
"""

from __future__ import annotations

import asyncio
import sys
import time
from collections import Counter
from typing import Any

import aiohttp
import orjson
from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiohttp import web

from bench.common import BenchContext, Result, main_for, profiled
from bench.load import copy_rows
from core.models import Applicant, Notification, NotificationStatus, StaffMember
from core.notifications.broadcasts import create_broadcast
from core.platform.db import close_db
from devtools.sandbox.server import (
    SandboxConfig,
    bind_socket,
    emulator_of,
    make_sandbox_app,
    serve_app,
)
from devtools.sandbox.telegram import TelegramConfig
from indigo.app import json_dumps
from worker.sender import Sender

LIMITS = (300, 1000)


# --- the emulator process ------------------------------------------------------------------


def _serve(limit: float) -> None:
    async def main() -> None:
        config = TelegramConfig(
            global_per_second=limit, known_chats_only=False, per_chat_per_second=1.0
        )

        app = make_sandbox_app(SandboxConfig(telegram=config))
        accepted: list[float] = []
        per_chat: Counter[str] = Counter()

        async def report(request: web.Request) -> web.Response:
            emulator = emulator_of(request.app)
            if not hasattr(emulator, "_bench_wrapped"):
                original = emulator.m_sendMessage

                async def wrapped(p: Any) -> Any:
                    result = await original(p)
                    accepted.append(time.monotonic())
                    per_chat[str(p.values.get("chat_id"))] += 1
                    return result

                emulator.m_sendMessage = wrapped  # type: ignore[method-assign]
                emulator._bench_wrapped = True  # type: ignore[attr-defined]
            return web.json_response(
                {
                    "accepted": len(accepted),
                    "span_s": accepted[-1] - accepted[0] if len(accepted) > 1 else 0.0,
                    "duplicates": sum(n - 1 for n in per_chat.values() if n > 1),
                    "http_429": emulator.stats.get("too_many_requests", 0),
                    "errors": {k: v for k, v in emulator.stats.items() if k.startswith("error")},
                }
            )

        app.router.add_get("/bench/report", report)
        _, url = await serve_app(app, bind_socket())
        print(url, flush=True)
        await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)

    asyncio.run(main())


# --- the benchmark -------------------------------------------------------------------------


async def _populate(recipients: int) -> StaffMember:
    await copy_rows(
        Applicant,
        [
            {
                "id": i,
                "telegram_user_id": 30_000_000 + i,
                "chat_id": 30_000_000 + i,
                "language": "ru" if i % 3 else "kk",
            }
            for i in range(1, recipients + 1)
        ],
    )
    return await StaffMember.create(telegram_user_id=1, name="bench", role="superadmin")


async def _one(ctx: BenchContext, recipients: int, limit: int) -> dict[str, Any]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bench.broadcast",
        "--serve",
        str(limit),
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
    )
    assert proc.stdout is not None and proc.stdin is not None
    url = (await proc.stdout.readline()).decode().strip()
    settings = await ctx.fresh_database(
        f"bench_broadcast_{limit}",
        pool=20,
        telegram_api_url=url,
        send_rate_per_second=float(limit),
    )
    staff = await _populate(recipients)
    async with aiohttp.ClientSession() as http:
        await (await http.get(f"{url}/bench/report")).json()  # install the counters
        broadcast = await create_broadcast(staff, "Хабарлама", "Сообщение", {})
        # As `indigo.app.make_bot` builds it for the worker (orjson), with a larger pool.
        session = AiohttpSession(
            api=TelegramAPIServer.from_base(url),
            limit=400,
            json_loads=orjson.loads,
            json_dumps=json_dumps,
        )
        bot = Bot("123456:BENCH", session=session)
        sender = Sender(bot, None, settings)
        stop = asyncio.Event()
        cpu = time.process_time()
        started = time.perf_counter()
        with profiled(f"broadcast_{limit}"):
            task = asyncio.create_task(sender.run(stop, idle=0.05))
            while True:
                await asyncio.sleep(0.5)
                left = await Notification.filter(
                    broadcast_id=broadcast.id,
                    status__in=(NotificationStatus.pending, NotificationStatus.sending),
                ).count()
                if left == 0 or time.perf_counter() - started > recipients / limit * 3 + 30:
                    break
            stop.set()
            await task
        cpu = time.process_time() - cpu
        await session.close()
        report = await (await http.get(f"{url}/bench/report")).json()
    statuses = Counter(
        NotificationStatus(row["status"])
        for row in await Notification.filter(broadcast_id=broadcast.id).values("status")
    )
    proc.stdin.close()
    await proc.wait()
    await close_db()
    achieved = (report["accepted"] - 1) / report["span_s"] if report["span_s"] else 0.0
    return {
        "achieved_rate_ratio": round(achieved / limit, 3),
        "achieved_per_s": round(achieved, 1),
        "http_429": report["http_429"],
        "duplicates": report["duplicates"],
        "delivered": report["accepted"],
        # CPU the sender's process spent per 1,000 messages (what caps the rate on one core).
        "sender_cpu_s_per_1000": round(cpu / max(1, report["accepted"]) * 1000, 2),
        "sent_rows": statuses.get(NotificationStatus.sent, 0),
        "other_rows": {str(k): v for k, v in statuses.items() if k != NotificationStatus.sent},
    }


async def run(ctx: BenchContext, quick: bool) -> list[Result]:
    recipients = 3000 if quick else 20_000
    results = []
    for limit in LIMITS:
        figures = await _one(ctx, recipients, limit)
        results.append(
            Result(
                name="broadcast",
                params={"recipients": recipients, "limit_per_s": limit},
                figures=figures,
                baseline={"ideal_seconds": round(recipients / limit, 1)},
                target="achieved_rate_ratio >= 0.95, http_429 = 0, duplicates = 0",
            )
        )
    return results


if __name__ == "__main__":
    if len(sys.argv) > 2 and sys.argv[1] == "--serve":
        _serve(float(sys.argv[2]))
    else:
        main_for(run)
