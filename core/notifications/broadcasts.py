"""Broadcasts: staff messages in kk and ru to an audience, one outbox row per recipient.

Audience filters (all optional, combined with AND): city (code), kindergarten (id), birth_year,
language (the parent's), queue_type, status (application status). Application filters select the
parents of matching applications; with none, every parent the service can reach. An operator's
broadcast is confined to the city, a kindergarten administrator's to the kindergarten.
The worker sends the rows at the global rate and edits the progress message.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from tortoise.expressions import Subquery
from tortoise.transactions import in_transaction

from core import audit
from core.models import (
    Applicant,
    Application,
    ApplicationStatus,
    Broadcast,
    City,
    Kindergarten,
    Language,
    Notification,
    NotificationStatus,
    QueueType,
    StaffMember,
    StaffRole,
)
from core.notifications import kinds, outbox
from core.people.staff import actor, kindergarten_in_scope, kindergartens_in_scope
from core.platform import clock
from core.platform.errors import DomainError

AUDIENCE_KEYS = ("city", "kindergarten", "birth_year", "language", "queue_type", "status")
RUNNING, PAUSED, DONE, CANCELLED = "running", "paused", "done", "cancelled"
RATE_WINDOW = timedelta(seconds=10)
_CHUNK = 1000


@dataclass(frozen=True)
class Progress:
    broadcast_id: int
    status: str
    total: int
    sent: int
    failed: int
    blocked: int
    unknown: int
    remaining: int
    rate: float  # messages per second over the last few seconds
    eta_seconds: int | None  # None while nothing moves

    @property
    def finished(self) -> bool:
        return self.remaining == 0


async def scoped_audience(staff: StaffMember, audience: dict[str, Any]) -> dict[str, Any]:
    """The audience with the staff member's scope applied (and unknown keys dropped).

    Raises `out_of_scope` for a city or kindergarten outside the staff member's scope."""
    clean = {k: v for k, v in audience.items() if k in AUDIENCE_KEYS and v not in (None, "")}
    if staff.role == StaffRole.operator:
        city = await City.get_or_none(id=staff.city_id)
        if clean.get("city") not in (None, city.code if city else None):
            raise DomainError("out_of_scope", city=clean.get("city"))
        clean["city"] = city.code if city else None
    elif staff.role == StaffRole.kindergarten_admin:
        if clean.get("kindergarten") not in (None, staff.kindergarten_id):
            raise DomainError("out_of_scope", kindergarten_id=clean.get("kindergarten"))
        clean["kindergarten"] = staff.kindergarten_id
    if clean.get("kindergarten") is not None and staff.role == StaffRole.operator:
        await kindergarten_in_scope(staff, int(clean["kindergarten"]))
    return {k: v for k, v in clean.items() if v is not None}


def _application_filters(audience: dict[str, Any]) -> dict[str, Any]:
    app_filters: dict[str, Any] = {}
    if audience.get("city"):
        app_filters["city__code"] = audience["city"]
    if audience.get("kindergarten"):
        app_filters["choices__kindergarten_id"] = int(audience["kindergarten"])
    if audience.get("birth_year"):
        app_filters["birth_year"] = int(audience["birth_year"])
    if audience.get("queue_type"):
        app_filters["queue_type"] = audience["queue_type"]
    if audience.get("status"):
        app_filters["status"] = audience["status"]
    return app_filters


async def recipient_ids(audience: dict[str, Any]) -> list[int]:
    """Applicant ids of the audience, in a stable order. The applications are filtered in a
    subquery of the same statement: a city's ~40,000 families as bound parameters
    (`IN ($1, ..., $40000)`) exceed PostgreSQL's 32,767 and failed the count and the send."""
    app_filters = _application_filters(audience)
    query = Applicant.all()
    if audience.get("language"):
        query = query.filter(language=audience["language"])
    if app_filters:
        query = query.filter(
            id__in=Subquery(Application.filter(**app_filters).values("applicant_id"))
        )
    return sorted(int(row["id"]) for row in await query.values("id"))


async def count_recipients(audience: dict[str, Any]) -> int:
    return len(await recipient_ids(audience))


# --- choosing the audience with buttons -----------------------------------------------------------

CHOICES: dict[str, tuple[str, ...]] = {
    "language": tuple(v.value for v in Language),
    "queue_type": tuple(v.value for v in QueueType),
    "status": (ApplicationStatus.active.value, ApplicationStatus.stop_listed.value),
}


@dataclass(frozen=True)
class AudienceView:
    """What the audience screen shows: the filters' values and the live recipient count."""

    audience: dict[str, Any]
    city: City | None
    kindergarten: Kindergarten | None
    count: int
    city_fixed: bool  # operators and kindergarten administrators cannot change it
    kindergarten_fixed: bool  # kindergarten administrators cannot change it


async def default_audience(staff: StaffMember) -> dict[str, Any]:
    """The audience a new broadcast starts with: active applications in the staff's scope."""
    return await scoped_audience(staff, {"status": ApplicationStatus.active.value})


async def describe_audience(staff: StaffMember, audience: dict[str, Any]) -> AudienceView:
    audience = await scoped_audience(staff, audience)
    kindergarten = None
    if audience.get("kindergarten"):
        kindergarten = await Kindergarten.get_or_none(id=int(audience["kindergarten"]))
    city = None
    if audience.get("city"):
        city = await City.get_or_none(code=audience["city"])
    elif kindergarten is not None:
        city = await City.get_or_none(id=kindergarten.city_id)
    return AudienceView(
        audience=audience,
        city=city,
        kindergarten=kindergarten,
        count=await count_recipients(audience),
        city_fixed=staff.role != StaffRole.superadmin,
        kindergarten_fixed=staff.role == StaffRole.kindergarten_admin,
    )


async def audience_with(
    staff: StaffMember, audience: dict[str, Any], key: str, value: str
) -> dict[str, Any]:
    """The audience with one filter set (`value` "" clears it), checked against the scope.

    Raises `out_of_scope` for a city or kindergarten the staff member may not address and
    `broadcast_bad_filter` for a value that is not a choice of the filter."""
    if key not in AUDIENCE_KEYS:
        raise DomainError("broadcast_bad_filter", key=key)
    changed = dict(audience)
    if value == "":
        changed.pop(key, None)
        if key == "city":
            changed.pop("kindergarten", None)
        return await scoped_audience(staff, changed)
    if key in ("kindergarten", "birth_year"):
        if not value.isdigit():
            raise DomainError("broadcast_bad_filter", key=key)
        number = int(value)
        if key == "kindergarten":
            kindergarten = await kindergarten_in_scope(staff, number)
            city = await City.get_or_none(id=kindergarten.city_id)
            if staff.role == StaffRole.superadmin and city is not None:
                changed["city"] = city.code
        changed[key] = number
    elif key == "city":
        city = await City.get_or_none(code=value)
        if city is None:
            raise DomainError("city_not_found", city=value)
        if staff.role != StaffRole.superadmin and city.id != staff.city_id:
            raise DomainError("out_of_scope", city=value)
        if changed.get("city") != value:
            changed.pop("kindergarten", None)
        changed["city"] = value
    else:
        if value not in CHOICES[key]:
            raise DomainError("broadcast_bad_filter", key=key)
        changed[key] = value
    return await scoped_audience(staff, changed)


async def cities_in_scope(staff: StaffMember) -> list[City]:
    query = City.all()
    if staff.role != StaffRole.superadmin:
        query = query.filter(id=staff.city_id)
    return await query.order_by("name_ru")


async def audience_kindergartens(
    staff: StaffMember, audience: dict[str, Any], *, search: str = "", limit: int = 30
) -> list[Kindergarten]:
    """Kindergartens to choose from: in the staff's scope and the audience's city."""
    city_id = None
    if audience.get("city"):
        city = await City.get_or_none(code=audience["city"])
        city_id = city.id if city else -1
    return await kindergartens_in_scope(staff, limit=limit, search=search, city_id=city_id)


async def birth_years(staff: StaffMember, audience: dict[str, Any]) -> list[int]:
    """Birth years present among the applications the audience would reach, any year."""
    audience = await scoped_audience(staff, {**audience, "birth_year": None})
    query = Application.filter(**_application_filters(audience))
    if audience.get("language"):
        query = query.filter(applicant__language=audience["language"])
    rows = await query.distinct().values("birth_year")
    return sorted({int(r["birth_year"]) for r in rows if r["birth_year"] is not None}, reverse=True)


async def create_broadcast(
    staff: StaffMember,
    text_kk: str,
    text_ru: str,
    audience: dict[str, Any],
    *,
    progress_chat_id: int | None = None,
    progress_message_id: int | None = None,
) -> Broadcast:
    """Store the broadcast and materialise one outbox row per recipient (key broadcast:<id>:<a>)."""
    if not text_kk.strip() or not text_ru.strip():
        raise DomainError("broadcast_text_required")
    audience = await scoped_audience(staff, audience)
    ids = await recipient_ids(audience)
    if not ids:
        raise DomainError("broadcast_no_recipients")
    async with in_transaction() as conn:
        broadcast = await Broadcast.create(
            staff_id=staff.id,
            text_kk=text_kk,
            text_ru=text_ru,
            audience=audience,
            status=RUNNING,
            total=len(ids),
            progress_chat_id=progress_chat_id,
            progress_message_id=progress_message_id,
            using_db=conn,
        )
        payload = kinds.Broadcast(text_kk=text_kk, text_ru=text_ru)
        for start in range(0, len(ids), _CHUNK):
            chunk = ids[start : start + _CHUNK]
            applicants = await Applicant.filter(id__in=chunk).using_db(conn)
            signed_out = await outbox.signed_out_among(chunk, conn)
            await Notification.bulk_create(
                [
                    Notification(
                        **outbox.row_fields(
                            a,
                            payload,
                            key=f"broadcast:{broadcast.id}:{a.id}",
                            broadcast_id=broadcast.id,
                            signed_out=a.id in signed_out,
                        )
                    )
                    for a in applicants
                ],
                ignore_conflicts=True,
                using_db=conn,
            )
        await audit.record(
            "broadcast.created",
            "broadcast",
            broadcast.id,
            actor=actor(staff),
            after={"audience": audience, "total": len(ids)},
            conn=conn,
        )
    return broadcast


async def set_progress_message(broadcast_id: int, chat_id: int, message_id: int) -> None:
    await Broadcast.filter(id=broadcast_id).update(
        progress_chat_id=chat_id, progress_message_id=message_id
    )


async def pause(staff: StaffMember, broadcast_id: int | None = None) -> Broadcast | None:
    """Pause a running broadcast: the one named by its id (a superadmin may name anybody's),
    else the staff member's own latest one, never somebody else's."""
    return await _switch(staff, broadcast_id, RUNNING, PAUSED, "broadcast.paused")


async def resume(staff: StaffMember, broadcast_id: int | None = None) -> Broadcast | None:
    return await _switch(staff, broadcast_id, PAUSED, RUNNING, "broadcast.resumed")


async def cancel(staff: StaffMember, broadcast_id: int | None = None) -> Broadcast | None:
    """Stop a running or paused broadcast for good: what was not sent yet is cancelled (the
    worker sends only pending rows); what was sent stays sent. Same choice of broadcast as
    `pause`."""
    return await _switch(staff, broadcast_id, (RUNNING, PAUSED), CANCELLED, "broadcast.cancelled")


async def _switch(
    staff: StaffMember,
    broadcast_id: int | None,
    source: str | tuple[str, ...],
    target: str,
    action: str,
) -> Broadcast | None:
    sources = (source,) if isinstance(source, str) else source
    query = Broadcast.filter(status__in=sources)
    if staff.role != StaffRole.superadmin or broadcast_id is None:
        # Without an id only one's own: a superadmin's "stop" paused anybody's newest.
        query = query.filter(staff_id=staff.id)
    if broadcast_id is not None:
        query = query.filter(id=broadcast_id)
    broadcast = await query.order_by("-id").first()
    if broadcast is None:
        return None
    before = broadcast.status
    async with in_transaction() as conn:
        changed = (
            await Broadcast.filter(id=broadcast.id, status=before)
            .using_db(conn)
            .update(status=target)
        )
        if changed and target == CANCELLED:
            await (
                Notification.filter(broadcast_id=broadcast.id, status=NotificationStatus.pending)
                .using_db(conn)
                .update(status=NotificationStatus.cancelled)
            )
        if changed:
            await audit.record(
                action,
                "broadcast",
                broadcast.id,
                actor=actor(staff),
                before={"status": before},
                after={"status": target},
                conn=conn,
            )
    broadcast.status = target
    return broadcast


async def progress(broadcast_id: int) -> Progress:
    broadcast = await Broadcast.get(id=broadcast_id)
    counts = {status.value: 0 for status in NotificationStatus}
    for status, number in await _status_counts(broadcast_id):
        counts[str(status)] = number
    since = clock.now() - RATE_WINDOW
    recent = await Notification.filter(
        broadcast_id=broadcast_id,
        sent_at__gte=since,
        status__in=[NotificationStatus.sent, NotificationStatus.blocked],
    ).count()
    rate = recent / RATE_WINDOW.total_seconds()
    remaining = counts["pending"] + counts["claimed"] + counts["sending"]
    eta = int(remaining / rate) if rate > 0 else (0 if remaining == 0 else None)
    return Progress(
        broadcast_id=broadcast_id,
        status=broadcast.status,
        total=broadcast.total,
        sent=counts["sent"],
        failed=counts["failed"] + counts["cancelled"],
        blocked=counts["blocked"],
        unknown=counts["unknown"],
        remaining=remaining,
        rate=rate,
        eta_seconds=eta,
    )


async def _status_counts(broadcast_id: int) -> list[tuple[str, int]]:
    from tortoise.functions import Count

    rows = (
        await Notification.filter(broadcast_id=broadcast_id)
        .annotate(n=Count("id"))
        .group_by("status")
        .values_list("status", "n")
    )
    return [(str(status), int(n)) for status, n in rows]


async def mark_done_if_finished(broadcast_id: int) -> bool:
    remaining = await Notification.filter(
        broadcast_id=broadcast_id,
        status__in=[
            NotificationStatus.pending,
            NotificationStatus.claimed,
            NotificationStatus.sending,
        ],
    ).exists()
    if remaining:
        return False
    return bool(await Broadcast.filter(id=broadcast_id, status=RUNNING).update(status=DONE))


async def active_with_progress_message() -> list[Broadcast]:
    return await Broadcast.filter(
        status__in=[RUNNING, PAUSED], progress_message_id__isnull=False
    ).order_by("id")


async def recent(staff: StaffMember, limit: int = 10) -> list[tuple[Broadcast, Progress]]:
    query = Broadcast.all()
    if staff.role != StaffRole.superadmin:
        query = query.filter(staff_id=staff.id)
    broadcasts = await query.order_by("-id").limit(limit)
    return [(b, await progress(b.id)) for b in broadcasts]
