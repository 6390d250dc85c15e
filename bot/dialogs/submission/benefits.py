"""Step 3: one benefit (optional; the extraordinary ones need a document), and the PMPK
conclusion the correctional queue requires."""

from __future__ import annotations

from typing import Any

from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _
from aiogram_dialog import DialogManager
from aiogram_dialog.widgets.input import MessageInput
from aiogram_dialog.widgets.kbd import Button

from bot.dialogs.common import applicant_of
from bot.dialogs.states import SubmissionSG as S
from bot.dialogs.submission.replies import refuse
from bot.dialogs.submission.uploads import upload_of
from bot.texts.formats import esc
from bot.texts.labels import BENEFIT_NAMES, EXTRAORDINARY, FIRST_PRIORITY, benefit_name
from bot.texts.reasons import local_refusal, reason_text
from core.people import applicants


async def benefit_getter(dialog_manager: DialogManager, **kwargs: Any) -> dict[str, Any]:
    data = dialog_manager.dialog_data
    found = set(data.get("gov_benefits", []))
    docs = data.get("benefit_docs", {})
    selected = data.get("benefit")
    extraordinary = _("Extraordinary benefits (a document is needed):")
    first_priority = _("First-priority benefits (from state databases):")
    lines = [f"<b>{esc(extraordinary)}</b>"]
    for category in EXTRAORDINARY:
        status = _("document uploaded ✅") if str(category) in docs else _("not uploaded")
        mark = "🔘" if selected == category else "⚪"
        lines.append(f"{mark} {category}. {esc(benefit_name(category))} — <i>{esc(status)}</i>")
    lines += ["", f"<b>{esc(first_priority)}</b>"]
    for category in FIRST_PRIORITY:
        status = _("found ✅") if category in found else _("not found")
        mark = "🔘" if selected == category else "⚪"
        lines.append(f"{mark} {category}. {esc(benefit_name(category))} — <i>{esc(status)}</i>")
    selectable = [(str(c), f"{c}. {BENEFIT_NAMES[c]()}") for c in EXTRAORDINARY] + [
        (str(c), f"{c}. {BENEFIT_NAMES[c]()}") for c in FIRST_PRIORITY if c in found
    ]
    return {
        "benefits": "\n".join(lines),
        "selectable": selectable,
        "selected": benefit_name(selected),
    }


async def on_benefit_chosen(
    callback: CallbackQuery, widget: Any, manager: DialogManager, item_id: str
) -> None:
    category = int(item_id)
    manager.dialog_data["benefit"] = category
    if category in EXTRAORDINARY and str(category) not in manager.dialog_data.get(
        "benefit_docs", {}
    ):
        await manager.switch_to(S.benefit_upload)


async def on_no_benefit(callback: CallbackQuery, button: Button, manager: DialogManager) -> None:
    manager.dialog_data["benefit"] = None


async def benefit_upload_getter(dialog_manager: DialogManager, **kwargs: Any) -> dict[str, Any]:
    return {"benefit_name": benefit_name(dialog_manager.dialog_data.get("benefit"))}


async def on_benefit_document(
    message: Message, widget: MessageInput, manager: DialogManager
) -> None:
    upload = upload_of(message)
    if upload is None:
        await refuse(message, manager, local_refusal("document_expected"))
        return
    file_id, mime, name = upload
    document = await applicants.create_document(
        applicant_of(manager).id, "benefit", file_id, mime_type=mime, file_name=name
    )
    category = manager.dialog_data.get("benefit")
    manager.dialog_data.setdefault("benefit_docs", {})[str(category)] = document.id
    await manager.switch_to(S.benefit)


async def on_benefit_done(callback: CallbackQuery, button: Button, manager: DialogManager) -> None:
    data = manager.dialog_data
    category = data.get("benefit")
    if category in EXTRAORDINARY and str(category) not in data.get("benefit_docs", {}):
        await refuse(None, manager, reason_text("benefit_document_required"))
        return
    if data.get("queue_type") == "correctional":
        await manager.switch_to(S.pmpk_upload)
    else:
        await manager.switch_to(S.contacts)


async def pmpk_getter(dialog_manager: DialogManager, **kwargs: Any) -> dict[str, Any]:
    return {"uploaded": bool(dialog_manager.dialog_data.get("pmpk_document_id"))}


async def on_pmpk_document(message: Message, widget: MessageInput, manager: DialogManager) -> None:
    upload = upload_of(message)
    if upload is None:
        await refuse(message, manager, local_refusal("document_expected"))
        return
    file_id, mime, name = upload
    document = await applicants.create_document(
        applicant_of(manager).id, "pmpk", file_id, mime_type=mime, file_name=name
    )
    manager.dialog_data["pmpk_document_id"] = document.id


async def on_pmpk_done(callback: CallbackQuery, button: Button, manager: DialogManager) -> None:
    if not manager.dialog_data.get("pmpk_document_id"):
        await refuse(None, manager, reason_text("pmpk_required"))
        return
    await manager.switch_to(S.contacts)
