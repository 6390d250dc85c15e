"""From "Submit" pressed to the parent seeing the number and the place: `core.applications.submit`
(one transaction: child lock, uniqueness, number, choices, audit entry, outbox row) followed by
the positions the bot shows (`core.queue.city_position` and `kindergarten_positions`, from the
Redis position index kept in sync by `submit(index=...)`), in a city of 20,000 applications,
8 parents submitting at the same moment.

Figures: `p50_ms`, `p99_ms` of submit + positions (target p99 < 200 ms; the source system
promises 1 to 5 minutes). Baseline in the same run: `submit` alone.
"""

from __future__ import annotations

import asyncio
import random
import time
from typing import Any

from redis.asyncio import Redis

from bench.common import BenchContext, Result, main_for, percentiles
from bench.data import populate_city
from core.applications.submission import SubmissionInput, submit
from core.platform.db import close_db
from core.queue.index import PositionIndex
from core.queue.order import city_position, kindergarten_positions

CONCURRENCY = 8


async def run(ctx: BenchContext, quick: bool) -> list[Result]:
    submissions = 400 if quick else 2000
    settings = await ctx.fresh_database("bench_submit", pool=20)
    rng = random.Random(3)
    city = await populate_city(20_000, free_parents=submissions + 20, rng=rng)

    redis = Redis.from_url(ctx.redis_url)
    await redis.flushdb()
    index = PositionIndex(redis)
    await index.rebuild(grace_s=0)
    total_ms: list[float] = []
    submit_ms: list[float] = []
    gate = asyncio.Semaphore(CONCURRENCY)

    async def one(applicant_id: int, child_id: int, record: bool) -> None:
        kgs = rng.sample(city.kindergarten_ids, 3)
        data = SubmissionInput(
            applicant_id=applicant_id,
            child_id=child_id,
            city_id=city.city_id,
            queue_type="general",
            choices=[(kgs[0], "ru"), (kgs[1], "kk"), (kgs[2], "ru")],
            legal_representative=True,
        )
        async with gate:
            started = time.perf_counter()
            application = await submit(data, settings=settings, actor="bench", index=index)
            submitted = time.perf_counter()
            await city_position(application, settings, index=index)
            await kindergarten_positions(application, settings, index=index)
            done = time.perf_counter()
        if record:
            submit_ms.append((submitted - started) * 1000)
            total_ms.append((done - started) * 1000)

    pairs = city.free_children
    await asyncio.gather(*(one(a, c, False) for a, c in pairs[:20]))  # warm-up
    await asyncio.gather(*(one(a, c, True) for a, c in pairs[20 : 20 + submissions]))
    await close_db()
    await redis.aclose()
    total = percentiles(total_ms)
    alone = percentiles(submit_ms)
    figures: dict[str, Any] = {
        "p50_ms": total["p50_ms"],
        "p99_ms": total["p99_ms"],
        "submissions": len(total_ms),
    }
    return [
        Result(
            name="submit",
            params={"applications_in_city": 20_000, "concurrency": CONCURRENCY},
            figures=figures,
            baseline={"submit_only_p50_ms": alone["p50_ms"], "submit_only_p99_ms": alone["p99_ms"]},
            target="p99 < 200 ms",
        )
    ]


if __name__ == "__main__":
    main_for(run)
