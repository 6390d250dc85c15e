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
    Application,
    Complaint,
    ComplaintCategory,
    ComplaintStatus,
    Document,
    Kindergarten,
    Phone,
    Referral,
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
    return await _views(list(rows)), pages


async def view_of(staff: StaffMember, complaint_id: int) -> ComplaintView:
    return await _view(await _in_scope(staff, complaint_id))


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
    return await _view(complaint)


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
    return await _view(complaint)


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


async def _view(complaint: Complaint) -> ComplaintView:
    (view,) = await _views([complaint])
    return view


async def _views(complaints: list[Complaint]) -> list[ComplaintView]:
    """The staff views of several complaints: what they show is loaded for all at once (a
    query per kind of thing, not per complaint)."""
    kindergartens = {
        kg_id: (name_ru, name_kk)
        for kg_id, name_ru, name_kk in await Kindergarten.filter(
            id__in={c.kindergarten_id for c in complaints if c.kindergarten_id is not None}
        ).values_list("id", "name_ru", "name_kk")
    }
    named = [c for c in complaints if not c.anonymous]  # an anonymous one shows no parent
    parents = await _parents({c.applicant_id for c in named})
    referrals = await _numbers(Referral, {c.referral_id for c in named if c.referral_id})
    applications = await _numbers(
        Application, {c.application_id for c in named if c.application_id}
    )
    attachments = {
        doc_id: (file_id, mime)
        for doc_id, file_id, mime in await Document.filter(
            id__in={c.attachment_id for c in complaints if c.attachment_id is not None}
        ).values_list("id", "telegram_file_id", "mime_type")
    }
    views = []
    for c in complaints:
        kindergarten = kindergartens.get(c.kindergarten_id) if c.kindergarten_id else None
        attachment = attachments.get(c.attachment_id) if c.attachment_id else None
        subject = None
        if not c.anonymous:
            if c.referral_id is not None:
                subject = referrals.get(c.referral_id)
            elif c.application_id is not None:
                subject = applications.get(c.application_id)
        views.append(
            ComplaintView(
                id=c.id,
                number=c.number,
                category=str(c.category),
                status=str(c.status),
                text=c.text,
                created_at=c.created_at,
                deadline=c.deadline,
                overdue=_overdue(c),
                escalated=c.escalated_at is not None,
                anonymous=c.anonymous,
                kindergarten=kindergarten[0] if kindergarten else None,
                kindergarten_kk=kindergarten[1] if kindergarten else None,
                parent=None if c.anonymous else parents.get(c.applicant_id),
                subject=subject,
                attachment_file_id=attachment[0] if attachment else None,
                attachment_mime=attachment[1] if attachment else None,
                answer=c.answer,
            )
        )
    return views


async def _parents(applicant_ids: set[int]) -> dict[int, str]:
    """Each parent as staff see them: the masked name, else the masked first phone."""
    if not applicant_ids:
        return {}
    shown = {
        applicant_id: mask_name(last_name, first_name)
        for applicant_id, last_name, first_name in await Applicant.filter(
            id__in=applicant_ids, person_id__isnull=False
        ).values_list("id", "person__last_name", "person__first_name")
    }
    nameless = applicant_ids - set(shown)
    if nameless:
        phones = (
            await Phone.filter(applicant_id__in=nameless)
            .order_by("id")
            .values_list("applicant_id", "number")
        )
        for applicant_id, number in phones:
            shown.setdefault(applicant_id, mask_phone(number))  # their first phone
    return shown


async def _numbers(model: type[Application] | type[Referral], ids: set[int]) -> dict[int, str]:
    if not ids:
        return {}
    return {
        row_id: str(number)
        for row_id, number in await model.filter(id__in=ids).values_list("id", "number")
    }
