"""The referral mode of an application, changed from the cabinet: "immediately, when a seat
appears" or "from a date" (the form's «Выдавать направление ребенку: Сразу, при появлении места»,
`sources/queue-application-walkthrough.ru.txt`; DOMAIN.md: "from a date" applications are
counted in positions but skipped when offers are made).

The same rule as at submission (`submission.check_referral_date`: after today, before the year
the child turns six); the application keeps its place; audited; the parent is told on their
channel (kind `referral_mode_changed`). Switched to "immediately", it is offered a seat already
free in a chosen kindergarten, as a submission in that mode is (`offers.free_seat_for`).
"""

from __future__ import annotations

from datetime import date

from tortoise.backends.base.client import BaseDBAsyncClient

from core import audit
from core.applications.lifecycle import lock_application
from core.applications.submission import check_referral_date
from core.models import (
    LIVE_REFERRAL_STATUSES,
    Applicant,
    Application,
    ApplicationStatus,
    Child,
    Notification,
    Referral,
    ReferralMode,
)
from core.notifications import outbox
from core.notifications.kinds import ReferralModeChanged
from core.platform import clock
from core.platform.dates import local_today
from core.platform.errors import DomainError
from core.platform.reasons import Reason
from core.platform.settings import Settings
from core.seats.eligibility import open_offer_releases
from core.seats.general_access import GENERAL_KEY, SUBMISSION_KEY, decline_offer
from core.seats.offers import free_seat_for, notify_seat_offered


async def change_referral_mode(
    application_id: int,
    applicant_id: int,
    mode: ReferralMode | str,
    referral_from: date | None = None,
    *,
    settings: Settings,
    actor: str,
) -> Application:
    """Set the referral mode of the parent's own application (not archived, no live referral).
    Choosing the mode it already has changes nothing and tells nobody. An application moved
    to a later date gives up the seats offered to it now: they open to general access at once
    and the next in line hear of them (`general_access.decline_offer`)."""
    try:
        wanted = ReferralMode(mode)
    except ValueError:
        raise DomainError(Reason.invalid_referral_mode) from None
    today = local_today(settings)
    async with audit.transaction() as conn:
        app = await lock_application(conn, application_id, applicant_id)
        if app.status == ApplicationStatus.archived:
            raise DomainError(Reason.application_archived, number=app.number)
        live = (
            await Referral.filter(application_id=app.id, status__in=LIVE_REFERRAL_STATUSES)
            .using_db(conn)
            .exists()
        )
        if live:  # a referral is already there: nothing to wait for
            raise DomainError(Reason.live_referral, number=app.number)
        if wanted is ReferralMode.from_date:
            child = await Child.get(id=app.child_id, using_db=conn).prefetch_related("person")
            check_referral_date(referral_from, child.person.birth_date, today, settings)
        else:
            referral_from = None
        if app.referral_mode == wanted and app.referral_from == referral_from:
            return app
        before = _state(app)
        app.referral_mode = wanted
        app.referral_from = referral_from
        await app.save(using_db=conn, update_fields=["referral_mode", "referral_from"])
        await audit.record(
            "application.referral_mode_changed",
            "application",
            app.id,
            actor=actor,
            before=before,
            after=_state(app),
            conn=conn,
        )
        await outbox.notify(
            await Applicant.get(id=app.applicant_id, using_db=conn),
            ReferralModeChanged(
                application_id=app.id,
                application_number=app.number,
                referral_from=referral_from,
            ),
            key=f"referral_mode_changed:{app.id}:{clock.now().isoformat()}",
            conn=conn,
        )
        if wanted is ReferralMode.immediately:
            await _offer_free_seat(conn, app, settings)
    if wanted is ReferralMode.from_date:
        for release_id in await open_offer_releases(None, [app.id]):
            await decline_offer(app.id, release_id, actor=actor, settings=settings)
    return app


def _state(app: Application) -> dict[str, str | None]:
    return {
        "referral_mode": str(app.referral_mode),
        "referral_from": app.referral_from.isoformat() if app.referral_from else None,
    }


async def _offer_free_seat(conn: BaseDBAsyncClient, app: Application, settings: Settings) -> None:
    """A seat free now in a chosen kindergarten is offered at once, as at submission. Told once
    per release: the key is the general-access announcement's, so the timer does not repeat it
    (`general_access.announce_in`), and nothing is said of a release the submission told of."""
    found = await free_seat_for(conn, app, settings=settings)
    if found is None:
        return
    release_id = found.seat.release_id
    at_submission = (
        await Notification.filter(idempotency_key=f"{SUBMISSION_KEY}{app.id}")
        .using_db(conn)
        .values_list("params", flat=True)
    )
    if any(dict(params or {}).get("release_id") == release_id for params in at_submission):
        return
    await notify_seat_offered(
        conn,
        app,
        release_id,
        found.group,
        found.kindergarten,
        key=f"{GENERAL_KEY}{release_id}:{app.id}",  # outbox.notify: once per key
        general_access=True,
    )
