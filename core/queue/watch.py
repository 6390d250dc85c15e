"""Position-change notifications (issue 6: "position changed by more than a configured step").

A scheduled pass over every cohort (city + queue type + birth year) of active applications. In a
cohort the place of the k-th application of a stream is arithmetic on k and the stream totals
(`core.queue.sequence_place`), so one ordered keyset scan per stream, `batch` rows at a time,
gives every position of the cohort: no per-application counting queries, no whole cohort in
memory. An application whose place moved by at least `settings.position_notify_step` since the
last notified place gets a `position_changed` notification (params: number, old, new) and its
`last_notified_position` is moved, in one transaction per batch; the conditional update and
the idempotency key make a repeated or concurrent run a no-op. An application never notified
before gets its current place recorded silently (the parent saw it at registration).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from tortoise.expressions import Q
from tortoise.functions import Count
from tortoise.transactions import in_transaction

from core.models import Applicant, Application, ApplicationStatus, Stream
from core.notifications import outbox
from core.notifications.kinds import PositionChanged
from core.platform import clock
from core.platform.settings import Settings
from core.queue.places import StreamCounts, sequence_place

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class _Move:
    application_id: int
    number: int
    applicant_id: int
    old: int | None
    new: int


async def notify_position_changes(settings: Settings, *, batch: int = 1000) -> int:
    """Notify every active application whose city position moved by at least the configured
    step since it was last notified; returns the number of notifications written."""
    if batch < 1:
        raise ValueError("batch must be positive")
    cohorts = (
        await Application.filter(status=ApplicationStatus.active)
        .distinct()
        .order_by("city_id", "queue_type", "birth_year")
        .values_list("city_id", "queue_type", "birth_year")
    )
    sent = 0
    for city_id, queue_type, birth_year in cohorts:
        sent += await _cohort(settings, city_id, queue_type, birth_year, batch)
    return sent


async def _cohort(
    settings: Settings, city_id: int, queue_type: str, birth_year: int, batch: int
) -> int:
    base = Application.filter(
        city_id=city_id,
        queue_type=queue_type,
        birth_year=birth_year,
        status=ApplicationStatus.active,
    )
    totals = [0, 0, 0]
    for row in await base.group_by("stream").annotate(n=Count("id")).values("stream", "n"):
        totals[int(row["stream"])] = row["n"]
    counts = StreamCounts(*totals)
    ratio = settings.first_priority_ratio
    step = settings.position_notify_step
    sent = 0
    for stream in Stream:
        if not counts.of(stream):
            continue
        rank = 0
        after: tuple[datetime, int] | None = None
        while True:
            query = base.filter(stream=stream)
            if after is not None:  # keyset: (submitted_at, number) > the last row's
                query = query.filter(
                    Q(submitted_at__gt=after[0]) | Q(submitted_at=after[0], number__gt=after[1])
                )
            page = (
                await query.order_by("submitted_at", "number")
                .limit(batch)
                .values("id", "number", "applicant_id", "submitted_at", "last_notified_position")
            )
            if not page:
                break
            moves = []
            for row in page:
                rank += 1
                # A cohort growing during the pass may push a rank past the counted total.
                place = sequence_place(stream, min(rank, counts.of(stream)), counts, ratio)
                old = row["last_notified_position"]
                if old is None or abs(place - old) >= step:
                    moves.append(_Move(row["id"], row["number"], row["applicant_id"], old, place))
            sent += await _apply(moves)
            last = page[-1]
            after = (last["submitted_at"], last["number"])
            if len(page) < batch:
                break
    return sent


async def _apply(moves: list[_Move]) -> int:
    if not moves:
        return 0
    notify = [m for m in moves if m.old is not None]
    applicants = {a.id: a for a in await Applicant.filter(id__in={m.applicant_id for m in notify})}
    sent = 0
    day = clock.now().date().isoformat()
    async with in_transaction() as conn:
        for move in moves:
            # Conditional on the value read: a concurrent run moved it first -> skip.
            changed = (
                await Application.filter(id=move.application_id, last_notified_position=move.old)
                .using_db(conn)
                .update(last_notified_position=move.new)
                if move.old is not None
                else await Application.filter(
                    id=move.application_id, last_notified_position__isnull=True
                )
                .using_db(conn)
                .update(last_notified_position=move.new)
            )
            if not changed or move.old is None:
                continue
            applicant = applicants.get(move.applicant_id)
            if applicant is None:
                continue
            written = await outbox.notify(
                applicant,
                PositionChanged(
                    application_id=move.application_id,
                    number=move.number,
                    previous=move.old,
                    position=move.new,
                ),
                key=f"position_changed:{move.application_id}:{move.old}:{move.new}:{day}",
                conn=conn,
            )
            if written is not None:
                sent += 1
    if sent:
        log.info("position changes: %s notifications", sent)
    return sent
