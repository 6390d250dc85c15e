"""/release: a staff member frees seats in a group of a kindergarten in their scope.

Kindergarten -> group -> how many seats -> priority window -> confirm, with Back and Cancel on
every step. The count screen shows the group's capacity and what fills it, and offers only
counts that keep free seats within capacity (a number may also be typed, with bounds); the
confirmation counts the parents who can actually receive the offer now
(core.seats.releases.preview_release) and says so plainly when nobody can. Every screen offers
only what is in the staff member's scope, a press is accepted only for an id the screen offered,
and the core checks the scope and the capacity again.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from aiogram import Router
from aiogram.filters import Command, CommandObject
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n import ngettext
from aiogram_dialog import Dialog, DialogManager, ShowMode, StartMode
from aiogram_dialog.widgets.input import MessageInput
from aiogram_dialog.widgets.kbd import Button, Column, Group, Row, SwitchTo
from aiogram_dialog.widgets.text import Format

from bot.dialogs.common import Tr, Window, pick_list, settings_of, start_data
from bot.staff import texts
from bot.staff.answers import close_with
from bot.staff.context import accept, offer, staff_of, user_of
from bot.staff.inputs import typed_text
from bot.staff.search import nothing_found
from bot.staff.states import ReleaseSG
from bot.staff.undo import close_with_undo
from bot.texts.formats import esc
from bot.texts.labels import group_label
from bot.texts.reasons import error_text
from bot.texts.typed import clean_typed
from core.models import Group as SeatGroup
from core.models import StaffMember, StaffRole
from core.people import staff as staff_service
from core.platform.errors import DomainError
from core.platform.settings import Settings, WindowUnit
from core.seats.releases import (
    GroupSeats,
    ReleasePreview,
    group_seats,
    parents_told,
    preview_release,
    release_seats,
)
from core.views import staff_lists

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
            Button(Tr("Cancel"), id="no", on_click=on_cancel),
            getter=kindergartens_getter,
            state=ReleaseSG.kindergarten,
        ),
        Window(
            Tr("Choose the group:"),
            Column(pick_list("grp", "groups", on_group)),
            Row(
                SwitchTo(Tr("Back"), id="back", state=ReleaseSG.kindergarten, when="can_back"),
                Button(Tr("Cancel"), id="no", on_click=on_cancel),
            ),
            getter=groups_getter,
            state=ReleaseSG.group,
        ),
        Window(
            Format("{group_seats}"),
            Tr(
                "How many seats are free? Choose or send a number from 1 to {releasable}.",
                when="releasable",
            ),
            Tr(
                "No seat of this group can be released now: its free seats, referrals and "
                "enrolled children already fill its capacity.",
                when="full",
            ),
            Group(pick_list("cnt", "counts", on_count), width=3),
            *typed_text(on_count_typed),
            Row(
                SwitchTo(Tr("Back"), id="back", state=ReleaseSG.group),
                Button(Tr("Cancel"), id="no", on_click=on_cancel),
            ),
            getter=counts_getter,
            state=ReleaseSG.count,
        ),
        Window(
            Tr("Priority window for the first applications in the queue:"),
            Column(pick_list("win", "windows", on_window)),
            Row(
                SwitchTo(Tr("Back"), id="back", state=ReleaseSG.count),
                Button(Tr("Cancel"), id="no", on_click=on_cancel),
            ),
            getter=windows_getter,
            state=ReleaseSG.window,
        ),
        Window(
            Format("{preview}"),
            Row(
                Button(Tr("Release"), id="ok", on_click=on_release),
                SwitchTo(Tr("Back"), id="back", state=ReleaseSG.window),
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
    # Every match (a city has hundreds), by number: "Ясли-сад №1", "Детский сад №3" ... "№10".
    found = staff_lists.sort_naturally(
        await staff_service.kindergartens_in_scope(
            staff, limit=100_000, search=start_data(dialog_manager).get("search", "")
        )
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
    # A kindergarten admin's dialog starts here with their kindergarten: no Back for them.
    chosen = dialog_manager.dialog_data.get("kindergarten_id")
    kindergarten_id = int(chosen or start_data(dialog_manager)["kindergarten_id"])
    groups = await staff_service.groups_in_scope(staff_of(dialog_manager), kindergarten_id)
    offer(dialog_manager, "grp", [g.id for g in groups])
    return {"groups": [(g.id, _group_label(g)) for g in groups], "can_back": bool(chosen)}


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
    group = await staff_service.group_in_scope(
        staff_of(dialog_manager), dialog_manager.dialog_data["group_id"]
    )
    seats = await group_seats(group)
    counts = [n for n in SEAT_COUNTS if n <= seats.releasable]
    if seats.releasable and seats.releasable not in counts:
        counts.append(seats.releasable)  # "all that fit" in one press
    offer(dialog_manager, "cnt", counts)
    return {
        "counts": [(n, str(n)) for n in counts],
        "group_seats": _seats_line(seats),
        "releasable": seats.releasable,
        "full": not seats.releasable,
    }


async def on_count(
    callback: CallbackQuery, widget: object, manager: DialogManager, item_id: str
) -> None:
    try:
        manager.dialog_data["count"] = int(accept(manager, "cnt", item_id))
    except DomainError as exc:
        await callback.answer(error_text(exc), show_alert=True)
        return
    await manager.switch_to(ReleaseSG.window)


async def on_count_typed(message: Message, widget: MessageInput, manager: DialogManager) -> None:
    """A typed count: a whole number from 1 to what the group's capacity still allows."""
    group = await staff_service.group_in_scope(staff_of(manager), manager.dialog_data["group_id"])
    releasable = (await group_seats(group)).releasable
    typed = clean_typed(message.text)
    if not typed.isdigit() or not 1 <= int(typed) <= releasable:
        await message.answer(
            _("Please send a number from 1 to {max}.").format(max=releasable)
            if releasable
            else _("No seat of this group can be released now.")
        )
        return
    manager.dialog_data["count"] = int(typed)
    await manager.switch_to(ReleaseSG.window)


async def windows_getter(dialog_manager: DialogManager, **kwargs: Any) -> dict[str, Any]:
    options = [
        (CONFIGURED, _configured_label(settings_of(dialog_manager))),
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
    group = await staff_service.group_in_scope(staff, data["group_id"])
    kindergarten = await staff_service.kindergarten_in_scope(staff, group.kindergarten_id)
    place = {
        "count": data["count"],
        "kindergarten": esc(texts.name(kindergarten, user_of(dialog_manager))),
        "group": esc(_group_label(group)),
    }
    try:
        preview = await preview_release(
            group.id, data["count"], settings=settings, window=_window(data["days"])
        )
    except DomainError as exc:  # the group filled up since the count was chosen
        return {"preview": error_text(exc)}
    return {"preview": _preview_text(preview, place, dialog_manager, settings)}


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
    told = await parents_told(release.id)
    summary = await staff_service.release_summary(release.id)
    if data["days"] == 0 or not summary["addressees"]:
        done = _(
            "Seats released without a priority window: {seats}. Parents notified: "
            "{addressees}. Every parent in the queue may take them at once."
        )
    else:
        done = _(
            "Released {seats} seat(s). Parents notified: {addressees}. Priority until {deadline}."
        )
    await close_with_undo(
        callback,
        manager,
        done.format(
            seats=release.seats,
            addressees=told,
            deadline=texts.when(release.priority_end_at, callback.from_user, settings),
        ),
        "release",
        release.id,
    )


async def on_cancel(callback: CallbackQuery, widget: object, manager: DialogManager) -> None:
    await close_with(callback, manager, _("Cancelled."))


# --- helpers --------------------------------------------------------------------------------


def _window(days: int) -> timedelta | None:
    return None if days == CONFIGURED else timedelta(days=days)


def _group_label(group: SeatGroup) -> str:
    return group_label(group.name, group.birth_year, str(group.language), str(group.kind))


def _configured_label(settings: Settings) -> str:
    """ "As configured" says what the setting is (DOMAIN.md's default: one calendar day)."""
    days = settings.priority_window
    if settings.priority_window_unit == WindowUnit.working:
        span = ngettext("{n} working day", "{n} working days", days).format(n=days)
    else:
        span = ngettext("{n} day", "{n} days", days).format(n=days)
    return _("As configured ({span})").format(span=span)


def _seats_line(seats: GroupSeats) -> str:
    return _(
        "Capacity of the group: {capacity}. Enrolled: {enrolled}. Referrals waiting for "
        "enrolment: {referred}. Released and not taken yet: {free}. Can be released now: "
        "{releasable}."
    ).format(
        capacity=seats.capacity,
        enrolled=seats.enrolled,
        referred=seats.referred,
        free=seats.free,
        releasable=seats.releasable,
    )


def _preview_text(
    preview: ReleasePreview, place: dict[str, Any], manager: DialogManager, settings: Settings
) -> str:
    """The confirmation: what will happen and to whom, as the core would do it now."""
    if not preview.windowed:
        head = _(
            "Without a priority window, release {count} seat(s) in {kindergarten}, group: "
            "{group}?\nEvery parent in this queue may take the seats at once."
        )
        return head.format(**place)
    if not preview.addressees:
        why = {
            "too_young": _(
                "the children of this group's birth year are under {min} years old"
            ).format(min=settings.referral_min_age_years),
            "too_old": _("the children of this group's birth year are too old for a referral"),
        }.get(
            preview.nobody_because or "",
            _(
                "the queue is empty, or its applications are in the stop-list, wait for a "
                "later date or already hold an offer in this group"
            ),
        )
        return _(
            "Release {count} seat(s) in {kindergarten}, group: {group}?\n"
            "Nobody in this queue can receive the offer now ({why}): there is no priority "
            "window, the seats will open to everyone at once."
        ).format(why=why, **place)
    text = _(
        "Release {count} seat(s) in {kindergarten}, group: {group}?\n"
        "{addressees} application(s) first in the queue that can take a referral now "
        "({parents} parent(s)) are notified at once; only they may take these seats until "
        "{deadline}."
    ).format(
        addressees=preview.addressees,
        parents=preview.parents,
        deadline=texts.when(preview.priority_end_at, user_of(manager), settings),
        **place,
    )
    if preview.open_at_once:
        text += "\n" + _(
            "Not enough applications can take a referral now: {rest} seat(s) open to everyone "
            "at once."
        ).format(rest=preview.open_at_once)
    return text
