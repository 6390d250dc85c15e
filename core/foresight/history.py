"""A cohort as it stood at past moments, read from the audit log (`core.audit`).

The current rows of the cohort's applications (any status) are rewound through the log: every
application entry after a moment is undone with its `before` (a registration's `before` is
empty: the application did not exist yet). Registrations imported with the city (`reason:
imported`, see `core.ledger.imports`) stand for the original submission, so the seeded queue
counts from its submission time. Only the entries since the earliest moment are read.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from redis.asyncio import Redis

from core.foresight.explain import Explanation, Member, Snapshot, explain
from core.models import (
    Application,
    ApplicationStatus,
    ArchiveReason,
    AuditEntry,
    Notification,
    Referral,
    ReferralStatus,
)
from core.platform import clock
from core.platform.settings import Settings

_SEEN = "indigo:foresight:seen:{}"
_SEEN_TTL_S = 400 * 86_400


@dataclass(frozen=True)
class Cohort:
    city_id: int
    queue_type: str
    birth_year: int

    @staticmethod
    def of(app: Application) -> Cohort:
        return Cohort(app.city_id, str(app.queue_type), app.birth_year)


async def snapshots(cohort: Cohort, moments: Sequence[datetime]) -> list[Snapshot]:
    """The cohort at each moment (in the order given)."""
    rows = await Application.filter(
        city_id=cohort.city_id, queue_type=cohort.queue_type, birth_year=cohort.birth_year
    ).values("id", "status", "archive_reason", "stream", "submitted_at", "number")
    states: dict[int, dict[str, Any] | None] = {int(r["id"]): dict(r) for r in rows}
    if not moments:
        return []
    earliest = min(moments)
    entries = (
        await AuditEntry.filter(entity="application", at__gt=earliest)
        .order_by("-id")
        .values("entity_id", "at", "action", "before", "after")
    )
    ids = {str(i): i for i in states}
    mine = [e for e in entries if e["entity_id"] in ids]
    mine += await _imported_enrolments(states, earliest)
    mine.sort(key=lambda e: e["at"], reverse=True)  # stable: same-moment entries stay newest first
    out: dict[datetime, Snapshot] = {}
    k = 0
    for moment in sorted(set(moments), reverse=True):
        # undo every entry after this moment (newest first), then read the state
        while k < len(mine) and mine[k]["at"] > moment:
            _undo(states, ids[mine[k]["entity_id"]], mine[k])
            k += 1
        out[moment] = _snapshot(states, moment)
    return [out[m] for m in moments]


def member_of(snapshot: Snapshot, app: Application) -> Member:
    """The application as the order saw it in `snapshot` (its current ordering when absent)."""
    found = snapshot.active.get(app.id)
    if found is not None:
        return found
    return Member(app.id, int(app.stream), app.submitted_at, int(app.number))


async def why_moved(app: Application, since: datetime, settings: Settings) -> Explanation:
    """The explanation of the change of `app`'s city place from `since` to now."""
    now = clock.now()
    before, after = await snapshots(Cohort.of(app), [since, now])
    ratio = settings.first_priority_ratio
    return explain(member_of(before, app), member_of(after, app), before, after, ratio)


async def last_notified_at(app: Application, *, skip: int = 0) -> datetime | None:
    """When the parent was last told the position changed (`skip`: the ones before that).
    Read per parent and matched here (JSON queries differ between PostgreSQL and SQLite)."""
    rows = (
        await Notification.filter(applicant_id=app.applicant_id, kind="position_changed")
        .order_by("-created_at", "-id")
        .values("params", "created_at")
    )
    told = [r["created_at"] for r in rows if (r["params"] or {}).get("application_id") == app.id]
    return told[skip] if len(told) > skip else None


async def last_seen_at(redis: Redis, application_id: int) -> datetime | None:
    raw = await redis.get(_SEEN.format(application_id))
    if raw is None:
        return None
    return datetime.fromisoformat(raw.decode() if isinstance(raw, bytes) else str(raw))


async def mark_seen(redis: Redis, application_id: int, at: datetime | None = None) -> None:
    """Remember that the parent looked at the place now (the next "since last time")."""
    moment = at or clock.now()
    await redis.set(_SEEN.format(application_id), moment.isoformat(), ex=_SEEN_TTL_S)


async def _imported_enrolments(
    states: Mapping[int, dict[str, Any] | None], earliest: datetime
) -> list[dict[str, Any]]:
    """Enrolments that came with an imported city (the demo's past seasons, a migrated
    queue) have no archive entry of their own: their referral's enrolment stands for it."""
    enrolled = [
        i
        for i, state in states.items()
        if state is not None
        and state.get("status") == ApplicationStatus.archived
        and state.get("archive_reason") == ArchiveReason.enrolled
    ]
    if not enrolled:
        return []
    logged: set[str] = set(
        await AuditEntry.filter(
            entity="application",
            action="application.archived",
            entity_id__in=[str(i) for i in enrolled],
        ).values_list("entity_id", flat=True)  # type: ignore[arg-type]
    )
    rows = await Referral.filter(
        application_id__in=enrolled,
        status__in=(ReferralStatus.enrolled, ReferralStatus.departed),
    ).values("application_id", "issued_at", "closed_at")
    out = []
    for row in rows:
        at = row["closed_at"] or row["issued_at"]
        if str(row["application_id"]) in logged or at <= earliest:
            continue
        out.append(
            {
                "entity_id": str(row["application_id"]),
                "at": at,
                "action": "application.archived",
                "before": {"status": str(ApplicationStatus.active), "archive_reason": None},
                "after": {"reason": "enrolled"},
            }
        )
    return out


def _undo(states: dict[int, dict[str, Any] | None], app_id: int, entry: Mapping[str, Any]) -> None:
    after = entry["after"] or {}
    if entry["action"] == "application.registered" and after.get("reason") == "imported":
        return  # stands for the original submission (see the module)
    before = entry["before"]
    if before is None:
        states[app_id] = None  # not registered yet
        return
    state = states.get(app_id)
    if state is None:
        state = states[app_id] = {}
    state.update(before)


def _snapshot(states: Mapping[int, dict[str, Any] | None], moment: datetime) -> Snapshot:
    active: dict[int, Member] = {}
    inactive: dict[int, str] = {}
    for app_id, state in states.items():
        if state is None:
            continue
        submitted = state.get("submitted_at")
        if isinstance(submitted, str):
            submitted = datetime.fromisoformat(submitted)
        if not isinstance(submitted, datetime) or submitted > moment:
            continue
        status = str(state.get("status"))
        if status == ApplicationStatus.active:
            active[app_id] = Member(app_id, int(state["stream"]), submitted, int(state["number"]))
        elif status == ApplicationStatus.stop_listed:
            inactive[app_id] = "stop_listed"
        else:
            inactive[app_id] = f"archived:{state.get('archive_reason') or 'withdrawn'}"
    return Snapshot(active, inactive)
