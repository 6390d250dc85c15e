"""/release: a staff member frees seats in a group of a kindergarten in their scope.

Kindergarten -> group -> how many seats -> priority window -> confirm. The first applications
in the queue are notified at once (core.seats.releases). Every screen offers only what is in
the staff member's scope, a press is accepted only for an id the screen offered, and the core
checks the scope again.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from aiogram import Router
from aiogram.filters import Command, CommandObject
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _
from aiogram_dialog import Dialog, DialogManager, ShowMode, StartMode
from aiogram_dialog.widgets.kbd import Button, Column, Group, Row

from bot.dialogs.common import Tr, Window, pick_list, settings_of, start_data
from bot.staff import texts
from bot.staff.answers import close_with
from bot.staff.context import accept, offer, staff_of, user_of
from bot.staff.search import nothing_found
from bot.staff.states import ReleaseSG
from bot.texts.formats import esc
from bot.texts.labels import group_label
from bot.texts.reasons import error_text
from bot.texts.typed import clean_typed
from core.models import Group as SeatGroup
from core.models import StaffMember, StaffRole
from core.people import staff as staff_service
from core.platform import clock
from core.platform.errors import DomainError
from core.seats.releases import priority_end_at, release_seats

RELEASE_LIST_LIMIT = 30
SEAT_COUNTS = (1, 2, 3, 4, 5, 10)
CONFIGURED = -1  # the priority window the settings give


def make_router() -> Router:
    """The /release command (staff only: the router that includes this one checks)."""
    router = Router(name="staff.release")
    router.message.register(release_start, Command("release"))
    return router


def make_dialog() -> Dialog:
    return Dialog(
        Window(
            Tr("Release seats. Choose the kindergarten:"),
            Tr(
                "Only the first {count} are shown: send /release and a part of the name or the "
                "kindergarten's number to find another one.",
                when="more",
            ),
            Column(pick_list("kg", "kindergartens", on_kindergarten)),
            getter=kindergartens_getter,
            state=ReleaseSG.kindergarten,
        ),
        Window(
            Tr("Choose the group:"),
            Column(pick_list("grp", "groups", on_group)),
            getter=groups_getter,
            state=ReleaseSG.group,
        ),
        Window(
            Tr("How many seats are free?"),
            Group(pick_list("cnt", "counts", on_count), width=3),
            getter=counts_getter,
            state=ReleaseSG.count,
        ),
        Window(
            Tr("Priority window for the first applications in the queue:"),
            Column(pick_list("win", "windows", on_window)),
            getter=windows_getter,
            state=ReleaseSG.window,
        ),
        Window(
            # "None" chosen: no first-in-queue window to announce, the seats are open at once.
            Tr(
                "Without a priority window, release {count} seat(s) in {kindergarten}, group: "
                "{group}?\nEvery parent in this queue may take the seats at once.",
                when="open_at_once",
            ),
            Tr(
                "Release {count} seat(s) in {kindergarten}, group: {group}?\n"
                "The first applications in the queue are notified at once; only they may take "
                "the seats until {deadline}.",
                when="with_window",
            ),
            Row(
                Button(Tr("Release"), id="ok", on_click=on_release),
                Button(Tr("Cancel"), id="no", on_click=on_cancel),
            ),
            getter=confirm_getter,
            state=ReleaseSG.confirm,
        ),
    )


async def release_start(
    message: Message, command: CommandObject, staff: StaffMember, dialog_manager: DialogManager
) -> None:
    """A kindergarten admin starts at their groups; the others choose the kindergarten first
    (`/release part of the name` narrows the list)."""
    if staff.role == StaffRole.kindergarten_admin and staff.kindergarten_id:
        if not await staff_service.groups_in_scope(staff, staff.kindergarten_id):
            await message.answer(_("This kindergarten has no groups."))
            return
        await dialog_manager.start(
            ReleaseSG.group,
            data={"kindergarten_id": staff.kindergarten_id},
            mode=StartMode.RESET_STACK,
        )
        return
    search = clean_typed(command.args)
    if not await staff_service.kindergartens_in_scope(staff, limit=1, search=search):
        await message.answer(await nothing_found(staff, search))
        return
    await dialog_manager.start(
        ReleaseSG.kindergarten, data={"search": search}, mode=StartMode.RESET_STACK
    )


# --- kindergarten and group -----------------------------------------------------------------


async def kindergartens_getter(dialog_manager: DialogManager, **kwargs: Any) -> dict[str, Any]:
    staff = staff_of(dialog_manager)
    user = user_of(dialog_manager)
    found = await staff_service.kindergartens_in_scope(
        staff, limit=RELEASE_LIST_LIMIT + 1, search=start_data(dialog_manager).get("search", "")
    )
    shown = found[:RELEASE_LIST_LIMIT]
    offer(dialog_manager, "kg", [kg.id for kg in shown])
    return {
        "kindergartens": [(kg.id, texts.name(kg, user)) for kg in shown],
        "more": len(found) > RELEASE_LIST_LIMIT,
        "count": RELEASE_LIST_LIMIT,
    }


async def on_kindergarten(
    callback: CallbackQuery, widget: object, manager: DialogManager, item_id: str
) -> None:
    try:
        kindergarten_id = int(accept(manager, "kg", item_id))
        groups = await staff_service.groups_in_scope(staff_of(manager), kindergarten_id)
    except DomainError as exc:
        await callback.answer(error_text(exc), show_alert=True)
        return
    if not groups:
        if isinstance(callback.message, Message):
            await callback.message.answer(_("This kindergarten has no groups."))
        manager.show_mode = ShowMode.NO_UPDATE
        return
    manager.dialog_data["kindergarten_id"] = kindergarten_id
    await manager.switch_to(ReleaseSG.group)


async def groups_getter(dialog_manager: DialogManager, **kwargs: Any) -> dict[str, Any]:
    # A kindergarten admin's dialog starts here with their kindergarten.
    kindergarten_id = int(
        dialog_manager.dialog_data.get("kindergarten_id")
        or start_data(dialog_manager)["kindergarten_id"]
    )
    groups = await staff_service.groups_in_scope(staff_of(dialog_manager), kindergarten_id)
    offer(dialog_manager, "grp", [g.id for g in groups])
    return {"groups": [(g.id, _group_label(g)) for g in groups]}


async def on_group(
    callback: CallbackQuery, widget: object, manager: DialogManager, item_id: str
) -> None:
    try:
        group_id = int(accept(manager, "grp", item_id))
        await staff_service.group_in_scope(staff_of(manager), group_id)
    except DomainError as exc:
        await callback.answer(error_text(exc), show_alert=True)
        return
    manager.dialog_data["group_id"] = group_id
    await manager.switch_to(ReleaseSG.count)


# --- how many, for how long ----------------------------------------------------------------


async def counts_getter(dialog_manager: DialogManager, **kwargs: Any) -> dict[str, Any]:
    offer(dialog_manager, "cnt", list(SEAT_COUNTS))
    return {"counts": [(n, str(n)) for n in SEAT_COUNTS]}


async def on_count(
    callback: CallbackQuery, widget: object, manager: DialogManager, item_id: str
) -> None:
    try:
        manager.dialog_data["count"] = int(accept(manager, "cnt", item_id))
    except DomainError as exc:
        await callback.answer(error_text(exc), show_alert=True)
        return
    await manager.switch_to(ReleaseSG.window)


async def windows_getter(dialog_manager: DialogManager, **kwargs: Any) -> dict[str, Any]:
    options = [
        (CONFIGURED, _("As configured")),
        (1, _("1 day")),
        (3, _("3 days")),
        (0, _("None: open to general access at once")),
    ]
    offer(dialog_manager, "win", [days for days, _label in options])
    return {"windows": options}


async def on_window(
    callback: CallbackQuery, widget: object, manager: DialogManager, item_id: str
) -> None:
    staff = staff_of(manager)
    try:
        manager.dialog_data["days"] = int(accept(manager, "win", item_id))
        group = await staff_service.group_in_scope(staff, manager.dialog_data["group_id"])
        await staff_service.kindergarten_in_scope(staff, group.kindergarten_id)
    except DomainError as exc:
        await callback.answer(error_text(exc), show_alert=True)
        return
    await manager.switch_to(ReleaseSG.confirm)


# --- confirm --------------------------------------------------------------------------------


async def confirm_getter(dialog_manager: DialogManager, **kwargs: Any) -> dict[str, Any]:
    staff, data = staff_of(dialog_manager), dialog_manager.dialog_data
    settings = settings_of(dialog_manager)
    user = user_of(dialog_manager)
    group = await staff_service.group_in_scope(staff, data["group_id"])
    kindergarten = await staff_service.kindergarten_in_scope(staff, group.kindergarten_id)
    end = priority_end_at(clock.now(), settings, _window(data["days"]))
    return {
        "count": data["count"],
        "kindergarten": esc(texts.name(kindergarten, user)),
        "group": esc(_group_label(group)),
        "deadline": texts.when(end, user, settings),
        "open_at_once": data["days"] == 0,
        "with_window": data["days"] != 0,
    }


async def on_release(callback: CallbackQuery, widget: object, manager: DialogManager) -> None:
    staff, data = staff_of(manager), manager.dialog_data
    settings = settings_of(manager)
    try:
        await staff_service.group_in_scope(staff, data["group_id"])
        release = await release_seats(
            data["group_id"],
            data["count"],
            actor=staff_service.actor(staff),
            settings=settings,
            window=_window(data["days"]),
        )
    except DomainError as exc:
        await callback.answer(error_text(exc), show_alert=True)
        return
    summary = await staff_service.release_summary(release.id)
    done = (
        _(
            "Seats released without a priority window: {seats}. Parents notified: "
            "{addressees}. Every parent in the queue may take them at once."
        )
        if data["days"] == 0
        else _(
            "Released {seats} seat(s). Parents notified: {addressees}. Priority until {deadline}."
        )
    ).format(
        seats=summary["seats"],
        addressees=summary["addressees"],
        deadline=texts.when(release.priority_end_at, callback.from_user, settings),
    )
    await close_with(callback, manager, done)


async def on_cancel(callback: CallbackQuery, widget: object, manager: DialogManager) -> None:
    await close_with(callback, manager, _("Cancelled."))


# --- helpers --------------------------------------------------------------------------------


def _window(days: int) -> timedelta | None:
    return None if days == CONFIGURED else timedelta(days=days)


def _group_label(group: SeatGroup) -> str:
    return group_label(group.name, group.birth_year, str(group.language), str(group.kind))
