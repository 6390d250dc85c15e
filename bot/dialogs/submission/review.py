"""Step 4: how to notify the parent, the statement for review (as in the source documents:
"ЗАЯВЛЕНИЕ"), Submit, and the number and position."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from aiogram.types import CallbackQuery
from aiogram.utils.i18n import gettext as _
from aiogram_dialog import DialogManager
from aiogram_dialog.widgets.kbd import Button

from bot.dialogs.common import applicant_of, locale_of, radio_of, settings_of, today_of
from bot.dialogs.states import SubmissionSG as S
from bot.dialogs.submission import places
from bot.dialogs.submission.data import birth_text, birth_year, choices, chosen_child, the_child
from bot.dialogs.submission.replies import refuse
from bot.texts.formats import esc, fmt_datetime, phone_text
from bot.texts.labels import (
    benefit_name,
    language_word,
    queue_label,
    queue_type_name,
    referral_mode_text,
)
from bot.texts.reasons import error_text, local_refusal
from core.applications import drafts
from core.applications import submission as applications
from core.platform.errors import DomainError
from core.queue.order import city_position
from core.views import cabinet, directory


async def contacts_getter(dialog_manager: DialogManager, **kwargs: Any) -> dict[str, Any]:
    await init_contacts(dialog_manager)
    return {
        "channels": [("telegram", "Telegram"), ("sms", "SMS")],
        "languages": [("kk", "Қазақша"), ("ru", "Русский")],
    }


async def review_getter(dialog_manager: DialogManager, **kwargs: Any) -> dict[str, Any]:
    manager = dialog_manager
    data = manager.dialog_data
    locale = locale_of(manager)
    settings = settings_of(manager)
    child = the_child(manager)
    year = birth_year(child)
    chosen = choices(manager)
    kindergartens = []
    for choice in chosen:
        card = await places.card(choice["id"], settings)
        if card is None:
            continue
        kindergartens.append(
            {
                "name": card.name(locale),
                "address": card.address(locale),
                "queue": queue_label(year, choice["language"]),
            }
        )
    applicant = applicant_of(manager)
    parent = data.get("parent_name", "")
    benefit = data.get("benefit")
    statement = statement_text(
        {
            "today": today_of(manager).strftime("%d.%m.%Y"),
            "city": await directory.city_name(chosen[0]["city_id"], locale) if chosen else "",
            "parent_name": parent,
            "parent_iin": data.get("parent_iin", ""),
            "phones": await people_phones(applicant.id),
            "queue_type": data.get("queue_type", "general"),
            "child_iin": child["iin"] or "—",
            "child_no_iin": bool(child.get("certificate_id")),
            "child_name": child["name"],
            "child_birth": birth_text(child),
            "choices": kindergartens,
            "referral_mode": referral_mode_text(
                data.get("referral_mode", "immediately"), data.get("referral_from"), locale
            ),
            "benefit": benefit_name(benefit) if benefit else _("None"),
            "pmpk": bool(data.get("pmpk_document_id")),
            "channel": "Telegram" if channel_of(manager) == "telegram" else "SMS",
            "language": language_word(notify_language_of(manager)),
        },
        locale,
    )
    return {"statement": statement}


async def on_submit(callback: CallbackQuery, button: Button, manager: DialogManager) -> None:
    data = manager.dialog_data
    settings = settings_of(manager)
    applicant = applicant_of(manager)
    child = chosen_child(manager)
    if child is None or child["child_id"] is None:
        await refuse(None, manager, local_refusal("choose_child"))
        return
    chosen = choices(manager)
    benefit = data.get("benefit")
    entry = applications.SubmissionInput(
        applicant_id=applicant.id,
        child_id=child["child_id"],
        city_id=chosen[0]["city_id"] if chosen else 0,
        queue_type=data.get("queue_type", "general"),
        choices=[(c["id"], c["language"]) for c in chosen],
        referral_mode=data.get("referral_mode", "immediately"),
        referral_from=date.fromisoformat(data["referral_from"])
        if data.get("referral_from")
        else None,
        benefit_category=benefit,
        benefit_document_id=data.get("benefit_docs", {}).get(str(benefit)) if benefit else None,
        pmpk_document_id=data.get("pmpk_document_id"),
        birth_certificate_document_id=child.get("certificate_id"),
        legal_representative=bool(child["legal"]),
        notification_language=notify_language_of(manager),
        channel=channel_of(manager),
    )
    try:
        application = await applications.submit(
            entry,
            settings=settings,
            actor=f"applicant:{applicant.id}",
            gov=manager.middleware_data.get("gov"),
        )
    except DomainError as exc:
        await refuse(None, manager, error_text(exc))
        return
    await drafts.drop(manager.middleware_data["redis"], applicant.id)  # submitted: nothing to keep
    position = await city_position(application, settings)
    data.update(
        number=application.number,
        place=position.place,
        total=position.total,
        birth_year=application.birth_year,
        submitted_at=application.submitted_at.isoformat(),
    )
    await manager.switch_to(S.done)


async def done_getter(dialog_manager: DialogManager, **kwargs: Any) -> dict[str, Any]:
    data = dialog_manager.dialog_data
    settings = settings_of(dialog_manager)
    locale = locale_of(dialog_manager)
    submitted = datetime.fromisoformat(data["submitted_at"]).astimezone(settings.tz)
    return {
        "number": data["number"],
        "place": data["place"],
        "total": data["total"],
        "birth_year": data["birth_year"],
        "submitted": fmt_datetime(submitted, settings.tz, locale),
    }


async def init_contacts(manager: DialogManager) -> None:
    """Preselect the applicant's current channel and language (once)."""
    if manager.dialog_data.get("contacts_set"):
        return
    applicant = applicant_of(manager)
    await radio_of(manager, "channel").set_checked(
        str(getattr(applicant.channel, "value", "telegram"))
    )
    await radio_of(manager, "notify_lang").set_checked(locale_of(manager))
    manager.dialog_data["contacts_set"] = True


async def people_phones(applicant_id: int) -> list[str]:
    return [phone.number for phone in await cabinet.phones_of(applicant_id) if phone.verified]


def channel_of(manager: DialogManager) -> str:
    return radio_of(manager, "channel").get_checked() or "telegram"


def notify_language_of(manager: DialogManager) -> str:
    return radio_of(manager, "notify_lang").get_checked() or locale_of(manager)


def statement_text(data: dict[str, Any], locale: str) -> str:
    """The application as the parent signs it (the source walkthrough's "ЗАЯВЛЕНИЕ")."""
    title = _("APPLICATION")
    lines = [
        f"<i>{esc(data['today'])}</i>",
        "",
        esc(
            _("To the head of the education department of {city}").format(city=data["city"])
            if data.get("city")
            else _("To the head of the education department")
        ),
        esc(_("from {name}").format(name=data["parent_name"])),
        esc(_("IIN: {iin}").format(iin=data["parent_iin"])),
        esc(
            _("Phone: {phones}").format(
                phones=", ".join(phone_text(p) for p in data["phones"]) or "—"
            )
        ),
        "",
        f"<b>{esc(title)}</b>",
        "",
        esc(
            _(
                "As a legal representative, I ask to put my child in the {queue} for a "
                "referral to a kindergarten:"
            ).format(queue=queue_type_name(data["queue_type"]))
        ),
        "",
        esc(
            _("Child's IIN: none (birth certificate attached)")
            if data.get("child_no_iin")
            else _("Child's IIN: {iin}").format(iin=data["child_iin"])
        ),
        esc(_("Child's full name: {name}").format(name=data["child_name"])),
        esc(_("Date of birth: {date}").format(date=data["child_birth"])),
        *(
            [esc(_("Legal representation: by my declaration (not in the state registry)"))]
            if data.get("child_no_iin")
            else []
        ),
        "",
        esc(_("Kindergartens to queue for:")),
    ]
    for rank, choice in enumerate(data["choices"], start=1):
        lines += [
            "",
            f"{rank}. <b>{esc(choice['name'])}</b>",
            esc(_("Address: {address}").format(address=choice["address"])),
            esc(_("Queue: {queue}").format(queue=choice["queue"])),
        ]
    lines += [
        "",
        esc(_("Issue the referral: {mode}").format(mode=data["referral_mode"])),
        esc(_("Benefit: {benefit}").format(benefit=data["benefit"])),
    ]
    if data.get("pmpk"):
        lines.append(esc(_("PMPK conclusion: attached")))
    lines += [
        esc(
            _("Notifications: {channel}, in {language}").format(
                channel=data["channel"], language=data["language"]
            )
        ),
        "",
        esc(_("I confirm that I know the main principles of the kindergarten queue:")),
        "• " + esc(_("the position of an application in the queue may change up or down;")),
        "• "
        + esc(
            _(
                "applications are ordered by the child's birth year, taking into account the "
                "date and time of submission;"
            )
        ),
        "• " + esc(_("applications of citizens with a benefit have priority in the queue.")),
        "",
        esc(
            _(
                "I consent to the use of my contact details for receiving information, alerts "
                "and notifications while applying and afterwards, on events related to "
                "enrolment in and attendance of a kindergarten."
            )
        ),
        esc(
            _(
                "I have read, agree to and accept the terms of the offer agreement of this "
                "portal, including the use, processing and storage of personal data."
            )
        ),
    ]
    return "\n".join(lines)
