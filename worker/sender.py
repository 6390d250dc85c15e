"""The outbox sender: delivers each notification once, at a global and a per-chat rate.

State machine of a row (core.models.NotificationStatus):
  pending --claim+commit--> sending --Bot API / SMS answer--> sent | failed | blocked
                                   \\--429 / transient error--> pending (next_attempt_at later)
  sending rows whose worker died (claimed longer ago than the request timeout allows) become
  unknown and are never sent again: the request may or may not have reached the chat.
The claim is committed before the HTTP call, so a restarted worker never repeats a request.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
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
from tortoise.connection import get_connection
from tortoise.expressions import F
from tortoise.transactions import in_transaction

from core import clock
from core.models import Applicant, Channel, Notification, NotificationStatus, Phone
from core.settings import Settings
from worker import templates

log = logging.getLogger(__name__)

PER_CHAT_HISTORY = 50_000  # remembered chats for the per-chat interval
# Delivered rows are marked `sent` together within this delay; a worker killed inside it leaves
# them `unknown` (never re-sent), which is the safe side.
FLUSH_DELAY = 0.05


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


@dataclass
class SendStats:
    sent: int = 0
    failed: int = 0
    blocked: int = 0
    retried: int = 0
    unknown: int = 0
    started: float = field(default_factory=time.monotonic)


class Sender:
    def __init__(self, bot: Bot | None, sms: Any, settings: Settings) -> None:
        self.bot = bot
        self.sms = sms
        self.settings = settings
        self.limiter = RateLimiter(settings.send_rate_per_second)
        self.stats = SendStats()
        self._last_chat: dict[int, float] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._sent_buffer: list[int] = []
        self._swept = 0.0
        self._flush_task: asyncio.Task[None] | None = None
        self._concurrency = asyncio.Semaphore(max(4, min(200, int(settings.send_rate_per_second))))
        # Rows claimed at once: about a tenth of a second of sending, so that few rows wait in
        # `sending` before their request goes out.
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
                        await self.mark_unknown()
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
                    await self.dispatch(rows)
                except asyncio.CancelledError:
                    raise
                except Exception:
                    upcoming = None
                    log.exception("sender loop failed; retrying")
                    await _sleep_or_stop(stop, 1.0)
        finally:
            if upcoming is not None:
                # Claimed but not sent: give the rows back instead of leaving them `sending`
                # (a claim cancelled mid-transaction rolled back and holds nothing).
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await self.release(await asyncio.shield(upcoming))
            await self.drain()

    async def release(self, rows: list[Notification]) -> None:
        if rows:
            await Notification.filter(
                id__in=[r.id for r in rows], status=NotificationStatus.sending
            ).update(status=NotificationStatus.pending, attempts=F("attempts") - 1)

    async def dispatch(self, rows: list[Notification]) -> None:
        for row in rows:
            await self.limiter.acquire()
            await self._concurrency.acquire()
            applicant = getattr(row, "_recipient", None)
            task = asyncio.create_task(self._send_guarded(row, applicant))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def drain(self) -> None:
        if self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)
        await self.flush()

    async def run_until_empty(self, *, within: float = 60.0) -> None:
        """Send everything due now (tests and one-shot runs)."""
        deadline = time.monotonic() + within
        upcoming: asyncio.Task[list[Notification]] | None = None
        while time.monotonic() < deadline:
            rows = await (upcoming or self.claim(self.batch))
            upcoming = None
            if not rows:
                await self.drain()
                if not await self.claim_possible():
                    return
                await asyncio.sleep(0.05)
                continue
            upcoming = asyncio.create_task(self.claim(self.batch))
            await self.dispatch(rows)
        if upcoming is not None:
            await self.release(await upcoming)
        await self.drain()

    async def claim_possible(self) -> bool:
        return await _due(clock.now()).exists()

    # --- claiming -------------------------------------------------------------------------

    async def claim(self, limit: int) -> list[Notification]:
        """Move up to `limit` due rows to `sending` and commit, one per chat at most."""
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
            mono = time.monotonic()
            for candidate in candidates:
                chat = candidate["applicant_id"] or -candidate["id"]
                if chat in seen:
                    continue
                last = self._last_chat.get(chat)
                if last is not None and mono - last < self.settings.send_per_chat_interval:
                    continue
                seen.add(chat)
                picked.append(candidate["id"])
                if len(picked) >= limit:
                    break
            if picked:
                # next_attempt_at doubles as the claim time while a row is `sending`.
                await (
                    Notification.filter(id__in=picked, status=NotificationStatus.pending)
                    .using_db(conn)
                    .update(
                        status=NotificationStatus.sending,
                        attempts=F("attempts") + 1,
                        next_attempt_at=now,
                    )
                )
        if not picked:
            return []
        for chat_id in (r["applicant_id"] for r in candidates if r["id"] in set(picked)):
            if chat_id:
                self._last_chat[chat_id] = time.monotonic()
        if len(self._last_chat) > PER_CHAT_HISTORY:
            self._forget_old_chats()
        rows = await Notification.filter(id__in=picked).order_by("id")
        applicants = {
            a.id: a
            for a in await Applicant.filter(id__in={r.applicant_id for r in rows if r.applicant_id})
        }
        for row in rows:
            row._recipient = applicants.get(row.applicant_id)  # type: ignore[attr-defined]
        return rows

    async def mark_unknown(self) -> int:
        """Rows stuck in `sending` longer than a request can take: their worker died."""
        limit = clock.now() - timedelta(seconds=self.settings.send_timeout_seconds * 2 + 2)
        changed = await Notification.filter(
            status=NotificationStatus.sending, next_attempt_at__lt=limit
        ).update(status=NotificationStatus.unknown, error="worker stopped during the request")
        if changed:
            log.warning("%d notifications have an unknown outcome; not re-sent", changed)
            self.stats.unknown += changed
        return changed

    def _forget_old_chats(self) -> None:
        horizon = time.monotonic() - self.settings.send_per_chat_interval
        self._last_chat = {k: v for k, v in self._last_chat.items() if v >= horizon}

    # --- sending --------------------------------------------------------------------------

    async def _send_guarded(self, row: Notification, applicant: Applicant | None) -> None:
        try:
            await self.send(row, applicant)
        except Exception as exc:  # a bug must not leave the row claimed forever
            log.exception("notification %s failed unexpectedly", row.id)
            await self._record(row, NotificationStatus.failed, error=repr(exc))
        finally:
            self._concurrency.release()

    async def send(self, row: Notification, applicant: Applicant | None) -> None:
        if applicant is None:
            await self._record(row, NotificationStatus.failed, error="no recipient")
            return
        try:
            params = await enrich(row.params or {})
            text = templates.render(row.kind, params, row.language, tz=self.settings.tz)
        except Exception as exc:
            log.exception("cannot render notification %s (%s)", row.id, row.kind)
            await self._record(row, NotificationStatus.failed, error=f"render: {exc!r}")
            return
        chat_id = applicant.chat_id or applicant.telegram_user_id
        by_sms = row.channel == Channel.sms or applicant.blocked_bot or not chat_id
        if by_sms or self.bot is None:
            await self._send_sms(row, applicant, text, final=NotificationStatus.sent)
            return
        markup = _markup(row.kind, params, row.language)
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
            await self._record(row, NotificationStatus.sent)

    async def _send_sms(
        self,
        row: Notification,
        applicant: Applicant,
        text: str,
        *,
        final: NotificationStatus | None,
    ) -> None:
        """SMS for the SMS channel (final=sent) or as the re-route after a 403 (final=None)."""
        phone = await _phone_of(applicant)
        if phone is None or self.sms is None:
            if final is not None:
                await self._record(row, NotificationStatus.failed, error="no phone for sms")
            return
        try:
            # The gateway de-duplicates on client_id, so a retry of the same key is safe.
            message_id = await self.sms.send(phone, templates.plain(text), row.idempotency_key)
        except Exception as exc:
            if final is None:
                log.warning("sms re-route of notification %s failed: %r", row.id, exc)
                await Notification.filter(id=row.id).update(error=f"sms failed: {exc!r}"[:250])
            else:
                await self._retry(row, None, f"sms: {exc!r}")
            return
        if final is None:
            await Notification.filter(id=row.id).update(error=f"rerouted by sms {message_id}"[:250])
        else:
            await self._record(row, final, error=f"sms {message_id}"[:250])

    async def _record(self, row: Notification, status: NotificationStatus, error: str = "") -> None:
        """Record an outcome; successes are written in small batches (one UPDATE per batch)."""
        if status == NotificationStatus.sent and not error:
            self._sent_buffer.append(row.id)
            if self._flush_task is None or self._flush_task.done():
                self._flush_task = asyncio.create_task(self._flush_later())
        else:
            values: dict[str, Any] = {"status": status, "error": error[:250]}
            if status in (NotificationStatus.sent, NotificationStatus.blocked):
                values["sent_at"] = clock.now()
            await Notification.filter(id=row.id, status=NotificationStatus.sending).update(**values)
        if status == NotificationStatus.sent:
            self.stats.sent += 1
        elif status == NotificationStatus.blocked:
            self.stats.blocked += 1
        elif status == NotificationStatus.unknown:
            self.stats.unknown += 1
        else:
            self.stats.failed += 1

    async def _flush_later(self) -> None:
        await asyncio.sleep(FLUSH_DELAY)
        await self.flush()

    async def flush(self) -> None:
        while self._sent_buffer:
            ids, self._sent_buffer = self._sent_buffer, []
            await Notification.filter(id__in=ids, status=NotificationStatus.sending).update(
                status=NotificationStatus.sent, sent_at=clock.now(), error=""
            )

    async def _retry(
        self, row: Notification, after: float | None, error: str, *, count_attempt: bool = True
    ) -> None:
        attempts = row.attempts  # loaded after the claim, which counted this attempt
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
            values["attempts"] = F("attempts") - 1
        await Notification.filter(id=row.id, status=NotificationStatus.sending).update(**values)
        self.stats.retried += 1


async def enrich(params: dict[str, Any]) -> dict[str, Any]:
    """Fill names and dates that a notification refers to by id (kindergarten, group, ...)."""
    from core.models import Application, Group, Kindergarten, Referral, SeatRelease

    out = dict(params)
    if "kindergarten_id" in out and not _has(out, "kindergarten"):
        kg = await Kindergarten.filter(id=out["kindergarten_id"]).first()
        if kg:
            out["kindergarten_ru"], out["kindergarten_kk"] = kg.name_ru, kg.name_kk
    if "group_id" in out and not _has(out, "group"):
        group = await Group.filter(id=out["group_id"]).first()
        if group:
            out["group"] = group.name
    if "release_id" in out and not out.get("priority_end_at"):
        release = await SeatRelease.filter(id=out["release_id"]).first()
        if release:
            out["priority_end_at"] = release.priority_end_at.isoformat()
            if not _has(out, "kindergarten"):
                out.setdefault("kindergarten_id", release.kindergarten_id)
                out.setdefault("group_id", release.group_id)
                return await enrich(out)
    if "referral_id" in out and not out.get("referral_number"):
        referral = await Referral.filter(id=out["referral_id"]).first()
        if referral:
            out["referral_number"] = referral.number
            out.setdefault("expires_at", referral.expires_at.isoformat())
    if "application_id" in out and not out.get("number"):
        application = await Application.filter(id=out["application_id"]).first()
        if application:
            out["number"] = application.number
    return out


def _has(params: dict[str, Any], name: str) -> bool:
    return any(params.get(k) for k in (name, f"{name}_ru", f"{name}_kk", f"{name}_name"))


def _markup(kind: str, params: dict[str, Any], language: str) -> InlineKeyboardMarkup | None:
    label = templates.button_text(kind, language)
    if not label or "application_id" not in params or "release_id" not in params:
        return None
    data = templates.offer_callback_data(params["application_id"], params["release_id"])
    return InlineKeyboardMarkup(
        inline_keyboard=[[InlineKeyboardButton(text=label, callback_data=data)]]
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
