"""Queue order and positions (DOMAIN.md, "Order of the queue").

The distribution sequence of a cohort (city + queue type + birth year, or one kindergarten's
queue: + language) is: every extraordinary application, then first-priority and general
interleaved at `first_priority_ratio` (one first-priority, then r general, repeating; when one
stream runs out the other continues; r = 0 puts all first-priority before all general). Inside a
stream: submission time, then number.

A place in that sequence is arithmetic on the rank within the stream and the stream totals
(`sequence_place`), so a position costs two index-backed counting queries and never loads the
cohort into Python. With `index=` (a Redis client or `core.queue.index.PositionIndex`)
and `settings.position_index` on, positions come from the Redis sorted-set index in one round
trip when it is built (outside a transaction only: the index reflects committed state).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from datetime import datetime
from typing import TypeVar

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.expressions import Q
from tortoise.functions import Count
from tortoise.queryset import QuerySet

from core.models import (
    Application,
    ApplicationChoice,
    ApplicationStatus,
    Language,
    QueueType,
    Stream,
)
from core.platform.settings import Settings
from core.queue.changes import note_changed
from core.queue.index import IndexSource, PositionIndex, index_for
from core.queue.places import Position, StreamCounts, position_from

T = TypeVar("T")


# --- Positions from the database -------------------------------------------------------------


def _usable_index(
    settings: Settings, index: IndexSource | None, conn: BaseDBAsyncClient | None
) -> PositionIndex | None:
    if index is None or conn is not None or not settings.position_index:
        return None
    return index_for(index)


async def city_position(
    application: Application,
    settings: Settings,
    *,
    conn: BaseDBAsyncClient | None = None,
    index: IndexSource | None = None,
) -> Position:
    """The application's place in its city cohort (active applications only).

    For an application that is not active (stop-listed), the place it would take if restored
    now at its original time: it is counted in the totals as if it were active.
    `index`: a Redis client or PositionIndex to read from when it is built (see the module).
    """
    position_index = _usable_index(settings, index, conn)
    if position_index is not None:
        found = await position_index.city_position(application, settings.first_priority_ratio)
        if found is not None:
            return found
        if not await position_index.ready():
            position_index.rebuild_in_background()
    base = Application.filter(
        city_id=application.city_id,
        queue_type=application.queue_type,
        birth_year=application.birth_year,
        status=ApplicationStatus.active,
    )
    active = application.status == ApplicationStatus.active
    return await _position(
        base,
        Stream(application.stream),
        application.submitted_at,
        application.number,
        settings.first_priority_ratio,
        include_self=not active,
        conn=conn,
    )


async def kindergarten_positions(
    application: Application,
    settings: Settings,
    *,
    conn: BaseDBAsyncClient | None = None,
    index: IndexSource | None = None,
    choices: list[ApplicationChoice] | None = None,
) -> list[tuple[ApplicationChoice, Position]]:
    """For each chosen kindergarten (parent's order): the place in that kindergarten's queue
    (same birth year, queue type and teaching language; active applications only).
    `choices`: the application's choices with their kindergartens, when already loaded."""
    if choices is None:
        query = ApplicationChoice.filter(application_id=application.id).order_by("rank")
        if conn is not None:
            query = query.using_db(conn)
        choices = await query.prefetch_related("kindergarten")
    else:
        choices = sorted(choices, key=lambda c: c.rank)
    position_index = _usable_index(settings, index, conn)
    if position_index is not None:
        found = await position_index.kindergarten_positions(
            application, choices, settings.first_priority_ratio
        )
        if found is not None:
            return list(zip(choices, found, strict=True))
        if not await position_index.ready():
            position_index.rebuild_in_background()
    active = application.status == ApplicationStatus.active
    result: list[tuple[ApplicationChoice, Position]] = []
    for choice in choices:
        base = ApplicationChoice.filter(
            kindergarten_id=choice.kindergarten_id,
            queue_type=application.queue_type,
            birth_year=application.birth_year,
            language=choice.language,
            active=True,
        )
        position = await _position(
            base,
            Stream(application.stream),
            application.submitted_at,
            application.number,
            settings.first_priority_ratio,
            include_self=not active,
            conn=conn,
        )
        result.append((choice, position))
    return result


async def _position(
    base: QuerySet[Application] | QuerySet[ApplicationChoice],
    stream: Stream,
    submitted_at: datetime,
    number: int,
    ratio: int,
    *,
    include_self: bool,
    conn: BaseDBAsyncClient | None,
) -> Position:
    if conn is not None:
        base = base.using_db(conn)
    rows = await base.group_by("stream").annotate(n=Count("id")).values("stream", "n")
    totals = [0, 0, 0]
    for row in rows:
        totals[int(row["stream"])] = row["n"]
    if include_self:
        totals[int(stream)] += 1
    # (submitted_at, number) < (own): a range on the index's last two columns.
    before = await base.filter(
        Q(stream=stream),
        Q(submitted_at__lte=submitted_at),
        ~Q(submitted_at=submitted_at, number__gte=number),
    ).count()
    return position_from(stream, before + 1, StreamCounts(*totals), ratio)


# --- The sequence itself (for offers) --------------------------------------------------------


def interleave(streams: Sequence[Sequence[T]], ratio: int, limit: int) -> list[T]:
    """Merge the three stream-ordered lists (extraordinary, first-priority, general) into the
    distribution sequence, at most `limit` items. Lists shorter than `limit` are taken to be
    the whole stream."""
    extraordinary, firsts, generals = (list(s) for s in streams)
    out: list[T] = list(extraordinary[:limit])
    i = j = 0
    while len(out) < limit and (i < len(firsts) or j < len(generals)):
        if ratio == 0:
            if i < len(firsts):
                out.append(firsts[i])
                i += 1
            else:
                out.append(generals[j])
                j += 1
            continue
        if i < len(firsts):
            out.append(firsts[i])
            i += 1
        take = min(ratio, len(generals) - j, limit - len(out))
        out.extend(generals[j : j + take])
        j += take
    return out[:limit]


async def distribution_order(
    *,
    city_id: int,
    queue_type: QueueType | str,
    birth_year: int | Collection[int],
    kindergarten_id: int | None = None,
    language: Language | str | None = None,
    limit: int,
    exclude_application_ids: Iterable[int] = (),
    ratio: int,
    conn: BaseDBAsyncClient | None = None,
) -> list[Application]:
    """The first `limit` active applications of a cohort in distribution sequence.

    Several birth years (a mixed-age group's cohorts): their union is ordered as one cohort,
    by the same rule (extraordinary first, then first-priority and general interleaved, each
    stream by submission time), so the cohorts' queues merge in distribution order.

    With `kindergarten_id` (and optionally `language`): that kindergarten's queue. Excluded
    applications (e.g. not eligible for an offer) are skipped without reordering the others.
    Each stream is read with an ordered index scan of at most `limit + len(excluded)` rows,
    then merged arithmetically. `ratio`: the settings' `first_priority_ratio`.
    """
    if limit <= 0:
        return []
    # Exclusions filter the sequence, they do not re-interleave it: an excluded general
    # application keeps its slot, so read enough of each stream to skip them afterwards.
    excluded = set(exclude_application_ids)
    years = [birth_year] if isinstance(birth_year, int) else sorted(set(birth_year))
    window = limit + len(excluded)
    per_stream: list[list[int]] = []
    for stream in Stream:
        query: QuerySet[Application] | QuerySet[ApplicationChoice]
        if kindergarten_id is None:
            query = Application.filter(
                city_id=city_id,
                queue_type=queue_type,
                birth_year__in=years,
                status=ApplicationStatus.active,
                stream=stream,
            )
            id_field = "id"
        else:
            query = ApplicationChoice.filter(
                kindergarten_id=kindergarten_id,
                queue_type=queue_type,
                birth_year__in=years,
                active=True,
                stream=stream,
            )
            if language is not None:
                query = query.filter(language=language)
            id_field = "application_id"
        if conn is not None:
            query = query.using_db(conn)
        rows = await query.order_by("submitted_at", "number").limit(window).values(id_field)
        ids = [int(row[id_field]) for row in rows]
        # With language=None a kindergarten queue spans both languages; an application
        # chooses a kindergarten once, but keep the first occurrence to be safe.
        per_stream.append(list(dict.fromkeys(ids)))
    sequence = interleave(per_stream, ratio, window)
    ordered_ids = [i for i in sequence if i not in excluded][:limit]
    if not ordered_ids:
        return []
    fetch = Application.filter(id__in=ordered_ids)
    if conn is not None:
        fetch = fetch.using_db(conn)
    by_id = {app.id: app for app in await fetch}
    return [by_id[i] for i in ordered_ids if i in by_id]


async def sync_choices(application: Application, conn: BaseDBAsyncClient | None = None) -> int:
    """Copy the application's ordering columns onto its ApplicationChoice rows; call in the
    transaction of every change to its stream, status, submitted_at or birth year. The
    application is noted for the position index (`core.queue.index.sync_changed` after
    the commit)."""
    note_changed(application.id)
    query = ApplicationChoice.filter(application_id=application.id)
    if conn is not None:
        query = query.using_db(conn)
    return await query.update(
        queue_type=application.queue_type,
        birth_year=application.birth_year,
        stream=Stream(application.stream),
        submitted_at=application.submitted_at,
        number=application.number,
        active=application.status == ApplicationStatus.active,
    )
