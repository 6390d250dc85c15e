"""Parents using the bot, their phones, children from the gov registry, and uploaded documents."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from core import audit
from core.models import (
    Applicant,
    Application,
    ApplicationStatus,
    Child,
    Document,
    DocumentKind,
    Language,
    Person,
    Phone,
)
from core.notifications import outbox
from core.notifications.kinds import ApplicationsMoved
from core.platform import clock
from core.platform.errors import DomainError
from core.platform.pii import mask_phone
from core.platform.reasons import Reason
from core.registry.ports import ChildRecord, PersonRecord

_PHONE_DIGITS = re.compile(r"\d")
# Kazakhstan numbers are +7 followed by 10 digits. The rules ask for *mobile* numbers (codes go
# by SMS; sources/application-rules: "два действующих мобильных номера"): mobile operators use
# +7 70x, 747, 75x, 76x and 77x (771 included). Fixed lines use the regions' area codes
# +7 71xx, 72xx, 73xx (Astana 7172, Almaty 727, Shymkent 7252, Ust-Kamenogorsk 7232 as the
# portal guide shows): such a number is a landline and takes no SMS. With the country code 7.
LANDLINE_PREFIXES = ("771", "772", "773")
_NAME_NOISE = re.compile(r"[\s'’`\-]+")


def language_of(code: str | None, default: Language = Language.ru) -> Language:
    """The service language for a Telegram `language_code` (kk or ru; anything else: default)."""
    if code:
        base = code.lower().split("-")[0]
        if base in ("kk", "kz"):
            return Language.kk
        if base == "ru":
            return Language.ru
    return default


async def get_or_create_applicant(
    telegram_user_id: int, chat_id: int | None = None, language: Language | str | None = None
) -> Applicant:
    """The applicant for a Telegram user, created on first contact; keeps the chat id current.

    `language` (a Telegram language_code or a Language) is used only when creating: afterwards
    the applicant's own choice wins."""
    applicant = await Applicant.get_or_none(telegram_user_id=telegram_user_id)
    if applicant is None:
        lang = language if isinstance(language, Language) else language_of(language)
        try:
            applicant = await Applicant.create(
                telegram_user_id=telegram_user_id,
                chat_id=chat_id or telegram_user_id,
                language=lang,
            )
        except IntegrityError:  # created concurrently by another update of the same user
            applicant = await Applicant.get(telegram_user_id=telegram_user_id)
        return applicant
    if chat_id is not None and applicant.chat_id != chat_id:
        applicant.chat_id = chat_id
        await applicant.save(update_fields=["chat_id"])
    return applicant


async def set_language(applicant: Applicant, language: Language | str) -> Applicant:
    """The parent's language for the bot and for the notifications on their applications
    (/lang and the settings dialog alike)."""
    lang = Language(language)
    async with in_transaction() as conn:
        await Applicant.filter(id=applicant.id).using_db(conn).update(language=lang)
        await (
            Application.filter(applicant_id=applicant.id)
            .using_db(conn)
            .update(notification_language=lang)
        )
    applicant.language = lang
    return applicant


async def record_consents(applicant: Applicant, *, notifications: bool, offer: bool) -> Applicant:
    """The two consents of the application form (notifications, offer terms), kept with an
    audit entry: the service may only notify a parent who agreed to it."""
    before = {"notifications": applicant.consent_notifications, "offer": applicant.consent_offer}
    applicant.consent_notifications = notifications
    applicant.consent_offer = offer
    await applicant.save(update_fields=["consent_notifications", "consent_offer"])
    after = {"notifications": notifications, "offer": offer}
    if after != before:
        await audit.record(
            "applicant.consents",
            "applicant",
            applicant.id,
            actor=f"applicant:{applicant.id}",
            before=before,
            after=after,
        )
    return applicant


def normalize_phone(text: str) -> str:
    """A Kazakhstan mobile number as E.164 (+7XXXXXXXXXX); `landline_phone` for a fixed-line
    number (a regional area code), `invalid_phone` for anything else."""
    digits = "".join(_PHONE_DIGITS.findall(text or ""))
    if len(digits) == 11 and digits[0] in "78":
        digits = "7" + digits[1:]
    elif len(digits) == 10:
        digits = "7" + digits
    if len(digits) != 11 or digits[1] not in "67":
        raise DomainError(Reason.invalid_phone)
    if digits.startswith(LANDLINE_PREFIXES):
        raise DomainError(Reason.landline_phone)
    return "+" + digits


async def refuse_confirmed_again(applicant_id: int, number: str) -> None:
    """A number this parent has already confirmed cannot count as another one
    (`phone_already_confirmed`): the rules ask for two different numbers."""
    if await Phone.exists(
        applicant_id=applicant_id, number=normalize_phone(number), verified_at__isnull=False
    ):
        raise DomainError(Reason.phone_already_confirmed)


async def add_phone(applicant: Applicant | int, number: str) -> Phone:
    """Record a phone (not yet verified); adding the same number again returns the same row."""
    applicant_id = applicant if isinstance(applicant, int) else applicant.id
    number = normalize_phone(number)
    phone = await Phone.get_or_none(applicant_id=applicant_id, number=number)
    if phone is not None:
        return phone
    try:
        return await Phone.create(applicant_id=applicant_id, number=number)
    except IntegrityError:
        return await Phone.get(applicant_id=applicant_id, number=number)


async def verify_phone(applicant: Applicant | int, number: str) -> Phone:
    """Mark a phone verified (after its one-time code was accepted); adds it if missing."""
    phone = await add_phone(applicant, number)
    if phone.verified_at is None:
        phone.verified_at = clock.now()
        await phone.save(update_fields=["verified_at"])
    # signed in again: the chat hears the notices again
    await Applicant.filter(id=phone.applicant_id, signed_out_at__isnull=False).update(
        signed_out_at=None
    )
    return phone


async def verified_phone_count(
    applicant: Applicant | int, *, conn: BaseDBAsyncClient | None = None
) -> int:
    applicant_id = applicant if isinstance(applicant, int) else applicant.id
    query = Phone.filter(applicant_id=applicant_id, verified_at__isnull=False)
    if conn is not None:
        query = query.using_db(conn)
    return await query.count()


async def sign_out(applicant_id: int) -> int:
    """ "Выйти": every phone of the parent needs a new code before the cabinet, the referral or
    a new application opens again (the numbers stay, unconfirmed). Returns how many were
    confirmed; audited."""
    async with in_transaction() as conn:
        count = (
            await Phone.filter(applicant_id=applicant_id, verified_at__isnull=False)
            .using_db(conn)
            .update(verified_at=None)
        )
        await Applicant.filter(id=applicant_id).using_db(conn).update(signed_out_at=clock.now())
        await audit.record(
            "applicant.signed_out",
            "applicant",
            applicant_id,
            actor=f"applicant:{applicant_id}",
            before={"verified_phones": count},
            after={"verified_phones": 0},
            conn=conn,
        )
    return int(count)


async def signed_out(applicant_id: int) -> bool:
    """True after "Выйти" until a phone is confirmed again (a parent who never confirmed one
    has not signed out: they are still signing in)."""
    return await Applicant.exists(id=applicant_id, signed_out_at__isnull=False)


async def replace_phone(applicant_id: int, old_phone_id: int, new_number: str) -> None:
    """Drop `old_phone_id` once `new_number` is a verified phone of the same parent."""
    async with in_transaction() as conn:
        new = (
            await Phone.filter(applicant_id=applicant_id, number=new_number)
            .using_db(conn)
            .select_for_update()
            .first()
        )
        if new is None or new.verified_at is None:
            raise DomainError(Reason.phone_not_verified)
        old = await Phone.filter(id=old_phone_id, applicant_id=applicant_id).using_db(conn).first()
        if old is None:  # another parent's phone, or already gone
            raise DomainError(Reason.phone_not_found)
        if old.id == new.id:
            return
        await old.delete(using_db=conn)
        await audit.record(
            "phone_replaced",
            "applicant",
            applicant_id,
            actor=f"applicant:{applicant_id}",
            before={"phone_id": old.id},
            after={"phone_id": new.id},
            conn=conn,
        )


async def upsert_person(record: PersonRecord, *, conn: BaseDBAsyncClient | None = None) -> Person:
    """The Person with this IIN, created or refreshed from the registry record."""
    values: dict[str, Any] = {
        "last_name": record.last_name,
        "first_name": record.first_name,
        "middle_name": record.middle_name or "",
        "birth_date": record.birth_date,
    }
    query = Person.filter(iin=record.iin)
    if conn is not None:
        query = query.using_db(conn)
    person = await query.first()
    if person is None:
        if conn is not None:  # inside a caller's transaction: let a conflict abort it
            return await Person.create(iin=record.iin, using_db=conn, **values)
        try:
            return await Person.create(iin=record.iin, **values)
        except IntegrityError:  # stored concurrently (two updates of one family)
            person = await Person.get(iin=record.iin)
    changed = [k for k, v in values.items() if getattr(person, k) != v]
    if changed:
        for key in changed:
            setattr(person, key, values[key])
        await person.save(update_fields=changed, using_db=conn)
    return person


async def link_applicant_person(applicant: Applicant, record: PersonRecord) -> Applicant:
    """The applicant is this registry person (the parent entered and confirmed their IIN)."""
    person = await upsert_person(record)
    if applicant.person_id != person.id:
        applicant.person_id = person.id
        await applicant.save(update_fields=["person_id"])
    return applicant


async def store_child(record: ChildRecord | PersonRecord, representative: Applicant) -> Child:
    """The Child for a registry record (upserted by IIN). A legal representative becomes the
    child's representative; the gov's word is stored, never the parent's claim."""
    person_record = record.person if isinstance(record, ChildRecord) else record
    is_representative = record.legal_representative if isinstance(record, ChildRecord) else True
    person = await upsert_person(person_record)
    child = await Child.get_or_none(person_id=person.id)
    if child is None:
        try:
            child = await Child.create(
                person=person, representative=representative if is_representative else None
            )
        except IntegrityError:
            child = await Child.get(person_id=person.id)
        else:
            return child
    if is_representative and child.representative_id != representative.id:
        child.representative_id = representative.id
        await child.save(update_fields=["representative_id"])
    return child


async def store_children(records: list[ChildRecord], representative: Applicant) -> list[Child]:
    return [await store_child(record, representative) for record in records]


async def create_child_without_iin(
    representative: Applicant,
    *,
    last_name: str,
    first_name: str,
    middle_name: str = "",
    birth_date: date,
    birth_certificate: Document | int | None = None,
    sex: str = "",
) -> Child:
    """A child who is not a citizen (no IIN): applies with a birth certificate scan."""
    person = await Person.create(
        iin=None,
        last_name=last_name,
        first_name=first_name,
        middle_name=middle_name,
        birth_date=birth_date,
        sex=sex,
    )
    certificate_id = (
        birth_certificate.id if isinstance(birth_certificate, Document) else birth_certificate
    )
    return await Child.create(
        person=person, representative=representative, birth_certificate_id=certificate_id
    )


def name_key(name: str) -> str:
    """A name as a birth certificate gives it, for matching what two parents typed: case, ё/е,
    spaces, hyphens and apostrophes do not count."""
    return _NAME_NOISE.sub("", (name or "").casefold().replace("ё", "е"))


def same_certificate(a: Person, b: Person) -> bool:
    """Two IIN-less people with the same birth-certificate data: birth date, last and first
    name; the patronymic when both parents typed one."""
    return (
        a.birth_date == b.birth_date
        and name_key(a.last_name) == name_key(b.last_name)
        and name_key(a.first_name) == name_key(b.first_name)
        and (
            not a.middle_name
            or not b.middle_name
            or name_key(a.middle_name) == name_key(b.middle_name)
        )
    )


async def same_child_ids(child: Child, *, conn: BaseDBAsyncClient | None = None) -> list[int]:
    """The child's row and, for a child without an IIN, every other IIN-less child with the same
    birth-certificate data (mother and father may each have typed the child in): one child for
    the one-application-per-queue rule. Sorted (the lock order). `child.person` is loaded."""
    person = child.person
    if person.iin is not None:
        return [child.id]
    query = Child.filter(person__iin__isnull=True, person__birth_date=person.birth_date)
    if conn is not None:
        query = query.using_db(conn)
    candidates = await query.prefetch_related("person")
    return sorted({child.id} | {c.id for c in candidates if same_certificate(c.person, person)})


async def queued_by_other_parents(
    applicant_id: int,
    *,
    last_name: str,
    first_name: str,
    middle_name: str,
    birth_date: date,
) -> list[str]:
    """The queue types in which another parent already has a (non-archived) application for a
    child without an IIN with these birth-certificate data: the wizard tells the parent early."""
    typed = Person(
        last_name=last_name, first_name=first_name, middle_name=middle_name, birth_date=birth_date
    )
    candidates = await Child.filter(
        person__iin__isnull=True, person__birth_date=birth_date
    ).prefetch_related("person")
    ids = [c.id for c in candidates if same_certificate(c.person, typed)]
    if not ids:
        return []
    queue_types = (
        await Application.filter(
            child_id__in=ids,
            status__in=(ApplicationStatus.active, ApplicationStatus.stop_listed),
        )
        .exclude(applicant_id=applicant_id)
        .values_list("queue_type", flat=True)
    )
    return sorted({str(q) for q in queue_types})


async def transfer_applications(child_iin: str, applicant_id: int, phone: str) -> list[int]:
    """Make `applicant_id` the applicant of the child's live applications (access recovery);
    each account they leave is told (when, the masked `phone` that confirmed it, what to do if
    it was unexpected), in the same transaction.

    Call only after the gov gateway confirmed that this parent is the child's legal
    representative and the parent proved `phone` by a code. Returns the transferred numbers.
    """
    moved: dict[int, list[int]] = {}
    now = clock.now()
    async with in_transaction() as conn:
        rows = (
            await Application.filter(
                child__person__iin=child_iin, status__not=ApplicationStatus.archived
            )
            .using_db(conn)
            .select_for_update()
            .order_by("id")
        )
        if not rows:
            raise DomainError(Reason.application_not_found)
        for row in rows:
            if row.applicant_id == applicant_id:
                continue
            before = {"applicant_id": row.applicant_id}
            await Application.filter(id=row.id).using_db(conn).update(applicant_id=applicant_id)
            await audit.record(
                "application_applicant_changed",
                "application",
                row.number,
                actor=f"applicant:{applicant_id}",
                before=before,
                after={"applicant_id": applicant_id, "reason": "access_recovery"},
                conn=conn,
            )
            moved.setdefault(row.applicant_id, []).append(row.number)
        child_ids = {row.child_id for row in rows}
        await Child.filter(id__in=child_ids).using_db(conn).update(representative_id=applicant_id)
        for old in await Applicant.filter(id__in=list(moved)).using_db(conn):
            numbers = tuple(moved[old.id])
            await outbox.notify(
                old,
                ApplicationsMoved(numbers=numbers, moved_at=now, phone=mask_phone(phone)),
                key=f"applications_moved:{old.id}:{applicant_id}:{numbers[0]}:{now.isoformat()}",
                conn=conn,
            )
    return sorted(n for numbers in moved.values() for n in numbers)


async def check_owns_application(applicant_id: int | None, application_id: int) -> None:
    """A parent may name only their own application: anyone else's is refused as if it did not
    exist (`application_not_found`, nothing about it disclosed). None: staff or the system."""
    if applicant_id is not None and not await Application.exists(
        id=application_id, applicant_id=applicant_id
    ):
        raise DomainError(Reason.application_not_found)


async def children_of(applicant: Applicant | int) -> list[Child]:
    """Children this applicant legally represents, with their Person loaded."""
    applicant_id = applicant if isinstance(applicant, int) else applicant.id
    return (
        await Child.filter(representative_id=applicant_id)
        .prefetch_related("person")
        .order_by("person__birth_date")
    )


async def create_document(
    applicant: Applicant | int,
    kind: DocumentKind | str,
    telegram_file_id: str,
    *,
    mime_type: str = "",
    file_name: str = "",
    sha256: str = "",
) -> Document:
    """An upload (benefit document, PMPK conclusion, birth certificate) kept by file id."""
    applicant_id = applicant if isinstance(applicant, int) else applicant.id
    return await Document.create(
        applicant_id=applicant_id,
        kind=DocumentKind(kind),
        telegram_file_id=telegram_file_id,
        mime_type=(mime_type or "")[:64],
        file_name=(file_name or "")[:255],
        sha256=sha256,
        created_at=clock.now(),  # the service clock: a benefit certificate counts from it
    )
