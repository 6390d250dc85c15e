"""Staff read, take and answer complaints within their scope; overdue ones go to the superadmin.

Who answers what (a kindergarten never answers a complaint about itself):
- kindergarten: the education department (operator) of the kindergarten's city;
- department: the superadmin (the level above the department);
- corruption: only the anti-corruption officer (role `anticorruption`, of a city or of all);
  nobody else reads it until it is overdue, and an anonymous report never shows its parent;
- overdue (past the deadline, not answered): escalated to the superadmin as well.
The parent is told of each status change (taken, answered, escalated).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.expressions import Q
from tortoise.queryset import QuerySet

from core import audit
from core.models import (
    Applicant,
    Complaint,
    ComplaintCategory,
    ComplaintStatus,
    Kindergarten,
    Person,
    Phone,
    StaffMember,
    StaffRole,
)
from core.notifications import outbox
from core.notifications.kinds import ComplaintAnswered, ComplaintEscalated, ComplaintTaken
from core.people.staff import actor
from core.platform import clock
from core.platform.errors import DomainError
from core.platform.pii import mask_name, mask_phone
from core.platform.reasons import Reason
from core.platform.settings import Settings

PAGE = 8
ANSWER_MAX = 3000


@dataclass(frozen=True)
class ComplaintView:
    """What staff see of one complaint (the parent masked, or hidden when anonymous)."""

    id: int
    number: int
    category: str
    status: str
    text: str
    created_at: datetime
    deadline: datetime
    overdue: bool
    escalated: bool
    kindergarten: str | None
    kindergarten_kk: str | None
    anonymous: bool
    parent: str | None  # masked name, else masked phone; None when anonymous or unknown
    subject: str | None  # the application or referral number
    attachment_file_id: str | None
    attachment_mime: str | None
    answer: str


def scoped(staff: StaffMember) -> QuerySet[Complaint]:
    """The complaints this staff member may read."""
    query = Complaint.all()
    if staff.role == StaffRole.superadmin:
        return query.filter(
            Q(category__not=ComplaintCategory.corruption) | Q(escalated_at__isnull=False)
        )
    if staff.role == StaffRole.anticorruption:
        query = query.filter(category=ComplaintCategory.corruption)
        return query.filter(city_id=staff.city_id) if staff.city_id is not None else query
    if staff.role == StaffRole.operator and staff.city_id is not None:
        return query.filter(category=ComplaintCategory.kindergarten, city_id=staff.city_id)
    return query.filter(id__lt=0)  # a kindergarten admin answers none (conflict of interest)


async def page_of(
    staff: StaffMember, *, page: int = 0, open_only: bool = True
) -> tuple[list[ComplaintView], int]:
    """One page of complaints in scope, overdue first, then by deadline; and the page count."""
    query = scoped(staff)
    if open_only:
        query = query.filter(status__not=ComplaintStatus.answered)
    total = await query.count()
    pages = max(1, -(-total // PAGE))
    page = min(max(page, 0), pages - 1)
    rows = await query.order_by("deadline", "number").offset(page * PAGE).limit(PAGE)
    return [await _view(row, staff) for row in rows], pages


async def view_of(staff: StaffMember, complaint_id: int) -> ComplaintView:
    return await _view(await _in_scope(staff, complaint_id), staff)


async def take(staff: StaffMember, complaint_id: int) -> ComplaintView:
    """Mark the complaint taken into work; the parent is told who handles it (the role)."""
    async with audit.transaction() as conn:
        complaint = await _locked(staff, complaint_id, conn)
        if complaint.status == ComplaintStatus.answered:
            raise DomainError(Reason.complaint_answered, number=complaint.number)
        if complaint.status == ComplaintStatus.registered:
            complaint.status = ComplaintStatus.in_work
            complaint.taken_by_id = staff.id
            await complaint.save(using_db=conn, update_fields=["status", "taken_by_id"])
            await audit.record(
                "complaint.taken",
                "complaint",
                complaint.id,
                actor=actor(staff),
                after={"status": str(complaint.status)},
                conn=conn,
            )
            applicant = await Applicant.get(id=complaint.applicant_id, using_db=conn)
            await outbox.notify(
                applicant,
                ComplaintTaken(number=complaint.number, deadline=complaint.deadline),
                key=f"complaint:{complaint.id}:taken",
                conn=conn,
            )
    return await _view(complaint, staff)


async def answer(staff: StaffMember, complaint_id: int, text: str) -> ComplaintView:
    """Answer the complaint once; the parent receives the answer as a quote."""
    clean = (text or "").strip()
    if not clean:
        raise DomainError(Reason.complaint_answer_empty)
    if len(clean) > ANSWER_MAX:
        raise DomainError(Reason.complaint_too_long, max=ANSWER_MAX, length=len(clean))
    async with audit.transaction() as conn:
        complaint = await _locked(staff, complaint_id, conn)
        if complaint.status == ComplaintStatus.answered:
            raise DomainError(Reason.complaint_answered, number=complaint.number)
        complaint.status = ComplaintStatus.answered
        complaint.answer = clean
        complaint.answered_at = clock.now()
        complaint.taken_by_id = complaint.taken_by_id or staff.id
        await complaint.save(
            using_db=conn, update_fields=["status", "answer", "answered_at", "taken_by_id"]
        )
        await audit.record(
            "complaint.answered",
            "complaint",
            complaint.id,
            actor=actor(staff),
            after={"status": str(complaint.status), "on_time": not _overdue(complaint)},
            conn=conn,
        )
        applicant = await Applicant.get(id=complaint.applicant_id, using_db=conn)
        await outbox.notify(
            applicant,
            ComplaintAnswered(number=complaint.number, answer=clean),
            key=f"complaint:{complaint.id}:answered",
            conn=conn,
        )
    return await _view(complaint, staff)


async def escalate_overdue(settings: Settings) -> int:
    """Job: complaints past their deadline and not answered go to the superadmin (once);
    the parent is told. Returns how many were escalated."""
    now = clock.now()
    due = await Complaint.filter(
        deadline__lt=now, escalated_at__isnull=True, status__not=ComplaintStatus.answered
    ).values_list("id", flat=True)
    escalated = 0
    for complaint_id in due:
        async with audit.transaction() as conn:
            complaint = (
                await Complaint.filter(id=complaint_id, escalated_at__isnull=True)
                .using_db(conn)
                .select_for_update()
                .first()
            )
            if complaint is None or complaint.status == ComplaintStatus.answered:
                continue
            complaint.escalated_at = now
            await complaint.save(using_db=conn, update_fields=["escalated_at"])
            await audit.record(
                "complaint.escalated",
                "complaint",
                complaint.id,
                actor="system",
                after={"escalated_at": now},
                conn=conn,
            )
            applicant = await Applicant.get(id=complaint.applicant_id, using_db=conn)
            await outbox.notify(
                applicant,
                ComplaintEscalated(number=complaint.number),
                key=f"complaint:{complaint.id}:escalated",
                conn=conn,
            )
            escalated += 1
    return escalated


async def _in_scope(staff: StaffMember, complaint_id: int) -> Complaint:
    complaint = await scoped(staff).filter(id=complaint_id).first()
    if complaint is None:
        raise DomainError(Reason.complaint_not_found)
    return complaint


async def _locked(staff: StaffMember, complaint_id: int, conn: BaseDBAsyncClient) -> Complaint:
    await _in_scope(staff, complaint_id)
    complaint = await Complaint.filter(id=complaint_id).using_db(conn).select_for_update().first()
    if complaint is None:
        raise DomainError(Reason.complaint_not_found)
    return complaint


def _overdue(complaint: Complaint) -> bool:
    return complaint.status != ComplaintStatus.answered and complaint.deadline < clock.now()


async def _view(complaint: Complaint, staff: StaffMember) -> ComplaintView:
    kindergarten = (
        await Kindergarten.get_or_none(id=complaint.kindergarten_id)
        if complaint.kindergarten_id is not None
        else None
    )
    parent = None
    subject = None
    if not complaint.anonymous:
        person = await Person.filter(applicants__id=complaint.applicant_id).first()
        phone = await Phone.filter(applicant_id=complaint.applicant_id).order_by("id").first()
        if person is not None:
            parent = mask_name(person.last_name, person.first_name)
        elif phone is not None:
            parent = mask_phone(phone.number)
        subject = await _subject_number(complaint)
    attachment_id = attachment_mime = None
    if complaint.attachment_id is not None:
        await complaint.fetch_related("attachment")
        if complaint.attachment is not None:
            attachment_id = complaint.attachment.telegram_file_id
            attachment_mime = complaint.attachment.mime_type
    return ComplaintView(
        id=complaint.id,
        number=complaint.number,
        category=str(complaint.category),
        status=str(complaint.status),
        text=complaint.text,
        created_at=complaint.created_at,
        deadline=complaint.deadline,
        overdue=_overdue(complaint),
        escalated=complaint.escalated_at is not None,
        anonymous=complaint.anonymous,
        kindergarten=kindergarten.name_ru if kindergarten else None,
        kindergarten_kk=kindergarten.name_kk if kindergarten else None,
        parent=parent,
        subject=subject,
        attachment_file_id=attachment_id,
        attachment_mime=attachment_mime,
        answer=complaint.answer,
    )


async def _subject_number(complaint: Complaint) -> str | None:
    if complaint.referral_id is not None:
        await complaint.fetch_related("referral")
        return complaint.referral.number if complaint.referral else None
    if complaint.application_id is not None:
        await complaint.fetch_related("application")
        return str(complaint.application.number) if complaint.application else None
    return None
