"""The outbox sender: delivers each notification once, at a global and a per-chat rate.

State machine of a row (core.models.NotificationStatus):

  pending --claim (lease, committed)--> claimed --in-flight mark (committed)--> sending
  sending --Bot API / SMS answer--> sent | failed | blocked
          \\--429 / transient error--> pending (next_attempt_at later)
  claimed --chat busy in another worker--> pending (next_attempt_at = when the chat is free)

A worker claims a batch of rows as a lease (`claimed`, next_attempt_at = the claim time, which
is also the lease's token). Immediately before each request it moves the row to `sending` with
a conditional UPDATE on that token (marks of concurrent requests are coalesced into one
statement), so a row is `sending` only while its request may have started: per worker at most
`in_flight_limit(settings)` rows, the number of requests it runs at once (the slot is held until
the outcome is committed). After a crash:
  - `claimed` rows whose lease expired (CLAIM_LEASE_SECONDS) go back to `pending`: they never
    reached the wire and are sent by the next worker;
  - `sending` rows older than a request can take become `unknown` and are never sent again:
    the request may or may not have reached the chat.
A worker that lost its lease (expired and taken back) fails the conditional mark and skips the
row, so two workers never request the same row.

Per-chat spacing (`send_per_chat_interval`) holds across worker processes: before the request
the chat is locked in Redis (SET NX, one Lua call for the coalesced group); when the answer
arrives the lock is shortened to the interval, so the next message to that chat, from any
worker, leaves at least the interval after the previous one was answered. Without Redis
(`redis_url` unset: single process) the same gate lives in memory.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import time
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Generic, TypeVar

import aiohttp
from aiogram import Bot
from aiogram.exceptions import (
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramNetworkError,
    TelegramNotFound,
    TelegramRetryAfter,
    TelegramServerError,
)
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup
from tortoise.connection import get_connection
from tortoise.transactions import in_transaction

from bot.notifications import render
from core.models import Applicant, Channel, Notification, NotificationStatus, Phone
from core.notifications.kinds import load
from core.platform import clock
from core.platform.settings import Settings

log = logging.getLogger(__name__)

PER_CHAT_HISTORY = 50_000  # chats remembered by the in-memory gate before pruning
# Delivered rows are marked `sent` together within this delay. Their request slots are held
# until then, so a worker killed inside it leaves at most `in_flight_limit` rows `unknown`.
FLUSH_DELAY = 0.02
# A claimed row waits in memory for its turn at the rate limiter (a tenth of a second of
# sending, longer during a 429 pause); a lease older than this belongs to a dead worker.
CLAIM_LEASE_SECONDS = 5.0
# In-flight marks of the requests that became due within this delay share one statement (the
# requests wait for it; the rate is unchanged, a group leaves together).
MARK_DELAY = 0.005
CHAT_KEY = "outbox:chat:{}"

T = TypeVar("T")
R = TypeVar("R")


def in_flight_limit(settings: Settings) -> int:
    """Requests one worker runs at once = the most rows it can leave `unknown` when killed.

    A quarter of a second of sending: enough for the request latency plus FLUSH_DELAY.
    """
    return max(4, min(200, math.ceil(settings.send_rate_per_second / 4)))


def unknown_after(settings: Settings) -> timedelta:
    """Age of a `sending` row after which its worker is certainly gone."""
    return timedelta(seconds=settings.send_timeout_seconds * 2 + 2)


class RateLimiter:
    """Global pacing (virtual scheduling, GCRA) plus a global pause for `retry_after`."""

    # A late wake-up (sleep overshoot on a busy machine) may be caught up within this window, so
    # the average rate is the configured one; the largest burst is rate × CATCH_UP messages.
    CATCH_UP = 0.05

    def __init__(self, rate: float) -> None:
        self.interval = 1.0 / rate
        self._next = 0.0
        self._paused_until = 0.0
        self._lock = asyncio.Lock()

    def pause(self, seconds: float) -> None:
        self._paused_until = max(self._paused_until, time.monotonic() + seconds)

    @property
    def paused_for(self) -> float:
        return max(0.0, self._paused_until - time.monotonic())

    async def acquire(self) -> None:
        async with self._lock:
            while True:
                now = time.monotonic()
                earliest = max(self._next, now - self.CATCH_UP)
                start = max(earliest, self._paused_until)
                if start <= now:
                    self._next = max(earliest, self._paused_until) + self.interval
                    return
                await asyncio.sleep(start - now)


class Coalescer(Generic[T, R]):
    """Group commit: items submitted while a batch is being handled go together in the next.

    `handle(items)` returns one result per item. With `delay` a batch also waits that long
    for company (used for outcomes, which nothing waits for except the request slot).
    """

    def __init__(
        self, handle: Callable[[list[T]], Awaitable[Sequence[R]]], *, delay: float = 0.0
    ) -> None:
        self._handle = handle
        self._delay = delay
        self._items: list[tuple[T, asyncio.Future[R]]] = []
        self._task: asyncio.Task[None] | None = None

    def submit(self, item: T) -> asyncio.Future[R]:
        future: asyncio.Future[R] = asyncio.get_running_loop().create_future()
        self._items.append((item, future))
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._run())
        return future

    async def _run(self) -> None:
        if self._delay:
            await asyncio.sleep(self._delay)
        while self._items:
            batch, self._items = self._items, []
            try:
                results = await self._handle([item for item, _ in batch])
            except Exception as exc:
                for _, future in batch:
                    if not future.done():
                        future.set_exception(exc)
                continue
            for (_, future), result in zip(batch, results, strict=True):
                if not future.done():
                    future.set_result(result)

    async def drain(self) -> None:
        while self._task is not None and not self._task.done():
            with contextlib.suppress(Exception):
                await asyncio.shield(self._task)


# --- per-chat gate ------------------------------------------------------------------------

# KEYS: chats; ARGV[1] = hold in ms, ARGV[2] = this worker's token.
# Returns per key 0 (locked for us) or the milliseconds until the chat is free.
_ACQUIRE_LUA = """
local out = {}
for i, key in ipairs(KEYS) do
  if redis.call('SET', key, ARGV[2], 'NX', 'PX', ARGV[1]) then
    out[i] = 0
  else
    local left = redis.call('PTTL', key)
    if left < 1 then left = 1 end
    out[i] = left
  end
end
return out
"""
# KEYS: chats; ARGV[1] = ms the chat stays closed from now (0: open it now), ARGV[2] = token.
_RELEASE_LUA = """
for _, key in ipairs(KEYS) do
  if redis.call('GET', key) == ARGV[2] then
    if tonumber(ARGV[1]) > 0 then
      redis.call('PEXPIRE', key, ARGV[1])
    else
      redis.call('DEL', key)
    end
  end
end
return 0
"""


class ChatGate:
    """One message per chat per interval, in this process; `RedisChatGate` across processes.

    `acquire` locks chats for the length of a request (`hold`); `release` keeps a chat closed
    for `interval` from the answer (or opens it at once when nothing was sent).
    """

    def __init__(self, interval: float, hold: float) -> None:
        self.interval = interval
        self.hold = hold
        self._until: dict[int, float] = {}

    def busy(self, chat: int) -> bool:
        until = self._until.get(chat)
        return until is not None and until > time.monotonic()

    async def acquire(self, chats: list[int]) -> list[float]:
        """Seconds to wait per chat; 0 means locked for this worker."""
        now = time.monotonic()
        waits: list[float] = []
        for chat in chats:
            until = self._until.get(chat, 0.0)
            if until > now:
                waits.append(until - now)
            else:
                self._until[chat] = now + self.hold
                waits.append(0.0)
        if len(self._until) > PER_CHAT_HISTORY:
            self._until = {k: v for k, v in self._until.items() if v > now}
        return waits

    async def release(self, chats: list[tuple[int, bool]]) -> list[None]:
        """(chat, sent): a sent chat stays closed for the interval, an unsent one opens."""
        now = time.monotonic()
        for chat, sent in chats:
            if sent:
                self._until[chat] = now + self.interval
            else:
                self._until.pop(chat, None)
        return [None] * len(chats)

    async def close(self) -> None:
        return None


class RedisChatGate(ChatGate):
    def __init__(self, redis: Any, interval: float, hold: float, *, owned: bool) -> None:
        super().__init__(interval, hold)
        self.redis = redis
        self.token = uuid.uuid4().hex
        self._owned = owned
        self._acquire = redis.register_script(_ACQUIRE_LUA)
        self._release = redis.register_script(_RELEASE_LUA)

    async def acquire(self, chats: list[int]) -> list[float]:
        # The local view first: a chat this worker just used needs no round trip.
        waits = await super().acquire(chats)
        ask = [i for i, wait in enumerate(waits) if wait == 0]
        if ask:
            answers = await self._acquire(
                keys=[CHAT_KEY.format(chats[i]) for i in ask],
                args=[max(1, int(self.hold * 1000)), self.token],
            )
            refused = []
            for i, left in zip(ask, answers, strict=True):
                if int(left) > 0:
                    waits[i] = int(left) / 1000
                    refused.append((chats[i], False))
            if refused:
                await super().release(refused)
        return waits

    async def release(self, chats: list[tuple[int, bool]]) -> list[None]:
        await super().release(chats)
        try:
            for sent in (True, False):
                keys = [CHAT_KEY.format(chat) for chat, s in chats if s is sent]
                if keys:
                    ms = max(1, int(self.interval * 1000)) if sent else 0
                    await self._release(keys=keys, args=[ms, self.token])
        except Exception as exc:  # the locks expire by themselves after `hold`
            log.warning("cannot release chat locks: %r", exc)
        return [None] * len(chats)

    async def close(self) -> None:
        if self._owned:
            with contextlib.suppress(Exception):
                await self.redis.aclose()


def make_gate(settings: Settings, redis: Any | None) -> ChatGate:
    interval = settings.send_per_chat_interval
    hold = settings.send_timeout_seconds + interval + 1.0
    if redis is not None:
        return RedisChatGate(redis, interval, hold, owned=False)
    if settings.redis_url:
        from core.platform.redis import make_redis

        return RedisChatGate(make_redis(settings), interval, hold, owned=True)
    return ChatGate(interval, hold)


# --- the sender ---------------------------------------------------------------------------


@dataclass
class SendStats:
    sent: int = 0
    failed: int = 0
    blocked: int = 0
    retried: int = 0
    unknown: int = 0
    requeued: int = 0  # expired leases of a dead worker given back
    started: float = field(default_factory=time.monotonic)


class Sender:
    def __init__(
        self, bot: Bot | None, sms: Any, settings: Settings, *, redis: Any | None = None
    ) -> None:
        self.bot = bot
        self.sms = sms
        self.settings = settings
        self.limiter = RateLimiter(settings.send_rate_per_second)
        self.stats = SendStats()
        self.gate = make_gate(settings, redis)
        self.in_flight = in_flight_limit(settings)
        self.lease = CLAIM_LEASE_SECONDS
        self._tasks: set[asyncio.Task[None]] = set()
        self._swept = 0.0
        self._stopping = False
        self._concurrency = asyncio.Semaphore(self.in_flight)
        self._marks: Coalescer[Notification, bool] = Coalescer(
            self._mark_in_flight, delay=MARK_DELAY
        )
        self._sent: Coalescer[int, None] = Coalescer(self._flush_sent, delay=FLUSH_DELAY)
        # A chat's lock is shortened to the interval a little after the answer (conservative).
        self._releases: Coalescer[tuple[int, bool], None] = Coalescer(
            self.gate.release, delay=FLUSH_DELAY
        )
        # Rows claimed at once: about a tenth of a second of sending, so that few rows wait in
        # `claimed` before their request goes out.
        self.batch = max(1, min(200, int(settings.send_rate_per_second / 10)))
        self._postgres = settings.is_postgres

    # --- the loop -------------------------------------------------------------------------

    async def run(self, stop: asyncio.Event, *, idle: float = 0.2) -> None:
        # The next batch is claimed while the current one is being sent, so that the rate does
        # not sag by the time a claim takes.
        upcoming: asyncio.Task[list[Notification]] | None = None
        try:
            while not stop.is_set():
                try:
                    if time.monotonic() - self._swept >= 1.0:
                        await self.sweep()
                        self._swept = time.monotonic()
                    if (pause := self.limiter.paused_for) > 0:
                        await _sleep_or_stop(stop, pause)
                        continue
                    rows = await (upcoming or self.claim(self.batch))
                    upcoming = None
                    if not rows:
                        await _sleep_or_stop(stop, idle)
                        continue
                    upcoming = asyncio.create_task(self.claim(self.batch))
                    await self.dispatch(rows, stop)
                except asyncio.CancelledError:
                    raise
                except Exception:
                    upcoming = None
                    log.exception("sender loop failed; retrying")
                    await _sleep_or_stop(stop, 1.0)
        finally:
            self._stopping = True
            if upcoming is not None:
                # Claimed but not sent: give the rows back instead of waiting for the lease
                # (a claim cancelled mid-transaction rolled back and holds nothing).
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await self.release(await asyncio.shield(upcoming))
            await self.drain()
            await self.gate.close()

    async def release(self, rows: list[Notification]) -> None:
        """Give claimed rows back (no request was made for them)."""
        for row in rows:
            await self._unclaim(row, None)

    async def dispatch(self, rows: list[Notification], stop: asyncio.Event | None = None) -> None:
        for i, row in enumerate(rows):
            if self._stopping or (stop is not None and stop.is_set()):
                await self.release(rows[i:])
                return
            await self.limiter.acquire()
            await self._concurrency.acquire()
            task = asyncio.create_task(self._send_guarded(row))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def drain(self) -> None:
        if self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)
        await self._marks.drain()
        await self._sent.drain()
        await self._releases.drain()

    async def run_until_empty(self, *, within: float = 60.0) -> None:
        """Send everything due now, and what waits only for its chat's interval (tests and
        one-shot runs)."""
        deadline = time.monotonic() + within
        upcoming: asyncio.Task[list[Notification]] | None = None
        try:
            while time.monotonic() < deadline:
                rows = await (upcoming or self.claim(self.batch))
                upcoming = None
                if not rows:
                    await self.drain()
                    if not await self.claim_possible(
                        within=self.settings.send_per_chat_interval + 0.5
                    ):
                        return
                    await asyncio.sleep(0.05)
                    continue
                upcoming = asyncio.create_task(self.claim(self.batch))
                await self.dispatch(rows)
            if upcoming is not None:
                await self.release(await upcoming)
            await self.drain()
        finally:
            await self.gate.close()

    async def claim_possible(self, *, within: float = 0.0) -> bool:
        return await _due(clock.now() + timedelta(seconds=within)).exists()

    # --- claiming -------------------------------------------------------------------------

    async def claim(self, limit: int) -> list[Notification]:
        """Lease up to `limit` due rows (`claimed`, committed), one per chat at most."""
        now = clock.now()
        picked: list[int] = []
        async with in_transaction() as conn:
            if self._postgres:
                candidates = await conn.execute_query_dict(
                    "SELECT n.id, n.applicant_id FROM notification n"
                    " WHERE n.status = 'pending'"
                    " AND (n.next_attempt_at IS NULL OR n.next_attempt_at <= $1)"
                    " AND (n.broadcast_id IS NULL OR NOT EXISTS (SELECT 1 FROM broadcast b"
                    "      WHERE b.id = n.broadcast_id AND b.status = 'paused'))"
                    " ORDER BY (n.broadcast_id IS NOT NULL), n.id"
                    " LIMIT $2 FOR UPDATE OF n SKIP LOCKED",
                    [now, limit * 2],
                )
            else:
                candidates = [
                    {"id": row.id, "applicant_id": row.applicant_id}
                    for row in await _due(now).using_db(conn).order_by("id").limit(limit * 2)
                ]
            seen: set[int] = set()
            for candidate in candidates:
                chat = _chat(candidate["applicant_id"], candidate["id"])
                if chat in seen or self.gate.busy(chat):
                    continue
                seen.add(chat)
                picked.append(candidate["id"])
                if len(picked) >= limit:
                    break
            if picked:
                # next_attempt_at is the claim time while a row is `claimed`: the lease's age
                # and its token (the in-flight mark checks it).
                await (
                    Notification.filter(id__in=picked, status=NotificationStatus.pending)
                    .using_db(conn)
                    .update(status=NotificationStatus.claimed, next_attempt_at=now)
                )
        if not picked:
            return []
        rows = await Notification.filter(id__in=picked).order_by("id")
        applicants = {
            a.id: a
            for a in await Applicant.filter(id__in={r.applicant_id for r in rows if r.applicant_id})
        }
        for row in rows:
            row._recipient = applicants.get(row.applicant_id)  # type: ignore[attr-defined]
            row._lease = row.next_attempt_at  # type: ignore[attr-defined]
            row._in_flight = False  # type: ignore[attr-defined]
        return rows

    async def sweep(self) -> tuple[int, int]:
        """Recover the rows of dead workers: expired leases back to `pending`; `sending` rows
        older than a request can take to `unknown` (never re-sent)."""
        now = clock.now()
        requeued = await Notification.filter(
            status=NotificationStatus.claimed,
            next_attempt_at__lt=now - timedelta(seconds=self.lease),
        ).update(status=NotificationStatus.pending, next_attempt_at=None)
        if requeued:
            log.warning("%d claimed notifications of a stopped worker sent again", requeued)
            self.stats.requeued += requeued
        unknown = await Notification.filter(
            status=NotificationStatus.sending,
            next_attempt_at__lt=now - unknown_after(self.settings),
        ).update(status=NotificationStatus.unknown, error="worker stopped during the request")
        if unknown:
            log.warning("%d notifications have an unknown outcome; not re-sent", unknown)
            self.stats.unknown += unknown
        return requeued, unknown

    # --- the in-flight mark ---------------------------------------------------------------

    async def _begin(self, row: Notification) -> bool:
        """Just before the request: lock the chat and mark the row `sending` (committed).
        False: the request must not be made (lease lost, or the chat is busy: row re-queued)."""
        return await self._marks.submit(row)

    async def _mark_in_flight(self, rows: list[Notification]) -> list[bool]:
        chats = [_chat(r.applicant_id, r.id) for r in rows]
        waits = await self.gate.acquire(chats)
        ready = [r for r, wait in zip(rows, waits, strict=True) if wait == 0]
        now = clock.now()
        marked: set[int] = set()
        if ready and self._postgres:
            conn = get_connection("default")
            answer = await conn.execute_query_dict(
                "UPDATE notification n SET status = 'sending', attempts = n.attempts + 1,"
                " next_attempt_at = $1"
                " FROM unnest($2::bigint[], $3::timestamptz[]) AS lease(id, claimed_at)"
                " WHERE n.id = lease.id AND n.status = 'claimed'"
                " AND n.next_attempt_at = lease.claimed_at"
                " RETURNING n.id",
                [now, [r.id for r in ready], [r._lease for r in ready]],  # type: ignore[attr-defined]
            )
            marked = {a["id"] for a in answer}
        else:
            for row in ready:
                if await Notification.filter(
                    id=row.id,
                    status=NotificationStatus.claimed,
                    next_attempt_at=row._lease,  # type: ignore[attr-defined]
                ).update(
                    status=NotificationStatus.sending,
                    attempts=row.attempts + 1,
                    next_attempt_at=now,
                ):
                    marked.add(row.id)
        lost = [
            chat
            for r, chat, wait in zip(rows, chats, waits, strict=True)
            if wait == 0 and r.id not in marked
        ]
        if lost:  # lease expired and taken back: another worker sends these rows
            log.warning("lost the lease of %d notifications; skipped", len(lost))
            await self.gate.release([(chat, False) for chat in lost])
        for row, wait in zip(rows, waits, strict=True):
            if wait > 0:  # the chat got a message from another worker less than interval ago
                await self._unclaim(row, wait)
            elif row.id in marked:
                row._in_flight = True  # type: ignore[attr-defined]
                row.attempts += 1
        return [row.id in marked for row in rows]

    async def _unclaim(self, row: Notification, wait: float | None) -> None:
        await Notification.filter(
            id=row.id,
            status=NotificationStatus.claimed,
            next_attempt_at=row._lease,  # type: ignore[attr-defined]
        ).update(
            status=NotificationStatus.pending,
            next_attempt_at=None if wait is None else clock.now() + timedelta(seconds=wait),
        )

    # --- sending --------------------------------------------------------------------------

    async def _send_guarded(self, row: Notification) -> None:
        delivered: asyncio.Future[None] | None = None
        try:
            try:
                delivered = await self.send(row, getattr(row, "_recipient", None))
            except Exception as exc:  # a bug must not leave the row claimed forever
                log.exception("notification %s failed unexpectedly", row.id)
                with contextlib.suppress(Exception):
                    await self._record(row, NotificationStatus.failed, error=repr(exc))
            if delivered is not None:
                # The slot is held until `sent` is committed, so that `sending` rows never
                # outnumber the requests in flight.
                try:
                    await delivered
                except Exception:
                    log.exception("cannot record delivered notification %s", row.id)
        finally:
            if getattr(row, "_in_flight", False):
                self._releases.submit((_chat(row.applicant_id, row.id), True))
            self._concurrency.release()

    async def send(
        self, row: Notification, applicant: Applicant | None
    ) -> asyncio.Future[None] | None:
        """Deliver one claimed row; returns the pending `sent` record of a delivered one."""
        if applicant is None:
            await self._record(row, NotificationStatus.failed, error="no recipient")
            return None
        try:
            message = render.render(
                load(row.kind, row.params or {}), row.language, tz=self.settings.tz
            )
            text = message.text
        except Exception as exc:
            log.exception("cannot render notification %s (%s)", row.id, row.kind)
            await self._record(row, NotificationStatus.failed, error=f"render: {exc!r}")
            return None
        chat_id = applicant.chat_id or applicant.telegram_user_id
        by_sms = row.channel == Channel.sms or applicant.blocked_bot or not chat_id
        if not await self._begin(row):
            return None
        if by_sms or self.bot is None:
            return await self._send_sms(row, applicant, text, final=NotificationStatus.sent)
        markup = _markup(message.button)
        try:
            await self.bot.send_message(
                chat_id,
                text,
                parse_mode="HTML",
                reply_markup=markup,
                request_timeout=int(self.settings.send_timeout_seconds),
            )
        except TelegramRetryAfter as exc:
            log.warning("429 from Telegram: pausing %s s", exc.retry_after)
            self.limiter.pause(exc.retry_after)
            await self._retry(row, exc.retry_after, "retry_after", count_attempt=False)
        except TelegramForbiddenError:
            await Applicant.filter(id=applicant.id).update(blocked_bot=True)
            await self._record(row, NotificationStatus.blocked, error="bot blocked by the user")
            await self._send_sms(row, applicant, text, final=None)
        except TelegramServerError as exc:
            await self._retry(row, None, f"server: {exc.message}")
        except (TelegramBadRequest, TelegramNotFound) as exc:
            await self._record(row, NotificationStatus.failed, error=exc.message[:200])
        except TelegramNetworkError as exc:
            if isinstance(exc.__cause__, aiohttp.ClientConnectorError):
                await self._retry(row, None, "connection refused")  # nothing was sent
            else:  # a timeout or a dropped connection: the chat may have the message
                await self._record(row, NotificationStatus.unknown, error=exc.message[:200])
        else:
            return await self._record(row, NotificationStatus.sent)
        return None

    async def _send_sms(
        self,
        row: Notification,
        applicant: Applicant,
        text: str,
        *,
        final: NotificationStatus | None,
    ) -> asyncio.Future[None] | None:
        """SMS for the SMS channel (final=sent) or as the re-route after a 403 (final=None)."""
        phone = await _phone_of(applicant)
        if phone is None or self.sms is None:
            if final is not None:
                await self._record(row, NotificationStatus.failed, error="no phone for sms")
            return None
        try:
            # The gateway de-duplicates on client_id, so a retry of the same key is safe.
            message_id = await self.sms.send(phone, render.plain(text), row.idempotency_key)
        except Exception as exc:
            if final is None:
                log.warning("sms re-route of notification %s failed: %r", row.id, exc)
                await Notification.filter(id=row.id).update(error=f"sms failed: {exc!r}"[:250])
            else:
                await self._retry(row, None, f"sms: {exc!r}")
            return None
        if final is None:
            await Notification.filter(id=row.id).update(error=f"rerouted by sms {message_id}"[:250])
            return None
        return await self._record(row, final, error=f"sms {message_id}"[:250])

    def _current(self, row: Notification) -> dict[str, Any]:
        """The filter that finds the row only while this worker still owns it."""
        if getattr(row, "_in_flight", False):
            return {"id": row.id, "status": NotificationStatus.sending}
        return {
            "id": row.id,
            "status": NotificationStatus.claimed,
            "next_attempt_at": row._lease,  # type: ignore[attr-defined]
        }

    async def _record(
        self, row: Notification, status: NotificationStatus, error: str = ""
    ) -> asyncio.Future[None] | None:
        """Record an outcome. Plain successes are written in small batches (one UPDATE per
        batch); the returned future resolves when that batch is committed."""
        future: asyncio.Future[None] | None = None
        if status == NotificationStatus.sent and not error and row._in_flight:  # type: ignore[attr-defined]
            future = self._sent.submit(row.id)
        else:
            values: dict[str, Any] = {"status": status, "error": error[:250]}
            if status in (NotificationStatus.sent, NotificationStatus.blocked):
                values["sent_at"] = clock.now()
            await Notification.filter(**self._current(row)).update(**values)
        if status == NotificationStatus.sent:
            self.stats.sent += 1
        elif status == NotificationStatus.blocked:
            self.stats.blocked += 1
        elif status == NotificationStatus.unknown:
            self.stats.unknown += 1
        else:
            self.stats.failed += 1
        return future

    async def _flush_sent(self, ids: list[int]) -> list[None]:
        await Notification.filter(id__in=ids, status=NotificationStatus.sending).update(
            status=NotificationStatus.sent, sent_at=clock.now(), error=""
        )
        return [None] * len(ids)

    async def flush(self) -> None:
        await self._sent.drain()

    async def _retry(
        self, row: Notification, after: float | None, error: str, *, count_attempt: bool = True
    ) -> None:
        attempts = row.attempts  # counted by the in-flight mark
        if count_attempt and attempts >= self.settings.send_max_attempts:
            await self._record(row, NotificationStatus.failed, error=error)
            return
        delay = after if after is not None else min(300.0, 2.0**attempts)
        values: dict[str, Any] = {
            "status": NotificationStatus.pending,
            "next_attempt_at": clock.now() + timedelta(seconds=delay),
            "error": error[:250],
        }
        if not count_attempt:
            values["attempts"] = max(0, attempts - 1)
        await Notification.filter(**self._current(row)).update(**values)
        self.stats.retried += 1


def _chat(applicant_id: int | None, row_id: int) -> int:
    """The per-chat key of a row: its recipient (a row without one is its own chat)."""
    return applicant_id or -row_id


def _markup(button: render.Button | None) -> InlineKeyboardMarkup | None:
    if button is None:
        return None
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [InlineKeyboardButton(text=button.text, callback_data=button.callback_data)]
        ]
    )


async def _phone_of(applicant: Applicant) -> str | None:
    phone = (
        await Phone.filter(applicant_id=applicant.id, verified_at__isnull=False)
        .order_by("verified_at")
        .first()
    ) or await Phone.filter(applicant_id=applicant.id).order_by("id").first()
    return phone.number if phone else None


def _due(now: datetime):  # type: ignore[no-untyped-def]
    from tortoise.expressions import Q

    return Notification.filter(
        Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now),
        Q(broadcast_id__isnull=True) | Q(broadcast__status__not="paused"),
        status=NotificationStatus.pending,
    )


async def outbox_depth() -> int:
    conn = get_connection("default")
    return await Notification.filter(status=NotificationStatus.pending).using_db(conn).count()


async def _sleep_or_stop(stop: asyncio.Event, seconds: float) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), timeout=seconds)
