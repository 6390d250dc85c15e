"""The application's one state machine: every status change goes through `transition`.

    from                 event             to           audit action (notification)
    (new)                submitted         active       application.registered (registered)
    active, stop_listed  withdrawn         archived     application.withdrawn
    active               not_extended      stop_listed  application.stop_listed (stop_listed)
    active               offer_timeout     stop_listed  application.stop_listed (stop_listed)
    active, stop_listed  referral_expired  stop_listed  application.stop_listed (*)
    active, stop_listed  benefit_rejected  stop_listed  application.stop_listed (*)
    stop_listed          restored          active       application.restored (restored)
    any                  enrolled          archived     application.archived
    active, stop_listed  aged_out          archived     application.archived
    archived             enrolment_undone  active       application.enrolment_undone (**)
    stop_listed          benefit_rejection_undone  active  application.stop_list_undone (**)

(*) told by the referral's own notification (referral_expired, benefit_rejected).
(**) staff undo their decision (core.referrals.undo), which tells the parent itself.
`restored` is one transition whoever asks: the timer when a timed term ends (`restore_due`), the
parent (`restore`), or staff. A referral issued, declined or revoked leaves the application's
status as it is (it keeps its place in the queue), so those are not rows of the table. A pair not
in the table raises `transition_not_allowed` and changes nothing.
"""

from __future__ import annotations

import logging
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Any

from redis.asyncio import Redis
from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.transactions import in_transaction

from core import audit
from core.models import (
    LIVE_REFERRAL_STATUSES,
    Applicant,
    Application,
    ApplicationChoice,
    ApplicationStatus,
    ArchiveReason,
    Referral,
)
from core.notifications import outbox
from core.notifications.kinds import AgedOut, ApplicationRegistered, Restored, StopListed
from core.platform import clock
from core.platform.dates import local_today, one_year_after, years_after
from core.platform.errors import DomainError
from core.platform.reasons import Reason
from core.platform.settings import Settings
from core.queue.changes import take_changed
from core.queue.index import PositionIndex, index_for, sync_changed
from core.queue.order import sync_choices

log = logging.getLogger(__name__)

ACTIVE, STOP_LISTED, ARCHIVED = (
    ApplicationStatus.active,
    ApplicationStatus.stop_listed,
    ApplicationStatus.archived,
)


class Event(StrEnum):
    """What happens to an application; a stop-list event's value is also its reason code."""

    submitted = "submitted"
    withdrawn = "withdrawn"
    not_extended = "not_extended"  # the annual cleaning
    offer_timeout = "offer_timeout"  # settings.on_offer_timeout = stop_list
    referral_expired = "referral_expired"
    benefit_rejected = "benefit_rejected"
    restored = "restored"
    enrolled = "enrolled"
    aged_out = "aged_out"
    enrolment_undone = "enrolment_undone"  # staff undo an enrolment (core.referrals.undo)
    benefit_rejection_undone = "benefit_rejection_undone"  # the stop-list it caused, undone


TRANSITIONS: dict[tuple[ApplicationStatus | None, Event], ApplicationStatus] = {
    (None, Event.submitted): ACTIVE,
    (ACTIVE, Event.withdrawn): ARCHIVED,
    (STOP_LISTED, Event.withdrawn): ARCHIVED,
    (ACTIVE, Event.not_extended): STOP_LISTED,
    (ACTIVE, Event.offer_timeout): STOP_LISTED,
    (ACTIVE, Event.referral_expired): STOP_LISTED,
    (STOP_LISTED, Event.referral_expired): STOP_LISTED,
    (ACTIVE, Event.benefit_rejected): STOP_LISTED,
    (STOP_LISTED, Event.benefit_rejected): STOP_LISTED,
    (STOP_LISTED, Event.restored): ACTIVE,
    (ACTIVE, Event.enrolled): ARCHIVED,
    (STOP_LISTED, Event.enrolled): ARCHIVED,
    (ARCHIVED, Event.enrolled): ARCHIVED,  # the enrolment is the fact, even after an aged-out
    (ACTIVE, Event.aged_out): ARCHIVED,
    (STOP_LISTED, Event.aged_out): ARCHIVED,
    (ARCHIVED, Event.enrolment_undone): ACTIVE,
    (STOP_LISTED, Event.benefit_rejection_undone): ACTIVE,
}

AUDIT_ACTIONS: dict[Event, str] = {
    Event.submitted: "application.registered",
    Event.withdrawn: "application.withdrawn",
    Event.not_extended: "application.stop_listed",
    Event.offer_timeout: "application.stop_listed",
    Event.referral_expired: "application.stop_listed",
    Event.benefit_rejected: "application.stop_listed",
    Event.restored: "application.restored",
    Event.enrolled: "application.archived",
    Event.aged_out: "application.archived",
    Event.enrolment_undone: "application.enrolment_undone",
    Event.benefit_rejection_undone: "application.stop_list_undone",
}

_ARCHIVE_REASONS: dict[Event, ArchiveReason] = {
    Event.withdrawn: ArchiveReason.withdrawn,
    Event.enrolled: ArchiveReason.enrolled,
    Event.aged_out: ArchiveReason.aged_out,
}

PositionSource = Redis | PositionIndex | None


def allows(status: ApplicationStatus | str | None, event: Event) -> bool:
    """True when `event` may happen to an application in `status` (None: not yet stored)."""
    return (None if status is None else ApplicationStatus(status), event) in TRANSITIONS


async def transition(
    conn: BaseDBAsyncClient,
    app: Application,
    event: Event,
    *,
    actor: str,
    until: datetime | None = None,
    valid_until: date | None = None,
    extra: dict[str, Any] | None = None,
) -> Application:
    """Apply `event` to `app` (locked by the caller, in `conn`'s transaction): check the table,
    write the status, audit it under the event's one name and send its one notification.

    `until`: the end of a timed stop-list (None: indefinite); `valid_until`: a new validity (a
    restore the parent confirms); `extra`: more audited facts (the submission's choices).
    An application not yet stored (`submitted`) is inserted."""
    current = None if app.id is None else ApplicationStatus(app.status)
    target = TRANSITIONS.get((current, event))
    if target is None:
        raise DomainError(
            Reason.transition_not_allowed,
            number=app.number,
            status=str(current),
            event=str(event),
        )
    before = None if current is None else snapshot(app)
    app.status = target
    # A nullable column: tortoise's stubs type CharEnumField(null=True) as never None.
    app.archive_reason = _ARCHIVE_REASONS.get(event)  # type: ignore[assignment]
    app.stop_listed_until = until if target is STOP_LISTED else None
    if valid_until is not None:
        app.valid_until = valid_until
    if current is None:
        await app.save(using_db=conn)
    else:
        fields = ["status", "archive_reason", "stop_listed_until", "valid_until"]
        await app.save(using_db=conn, update_fields=fields)
        await sync_choices(app, conn)
    await audit.record(
        AUDIT_ACTIONS[event],
        "application",
        app.id,
        actor=actor,
        before=before,
        after=snapshot(app) | {"reason": str(event)} | (extra or {}),
        conn=conn,
    )
    await _notify(conn, app, event)
    return app


async def stop_list(
    conn: BaseDBAsyncClient,
    app: Application,
    event: Event,
    *,
    days: int | None,
    actor: str,
) -> Application:
    """Put the application on the stop-list for `days` calendar days (None: indefinitely)."""
    until = clock.now() + timedelta(days=days) if days is not None else None
    return await transition(conn, app, event, actor=actor, until=until)


async def withdraw(
    application_id: int,
    applicant_id: int,
    *,
    actor: str,
    index: PositionSource = None,
) -> Application:
    """The parent withdraws an application: it is archived and leaves every queue."""
    async with audit.transaction() as conn:
        application = await lock_application(conn, application_id, applicant_id)
        if application.status == ARCHIVED:
            raise DomainError(Reason.application_archived, number=application.number)
        live = (
            await Referral.filter(application_id=application.id, status__in=LIVE_REFERRAL_STATUSES)
            .using_db(conn)
            .exists()
        )
        if live:
            raise DomainError(Reason.live_referral, number=application.number)
        await transition(conn, application, Event.withdrawn, actor=actor)
    await sync_index(index)
    return application


async def restore(
    application_id: int,
    applicant_id: int | None,
    *,
    actor: str,
    settings: Settings,
    index: PositionSource = None,
) -> Application:
    """Back from the stop-list to the queue at its original time (submitted_at unchanged).

    `applicant_id` set: the parent's "Restore from the stop-list" button, whatever put the
    application there (refused while a timed term still runs); None: staff. Restoring is the
    parent's confirmation that the application is wanted: after the annual cleaning it counts
    as confirmed for another year, and an expired validity is renewed for a year."""
    async with audit.transaction() as conn:
        app = await lock_application(conn, application_id, applicant_id)
        if app.status != STOP_LISTED:
            raise DomainError(Reason.not_stop_listed, number=app.number)
        if (
            applicant_id is not None
            and app.stop_listed_until is not None
            and app.stop_listed_until > clock.now()
        ):
            raise DomainError(
                Reason.stop_list_not_over,
                number=app.number,
                until=app.stop_listed_until.isoformat(),
            )
        await transition(
            conn,
            app,
            Event.restored,
            actor=actor,
            valid_until=_confirmed_validity(app, local_today(settings)),
        )
    await sync_index(index)
    return app


async def restore_due(settings: Settings) -> int:
    """Timer: applications whose stop-list term ended are active again at their original
    time (their submission time never changed)."""
    now = clock.now()
    due = [
        row_id
        for (row_id,) in await Application.filter(
            status=STOP_LISTED, stop_listed_until__lte=now
        ).values_list("id")
    ]
    restored = 0
    for application_id in due:
        async with in_transaction() as conn:
            app = await lock_application(conn, application_id)
            if (
                app.status != STOP_LISTED
                or app.stop_listed_until is None
                or app.stop_listed_until > now
            ):
                continue
            await transition(conn, app, Event.restored, actor="system")
            restored += 1
    return restored


async def remove_aged_out(settings: Settings, today: date) -> int:
    """Archive applications of children who are `max_child_age_years` full years old.

    A live referral stays as it is (the seat is not lost): the kindergarten may still enrol the
    child on it, and if it expires the seat goes back to the queue while the application stays
    archived (the table has no way from the archive but the enrolment)."""
    born_by = years_after(today, -settings.max_child_age_years)
    due = [
        row_id
        for (row_id,) in await Application.filter(
            status__in=(ACTIVE, STOP_LISTED), child__person__birth_date__lte=born_by
        ).values_list("id")
    ]
    archived = 0
    for application_id in due:
        async with in_transaction() as conn:
            app = (
                await Application.filter(id=application_id)
                .exclude(status=ARCHIVED)
                .select_for_update(no_key=True)
                .using_db(conn)
                .first()
            )
            if app is None:
                continue
            await transition(conn, app, Event.aged_out, actor="system")
            live = (
                await Referral.filter(application_id=app.id, status__in=LIVE_REFERRAL_STATUSES)
                .using_db(conn)
                .exists()
            )
            # Told here, not in `_notify`: the text needs the age limit from the settings.
            await outbox.notify(
                await Applicant.get(id=app.applicant_id, using_db=conn),
                AgedOut(
                    application_id=app.id,
                    application_number=app.number,
                    age_years=settings.max_child_age_years,
                    live_referral=live,
                ),
                key=f"aged_out:{app.id}",
                conn=conn,
            )
            archived += 1
    return archived


async def lock_application(
    conn: BaseDBAsyncClient, application_id: int, applicant_id: int | None = None
) -> Application:
    """The application's row, locked (the first lock of every lock order); `applicant_id`:
    only the parent's own (anyone else's is `application_not_found`)."""
    query = Application.filter(id=application_id)
    if applicant_id is not None:
        query = query.filter(applicant_id=applicant_id)
    app = await query.select_for_update(no_key=True).using_db(conn).first()
    if app is None:
        raise DomainError(Reason.application_not_found)
    return app


def snapshot(application: Application) -> dict[str, Any]:
    """The audited state of an application (no personal data)."""
    return {
        "number": application.number,
        "status": str(application.status),
        "archive_reason": str(application.archive_reason) if application.archive_reason else None,
        "stream": int(application.stream),
        "benefit_category": application.benefit_category,
        "benefit_status": str(application.benefit_status),
        "queue_type": str(application.queue_type),
        "city_id": application.city_id,
        "birth_year": application.birth_year,
        "referral_mode": str(application.referral_mode),
        "referral_from": application.referral_from,
        "submitted_at": application.submitted_at,
        "valid_until": application.valid_until,
        "stop_listed_until": application.stop_listed_until,
    }


async def sync_index(
    index: PositionSource,
    application: Application | None = None,
    choices: list[ApplicationChoice] | None = None,
) -> None:
    """After a commit: move the changed applications in the position index (if any)."""
    position_index = index_for(index)
    if position_index is None:  # the entry point (update, callback, job) applies the notes
        return
    if application is not None and choices is not None:
        take_changed()
        try:
            await position_index.sync(application.id, application=application, choices=choices)
        except Exception:  # a cache: never fail a committed submission
            log.exception("position index sync failed")
        return
    await sync_changed(position_index)


# --- Helpers ------------------------------------------------------------------------------------


def _confirmed_validity(app: Application, today: date) -> date:
    """The validity after the parent restores: after the annual cleaning (an indefinite
    stop-list) it counts as confirmed for another year; after a timed one only a lapsed
    validity is renewed for a year."""
    if app.stop_listed_until is None:
        return max(app.valid_until, one_year_after(today))
    return one_year_after(today) if app.valid_until < today else app.valid_until


async def _notify(conn: BaseDBAsyncClient, app: Application, event: Event) -> None:
    """The transition's one notification (stop-lists after a referral are told by the
    referral's own notification, which carries the referral)."""
    if event is Event.submitted:
        applicant = await Applicant.get(id=app.applicant_id, using_db=conn)
        await outbox.notify(
            applicant,
            ApplicationRegistered(number=app.number),
            key=f"application_registered:{app.id}",
            conn=conn,
        )
    elif event is Event.restored:
        applicant = await Applicant.get(id=app.applicant_id, using_db=conn)
        await outbox.notify(
            applicant,
            Restored(application_number=app.number, application_id=app.id),
            key=f"restored:{app.id}:{int(clock.now().timestamp())}",
            conn=conn,
        )
    elif event is Event.not_extended:
        applicant = await Applicant.get(id=app.applicant_id, using_db=conn)
        await outbox.notify(
            applicant,
            StopListed(
                application_id=app.id,
                application_number=app.number,
                reason="not_extended",
                until=None,
            ),
            key=f"stop_listed:not_extended:{clock.now().year}:{app.id}",
            conn=conn,
        )
    elif event is Event.offer_timeout:
        reason, until = str(event), app.stop_listed_until
        applicant = await Applicant.get(id=app.applicant_id, using_db=conn)
        await outbox.notify(
            applicant,
            StopListed(
                application_id=app.id, application_number=app.number, reason=reason, until=until
            ),
            key=f"stop_listed:{reason}:{app.id}:{int(clock.now().timestamp())}",
            conn=conn,
        )
