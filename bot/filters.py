"""Filters shared by the handlers.

`MenuButton` matches a reply-keyboard caption in any of our languages, so a keyboard sent
before a language switch still works. `IsStaff` gates every staff command, button and dialog
(one router-level filter in `bot.staff.make_router`).
"""

from __future__ import annotations

from collections.abc import Iterable

from aiogram.filters import Filter
from aiogram.fsm.state import StatesGroup
from aiogram.types import CallbackQuery, Message, TelegramObject, User
from aiogram.utils.i18n import I18n, gettext
from aiogram_dialog.api.entities import Context

from core.models import StaffMember, StaffRole
from core.people import staff as staff_service


class MenuButton(Filter):
    """A reply-keyboard caption, given by its gettext msgid, in whichever language it was sent."""

    def __init__(self, msgid: str) -> None:
        self.msgid = msgid

    async def __call__(self, message: Message, i18n: I18n | None = None) -> bool:
        if not message.text:
            return False
        if i18n is None:
            return message.text == gettext(self.msgid)
        return message.text in {
            i18n.gettext(self.msgid, locale=locale) for locale in (*i18n.available_locales, "en")
        }


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
    "complaints",
)


class IsStaff(Filter):
    """Passes staff members (of the given roles; any role by default) and hands the
    StaffMember to the handler as `staff`."""

    def __init__(self, roles: Iterable[StaffRole] | None = None) -> None:
        self.roles = frozenset(roles) if roles is not None else None

    async def __call__(
        self, event: TelegramObject, event_from_user: User | None = None
    ) -> bool | dict[str, StaffMember]:
        member = await staff_service.staff_for(event_from_user.id if event_from_user else None)
        if member is None or (self.roles is not None and member.role not in self.roles):
            return False
        return {"staff": member}


class MayBeStaff(Filter):
    """A cheap check before `IsStaff`'s database look-up: a command, a staff button (by its
    callback prefix), or an update inside a staff conversation. Parents' messages and buttons
    reach the staff router on their way to their own handlers; this keeps them from costing a
    staff query each."""

    def __init__(self, conversations: Iterable[type[StatesGroup]], prefixes: Iterable[str]) -> None:
        self.groups = tuple(conversations)
        self.prefixes = tuple(f"{prefix}:" for prefix in prefixes)

    async def __call__(self, event: TelegramObject, aiogd_context: Context | None = None) -> bool:
        if aiogd_context is not None and any(aiogd_context.state in g for g in self.groups):
            return True
        if isinstance(event, Message):
            return bool(event.text and event.text.startswith("/"))
        if isinstance(event, CallbackQuery):
            return bool(event.data and event.data.startswith(self.prefixes))
        return False
