"""/exchanges: the exchange-of-places campaign of the staff member's city. Staff open it with
its dates, find the exchanges among the requests, see the proposed cycles, send the offers to
the families, and close it. Operators and superadmins only (a campaign is city-wide)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from aiogram import Router
from aiogram.filters import Command
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _
from aiogram_dialog import Dialog, DialogManager, StartMode
from aiogram_dialog.widgets.kbd import Button, Cancel, Column, SwitchTo
from aiogram_dialog.widgets.text import Format

from bot.dialogs import common
from bot.dialogs.common import Tr, Window
from bot.staff.context import staff_of
from bot.staff.inputs import typed_text
from bot.staff.states import ExchangeStaffSG
from bot.texts.formats import esc, fmt_date
from bot.texts.labels import group_label
from bot.texts.reasons import error_text
from core.exchange import campaigns, cycles
from core.exchange.views import CycleView, campaign_view
from core.models import StaffMember, StaffRole
from core.notifications.kinds import Place
from core.people import staff as staff_service
from core.platform.errors import DomainError
from core.platform.settings import get_settings


def make_router() -> Router:
    router = Router(name="staff.exchange")
    router.message.register(exchange_start, Command("exchanges"))
    return router


async def exchange_start(
    message: Message, staff: StaffMember, dialog_manager: DialogManager
) -> None:
    if staff.role == StaffRole.kindergarten_admin:
        await message.answer(_("Exchange campaigns are run by the education department."))
        return
    await dialog_manager.start(ExchangeStaffSG.main, mode=StartMode.RESET_STACK)


# --- the campaign at a glance -----------------------------------------------------------------


async def main_getter(dialog_manager: DialogManager, **kwargs: Any) -> dict[str, Any]:
    language = common.locale_of(dialog_manager)
    city_id = await campaigns.staff_city(staff_of(dialog_manager))
    view = await campaign_view(city_id)
    campaign = view.campaign
    if campaign is None:
        return {"summary": esc(_("No exchange campaign is open.")), "cycles": "", **_buttons()}
    summary = _("Exchange campaign: {start} – {end}").format(
        start=fmt_date(campaign.starts_on, language), end=fmt_date(campaign.ends_on, language)
    )
    summary += "\n" + _("Requests: {total} (waiting {waiting}, in cycles {in_cycle})").format(
        total=sum(view.requests.values()),
        waiting=view.requests.get("waiting", 0),
        in_cycle=view.requests.get("in_cycle", 0),
    )
    summary += "\n" + _("Exchanges done: {done}").format(done=view.requests.get("exchanged", 0))
    shown = [c for c in view.cycles if c.status in ("proposed", "offered")]
    lines = [_cycle_text(dialog_manager, c) for c in shown]
    proposed = any(c.status == "proposed" for c in view.cycles)
    return {
        "summary": esc(summary),
        "cycles": "\n\n".join(lines) or esc(_("No cycles proposed.")),
        "can_open": False,
        "can_find": True,
        "can_offer": proposed,
        "can_close": True,
    }


async def on_find(callback: CallbackQuery, widget: Any, manager: DialogManager) -> None:
    staff = staff_of(manager)
    campaign = await campaigns.current_campaign(await campaigns.staff_city(staff))
    try:
        if campaign is None:
            raise DomainError("exchange_no_campaign")
        found = await cycles.find_cycles(campaign, actor=staff_service.actor(staff))
    except DomainError as error:
        await common.reply(callback, error_text(error))
        return
    await common.reply(
        callback,
        _("Cycles found: {count}. Check them, then send the offers to the families.").format(
            count=len(found)
        ),
    )


async def on_offer(callback: CallbackQuery, widget: Any, manager: DialogManager) -> None:
    staff = staff_of(manager)
    campaign = await campaigns.current_campaign(await campaigns.staff_city(staff))
    try:
        if campaign is None:
            raise DomainError("exchange_no_campaign")
        sent = await cycles.send_offers(
            campaign, actor=staff_service.actor(staff), settings=get_settings()
        )
    except DomainError as error:
        await common.reply(callback, error_text(error))
        return
    await common.reply(
        callback,
        _("Offers sent for {count} cycles; every family is asked to confirm.").format(count=sent),
    )
    await manager.switch_to(ExchangeStaffSG.main)


async def on_close(callback: CallbackQuery, widget: Any, manager: DialogManager) -> None:
    staff = staff_of(manager)
    campaign = await campaigns.current_campaign(await campaigns.staff_city(staff))
    told = 0
    if campaign is not None:
        told = await campaigns.close_campaign(campaign, actor=staff_service.actor(staff))
    await common.reply(
        callback,
        _(
            "The exchange campaign is closed. Families told that no exchange was found: {count}."
        ).format(count=told),
    )
    await manager.switch_to(ExchangeStaffSG.main)


# --- opening a campaign: its dates ------------------------------------------------------------


async def on_dates(message: Message, widget: Any, manager: DialogManager) -> None:
    """ "01.12.2026 15.12.2026": the first and the last day requests are taken."""
    parts = (message.text or "").replace("-", " ").replace("–", " ").split()
    try:
        start, end = (datetime.strptime(p, "%d.%m.%Y").date() for p in parts)
    except ValueError:
        await message.answer(_("Type two dates as DD.MM.YYYY DD.MM.YYYY."))
        return
    await _open(message, manager, start, end)


async def _open(message: Message, manager: DialogManager, start: date, end: date) -> None:
    staff = staff_of(manager)
    try:
        await campaigns.open_campaign(
            staff, start, end, actor=staff_service.actor(staff), settings=get_settings()
        )
    except DomainError as error:
        await message.answer(error_text(error))
        return
    await message.answer(_("The exchange campaign is open; parents may send requests."))
    await manager.switch_to(ExchangeStaffSG.main)


def make_dialog() -> Dialog:
    return Dialog(
        Window(
            Format("{summary}"),
            Format("{cycles}"),
            Column(
                SwitchTo(
                    Tr("Open a campaign"),
                    id="xs_open",
                    state=ExchangeStaffSG.dates,
                    when="can_open",
                ),
                Button(Tr("Find exchanges"), id="xs_find", on_click=on_find, when="can_find"),
                SwitchTo(
                    Tr("Send the offers"),
                    id="xs_offer",
                    state=ExchangeStaffSG.confirm_offers,
                    when="can_offer",
                ),
                Button(
                    Tr("Close the campaign"), id="xs_close", on_click=on_close, when="can_close"
                ),
                Cancel(Tr("Done")),
            ),
            state=ExchangeStaffSG.main,
            getter=main_getter,
        ),
        Window(
            Tr(
                "Type the first and the last day of the campaign, e.g. 01.12.2026 15.12.2026. "
                "Parents send requests on these days."
            ),
            *typed_text(on_dates),
            SwitchTo(Tr("Back"), id="xs_back_dates", state=ExchangeStaffSG.main),
            state=ExchangeStaffSG.dates,
        ),
        Window(
            Tr(
                "Send the offers of all proposed cycles? Every family in them is asked to "
                "confirm; a cycle happens only when all its families confirm."
            ),
            Button(Tr("Send"), id="xs_offer_yes", on_click=on_offer),
            SwitchTo(Tr("Back"), id="xs_back_offer", state=ExchangeStaffSG.main),
            state=ExchangeStaffSG.confirm_offers,
        ),
    )


# --- helpers ----------------------------------------------------------------------------------


def _buttons() -> dict[str, Any]:
    return {"can_open": True, "can_find": False, "can_offer": False, "can_close": False}


def _cycle_text(manager: DialogManager, cycle: CycleView) -> str:
    status = {"proposed": _("proposed, not offered yet"), "offered": _("offered")}.get(
        cycle.status, cycle.status
    )
    title = _("Cycle #{id}: {status}").format(id=cycle.id, status=status)
    lines = [f"<b>{esc(title)}</b>"]
    answers = {
        "pending": _("no answer yet"),
        "confirmed": _("confirmed"),
        "refused": _("refused"),
        "lapsed": _("no answer in time"),
    }
    for move in cycle.moves:
        lines.append(
            esc(
                _("#{number}: {from_place} → {to_place} ({answer})").format(
                    number=move.application_number,
                    from_place=_place(manager, move.from_place),
                    to_place=_place(manager, move.to_place),
                    answer=answers.get(move.answer, move.answer),
                )
            )
        )
    return "\n".join(lines)


def _place(manager: DialogManager, place: Place) -> str:
    kindergarten = common.localized(manager, place.kindergarten_ru, place.kindergarten_kk)
    group = group_label(place.group, place.group_birth_year, place.language, place.group_kind)
    return f"{kindergarten} ({group})"
