"""The decision on an extraordinary benefit's document (staff, or the registry's webhook).

Confirmed: a referral waiting for it starts its enrollment validity. Rejected (or not confirmed
in time, see `core.referrals.lifecycle.expire_due`): the benefit is removed (general stream); a
referral waiting for it is annulled and the application stop-listed for `stop_list_days`.
"""

from __future__ import annotations

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.transactions import in_transaction

from core import audit
from core.applications.lifecycle import Event, allows, lock_application, stop_list
from core.calendar.working_days import add_working_days
from core.models import (
    Applicant,
    Application,
    BenefitStatus,
    Referral,
    ReferralStatus,
    Stream,
)
from core.notifications import outbox
from core.notifications.kinds import BenefitConfirmed, BenefitRejected
from core.platform import clock
from core.platform.errors import DomainError
from core.platform.reasons import Reason
from core.platform.settings import Settings
from core.queue.order import sync_choices
from core.referrals.records import close, return_seat, snapshot


async def confirm_benefit(
    application_id: int,
    confirmed: bool,
    reason: str = "",
    *,
    actor: str,
    settings: Settings,
) -> Application:
    """Staff decide on an extraordinary benefit's document. Confirmed: a referral waiting for
    it starts its enrollment validity. Rejected: the benefit is removed (general stream); a
    referral waiting for it is annulled and the application stop-listed for `stop_list_days`."""
    async with in_transaction() as conn:
        app = await lock_application(conn, application_id)
        if app.benefit_status != BenefitStatus.pending:
            raise DomainError(Reason.benefit_not_pending, status=str(app.benefit_status))
        referral = (
            await Referral.filter(
                application_id=app.id, status=ReferralStatus.awaiting_benefit_confirmation
            )
            .select_for_update()
            .using_db(conn)
            .first()
        )
        applicant = await Applicant.get(id=app.applicant_id, using_db=conn)
        if confirmed:
            before: dict[str, object] = {"benefit_status": str(app.benefit_status)}
            app.benefit_status = BenefitStatus.confirmed
            await app.save(using_db=conn, update_fields=["benefit_status"])
            await audit.record(
                "benefit.confirmed",
                "application",
                app.id,
                actor=actor,
                before=before,
                after={"benefit_status": str(app.benefit_status), "reason": reason},
                conn=conn,
            )
            payload = BenefitConfirmed(application_number=app.number)
            if referral is not None:
                before = snapshot(referral)
                referral.status = ReferralStatus.awaiting_enrollment
                referral.expires_at = add_working_days(
                    clock.now(), settings.referral_valid_working_days, settings.tz
                )
                await referral.save(using_db=conn, update_fields=["status", "expires_at"])
                await audit.record(
                    "referral.benefit_confirmed",
                    "referral",
                    referral.id,
                    actor=actor,
                    before=before,
                    after=snapshot(referral),
                    conn=conn,
                )
                payload = BenefitConfirmed(
                    application_number=app.number,
                    referral_number=referral.number,
                    expires_at=referral.expires_at,
                )
            await outbox.notify(applicant, payload, key=f"benefit_confirmed:{app.id}", conn=conn)
        else:
            await reject_benefit(conn, app, referral, reason, actor=actor, settings=settings)
        return app


async def reject_benefit(
    conn: BaseDBAsyncClient,
    app: Application,
    referral: Referral | None,
    reason: str,
    *,
    actor: str,
    settings: Settings,
) -> None:
    before = {
        "benefit_category": app.benefit_category,
        "benefit_status": str(app.benefit_status),
        "stream": int(app.stream),
    }
    app.benefit_category = None
    app.benefit_status = BenefitStatus.rejected
    app.stream = Stream.general
    await app.save(using_db=conn, update_fields=["benefit_category", "benefit_status", "stream"])
    await sync_choices(app, conn)
    await audit.record(
        "benefit.rejected",
        "application",
        app.id,
        actor=actor,
        before=before,
        after={
            "benefit_category": None,
            "benefit_status": "rejected",
            "stream": int(Stream.general),
            "reason": reason,
        },
        conn=conn,
    )
    applicant = await Applicant.get(id=app.applicant_id, using_db=conn)
    rejected = BenefitRejected(application_number=app.number, reason=reason)
    if referral is not None:
        await close(conn, referral, ReferralStatus.annulled, reason, actor)
        if allows(app.status, Event.benefit_rejected):  # an archived one stays so
            await stop_list(
                conn,
                app,
                Event.benefit_rejected,
                days=settings.stop_list_days,
                actor=actor,
            )
        await return_seat(conn, referral, app, actor=actor, settings=settings)
        rejected = BenefitRejected(
            application_number=app.number,
            reason=reason,
            referral_number=referral.number,
            stop_listed_until=app.stop_listed_until,
        )
    await outbox.notify(applicant, rejected, key=f"benefit_rejected:{app.id}", conn=conn)
