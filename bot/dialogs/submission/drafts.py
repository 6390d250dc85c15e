"""No lost work: the wizard's answers kept as a draft when the parent leaves it, "continue where
you stopped" / "start again", and the confirmation before Cancel throws the answers away.

The draft itself lives in `core.applications.drafts` (Redis, with expiry); here is what the
wizard keeps (its dialog data and widget states) and the windows that offer it back.
"""

from __future__ import annotations

from typing import Any

from aiogram.fsm.state import State
from aiogram.types import CallbackQuery
from aiogram.utils.i18n import gettext as _
from aiogram_dialog import DialogManager
from aiogram_dialog.widgets.kbd import Button
from redis.asyncio import Redis

from bot.dialogs.common import SHOWN_KEY, applicant_id, locale_of, settings_of
from bot.dialogs.states import SubmissionSG as S
from bot.dialogs.submission.data import ChildData
from bot.dialogs.submission.replies import say
from bot.texts.formats import fmt_date
from core.applications import drafts

# Windows that hold nothing worth keeping, or are about the draft itself.
NOT_KEPT = frozenset({S.start, S.done, S.resume, S.cancel_confirm})
# The Cancel confirmation remembers the window it was opened from.
RETURN_TO = "return_to"


def in_wizard(manager: DialogManager) -> bool:
    """The parent is in the submission wizard (its window is the one on top)."""
    return manager.has_context() and manager.current_context().state.group is S


async def keep_draft(manager: DialogManager) -> bool:
    """Keep the wizard's answers as the applicant's draft; False when there is nothing to keep
    (not in the wizard, or still on its first window)."""
    if not in_wizard(manager):
        return False
    context = manager.current_context()
    state = _where(context.state, context.dialog_data)
    if state is None:
        return False
    data = {k: v for k, v in context.dialog_data.items() if k != RETURN_TO}
    widgets = {k: v for k, v in context.widget_data.items() if k != SHOWN_KEY}
    await drafts.keep(
        _redis(manager),
        applicant_id(manager),
        state=str(state.state),
        data=data,
        widgets=widgets,
        settings=settings_of(manager),
    )
    return True


async def has_draft(manager: DialogManager) -> bool:
    return await drafts.load(_redis(manager), applicant_id(manager)) is not None


# --- "continue where you stopped" -------------------------------------------------------------


async def resume_getter(dialog_manager: DialogManager, **kwargs: Any) -> dict[str, Any]:
    draft = await drafts.load(_redis(dialog_manager), applicant_id(dialog_manager))
    child = _child_name(draft.data) if draft else ""
    saved = ""
    if draft is not None:
        day = draft.saved_at.astimezone(settings_of(dialog_manager).tz).date()
        saved = fmt_date(day, locale_of(dialog_manager))
    return {"child": child, "has_child": bool(child), "saved": saved, "has_saved": bool(saved)}


async def on_continue(callback: CallbackQuery, button: Button, manager: DialogManager) -> None:
    draft = await drafts.load(_redis(manager), applicant_id(manager))
    state = _state(draft.state) if draft else None
    if draft is None or state is None:
        await callback.answer(_("The draft is no longer kept. Let us start again."))
        await _start_again(manager)
        return
    context = manager.current_context()
    context.dialog_data.clear()
    context.dialog_data.update(draft.data)
    context.widget_data.update(draft.widgets)
    await drafts.drop(_redis(manager), applicant_id(manager))
    await manager.switch_to(state)


async def on_start_again(callback: CallbackQuery, button: Button, manager: DialogManager) -> None:
    await _start_again(manager)


async def _start_again(manager: DialogManager) -> None:
    await drafts.drop(_redis(manager), applicant_id(manager))
    context = manager.current_context()
    context.dialog_data.clear()
    context.widget_data.clear()
    await manager.switch_to(S.start)


# --- Cancel, confirmed --------------------------------------------------------------------------


async def on_cancel(callback: CallbackQuery, button: Button, manager: DialogManager) -> None:
    """Cancel asks first: the answers are thrown away only on "Yes"."""
    manager.dialog_data[RETURN_TO] = str(manager.current_context().state.state)
    await manager.switch_to(S.cancel_confirm)


async def on_cancel_confirmed(
    callback: CallbackQuery, button: Button, manager: DialogManager
) -> None:
    await drafts.drop(_redis(manager), applicant_id(manager))
    await manager.done()
    await say(manager, _("The application was not submitted. You can start again from the menu."))


async def on_back_to_wizard(
    callback: CallbackQuery, button: Button, manager: DialogManager
) -> None:
    state = _state(str(manager.dialog_data.pop(RETURN_TO, ""))) or S.start
    await manager.switch_to(state)


# --- helpers ------------------------------------------------------------------------------------


def _where(state: State, data: dict[str, Any]) -> State | None:
    """The window to come back to: the one the Cancel confirmation was opened from."""
    if state == S.cancel_confirm:
        state = _state(str(data.get(RETURN_TO, ""))) or S.start
    return None if state in NOT_KEPT else state


def _state(name: str) -> State | None:
    return next((s for s in S.__states__ if s.state == name and s not in NOT_KEPT), None)


def _child_name(data: dict[str, Any]) -> str:
    index = data.get("child")
    found: list[ChildData] = data.get("children") or []
    return next((c["name"] for c in found if c.get("index") == index), "")


def _redis(manager: DialogManager) -> Redis:
    redis: Redis = manager.middleware_data["redis"]
    return redis
