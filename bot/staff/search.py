"""What staff read when a kindergarten search finds nothing: "nothing matches" unless the
kindergarten they typed really is outside their scope."""

from __future__ import annotations

from aiogram.utils.i18n import gettext as _

from bot.texts.formats import esc
from core.models import StaffMember
from core.people import staff as staff_service


async def nothing_found(staff: StaffMember, search: str) -> str:
    if not search:
        return _("There are no kindergartens in your scope.")
    if await staff_service.matches_outside_scope(staff, search):
        return _("No kindergarten in your scope matches this.")
    return _("No kindergarten matches «{query}». Send a part of its name or its number.").format(
        query=esc(search)
    )
