"""Queue positions in O(log n): Redis sorted sets per cohort and stream, rebuildable from the DB.

`core.queue.city_position` counts rows in PostgreSQL: the totals of the cohort and the rows
ahead in the stream, which is linear in the cohort (about 0.25 s at 1M applications in one
city). Here every active application is a member of one sorted set per (city, queue type, birth
year, stream) and of one per (kindergarten, queue type, birth year, language, stream) for each
chosen kindergarten. Score = submission time in integer microseconds (exact in a double until
year 2255); member = the zero-padded number, so ties at the same microsecond order by number as
DOMAIN.md asks. A position is then ZCARD x3 + ZRANK (or ZCOUNT) in one round trip, and the
arithmetic of `core.queue.position_from`.

The sets hold active applications only (the same as the COUNT queries). `sync` puts an
application where it belongs now (call it after the commit of every change to its status,
stream, submission time, birth year or choices: wherever `core.queue.sync_choices` is called,
and after `submit`); `rebuild` re-creates everything from the database (deploy, nightly, or
when `ready` is false), building under a new generation and switching atomically.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from core.models import Application, ApplicationChoice, ApplicationStatus, Stream
from core.queue import Position, StreamCounts, position_from

if TYPE_CHECKING:
    from redis.asyncio import Redis

PREFIX = "indigo:pos"
_GENERATION = f"{PREFIX}:generation"
_BATCH = 5000


def score(submitted_at: datetime) -> int:
    return int(submitted_at.timestamp() * 1_000_000)


def member(number: int) -> str:
    return f"{number:015d}"


class PositionIndex:
    def __init__(self, redis: Redis) -> None:
        self.redis = redis
        self._generation: str | None = None

    # --- keys ---------------------------------------------------------------------------

    async def generation(self) -> str | None:
        if self._generation is None:
            raw = await self.redis.get(_GENERATION)
            self._generation = raw.decode() if isinstance(raw, bytes) else raw
        return self._generation

    async def ready(self) -> bool:
        return await self.generation() is not None

    @staticmethod
    def city_key(gen: str, city_id: int, queue_type: str, birth_year: int, stream: int) -> str:
        return f"{PREFIX}:{gen}:c:{city_id}:{queue_type}:{birth_year}:{stream}"

    @staticmethod
    def kg_key(
        gen: str, kg_id: int, queue_type: str, birth_year: int, language: str, stream: int
    ) -> str:
        return f"{PREFIX}:{gen}:k:{kg_id}:{queue_type}:{birth_year}:{language}:{stream}"

    @staticmethod
    def _keys_of(gen: str, app: Any, choices: Iterable[Any]) -> list[str]:
        qt, year, stream = str(app.queue_type), app.birth_year, int(app.stream)
        keys = [PositionIndex.city_key(gen, app.city_id, qt, year, stream)]
        keys += [
            PositionIndex.kg_key(gen, c.kindergarten_id, qt, year, str(c.language), stream)
            for c in choices
        ]
        return keys

    # --- maintenance --------------------------------------------------------------------

    async def sync(self, application_id: int) -> None:
        """Put one application where it belongs now (after the change has committed)."""
        gen = await self.generation()
        if gen is None:
            return  # not built: readers fall back to COUNT queries
        app = await Application.get_or_none(id=application_id)
        where = f"{PREFIX}:{gen}:a:{application_id}"
        old = await self.redis.smembers(where)
        pipe = self.redis.pipeline(transaction=True)
        if app is not None:
            for key in old:
                pipe.zrem(key, member(app.number))
        pipe.delete(where)
        if app is not None and app.status == ApplicationStatus.active:
            choices = await ApplicationChoice.filter(application_id=app.id)
            keys = self._keys_of(gen, app, choices)
            for key in keys:
                pipe.zadd(key, {member(app.number): score(app.submitted_at)})
            pipe.sadd(where, *keys)
        await pipe.execute()

    async def rebuild(self) -> int:
        """Re-create every set from the database under a new generation, then switch to it.
        Returns the number of active applications indexed."""
        import time

        gen = str(time.time_ns())
        indexed = 0
        last_id = 0
        while True:
            apps = (
                await Application.filter(status=ApplicationStatus.active, id__gt=last_id)
                .order_by("id")
                .limit(_BATCH)
                .values(
                    "id", "number", "city_id", "queue_type", "birth_year", "stream", "submitted_at"
                )
            )
            if not apps:
                break
            last_id = apps[-1]["id"]
            choices: dict[int, list[Any]] = {}
            for row in await ApplicationChoice.filter(
                application_id__in=[a["id"] for a in apps]
            ).values("application_id", "kindergarten_id", "language"):
                choices.setdefault(row["application_id"], []).append(_Row(row))
            pipe = self.redis.pipeline(transaction=False)
            for row in apps:
                app = _Row(row)
                keys = self._keys_of(gen, app, choices.get(app.id, []))
                for key in keys:
                    pipe.zadd(key, {member(app.number): score(app.submitted_at)})
                pipe.sadd(f"{PREFIX}:{gen}:a:{app.id}", *keys)
            await pipe.execute()
            indexed += len(apps)
        old = await self.generation()
        await self.redis.set(_GENERATION, gen)
        self._generation = gen
        if old and old != gen:
            await self.drop(old)
        return indexed

    async def drop(self, gen: str) -> None:
        batch: list[Any] = []
        async for key in self.redis.scan_iter(match=f"{PREFIX}:{gen}:*", count=5000):
            batch.append(key)
            if len(batch) >= 5000:
                await self.redis.unlink(*batch)
                batch = []
        if batch:
            await self.redis.unlink(*batch)

    # --- reading ------------------------------------------------------------------------

    async def city_position(self, application: Application, ratio: int) -> Position | None:
        """As `core.queue.city_position`; None when the index is not built."""
        gen = await self.generation()
        if gen is None:
            return None
        qt, year = str(application.queue_type), application.birth_year
        keys = [self.city_key(gen, application.city_id, qt, year, s) for s in (0, 1, 2)]
        return await self._position(keys, application, ratio)

    async def kindergarten_positions(
        self, application: Application, choices: list[ApplicationChoice], ratio: int
    ) -> list[Position] | None:
        gen = await self.generation()
        if gen is None:
            return None
        qt, year = str(application.queue_type), application.birth_year
        out = []
        for c in choices:
            keys = [
                self.kg_key(gen, c.kindergarten_id, qt, year, str(c.language), s) for s in (0, 1, 2)
            ]
            out.append(await self._position(keys, application, ratio))
        return out

    async def _position(self, keys: list[str], application: Application, ratio: int) -> Position:
        stream = Stream(application.stream)
        own_key = keys[int(stream)]
        own = member(application.number)
        own_score = score(application.submitted_at)
        active = application.status == ApplicationStatus.active
        pipe = self.redis.pipeline(transaction=False)
        for key in keys:
            pipe.zcard(key)
        if active:
            pipe.zrank(own_key, own)
        else:  # the place it would take if restored now at its original time
            pipe.zcount(own_key, "-inf", f"({own_score}")
            pipe.zrangebyscore(own_key, own_score, own_score)
        replies = await pipe.execute()
        totals = [int(n) for n in replies[:3]]
        if active and replies[3] is not None:
            before = int(replies[3])
        else:
            ties = replies[4] if not active else []
            before = int(replies[3] or 0) + sum(
                1 for m in ties or [] if (m.decode() if isinstance(m, bytes) else m) < own
            )
            totals[int(stream)] += 1
        return position_from(stream, before + 1, StreamCounts(*totals), ratio)


class _Row:
    """Attribute access over a `.values()` row (rebuild reads rows, not models)."""

    def __init__(self, row: dict[str, Any]) -> None:
        self.__dict__.update(row)
