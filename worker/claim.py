"""Claiming outbox rows: a lease per row (`claimed`, the claim time as its token), one per chat.

See the state machine at the top of worker.sender. A `Claimed` carries what the sender needs of
a leased row: the row, its recipient, the lease token and whether its request may have started.

The channel is settled at claim time too: a chat row of a parent who signed out ("Выйти") after
it was queued becomes an SMS row, like the rows queued after the sign-out (core.notifications.
outbox), so nothing more reaches that chat.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from tortoise.connection import get_connection
from tortoise.expressions import Q
from tortoise.queryset import QuerySet
from tortoise.transactions import in_transaction

from core.models import Applicant, Channel, Notification, NotificationStatus
from core.notifications.outbox import signed_out_among
from core.platform import clock

# Candidates read per claimed row: some are skipped (a second row for one chat, a busy chat).
CANDIDATES_PER_ROW = 2


@dataclass
class Claimed:
    """A row this worker leased."""

    row: Notification
    recipient: Applicant | None
    lease: datetime  # the claim time: the lease's age and its token (the in-flight mark checks it)
    in_flight: bool = False  # marked `sending`: its request may have started

    @property
    def chat(self) -> int:
        return chat_of(self.row.applicant_id, self.row.id)

    def owned(self) -> dict[str, Any]:
        """The filter that finds the row only while this worker still owns it."""
        if self.in_flight:
            return {"id": self.row.id, "status": NotificationStatus.sending}
        return {
            "id": self.row.id,
            "status": NotificationStatus.claimed,
            "next_attempt_at": self.lease,
        }


def chat_of(applicant_id: int | None, row_id: int) -> int:
    """The per-chat key of a row: its recipient (a row without one is its own chat)."""
    return applicant_id or -row_id


async def claim(limit: int, *, postgres: bool, busy: Callable[[int], bool]) -> list[Claimed]:
    """Lease up to `limit` due rows (`claimed`, committed), one per chat at most, none for a
    chat that is `busy`."""
    now = clock.now()
    picked: list[int] = []
    async with in_transaction() as conn:
        if postgres:
            candidates = await conn.execute_query_dict(
                "SELECT n.id, n.applicant_id, n.channel FROM notification n"
                " WHERE n.status = 'pending'"
                " AND (n.next_attempt_at IS NULL OR n.next_attempt_at <= $1)"
                " AND (n.broadcast_id IS NULL OR NOT EXISTS (SELECT 1 FROM broadcast b"
                "      WHERE b.id = n.broadcast_id AND b.status = 'paused'))"
                " ORDER BY (n.broadcast_id IS NOT NULL), n.id"
                " LIMIT $2 FOR UPDATE OF n SKIP LOCKED",
                [now, limit * CANDIDATES_PER_ROW],
            )
        else:
            candidates = [
                {"id": row.id, "applicant_id": row.applicant_id, "channel": row.channel}
                for row in await due(now)
                .using_db(conn)
                .order_by("id")
                .limit(limit * CANDIDATES_PER_ROW)
            ]
        seen: set[int] = set()
        by_chat: dict[int, int] = {}  # picked chat rows: row id -> recipient
        for candidate in candidates:
            chat = chat_of(candidate["applicant_id"], candidate["id"])
            if chat in seen or busy(chat):
                continue
            seen.add(chat)
            picked.append(candidate["id"])
            if candidate["applicant_id"] and candidate["channel"] != Channel.sms:
                by_chat[candidate["id"]] = candidate["applicant_id"]
            if len(picked) >= limit:
                break
        if by_chat:
            gone = await signed_out_among(list(set(by_chat.values())), conn)
            if rerouted := [row_id for row_id, who in by_chat.items() if who in gone]:
                await (
                    Notification.filter(id__in=rerouted).using_db(conn).update(channel=Channel.sms)
                )
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
    recipients = {
        a.id: a
        for a in await Applicant.filter(id__in={r.applicant_id for r in rows if r.applicant_id})
    }
    return [
        Claimed(
            row=row,
            recipient=recipients.get(row.applicant_id) if row.applicant_id else None,
            lease=row.next_attempt_at or now,
        )
        for row in rows
    ]


async def mark_sending(items: list[Claimed], now: datetime, *, postgres: bool) -> set[int]:
    """`claimed` -> `sending` (committed) for the rows whose lease is still ours; their ids."""
    if not items:
        return set()
    if postgres:
        conn = get_connection("default")
        answer = await conn.execute_query_dict(
            "UPDATE notification n SET status = 'sending', attempts = n.attempts + 1,"
            " next_attempt_at = $1"
            " FROM unnest($2::bigint[], $3::timestamptz[]) AS lease(id, claimed_at)"
            " WHERE n.id = lease.id AND n.status = 'claimed'"
            " AND n.next_attempt_at = lease.claimed_at"
            " RETURNING n.id",
            [now, [i.row.id for i in items], [i.lease for i in items]],
        )
        return {a["id"] for a in answer}
    marked: set[int] = set()
    for item in items:
        if await Notification.filter(
            id=item.row.id, status=NotificationStatus.claimed, next_attempt_at=item.lease
        ).update(
            status=NotificationStatus.sending,
            attempts=item.row.attempts + 1,
            next_attempt_at=now,
        ):
            marked.add(item.row.id)
    return marked


async def unclaim(item: Claimed, wait: float | None) -> None:
    """Give a leased row back: due again after `wait` seconds (None: at once)."""
    await Notification.filter(
        id=item.row.id, status=NotificationStatus.claimed, next_attempt_at=item.lease
    ).update(
        status=NotificationStatus.pending,
        next_attempt_at=None if wait is None else clock.now() + timedelta(seconds=wait),
    )


async def requeue_expired(older_than: timedelta) -> int:
    """`claimed` rows whose lease is older than `older_than` (a dead worker's) back to `pending`:
    they never reached the wire."""
    return await Notification.filter(
        status=NotificationStatus.claimed, next_attempt_at__lt=clock.now() - older_than
    ).update(status=NotificationStatus.pending, next_attempt_at=None)


async def give_up_in_flight(older_than: timedelta) -> int:
    """`sending` rows older than a request can take become `unknown`, never sent again: the
    request may or may not have reached the chat."""
    return await Notification.filter(
        status=NotificationStatus.sending, next_attempt_at__lt=clock.now() - older_than
    ).update(status=NotificationStatus.unknown, error="worker stopped during the request")


def due(now: datetime) -> QuerySet[Notification]:
    """Pending rows whose time has come, except those of a paused broadcast."""
    return Notification.filter(
        Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now),
        Q(broadcast_id__isnull=True) | Q(broadcast__status__not="paused"),
        status=NotificationStatus.pending,
    )
