"""A parent files a complaint: what they may complain about, the checks, the registration.

Trust no caller: the subject (an application or referral) must be the parent's own, the
kindergarten one of theirs, the attachment a photo or PDF, the text not empty and not too long;
only a corruption report may be anonymous. The complaint gets a registration number and a
deadline counted in working days (core.calendar), is routed by its category
(`core.complaints.handling.scoped`) and the parent is told (`ComplaintRegistered`); the staff
who answer it hear of it in the bot at once (`ComplaintFiled`, `answerers`).
"""

from __future__ import annotations

from dataclasses import dataclass

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.expressions import Q

from core import audit
from core.calendar.working_days import add_working_days
from core.models import (
    Applicant,
    Application,
    ApplicationChoice,
    Complaint,
    ComplaintCategory,
    Document,
    DocumentKind,
    Kindergarten,
    Referral,
    StaffMember,
    StaffRole,
)
from core.notifications import outbox
from core.notifications.kinds import ComplaintFiled, ComplaintRegistered
from core.notifications.staff import notify_staff
from core.platform import clock
from core.platform.counters import next_number, prepare_counter
from core.platform.errors import DomainError
from core.platform.reasons import Reason
from core.platform.settings import Settings

COMPLAINT_COUNTER = "complaint"
# Telegram photos arrive as JPEG; documents are accepted as PDF or a picture.
ALLOWED_MIME = frozenset({"image/jpeg", "image/png", "image/webp", "application/pdf"})
MAX_FILE_BYTES = 20 * 1024 * 1024  # what a bot may download from Telegram


@dataclass(frozen=True)
class Subject:
    """Something of the parent's a complaint may be about (offered by the bot as a button)."""

    kind: str  # "application" or "referral"
    id: int
    label_number: str  # the application or referral number as the parent knows it
    kindergarten_ids: tuple[int, ...]


@dataclass(frozen=True)
class Attachment:
    file_id: str
    mime_type: str
    file_name: str = ""
    size: int | None = None


async def subjects_of(applicant_id: int) -> list[Subject]:
    """The parent's applications (with their chosen kindergartens) and referrals, newest first."""
    subjects: list[Subject] = []
    referrals = (
        await Referral.filter(application__applicant_id=applicant_id)
        .order_by("-id")
        .prefetch_related("application")
    )
    for referral in referrals:
        subjects.append(
            Subject("referral", referral.id, referral.number, (referral.kindergarten_id,))
        )
    for application in await Application.filter(applicant_id=applicant_id).order_by("-number"):
        chosen: list[int] = await ApplicationChoice.filter(
            application_id=application.id
        ).values_list("kindergarten_id", flat=True)  # type: ignore[assignment]
        subjects.append(
            Subject(
                "application",
                application.id,
                str(application.number),
                tuple(chosen),
            )
        )
    return subjects


async def kindergartens_of(applicant_id: int) -> list[Kindergarten]:
    """The kindergartens a parent may complain about: those of their referrals and chosen in
    their applications (a complaint about a kindergarten is about one the family deals with)."""
    ids: list[int] = []
    for subject in await subjects_of(applicant_id):
        ids += [k for k in subject.kindergarten_ids if k not in ids]
    found = {k.id: k for k in await Kindergarten.filter(id__in=ids)}
    return [found[k] for k in ids if k in found]


def check_text(text: str, settings: Settings) -> str:
    """The complaint's text, stripped; refused when empty or longer than the limit."""
    clean = (text or "").strip()
    if not clean:
        raise DomainError(Reason.complaint_empty)
    if len(clean) > settings.complaint_text_max:
        raise DomainError(
            Reason.complaint_too_long, max=settings.complaint_text_max, length=len(clean)
        )
    return clean


def check_attachment(attachment: Attachment) -> None:
    mime = (attachment.mime_type or "").lower()
    pdf_by_name = attachment.file_name.lower().endswith(".pdf") and mime in ("", "application/pdf")
    if not attachment.file_id or (mime not in ALLOWED_MIME and not pdf_by_name):
        raise DomainError(Reason.complaint_file_type)
    if attachment.size is not None and attachment.size > MAX_FILE_BYTES:
        raise DomainError(Reason.complaint_file_type)


async def file_complaint(
    applicant: Applicant,
    category: ComplaintCategory | str,
    text: str,
    settings: Settings,
    *,
    anonymous: bool = False,
    subject: tuple[str, int] | None = None,
    kindergarten_id: int | None = None,
    attachment: Attachment | None = None,
) -> Complaint:
    """Register one complaint; every argument is checked against what the parent owns."""
    try:
        category = ComplaintCategory(category)
    except ValueError:
        raise DomainError(Reason.invalid_answer) from None
    clean = check_text(text, settings)
    if anonymous and category != ComplaintCategory.corruption:
        raise DomainError(Reason.complaint_anonymous_category)
    if attachment is not None:
        check_attachment(attachment)
    application, referral = await _subject(applicant.id, subject)
    kindergarten = await _kindergarten(applicant.id, category, kindergarten_id, referral)
    city_id = await _city(applicant.id, kindergarten, application, referral)
    await prepare_counter(COMPLAINT_COUNTER, 1)
    async with audit.transaction() as conn:
        complaint = await _register(
            conn,
            applicant,
            category,
            clean,
            settings,
            anonymous=anonymous,
            application=application,
            referral=referral,
            kindergarten=kindergarten,
            city_id=city_id,
            attachment=attachment,
        )
    return complaint


async def _register(
    conn: BaseDBAsyncClient,
    applicant: Applicant,
    category: ComplaintCategory,
    text: str,
    settings: Settings,
    *,
    anonymous: bool,
    application: Application | None,
    referral: Referral | None,
    kindergarten: Kindergarten | None,
    city_id: int | None,
    attachment: Attachment | None,
) -> Complaint:
    document = None
    if attachment is not None:
        document = await Document.create(
            using_db=conn,
            applicant_id=applicant.id,
            kind=DocumentKind.complaint,
            telegram_file_id=attachment.file_id,
            file_name=attachment.file_name[:255],
            mime_type=(attachment.mime_type or "application/pdf")[:64],
        )
    now = clock.now()
    number = await next_number(COMPLAINT_COUNTER, 1, conn=conn)
    complaint = await Complaint.create(
        using_db=conn,
        number=number,
        applicant_id=applicant.id,
        category=category,
        anonymous=anonymous,
        text=text,
        attachment_id=document.id if document else None,
        application_id=application.id if application else None,
        referral_id=referral.id if referral else None,
        kindergarten_id=kindergarten.id if kindergarten else None,
        city_id=city_id,
        deadline=add_working_days(now, settings.complaint_answer_working_days, settings.tz),
    )
    # The audit keeps no text and, for an anonymous report, no parent: staff read it there too.
    await audit.record(
        "complaint.registered",
        "complaint",
        complaint.id,
        actor="applicant:anonymous" if anonymous else f"applicant:{applicant.id}",
        after={
            "number": number,
            "category": str(category),
            "kindergarten_id": complaint.kindergarten_id,
            "city_id": city_id,
            "deadline": complaint.deadline,
        },
        conn=conn,
    )
    await outbox.notify(
        applicant,
        ComplaintRegistered(number=number, category=str(category), deadline=complaint.deadline),
        key=f"complaint:{complaint.id}:registered",
        conn=conn,
    )
    await notify_staff(
        await answerers(conn, complaint),
        ComplaintFiled(number=number, category=str(category), deadline=complaint.deadline),
        key=f"complaint:{complaint.id}:filed",
        conn=conn,
    )
    return complaint


async def answerers(conn: BaseDBAsyncClient, complaint: Complaint) -> list[StaffMember]:
    """The active staff who answer this complaint (`handling.scoped` read the other way): a
    corruption report its anti-corruption officers (of its city, or of all cities) and nobody
    else; a complaint about a kindergarten the education department of its city; one about the
    department the superadmins, who also get a kindergarten's when its city has no department
    in the bot."""
    staff = StaffMember.filter(active=True).using_db(conn).order_by("id")
    if complaint.category == ComplaintCategory.corruption:
        city = Q(city_id__isnull=True)
        if complaint.city_id is not None:
            city |= Q(city_id=complaint.city_id)
        return await staff.filter(city, role=StaffRole.anticorruption)
    if complaint.category == ComplaintCategory.kindergarten and complaint.city_id is not None:
        department = await staff.filter(role=StaffRole.operator, city_id=complaint.city_id)
        if department:
            return department
    return await staff.filter(role=StaffRole.superadmin)


async def _subject(
    applicant_id: int, subject: tuple[str, int] | None
) -> tuple[Application | None, Referral | None]:
    if subject is None:
        return None, None
    kind, subject_id = subject
    if kind == "application":
        application = await Application.get_or_none(id=subject_id, applicant_id=applicant_id)
        if application is None:
            raise DomainError(Reason.complaint_subject_not_found)
        return application, None
    if kind == "referral":
        referral = await Referral.get_or_none(
            id=subject_id, application__applicant_id=applicant_id
        ).prefetch_related("application")
        if referral is None:
            raise DomainError(Reason.complaint_subject_not_found)
        return referral.application, referral
    raise DomainError(Reason.complaint_subject_not_found)


async def _kindergarten(
    applicant_id: int,
    category: ComplaintCategory,
    kindergarten_id: int | None,
    referral: Referral | None,
) -> Kindergarten | None:
    if kindergarten_id is None:
        if referral is not None:
            return await Kindergarten.get(id=referral.kindergarten_id)
        if category == ComplaintCategory.kindergarten:
            raise DomainError(Reason.complaint_no_kindergarten)
        return None
    for kindergarten in await kindergartens_of(applicant_id):
        if kindergarten.id == kindergarten_id:
            return kindergarten
    raise DomainError(Reason.complaint_no_kindergarten)


async def _city(
    applicant_id: int,
    kindergarten: Kindergarten | None,
    application: Application | None,
    referral: Referral | None,
) -> int | None:
    """The city whose education department answers: the kindergarten's, the subject's, else
    the city of the parent's latest application (None: only the superadmin sees it)."""
    if kindergarten is not None:
        return kindergarten.city_id
    if application is not None:
        return application.city_id
    latest = await Application.filter(applicant_id=applicant_id).order_by("-number").first()
    return latest.city_id if latest is not None else None


async def complaints_of(applicant_id: int, *, limit: int = 20) -> list[Complaint]:
    """The parent's own complaints, newest first."""
    return await Complaint.filter(applicant_id=applicant_id).order_by("-number").limit(limit)


async def complaint_of(applicant_id: int, complaint_id: int) -> Complaint:
    """One of the parent's own complaints (another parent's id is refused as not found)."""
    complaint = await Complaint.get_or_none(id=complaint_id, applicant_id=applicant_id)
    if complaint is None:
        raise DomainError(Reason.complaint_not_found)
    return complaint
