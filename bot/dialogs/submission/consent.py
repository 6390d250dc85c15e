"""The wizard's start: the queue type and both consents of the source form, then the phone
verification subdialog while fewer than `min_verified_phones` numbers are confirmed."""

from __future__ import annotations

from typing import Any

from aiogram.types import CallbackQuery
from aiogram_dialog import DialogManager, ShowMode
from aiogram_dialog.widgets.kbd import Button

from bot.dialogs.common import applicant_of, checkbox, settings_of
from bot.dialogs.states import SubmissionSG as S
from bot.dialogs.states import VerifySG
from bot.dialogs.submission.replies import refuse
from bot.texts.reasons import local_refusal, reason_text
from core.people import applicants


async def start_getter(dialog_manager: DialogManager, **kwargs: Any) -> dict[str, Any]:
    return {
        "phones_note": bool(dialog_manager.dialog_data.get("phones_missing")),
        "need": settings_of(dialog_manager).min_verified_phones,
    }


async def on_queue_chosen(callback: CallbackQuery, button: Button, manager: DialogManager) -> None:
    consents = [
        checkbox(manager, name).is_checked() for name in ("consent_notify", "consent_offer")
    ]
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
    settings = settings_of(manager)
    applicant = applicant_of(manager)
    have = await applicants.verified_phone_count(applicant.id)
    if have >= settings.min_verified_phones:
        manager.dialog_data.pop("phones_missing", None)
        await manager.switch_to(S.parent_iin)
        return
    manager.dialog_data["phones_missing"] = True
    await manager.start(VerifySG.phone, data={"need": settings.min_verified_phones})


async def on_phones_verified(start_data: Any, result: Any, manager: DialogManager) -> None:
    """Back from the phone dialog: continue if enough numbers are now confirmed."""
    if manager.current_context().state != S.start:
        return
    settings = settings_of(manager)
    have = await applicants.verified_phone_count(applicant_of(manager).id)
    if have >= settings.min_verified_phones:
        manager.dialog_data.pop("phones_missing", None)
        await manager.switch_to(S.parent_iin)
    else:
        await refuse(
            None,
            manager,
            reason_text(
                "not_enough_verified_phones", required=settings.min_verified_phones, have=have
            ),
        )
