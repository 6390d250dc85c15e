"""Change when an application may get a referral, from its card in the cabinet: "immediately,
when a seat appears" or "from a date" (picked in the calendar). The core checks the date as at
submission, audits the change and tells the parent on their channel
(`core.applications.referral_mode.change_referral_mode`); the last window says what is set now.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from aiogram.types import CallbackQuery
from aiogram_dialog import ChatEvent, Dialog, DialogManager, ShowMode
from aiogram_dialog.widgets.kbd import Button, Cancel, ManagedCalendar, SwitchTo

from bot.dialogs import common
from bot.dialogs.common import Tr, Window
from bot.dialogs.states import ReferralModeSG as S
from bot.dialogs.submission.calendar import LocalCalendar
from bot.texts.labels import referral_mode_text
from bot.texts.reasons import error_text
from core.applications.referral_mode import change_referral_mode
from core.platform.errors import DomainError
from core.views import cabinet


async def on_start(start_data: Any, manager: DialogManager) -> None:
    manager.dialog_data["application_id"] = int((start_data or {})["application_id"])


async def mode_getter(dialog_manager: DialogManager, **kwargs: Any) -> dict[str, Any]:
    card = await cabinet.application_of(
        common.applicant_id(dialog_manager),
        dialog_manager.dialog_data["application_id"],
        common.settings_of(dialog_manager),
    )
    referral_from = card.referral_from.isoformat() if card.referral_from else None
    return {
        "number": card.number,
        "mode": referral_mode_text(
            "from_date" if referral_from else "immediately",
            referral_from,
            common.locale_of(dialog_manager),
        ),
    }


async def on_immediately(callback: CallbackQuery, button: Button, manager: DialogManager) -> None:
    await _change(callback, manager, "immediately", None)


async def on_date(
    event: ChatEvent, widget: ManagedCalendar, manager: DialogManager, day: date
) -> None:
    await _change(event, manager, "from_date", day)


async def _change(event: ChatEvent, manager: DialogManager, mode: str, day: date | None) -> None:
    applicant = common.applicant_id(manager)
    try:
        await change_referral_mode(
            manager.dialog_data["application_id"],
            applicant,
            mode,
            day,
            settings=common.settings_of(manager),
            actor=f"applicant:{applicant}",
        )
    except DomainError as error:
        if isinstance(event, CallbackQuery):
            await common.reply(event, error_text(error))
        manager.show_mode = ShowMode.SEND
        return
    await manager.switch_to(S.done)


def make_dialog() -> Dialog:
    """The referral-mode conversation, fresh for each Dispatcher."""
    return Dialog(
        Window(
            Tr("Application №{number}"),
            Tr("\nWhen should the referral be issued?\nNow: {mode}"),
            Button(Tr("Immediately, when a seat appears"), id="rm_now", on_click=on_immediately),
            SwitchTo(Tr("📅 From a date"), id="rm_date", state=S.date),
            Cancel(Tr("Back")),
            common.hint(),
            getter=mode_getter,
            state=S.choose,
        ),
        Window(
            Tr(
                "\nChoose the date from which the child may get a referral. The application keeps "
                "its place, but no seat is offered before that date."
            ),
            LocalCalendar(id="rm_calendar", on_click=on_date, tz_of=common.tz_of),
            SwitchTo(Tr("Back"), id="rm_back", state=S.choose),
            common.hint(),
            state=S.date,
        ),
        Window(
            Tr("Application №{number}"),
            Tr("Saved. The referral is issued: {mode}"),
            Tr("Your application keeps its place in the queue."),
            Cancel(Tr("Done")),
            common.hint(),
            getter=mode_getter,
            state=S.done,
        ),
        on_start=on_start,
    )
