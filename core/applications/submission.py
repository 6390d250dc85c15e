"""Applications: submission rules, withdrawal, restore from the stop-list, public look-up.

Submission is one transaction: the child's row is locked (so two submissions for one child are
serialised and the second sees the first), uniqueness is checked, the number comes from the
`application` counter (sequential, never reused), the choices, the audit entry and the
`application_registered` notification are written together.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.connection import get_connection
from tortoise.expressions import Q

from core import audit
from core.models import (
    LIVE_REFERRAL_STATUSES,
    Applicant,
    Application,
    ApplicationChoice,
    ApplicationStatus,
    ArchiveReason,
    BenefitCategory,
    BenefitStatus,
    Child,
    Document,
    Kindergarten,
    Language,
    Person,
    QueueType,
    Referral,
    ReferralMode,
    Stream,
)
from core.notifications import outbox
from core.people.applicants import verified_phone_count
from core.people.iin import InvalidIin, full_years, parse_iin
from core.platform import clock
from core.platform.errors import DomainError
from core.queue.changes import note_changed, take_changed
from core.queue.order import city_position, kindergarten_positions, sync_choices
from core.queue.places import Position
from core.seats.offers import offer_on_submission

if TYPE_CHECKING:
    from core.platform.settings import Settings

APPLICATION_COUNTER = "application"
# The first number handed out (numbers look like #1292583 in the source documents).
FIRST_APPLICATION_NUMBER = 1_292_001

NON_ARCHIVED = (ApplicationStatus.active, ApplicationStatus.stop_listed)


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


async def submit(
    data: SubmissionInput, *, settings: Settings, actor: str, index: Any = None
) -> Application:
    """Register an application or refuse with a reason code (DomainError).

    `index` (a Redis client or PositionIndex): the queue-position index to update after the
    commit, so the positions shown next come from it."""
    queue_type = _enum(QueueType, data.queue_type, "invalid_queue_type")
    mode = _enum(ReferralMode, data.referral_mode, "invalid_referral_mode")
    today = clock.now().astimezone(settings.tz).date()

    if not data.legal_representative:
        raise DomainError("not_legal_representative")
    child = await Child.get_or_none(id=data.child_id).prefetch_related("person")
    if child is None:
        raise DomainError("child_not_found")
    age = full_years(child.person.birth_date, today)
    if age >= settings.max_child_age_years:
        raise DomainError("child_too_old", age=age, max_age=settings.max_child_age_years)

    choices = [(int(kg), _enum(Language, lang, "invalid_language")) for kg, lang in data.choices]
    if not choices:
        raise DomainError("no_kindergartens")
    if len(choices) > settings.max_kindergartens:
        raise DomainError("too_many_kindergartens", max=settings.max_kindergartens)
    if len({kg for kg, _ in choices}) != len(choices):
        raise DomainError("duplicate_kindergarten")
    kindergartens = {
        kg.id: kg for kg in await Kindergarten.filter(id__in=[kg for kg, _ in choices])
    }
    for kg_id, language in choices:
        kindergarten = kindergartens.get(kg_id)
        if kindergarten is None or kindergarten.city_id != data.city_id:
            raise DomainError("kindergarten_not_found", kindergarten_id=kg_id)
        if language not in kindergarten.language_list:
            raise DomainError("language_not_taught", kindergarten_id=kg_id, language=language.value)

    if mode is ReferralMode.from_date and (
        data.referral_from is None or data.referral_from <= today
    ):
        raise DomainError("referral_date_required")

    if queue_type is QueueType.correctional and not data.pmpk_document_id:
        raise DomainError("pmpk_required")
    category: BenefitCategory | None = None
    if data.benefit_category is not None:
        category = _enum(BenefitCategory, int(data.benefit_category), "invalid_benefit")
        if category.needs_document and not data.benefit_document_id:
            raise DomainError("benefit_document_required")
    certificate_id = data.birth_certificate_document_id or child.birth_certificate_id
    if child.person.iin is None and not certificate_id:
        raise DomainError("birth_certificate_required")
    for document_id in (
        data.pmpk_document_id,
        data.benefit_document_id,
        data.birth_certificate_document_id,
    ):
        if document_id and not await Document.exists(
            id=document_id, applicant_id=data.applicant_id
        ):
            raise DomainError("document_not_found")

    have = await verified_phone_count(data.applicant_id)
    if have < settings.min_verified_phones:
        raise DomainError(
            "not_enough_verified_phones", required=settings.min_verified_phones, have=have
        )
    applicant = await Applicant.get_or_none(id=data.applicant_id)
    if applicant is None:
        raise DomainError("applicant_not_found")

    if category is None:
        stream, benefit_status = Stream.general, BenefitStatus.none
    elif category.stream is Stream.extraordinary:
        stream, benefit_status = Stream.extraordinary, BenefitStatus.pending
    else:  # first-priority benefits come from the gov gateway: already confirmed
        stream, benefit_status = Stream.first_priority, BenefitStatus.confirmed
    language = (
        _enum(Language, data.notification_language, "invalid_language")
        if data.notification_language
        else applicant.language
    )

    await prepare_counter(APPLICATION_COUNTER, FIRST_APPLICATION_NUMBER)
    # audit.transaction: the audit chain's lock is taken at the end, not held all along.
    async with audit.transaction() as conn:
        # The child's row lock serialises submissions for one child across the country.
        await Child.filter(id=child.id).select_for_update().using_db(conn).first()
        existing = (
            await Application.filter(
                child_id=child.id, queue_type=queue_type, status__in=NON_ARCHIVED
            )
            .using_db(conn)
            .first()
        )
        if existing is not None:
            raise DomainError("duplicate_application", number=existing.number)
        number = await next_number(APPLICATION_COUNTER, FIRST_APPLICATION_NUMBER, conn=conn)
        submitted_at = clock.now()
        application = await Application.create(
            number=number,
            applicant_id=applicant.id,
            child_id=child.id,
            city_id=data.city_id,
            queue_type=queue_type,
            birth_year=child.person.birth_date.year,
            stream=stream,
            benefit_category=int(category) if category is not None else None,
            benefit_status=benefit_status,
            benefit_document_id=data.benefit_document_id,
            pmpk_document_id=data.pmpk_document_id,
            referral_mode=mode,
            referral_from=data.referral_from if mode is ReferralMode.from_date else None,
            submitted_at=submitted_at,
            status=ApplicationStatus.active,
            valid_until=one_year_after(today),
            notification_language=language,
            using_db=conn,
        )
        choice_rows = [
            ApplicationChoice(
                application_id=application.id,
                kindergarten_id=kg_id,
                rank=rank,
                language=lang,
                queue_type=queue_type,
                birth_year=application.birth_year,
                stream=stream,
                submitted_at=submitted_at,
                number=number,
                active=True,
            )
            for rank, (kg_id, lang) in enumerate(choices, start=1)
        ]
        await ApplicationChoice.bulk_create(choice_rows, using_db=conn)
        if data.birth_certificate_document_id and not child.birth_certificate_id:
            await (
                Child.filter(id=child.id)
                .using_db(conn)
                .update(birth_certificate_id=data.birth_certificate_document_id)
            )
        await audit.record(
            "application.registered",
            "application",
            application.id,
            actor=actor,
            after=snapshot(application) | {"choices": [[k, lang.value] for k, lang in choices]},
            conn=conn,
        )
        await outbox.notify(
            applicant,
            "application_registered",
            {"number": number},
            key=f"application_registered:{application.id}",
            conn=conn,
        )
        # A seat already free in a chosen kindergarten is offered at once (DOMAIN.md).
        await offer_on_submission(conn, application, settings=settings)
    note_changed(application.id)
    await _sync_index(index, application, choice_rows)
    return application


async def _sync_index(
    index: Any, application: Application | None = None, choices: list[Any] | None = None
) -> None:
    """After a commit: move the changed applications in the position index (if any)."""
    from core.queue.index import index_for, sync_changed

    position_index = index_for(index)
    if position_index is None:  # the entry point (update, callback, job) applies the notes
        return
    if application is not None and choices is not None:
        take_changed()
        try:
            await position_index.sync(application.id, application=application, choices=choices)
        except Exception:  # a cache: never fail a committed submission
            import logging

            logging.getLogger(__name__).exception("position index sync failed")
        return
    await sync_changed(position_index)


async def withdraw(
    application_id: int, applicant_id: int, *, actor: str, index: Any = None
) -> Application:
    """The parent withdraws an application: it is archived and leaves every queue."""
    async with audit.transaction() as conn:
        application = await _locked_own(application_id, applicant_id, conn)
        if application.status == ApplicationStatus.archived:
            raise DomainError("application_archived", number=application.number)
        live = (
            await Referral.filter(application_id=application.id, status__in=LIVE_REFERRAL_STATUSES)
            .using_db(conn)
            .exists()
        )
        if live:
            raise DomainError("live_referral", number=application.number)
        before = snapshot(application)
        application.status = ApplicationStatus.archived
        application.archive_reason = ArchiveReason.withdrawn
        await application.save(update_fields=["status", "archive_reason"], using_db=conn)
        await sync_choices(application, conn)
        await audit.record(
            "application.withdrawn",
            "application",
            application.id,
            actor=actor,
            before=before,
            after=snapshot(application),
            conn=conn,
        )
    await _sync_index(index)
    return application


async def restore_from_stop_list(
    application_id: int,
    applicant_id: int | None = None,
    *,
    actor: str,
    settings: Settings | None = None,
    conn: BaseDBAsyncClient | None = None,
    index: Any = None,
) -> Application:
    """Back from the stop-list to the queue at its original time (submitted_at unchanged).

    `applicant_id` set: the parent's own request (only when the stop-list term is over or
    indefinite); None: the system (the timer) restores it. An expired `valid_until` is renewed
    for a year, since restoring is the parent's confirmation that the application is wanted.
    """
    if conn is None:
        async with audit.transaction() as tx:
            restored = await restore_from_stop_list(
                application_id, applicant_id, actor=actor, settings=settings, conn=tx
            )
        await _sync_index(index)
        return restored
    application = await _locked_own(application_id, applicant_id, conn)
    if application.status != ApplicationStatus.stop_listed:
        raise DomainError("not_stop_listed", number=application.number)
    now = clock.now()
    if (
        applicant_id is not None
        and application.stop_listed_until is not None
        and application.stop_listed_until > now
    ):
        raise DomainError(
            "stop_list_not_over",
            number=application.number,
            until=application.stop_listed_until.isoformat(),
        )
    before = snapshot(application)
    application.status = ApplicationStatus.active
    application.stop_listed_until = None
    tz = settings.tz if settings is not None else None
    today = (now.astimezone(tz) if tz else now).date()
    fields = ["status", "stop_listed_until"]
    if application.valid_until < today:
        application.valid_until = one_year_after(today)
        fields.append("valid_until")
    await application.save(update_fields=fields, using_db=conn)
    await sync_choices(application, conn)
    await audit.record(
        "application.restored",
        "application",
        application.id,
        actor=actor,
        before=before,
        after=snapshot(application),
        conn=conn,
    )
    applicant = await Applicant.get(id=application.applicant_id).using_db(conn)
    await outbox.notify(
        applicant,
        "restored",
        {"number": application.number},
        key=f"restored:{application.id}:{now.isoformat()}",
        conn=conn,
    )
    return application


async def applications_of(applicant_id: int, *, include_archived: bool = True) -> list[Application]:
    """The applicant's applications (child, choices and their kindergartens loaded)."""
    query = Application.filter(applicant_id=applicant_id)
    if not include_archived:
        query = query.filter(status__in=NON_ARCHIVED)
    return await query.order_by("submitted_at", "number").prefetch_related(
        "child__person", "choices__kindergarten"
    )


async def application_of(applicant_id: int, application_id: int) -> Application:
    """One of the applicant's applications (child, choices and kindergartens loaded)."""
    application = (
        await Application.filter(id=application_id, applicant_id=applicant_id)
        .prefetch_related("child__person", "choices__kindergarten")
        .first()
    )
    if application is None:
        raise DomainError("application_not_found")
    return application


# --- Public look-up ---------------------------------------------------------------------------


@dataclass(frozen=True)
class PublicChoice:
    kindergarten_id: int
    name_ru: str
    name_kk: str
    language: str
    position: Position | None


@dataclass(frozen=True)
class PublicApplication:
    """What anyone may see by IIN: never the IIN, phones, or the benefit category."""

    number: int
    status: str  # ApplicationStatus value
    submitted_at: datetime
    benefit_class: str  # none | first_priority | extraordinary
    applicant_name: str  # masked
    child_name: str  # masked
    birth_year: int
    queue_type: str
    position: Position | None  # city cohort; None when archived
    kindergartens: list[PublicChoice] = field(default_factory=list)


async def public_lookup(
    iin: str, settings: Settings, *, index: Any = None
) -> list[PublicApplication]:
    """Applications of a child, or of an applicant, by IIN (no login). `index`: a Redis
    client (or PositionIndex) for the positions, see `core.queue.city_position`."""
    try:
        value = parse_iin(iin).value
    except InvalidIin as exc:
        raise DomainError("invalid_iin", detail=exc.reason) from None
    person = await Person.get_or_none(iin=value)
    if person is None:
        return []
    applications = (
        await Application.filter(Q(child__person_id=person.id) | Q(applicant__person_id=person.id))
        .order_by("submitted_at", "number")
        .prefetch_related("child__person", "applicant__person", "choices__kindergarten")
    )
    result = []
    for application in applications:
        archived = application.status == ApplicationStatus.archived
        kindergartens = []
        if not archived:
            for choice, position in await kindergarten_positions(
                application, settings, index=index, choices=list(application.choices)
            ):
                kindergartens.append(
                    PublicChoice(
                        kindergarten_id=choice.kindergarten_id,
                        name_ru=choice.kindergarten.name_ru,
                        name_kk=choice.kindergarten.name_kk,
                        language=str(choice.language),
                        position=position,
                    )
                )
        child_person = application.child.person
        parent_person = application.applicant.person
        result.append(
            PublicApplication(
                number=application.number,
                status=str(application.status),
                submitted_at=application.submitted_at,
                benefit_class=benefit_class(Stream(application.stream)),
                applicant_name=mask_name(
                    parent_person.last_name, parent_person.first_name, parent_person.middle_name
                )
                if parent_person
                else "",
                child_name=mask_name(
                    child_person.last_name, child_person.first_name, child_person.middle_name
                ),
                birth_year=application.birth_year,
                queue_type=str(application.queue_type),
                position=None
                if archived
                else await city_position(application, settings, index=index),
                kindergartens=kindergartens,
            )
        )
    return result


def benefit_class(stream: Stream) -> str:
    return "none" if stream is Stream.general else stream.name


def mask_name(last: str, first: str, middle: str = "") -> str:
    """Public form of a name: "Аскаров Руслан Жанович" -> "А***В Р*** Ж."."""
    parts = []
    last = (last or "").strip().upper()
    if last:
        parts.append(last[0] + "***" + (last[-1] if len(last) > 1 else ""))
    first = (first or "").strip().upper()
    if first:
        parts.append(first[0] + "***")
    middle = (middle or "").strip().upper()
    if middle:
        parts.append(middle[0] + ".")
    return " ".join(parts)


# --- Helpers ------------------------------------------------------------------------------------


_SEQUENCES_READY: set[tuple[str, str]] = set()


def _sequence(name: str) -> str:
    return f"{name}_number_seq"


async def _ensure_sequence(name: str, first: int, conn: BaseDBAsyncClient) -> str:
    """The PostgreSQL sequence behind a named counter, created on first use (OWNED BY
    counter.value, so `TRUNCATE counter RESTART IDENTITY` starts it again at `first`).

    Always on the caller's own connection, never a second one from the pool: transactions
    waiting for a pool connection while holding one would exhaust the pool. Inside a
    transaction the creation is wrapped in a savepoint (a concurrent creator makes ours fail
    harmlessly once it commits), and the sequence counts as ready only once it is visible
    (committed). `prepare_counter` creates it outside any transaction, before the hot path."""
    sequence = _sequence(name)
    client = conn
    while getattr(client, "_parent", None) is not None:
        client = client._parent  # type: ignore[attr-defined]
    key = (str(getattr(client, "database", "")), sequence)
    if key in _SEQUENCES_READY:
        return sequence
    rows = await conn.execute_query_dict("SELECT to_regclass($1) IS NOT NULL AS ready", [sequence])
    if rows[0]["ready"]:
        _SEQUENCES_READY.add(key)
        return sequence
    ddl = (
        f"CREATE SEQUENCE IF NOT EXISTS {sequence} AS bigint START {int(first)} "
        "MINVALUE 1 OWNED BY counter.value"
    )
    in_transaction_ = client is not conn
    if in_transaction_:
        await conn.execute_script("SAVEPOINT indigo_sequence")
    try:
        await conn.execute_script(ddl)
    except Exception:  # created concurrently by another transaction or process
        if not in_transaction_:
            raise
        await conn.execute_script("ROLLBACK TO SAVEPOINT indigo_sequence")
    else:
        if in_transaction_:
            await conn.execute_script("RELEASE SAVEPOINT indigo_sequence")
        else:
            _SEQUENCES_READY.add(key)
    # A database whose counter row ran ahead (before numbers came from the sequence, or
    # `ensure_counter_at_least`): continue after it, never below it. (setval is not
    # transactional.)
    await conn.execute_query(
        f"SELECT setval('{sequence}', c.value, true) FROM counter c, "
        f"(SELECT CASE WHEN is_called THEN last_value ELSE last_value - 1 END AS last "
        f"FROM {sequence}) s WHERE c.name = $1 AND c.value > s.last",
        [name],
    )
    return sequence


async def prepare_counter(name: str, first: int) -> None:
    """Create the counter's sequence (PostgreSQL) outside any transaction, if not yet done:
    call before a transaction that takes numbers (cheap after the first call)."""
    conn = get_connection("default")
    while getattr(conn, "_parent", None) is not None:
        conn = conn._parent  # type: ignore[attr-defined]
    if conn.capabilities.dialect != "postgres":
        return
    try:
        await _ensure_sequence(name, first, conn)
    except Exception:  # lost a creation race: it exists now
        await _ensure_sequence(name, first, conn)


async def next_number(name: str, first: int, *, conn: BaseDBAsyncClient) -> int:
    """The next value of a named counter (`first` the first time): sequential, never reused.

    PostgreSQL: a sequence (`nextval` takes no lock, so concurrent submissions do not queue
    on a counter row). A number taken by a transaction that then rolls back is skipped, not
    given again: numbers are increasing and unique, with a gap after a rolled-back
    submission (a refusal raised before the number is taken leaves none). SQLite (one
    writer): the `counter` row, gap-free."""
    if not name.isidentifier():
        raise ValueError("counter names are identifiers")
    if conn.capabilities.dialect == "postgres":
        sequence = await _ensure_sequence(name, first, conn)
        rows = await conn.execute_query_dict(f"SELECT nextval('{sequence}') AS value")
        return int(rows[0]["value"])
    # An upsert: creating the row and incrementing it are one atomic statement.
    rows = await conn.execute_query_dict(
        f"INSERT INTO counter (name, value) VALUES ('{name}', {int(first)}) "
        "ON CONFLICT (name) DO UPDATE SET value = counter.value + 1 RETURNING value"
    )
    return int(rows[0]["value"])


async def ensure_counter_at_least(
    name: str, value: int, *, conn: BaseDBAsyncClient, first: int = FIRST_APPLICATION_NUMBER
) -> None:
    """Make the next number greater than `value` (after bulk imports, e.g. the seed)."""
    if not name.isidentifier():
        raise ValueError("counter names are identifiers")
    await conn.execute_script(
        f"INSERT INTO counter (name, value) VALUES ('{name}', {int(value)}) "
        f"ON CONFLICT (name) DO UPDATE SET value = "
        f"CASE WHEN counter.value < {int(value)} THEN {int(value)} ELSE counter.value END"
    )
    if conn.capabilities.dialect == "postgres":
        sequence = await _ensure_sequence(name, first, conn)
        # The last number handed out so far (START - 1 when none yet), raised to `value`.
        await conn.execute_query(
            f"SELECT setval('{sequence}', GREATEST($1::bigint, "
            f"(SELECT CASE WHEN is_called THEN last_value ELSE last_value - 1 END "
            f"FROM {sequence})), true)",
            [int(value)],
        )


def one_year_after(day: date) -> date:
    try:
        return day.replace(year=day.year + 1)
    except ValueError:  # 29 February
        return day.replace(year=day.year + 1, day=28)


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


async def _locked_own(
    application_id: int, applicant_id: int | None, conn: BaseDBAsyncClient
) -> Application:
    query = Application.filter(id=application_id)
    if applicant_id is not None:
        query = query.filter(applicant_id=applicant_id)
    application = await query.select_for_update().using_db(conn).first()
    if application is None:
        raise DomainError("application_not_found")
    return application


def _enum(kind: Any, value: Any, reason: str) -> Any:
    try:
        return kind(value)
    except ValueError:
        raise DomainError(reason) from None
