"""The decision on an extraordinary benefit's document (staff, or the registry's webhook).

Confirmed: a referral waiting for it starts its enrollment validity. Rejected (or not confirmed
in time, see `core.referrals.lifecycle.expire_due`): the benefit is removed (general stream); a
referral waiting for it is annulled and the application stop-listed for `stop_list_days`.
"""

from __future__ import annotations

from datetime import date, timedelta
from enum import StrEnum

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.transactions import in_transaction

from core import audit
from core.applications.lifecycle import Event, allows, lock_application, stop_list
from core.calendar.working_days import add_working_days
from core.models import (
    Applicant,
    Application,
    ApplicationStatus,
    BenefitStatus,
    Referral,
    ReferralStatus,
    Stream,
)
from core.notifications import outbox
from core.notifications.kinds import (
    BenefitCertificateExpiring,
    BenefitCertificateLapsed,
    BenefitConfirmed,
    BenefitRejected,
)
from core.platform import clock
from core.platform.errors import DomainError
from core.platform.reasons import Reason
from core.platform.settings import Settings
from core.queue.order import sync_choices
from core.referrals.records import close, return_seat, snapshot


class DecisionReason(StrEnum):
    """The common reasons staff pick from a list when they revoke a referral or reject a
    benefit: stored as the code, read by the parent in their own language. `other`: the staff
    member types the reason, and the parent reads it as typed."""

    documents_not_provided = "documents_not_provided"
    parent_refused_seat = "parent_refused_seat"
    false_benefit_document = "false_benefit_document"
    document_unreadable = "document_unreadable"
    other = "other"


REVOKE_REASONS = (
    DecisionReason.documents_not_provided,
    DecisionReason.parent_refused_seat,
    DecisionReason.other,
)
BENEFIT_REJECT_REASONS = (
    DecisionReason.false_benefit_document,
    DecisionReason.document_unreadable,
    DecisionReason.documents_not_provided,
    DecisionReason.other,
)


async def confirm_benefit(
    application_id: int,
    confirmed: bool,
    reason: str = "",
    *,
    actor: str,
    settings: Settings,
    reason_code: str = "",
) -> Application:
    """Staff decide on an extraordinary benefit's document. Confirmed: a referral waiting for
    it starts its enrollment validity. Rejected: the benefit is removed (general stream); a
    referral waiting for it is annulled and the application stop-listed for `stop_list_days`.
    `reason_code`: a `DecisionReason` picked from the list (then `reason` may be empty)."""
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
            # A benefit can be claimed again after a decision: one notification per decision.
            key = f"benefit_confirmed:{app.id}:{int(clock.now().timestamp())}"
            await outbox.notify(applicant, payload, key=key, conn=conn)
        else:
            await reject_benefit(
                conn,
                app,
                referral,
                reason or reason_code,
                actor=actor,
                settings=settings,
                reason_code=reason_code,
            )
        return app


async def reject_benefit(
    conn: BaseDBAsyncClient,
    app: Application,
    referral: Referral | None,
    reason: str,
    *,
    actor: str,
    settings: Settings,
    lapsed: bool = False,
    reason_code: str = "",
) -> None:
    """The benefit is removed: general stream at the original time; a referral waiting for it
    annulled and the application stop-listed. `lapsed`: its certificate ran out unconfirmed
    (the parent is told so rather than "not confirmed")."""
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
            "reason_code": reason_code,
        },
        conn=conn,
    )
    applicant = await Applicant.get(id=app.applicant_id, using_db=conn)
    shown = "" if reason_code and reason_code != DecisionReason.other else reason
    rejected = BenefitRejected(application_number=app.number, reason=shown, reason_code=reason_code)
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
            reason=shown,
            referral_number=referral.number,
            stop_listed_until=app.stop_listed_until,
            reason_code=reason_code,
        )
    key = f"{{}}:{app.id}:{int(clock.now().timestamp())}"
    if lapsed:
        lapse = BenefitCertificateLapsed(
            application_id=app.id,
            application_number=app.number,
            referral_number=rejected.referral_number,
            stop_listed_until=rejected.stop_listed_until,
        )
        await outbox.notify(applicant, lapse, key=key.format(lapse.kind), conn=conn)
    else:
        await outbox.notify(applicant, rejected, key=key.format(rejected.kind), conn=conn)


# The parent is told this many days before an unconfirmed certificate runs out.
CERTIFICATE_REMINDER_DAYS = 3
CERTIFICATE_LAPSED = "benefit_certificate_expired"  # the audited reason of a lapse


async def benefit_certificates(settings: Settings, today: date) -> int:
    """Daily: extraordinary claims staff have not confirmed whose certificate runs out within
    `CERTIFICATE_REMINDER_DAYS` get a reminder; those already out of date
    (`benefit_certificate_valid_days` after the certificate) lapse through the rejection path.
    Returns how many lapsed."""
    pending = Application.filter(benefit_status=BenefitStatus.pending).exclude(
        status=ApplicationStatus.archived
    )
    soon = await pending.filter(
        benefit_valid_until__gte=today,
        benefit_valid_until__lte=today + timedelta(days=CERTIFICATE_REMINDER_DAYS),
    )
    for app in soon:
        applicant = await Applicant.get(id=app.applicant_id)
        assert app.benefit_valid_until is not None
        await outbox.notify(
            applicant,
            BenefitCertificateExpiring(
                application_id=app.id,
                application_number=app.number,
                valid_until=app.benefit_valid_until,
            ),
            key=f"benefit_certificate_expiring:{app.id}:{app.benefit_valid_until.isoformat()}",
        )
    due = [
        row_id
        for (row_id,) in await pending.filter(benefit_valid_until__lt=today).values_list("id")
    ]
    lapsed = 0
    for application_id in due:
        async with audit.transaction() as conn:
            app = await lock_application(conn, application_id)
            if (
                app.benefit_status != BenefitStatus.pending
                or app.benefit_valid_until is None
                or app.benefit_valid_until >= today
            ):
                continue  # decided or renewed meanwhile
            referral = (
                await Referral.filter(
                    application_id=app.id, status=ReferralStatus.awaiting_benefit_confirmation
                )
                .select_for_update()
                .using_db(conn)
                .first()
            )
            await reject_benefit(
                conn,
                app,
                referral,
                CERTIFICATE_LAPSED,
                actor="system",
                settings=settings,
                lapsed=True,
            )
            lapsed += 1
    return lapsed
