"""Получить направление: choose the application, search free seats, the kindergarten, the group,
confirm, and get the referral with its validity and the documents to bring.

Opened from the main menu, from an application in the cabinet, or from the worker's "seat
offered" push (callback or deep link `ref_<application_id>_<release_id>`).
"""

from __future__ import annotations

import re
from typing import Any

from aiogram import F, Router
from aiogram.filters import CommandObject, CommandStart
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _
from aiogram_dialog import DialogManager, ShowMode, StartMode
from aiogram_dialog.widgets.kbd import Button, Cancel, Column, Row, SwitchTo
from aiogram_dialog.widgets.text import Format

from bot.dialogs import common, referral_card
from bot.dialogs.common import Dialog, Tr, Window, pick_list
from bot.dialogs.states import ReferralSG, VerifySG
from bot.texts.formats import esc, fmt_date, fmt_datetime
from bot.texts.labels import group_label
from bot.texts.reasons import error_text, reason_text
from core.people import applicants
from core.platform.errors import DomainError
from core.referrals import take
from core.seats import availability, general_access
from core.views import cabinet

PAYLOAD = re.compile(r"^ref_(\d+)_(\d+)$")


# --- entry ----------------------------------------------------------------------------------


async def on_start(start_data: Any, manager: DialogManager) -> None:
    data = start_data if isinstance(start_data, dict) else {}
    applicant = common.applicant_id(manager)
    application_id = data.get("application_id")
    if application_id and await cabinet.owns_application(applicant, int(application_id)):
        manager.dialog_data["application_id"] = int(application_id)
        release_id = int(data.get("release_id") or 0)
        place = await cabinet.release_place(release_id) if release_id else None
        if place is not None:
            manager.dialog_data["release_id"] = release_id
            manager.dialog_data["kindergarten_id"], manager.dialog_data["group_id"] = place
            if await _option(manager) is not None:
                await manager.switch_to(ReferralSG.confirm)
            else:
                await manager.switch_to(ReferralSG.kindergartens)
        else:
            await manager.switch_to(ReferralSG.search)
    if await applicants.verified_phone_count(applicant) < 1:
        await manager.start(VerifySG.phone, data={"need": 1})


async def on_process_result(start_data: Any, result: Any, manager: DialogManager) -> None:
    if await applicants.verified_phone_count(common.applicant_id(manager)) < 1:
        await manager.done()


async def start_referral_for(
    manager: DialogManager, application_id: int, release_id: int | None = None
) -> None:
    """Open the referral conversation for one application (and one seat release)."""
    data: dict[str, Any] = {"application_id": int(application_id)}
    if release_id is not None:
        data["release_id"] = int(release_id)
    await manager.start(ReferralSG.application, data=data, mode=StartMode.RESET_STACK)


def make_offer_router() -> Router:
    """The "Take the seat" button under the worker's seat_offered push and its deep link
    (`/start ref_<application_id>_<release_id>`), fresh for each Dispatcher."""
    router = Router(name=__name__)
    router.callback_query.register(offer_button, F.data.regexp(PAYLOAD))
    router.message.register(offer_link, CommandStart(deep_link=True, magic=F.args.regexp(PAYLOAD)))
    return router


async def offer_button(callback: CallbackQuery, dialog_manager: DialogManager) -> None:
    """The "Take the seat" button under the worker's seat_offered push."""
    match = PAYLOAD.match(callback.data or "")
    assert match is not None
    await start_referral_for(dialog_manager, int(match[1]), int(match[2]))


async def offer_link(
    message: Message, command: CommandObject, dialog_manager: DialogManager
) -> None:
    match = PAYLOAD.match(command.args or "")
    assert match is not None
    await start_referral_for(dialog_manager, int(match[1]), int(match[2]))


# --- choose the application -----------------------------------------------------------------


async def applications_getter(dialog_manager: DialogManager, **kwargs: Any) -> dict[str, Any]:
    cards = await cabinet.applications_of(
        common.applicant_id(dialog_manager), common.settings_of(dialog_manager), positions=False
    )
    items = [
        (str(card.id), f"№{card.number} · {card.child_name}")
        for card in cards
        if card.can_get_referral
    ]
    return {"items": items, "no_items": not items}


async def on_application(
    callback: CallbackQuery, widget: Any, manager: DialogManager, item_id: str
) -> None:
    manager.dialog_data["application_id"] = int(item_id)
    await manager.switch_to(ReferralSG.search)


# --- search: the application, its offers, "Поиск свободных мест" ----------------------------


async def search_getter(dialog_manager: DialogManager, **kwargs: Any) -> dict[str, Any]:
    m = dialog_manager
    applicant = common.applicant_id(m)
    card = await cabinet.application_of(
        applicant, m.dialog_data["application_id"], common.settings_of(m)
    )
    offers = await cabinet.open_offers(applicant, card.id)
    lines = [
        _("Application №{number}").format(number=card.number),
        _("Child: {name}").format(name=esc(card.child_name)),
    ]
    if card.position is not None:
        lines.append(
            _("Position in the city queue ({year}): {position}").format(
                year=card.birth_year, position=card.position
            )
        )
    for offer in offers:
        lines.append(
            _("A seat is offered to you in {kindergarten}, group {group}, until {when}.").format(
                kindergarten=esc(common.localized(m, offer.kindergarten_ru, offer.kindergarten_kk)),
                group=esc(
                    group_label(
                        offer.group_name,
                        offer.group_birth_year,
                        offer.group_language,
                        offer.group_kind,
                    )
                ),
                when=fmt_datetime(offer.priority_end_at, common.tz_of(m), common.locale_of(m)),
            )
        )
    offer_items = [
        (
            str(o.release_id),
            _("Decline: {kindergarten}, {group}").format(
                kindergarten=common.localized(m, o.kindergarten_ru, o.kindergarten_kk),
                group=group_label(o.group_name, o.group_birth_year, o.group_language, o.group_kind),
            ),
        )
        for o in offers
    ]
    return {"card_text": "\n".join(lines), "offers": offer_items}


async def on_search(callback: CallbackQuery, widget: Any, manager: DialogManager) -> None:
    await manager.switch_to(ReferralSG.kindergartens)


async def on_decline_chosen(
    callback: CallbackQuery, widget: Any, manager: DialogManager, item_id: str
) -> None:
    manager.dialog_data["release_id"] = int(item_id)
    await manager.switch_to(ReferralSG.decline_offer)


async def on_decline_here(callback: CallbackQuery, widget: Any, manager: DialogManager) -> None:
    await manager.switch_to(ReferralSG.decline_offer)


async def on_decline_offer(callback: CallbackQuery, widget: Any, manager: DialogManager) -> None:
    try:
        await general_access.decline_offer(
            manager.dialog_data["application_id"],
            manager.dialog_data["release_id"],
            actor=f"applicant:{common.applicant_id(manager)}",
            settings=common.settings_of(manager),
            applicant_id=common.applicant_id(manager),
        )
    except DomainError as error:
        await common.reply(callback, error_text(error))
    else:
        await common.reply(
            callback, _("You declined the offer. Your application keeps its place in the queue.")
        )
    await manager.switch_to(ReferralSG.search, show_mode=ShowMode.SEND)


# --- kindergartens and groups with free seats -----------------------------------------------


async def _options(manager: DialogManager) -> list[availability.SeatOption]:
    return await availability.available_for(
        manager.dialog_data["application_id"],
        common.settings_of(manager),
        applicant_id=common.applicant_id(manager),
    )


async def _option(manager: DialogManager) -> availability.SeatOption | None:
    group_id = manager.dialog_data.get("group_id")
    for option in await _options(manager):
        if option.group_id == group_id:
            return option
    return None


async def kindergartens_getter(dialog_manager: DialogManager, **kwargs: Any) -> dict[str, Any]:
    m = dialog_manager
    free: dict[int, list[Any]] = {}
    for option in await _options(m):
        entry = free.setdefault(
            option.kindergarten_id,
            [
                common.localized(m, option.kindergarten_name_ru, option.kindergarten_name_kk),
                0,
                False,
            ],
        )
        entry[1] += option.free
        entry[2] = entry[2] or option.via == "offer"
    items = [
        (
            str(kg_id),
            _("{name} · free seats: {free}").format(name=name, free=count)
            + (" ⭐" if offered else ""),
        )
        for kg_id, (name, count, offered) in free.items()
    ]
    return {
        "items": items,
        "no_items": not items,
        "empty_text": "" if items else await _no_seats_text(m),
    }


async def _no_seats_text(manager: DialogManager) -> str:
    """An honest "no seats" screen: why this application gets no seat now and from when it
    may; "the first in line are told" only for an application that may take a seat now."""
    wait = await general_access.seat_wait(
        manager.dialog_data["application_id"],
        common.settings_of(manager),
        applicant_id=common.applicant_id(manager),
    )
    if wait.problem is None:
        return _(
            "No free seats for your child right now. When seats are freed, the first "
            "applications in line are told at once; seats open to everyone also appear here."
        )
    if wait.problem == "live_referral":
        return _("Your child already has a referral: no other seat can be taken.")
    text = _("Seats are not offered to this application now: {why}.").format(
        why=reason_text(wait.problem)
    )
    if wait.from_day is not None:
        text += "\n" + _("Referrals from: {date}").format(
            date=fmt_date(wait.from_day, common.locale_of(manager))
        )
    if wait.problem == "mode_from_date":
        text += "\n" + _("You can change the referral date in the cabinet.")
    return text


async def on_kindergarten(
    callback: CallbackQuery, widget: Any, manager: DialogManager, item_id: str
) -> None:
    manager.dialog_data["kindergarten_id"] = int(item_id)
    await manager.switch_to(ReferralSG.groups)


async def groups_getter(dialog_manager: DialogManager, **kwargs: Any) -> dict[str, Any]:
    m = dialog_manager
    kg_id = m.dialog_data.get("kindergarten_id")
    options = [o for o in await _options(m) if o.kindergarten_id == kg_id]
    merged: dict[int, list[Any]] = {}
    for o in options:
        entry = merged.setdefault(o.group_id, [o, 0])
        entry[1] += o.free
    items = [
        (
            str(group_id),
            _("{group} · free seats: {free}").format(
                group=group_label(o.group_name, o.group_birth_year, o.language, o.group_kind),
                free=count,
            ),
        )
        for group_id, (o, count) in merged.items()
    ]
    name = (
        esc(common.localized(m, options[0].kindergarten_name_ru, options[0].kindergarten_name_kk))
        if options
        else ""
    )
    return {"items": items, "no_items": not items, "kindergarten": name}


async def on_group(
    callback: CallbackQuery, widget: Any, manager: DialogManager, item_id: str
) -> None:
    manager.dialog_data["group_id"] = int(item_id)
    await manager.switch_to(ReferralSG.confirm)


async def confirm_getter(dialog_manager: DialogManager, **kwargs: Any) -> dict[str, Any]:
    m = dialog_manager
    card = await cabinet.application_of(
        common.applicant_id(m), m.dialog_data["application_id"], common.settings_of(m)
    )
    option = await _option(m)
    if option is None:
        return {
            "number": card.number,
            "confirm_text": _("This seat is no longer available."),
            "available": False,
        }
    text = "\n".join(
        [
            _("Child: {name}").format(name=esc(card.child_name)),
            _("Kindergarten: {name}").format(
                name=esc(
                    common.localized(m, option.kindergarten_name_ru, option.kindergarten_name_kk)
                )
            ),
            _("Group: {group}").format(
                group=esc(
                    group_label(
                        option.group_name,
                        option.group_birth_year,
                        option.language,
                        option.group_kind,
                    )
                )
            ),
            _(
                "After you get the referral, it is valid for {days} working days: conclude the "
                "contract with the kindergarten within this time."
            ).format(days=common.settings_of(m).referral_valid_working_days),
        ]
    )
    # Opened from an offer's push: the parent may also refuse it here (and keep the place).
    can_decline = option.via == "offer" and "release_id" in m.dialog_data
    return {
        "number": card.number,
        "confirm_text": text,
        "available": True,
        "can_decline": can_decline,
    }


async def on_confirm(callback: CallbackQuery, widget: Any, manager: DialogManager) -> None:
    applicant = common.applicant_id(manager)
    application_id = manager.dialog_data["application_id"]
    try:
        if not await cabinet.owns_application(applicant, application_id):
            raise DomainError("application_not_found")
        referral = await take.take_seat(
            application_id,
            manager.dialog_data["group_id"],
            actor=f"applicant:{applicant}",
            settings=common.settings_of(manager),
            applicant_id=applicant,
        )
    except DomainError as error:
        if error.reason == "no_free_seat":
            await common.reply(
                callback,
                _(
                    "Sorry, someone else has just taken the last seat in this group. "
                    "Here is the fresh list of free seats."
                ),
            )
        else:
            await common.reply(callback, error_text(error))
        manager.dialog_data.pop("group_id", None)
        await manager.switch_to(ReferralSG.kindergartens, show_mode=ShowMode.SEND)
        return
    manager.dialog_data["referral_id"] = referral.id
    await manager.switch_to(ReferralSG.issued)


async def issued_getter(dialog_manager: DialogManager, **kwargs: Any) -> dict[str, Any]:
    m = dialog_manager
    card = await cabinet.referral_of(common.applicant_id(m), m.dialog_data["referral_id"])
    lines = [
        _("Referral №{number} is issued.").format(number=card.number),
        *referral_card.place_lines(card, m),
        *referral_card.term_lines(card, m),
    ]
    return {"issued_text": "\n".join(lines)}


def make_dialog() -> Dialog:
    """Getting a referral, fresh for each Dispatcher."""
    return Dialog(
        Window(
            Tr("Get a referral"),
            Tr("Choose the application."),
            Tr("You have no applications that can get a referral now.", when="no_items"),
            Column(
                pick_list("ref_app", "items", on_application),
            ),
            Cancel(Tr("Back")),
            common.hint(),
            getter=applications_getter,
            state=ReferralSG.application,
        ),
        Window(
            Format("{card_text}"),
            Button(Tr("Search for free seats"), id="search", on_click=on_search),
            Column(
                pick_list("offer", "offers", on_decline_chosen),
            ),
            SwitchTo(Tr("Back"), id="back_app", state=ReferralSG.application),
            common.hint(),
            getter=search_getter,
            state=ReferralSG.search,
        ),
        Window(
            Tr("Kindergartens with free seats for your child:"),
            Format("{empty_text}", when="no_items"),
            Column(
                pick_list("kg", "items", on_kindergarten),
            ),
            Row(
                SwitchTo(Tr("Back"), id="back_search", state=ReferralSG.search),
                Button(Tr("Refresh"), id="refresh"),
            ),
            common.hint(),
            getter=kindergartens_getter,
            state=ReferralSG.kindergartens,
        ),
        Window(
            Format("{kindergarten}"),
            Tr("Choose the group."),
            Tr("No free seats in this kindergarten any more.", when="no_items"),
            Column(
                pick_list("grp", "items", on_group),
            ),
            SwitchTo(Tr("Back"), id="back_kgs", state=ReferralSG.kindergartens),
            common.hint(),
            getter=groups_getter,
            state=ReferralSG.groups,
        ),
        Window(
            Tr("Get a referral for application №{number}"),
            Format("{confirm_text}"),
            Button(Tr("Get the referral"), id="confirm", on_click=on_confirm, when="available"),
            Button(
                Tr("Decline the offer"),
                id="decline_here",
                on_click=on_decline_here,
                when="can_decline",
            ),
            SwitchTo(Tr("Back"), id="back_groups", state=ReferralSG.kindergartens),
            common.hint(),
            getter=confirm_getter,
            state=ReferralSG.confirm,
        ),
        Window(
            Format("{issued_text}"),
            Cancel(Tr("Done")),
            common.hint(),
            getter=issued_getter,
            state=ReferralSG.issued,
        ),
        Window(
            Tr(
                "Decline this offer? Your application keeps its place in the queue, and the seats "
                "go "
                "to others."
            ),
            Row(
                Button(Tr("Yes, decline"), id="decline_yes", on_click=on_decline_offer),
                SwitchTo(Tr("No"), id="decline_no", state=ReferralSG.search),
            ),
            common.hint(),
            state=ReferralSG.decline_offer,
        ),
        on_start=on_start,
        on_process_result=on_process_result,
    )
