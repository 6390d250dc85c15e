"""Complaints and reports of corruption from the cabinet (INDIGO's "Онлайн-приемная и
обращения" and "Сообщить о коррупции").

The parent sees their complaints (status, deadline, the answer) and files a new one: category;
anonymous or not (a corruption report only); the kindergarten (a complaint about one: only the
family's own kindergartens are offered); what it is about (optional: one of their applications
or referrals); the text; an optional photo or PDF; a preview; Send. Every choice is re-checked
by the core (core.complaints.filing); a refusal keeps everything typed so far.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from aiogram.enums import ContentType
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _
from aiogram_dialog import Dialog, DialogManager, ShowMode
from aiogram_dialog.widgets.input import MessageInput
from aiogram_dialog.widgets.kbd import Button, Cancel, Column, Row, SwitchTo
from aiogram_dialog.widgets.text import Format

from bot.dialogs import common
from bot.dialogs.common import Tr, Window, pick_list
from bot.dialogs.states import ComplaintSG as S
from bot.texts.formats import esc, fmt_datetime
from bot.texts.labels import complaint_category, complaint_status
from bot.texts.reasons import error_text
from bot.texts.typed import clean_typed
from core.complaints import filing
from core.complaints.filing import Attachment
from core.models import ComplaintCategory
from core.platform.errors import DomainError

CATEGORIES = (
    ComplaintCategory.kindergarten,
    ComplaintCategory.department,
    ComplaintCategory.corruption,
)
PREVIEW = 700  # characters of the text repeated in the preview


def make_dialog() -> Dialog:
    return Dialog(
        Window(
            Tr("<b>Complaints and reports</b>"),
            Tr(
                "Here you can complain about a kindergarten or the education department, or "
                "report corruption. Each complaint gets a registration number and is answered "
                "within {days} working days; you will be told of every step here."
            ),
            Format("{rows}", when="rows"),
            Column(pick_list("mine", "mine", on_view)),
            SwitchTo(Tr("File a complaint"), id="new", state=S.category),
            Cancel(Tr("Back")),
            common.hint(),
            getter=mine_getter,
            state=S.mine,
        ),
        Window(
            Format("{card}"),
            SwitchTo(Tr("Back"), id="back_view", state=S.mine),
            common.hint(),
            getter=view_getter,
            state=S.view,
        ),
        Window(
            Tr("What is it about?"),
            Column(pick_list("cat", "categories", on_category)),
            SwitchTo(Tr("Back"), id="back_cat", state=S.mine),
            common.hint(),
            getter=categories_getter,
            state=S.category,
        ),
        Window(
            Tr(
                "You may report anonymously: the officer who handles the report does not see "
                "your name, phone or applications. The answer still comes to this chat."
            ),
            Row(
                Button(Tr("Anonymously"), id="anon_yes", on_click=on_anonymous),
                Button(Tr("With my name"), id="anon_no", on_click=on_anonymous),
            ),
            SwitchTo(Tr("Back"), id="back_anon", state=S.category),
            common.hint(),
            state=S.anonymous,
        ),
        Window(
            Tr("Which kindergarten is it about?"),
            Column(pick_list("kg", "kindergartens", on_kindergarten)),
            SwitchTo(Tr("Back"), id="back_kg", state=S.category),
            common.hint(),
            getter=kindergartens_getter,
            state=S.kindergarten,
        ),
        Window(
            Tr("Is it about one of your applications or referrals?"),
            Column(pick_list("subj", "subjects", on_subject)),
            Button(Tr("Not about a specific one"), id="no_subject", on_click=on_no_subject),
            SwitchTo(Tr("Back"), id="back_subj", state=S.category),
            common.hint(),
            getter=subjects_getter,
            state=S.subject,
        ),
        Window(
            Tr(
                "Describe what happened: where, when, who was involved. Up to {max} "
                "characters, in one message."
            ),
            Format("{kept}", when="kept"),
            SwitchTo(Tr("Back"), id="back_text", state=S.category),
            *common.text_input(on_text),
            getter=text_getter,
            state=S.text,
        ),
        Window(
            Tr(
                "If you have a photo or a PDF document that shows it, send it now (one file). "
                "Otherwise press Skip."
            ),
            MessageInput(on_file, content_types=[ContentType.PHOTO, ContentType.DOCUMENT]),
            MessageInput(on_not_a_file),
            Button(Tr("Skip"), id="skip_file", on_click=on_skip_file),
            SwitchTo(Tr("Back"), id="back_file", state=S.text),
            state=S.attachment,
        ),
        Window(
            Format("{preview}"),
            Tr("Send the complaint?"),
            Button(Tr("Send"), id="send", on_click=on_send),
            Row(
                SwitchTo(Tr("Change the text"), id="edit_text", state=S.text),
                SwitchTo(Tr("Change the file"), id="edit_file", state=S.attachment),
            ),
            Button(Tr("Cancel"), id="cancel", on_click=on_cancel),
            common.hint(),
            getter=preview_getter,
            state=S.confirm,
        ),
        Window(
            Format("{done}"),
            SwitchTo(Tr("My complaints"), id="to_mine", state=S.mine),
            Cancel(Tr("Back to the cabinet")),
            common.hint(),
            getter=done_getter,
            state=S.done,
        ),
    )


# --- the parent's complaints ------------------------------------------------------------------


async def mine_getter(dialog_manager: DialogManager, **kwargs: Any) -> dict[str, Any]:
    manager = dialog_manager
    settings = common.settings_of(manager)
    language = common.locale_of(manager)
    rows = await filing.complaints_of(common.applicant_id(manager))
    lines = [
        f"№{row.number} · {esc(complaint_category(str(row.category)))} — "
        f"{esc(complaint_status(str(row.status)))}"
        for row in rows
    ]
    return {
        "days": settings.complaint_answer_working_days,
        "rows": "\n".join(lines),
        "mine": [(row.id, f"№{row.number}") for row in rows],
        "language": language,
    }


async def on_view(
    callback: CallbackQuery, widget: object, manager: DialogManager, item_id: str
) -> None:
    manager.dialog_data["view_id"] = int(item_id)  # the window showed only the parent's own
    await manager.switch_to(S.view)


async def view_getter(dialog_manager: DialogManager, **kwargs: Any) -> dict[str, Any]:
    manager = dialog_manager
    settings = common.settings_of(manager)
    language = common.locale_of(manager)
    try:
        row = await filing.complaint_of(
            common.applicant_id(manager), int(manager.dialog_data["view_id"])
        )
    except DomainError as error:
        return {"card": esc(error_text(error))}
    lines = [
        f"<b>№{row.number}</b> · {esc(complaint_category(str(row.category)))}",
        _("Status: {status}").format(status=esc(complaint_status(str(row.status)))),
        _("Filed: {when}").format(when=fmt_datetime(row.created_at, settings.tz, language)),
    ]
    if row.answered_at is None:
        lines.append(
            _("Answer due by: {when}").format(
                when=fmt_datetime(row.deadline, settings.tz, language)
            )
        )
    if row.anonymous:
        lines.append(_("Sent anonymously."))
    lines += ["", f"<blockquote>{esc(row.text)}</blockquote>"]
    if row.answer:
        lines += [_("The answer:"), f"<blockquote>{esc(row.answer)}</blockquote>"]
    return {"card": "\n".join(lines)}


# --- filing -----------------------------------------------------------------------------------


async def categories_getter(dialog_manager: DialogManager, **kwargs: Any) -> dict[str, Any]:
    return {"categories": [(str(c), complaint_category(str(c))) for c in CATEGORIES]}


async def on_category(
    callback: CallbackQuery, widget: object, manager: DialogManager, item_id: str
) -> None:
    data = manager.dialog_data
    for key in ("anonymous", "kindergarten_id", "subject"):
        data.pop(key, None)
    data["category"] = item_id
    if item_id == ComplaintCategory.corruption:
        await manager.switch_to(S.anonymous)
    elif item_id == ComplaintCategory.kindergarten:
        if not await filing.kindergartens_of(common.applicant_id(manager)):
            await common.reply(
                callback,
                _(
                    "A complaint about a kindergarten is about one of the kindergartens of "
                    "your applications or referrals, and you have none yet. You can complain "
                    "about the education department instead."
                ),
            )
            manager.show_mode = ShowMode.SEND
            return
        await manager.switch_to(S.kindergarten)
    else:
        await _to_subject(manager)


async def on_anonymous(callback: CallbackQuery, widget: Button, manager: DialogManager) -> None:
    anonymous = widget.widget_id == "anon_yes"
    manager.dialog_data["anonymous"] = anonymous
    if anonymous:  # an application number would tell who reported
        await manager.switch_to(S.text)
    else:
        await _to_subject(manager)


async def _to_subject(manager: DialogManager) -> None:
    if await filing.subjects_of(common.applicant_id(manager)):
        await manager.switch_to(S.subject)
    else:
        await manager.switch_to(S.text)


async def kindergartens_getter(dialog_manager: DialogManager, **kwargs: Any) -> dict[str, Any]:
    found = await filing.kindergartens_of(common.applicant_id(dialog_manager))
    return {
        "kindergartens": [
            (k.id, common.localized(dialog_manager, k.name_ru, k.name_kk)) for k in found
        ]
    }


async def on_kindergarten(
    callback: CallbackQuery, widget: object, manager: DialogManager, item_id: str
) -> None:
    manager.dialog_data["kindergarten_id"] = int(item_id)
    await manager.switch_to(S.text)


async def subjects_getter(dialog_manager: DialogManager, **kwargs: Any) -> dict[str, Any]:
    subjects = await filing.subjects_of(common.applicant_id(dialog_manager))
    return {
        "subjects": [
            (
                f"{s.kind}-{s.id}",
                _("Referral №{number}").format(number=s.label_number)
                if s.kind == "referral"
                else _("Application №{number}").format(number=s.label_number),
            )
            for s in subjects[:8]
        ]
    }


async def on_subject(
    callback: CallbackQuery, widget: object, manager: DialogManager, item_id: str
) -> None:
    kind, _sep, subject_id = item_id.partition("-")
    manager.dialog_data["subject"] = [kind, int(subject_id)]
    await manager.switch_to(S.text)


async def on_no_subject(callback: CallbackQuery, widget: Button, manager: DialogManager) -> None:
    manager.dialog_data.pop("subject", None)
    await manager.switch_to(S.text)


async def text_getter(dialog_manager: DialogManager, **kwargs: Any) -> dict[str, Any]:
    kept = dialog_manager.dialog_data.get("text")
    return {
        "max": common.settings_of(dialog_manager).complaint_text_max,
        "kept": _("Your text so far is kept; send a new one to replace it.") if kept else "",
    }


async def on_text(message: Message, widget: MessageInput, manager: DialogManager) -> None:
    try:
        text = filing.check_text(clean_typed(message.text), common.settings_of(manager))
    except DomainError as error:
        await message.answer(error_text(error))
        manager.show_mode = ShowMode.SEND
        return
    manager.dialog_data["text"] = text
    target = S.confirm if "file" in manager.dialog_data else S.attachment
    await manager.switch_to(target, show_mode=ShowMode.SEND)


def _attachment_of(message: Message) -> Attachment | None:
    if message.photo:
        photo = message.photo[-1]
        return Attachment(photo.file_id, "image/jpeg", "", photo.file_size)
    if message.document is not None:
        document = message.document
        return Attachment(
            document.file_id,
            (document.mime_type or "").lower(),
            document.file_name or "",
            document.file_size,
        )
    return None


async def on_file(message: Message, widget: MessageInput, manager: DialogManager) -> None:
    attachment = _attachment_of(message)
    try:
        if attachment is None:
            raise DomainError("complaint_file_type")
        filing.check_attachment(attachment)
    except DomainError as error:
        await message.answer(error_text(error))
        manager.show_mode = ShowMode.SEND
        return
    manager.dialog_data["file"] = {
        "file_id": attachment.file_id,
        "mime_type": attachment.mime_type,
        "file_name": attachment.file_name,
        "size": attachment.size,
    }
    await manager.switch_to(S.confirm, show_mode=ShowMode.SEND)


async def on_not_a_file(message: Message, widget: MessageInput, manager: DialogManager) -> None:
    await message.answer(error_text(DomainError("complaint_file_type")))
    manager.show_mode = ShowMode.SEND


async def on_skip_file(callback: CallbackQuery, widget: Button, manager: DialogManager) -> None:
    manager.dialog_data["file"] = None
    await manager.switch_to(S.confirm)


async def preview_getter(dialog_manager: DialogManager, **kwargs: Any) -> dict[str, Any]:
    manager = dialog_manager
    data = manager.dialog_data
    lines = [
        _("<b>Your complaint</b>"),
        _("Category: {category}").format(
            category=esc(complaint_category(str(data.get("category"))))
        ),
    ]
    if data.get("anonymous"):
        lines.append(_("Sent anonymously."))
    if data.get("kindergarten_id"):
        for k in await filing.kindergartens_of(common.applicant_id(manager)):
            if k.id == data["kindergarten_id"]:
                name = common.localized(manager, k.name_ru, k.name_kk)
                lines.append(_("Kindergarten: {name}").format(name=esc(name)))
    subject = data.get("subject")
    if subject:
        for s in await filing.subjects_of(common.applicant_id(manager)):
            if [s.kind, s.id] == list(subject):
                lines.append(_("About: №{number}").format(number=esc(s.label_number)))
    text = str(data.get("text", ""))
    shown = text if len(text) <= PREVIEW else text[: PREVIEW - 1] + "…"
    lines += ["", f"<blockquote>{esc(shown)}</blockquote>"]
    lines.append(_("File: attached") if data.get("file") else _("File: none"))
    return {"preview": "\n".join(lines)}


async def on_send(callback: CallbackQuery, widget: Button, manager: DialogManager) -> None:
    data = manager.dialog_data
    file = data.get("file")
    subject = data.get("subject")
    try:
        complaint = await filing.file_complaint(
            common.applicant_of(manager),
            str(data.get("category")),
            str(data.get("text", "")),
            common.settings_of(manager),
            anonymous=bool(data.get("anonymous")),
            subject=(str(subject[0]), int(subject[1])) if subject else None,
            kindergarten_id=data.get("kindergarten_id"),
            attachment=Attachment(**file) if file else None,
        )
    except DomainError as error:
        await common.reply(callback, error_text(error))
        manager.show_mode = ShowMode.SEND
        return
    for key in ("text", "file", "subject", "kindergarten_id", "anonymous", "category"):
        data.pop(key, None)
    data["filed"] = {"number": complaint.number, "deadline": complaint.deadline.isoformat()}
    await manager.switch_to(S.done)


async def on_cancel(callback: CallbackQuery, widget: Button, manager: DialogManager) -> None:
    await common.reply(callback, _("The complaint is not sent."))
    await manager.done(show_mode=ShowMode.SEND)


async def done_getter(dialog_manager: DialogManager, **kwargs: Any) -> dict[str, Any]:
    manager = dialog_manager
    filed = manager.dialog_data.get("filed") or {}
    settings = common.settings_of(manager)
    language = common.locale_of(manager)
    deadline = filed.get("deadline")
    lines = [
        _("The complaint is registered."),
        _("Registration number: {number}").format(number=f"<b>№{filed.get('number')}</b>"),
    ]
    if deadline:
        due = fmt_datetime(datetime.fromisoformat(deadline), settings.tz, language)
        lines.append(_("Answer due by: {when}").format(when=due))
    return {"done": "\n".join(lines)}
