"""/staff: a superadmin grants and removes staff roles inside the bot.

Grant: the person (their Telegram id typed, their contact shared, or a message of theirs
forwarded) -> the role -> its scope (an operator's city, a kindergarten administrator's
kindergarten, searchable) -> a preview saying what changes -> Confirm. Remove: a member from the
list -> Remove the role -> Confirm. Both audited by the core (core.people.staff: the superadmin
as the actor, never the last superadmin removed), and the member's command menu follows at once
(bot.staff.menu.refresh_menu, in their language). Anybody else is refused.
"""

from __future__ import annotations

from typing import Any

from aiogram import Bot, Router
from aiogram.filters import Command
from aiogram.types import CallbackQuery, Message, MessageOriginUser
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from aiogram_dialog import Dialog, DialogManager, ShowMode, StartMode
from aiogram_dialog.widgets.input import MessageInput
from aiogram_dialog.widgets.kbd import Button, Column, Row, ScrollingGroup, SwitchTo
from aiogram_dialog.widgets.text import Format

from bot.dialogs.common import Tr, Window, pick_list
from bot.staff import texts
from bot.staff.answers import close_with
from bot.staff.context import accept, offer, staff_of, user_of
from bot.staff.menu import refresh_menu
from bot.staff.states import StaffRolesSG
from bot.texts.formats import esc
from bot.texts.reasons import error_text
from bot.texts.typed import clean_typed
from core.models import City, Kindergarten, StaffMember, StaffRole
from core.people import staff as staff_service
from core.platform.errors import DomainError
from core.platform.reasons import Reason
from core.views import staff_lists

MEMBERS_PER_PAGE = 8
KINDERGARTEN_LIMIT = 30
ROLES = (
    StaffRole.operator,
    StaffRole.kindergarten_admin,
    StaffRole.superadmin,
    StaffRole.anticorruption,
)


def make_router() -> Router:
    """Staff only (the including router checks); superadmins only (checked here and in core)."""
    router = Router(name="staff.roles")
    router.message.register(staff_start, Command("staff"))
    return router


def make_dialog() -> Dialog:
    sg = StaffRolesSG
    cancel = Button(Tr("Cancel"), id="no", on_click=on_cancel)
    return Dialog(
        Window(
            Tr("<b>Staff members: {total}</b>"),
            Tr("Choose a member to change or remove their role, or grant a new one."),
            ScrollingGroup(
                pick_list("mem", "members", on_member),
                id="mems",
                width=1,
                height=MEMBERS_PER_PAGE,
                hide_on_single_page=True,
            ),
            Button(Tr("Grant a role"), id="grant", on_click=on_grant),
            Button(Tr("Close"), id="close", on_click=on_close),
            getter=members_getter,
            state=sg.members,
        ),
        Window(
            Format("{card}"),
            Button(Tr("Change the role"), id="change", on_click=on_change),
            Button(Tr("Remove the role"), id="remove", on_click=on_remove),
            SwitchTo(Tr("Back"), id="back", state=sg.members),
            getter=member_getter,
            state=sg.member,
        ),
        Window(
            Tr(
                "Whom? Send their Telegram id (a number), share their contact, or forward a "
                "message from them."
            ),
            MessageInput(on_person),
            Row(SwitchTo(Tr("Back"), id="back", state=sg.members), cancel),
            state=sg.person,
        ),
        Window(
            Tr("Telegram id {person}. Which role?"),
            Column(pick_list("role", "roles", on_role)),
            Row(SwitchTo(Tr("Back"), id="back", state=sg.person), cancel),
            getter=roles_getter,
            state=sg.role,
        ),
        Window(
            Tr("Which city does the operator work for?"),
            Column(pick_list("city", "cities", on_city)),
            Row(SwitchTo(Tr("Back"), id="back", state=sg.role), cancel),
            getter=cities_getter,
            state=sg.city,
        ),
        Window(
            Tr("Which kindergarten? Send a part of its name or its number to find another one."),
            Column(pick_list("kg", "kindergartens", on_kindergarten)),
            MessageInput(on_kindergarten_search),
            Row(SwitchTo(Tr("Back"), id="back", state=sg.role), cancel),
            getter=kindergartens_getter,
            state=sg.kindergarten,
        ),
        Window(
            Format("{preview}"),
            Row(
                Button(Tr("Confirm"), id="ok", on_click=on_confirm),
                SwitchTo(Tr("Back"), id="back", state=sg.role),
                cancel,
            ),
            getter=preview_getter,
            state=sg.confirm,
        ),
        Window(
            Format("{preview}"),
            Row(
                Button(Tr("Confirm"), id="ok", on_click=on_remove_confirm),
                SwitchTo(Tr("Back"), id="back", state=sg.member),
                cancel,
            ),
            getter=remove_getter,
            state=sg.remove_confirm,
        ),
    )


async def staff_start(message: Message, staff: StaffMember, dialog_manager: DialogManager) -> None:
    if staff.role != StaffRole.superadmin:
        await message.answer(error_text(DomainError(Reason.superadmin_only)))
        return
    await dialog_manager.start(StaffRolesSG.members, mode=StartMode.RESET_STACK)


# --- the members ----------------------------------------------------------------------------


async def members_getter(dialog_manager: DialogManager, **kwargs: Any) -> dict[str, Any]:
    members = await staff_service.list_staff()
    offer(dialog_manager, "mem", [m.telegram_user_id for m in members])
    user = user_of(dialog_manager)
    return {
        "total": len(members),
        "members": [(m.telegram_user_id, await _member_line(m, user)) for m in members],
    }


async def on_member(
    callback: CallbackQuery, widget: object, manager: DialogManager, item_id: str
) -> None:
    try:
        manager.dialog_data["person"] = int(accept(manager, "mem", item_id))
    except DomainError as exc:
        await callback.answer(error_text(exc), show_alert=True)
        return
    await manager.switch_to(StaffRolesSG.member)


async def member_getter(dialog_manager: DialogManager, **kwargs: Any) -> dict[str, Any]:
    member = await staff_service.staff_for(int(dialog_manager.dialog_data["person"]))
    if member is None:
        return {"card": _("This person has no staff role.")}
    return {"card": await _member_line(member, user_of(dialog_manager))}


async def on_grant(callback: CallbackQuery, widget: object, manager: DialogManager) -> None:
    manager.dialog_data.pop("person", None)
    await manager.switch_to(StaffRolesSG.person)


async def on_change(callback: CallbackQuery, widget: object, manager: DialogManager) -> None:
    await manager.switch_to(StaffRolesSG.role)


async def on_remove(callback: CallbackQuery, widget: object, manager: DialogManager) -> None:
    await manager.switch_to(StaffRolesSG.remove_confirm)


async def on_close(callback: CallbackQuery, widget: object, manager: DialogManager) -> None:
    await close_with(callback, manager, _("Closed."))


async def on_cancel(callback: CallbackQuery, widget: object, manager: DialogManager) -> None:
    await close_with(callback, manager, _("Cancelled."))


# --- grant: whom, which role, where ---------------------------------------------------------


async def on_person(message: Message, widget: MessageInput, manager: DialogManager) -> None:
    """A Telegram id typed, a contact shared, or a forwarded message (when its sender allows)."""
    person: int | None = None
    if message.contact is not None:
        person = message.contact.user_id
    elif isinstance(message.forward_origin, MessageOriginUser):
        person = message.forward_origin.sender_user.id
    elif message.text:
        typed = clean_typed(message.text)
        person = int(typed) if typed.isdigit() and 0 < int(typed) < 2**52 else None
    if person is None:
        await message.answer(
            _(
                "I could not find the person: send their Telegram id as a number, share their "
                "contact, or forward a message from them (their privacy settings may hide it)."
            )
        )
        manager.show_mode = ShowMode.NO_UPDATE
        return
    manager.dialog_data["person"] = person
    manager.show_mode = ShowMode.SEND
    await manager.switch_to(StaffRolesSG.role)


async def roles_getter(dialog_manager: DialogManager, **kwargs: Any) -> dict[str, Any]:
    offer(dialog_manager, "role", [str(role) for role in ROLES])
    return {
        "person": dialog_manager.dialog_data["person"],
        "roles": [(str(role), _role_name(role)) for role in ROLES],
    }


async def on_role(
    callback: CallbackQuery, widget: object, manager: DialogManager, item_id: str
) -> None:
    try:
        role = StaffRole(accept(manager, "role", item_id))
    except DomainError as exc:
        await callback.answer(error_text(exc), show_alert=True)
        return
    manager.dialog_data.update(role=str(role), city_id=None, kindergarten_id=None)
    state = {
        StaffRole.operator: StaffRolesSG.city,
        StaffRole.kindergarten_admin: StaffRolesSG.kindergarten,
    }.get(role, StaffRolesSG.confirm)
    await manager.switch_to(state)


async def cities_getter(dialog_manager: DialogManager, **kwargs: Any) -> dict[str, Any]:
    cities = await staff_service.cities()
    offer(dialog_manager, "city", [city.id for city in cities])
    user = user_of(dialog_manager)
    return {"cities": [(city.id, texts.name(city, user)) for city in cities]}


async def on_city(
    callback: CallbackQuery, widget: object, manager: DialogManager, item_id: str
) -> None:
    try:
        manager.dialog_data["city_id"] = int(accept(manager, "city", item_id))
    except DomainError as exc:
        await callback.answer(error_text(exc), show_alert=True)
        return
    await manager.switch_to(StaffRolesSG.confirm)


async def kindergartens_getter(dialog_manager: DialogManager, **kwargs: Any) -> dict[str, Any]:
    found = await staff_service.kindergartens_in_scope(
        staff_of(dialog_manager),
        limit=KINDERGARTEN_LIMIT,
        search=dialog_manager.dialog_data.get("search", ""),
    )
    if not dialog_manager.dialog_data.get("search"):
        found = staff_lists.sort_naturally(found)
    offer(dialog_manager, "kg", [kg.id for kg in found])
    user = user_of(dialog_manager)
    return {"kindergartens": [(kg.id, texts.name(kg, user)) for kg in found]}


async def on_kindergarten_search(
    message: Message, widget: MessageInput, manager: DialogManager
) -> None:
    manager.dialog_data["search"] = clean_typed(message.text)[:64]
    manager.show_mode = ShowMode.SEND


async def on_kindergarten(
    callback: CallbackQuery, widget: object, manager: DialogManager, item_id: str
) -> None:
    try:
        manager.dialog_data["kindergarten_id"] = int(accept(manager, "kg", item_id))
    except DomainError as exc:
        await callback.answer(error_text(exc), show_alert=True)
        return
    await manager.switch_to(StaffRolesSG.confirm)


# --- grant: preview and confirm -------------------------------------------------------------


async def preview_getter(dialog_manager: DialogManager, **kwargs: Any) -> dict[str, Any]:
    data = dialog_manager.dialog_data
    user = user_of(dialog_manager)
    role = StaffRole(data["role"])
    scope = await _scope(role, data.get("city_id"), data.get("kindergarten_id"), user)
    current = await staff_service.staff_for(int(data["person"]))
    text = _("Grant the role «{role}» ({scope}) to Telegram id {person}?").format(
        role=_role_name(role), scope=esc(scope), person=data["person"]
    )
    if current is not None:
        text += "\n" + _("Now: {member}").format(member=await _member_line(current, user))
    text += "\n" + _("Their command menu shows the tools of the role at once.")
    return {"preview": text}


async def on_confirm(callback: CallbackQuery, widget: object, manager: DialogManager) -> None:
    data = manager.dialog_data
    try:
        member = await staff_service.grant_role(
            staff_of(manager),
            int(data["person"]),
            data["role"],
            city_id=data.get("city_id"),
            kindergarten_id=data.get("kindergarten_id"),
        )
    except DomainError as exc:
        await callback.answer(error_text(exc), show_alert=True)
        return
    await _refresh(manager, member)
    await close_with(
        callback,
        manager,
        _("Done: {member}").format(member=await _member_line(member, user_of(manager))),
    )


# --- remove ---------------------------------------------------------------------------------


async def remove_getter(dialog_manager: DialogManager, **kwargs: Any) -> dict[str, Any]:
    member = await staff_service.staff_for(int(dialog_manager.dialog_data["person"]))
    if member is None:
        return {"preview": _("This person has no staff role.")}
    return {
        "preview": _(
            "Remove the staff role of {member}? Their staff tools and menu go away; the audit "
            "keeps what they did."
        ).format(member=await _member_line(member, user_of(dialog_manager)))
    }


async def on_remove_confirm(
    callback: CallbackQuery, widget: object, manager: DialogManager
) -> None:
    try:
        member = await staff_service.remove_role(
            staff_of(manager), int(manager.dialog_data["person"])
        )
    except DomainError as exc:
        await callback.answer(error_text(exc), show_alert=True)
        return
    await _refresh(manager, member)
    await close_with(
        callback,
        manager,
        _("The staff role of Telegram id {person} is removed.").format(
            person=member.telegram_user_id
        ),
    )


# --- helpers --------------------------------------------------------------------------------


async def _refresh(manager: DialogManager, member: StaffMember) -> None:
    """The member's command menu, in their own language."""
    bot: Bot = manager.middleware_data["bot"]
    i18n: I18n = manager.middleware_data["i18n"]
    language = await staff_service.language_of(member.telegram_user_id)
    await refresh_menu(bot, i18n, member, str(language))


def _role_name(role: StaffRole) -> str:
    return {
        StaffRole.operator: lambda: _("Operator of a city's education department"),
        StaffRole.kindergarten_admin: lambda: _("Kindergarten administrator"),
        StaffRole.superadmin: lambda: _("Superadmin"),
        StaffRole.anticorruption: lambda: _("Anti-corruption officer (reports of corruption)"),
    }[role]()


async def _scope(
    role: StaffRole, city_id: int | None, kindergarten_id: int | None, user: Any
) -> str:
    if role == StaffRole.operator and city_id is not None:
        city = await City.get_or_none(id=city_id)
        return texts.name(city, user) if city else "—"
    if role == StaffRole.kindergarten_admin and kindergarten_id is not None:
        kindergarten = await Kindergarten.get_or_none(id=kindergarten_id)
        return texts.name(kindergarten, user) if kindergarten else "—"
    return _("every city")


async def _member_line(member: StaffMember, user: Any) -> str:
    """ "Telegram id 123 · Operator … · Astana" (and their name, if the CLI gave one)."""
    role = StaffRole(member.role)
    scope = await _scope(role, member.city_id, member.kindergarten_id, user)
    name = f" ({esc(member.name)})" if member.name else ""
    return _("Telegram id {person}{name} · {role} · {scope}").format(
        person=member.telegram_user_id, name=name, role=_role_name(role), scope=esc(scope)
    )
