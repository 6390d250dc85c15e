"""Submitting an application: validate the form, then register it in one transaction.

`submit` = `validate` (every rule, nothing written) then `register`: the child's row is locked
(so two submissions for one child are serialised and the second sees the first), uniqueness is
checked, the number comes from the `application` counter (sequential, never reused), and the
application, its choices, the audit entry and the `application_registered` notification are
written together through the lifecycle's `submitted` transition.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from enum import Enum
from typing import TypeVar

from core import audit
from core.applications import lifecycle
from core.applications.benefits import NO_BENEFIT, Entitlement, entitlement
from core.applications.lifecycle import PositionSource
from core.models import (
    Applicant,
    Application,
    ApplicationChoice,
    ApplicationStatus,
    BenefitCategory,
    BenefitStatus,
    Channel,
    Child,
    Document,
    Group,
    Kindergarten,
    Language,
    QueueType,
    ReferralMode,
    Stream,
)
from core.people.applicants import same_child_ids, verified_phone_count
from core.people.iin import full_years
from core.platform import clock
from core.platform.counters import next_number, prepare_counter
from core.platform.dates import local_today, one_year_after
from core.platform.errors import DomainError
from core.platform.reasons import Reason
from core.platform.settings import Settings
from core.queue.changes import note_changed
from core.registry.ports import GovGateway
from core.seats.eligibility import kinds_for
from core.seats.offers import offer_on_submission

APPLICATION_COUNTER = "application"
# The first number handed out (numbers look like #1292583 in the source documents).
FIRST_APPLICATION_NUMBER = 1_292_001

NON_ARCHIVED = (ApplicationStatus.active, ApplicationStatus.stop_listed)

E = TypeVar("E", bound=Enum)


@dataclass
class SubmissionInput:
    applicant_id: int
    child_id: int
    city_id: int
    queue_type: QueueType | str
    choices: list[tuple[int, Language | str]]  # (kindergarten_id, language), parent's order
    referral_mode: ReferralMode | str = ReferralMode.immediately
    referral_from: date | None = None
    benefit_category: int | None = None
    benefit_document_id: int | None = None
    pmpk_document_id: int | None = None
    birth_certificate_document_id: int | None = None
    legal_representative: bool = False  # as reported by the gov gateway
    notification_language: Language | str | None = None
    # The channel the parent chose at step 4: set with the application, so the first notice
    # (application_registered, a seat offered at once) already goes by it.
    channel: Channel | str | None = None


async def submit(
    data: SubmissionInput,
    *,
    settings: Settings,
    actor: str,
    index: PositionSource = None,
    gov: GovGateway | None = None,
) -> Application:
    """Register an application or refuse with a reason code (DomainError).

    `index` (a Redis client or PositionIndex): the queue-position index to update after the
    commit, so the positions shown next come from it; `gov`: asked when the family request
    does not confirm a first-priority benefit."""
    plan = await validate(data, settings, gov=gov)
    return await register(plan, settings=settings, actor=actor, index=index)


@dataclass(frozen=True)
class Plan:
    """A submission that passed every rule: what `register` writes."""

    data: SubmissionInput
    child: Child
    applicant: Applicant
    queue_type: QueueType
    mode: ReferralMode
    choices: list[tuple[int, Language]]
    category: BenefitCategory | None
    stream: Stream
    benefit_status: BenefitStatus
    language: Language
    today: date
    benefit: Entitlement = NO_BENEFIT
    channel: Channel | None = None


async def validate(
    data: SubmissionInput, settings: Settings, *, gov: GovGateway | None = None
) -> Plan:
    """Every rule of the application form, checked before anything is written."""
    queue_type = _enum(QueueType, data.queue_type, Reason.invalid_queue_type)
    mode = _enum(ReferralMode, data.referral_mode, Reason.invalid_referral_mode)
    today = local_today(settings)

    if not data.legal_representative:
        raise DomainError(Reason.not_legal_representative)
    child = await Child.get_or_none(id=data.child_id).prefetch_related("person")
    if child is None or child.representative_id != data.applicant_id:  # only the parent's own
        raise DomainError(Reason.child_not_found)
    age = full_years(child.person.birth_date, today)
    if age >= settings.max_child_age_years:
        raise DomainError(Reason.child_too_old, age=age, max_age=settings.max_child_age_years)

    choices = await _valid_choices(data, settings)

    if mode is ReferralMode.from_date:
        check_referral_date(data.referral_from, child.person.birth_date, today, settings)

    if queue_type is QueueType.correctional and not data.pmpk_document_id:
        raise DomainError(Reason.pmpk_required)
    # The benefit is re-derived (registry-confirmed or a pending certificate), never trusted.
    benefit = await entitlement(
        data.benefit_category,
        data.benefit_document_id,
        applicant_id=data.applicant_id,
        child=child,
        settings=settings,
        today=today,
        gov=gov,
    )
    certificate_id = data.birth_certificate_document_id or child.birth_certificate_id
    if child.person.iin is None and not certificate_id:
        raise DomainError(Reason.birth_certificate_required)
    for document_id in (
        data.pmpk_document_id,
        data.benefit_document_id,
        data.birth_certificate_document_id,
    ):
        if document_id and not await Document.exists(
            id=document_id, applicant_id=data.applicant_id
        ):
            raise DomainError(Reason.document_not_found)

    have = await verified_phone_count(data.applicant_id)
    if have < settings.min_verified_phones:
        raise DomainError(
            Reason.not_enough_verified_phones, required=settings.min_verified_phones, have=have
        )
    applicant = await Applicant.get_or_none(id=data.applicant_id)
    if applicant is None:
        raise DomainError(Reason.applicant_not_found)

    language = (
        _enum(Language, data.notification_language, Reason.invalid_language)
        if data.notification_language
        else Language(applicant.language)
    )
    channel = _enum(Channel, data.channel, Reason.invalid_channel) if data.channel else None
    return Plan(
        data=data,
        child=child,
        applicant=applicant,
        queue_type=queue_type,
        mode=mode,
        choices=choices,
        category=benefit.category,
        stream=benefit.stream,
        benefit_status=benefit.status,
        benefit=benefit,
        language=language,
        today=today,
        channel=channel,
    )


async def register(
    plan: Plan, *, settings: Settings, actor: str, index: PositionSource = None
) -> Application:
    """One transaction: the child's row locked, uniqueness checked, the number taken, the
    application and its choices written through the lifecycle's `submitted` transition."""
    data, child, queue_type = plan.data, plan.child, plan.queue_type
    await prepare_counter(APPLICATION_COUNTER, FIRST_APPLICATION_NUMBER)
    # audit.transaction: the audit chain's lock is taken at the end, not held all along.
    async with audit.transaction() as conn:
        # The child's row lock serialises submissions for one child across the country; a child
        # without an IIN is one child with every IIN-less child of the same birth-certificate
        # data (the other parent's entry): all their rows are locked, in id order.
        same_child = await same_child_ids(child)
        await Child.filter(id__in=same_child).order_by("id").select_for_update().using_db(conn)
        existing = (
            await Application.filter(
                child_id__in=same_child, queue_type=queue_type, status__in=NON_ARCHIVED
            )
            .using_db(conn)
            .first()
        )
        if existing is not None:
            raise _duplicate(existing, child.id, plan.applicant.id)
        number = await next_number(APPLICATION_COUNTER, FIRST_APPLICATION_NUMBER, conn=conn)
        if plan.channel is not None:  # before the notices below are written with it
            await Applicant.filter(id=plan.applicant.id).using_db(conn).update(channel=plan.channel)
        submitted_at = clock.now()
        application = Application(
            number=number,
            applicant_id=plan.applicant.id,
            child_id=child.id,
            city_id=data.city_id,
            queue_type=queue_type,
            birth_year=child.person.birth_date.year,
            stream=plan.stream,
            benefit_category=int(plan.category) if plan.category is not None else None,
            benefit_status=plan.benefit_status,
            benefit_document_id=plan.benefit.document_id,
            benefit_certificate_issued_on=plan.benefit.certificate_issued_on,
            benefit_valid_until=plan.benefit.valid_until,
            pmpk_document_id=data.pmpk_document_id,
            referral_mode=plan.mode,
            referral_from=data.referral_from if plan.mode is ReferralMode.from_date else None,
            submitted_at=submitted_at,
            valid_until=one_year_after(plan.today),
            notification_language=plan.language,
        )
        await lifecycle.transition(
            conn,
            application,
            lifecycle.Event.submitted,
            actor=actor,
            extra={"choices": [[k, lang.value] for k, lang in plan.choices]},
        )
        choice_rows = [
            ApplicationChoice(
                application_id=application.id,
                kindergarten_id=kg_id,
                rank=rank,
                language=lang,
                queue_type=queue_type,
                birth_year=application.birth_year,
                stream=plan.stream,
                submitted_at=submitted_at,
                number=number,
                active=True,
            )
            for rank, (kg_id, lang) in enumerate(plan.choices, start=1)
        ]
        await ApplicationChoice.bulk_create(choice_rows, using_db=conn)
        if data.birth_certificate_document_id and not child.birth_certificate_id:
            await (
                Child.filter(id=child.id)
                .using_db(conn)
                .update(birth_certificate_id=data.birth_certificate_document_id)
            )
        # A seat already free in a chosen kindergarten is offered at once (DOMAIN.md).
        await offer_on_submission(conn, application, settings=settings)
    note_changed(application.id)
    await lifecycle.sync_index(index, application, choice_rows)
    return application


async def already_queued(
    child_id: int, applicant_id: int, queue_type: QueueType | str
) -> DomainError | None:
    """The refusal `register` would give this child in this queue now (None: may apply): the
    wizard tells it at the child step, not after the whole form."""
    child = await Child.get_or_none(id=child_id).prefetch_related("person")
    if child is None:
        return None
    kind = _enum(QueueType, queue_type, Reason.invalid_queue_type)
    existing = await Application.filter(
        child_id__in=await same_child_ids(child), queue_type=kind, status__in=NON_ARCHIVED
    ).first()
    return None if existing is None else _duplicate(existing, child.id, applicant_id)


def last_referral_day(born: date, settings: Settings) -> date:
    """The last day a referral can be issued to this child: referrals stop on 1 January of the
    year the child turns `max_child_age_years` (DOMAIN.md, the referral age rule)."""
    return date(born.year + settings.max_child_age_years - 1, 12, 31)


def check_referral_date(
    referral_from: date | None, born: date, today: date, settings: Settings
) -> None:
    """The "from a date" referral mode: a date after today and no later than the last day a
    referral can still be issued to the child (a later date would never get an offer)."""
    if referral_from is None:
        raise DomainError(Reason.referral_date_required)
    latest = last_referral_day(born, settings)
    if not today < referral_from <= latest:
        raise DomainError(
            Reason.referral_date_out_of_range,
            earliest=(today + timedelta(days=1)).isoformat(),
            latest=latest.isoformat(),
        )


# --- Helpers ------------------------------------------------------------------------------------


async def _valid_choices(data: SubmissionInput, settings: Settings) -> list[tuple[int, Language]]:
    """The chosen (kindergarten, language) pairs, in the parent's order, each in the city and
    taught in that language; for the correctional queue, each with a correctional group
    (application-rules.ru.txt:33: "Коррекционная очередь предназначена для зачисления в
    специальные дошкольные организации образования для детей с особыми потребностями"), so the
    application can ever be offered a seat there."""
    choices = [
        (int(kg), _enum(Language, lang, Reason.invalid_language)) for kg, lang in data.choices
    ]
    if not choices:
        raise DomainError(Reason.no_kindergartens)
    if len(choices) > settings.max_kindergartens:
        raise DomainError(Reason.too_many_kindergartens, max=settings.max_kindergartens)
    if len({kg for kg, _ in choices}) != len(choices):
        raise DomainError(Reason.duplicate_kindergarten)
    kindergartens = {
        kg.id: kg for kg in await Kindergarten.filter(id__in=[kg for kg, _ in choices])
    }
    queue_type = _enum(QueueType, data.queue_type, Reason.invalid_queue_type)
    special: set[int] = set()
    if queue_type is QueueType.correctional:
        rows = await Group.filter(
            kindergarten_id__in=list(kindergartens), kind__in=kinds_for(queue_type)
        ).values("kindergarten_id")
        special = {int(row["kindergarten_id"]) for row in rows}
    for kg_id, language in choices:
        kindergarten = kindergartens.get(kg_id)
        if kindergarten is None or kindergarten.city_id != data.city_id:
            raise DomainError(Reason.kindergarten_not_found, kindergarten_id=kg_id)
        if language not in kindergarten.language_list:
            raise DomainError(
                Reason.language_not_taught, kindergarten_id=kg_id, language=language.value
            )
        if queue_type is QueueType.correctional and kg_id not in special:
            raise DomainError(Reason.no_correctional_group, kindergarten_id=kg_id)
    return choices


def _duplicate(existing: Application, child_id: int, applicant_id: int) -> DomainError:
    """One application per child and queue: the parent's own number, or only "another parent"
    (the other family's number is not theirs to see)."""
    if existing.child_id != child_id and existing.applicant_id != applicant_id:
        return DomainError(Reason.child_queued_by_other_parent)
    return DomainError(Reason.duplicate_application, number=existing.number)


def _enum(kind: type[E], value: object, reason: Reason) -> E:
    try:
        return kind(value)
    except ValueError:
        raise DomainError(reason) from None
