"""What benefit an application is entitled to: derived here, never taken from the caller.

A first-priority benefit (5-11) holds only when the state registry confirmed it for this family:
the applicant's latest consented family request that lists the child, or a fresh benefits
look-up by the child's or the parent's IIN; and only within the registry record's validity.
An extraordinary benefit (1-4) needs the parent's own certificate upload and is always
`pending` until staff confirm it; the certificate counts from its upload and lapses after
`benefit_certificate_valid_days` (`core.referrals.benefits.benefit_certificates`, a daily job).

A confirmed first-priority benefit is checked again when its registry record's validity ends
(`recheck_ended_benefits`, a daily job): renewed in the registry, it holds on; not, the
application goes on in the general order at its original time and the parent is told.

`entitlement` is the one derivation; submission (`core.applications.submission.validate`) and the
later change from the cabinet (`change_benefit`) both call it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from core import audit
from core.applications import lifecycle
from core.applications.lifecycle import PositionSource, lock_application
from core.models import (
    LIVE_REFERRAL_STATUSES,
    Applicant,
    Application,
    ApplicationStatus,
    BenefitCategory,
    BenefitStatus,
    Child,
    Document,
    DocumentKind,
    GovRequest,
    GovRequestStatus,
    Person,
    Referral,
    Stream,
)
from core.notifications import outbox
from core.notifications.kinds import BenefitEnded
from core.platform.dates import local_today
from core.platform.errors import DomainError
from core.platform.pii import mask_iin
from core.platform.reasons import Reason
from core.platform.settings import Settings
from core.queue.order import sync_choices
from core.registry import family_requests
from core.registry.ports import GatewayUnavailable, GovGateway

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Entitlement:
    """The benefit as the core derived it: what an application stores."""

    category: BenefitCategory | None
    stream: Stream
    status: BenefitStatus
    document_id: int | None = None
    certificate_issued_on: date | None = None
    valid_until: date | None = None


NO_BENEFIT = Entitlement(None, Stream.general, BenefitStatus.none)


async def entitled_benefits(
    applicant_id: int, child: Child, today: date, gov: GovGateway | None = None
) -> dict[int, date]:
    """First-priority categories the registry confirmed for this child's family, each with the
    last day its record is valid (only records valid `today`): the consented family request
    that lists the child, and (with `gov`) a fresh look-up by the child's and parent's IIN.
    Raises GatewayUnavailable when `gov` does not answer."""
    found = await _from_family_request(applicant_id, child, today)
    if gov is not None:
        for category, until in (await _from_registry(applicant_id, child, today, gov)).items():
            found[category] = max(until, found.get(category, until))
    return found


async def entitlement(
    category: int | None,
    document_id: int | None,
    *,
    applicant_id: int,
    child: Child,
    settings: Settings,
    today: date,
    gov: GovGateway | None = None,
) -> Entitlement:
    """The benefit this applicant may have for this child, or a refusal (DomainError):
    `invalid_benefit`, `benefit_document_required`, `document_not_found`,
    `benefit_certificate_expired`, `benefit_not_confirmed`, `benefit_check_unavailable`."""
    if category is None:
        return NO_BENEFIT
    try:
        chosen = BenefitCategory(int(category))
    except (TypeError, ValueError):
        raise DomainError(Reason.invalid_benefit) from None
    if chosen.needs_document:
        if not document_id:
            raise DomainError(Reason.benefit_document_required)
        document = await Document.get_or_none(
            id=document_id, applicant_id=applicant_id, kind=DocumentKind.benefit
        )
        if document is None:
            raise DomainError(Reason.document_not_found)
        # The certificate counts from its upload: the parent is never asked for a date we
        # could not check, and an older upload cannot be re-used beyond its term.
        issued = document.created_at.astimezone(settings.tz).date()
        valid_until = issued + timedelta(days=settings.benefit_certificate_valid_days)
        if valid_until < today:
            raise DomainError(Reason.benefit_certificate_expired, until=valid_until.isoformat())
        return Entitlement(
            chosen,
            Stream.extraordinary,
            BenefitStatus.pending,
            document_id=document.id,
            certificate_issued_on=issued,
            valid_until=valid_until,
        )
    # The family request first; the registry is asked only when it does not confirm this one.
    confirmed = await _from_family_request(applicant_id, child, today)
    if int(chosen) not in confirmed and gov is not None:
        try:
            confirmed = await _from_registry(applicant_id, child, today, gov)
        except GatewayUnavailable:
            raise DomainError(Reason.benefit_check_unavailable) from None
    if int(chosen) not in confirmed:
        raise DomainError(Reason.benefit_not_confirmed, category=int(chosen))
    return Entitlement(
        chosen, Stream.first_priority, BenefitStatus.confirmed, valid_until=confirmed[int(chosen)]
    )


async def change_benefit(
    application_id: int,
    applicant_id: int,
    category: int | None,
    document_id: int | None = None,
    *,
    settings: Settings,
    actor: str,
    gov: GovGateway | None = None,
    index: PositionSource = None,
) -> Application:
    """The parent adds, changes or removes the benefit of an application after submission
    (the statement promises it can be given later in the cabinet): the same entitlement as at
    submission; the application moves to its new stream at its original time."""
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
        if live:  # the referral was issued for the benefit it had: decided there, not here
            raise DomainError(Reason.live_referral, number=app.number)
        child = await Child.get(id=app.child_id, using_db=conn).prefetch_related("person")
        new = await entitlement(
            category,
            document_id,
            applicant_id=applicant_id,
            child=child,
            settings=settings,
            today=today,
            gov=gov,
        )
        if _unchanged(app, new):
            raise DomainError(Reason.benefit_unchanged, number=app.number)
        before = _benefit_state(app)
        app.benefit_category = int(new.category) if new.category is not None else None
        app.benefit_status = new.status
        app.stream = new.stream
        app.benefit_document_id = new.document_id
        app.benefit_certificate_issued_on = new.certificate_issued_on
        app.benefit_valid_until = new.valid_until
        await app.save(using_db=conn, update_fields=list(before))
        await sync_choices(app, conn)
        await audit.record(
            "benefit.changed",
            "application",
            app.id,
            actor=actor,
            before=before,
            after=_benefit_state(app),
            conn=conn,
        )
    await lifecycle.sync_index(index)
    return app


async def recheck_ended_benefits(
    settings: Settings, today: date, gov: GovGateway, index: PositionSource = None
) -> int:
    """Daily: confirmed first-priority benefits whose registry record ended before `today` are
    looked up again. Still confirmed: the new validity is kept. Not: the benefit is removed (the
    application keeps its time, in the general order) and the parent is told. An application
    with a live referral keeps it (the referral was issued for the benefit it had); a registry
    that does not answer is asked again the next day. Returns how many benefits ended."""
    due = [
        row_id
        for (row_id,) in await Application.filter(
            benefit_status=BenefitStatus.confirmed,
            stream=Stream.first_priority,
            benefit_valid_until__lt=today,
        )
        .exclude(status=ApplicationStatus.archived)
        .values_list("id")
    ]
    ended = 0
    for application_id in due:
        try:
            ended += await _recheck_one(application_id, settings, today, gov)
        except GatewayUnavailable:
            log.warning("benefit re-check postponed: the registry did not answer")
            break  # the rest waits for tomorrow too
    if ended:
        await lifecycle.sync_index(index)
    return ended


async def _recheck_one(
    application_id: int, settings: Settings, today: date, gov: GovGateway
) -> int:
    app = await Application.get(id=application_id)
    child = await Child.get(id=app.child_id).prefetch_related("person")
    # The look-up runs outside the row lock: the registry may take seconds.
    found = await entitled_benefits(app.applicant_id, child, today, gov)
    async with audit.transaction() as conn:
        app = await lock_application(conn, application_id)
        if (
            app.status == ApplicationStatus.archived
            or app.benefit_status != BenefitStatus.confirmed
            or app.benefit_valid_until is None
            or app.benefit_valid_until >= today
            or app.benefit_category is None
        ):
            return 0  # changed meanwhile
        live = (
            await Referral.filter(application_id=app.id, status__in=LIVE_REFERRAL_STATUSES)
            .using_db(conn)
            .exists()
        )
        if live:
            return 0
        before = _benefit_state(app)
        category, ended_on = app.benefit_category, app.benefit_valid_until
        if category in found:
            app.benefit_valid_until = found[category]
            await app.save(using_db=conn, update_fields=["benefit_valid_until"])
            await audit.record(
                "benefit.renewed",
                "application",
                app.id,
                actor="system",
                before=before,
                after=_benefit_state(app),
                conn=conn,
            )
            return 0
        app.benefit_category = None
        app.benefit_status = BenefitStatus.none
        app.stream = Stream.general
        app.benefit_valid_until = None
        await app.save(using_db=conn, update_fields=list(before))
        await sync_choices(app, conn)
        await audit.record(
            "benefit.changed",
            "application",
            app.id,
            actor="system",
            before=before,
            after=_benefit_state(app) | {"reason": "registry_record_ended"},
            conn=conn,
        )
        await outbox.notify(
            await Applicant.get(id=app.applicant_id, using_db=conn),
            BenefitEnded(
                application_id=app.id,
                application_number=app.number,
                category=category,
                ended_on=ended_on,
            ),
            key=f"benefit_ended:{app.id}:{ended_on.isoformat()}",
            conn=conn,
        )
    return 1


@dataclass(frozen=True)
class BenefitOptions:
    """What the cabinet's "benefit" conversation offers for one application."""

    application_id: int
    number: int
    category: int | None
    status: BenefitStatus
    confirmed: list[int]  # first-priority categories the registry confirmed (choosable)
    changeable: bool  # not archived, no live referral


async def benefit_options(
    application_id: int, applicant_id: int, settings: Settings, gov: GovGateway | None = None
) -> BenefitOptions:
    """The parent's own application (else `application_not_found`) and the benefits it may
    take now; a registry that does not answer just confirms nothing."""
    app = await Application.get_or_none(id=application_id, applicant_id=applicant_id)
    if app is None:
        raise DomainError(Reason.application_not_found)
    child = await Child.get(id=app.child_id).prefetch_related("person")
    try:
        confirmed = await entitled_benefits(applicant_id, child, local_today(settings), gov)
    except GatewayUnavailable:
        confirmed = await _from_family_request(applicant_id, child, local_today(settings))
    live = await Referral.filter(application_id=app.id, status__in=LIVE_REFERRAL_STATUSES).exists()
    return BenefitOptions(
        application_id=app.id,
        number=app.number,
        category=app.benefit_category,
        status=BenefitStatus(app.benefit_status),
        confirmed=sorted(confirmed),
        changeable=app.status != ApplicationStatus.archived and not live,
    )


# --- Helpers ------------------------------------------------------------------------------------


async def _from_family_request(applicant_id: int, child: Child, today: date) -> dict[int, date]:
    request = (
        await GovRequest.filter(applicant_id=applicant_id, status=GovRequestStatus.consented)
        .order_by("-id")
        .first()
    )
    if request is None or not _lists_child(request, child):
        return {}
    return _valid(family_requests.first_priority_benefits(request, today))


def _lists_child(request: GovRequest, child: Child) -> bool:
    """The family result is about this child: listed by id or IIN. A child without an IIN (not
    in the registry) has only the parent's family record to go by."""
    result: dict[str, Any] = request.result or {}
    if child.id in (result.get("child_ids") or []):
        return True
    iin = child.person.iin
    if iin is None:
        return child.representative_id == request.applicant_id
    return any(str(item.get("iin")) == iin for item in result.get("children") or [])


async def _from_registry(
    applicant_id: int, child: Child, today: date, gov: GovGateway
) -> dict[int, date]:
    parent = await Person.filter(applicants__id=applicant_id).first()
    found: dict[int, date] = {}
    for iin in {child.person.iin, parent.iin if parent else None} - {None}:
        assert iin is not None
        records = await gov.benefits(iin)
        log.info("benefits look-up for %s: %s records", mask_iin(iin), len(records))
        for category, until in _valid([r for r in records if r.valid_until >= today]).items():
            found[category] = max(until, found.get(category, until))
    return found


def _valid(records: list[Any]) -> dict[int, date]:
    """First-priority records only (the registry never confirms an extraordinary one)."""
    found: dict[int, date] = {}
    for record in records:
        category = int(record.category)
        if category in {int(c) for c in BenefitCategory} and not (
            BenefitCategory(category).needs_document
        ):
            found[category] = max(record.valid_until, found.get(category, record.valid_until))
    return found


def _unchanged(app: Application, new: Entitlement) -> bool:
    current = app.benefit_category
    if new.category is None:
        return current is None
    if current != int(new.category):
        return False
    # The same extraordinary category with a new certificate is a change (a fresh term).
    return new.status is BenefitStatus.confirmed or app.benefit_document_id == new.document_id


def _benefit_state(app: Application) -> dict[str, Any]:
    return {
        "benefit_category": app.benefit_category,
        "benefit_status": str(app.benefit_status),
        "stream": int(app.stream),
        "benefit_document_id": app.benefit_document_id,
        "benefit_certificate_issued_on": app.benefit_certificate_issued_on,
        "benefit_valid_until": app.benefit_valid_until,
    }
