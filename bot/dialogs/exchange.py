"""Обмен местами: a parent whose child attends (or holds a referral to) a kindergarten names the
kindergartens they would move to; during the campaign the exchange is found, offered, and the
parent confirms or refuses it here. Opened by /exchange and from the cabinet.
"""

from __future__ import annotations

from typing import Any

from aiogram.types import CallbackQuery
from aiogram.utils.i18n import gettext as _
from aiogram_dialog import Dialog, DialogManager
from aiogram_dialog.widgets.kbd import Button, Cancel, Column, SwitchTo
from aiogram_dialog.widgets.text import Format

from bot.dialogs import common
from bot.dialogs.common import Tr, Window, pick_list
from bot.dialogs.states import ExchangeSG
from bot.texts.formats import esc, fmt_datetime
from bot.texts.labels import group_label
from bot.texts.reasons import error_text
from core.exchange import cycles, requests
from core.exchange.places import Holding, holdings_of, matching_kindergartens
from core.exchange.views import parent_view
from core.models import RequestStatus
from core.notifications.kinds import Place
from core.platform.errors import DomainError
from core.platform.settings import get_settings

# A request in one of these is over: the parent may file a new one.
FINISHED = (RequestStatus.dropped, RequestStatus.exchanged, RequestStatus.unmatched)

# --- the child's places ---------------------------------------------------------------------


async def on_start(start_data: Any, manager: DialogManager) -> None:
    """One child with a place: straight to it."""
    if manager.current_context().state != ExchangeSG.places:
        return
    holdings = await holdings_of(common.applicant_id(manager))
    if len(holdings) == 1:
        manager.dialog_data["referral_id"] = holdings[0].referral.id
        await manager.switch_to(ExchangeSG.place)


async def places_getter(dialog_manager: DialogManager, **kwargs: Any) -> dict[str, Any]:
    holdings = await holdings_of(common.applicant_id(dialog_manager))
    items = [
        (str(h.referral.id), f"#{h.application.number}: {_holding_name(dialog_manager, h)}")
        for h in holdings
    ]
    return {"items": items, "none": not items, "some": bool(items)}


async def on_place(callback: CallbackQuery, widget: Any, manager: DialogManager, item: str) -> None:
    manager.dialog_data["referral_id"] = int(item)
    await manager.switch_to(ExchangeSG.place)


# --- one place: its request and the offer ----------------------------------------------------


async def place_getter(dialog_manager: DialogManager, **kwargs: Any) -> dict[str, Any]:
    holding = await _holding(dialog_manager)
    if holding is None:
        return {"place": "", "state": _("The child no longer holds this place."), **_no_actions()}
    view = await parent_view(holding)
    request = view.request
    lines: list[str] = []
    if request is None or request.status in FINISHED:
        state = _("No exchange request.") if request is None else _request_status(request.status)
    else:
        state = _request_status(request.status)
        names = [common.localized(dialog_manager, k.name_ru, k.name_kk) for k in view.wanted]
        lines.append(_("Kindergartens you would move to:") + "\n" + common.numbered(names))
    if view.offer_place is not None:
        lines.append(_("Offered place:") + "\n" + _place_name(dialog_manager, view.offer_place))
        if view.deadline is not None:
            when = fmt_datetime(view.deadline, get_settings().tz, common.locale_of(dialog_manager))
            lines.append(_("Confirm by: {when}").format(when=when))
    closed = request is None or request.status in FINISHED
    return {
        "place": esc(_holding_name(dialog_manager, holding)),
        "state": esc(state),
        "details": esc("\n\n".join(lines)),
        "can_request": closed,
        "can_withdraw": request is not None and request.status == RequestStatus.waiting,
        "can_answer": view.offer is not None,
    }


async def on_confirm_offer(callback: CallbackQuery, widget: Any, manager: DialogManager) -> None:
    await _answer(callback, manager, confirm=True)


async def on_refuse_offer(callback: CallbackQuery, widget: Any, manager: DialogManager) -> None:
    await _answer(callback, manager, confirm=False)


async def on_withdraw(callback: CallbackQuery, widget: Any, manager: DialogManager) -> None:
    holding = await _holding(manager)
    request = await requests.open_request_of(holding.referral.id) if holding else None
    try:
        if request is None:
            raise DomainError("exchange_wrong_step")
        await requests.withdraw_request(common.applicant_id(manager), request.id)
    except DomainError as error:
        await common.reply(callback, error_text(error))
        return
    await common.reply(callback, _("The exchange request is withdrawn."))


# --- the kindergartens wanted ---------------------------------------------------------------


async def on_new_request(callback: CallbackQuery, widget: Any, manager: DialogManager) -> None:
    manager.dialog_data["chosen"] = []
    await manager.switch_to(ExchangeSG.kindergartens)


async def kindergartens_getter(dialog_manager: DialogManager, **kwargs: Any) -> dict[str, Any]:
    holding = await _holding(dialog_manager)
    chosen: list[int] = dialog_manager.dialog_data.get("chosen", [])
    options = await matching_kindergartens(holding, holding.group.language) if holding else []
    names = {k.id: common.localized(dialog_manager, k.name_ru, k.name_kk) for k in options}
    most = get_settings().max_kindergartens
    items = [(str(i), names[i]) for i in names if i not in chosen] if len(chosen) < most else []
    return {
        "items": items,
        "most": most,
        "chosen": esc(common.numbered([names[i] for i in chosen if i in names])) or "—",
        "any_chosen": bool(chosen),
        "nothing": not options,
    }


async def on_kindergarten(
    callback: CallbackQuery, widget: Any, manager: DialogManager, item: str
) -> None:
    chosen: list[int] = manager.dialog_data.setdefault("chosen", [])
    if int(item) not in chosen:
        chosen.append(int(item))


async def on_clear(callback: CallbackQuery, widget: Any, manager: DialogManager) -> None:
    manager.dialog_data["chosen"] = []


async def confirm_getter(dialog_manager: DialogManager, **kwargs: Any) -> dict[str, Any]:
    data = await kindergartens_getter(dialog_manager)
    holding = await _holding(dialog_manager)
    return {
        "chosen": data["chosen"],
        "place": esc(_holding_name(dialog_manager, holding)) if holding else "",
    }


async def on_send(callback: CallbackQuery, widget: Any, manager: DialogManager) -> None:
    """File the request; a refusal keeps the choices so nothing is lost."""
    try:
        await requests.file_request(
            common.applicant_id(manager),
            int(manager.dialog_data["referral_id"]),
            list(manager.dialog_data.get("chosen", [])),
            settings=get_settings(),
        )
    except DomainError as error:
        await common.reply(callback, error_text(error))
        return
    manager.dialog_data["chosen"] = []
    await manager.switch_to(ExchangeSG.place)


# --- the windows ----------------------------------------------------------------------------


def make_dialog() -> Dialog:
    return Dialog(
        Window(
            Tr("Exchange of places"),
            Tr(
                "An exchange is possible for a child who attends a kindergarten or holds a "
                "referral to one. Choose the child's place.",
                when="some",
            ),
            Tr(
                "None of your children attends a kindergarten or holds a referral, so there "
                "is no place to exchange.",
                when="none",
            ),
            Column(pick_list("xc_place", "items", on_place)),
            Cancel(Tr("Back")),
            state=ExchangeSG.places,
            getter=places_getter,
        ),
        Window(
            Tr("Exchange of places"),
            Format("{place}"),
            Format("{state}"),
            Format("{details}"),
            Column(
                Button(
                    Tr("Confirm the exchange"),
                    id="xc_yes",
                    on_click=on_confirm_offer,
                    when="can_answer",
                ),
                Button(
                    Tr("Refuse the exchange"),
                    id="xc_no",
                    on_click=on_refuse_offer,
                    when="can_answer",
                ),
                Button(
                    Tr("Request an exchange"),
                    id="xc_new",
                    on_click=on_new_request,
                    when="can_request",
                ),
                Button(
                    Tr("Withdraw the request"),
                    id="xc_withdraw",
                    on_click=on_withdraw,
                    when="can_withdraw",
                ),
                Cancel(Tr("Back")),
            ),
            state=ExchangeSG.place,
            getter=place_getter,
        ),
        Window(
            Tr(
                "Choose the kindergartens you would move to, the most wanted first (up to "
                "{most}). Only kindergartens with a group for your child's birth year and "
                "language are listed."
            ),
            Tr("Chosen:"),
            Format("{chosen}"),
            Tr("No other kindergarten has a group for your child.", when="nothing"),
            Column(pick_list("xc_kg", "items", on_kindergarten)),
            SwitchTo(Tr("Next"), id="xc_next", state=ExchangeSG.confirm, when="any_chosen"),
            Button(Tr("Clear the choice"), id="xc_clear", on_click=on_clear, when="any_chosen"),
            SwitchTo(Tr("Back"), id="xc_back_kg", state=ExchangeSG.place),
            state=ExchangeSG.kindergartens,
            getter=kindergartens_getter,
        ),
        Window(
            Tr("Check the exchange request."),
            Tr("Current place:"),
            Format("{place}"),
            Tr("Kindergartens you would move to:"),
            Format("{chosen}"),
            Tr(
                "The exchange is found among all requests of the campaign; you will be asked to "
                "confirm it, and it happens only when every family in it confirms."
            ),
            Button(Tr("Send the request"), id="xc_send", on_click=on_send),
            SwitchTo(Tr("Back"), id="xc_back_confirm", state=ExchangeSG.kindergartens),
            state=ExchangeSG.confirm,
            getter=confirm_getter,
        ),
        on_start=on_start,
    )


# --- helpers --------------------------------------------------------------------------------


async def _holding(manager: DialogManager) -> Holding | None:
    referral_id = manager.dialog_data.get("referral_id")
    if referral_id is None:
        return None
    for holding in await holdings_of(common.applicant_id(manager)):
        if holding.referral.id == int(referral_id):
            return holding
    return None


async def _answer(callback: CallbackQuery, manager: DialogManager, *, confirm: bool) -> None:
    holding = await _holding(manager)
    view = await parent_view(holding) if holding else None
    try:
        if view is None or view.offer is None:
            raise DomainError("exchange_not_offered")
        await cycles.answer(
            common.applicant_id(manager), view.offer.id, confirm=confirm, settings=get_settings()
        )
    except DomainError as error:
        await common.reply(callback, error_text(error))
        return
    if not confirm:
        await common.reply(callback, _("You refused the exchange. The child keeps the place."))


def _holding_name(manager: DialogManager, holding: Holding) -> str:
    kindergarten = common.localized(
        manager, holding.kindergarten.name_ru, holding.kindergarten.name_kk
    )
    group = holding.group
    label = group_label(group.name, group.birth_year, str(group.language), str(group.kind))
    return f"{kindergarten}, {label}"


def _place_name(manager: DialogManager, place: Place) -> str:
    kindergarten = common.localized(manager, place.kindergarten_ru, place.kindergarten_kk)
    group = group_label(place.group, place.group_birth_year, place.language, place.group_kind)
    return f"{kindergarten}, {group}"


def _request_status(status: RequestStatus) -> str:
    return {
        RequestStatus.waiting: _("The request waits for the exchange campaign to find places."),
        RequestStatus.in_cycle: _("An exchange is found and waits for the families' answers."),
        RequestStatus.exchanged: _("The exchange is done."),
        RequestStatus.dropped: _("The last exchange did not happen; you may request again."),
        RequestStatus.withdrawn: _("The request is withdrawn."),
        RequestStatus.unmatched: _(
            "The last campaign ended without an exchange for this place; you may request again."
        ),
    }[status]


def _no_actions() -> dict[str, Any]:
    return {"details": "", "can_request": False, "can_withdraw": False, "can_answer": False}
