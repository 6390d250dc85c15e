"""Queue-position look-ups at city and country scale (10k, 100k, 1M applications in one city).

Figures: p50_ms / p99_ms of `core.queue.city_position` and of `kindergarten_positions` (one
chosen kindergarten) for random applications. Baseline in the same run: ranking the cohort with
a window function (row_number over the stream, then the interleave arithmetic).
"""

from __future__ import annotations

import random
import time
from datetime import UTC, date, datetime, timedelta
from functools import partial

import redis.asyncio as aioredis
from tortoise.connection import get_connection

from bench.common import BenchContext, Result, main_for, percentiles, timed
from bench.load import copy_rows
from core.models import (
    Applicant,
    Application,
    ApplicationChoice,
    Child,
    City,
    Kindergarten,
    Person,
    Stream,
)
from core.platform.db import close_db
from core.queue.index import PositionIndex
from core.queue.order import city_position, kindergarten_positions
from core.queue.places import StreamCounts, position_from

SIZES = (10_000, 100_000, 1_000_000)
LOOKUPS = 2000
BIRTH_YEARS = range(2020, 2026)
KINDERGARTENS = 344


async def _populate(applications: int, rng: random.Random) -> None:
    await City.create(id=1, code="bench", name_ru="Бенч", name_kk="Бенч")
    await copy_rows(
        Kindergarten,
        [
            {
                "id": k,
                "city_id": 1,
                "name_ru": f"Сад {k}",
                "name_kk": f"Бақша {k}",
                "ownership": "state",
                "address_ru": "-",
                "address_kk": "-",
                "latitude": 51.1,
                "longitude": 71.4,
            }
            for k in range(1, KINDERGARTENS + 1)
        ],
    )
    await copy_rows(
        Person,
        [
            {
                "id": 1,
                "iin": None,
                "last_name": "Б",
                "first_name": "Б",
                "birth_date": date(2022, 1, 1),
            }
        ],
    )
    await Applicant.create(id=1)
    await Child.create(id=1, person_id=1)
    start = datetime(2021, 1, 1, tzinfo=UTC)
    batch = 100_000
    for offset in range(0, applications, batch):
        apps, choices = [], []
        for i in range(offset + 1, min(applications, offset + batch) + 1):
            roll = rng.random()
            stream = 0 if roll < 0.01 else 1 if roll < 0.09 else 2
            submitted = start + timedelta(
                seconds=rng.randrange(0, 5 * 365 * 86400), microseconds=rng.randrange(1_000_000)
            )
            year = rng.choice(BIRTH_YEARS)
            status = "active" if rng.random() < 0.97 else "stop_listed"
            apps.append(
                {
                    "id": i,
                    "number": 1_000_000 + i,
                    "applicant_id": 1,
                    "child_id": 1,
                    "city_id": 1,
                    "queue_type": "general",
                    "birth_year": year,
                    "stream": stream,
                    "submitted_at": submitted,
                    "status": status,
                    "valid_until": date(2027, 9, 1),
                }
            )
            choices.append(
                {
                    "application_id": i,
                    "kindergarten_id": rng.randrange(1, 345),
                    "rank": 1,
                    "language": rng.choice(("kk", "ru")),
                    "queue_type": "general",
                    "birth_year": year,
                    "stream": stream,
                    "submitted_at": submitted,
                    "number": 1_000_000 + i,
                    "active": status == "active",
                }
            )
        await copy_rows(Application, apps)
        await copy_rows(ApplicationChoice, choices)
    await get_connection("default").execute_script("ANALYZE")


async def _window_baseline(app: Application, ratio: int) -> int:
    """What a straightforward implementation does: rank the whole cohort in SQL."""
    conn = get_connection("default")
    rows = await conn.execute_query_dict(
        """
        SELECT stream, rn, cnt FROM (
          SELECT id, stream,
                 row_number() OVER (PARTITION BY stream ORDER BY submitted_at, number) AS rn,
                 count(*) OVER (PARTITION BY stream) AS cnt
          FROM application
          WHERE city_id = $1 AND queue_type = $2 AND birth_year = $3 AND status = 'active'
        ) ranked WHERE id = $4
        """,
        [app.city_id, app.queue_type.value, app.birth_year, app.id],
    )
    totals = await conn.execute_query_dict(
        "SELECT stream, count(*) AS n FROM application WHERE city_id = $1 AND queue_type = $2 "
        "AND birth_year = $3 AND status = 'active' GROUP BY stream",
        [app.city_id, app.queue_type.value, app.birth_year],
    )
    counts = [0, 0, 0]
    for row in totals:
        counts[row["stream"]] = row["n"]
    row = rows[0]

    return position_from(Stream(row["stream"]), row["rn"], StreamCounts(*counts), ratio).place


async def run(ctx: BenchContext, quick: bool) -> list[Result]:
    results = []
    for size in SIZES:
        settings = await ctx.fresh_database(f"bench_position_{size}")
        rng = random.Random(size)
        started = time.perf_counter()
        await _populate(size, rng)
        load_s = time.perf_counter() - started
        ids = rng.sample(range(1, size + 1), min(LOOKUPS if not quick else 300, size))
        apps = await Application.filter(id__in=ids, status="active")
        # The Redis sorted-set index (core.position_index), built from the database.

        redis = aioredis.from_url(ctx.redis_url)
        await redis.flushdb()
        index = PositionIndex(redis)
        built = time.perf_counter()
        await index.rebuild()
        build_s = time.perf_counter() - built
        ratio = settings.first_priority_ratio
        idx_ms, idx_kg_ms = [], []
        index_mismatches = 0
        for app in apps:
            # Through core.queue with index= (what the bot calls), not the index alone.
            idx_ms.append(await timed(partial(city_position, app, settings, index=index)))
            choices = await ApplicationChoice.filter(application_id=app.id).order_by("rank")
            idx_kg_ms.append(
                await timed(
                    partial(kindergarten_positions, app, settings, index=index, choices=choices)
                )
            )
        city_ms, kg_ms, base_ms = [], [], []
        mismatches = 0
        for app in apps[: 300 if quick else len(apps)]:
            city_ms.append(await timed(partial(city_position, app, settings)))
            kg_ms.append(await timed(partial(kindergarten_positions, app, settings)))
        for app in apps[:100]:
            choices = await ApplicationChoice.filter(application_id=app.id).order_by("rank")
            ours = await index.city_position(app, ratio)
            theirs = await city_position(app, settings)
            kg_ours = await index.kindergarten_positions(app, choices, ratio)
            kg_theirs = [p for _, p in await kindergarten_positions(app, settings)]
            if ours != theirs or kg_ours != kg_theirs:
                index_mismatches += 1
        await redis.flushdb()
        await redis.aclose()
        for app in apps[: 30 if quick else 200]:
            base_ms.append(await timed(partial(_window_baseline, app, ratio)))
            place = (await city_position(app, settings)).place
            if place != await _window_baseline(app, settings.first_priority_ratio):
                mismatches += 1
        city = percentiles(city_ms)
        kg = percentiles(kg_ms)
        idx = percentiles(idx_ms)
        idx_kg = percentiles(idx_kg_ms)
        results.append(
            Result(
                name="position",
                params={"applications": size},
                # p50_ms / p99_ms: core.queue with the sorted-set index (core.position_index);
                # count_*: core.queue's COUNT queries (no index, or the index not built).
                figures={
                    "p50_ms": idx["p50_ms"],
                    "p99_ms": idx["p99_ms"],
                    "kindergarten_p50_ms": idx_kg["p50_ms"],
                    "kindergarten_p99_ms": idx_kg["p99_ms"],
                    "count_p50_ms": city["p50_ms"],
                    "count_p99_ms": city["p99_ms"],
                    "count_kindergarten_p50_ms": kg["p50_ms"],
                    "count_kindergarten_p99_ms": kg["p99_ms"],
                    "lookups": len(apps),
                    "mismatches_vs_baseline": mismatches,
                    "index_mismatches_vs_count": index_mismatches,
                    "index_build_s": round(build_s, 1),
                    "load_s": round(load_s, 1),
                },
                baseline={
                    "window_p50_ms": percentiles(base_ms)["p50_ms"],
                    "window_p99_ms": percentiles(base_ms)["p99_ms"],
                },
                target="p99 < 2 ms at 1M, growth no worse than logarithmic",
            )
        )

        await close_db()
    return results


if __name__ == "__main__":
    main_for(run)
