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

Wiring: `core.queue.city_position` / `kindergarten_positions` take `index=` (a PositionIndex or
a Redis client, see `index_for`) and read here when the index is ready (else COUNT, and a
rebuild is started in the background). `core.queue.sync_choices` notes the application as
changed; after the commit, `sync_changed(index)` moves the noted applications (submit,
withdraw, restore and the benefit/stop-list paths of core.referrals do it themselves).
Changes committed while a rebuild runs are noted in a "dirty" set and re-applied to the new
generation before it is switched on, and the old generation is dropped after a grace period
(readers cache the generation name for `GENERATION_TTL_S`).
"""

from __future__ import annotations

import asyncio
import logging
import time
import weakref
from collections import defaultdict
from collections.abc import AsyncIterator, Iterable
from datetime import datetime
from typing import Any, Protocol, TypeAlias

from redis.asyncio import Redis
from redis.asyncio.client import Pipeline
from tortoise import connections
from tortoise.backends.asyncpg.client import AsyncpgDBClient

from core.models import Application, ApplicationChoice, ApplicationStatus, Stream
from core.platform.settings import Settings
from core.queue.changes import take_changed
from core.queue.places import Position, StreamCounts, position_from

PREFIX = "indigo:pos"
_GENERATION = f"{PREFIX}:generation"
_BUILDING = f"{PREFIX}:building"  # the generation being built, while a rebuild runs
_DIRTY = f"{PREFIX}:dirty"  # applications changed while a rebuild runs
_REBUILD_LOCK = f"{PREFIX}:rebuild-lock"
_BATCH = 5000  # applications per read when the database is not PostgreSQL
_CHUNK = 20_000  # applications per pipelined write of a rebuild
_ARGS = 20_000  # arguments per ZADD / HSET command of a rebuild
GENERATION_TTL_S = 1.0
DROP_GRACE_S = 3.0

# A row of a rebuild: id, number, city_id, queue_type, birth_year, stream, submitted_at, and the
# chosen kindergartens and their languages in rank order.
_Row: TypeAlias = tuple[int, int, int, str, int, int, datetime, list[int], list[str]]

# What positions are read from: a Redis client, or its PositionIndex (`index_for`).
IndexSource: TypeAlias = "Redis | PositionIndex"

log = logging.getLogger(__name__)
_indexes: weakref.WeakKeyDictionary[Redis, PositionIndex] = weakref.WeakKeyDictionary()
_background: set[asyncio.Task[int | None]] = set()


def index_for(source: IndexSource | None) -> PositionIndex | None:
    """A PositionIndex for a Redis client (one per client, so the generation cache is shared),
    the index itself, or None."""
    if source is None or isinstance(source, PositionIndex):
        return source
    return _index_of(source)


async def rebuild_for(settings: Settings, redis: Redis | None = None) -> int | None:
    """Rebuild the index (`indigo migrate`, `indigo seed`, demo start); None when the index is
    off, or when Redis is the embedded fakeredis of another process (its readers rebuild it
    themselves on first use)."""
    if not settings.position_index:
        return None
    if redis is not None:
        return await _index_of(redis).rebuild()
    if settings.redis_url is None:
        return None
    own = Redis.from_url(settings.redis_url)
    try:
        return await _index_of(own).rebuild()
    finally:
        await own.aclose()


async def sync_changed(source: IndexSource | None) -> None:
    """After a commit: move the applications `core.queue.sync_choices` noted in this task."""
    index = index_for(source)
    if index is None:  # leave the notes for the entry point that has the index
        return
    changed = take_changed()
    if not changed:
        return
    try:
        for application_id in sorted(changed):
            await index.sync(application_id)
    except Exception:  # the index is a cache: a failure must not undo a committed change
        log.exception("position index sync failed; readers fall back after the next rebuild")


def _index_of(redis: Redis) -> PositionIndex:
    index = _indexes.get(redis)
    if index is None:
        index = _indexes[redis] = PositionIndex(redis)
    return index


def score(submitted_at: datetime) -> int:
    return int(submitted_at.timestamp() * 1_000_000)


def member(number: int) -> str:
    return f"{number:015d}"


class PositionIndex:
    def __init__(self, redis: Redis) -> None:
        self.redis = redis
        self._generation: str | None = None
        self._read_at = 0.0

    # --- keys ---------------------------------------------------------------------------

    async def generation(self) -> str | None:
        now = time.monotonic()
        if self._generation is None or now - self._read_at > GENERATION_TTL_S:
            raw = await self.redis.get(_GENERATION)
            self._generation = raw.decode() if isinstance(raw, bytes) else raw
            self._read_at = now
        return self._generation

    async def ready(self) -> bool:
        return await self.generation() is not None

    def rebuild_in_background(self) -> None:
        """Start a rebuild (one at a time across processes) unless one is running here."""
        if any(not t.done() for t in _background):
            return
        task = asyncio.get_running_loop().create_task(self.rebuild(only_if_missing=True))
        _background.add(task)
        task.add_done_callback(_background.discard)

    @staticmethod
    def city_key(gen: str, city_id: int, queue_type: str, birth_year: int, stream: int) -> str:
        return f"{PREFIX}:{gen}:c:{city_id}:{queue_type}:{birth_year}:{stream}"

    @staticmethod
    def kg_key(
        gen: str, kg_id: int, queue_type: str, birth_year: int, language: str, stream: int
    ) -> str:
        return f"{PREFIX}:{gen}:k:{kg_id}:{queue_type}:{birth_year}:{language}:{stream}"

    @staticmethod
    def _suffixes(app: _Ordered, choices: Iterable[_Chosen]) -> list[str]:
        """The application's sets, as key suffixes after `PREFIX:gen:` (see city_key/kg_key);
        the generation's `where` hash keeps them per application, so a move knows its old sets."""
        qt, year, stream = str(app.queue_type), app.birth_year, int(app.stream)
        return [f"c:{app.city_id}:{qt}:{year}:{stream}"] + [
            f"k:{c.kindergarten_id}:{qt}:{year}:{c.language}:{stream}" for c in choices
        ]

    @staticmethod
    def _where(gen: str, *, rebuilt: bool = False) -> str:
        """The hash application id -> its sets' suffixes joined by "|": written by `_put`, or
        (`rebuilt`) by a rebuild's chunks. Two hashes, so that a chunk read before a change
        cannot hide the sets the change put the application in: a move removes the
        application from the sets of both entries."""
        return f"{PREFIX}:{gen}:{'built' if rebuilt else 'where'}"

    # --- maintenance --------------------------------------------------------------------

    async def sync(
        self,
        application_id: int,
        *,
        application: Application | None = None,
        choices: Iterable[_Chosen] | None = None,
    ) -> None:
        """Put one application where it belongs now (after the change has committed).
        `application` and `choices` (as committed) save reading them again."""
        current, building = await self.redis.mget(_GENERATION, _BUILDING)
        gens = [
            g.decode() if isinstance(g, bytes) else g for g in (current, building) if g is not None
        ]
        if not gens:
            return  # not built: readers fall back to COUNT queries
        if building is not None:
            await self.redis.sadd(_DIRTY, application_id)  # type: ignore[misc]  # as in _put
        app = application
        if app is None:
            app = await Application.get_or_none(id=application_id)
        if app is not None and app.status == ApplicationStatus.active and choices is None:
            choices = list(await ApplicationChoice.filter(application_id=app.id))
        for gen in dict.fromkeys(gens):
            await self._put(gen, application_id, app, list(choices or []))

    async def _put(
        self, gen: str, application_id: int, app: Application | None, choices: list[_Chosen]
    ) -> None:
        where, field = self._where(gen), str(application_id)
        read = self.redis.pipeline(transaction=False)
        read.hget(where, field)
        read.hget(self._where(gen, rebuilt=True), field)
        old: set[str] = set()
        for raw in await read.execute():
            if raw:
                old.update(raw.decode().split("|"))
        pipe = self.redis.pipeline(transaction=True)
        if app is not None:
            for suffix in sorted(old):
                pipe.zrem(f"{PREFIX}:{gen}:{suffix}", member(app.number))
        pipe.hdel(where, field)
        if app is not None and app.status == ApplicationStatus.active:
            suffixes = self._suffixes(app, choices)
            for suffix in suffixes:
                pipe.zadd(f"{PREFIX}:{gen}:{suffix}", {member(app.number): score(app.submitted_at)})
            pipe.hset(where, field, "|".join(suffixes))
        await pipe.execute()

    async def _write_chunk(self, gen: str, rows: list[_Row]) -> int:
        """Many applications in one round trip: one ZADD per set with all its members of the
        chunk and one HSET of their `where` entries, packed here as Redis protocol (redis-py's
        per-argument packing was most of a rebuild's CPU)."""
        members: defaultdict[str, list[bytes]] = defaultdict(list)
        where: list[bytes] = []
        for app_id, number, city_id, queue_type, year, stream, at, kgs, languages in rows:
            scored = b"%d" % score(at)
            # One protocol piece per application ("score member"), shared by all its sets.
            piece = b"$%d\r\n%s\r\n$15\r\n%015d\r\n" % (len(scored), scored, number)
            cohort = f"{queue_type}:{year}"
            suffixes = [f"c:{city_id}:{cohort}:{stream}"]
            suffixes += [
                f"k:{kg}:{cohort}:{lang}:{stream}" for kg, lang in zip(kgs, languages, strict=True)
            ]
            for suffix in suffixes:
                members[suffix].append(piece)
            where.append(_bulk(b"%d" % app_id) + _bulk("|".join(suffixes).encode()))
        prefix = f"{PREFIX}:{gen}:"
        commands: list[bytes] = []
        per_command = _ARGS // 2
        for suffix, pieces in members.items():
            key = _bulk((prefix + suffix).encode())
            for i in range(0, len(pieces), per_command):
                part = pieces[i : i + per_command]
                commands.append(
                    b"*%d\r\n$4\r\nZADD\r\n%s%s" % (2 + 2 * len(part), key, b"".join(part))
                )
        hash_key = _bulk(self._where(gen, rebuilt=True).encode())
        for i in range(0, len(where), per_command):
            part = where[i : i + per_command]
            commands.append(
                b"*%d\r\n$4\r\nHSET\r\n%s%s" % (2 + 2 * len(part), hash_key, b"".join(part))
            )
        await self._send_packed(b"".join(commands), len(commands))
        return len(rows)

    async def _write_from_postgres(self, gen: str, client: AsyncpgDBClient) -> int:
        """The rebuild on PostgreSQL: the database groups the members by set and writes each
        set's ZADD arguments (and the `built` hash's HSET arguments) as Redis protocol text, so
        no Python object is made per application; one snapshot (repeatable read) for both
        statements. Batches of about `_PACKED_BYTES` go to Redis while the next is read."""
        prefix = f"{PREFIX}:{gen}:"
        hash_key = _bulk(self._where(gen, rebuilt=True).encode())
        batch: list[bytes] = []
        size = indexed = 0
        sending: asyncio.Task[None] | None = None

        async def flush() -> None:
            nonlocal batch, size, sending
            if sending is not None:
                await sending
            packed, replies, batch, size = b"".join(batch), len(batch), [], 0
            sending = asyncio.create_task(self._send_packed(packed, replies))

        try:
            async with (
                client.acquire_connection() as conn,
                conn.transaction(isolation="repeatable_read", readonly=True),
            ):
                async for suffix, count, pieces in conn.cursor(_SETS_SQL, prefetch=_SETS_PREFETCH):
                    key = _bulk((prefix + suffix).encode())
                    batch.append(b"*%d\r\n$4\r\nZADD\r\n%s%s" % (2 + 2 * count, key, pieces))
                    size += len(pieces)
                    if size >= _PACKED_BYTES:
                        await flush()
                async for count, pieces in conn.cursor(_BUILT_SQL, prefetch=_SETS_PREFETCH):
                    batch.append(b"*%d\r\n$4\r\nHSET\r\n%s%s" % (2 + 2 * count, hash_key, pieces))
                    size += len(pieces)
                    indexed += count
                    if size >= _PACKED_BYTES:
                        await flush()
            if batch:
                await flush()
            if sending is not None:
                await sending
        finally:
            if sending is not None and not sending.done():
                sending.cancel()
        return indexed

    async def _send_packed(self, packed: bytes, replies: int) -> None:
        """Send ready-made protocol and read its replies (an error reply raises)."""
        pool = self.redis.connection_pool
        conn = await pool.get_connection()  # type: ignore[no-untyped-call]
        try:
            await conn.send_packed_command(packed, check_health=False)
            for _ in range(replies):
                await conn.read_response()
        except BaseException:
            await conn.disconnect()  # replies may be left unread: never reuse it
            raise
        finally:
            await pool.release(conn)

    async def rebuild(
        self, *, grace_s: float = DROP_GRACE_S, only_if_missing: bool = False
    ) -> int | None:
        """Re-create every set from the database under a new generation, then switch to it.
        Returns the number of active applications indexed (None when another rebuild runs,
        or with `only_if_missing` when the index is already built)."""
        if not await self.redis.set(_REBUILD_LOCK, "1", nx=True, ex=3600):
            return None
        try:
            if only_if_missing and await self.redis.exists(_GENERATION):
                return None
            return await self._rebuild(grace_s)
        finally:
            await self.redis.delete(_REBUILD_LOCK)

    async def _rebuild(self, grace_s: float) -> int:
        gen = str(time.time_ns())
        await self.redis.delete(_DIRTY)
        await self.redis.set(_BUILDING, gen)
        client = connections.get("default")
        if isinstance(client, AsyncpgDBClient):
            indexed = await self._write_from_postgres(gen, client)
        else:
            indexed = 0
            chunk: list[_Row] = []
            async for row in _active_rows():
                chunk.append(row)
                if len(chunk) >= _CHUNK:
                    indexed += await self._write_chunk(gen, chunk)
                    chunk = []
            if chunk:
                indexed += await self._write_chunk(gen, chunk)
        # Changes committed while the batches were read: apply them to the new generation.
        while dirty := await self.redis.spop(_DIRTY, 1000):  # type: ignore[misc]  # as in _put
            for raw in dirty:
                application_id = int(raw)
                changed = await Application.get_or_none(id=application_id)
                choices_now = await ApplicationChoice.filter(application_id=application_id)
                await self._put(gen, application_id, changed, list(choices_now))
        old = await self.redis.get(_GENERATION)
        old = old.decode() if isinstance(old, bytes) else old
        pipe = self.redis.pipeline(transaction=True)
        pipe.set(_GENERATION, gen)
        pipe.delete(_BUILDING)
        await pipe.execute()
        self._generation, self._read_at = gen, time.monotonic()
        if old and old != gen:
            if grace_s > 0:  # readers may still use the old name for GENERATION_TTL_S
                await asyncio.sleep(grace_s)
            await self.drop(old)
        return indexed

    async def drop(self, gen: str) -> None:
        batch: list[bytes | str] = []
        async for key in self.redis.scan_iter(match=f"{PREFIX}:{gen}:*", count=5000):
            batch.append(key)
            if len(batch) >= 5000:
                await self.redis.unlink(*batch)
                batch = []
        if batch:
            await self.redis.unlink(*batch)

    # --- reading ------------------------------------------------------------------------

    async def city_position(self, application: Application, ratio: int) -> Position | None:
        """As `core.queue.city_position`; None when the index is not built (or does not hold
        this active application: not synced yet)."""
        gen = await self.generation()
        if gen is None:
            return None
        qt, year = str(application.queue_type), application.birth_year
        keys = [self.city_key(gen, application.city_id, qt, year, s) for s in (0, 1, 2)]
        pipe = self.redis.pipeline(transaction=False)
        self._queue(pipe, keys, application)
        return self._answer(await pipe.execute(), application, ratio)

    async def kindergarten_positions(
        self, application: Application, choices: list[ApplicationChoice], ratio: int
    ) -> list[Position] | None:
        """As `core.queue.kindergarten_positions` (one round trip for all choices); None as
        for `city_position`."""
        gen = await self.generation()
        if gen is None:
            return None
        if not choices:
            return []
        qt, year = str(application.queue_type), application.birth_year
        pipe = self.redis.pipeline(transaction=False)
        for c in choices:
            keys = [
                self.kg_key(gen, c.kindergarten_id, qt, year, str(c.language), s) for s in (0, 1, 2)
            ]
            self._queue(pipe, keys, application)
        replies = await pipe.execute()
        step = len(replies) // len(choices)
        out = []
        for i in range(len(choices)):
            position = self._answer(replies[i * step : (i + 1) * step], application, ratio)
            if position is None:
                return None
            out.append(position)
        return out

    @staticmethod
    def _queue(pipe: Pipeline, keys: list[str], application: Application) -> None:
        own_key = keys[int(application.stream)]
        for key in keys:
            pipe.zcard(key)
        if application.status == ApplicationStatus.active:
            pipe.zrank(own_key, member(application.number))
        else:  # the place it would take if restored now at its original time
            own_score = score(application.submitted_at)
            pipe.zcount(own_key, "-inf", f"({own_score}")
            pipe.zrangebyscore(own_key, own_score, own_score)

    @staticmethod
    def _answer(replies: list[Any], application: Application, ratio: int) -> Position | None:
        stream = Stream(application.stream)
        totals = [int(n) for n in replies[:3]]
        if application.status == ApplicationStatus.active:
            if replies[3] is None:
                return None  # not in the index yet: the caller counts instead
            before = int(replies[3])
        else:
            own = member(application.number)
            before = int(replies[3] or 0) + sum(
                1 for m in replies[4] or [] if (m.decode() if isinstance(m, bytes) else m) < own
            )
            totals[int(stream)] += 1
        return position_from(stream, before + 1, StreamCounts(*totals), ratio)


# The rebuild on PostgreSQL (`_write_from_postgres`). A score is computed as `score()` does
# in Python (float seconds times 10^6, truncated: IEEE doubles in both), a member as
# `member()`, a set's key suffix as `PositionIndex._suffixes`; each member is a "score member"
# pair of Redis bulk strings, concatenated per set (bytea: lengths are byte counts).
_SCORE_SQL = (
    "trunc(((extract(epoch FROM a.submitted_at) * 1000000)::bigint)::float8"
    " / 1000000::float8 * 1000000::float8)::bigint"
)
_SETS_SQL = f"""
WITH apps AS MATERIALIZED (
  SELECT a.id, a.city_id, a.queue_type || ':' || a.birth_year AS cohort, a.stream,
         convert_to('$' || length(s.score::text) || E'\\r\\n' || s.score || E'\\r\\n$15\\r\\n'
                    || lpad(a.number::text, 15, '0') || E'\\r\\n', 'UTF8') AS piece
  FROM application a, LATERAL (SELECT {_SCORE_SQL} AS score) s
  WHERE a.status = 'active'
), members AS (
  SELECT 'c:' || city_id || ':' || cohort || ':' || stream AS suffix, piece FROM apps
  UNION ALL
  SELECT 'k:' || c.kindergarten_id || ':' || a.cohort || ':' || c.language || ':' || a.stream,
         a.piece
  FROM apps a JOIN application_choice c ON c.application_id = a.id
)
SELECT suffix, count(*) AS n, string_agg(piece, ''::bytea) AS pieces FROM members GROUP BY suffix
"""
# The `built` hash: application id -> its sets' suffixes joined by "|" (city first, then the
# kindergartens in rank order), as HSET arguments per bucket of ids.
_BUILT_SQL = """
SELECT count(*) AS n,
       string_agg(convert_to('$' || length(id::text) || E'\\r\\n' || id || E'\\r\\n$'
                             || octet_length(sets) || E'\\r\\n' || sets || E'\\r\\n', 'UTF8'),
                  ''::bytea) AS pieces
FROM (
  SELECT a.id,
         'c:' || a.city_id || ':' || a.queue_type || ':' || a.birth_year || ':' || a.stream
         || coalesce(string_agg('|k:' || c.kindergarten_id || ':' || a.queue_type || ':'
                                || a.birth_year || ':' || c.language || ':' || a.stream,
                                '' ORDER BY c.rank), '') AS sets
  FROM application a LEFT JOIN application_choice c ON c.application_id = a.id
  WHERE a.status = 'active'
  GROUP BY a.id
) w
GROUP BY id / 10000
"""
_SETS_PREFETCH = 64  # rows (sets, or buckets of 10,000 applications) per cursor fetch
_PACKED_BYTES = 8 << 20  # protocol bytes per write to Redis

_ACTIVE_ROWS_SQL = """
SELECT a.id, a.number, a.city_id, a.queue_type, a.birth_year, a.stream, a.submitted_at,
       array_remove(array_agg(c.kindergarten_id ORDER BY c.rank), NULL) AS kindergartens,
       array_remove(array_agg(c.language ORDER BY c.rank), NULL) AS languages
FROM application a
LEFT JOIN application_choice c ON c.application_id = a.id
WHERE a.status = 'active'
GROUP BY a.id
"""


async def _active_rows() -> AsyncIterator[_Row]:
    """Every active application with its choices (kindergartens and languages in rank order):
    on PostgreSQL one statement streamed by a server-side cursor (no ORM objects); elsewhere
    the ORM in batches by id."""
    client = connections.get("default")
    if isinstance(client, AsyncpgDBClient):
        async with client.acquire_connection() as conn, conn.transaction(readonly=True):
            async for r in conn.cursor(_ACTIVE_ROWS_SQL, prefetch=_CHUNK):
                yield (r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7], r[8])
        return
    last_id = 0
    while True:
        apps = (
            await Application.filter(status=ApplicationStatus.active, id__gt=last_id)
            .order_by("id")
            .limit(_BATCH)
            .values("id", "number", "city_id", "queue_type", "birth_year", "stream", "submitted_at")
        )
        if not apps:
            return
        last_id = apps[-1]["id"]
        choices: dict[int, tuple[list[int], list[str]]] = {}
        for c in (
            await ApplicationChoice.filter(application_id__in=[a["id"] for a in apps])
            .order_by("rank")
            .values("application_id", "kindergarten_id", "language")
        ):
            kgs, languages = choices.setdefault(c["application_id"], ([], []))
            kgs.append(int(c["kindergarten_id"]))
            languages.append(str(c["language"]))
        for a in apps:
            kgs, languages = choices.get(a["id"], ([], []))
            yield (
                a["id"],
                a["number"],
                a["city_id"],
                str(a["queue_type"]),
                a["birth_year"],
                int(a["stream"]),
                a["submitted_at"],
                kgs,
                languages,
            )


def _bulk(value: bytes) -> bytes:
    return b"$%d\r\n%s\r\n" % (len(value), value)


class _Ordered(Protocol):
    """What places an application in the sets: an `Application`, or a row of one (rebuild)."""

    @property
    def city_id(self) -> int: ...
    @property
    def queue_type(self) -> str: ...
    @property
    def birth_year(self) -> int: ...
    @property
    def stream(self) -> int: ...


class _Chosen(Protocol):
    """A kindergarten choice: an `ApplicationChoice`, or a row of one (rebuild)."""

    @property
    def kindergarten_id(self) -> int: ...
    @property
    def language(self) -> str: ...
