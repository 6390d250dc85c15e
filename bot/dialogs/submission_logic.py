"""Getters and handlers of the submission wizard (`bot.dialogs.submission`), in the order the
parent meets the windows. Dialog data holds JSON primitives only; rules live in `core`."""

from __future__ import annotations

import logging
from datetime import date, datetime
from typing import Any

from aiogram.enums import ContentType
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _
from aiogram_dialog import DialogManager, ShowMode
from aiogram_dialog.widgets.input import ManagedTextInput, MessageInput
from aiogram_dialog.widgets.kbd import Button, ManagedCalendar

from bot.dialogs import submission_places as places
from bot.dialogs.submission_background import remember_target
from bot.dialogs.submission_text import (
    BENEFIT_NAMES,
    EXTRAORDINARY,
    FIRST_PRIORITY,
    benefit_name,
    current_locale,
    esc,
    fmt_date,
    language_name,
    queue_label,
    referral_mode_text,
    statement_text,
)
from bot.keyboards import main_menu
from bot.texts import error_text, reason_text, years_text
from core.applications import submission as applications
from core.models import GovRequestStatus
from core.people import applicants
from core.people.iin import InvalidIin, full_years, parse_iin
from core.platform.errors import DomainError
from core.platform.pii import mask_iin
from core.platform.settings import Settings
from core.queue.order import city_position
from core.registry import family_requests
from core.registry.ports import GatewayUnavailable
from core.views import cabinet, directory

log = logging.getLogger(__name__)

# --- small accessors ---------------------------------------------------------------------------


def settings_of(manager: DialogManager) -> Settings:
    data = manager.middleware_data
    return data.get("settings") or data["app"].settings


def applicant_of(manager: DialogManager) -> Any:
    return manager.middleware_data["applicant"]


def tz_of(manager: DialogManager) -> Any:
    return settings_of(manager).tz


def today_of(manager: DialogManager) -> date:
    from core.platform import clock

    return clock.now().astimezone(settings_of(manager).tz).date()


def local_refusal(code: str) -> str:
    """Refusals of the conversation itself (not domain rules), in the reader's language."""
    texts = {
        "consent_required": lambda: _(
            "To continue, tick both boxes: consent to notifications and the offer terms."
        ),
        "text_expected": lambda: _(
            "I expected a text message here. Please type it, or use the buttons below."
        ),
        "document_expected": lambda: _(
            "Please send a photo or a PDF file of the document, or use the buttons below."
        ),
        "location_expected": lambda: _(
            "Please share your location with the button below, or go back."
        ),
        "choose_child": lambda: _("Choose the child first."),
        "kindergarten_already_chosen": lambda: _("This kindergarten is already in your list."),
    }
    return texts[code]()


async def refuse(message: Message | None, manager: DialogManager, text: str) -> None:
    """Tell the refusal; the current window is shown again below it."""
    chat_id = manager.middleware_data["event_chat"].id
    await manager.middleware_data["bot"].send_message(chat_id, text)
    manager.show_mode = ShowMode.SEND


def step_data(step: int) -> dict[str, Any]:
    return {"step": step}


# --- Start: queue type and consents --------------------------------------------------------------


async def start_getter(dialog_manager: DialogManager, **kwargs: Any) -> dict[str, Any]:
    return {
        "phones_note": bool(dialog_manager.dialog_data.get("phones_missing")),
        "need": settings_of(dialog_manager).min_verified_phones,
    }


async def on_queue_chosen(callback: CallbackQuery, button: Button, manager: DialogManager) -> None:
    consents = [manager.find(name).is_checked() for name in ("consent_notify", "consent_offer")]
    if not all(consents):
        # A popup over the same window: the boxes stay where the parent can tick them.
        await callback.answer(local_refusal("consent_required"), show_alert=True)
        manager.show_mode = ShowMode.NO_UPDATE
        return
    manager.dialog_data["queue_type"] = (
        "correctional" if button.widget_id == "q_corr" else "general"
    )
    await applicants.record_consents(applicant_of(manager), notifications=True, offer=True)
    await continue_after_phones(manager)


async def continue_after_phones(manager: DialogManager) -> None:
    """Two verified phones are needed before step 1; otherwise the phone dialog runs first."""
    from bot.dialogs.submission import SubmissionSG

    settings = settings_of(manager)
    applicant = applicant_of(manager)
    have = await applicants.verified_phone_count(applicant.id)
    if have >= settings.min_verified_phones:
        manager.dialog_data.pop("phones_missing", None)
        await manager.switch_to(SubmissionSG.parent_iin)
        return
    try:
        from bot.dialogs.verification import VerifySG
    except ImportError:
        log.warning("phone verification dialog is not available")
        await refuse(
            None,
            manager,
            reason_text(
                "not_enough_verified_phones", required=settings.min_verified_phones, have=have
            ),
        )
        return
    manager.dialog_data["phones_missing"] = True
    await manager.start(VerifySG.__states__[0], data={"need": settings.min_verified_phones})


async def on_phones_verified(start_data: Any, result: Any, manager: DialogManager) -> None:
    """Back from the phone dialog: continue if enough numbers are now confirmed."""
    from bot.dialogs.submission import SubmissionSG

    if manager.current_context().state != SubmissionSG.start:
        return
    settings = settings_of(manager)
    have = await applicants.verified_phone_count(applicant_of(manager).id)
    if have >= settings.min_verified_phones:
        manager.dialog_data.pop("phones_missing", None)
        await manager.switch_to(SubmissionSG.parent_iin)
    else:
        await refuse(
            None,
            manager,
            reason_text(
                "not_enough_verified_phones", required=settings.min_verified_phones, have=have
            ),
        )


# --- Step 1: parent IIN, family request, children -------------------------------------------------


async def on_parent_iin(
    message: Message, widget: ManagedTextInput, manager: DialogManager, text: str
) -> None:
    from bot.dialogs.submission import SubmissionSG

    try:
        iin = parse_iin(text, today=today_of(manager))
    except InvalidIin as exc:
        await refuse(message, manager, reason_text(f"iin_{exc.reason}"))
        return
    applicant = applicant_of(manager)
    gov = manager.middleware_data["gov"]
    try:
        request = await family_requests.start_family_request(applicant, iin.value, gov)
    except DomainError as exc:
        await refuse(message, manager, error_text(exc))
        return
    except GatewayUnavailable:
        await refuse(message, manager, reason_text("gateway_unavailable"))
        return
    log.info("wizard: family request %s for %s", request.request_id, mask_iin(iin.value))
    await remember_target(
        manager.middleware_data["redis"],
        request.request_id,
        manager.middleware_data["event_from_user"].id,
        manager.middleware_data["event_chat"].id,
    )
    manager.dialog_data.update(
        parent_iin=iin.value, request_id=request.request_id, family_status="pending"
    )
    for key in ("children", "child", "gov_benefits"):
        manager.dialog_data.pop(key, None)
    await manager.switch_to(SubmissionSG.family_wait)


async def family_wait_getter(dialog_manager: DialogManager, **kwargs: Any) -> dict[str, Any]:
    refused = dialog_manager.dialog_data.get("family_status") == "refused"
    return {"refused": refused, "pending": not refused}


async def load_family(manager: DialogManager) -> str:
    """Read the stored answer of this wizard's family request into dialog data.

    Returns "pending", "refused" or "ready". Used by the background subscriber (the gov
    callback arrived) and by the "Check" button (in case the event was missed)."""
    request_id = manager.dialog_data.get("request_id")
    request = await family_requests.result_for(applicant_of(manager).id)
    if request is None or request.request_id != request_id:
        return "pending"
    if request.status == GovRequestStatus.consent_pending:
        return "pending"
    if request.status != GovRequestStatus.consented:
        manager.dialog_data["family_status"] = "refused"
        return "refused"
    result = family_requests.family_result(request)
    settings = settings_of(manager)
    today = today_of(manager)
    stored = request.result or {}
    child_ids = iter(stored.get("child_ids") or [])
    children = []
    for record in result.children if result else []:
        person = record.person
        child_id = next(child_ids, None) if person.iin else None
        age = full_years(person.birth_date, today)
        children.append(
            {
                "n": len(children),
                "child_id": child_id,
                "iin": person.iin,
                "name": " ".join(
                    part
                    for part in (person.last_name, person.first_name, person.middle_name)
                    if part
                ),
                "birth": person.birth_date.isoformat(),
                "age": age,
                "too_old": age >= settings.max_child_age_years,
                "legal": record.legal_representative,
            }
        )
    manager.dialog_data["children"] = children
    manager.dialog_data["gov_benefits"] = sorted(
        {b.category for b in family_requests.first_priority_benefits(request, today)}
    )
    manager.dialog_data["family_status"] = "ready"
    manager.dialog_data["parent_name"] = await _parent_name(manager, request.parent_iin)
    if manager.dialog_data["gov_benefits"] and "benefit" not in manager.dialog_data:
        manager.dialog_data["benefit"] = manager.dialog_data["gov_benefits"][0]
    return "ready"


async def _parent_name(manager: DialogManager, iin: str) -> str:
    """The parent's full name from the registry (for the statement); empty if unavailable."""
    try:
        person = await manager.middleware_data["gov"].person(iin)
    except GatewayUnavailable:
        return ""
    if person is None:
        return ""
    return " ".join(p for p in (person.last_name, person.first_name, person.middle_name) if p)


async def on_check_family(callback: CallbackQuery, button: Button, manager: DialogManager) -> None:
    from bot.dialogs.submission import SubmissionSG

    status = await load_family(manager)
    if status == "ready":
        await manager.switch_to(SubmissionSG.child)
    elif status == "pending":
        await callback.answer(
            _("No answer yet. Please confirm the SMS from 1414."), show_alert=True
        )


async def children_getter(dialog_manager: DialogManager, **kwargs: Any) -> dict[str, Any]:
    locale = current_locale(dialog_manager)
    items = []
    for child in dialog_manager.dialog_data.get("children", []):
        born = date.fromisoformat(child["birth"])
        mark = "⛔ " if child["too_old"] or not child["legal"] else ""
        label = _("{mark}{name}, born {date}, {age}").format(
            mark=mark,
            name=child["name"],
            date=born.strftime("%d.%m.%Y"),
            age=years_text(child["age"]),
        )
        items.append((str(child["n"]), label))
    return {
        "children": items,
        "count": len(items),
        "has_children": bool(items),
        "locale": locale,
    }


async def on_child_chosen(
    callback: CallbackQuery, widget: Any, manager: DialogManager, item_id: str
) -> None:
    from bot.dialogs.submission import SubmissionSG

    children = manager.dialog_data.get("children", [])
    child = next((c for c in children if str(c["n"]) == item_id), None)
    if child is None:
        return
    settings = settings_of(manager)
    if child["too_old"]:
        await refuse(
            None,
            manager,
            reason_text("child_too_old", age=child["age"], max_age=settings.max_child_age_years),
        )
        return
    if not child["legal"] or child["child_id"] is None:
        await refuse(None, manager, reason_text("not_legal_representative"))
        return
    manager.dialog_data["child"] = child["n"]
    manager.dialog_data.setdefault("choices", [])
    await manager.switch_to(SubmissionSG.kindergartens)


def chosen_child(manager: DialogManager) -> dict[str, Any] | None:
    n = manager.dialog_data.get("child")
    for child in manager.dialog_data.get("children", []):
        if child["n"] == n:
            return child
    return None


# --- Step 2: kindergartens -----------------------------------------------------------------------


async def kindergartens_getter(dialog_manager: DialogManager, **kwargs: Any) -> dict[str, Any]:
    locale = current_locale(dialog_manager)
    child = chosen_child(dialog_manager) or {}
    choices = dialog_manager.dialog_data.get("choices", [])
    settings = settings_of(dialog_manager)
    lines = []
    removable = []
    for rank, choice in enumerate(choices, start=1):
        card = await places.card(choice["id"], settings)
        name = card.name(locale) if card else "?"
        lines.append(
            f"{rank}. <b>{esc(name)}</b>\n    "
            + esc(queue_label(int(child.get("birth", "2000")[:4]), choice["language"]))
        )
        removable.append((str(choice["id"]), f"✖ {rank}. {name}"))
    return {
        "child_name": child.get("name", ""),
        "chosen": "\n".join(lines) if lines else _("No kindergarten chosen yet."),
        "removable": removable,
        "count": len(choices),
        "max": settings.max_kindergartens,
        "can_add": len(choices) < settings.max_kindergartens,
        "has_choices": bool(choices),
    }


async def on_remove_choice(
    callback: CallbackQuery, widget: Any, manager: DialogManager, item_id: str
) -> None:
    manager.dialog_data["choices"] = [
        c for c in manager.dialog_data.get("choices", []) if str(c["id"]) != item_id
    ]


async def _check_room(manager: DialogManager) -> bool:
    settings = settings_of(manager)
    if len(manager.dialog_data.get("choices", [])) >= settings.max_kindergartens:
        await refuse(
            None, manager, reason_text("too_many_kindergartens", max=settings.max_kindergartens)
        )
        return False
    return True


async def on_find_by_name(callback: CallbackQuery, button: Button, manager: DialogManager) -> None:
    from bot.dialogs.submission import SubmissionSG

    if await _check_room(manager):
        await manager.switch_to(SubmissionSG.kg_search)


async def on_find_nearby(callback: CallbackQuery, button: Button, manager: DialogManager) -> None:
    from bot.dialogs.submission import SubmissionSG

    if await _check_room(manager):
        await manager.switch_to(SubmissionSG.kg_location)


async def on_list_all(callback: CallbackQuery, button: Button, manager: DialogManager) -> None:
    from bot.dialogs.submission import SubmissionSG

    if await _check_room(manager):
        manager.dialog_data["kg_mode"] = "list"
        await manager.switch_to(SubmissionSG.kg_results)


async def on_kg_name(
    message: Message, widget: ManagedTextInput, manager: DialogManager, text: str
) -> None:
    from bot.dialogs.submission import SubmissionSG

    manager.dialog_data.update(kg_mode="search", kg_query=text.strip()[:64])
    await manager.switch_to(SubmissionSG.kg_results)


async def on_location(message: Message, widget: MessageInput, manager: DialogManager) -> None:
    from bot.dialogs.submission import SubmissionSG

    location = message.location
    manager.dialog_data.update(kg_mode="near", kg_lat=location.latitude, kg_lon=location.longitude)
    # The location window is the wizard's only reply keyboard; deleting its message does not
    # take the keyboard away, so put the main menu back before the inline windows continue.
    await _say(manager, _("📍 Location received."))
    await manager.switch_to(SubmissionSG.kg_results)


async def on_location_back(message: Any, button: Button, manager: DialogManager) -> None:
    from bot.dialogs.submission import SubmissionSG

    await _say(manager, _("Back to the kindergartens you chose."))
    await manager.switch_to(SubmissionSG.kindergartens)


async def kg_results_getter(dialog_manager: DialogManager, **kwargs: Any) -> dict[str, Any]:
    data = dialog_manager.dialog_data
    locale = current_locale(dialog_manager)
    settings = settings_of(dialog_manager)
    chosen = {c["id"] for c in data.get("choices", [])}
    mode = data.get("kg_mode", "list")
    if mode == "search":
        found = await places.search(data.get("kg_query", ""), settings)
        title = _("Kindergartens found for «{query}»:").format(query=esc(data.get("kg_query", "")))
    elif mode == "near":
        found = await places.nearest(data["kg_lat"], data["kg_lon"], settings)
        title = _("Kindergartens nearest to you:")
    else:
        found = await places.all_in_city(settings)
        title = _("All kindergartens of the city:")
    items = []
    for row in found:
        label = row.name(locale)
        if row.distance_m is not None:
            label = f"{label} · {places.distance_text(row.distance_m, locale)}"
        if row.id in chosen:
            label = "✅ " + label
        items.append((str(row.id), label))
    return {
        "title": title,
        "items": items,
        "found": bool(items),
        "nothing": not items,
    }


async def on_kg_opened(
    callback: CallbackQuery, widget: Any, manager: DialogManager, item_id: str
) -> None:
    from bot.dialogs.submission import SubmissionSG

    manager.dialog_data["kg_current"] = int(item_id)
    await manager.switch_to(SubmissionSG.kg_card)


async def kg_card_getter(dialog_manager: DialogManager, **kwargs: Any) -> dict[str, Any]:
    locale = current_locale(dialog_manager)
    settings = settings_of(dialog_manager)
    child = chosen_child(dialog_manager) or {}
    birth_year = int(child.get("birth", "2000")[:4])
    card = await places.card(dialog_manager.dialog_data.get("kg_current", 0), settings)
    if card is None:
        return {"card": _("This kindergarten was not found."), "queues": []}
    queues = [(lang, "➕ " + queue_label(birth_year, lang)) for lang in card.languages]
    return {
        "card": card.render(locale, birth_year),
        "queues": queues,
    }


async def on_queue_language(
    callback: CallbackQuery, widget: Any, manager: DialogManager, item_id: str
) -> None:
    from bot.dialogs.submission import SubmissionSG

    settings = settings_of(manager)
    choices = manager.dialog_data.setdefault("choices", [])
    kg_id = manager.dialog_data.get("kg_current")
    if any(c["id"] == kg_id for c in choices):
        await refuse(None, manager, local_refusal("kindergarten_already_chosen"))
        return
    if len(choices) >= settings.max_kindergartens:
        await refuse(
            None, manager, reason_text("too_many_kindergartens", max=settings.max_kindergartens)
        )
        return
    card = await places.card(kg_id, settings)
    if card is None:
        return
    choices.append({"id": kg_id, "language": item_id, "city_id": card.city_id})
    await manager.switch_to(SubmissionSG.kindergartens)


async def on_kindergartens_done(
    callback: CallbackQuery, button: Button, manager: DialogManager
) -> None:
    from bot.dialogs.submission import SubmissionSG

    if not manager.dialog_data.get("choices"):
        await refuse(None, manager, reason_text("no_kindergartens"))
        return
    await manager.switch_to(SubmissionSG.referral_mode)


async def referral_getter(dialog_manager: DialogManager, **kwargs: Any) -> dict[str, Any]:
    data = dialog_manager.dialog_data
    return {
        "mode": referral_mode_text(
            data.get("referral_mode", "immediately"),
            data.get("referral_from"),
            current_locale(dialog_manager),
        )
    }


async def on_referral_now(callback: CallbackQuery, button: Button, manager: DialogManager) -> None:
    manager.dialog_data.update(referral_mode="immediately", referral_from=None)
    await goto_benefits(manager)


async def on_referral_date(
    callback: CallbackQuery, widget: ManagedCalendar, manager: DialogManager, day: date
) -> None:
    if day <= today_of(manager):
        await refuse(None, manager, reason_text("referral_date_required"))
        return
    manager.dialog_data.update(referral_mode="from_date", referral_from=day.isoformat())
    await goto_benefits(manager)


async def goto_benefits(manager: DialogManager) -> None:
    from bot.dialogs.submission import SubmissionSG

    await manager.switch_to(SubmissionSG.benefit)


# --- Step 3: benefit and documents ---------------------------------------------------------------


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
    from bot.dialogs.submission import SubmissionSG

    category = int(item_id)
    manager.dialog_data["benefit"] = category
    if category in EXTRAORDINARY and str(category) not in manager.dialog_data.get(
        "benefit_docs", {}
    ):
        await manager.switch_to(SubmissionSG.benefit_upload)


async def on_no_benefit(callback: CallbackQuery, button: Button, manager: DialogManager) -> None:
    manager.dialog_data["benefit"] = None


async def benefit_upload_getter(dialog_manager: DialogManager, **kwargs: Any) -> dict[str, Any]:
    return {"benefit_name": benefit_name(dialog_manager.dialog_data.get("benefit"))}


def _upload_of(message: Message) -> tuple[str, str, str] | None:
    """(file_id, mime type, file name) of a photo or a PDF/image document; None otherwise."""
    if message.photo:
        return message.photo[-1].file_id, "image/jpeg", ""
    document = message.document
    if document is not None:
        mime = (document.mime_type or "").lower()
        name = document.file_name or ""
        if mime == "application/pdf" or mime.startswith("image/") or name.lower().endswith(".pdf"):
            return document.file_id, mime or "application/pdf", name
    return None


async def on_benefit_document(
    message: Message, widget: MessageInput, manager: DialogManager
) -> None:
    from bot.dialogs.submission import SubmissionSG

    upload = _upload_of(message)
    if upload is None:
        await refuse(message, manager, local_refusal("document_expected"))
        return
    file_id, mime, name = upload
    document = await applicants.create_document(
        applicant_of(manager).id, "benefit", file_id, mime_type=mime, file_name=name
    )
    category = manager.dialog_data.get("benefit")
    manager.dialog_data.setdefault("benefit_docs", {})[str(category)] = document.id
    await manager.switch_to(SubmissionSG.benefit)


async def on_benefit_done(callback: CallbackQuery, button: Button, manager: DialogManager) -> None:
    from bot.dialogs.submission import SubmissionSG

    data = manager.dialog_data
    category = data.get("benefit")
    if category in EXTRAORDINARY and str(category) not in data.get("benefit_docs", {}):
        await refuse(None, manager, reason_text("benefit_document_required"))
        return
    if data.get("queue_type") == "correctional":
        await manager.switch_to(SubmissionSG.pmpk_upload)
    else:
        await manager.switch_to(SubmissionSG.contacts)


async def pmpk_getter(dialog_manager: DialogManager, **kwargs: Any) -> dict[str, Any]:
    return {"uploaded": bool(dialog_manager.dialog_data.get("pmpk_document_id"))}


async def on_pmpk_document(message: Message, widget: MessageInput, manager: DialogManager) -> None:
    upload = _upload_of(message)
    if upload is None:
        await refuse(message, manager, local_refusal("document_expected"))
        return
    file_id, mime, name = upload
    document = await applicants.create_document(
        applicant_of(manager).id, "pmpk", file_id, mime_type=mime, file_name=name
    )
    manager.dialog_data["pmpk_document_id"] = document.id


async def on_pmpk_done(callback: CallbackQuery, button: Button, manager: DialogManager) -> None:
    from bot.dialogs.submission import SubmissionSG

    if not manager.dialog_data.get("pmpk_document_id"):
        await refuse(None, manager, reason_text("pmpk_required"))
        return
    await manager.switch_to(SubmissionSG.contacts)


async def on_benefit_back(callback: CallbackQuery, button: Button, manager: DialogManager) -> None:
    from bot.dialogs.submission import SubmissionSG

    await manager.switch_to(SubmissionSG.benefit)


# --- Step 4: notifications, review, submit -------------------------------------------------------


async def contacts_getter(dialog_manager: DialogManager, **kwargs: Any) -> dict[str, Any]:
    await init_contacts(dialog_manager)
    return {
        "channels": [("telegram", "Telegram"), ("sms", "SMS")],
        "languages": [("kk", "Қазақша"), ("ru", "Русский")],
    }


async def init_contacts(manager: DialogManager) -> None:
    """Preselect the applicant's current channel and language (once)."""
    if manager.dialog_data.get("contacts_set"):
        return
    applicant = applicant_of(manager)
    await manager.find("channel").set_checked(str(getattr(applicant.channel, "value", "telegram")))
    await manager.find("notify_lang").set_checked(current_locale(manager))
    manager.dialog_data["contacts_set"] = True


async def review_getter(dialog_manager: DialogManager, **kwargs: Any) -> dict[str, Any]:
    manager = dialog_manager
    data = manager.dialog_data
    locale = current_locale(manager)
    settings = settings_of(manager)
    child = chosen_child(manager) or {}
    birth_year = int(child.get("birth", "2000")[:4])
    choices = []
    for choice in data.get("choices", []):
        card = await places.card(choice["id"], settings)
        if card is None:
            continue
        choices.append(
            {
                "name": card.name(locale),
                "address": card.address(locale),
                "queue": queue_label(birth_year, choice["language"]),
            }
        )
    applicant = applicant_of(manager)
    parent = data.get("parent_name", "")
    benefit = data.get("benefit")
    statement = statement_text(
        {
            "today": today_of(manager).strftime("%d.%m.%Y"),
            "city": await directory.city_name(data["choices"][0]["city_id"], locale)
            if data.get("choices")
            else "",
            "parent_name": parent,
            "parent_iin": data.get("parent_iin", ""),
            "phones": await people_phones(applicant.id),
            "queue_type": data.get("queue_type", "general"),
            "child_iin": child.get("iin") or "—",
            "child_no_iin": bool(child.get("certificate_id")),
            "child_name": child.get("name", ""),
            "child_birth": date.fromisoformat(child["birth"]).strftime("%d.%m.%Y")
            if child.get("birth")
            else "",
            "choices": choices,
            "referral_mode": referral_mode_text(
                data.get("referral_mode", "immediately"), data.get("referral_from"), locale
            ),
            "benefit": benefit_name(benefit) if benefit else _("None"),
            "pmpk": bool(data.get("pmpk_document_id")),
            "channel": "Telegram" if channel_of(manager) == "telegram" else "SMS",
            "language": language_name(notify_language_of(manager)).lower(),
        },
        locale,
    )
    return {"statement": statement}


async def people_phones(applicant_id: int) -> list[str]:
    return [phone.number for phone in await cabinet.phones_of(applicant_id) if phone.verified]


def channel_of(manager: DialogManager) -> str:
    return manager.find("channel").get_checked() or "telegram"


def notify_language_of(manager: DialogManager) -> str:
    return manager.find("notify_lang").get_checked() or current_locale(manager)


async def on_submit(callback: CallbackQuery, button: Button, manager: DialogManager) -> None:
    from bot.dialogs.submission import SubmissionSG

    data = manager.dialog_data
    settings = settings_of(manager)
    applicant = applicant_of(manager)
    child = chosen_child(manager)
    if child is None:
        await refuse(None, manager, local_refusal("choose_child"))
        return
    choices = data.get("choices", [])
    benefit = data.get("benefit")
    entry = applications.SubmissionInput(
        applicant_id=applicant.id,
        child_id=child["child_id"],
        city_id=choices[0]["city_id"] if choices else 0,
        queue_type=data.get("queue_type", "general"),
        choices=[(c["id"], c["language"]) for c in choices],
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
    )
    try:
        application = await applications.submit(
            entry, settings=settings, actor=f"applicant:{applicant.id}"
        )
    except DomainError as exc:
        await refuse(None, manager, error_text(exc))
        return
    await cabinet.set_channel(applicant.id, channel_of(manager))
    position = await city_position(application, settings)
    data.update(
        number=application.number,
        place=position.place,
        total=position.total,
        birth_year=application.birth_year,
        submitted_at=application.submitted_at.isoformat(),
    )
    await manager.switch_to(SubmissionSG.done)


async def done_getter(dialog_manager: DialogManager, **kwargs: Any) -> dict[str, Any]:
    data = dialog_manager.dialog_data
    settings = settings_of(dialog_manager)
    locale = current_locale(dialog_manager)
    submitted = datetime.fromisoformat(data["submitted_at"]).astimezone(settings.tz)
    return {
        "number": data["number"],
        "place": data["place"],
        "total": data["total"],
        "birth_year": data["birth_year"],
        "submitted": f"{fmt_date(submitted.date(), locale)}, {submitted:%H:%M}",
    }


async def on_finish(callback: CallbackQuery, button: Button, manager: DialogManager) -> None:
    await manager.done()
    await _say(manager, _("Main menu"))


async def on_cancel(callback: CallbackQuery, button: Button, manager: DialogManager) -> None:
    await manager.done()
    await _say(manager, _("The application was not submitted. You can start again from the menu."))


async def _say(manager: DialogManager, text: str) -> None:
    """A message with the main menu (also after a reply-keyboard window, whose "callback"
    carries no accessible message)."""
    chat_id = manager.middleware_data["event_chat"].id
    await manager.middleware_data["bot"].send_message(chat_id, text, reply_markup=main_menu())


# --- Unexpected content --------------------------------------------------------------------------


async def on_text_expected(message: Message, widget: MessageInput, manager: DialogManager) -> None:
    await refuse(message, manager, local_refusal("text_expected"))


async def on_buttons_expected(
    message: Message, widget: MessageInput, manager: DialogManager
) -> None:
    await refuse(
        message,
        manager,
        _("Please use the buttons of the message below.")
        if message.content_type == ContentType.TEXT
        else local_refusal("text_expected"),
    )


async def on_document_expected(
    message: Message, widget: MessageInput, manager: DialogManager
) -> None:
    await refuse(message, manager, local_refusal("document_expected"))


async def on_location_expected(
    message: Message, widget: MessageInput, manager: DialogManager
) -> None:
    await refuse(message, manager, local_refusal("location_expected"))
