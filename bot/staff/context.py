"""What a staff dialog reads from its update: the staff member, the user, and the ids its last
screen offered (a press is accepted only for one of those). Settings and start data come from
`bot.dialogs.common`, as in the parents' dialogs."""

from __future__ import annotations

from collections.abc import Iterable

from aiogram.types import User
from aiogram_dialog import DialogManager

from core.models import StaffMember
from core.platform.errors import DomainError


def staff_of(manager: DialogManager) -> StaffMember:
    """The staff member the router's IsStaff filter found for this update."""
    staff: StaffMember = manager.middleware_data["staff"]
    return staff


def offer(manager: DialogManager, widget_id: str, ids: Iterable[object]) -> None:
    """Remember what a screen offered under `widget_id`."""
    manager.dialog_data[f"offered_{widget_id}"] = [str(i) for i in ids]


def accept(manager: DialogManager, widget_id: str, item_id: str) -> str:
    """The pressed id if the screen offered it; a forged one is refused as out of scope."""
    if item_id not in manager.dialog_data.get(f"offered_{widget_id}", ()):
        raise DomainError("out_of_scope")
    return item_id


def user_of(manager: DialogManager) -> User | None:
    """The Telegram user behind this update (their language picks the names shown)."""
    user: User | None = manager.middleware_data.get("event_from_user")
    return user
