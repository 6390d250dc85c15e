"""Complaint figures per category for /stats: filed, answered, open, overdue (in scope)."""

from __future__ import annotations

from dataclasses import dataclass

from core.complaints.handling import scoped
from core.models import ComplaintCategory, ComplaintStatus, StaffMember
from core.platform import clock


@dataclass(frozen=True)
class CategoryFigures:
    category: str
    filed: int
    answered: int
    open: int
    overdue: int


async def by_category(staff: StaffMember) -> list[CategoryFigures]:
    """One row per category the staff member may read (empty categories included)."""
    now = clock.now()
    rows = []
    for category in ComplaintCategory:
        query = scoped(staff).filter(category=category)
        filed = await query.count()
        answered = await query.filter(status=ComplaintStatus.answered).count()
        overdue = await query.filter(status__not=ComplaintStatus.answered, deadline__lt=now).count()
        rows.append(CategoryFigures(str(category), filed, answered, filed - answered, overdue))
    return rows
