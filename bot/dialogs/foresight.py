"""Foresight (issue 17), opened from an application's card in the cabinet: why the place moved
(since the last look, the last notification, 30 days or 1 September), the chances and typical
wait per chosen kindergarten and for the city (with the method in one tap), and a chart."""

from __future__ import annotations

from typing import Any

from aiogram import Router
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import BufferedInputFile, CallbackQuery, Message
from aiogram.utils.callback_answer import CallbackAnswer
from aiogram.utils.i18n import gettext as _
from aiogram_dialog import Dialog, DialogManager, ShowMode, StartMode
from aiogram_dialog.widgets.kbd import Button, Cancel, Column, SwitchTo
from aiogram_dialog.widgets.text import Format

from bot.callbacks import WhyMoved
from bot.dialogs import common
from bot.dialogs.common import Tr, Window
from bot.texts.formats import esc, fmt_date
from bot.texts.labels import language_word
from bot.texts.reasons import error_text
from core.foresight import chart
from core.foresight.explain import Entered, Explanation, Left
from core.foresight.odds import Band, Forecast
from core.foresight.view import (
    Since,
    chances,
    city_chart,
    owned_application_id,
    position_chart,
    why_moved,
)
from core.platform.errors import DomainError


class ForesightSG(StatesGroup):
    moved = State()
    chances = State()
    method = State()


async def start_foresight(manager: DialogManager, application_id: int) -> None:
    await manager.start(ForesightSG.moved, data={"application_id": application_id})


def make_router() -> Router:
    """The "Why did it move?" button under a position_changed notification (outside any
    dialog), fresh for each Dispatcher."""
    router = Router(name=__name__)
    router.callback_query.register(why_moved_button, WhyMoved.filter())
    return router


async def why_moved_button(
    callback: CallbackQuery,
    callback_data: WhyMoved,
    callback_answer: CallbackAnswer,
    dialog_manager: DialogManager,
) -> None:
    """Opens the explanation of what the notification told (since the one before it)."""
    try:
        application_id = await owned_application_id(
            common.applicant_id(dialog_manager), callback_data.number
        )
    except DomainError as error:
        callback_answer.text = error_text(error)
        callback_answer.show_alert = True
        return
    await dialog_manager.start(
        ForesightSG.moved,
        data={"application_id": application_id, "since": str(Since.told)},
        mode=StartMode.RESET_STACK,
    )


def _application_id(manager: DialogManager) -> int:
    return int(common.start_data(manager)["application_id"])


# --- why the place moved --------------------------------------------------------------------


def explanation_lines(e: Explanation) -> list[str]:
    """The explanation's arithmetic in the reader's language (also used by the notification)."""
    if not e.entered and not e.left:
        return [
            _("Nobody entered or left ahead of you: the place is {place}.").format(place=e.after)
        ]
    lines = [_("Was: {before}. Now: {after}.").format(before=e.before, after=e.after)]
    entered = {
        Entered.extraordinary: _("extraordinary benefit: {n}"),
        Entered.interleave: _("first-priority interleave: {n}"),
        Entered.restored: _("restored from the stop-list: {n}"),
    }
    left = {
        Left.referral: _("took a referral: {n}"),
        Left.withdrawn: _("withdrawn: {n}"),
        Left.stop_listed: _("put on the stop-list: {n}"),
        Left.aged_out: _("aged out: {n}"),
        Left.behind: _("now behind you (benefit ended or interleave): {n}"),
    }
    lines.append(_("Entered ahead: {n}").format(n=e.entered_total))
    lines += [
        " • " + text.format(n=e.entered[k]) for k, text in entered.items() if e.entered.get(k)
    ]
    lines.append(_("Left ahead: {n}").format(n=e.left_total))
    lines += [" • " + text.format(n=e.left[k]) for k, text in left.items() if e.left.get(k)]
    lines.append(
        _("Check: {before} + {entered} − {left} = {after}").format(
            before=e.before, entered=e.entered_total, left=e.left_total, after=e.after
        )
    )
    return lines


async def moved_getter(dialog_manager: DialogManager, **kwargs: Any) -> dict[str, Any]:
    m = dialog_manager
    since = Since(m.dialog_data.get("since", common.start_data(m).get("since", Since.last)))
    moved = await why_moved(
        common.applicant_id(m),
        _application_id(m),
        since,
        common.settings_of(m),
        m.middleware_data["redis"],
    )
    m.dialog_data["number"] = moved.number
    at = moved.since_at.astimezone(common.tz_of(m)).date()
    lines = [
        _("Why the place of application №{number} changed").format(number=moved.number),
        _("Period start: {date}").format(date=fmt_date(at, common.locale_of(m))),
        *explanation_lines(moved.explanation),
    ]
    return {"text": "\n".join(lines)}


def _since(value: Since) -> Any:
    async def on_click(callback: CallbackQuery, widget: Any, manager: DialogManager) -> None:
        manager.dialog_data["since"] = str(value)

    return on_click


# --- chances and typical wait ---------------------------------------------------------------


def forecast_text(f: Forecast | None) -> str:
    if f is None:
        return _("not enough history yet (fewer than 10 referrals)")
    band = {
        Band.high: _("high chance of a referral by 1 September"),
        Band.medium: _("medium chance of a referral by 1 September"),
        Band.low: _("low chance of a referral by 1 September"),
    }[f.band]
    if f.wait_low is None:
        wait = _("typical wait: more than 3 years")
    elif f.wait_high == f.wait_low:
        wait = _("typical wait: about {months} months").format(months=f.wait_low)
    elif f.wait_high is None:
        wait = _("typical wait: {low} months or more").format(low=f.wait_low)
    else:
        wait = _("typical wait: {low}–{high} months").format(low=f.wait_low, high=f.wait_high)
    return f"{band}; {wait}"


async def chances_getter(dialog_manager: DialogManager, **kwargs: Any) -> dict[str, Any]:
    m = dialog_manager
    view = await chances(
        common.applicant_id(m),
        _application_id(m),
        common.settings_of(m),
        m.middleware_data["redis"],
    )
    lines = [_("Chances and typical wait (from past seasons)")]
    lines.append(
        _("City queue, place {place}: {forecast}").format(
            place=view.city_place, forecast=forecast_text(view.city)
        )
    )
    for c in view.choices:
        lines.append(
            _("{name} ({language}), place {place}: {forecast}").format(
                name=esc(common.localized(m, c.name_ru, c.name_kk)),
                language=language_word(c.language),
                place=c.place,
                forecast=forecast_text(c.forecast),
            )
        )
    return {"text": "\n".join(lines)}


def method_text() -> str:
    return _(
        "How it is computed: for every coming month we take the same month of a past season "
        "at random: how many referrals that queue gave and how many applications with a "
        "benefit entered ahead. Repeated 2,000 times, this gives the share of futures with a "
        "referral by 1 September (high: 70 % or more, medium: 30–70 %, low: under 30 %) and "
        "the middle half of the waits. With fewer than 10 past referrals nothing is shown. "
        "It is an estimate, not a promise."
    )


# --- the chart -----------------------------------------------------------------------------


def chart_labels(number: int) -> chart.Labels:
    return chart.Labels(
        title=_("Application №{number}: place over the last year").format(number=number),
        place=_("Place in the city queue"),
        queued=_("Applications in the cohort"),
        referrals=_("Referrals in the cohort per month"),
    )


async def on_chart(callback: CallbackQuery, widget: Any, manager: DialogManager) -> None:
    moved_number = manager.dialog_data.get("number")
    application_id = _application_id(manager)
    png = await position_chart(
        common.applicant_id(manager),
        application_id,
        common.settings_of(manager),
        chart_labels(int(moved_number or 0)),
    )
    if callback.message is None:
        raise LookupError("the pressed button has no message to answer")
    await callback.message.answer_photo(
        BufferedInputFile(png, filename=f"position-{application_id}.png"),
        caption=_("Your place over time and the referrals in your cohort"),
    )
    await manager.switch_to(ForesightSG.moved, show_mode=ShowMode.SEND)


async def send_city_chart(message: Message, city_id: int | None) -> None:
    """Staff /stats: the city's new applications and referrals per month, as a picture."""
    labels = chart.Labels(
        title=_("New applications and referrals per month"),
        place="",
        queued="",
        referrals=_("Referrals issued"),
        registered=_("New applications"),
    )
    png = await city_chart(city_id, labels)
    await message.answer_photo(BufferedInputFile(png, filename="city.png"), caption=labels.title)


def make_dialog() -> Dialog:
    return Dialog(
        Window(
            Format("{text}"),
            Column(
                Button(Tr("Since my last look"), id="fs_last", on_click=_since(Since.last)),
                Button(
                    Tr("Since the last notification"),
                    id="fs_notified",
                    on_click=_since(Since.notified),
                ),
                Button(Tr("Last 30 days"), id="fs_month", on_click=_since(Since.month)),
                Button(Tr("Since 1 September"), id="fs_season", on_click=_since(Since.season)),
                SwitchTo(
                    Tr("Chances and typical wait"), id="fs_chances", state=ForesightSG.chances
                ),
                Button(Tr("Chart of my place"), id="fs_chart", on_click=on_chart),
                Cancel(Tr("Back")),
            ),
            common.hint(),
            getter=moved_getter,
            state=ForesightSG.moved,
        ),
        Window(
            Format("{text}"),
            Column(
                SwitchTo(Tr("How is this computed?"), id="fs_method", state=ForesightSG.method),
                SwitchTo(Tr("Back"), id="fs_back1", state=ForesightSG.moved),
            ),
            common.hint(),
            getter=chances_getter,
            state=ForesightSG.chances,
        ),
        Window(
            Format("{text}"),
            SwitchTo(Tr("Back"), id="fs_back2", state=ForesightSG.chances),
            common.hint(),
            getter=method_getter,
            state=ForesightSG.method,
        ),
    )


async def method_getter(**kwargs: Any) -> dict[str, Any]:
    return {"text": method_text()}
