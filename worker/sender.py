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

The parts: worker.claim (leases, `Claimed`), worker.gate (the per-chat gate), worker.rate (the
global pace), worker.coalescer (group commit). This module is the policy that joins them.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import time
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

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
from redis.asyncio import Redis
from tortoise.connection import get_connection

from bot.notifications import render
from core.models import Applicant, Channel, Notification, NotificationStatus, Phone
from core.notifications.kinds import load
from core.platform import clock
from core.platform.settings import Settings
from core.registry.ports import SmsGateway
from worker import claim as claims
from worker.botapi import send_text
from worker.claim import Claimed
from worker.coalescer import Coalescer
from worker.gate import make_gate
from worker.rate import RateLimiter

log = logging.getLogger(__name__)

# Delivered rows are marked `sent` together within this delay. Their request slots are held
# until then, so a worker killed inside it leaves at most `in_flight_limit` rows `unknown`.
FLUSH_DELAY = 0.02
# A claimed row waits in memory for its turn at the rate limiter (a tenth of a second of
# sending, longer during a 429 pause); a lease older than this belongs to a dead worker.
CLAIM_LEASE_SECONDS = 5.0
# In-flight marks of the requests that became due within this delay share one statement (the
# requests wait for it; the rate is unchanged, a group leaves together).
MARK_DELAY = 0.005
# Retries after a transient error wait 2 ** attempts seconds, at most this long.
MAX_RETRY_DELAY_SECONDS = 300.0
RETRY_BACKOFF_BASE = 2.0
SWEEP_INTERVAL_SECONDS = 1.0  # dead workers' rows are looked for this often
LOOP_ERROR_PAUSE_SECONDS = 1.0  # after an unexpected error of the loop, before it goes on
MAX_ERROR_LENGTH = 250  # notification.error is a short column
MAX_BATCH = 200  # rows claimed at once, and requests run at once, at most
MIN_IN_FLIGHT = 4
IN_FLIGHT_SECONDS = 0.25  # requests run at once: this much sending (latency + FLUSH_DELAY)
BATCHES_PER_SECOND = 10  # rows claimed at once: a tenth of a second of sending
IDLE_SECONDS = 0.2  # an empty outbox is looked at again after this
MAX_TELEGRAM_ERROR_LENGTH = 200
BROADCAST_TEXTS = 64  # rendered broadcast messages kept (per broadcast and language)


def in_flight_limit(settings: Settings) -> int:
    """Requests one worker runs at once = the most rows it can leave `unknown` when killed.

    A quarter of a second of sending: enough for the request latency plus FLUSH_DELAY.
    """
    return max(
        MIN_IN_FLIGHT, min(MAX_BATCH, math.ceil(settings.send_rate_per_second * IN_FLIGHT_SECONDS))
    )


def unknown_after(settings: Settings) -> timedelta:
    """Age of a `sending` row after which its worker is certainly gone."""
    return timedelta(seconds=settings.send_timeout_seconds * 2 + 2)


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
        self,
        bot: Bot | None,
        sms: SmsGateway | None,
        settings: Settings,
        *,
        redis: Redis | None = None,
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
        self._marks: Coalescer[Claimed, bool] = Coalescer(self._mark_in_flight, delay=MARK_DELAY)
        self._sent: Coalescer[int, None] = Coalescer(self._flush_sent, delay=FLUSH_DELAY)
        # A chat's lock is shortened to the interval a little after the answer (conservative).
        self._releases: Coalescer[tuple[int, bool], None] = Coalescer(
            self.gate.release, delay=FLUSH_DELAY
        )
        # Rows claimed at once: about a tenth of a second of sending, so that few rows wait in
        # `claimed` before their request goes out.
        self.batch = max(1, min(MAX_BATCH, int(settings.send_rate_per_second / BATCHES_PER_SECOND)))
        self._postgres = settings.is_postgres
        self._broadcast_texts: dict[tuple[int, str, str], render.Message] = {}

    # --- the loop -------------------------------------------------------------------------

    async def run(self, stop: asyncio.Event, *, idle: float = IDLE_SECONDS) -> None:
        # The next batch is claimed while the current one is being sent, so that the rate does
        # not sag by the time a claim takes.
        upcoming: asyncio.Task[list[Claimed]] | None = None
        try:
            while not stop.is_set():
                try:
                    if time.monotonic() - self._swept >= SWEEP_INTERVAL_SECONDS:
                        await self.sweep()
                        self._swept = time.monotonic()
                    if (pause := self.limiter.paused_for) > 0:
                        await sleep_or_stop(stop, pause)
                        continue
                    items = await (upcoming or self.claim(self.batch))
                    upcoming = None
                    if not items:
                        await sleep_or_stop(stop, idle)
                        continue
                    upcoming = asyncio.create_task(self.claim(self.batch))
                    await self.dispatch(items, stop)
                except asyncio.CancelledError:
                    raise
                except Exception:
                    upcoming = None
                    log.exception("sender loop failed; retrying")
                    await sleep_or_stop(stop, LOOP_ERROR_PAUSE_SECONDS)
        finally:
            self._stopping = True
            if upcoming is not None:
                # Claimed but not sent: give the rows back instead of waiting for the lease
                # (a claim cancelled mid-transaction rolled back and holds nothing).
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await self.release(await asyncio.shield(upcoming))
            await self.drain()
            await self.gate.close()

    async def release(self, items: list[Claimed]) -> None:
        """Give claimed rows back (no request was made for them)."""
        for item in items:
            await claims.unclaim(item, None)

    async def dispatch(self, items: list[Claimed], stop: asyncio.Event | None = None) -> None:
        for i, item in enumerate(items):
            if self._stopping or (stop is not None and stop.is_set()):
                await self.release(items[i:])
                return
            await self.limiter.acquire()
            await self._concurrency.acquire()
            task = asyncio.create_task(self._send_guarded(item))
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
        upcoming: asyncio.Task[list[Claimed]] | None = None
        try:
            while time.monotonic() < deadline:
                items = await (upcoming or self.claim(self.batch))
                upcoming = None
                if not items:
                    await self.drain()
                    if not await self.claim_possible(
                        within=self.settings.send_per_chat_interval + 0.5
                    ):
                        return
                    await asyncio.sleep(0.05)
                    continue
                upcoming = asyncio.create_task(self.claim(self.batch))
                await self.dispatch(items)
            if upcoming is not None:
                await self.release(await upcoming)
            await self.drain()
        finally:
            await self.gate.close()

    async def claim_possible(self, *, within: float = 0.0) -> bool:
        return await claims.due(clock.now() + timedelta(seconds=within)).exists()

    async def claim(self, limit: int) -> list[Claimed]:
        """Lease up to `limit` due rows (`claimed`, committed), one per chat at most."""
        return await claims.claim(limit, postgres=self._postgres, busy=self.gate.busy)

    async def sweep(self) -> tuple[int, int]:
        """Recover the rows of dead workers: expired leases back to `pending`; `sending` rows
        older than a request can take to `unknown` (never re-sent)."""
        requeued = await claims.requeue_expired(timedelta(seconds=self.lease))
        if requeued:
            log.warning("%d claimed notifications of a stopped worker sent again", requeued)
            self.stats.requeued += requeued
        unknown = await claims.give_up_in_flight(unknown_after(self.settings))
        if unknown:
            log.warning("%d notifications have an unknown outcome; not re-sent", unknown)
            self.stats.unknown += unknown
        return requeued, unknown

    # --- the in-flight mark ---------------------------------------------------------------

    async def _begin(self, item: Claimed) -> bool:
        """Just before the request: lock the chat and mark the row `sending` (committed).
        False: the request must not be made (lease lost, or the chat is busy: row re-queued)."""
        return await self._marks.submit(item)

    async def _mark_in_flight(self, items: list[Claimed]) -> list[bool]:
        chats = [item.chat for item in items]
        waits = await self.gate.acquire(chats)
        ready = [item for item, wait in zip(items, waits, strict=True) if wait == 0]
        marked = await claims.mark_sending(ready, clock.now(), postgres=self._postgres)
        lost = [
            chat
            for item, chat, wait in zip(items, chats, waits, strict=True)
            if wait == 0 and item.row.id not in marked
        ]
        if lost:  # lease expired and taken back: another worker sends these rows
            log.warning("lost the lease of %d notifications; skipped", len(lost))
            await self.gate.release([(chat, False) for chat in lost])
        for item, wait in zip(items, waits, strict=True):
            if wait > 0:  # the chat got a message from another worker less than interval ago
                await claims.unclaim(item, wait)
            elif item.row.id in marked:
                item.in_flight = True
                item.row.attempts += 1
        return [item.row.id in marked for item in items]

    # --- sending --------------------------------------------------------------------------

    async def _send_guarded(self, item: Claimed) -> None:
        delivered: asyncio.Future[None] | None = None
        try:
            try:
                delivered = await self.send(item)
            except Exception as exc:  # a bug must not leave the row claimed forever
                log.exception("notification %s failed unexpectedly", item.row.id)
                with contextlib.suppress(Exception):
                    await self._record(item, NotificationStatus.failed, error=repr(exc))
            if delivered is not None:
                # The slot is held until `sent` is committed, so that `sending` rows never
                # outnumber the requests in flight.
                try:
                    await delivered
                except Exception:
                    log.exception("cannot record delivered notification %s", item.row.id)
        finally:
            if item.in_flight:
                self._releases.submit((item.chat, True))
            self._concurrency.release()

    async def send(self, item: Claimed) -> asyncio.Future[None] | None:
        """Deliver one claimed row; returns the pending `sent` record of a delivered one."""
        row, applicant = item.row, item.recipient
        if applicant is None:
            await self._record(item, NotificationStatus.failed, error="no recipient")
            return None
        try:
            message = self._render(row)
            text = message.text
        except Exception as exc:
            log.exception("cannot render notification %s (%s)", row.id, row.kind)
            await self._record(item, NotificationStatus.failed, error=f"render: {exc!r}")
            return None
        chat_id = applicant.chat_id or applicant.telegram_user_id
        by_sms = row.channel == Channel.sms or applicant.blocked_bot or not chat_id
        if not await self._begin(item):
            return None
        if by_sms or self.bot is None:
            return await self._send_sms(item, applicant, message.sms, final=NotificationStatus.sent)
        markup = _markup(message.button)
        try:
            await send_text(
                self.bot,
                chat_id,
                text,
                reply_markup=markup,
                request_timeout=int(self.settings.send_timeout_seconds),
            )
        except TelegramRetryAfter as exc:
            log.warning("429 from Telegram: pausing %s s", exc.retry_after)
            self.limiter.pause(exc.retry_after)
            await self._retry(item, exc.retry_after, "retry_after", count_attempt=False)
        except TelegramForbiddenError:
            await Applicant.filter(id=applicant.id).update(blocked_bot=True)
            await self._record(item, NotificationStatus.blocked, error="bot blocked by the user")
            await self._send_sms(item, applicant, message.sms, final=None)
        except TelegramServerError as exc:
            await self._retry(item, None, f"server: {exc.message}")
        except (TelegramBadRequest, TelegramNotFound) as exc:
            error = exc.message[:MAX_TELEGRAM_ERROR_LENGTH]
            await self._record(item, NotificationStatus.failed, error=error)
        except TelegramNetworkError as exc:
            if isinstance(exc.__cause__, aiohttp.ClientConnectorError):
                await self._retry(item, None, "connection refused")  # nothing was sent
            else:  # a timeout or a dropped connection: the chat may have the message
                error = exc.message[:MAX_TELEGRAM_ERROR_LENGTH]
                await self._record(item, NotificationStatus.unknown, error=error)
        else:
            return await self._record(item, NotificationStatus.sent)
        return None

    def _render(self, row: Notification) -> render.Message:
        """The row's message; a broadcast's rows share one payload, so each language of it is
        rendered once."""
        payload, tz = load(row.kind, row.params or {}), self.settings.tz
        if row.broadcast_id is None:
            return render.render(payload, row.language, tz=tz)
        key = (row.broadcast_id, row.kind, row.language)
        message = self._broadcast_texts.get(key)
        if message is None:
            if len(self._broadcast_texts) >= BROADCAST_TEXTS:
                self._broadcast_texts.clear()
            message = self._broadcast_texts[key] = render.render(payload, row.language, tz=tz)
        return message

    async def _send_sms(
        self,
        item: Claimed,
        applicant: Applicant,
        text: str,
        *,
        final: NotificationStatus | None,
    ) -> asyncio.Future[None] | None:
        """SMS for the SMS channel (final=sent) or as the re-route after a 403 (final=None)."""
        row = item.row
        phone = await _phone_of(applicant)
        if phone is None or self.sms is None:
            if final is not None:
                await self._record(item, NotificationStatus.failed, error="no phone for sms")
            return None
        try:
            # The gateway de-duplicates on client_id, so a retry of the same key is safe.
            message_id = await self.sms.send(phone, text, row.idempotency_key)
        except Exception as exc:
            if final is None:
                log.warning("sms re-route of notification %s failed: %r", row.id, exc)
                await Notification.filter(id=row.id).update(
                    error=f"sms failed: {exc!r}"[:MAX_ERROR_LENGTH]
                )
            else:
                await self._retry(item, None, f"sms: {exc!r}")
            return None
        if final is None:
            await Notification.filter(id=row.id).update(
                error=f"rerouted by sms {message_id}"[:MAX_ERROR_LENGTH]
            )
            return None
        return await self._record(item, final, error=f"sms {message_id}"[:MAX_ERROR_LENGTH])

    async def _record(
        self, item: Claimed, status: NotificationStatus, error: str = ""
    ) -> asyncio.Future[None] | None:
        """Record an outcome. Plain successes are written in small batches (one UPDATE per
        batch); the returned future resolves when that batch is committed."""
        future: asyncio.Future[None] | None = None
        if status == NotificationStatus.sent and not error and item.in_flight:
            future = self._sent.submit(item.row.id)
        else:
            values: dict[str, Any] = {"status": status, "error": error[:MAX_ERROR_LENGTH]}
            if status in (NotificationStatus.sent, NotificationStatus.blocked):
                values["sent_at"] = clock.now()
            await Notification.filter(**item.owned()).update(**values)
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
        self, item: Claimed, after: float | None, error: str, *, count_attempt: bool = True
    ) -> None:
        attempts = item.row.attempts  # counted by the in-flight mark
        if count_attempt and attempts >= self.settings.send_max_attempts:
            await self._record(item, NotificationStatus.failed, error=error)
            return
        delay = (
            after
            if after is not None
            else min(MAX_RETRY_DELAY_SECONDS, RETRY_BACKOFF_BASE**attempts)
        )
        values: dict[str, Any] = {
            "status": NotificationStatus.pending,
            "next_attempt_at": clock.now() + timedelta(seconds=delay),
            "error": error[:MAX_ERROR_LENGTH],
        }
        if not count_attempt:
            values["attempts"] = max(0, attempts - 1)
        await Notification.filter(**item.owned()).update(**values)
        self.stats.retried += 1


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


async def outbox_depth() -> int:
    conn = get_connection("default")
    return await Notification.filter(status=NotificationStatus.pending).using_db(conn).count()


async def sleep_or_stop(stop: asyncio.Event, seconds: float) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), timeout=seconds)
