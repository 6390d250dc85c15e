"""Complaints seeded into the demo city, so /complaints and the parents' cabinet show real cases:
one about a kindergarten (waiting), one about the department (answered), one anonymous report of
corruption; and an anti-corruption officer to read it (/as 900000098)."""

from __future__ import annotations

from core.complaints import filing, handling
from core.models import Applicant, Application, Complaint, ComplaintCategory, StaffMember, StaffRole
from core.people.staff import add_staff
from core.platform.settings import Settings

DEMO_OFFICER_ID = 900000098


async def seed_complaints(settings: Settings, superadmin_id: int) -> int:
    """File the demo's complaints once; returns how many were filed now."""
    if await Complaint.exists():
        return 0
    if not await StaffMember.exists(telegram_user_id=DEMO_OFFICER_ID):
        await add_staff(DEMO_OFFICER_ID, StaffRole.anticorruption, name="Demo officer", by="demo")
    applications = await Application.all().order_by("number").limit(3)
    if len(applications) < 3:
        return 0
    parents = [await Applicant.get(id=a.applicant_id) for a in applications]
    kindergartens = await filing.kindergartens_of(parents[0].id)
    await filing.file_complaint(
        parents[0],
        ComplaintCategory.kindergarten,
        "Группу второй месяц ведёт один воспитатель вместо двух, дети часто без присмотра.",
        settings,
        kindergarten_id=kindergartens[0].id if kindergartens else None,
    )
    answered = await filing.file_complaint(
        parents[1],
        ComplaintCategory.department,
        "Третью неделю не могу дозвониться в отдел образования по поводу льготы.",
        settings,
        subject=("application", applications[1].id),
    )
    superadmin = await StaffMember.get(telegram_user_id=superadmin_id)
    await handling.answer(
        superadmin,
        answered.id,
        "Телефон отдела заменён, новый номер на сайте акимата. Льготу можно добавить в кабинете.",
    )
    await filing.file_complaint(
        parents[2],
        ComplaintCategory.corruption,
        "За место в саду без очереди попросили заплатить.",
        settings,
        anonymous=True,
    )
    return 3
