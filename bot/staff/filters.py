"""Who is staff: the one filter that gates every staff command, button and dialog."""

from __future__ import annotations

from aiogram.filters import Filter
from aiogram.types import TelegramObject, User

from core.models import StaffMember
from core.people import staff as staff_service

# The commands refused politely to everybody who is not staff.
STAFF_COMMANDS = (
    "release",
    "broadcast",
    "broadcasts",
    "benefits",
    "enroll",
    "revoke",
    "stats",
    "protocol",
)


class IsStaff(Filter):
    """Passes staff members and hands the StaffMember to the handler as `staff`."""

    async def __call__(
        self, event: TelegramObject, event_from_user: User | None = None
    ) -> bool | dict[str, StaffMember]:
        member = await staff_service.staff_for(event_from_user.id if event_from_user else None)
        return {"staff": member} if member else False
