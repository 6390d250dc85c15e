"""Add, change or remove the benefit of an application later, from its card in the cabinet (the
statement promises: "её можно указать и позже в Личном кабинете").

The choice offers the extraordinary benefits (a certificate upload follows; staff confirm it)
and the first-priority ones the registry confirmed for this family; the core re-derives it all
(`core.applications.benefits.change_benefit`) and the last window tells the parent the outcome.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from aiogram.enums import ContentType
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _
from aiogram_dialog import Dialog, DialogManager, ShowMode
from aiogram_dialog.widgets.input import MessageInput
from aiogram_dialog.widgets.kbd import Button, Cancel, Column, SwitchTo
from aiogram_dialog.widgets.text import Format

from bot.dialogs import common
from bot.dialogs.common import Tr, Window, pick_list
from bot.dialogs.states import BenefitChangeSG as S
from bot.dialogs.submission.uploads import upload_of
from bot.texts.formats import esc, fmt_date
from bot.texts.labels import EXTRAORDINARY, FIRST_PRIORITY, benefit_name
from bot.texts.reasons import error_text, local_refusal
from core.applications import benefits
from core.models.enums import BenefitStatus
from core.people import applicants
from core.platform.errors import DomainError

# --- start: the application and what it may take ------------------------------------------


async def on_start(start_data: Any, manager: DialogManager) -> None:
    manager.dialog_data["application_id"] = int((start_data or {})["application_id"])
    await _load(manager)


async def _load(manager: DialogManager) -> None:
    """The options, read once per start: the registry look-up is not repeated on each render."""
    options = await benefits.benefit_options(
        manager.dialog_data["application_id"],
        common.applicant_id(manager),
        common.settings_of(manager),
        manager.middleware_data.get("gov"),
    )
    manager.dialog_data.update(
        number=options.number,
        current=options.category,
        status=str(options.status),
        confirmed=options.confirmed,
        changeable=options.changeable,
    )


async def choose_getter(dialog_manager: DialogManager, **kwargs: Any) -> dict[str, Any]:
    data = dialog_manager.dialog_data
    confirmed = set(data.get("confirmed", []))
    current = data.get("current")
    lines = [_("Application №{number}").format(number=data["number"])]
    lines.append(
        _("Current benefit: {benefit}").format(
            benefit=esc(benefit_name(current)) if current else _("None")
        )
    )
    lines += ["", "<b>" + esc(_("Extraordinary benefits (a document is needed):")) + "</b>"]
    lines += [f"{c}. {esc(benefit_name(c))}" for c in EXTRAORDINARY]
    lines += ["", "<b>" + esc(_("First-priority benefits (from state databases):")) + "</b>"]
    for category in FIRST_PRIORITY:
        status = _("found ✅") if category in confirmed else _("not found")
        lines.append(f"{category}. {esc(benefit_name(category))} — <i>{esc(status)}</i>")
    selectable = [(str(c), f"{c}. {benefit_name(c)}") for c in EXTRAORDINARY] + [
        (str(c), f"{c}. {benefit_name(c)}") for c in FIRST_PRIORITY if c in confirmed
    ]
    changeable = bool(data.get("changeable"))
    return {
        "benefits": "\n".join(lines),
        "selectable": selectable if changeable else [],
        "changeable": changeable,
        "locked": not changeable,
        "can_remove": changeable and current is not None,
        "days": common.settings_of(dialog_manager).benefit_certificate_valid_days,
    }


async def on_benefit_chosen(
    callback: CallbackQuery, widget: Any, manager: DialogManager, item_id: str
) -> None:
    category = int(item_id)  # the core refuses anything it would not offer
    manager.dialog_data["chosen"] = category
    if category in EXTRAORDINARY:
        await manager.switch_to(S.upload)
        return
    await _change(callback, manager, category, None)


async def on_remove(callback: CallbackQuery, button: Button, manager: DialogManager) -> None:
    manager.dialog_data["chosen"] = None
    await _change(callback, manager, None, None)


# --- the certificate of an extraordinary benefit ------------------------------------------


async def upload_getter(dialog_manager: DialogManager, **kwargs: Any) -> dict[str, Any]:
    return {"benefit_name": benefit_name(dialog_manager.dialog_data.get("chosen"))}


async def on_certificate(message: Message, widget: MessageInput, manager: DialogManager) -> None:
    upload = upload_of(message)
    if upload is None:
        await message.answer(local_refusal("document_expected"))
        manager.show_mode = ShowMode.SEND
        return
    file_id, mime, name = upload
    document = await applicants.create_document(
        common.applicant_id(manager), "benefit", file_id, mime_type=mime, file_name=name
    )
    await _change(message, manager, manager.dialog_data.get("chosen"), document.id)


async def on_not_a_document(message: Message, widget: Any, manager: DialogManager) -> None:
    await message.answer(local_refusal("document_expected"))
    manager.show_mode = ShowMode.SEND


# --- the change and its outcome -----------------------------------------------------------


async def _change(
    event: CallbackQuery | Message,
    manager: DialogManager,
    category: int | None,
    document_id: int | None,
) -> None:
    applicant = common.applicant_id(manager)
    try:
        application = await benefits.change_benefit(
            manager.dialog_data["application_id"],
            applicant,
            category,
            document_id,
            settings=common.settings_of(manager),
            actor=f"applicant:{applicant}",
            gov=manager.middleware_data.get("gov"),
        )
    except DomainError as error:
        if isinstance(event, CallbackQuery):
            await common.reply(event, error_text(error))
        else:
            await event.answer(error_text(error))
        manager.show_mode = ShowMode.SEND
        return
    manager.dialog_data.update(
        outcome=str(application.benefit_status),
        outcome_category=application.benefit_category,
        valid_until=(
            application.benefit_valid_until.isoformat()
            if application.benefit_valid_until is not None
            else None
        ),
    )
    await manager.switch_to(S.done, show_mode=ShowMode.SEND)


async def done_getter(dialog_manager: DialogManager, **kwargs: Any) -> dict[str, Any]:
    data = dialog_manager.dialog_data
    number, category = data["number"], data.get("outcome_category")
    outcome = data.get("outcome")
    if category is None:
        text = _(
            "The benefit of application №{number} is removed. The application stays in the "
            "general queue at its original time."
        ).format(number=number)
    elif outcome == BenefitStatus.confirmed:
        text = _(
            "The benefit «{benefit}» is confirmed by the state registry. Application №{number} "
            "is now in the first-priority queue at its original time."
        ).format(benefit=esc(benefit_name(category)), number=number)
    else:
        text = _(
            "The benefit «{benefit}» of application №{number} is waiting for confirmation by "
            "the education department. Until then the application stands in the "
            "extraordinary queue; if the certificate is not confirmed while it is valid, the "
            "benefit is removed."
        ).format(benefit=esc(benefit_name(category)), number=number)
        if data.get("valid_until"):
            day = date.fromisoformat(data["valid_until"])
            text += "\n" + _("Certificate valid until: {date}").format(
                date=fmt_date(day, common.locale_of(dialog_manager))
            )
    return {"outcome_text": text}


def make_dialog() -> Dialog:
    """The benefit conversation, fresh for each Dispatcher."""
    return Dialog(
        Window(
            Tr("<b>Benefit</b>"),
            Tr(
                "A benefit gives a priority position in the queue. You can choose only one "
                "benefit. First-priority benefits are confirmed by state databases; an "
                "extraordinary one needs a certificate (valid {days} days from upload) that "
                "the education department confirms.",
                when="changeable",
            ),
            Tr(
                "The benefit of this application cannot be changed now (it is archived or has "
                "a referral).",
                when="locked",
            ),
            Format("{benefits}"),
            Column(pick_list("benefit_change", "selectable", on_benefit_chosen)),
            Button(
                Tr("Remove the benefit"), id="benefit_remove", on_click=on_remove, when="can_remove"
            ),
            Cancel(Tr("Back")),
            common.hint(),
            getter=choose_getter,
            state=S.choose,
        ),
        Window(
            Tr(
                "Upload the document confirming the benefit «{benefit_name}»: a photo or a PDF. "
                "The certificate counts from the day you upload it."
            ),
            MessageInput(on_certificate, content_types=[ContentType.PHOTO, ContentType.DOCUMENT]),
            MessageInput(on_not_a_document),
            SwitchTo(Tr("Back"), id="upload_back", state=S.choose),
            getter=upload_getter,
            state=S.upload,
        ),
        Window(
            Format("{outcome_text}"),
            Cancel(Tr("Back to the application")),
            common.hint(),
            getter=done_getter,
            state=S.done,
        ),
        on_start=on_start,
    )
