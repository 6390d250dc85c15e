"""Step 1: the parent's IIN, the family request to the state registry (consent by SMS from
1414), and the children found.

The wizard continues by itself when the gov family result arrives: `core.registry.inbox` publishes
`FAMILY_RESULT` after the parent consented (or refused); the wizard remembered, in Redis,
which Telegram chat made each request, and `subscribe` enters that chat's dialog stack with a
background dialog manager and, if it still waits for exactly this request, shows the children."""

from __future__ import annotations

import asyncio
import json
import logging
from datetime import date
from typing import Any

from aiogram import Bot
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _
from aiogram_dialog import BaseDialogManager, BgManagerFactory, DialogManager, ShowMode
from aiogram_dialog.widgets.input import ManagedTextInput
from aiogram_dialog.widgets.kbd import Button
from redis.asyncio import Redis

from bot.dialogs.common import applicant_of, locale_of, settings_of, today_of
from bot.dialogs.states import SubmissionSG as S
from bot.dialogs.submission.data import ChildData, children
from bot.dialogs.submission.replies import refuse
from bot.texts.labels import age_text
from bot.texts.reasons import error_text, reason_text
from bot.texts.typed import clean_typed
from core.applications import drafts, submission
from core.models import GovRequestStatus
from core.people.iin import InvalidIin, full_years, parse_iin
from core.platform.errors import DomainError
from core.platform.events import FAMILY_RESULT, EventBus
from core.platform.pii import mask_iin
from core.platform.reasons import Reason
from core.registry import family_requests
from core.registry.ports import GatewayUnavailable

log = logging.getLogger(__name__)

TARGET_TTL_SECONDS = 24 * 3600
FG_TIMEOUT_SECONDS = 30


async def on_parent_iin(
    message: Message, widget: ManagedTextInput[str], manager: DialogManager, text: str
) -> None:
    try:
        iin = parse_iin(clean_typed(text), today=today_of(manager))
    except InvalidIin as exc:
        await refuse(message, manager, reason_text(f"iin_{exc.reason}"))
        return
    await request_family(manager, iin.value)


async def on_ask_again(callback: CallbackQuery, button: Button, manager: DialogManager) -> None:
    """The parent refused the 1414 consent (or it lapsed): a new request, no dead end."""
    parent_iin = manager.dialog_data.get("parent_iin")
    if not parent_iin:
        await manager.switch_to(S.parent_iin)
        return
    await request_family(manager, str(parent_iin))


async def request_family(manager: DialogManager, parent_iin: str) -> None:
    """Show the family of `parent_iin`: by the consent given within its validity, or by a new
    request the parent consents to by SMS from 1414 (the wizard then waits)."""
    applicant = applicant_of(manager)
    for key in ("children", "child", "gov_benefits", "consent_reused"):
        manager.dialog_data.pop(key, None)
    reused = await drafts.consented_request(applicant.id, parent_iin, settings_of(manager))
    if reused is not None:
        manager.dialog_data.update(
            parent_iin=parent_iin, request_id=reused.request_id, family_status="pending"
        )
        if await load_family(manager) == "ready":
            manager.dialog_data["consent_reused"] = True
            await manager.switch_to(S.child)
            return
    gov = manager.middleware_data["gov"]
    try:
        request = await family_requests.start_family_request(applicant, parent_iin, gov)
    except DomainError as exc:
        await refuse(None, manager, error_text(exc))
        return
    except GatewayUnavailable:
        await refuse(None, manager, reason_text("gateway_unavailable"))
        return
    log.info("wizard: family request %s for %s", request.request_id, mask_iin(parent_iin))
    await remember_target(
        manager.middleware_data["redis"],
        request.request_id,
        manager.middleware_data["event_from_user"].id,
        manager.middleware_data["event_chat"].id,
    )
    manager.dialog_data.update(
        parent_iin=parent_iin, request_id=request.request_id, family_status="pending"
    )
    await manager.switch_to(S.family_wait)


async def family_wait_getter(dialog_manager: DialogManager, **kwargs: Any) -> dict[str, Any]:
    refused = dialog_manager.dialog_data.get("family_status") == "refused"
    return {"refused": refused, "pending": not refused}


async def on_check_family(callback: CallbackQuery, button: Button, manager: DialogManager) -> None:
    status = await load_family(manager)
    if status == "ready":
        await manager.switch_to(S.child)
    elif status == "pending":
        await callback.answer(
            _("No answer yet. Please confirm the SMS from 1414."), show_alert=True
        )


async def children_getter(dialog_manager: DialogManager, **kwargs: Any) -> dict[str, Any]:
    locale = locale_of(dialog_manager)
    items = []
    for child in children(dialog_manager):
        born = date.fromisoformat(child["birth"])
        queued = await _already_queued(dialog_manager, child)
        blocked = child["too_old"] or not child["legal"] or queued is not None
        label = _("{mark}{name}, born {date}, {age}").format(
            mark="⛔ " if blocked else "",
            name=child["name"],
            date=born.strftime("%d.%m.%Y"),
            age=age_text(born, today_of(dialog_manager), locale),
        )
        if queued is not None and queued.reason == Reason.duplicate_application:
            label += _(" · in the queue: No. {number}").format(number=queued.params["number"])
        items.append((str(child["index"]), label))
    return {
        "children": items,
        "count": len(items),
        "has_children": bool(items),
        "consent_reused": bool(dialog_manager.dialog_data.get("consent_reused")),
        "locale": locale,
    }


async def on_child_chosen(
    callback: CallbackQuery, widget: Any, manager: DialogManager, item_id: str
) -> None:
    child = next((c for c in children(manager) if str(c["index"]) == item_id), None)
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
    # Told here, not after the whole form: one application per child and queue.
    queued = await _already_queued(manager, child)
    if queued is not None:
        await refuse(None, manager, error_text(queued))
        return
    manager.dialog_data["child"] = child["index"]
    manager.dialog_data.setdefault("choices", [])
    await manager.switch_to(S.kindergartens)


async def _already_queued(manager: DialogManager, child: ChildData) -> DomainError | None:
    if child["child_id"] is None:
        return None
    queue_type = manager.dialog_data.get("queue_type", "general")
    return await submission.already_queued(child["child_id"], applicant_of(manager).id, queue_type)


async def load_family(manager: DialogManager) -> str:
    """Read the stored answer of this wizard's family request into dialog data.

    Returns "pending", "refused" or "ready". Used by the background subscriber (the gov
    callback arrived) and by the "Check" button (in case the event was missed)."""
    request_id = str(manager.dialog_data.get("request_id") or "")
    request = await drafts.family_request(applicant_of(manager).id, request_id)
    if request is None:
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
    found: list[ChildData] = []
    for record in result.children if result else []:
        person = record.person
        child_id = next(child_ids, None) if person.iin else None
        age = full_years(person.birth_date, today)
        found.append(
            ChildData(
                index=len(found),
                child_id=child_id,
                iin=person.iin,
                name=" ".join(
                    part
                    for part in (person.last_name, person.first_name, person.middle_name)
                    if part
                ),
                birth=person.birth_date.isoformat(),
                age=age,
                too_old=age >= settings.max_child_age_years,
                legal=record.legal_representative,
            )
        )
    manager.dialog_data["children"] = found
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


# --- continue by itself when the registry answers -------------------------------------------


def subscribe(events: EventBus, redis: Redis, bot: Bot, bg_factory: BgManagerFactory) -> None:
    """`FAMILY_RESULT` moves a wizard that waits for exactly this request on."""
    running: set[asyncio.Task[None]] = set()

    async def on_family_result(payload: dict[str, Any]) -> None:
        raw = await redis.get(target_key(str(payload["request_id"])))
        if raw is None:
            return  # not started from a wizard of this bot (or long forgotten)
        target = json.loads(raw)
        manager = bg_factory.bg(bot, int(target["user_id"]), int(target["chat_id"]))
        # Not awaited: the callback's processing must not wait for the chat's lock.
        task = asyncio.create_task(_continue(manager, str(payload["request_id"])))
        running.add(task)
        task.add_done_callback(running.discard)

    events.subscribe(FAMILY_RESULT, on_family_result)


def target_key(request_id: str) -> str:
    return f"indigo:wizard:family:{request_id}"


async def remember_target(redis: Redis, request_id: str, user_id: int, chat_id: int) -> None:
    """Called when the wizard starts a family request: where to continue when it is answered."""
    payload = json.dumps({"user_id": user_id, "chat_id": chat_id})
    await redis.set(target_key(request_id), payload, ex=TARGET_TTL_SECONDS)


async def _continue(bg: BaseDialogManager, request_id: str) -> None:
    try:
        async with asyncio.timeout(FG_TIMEOUT_SECONDS), bg.fg() as manager:
            await _move_on(manager, request_id)
    except TimeoutError:
        log.warning("wizard for family request could not be continued in time")
    except Exception:
        log.exception("continuing the wizard after a family result failed")


async def _move_on(manager: DialogManager, request_id: str) -> None:
    if not manager.has_context():
        return
    context = manager.current_context()
    if context.state != S.family_wait:
        return  # the parent went elsewhere; the "Check" button or a new request covers it
    if context.dialog_data.get("request_id") != request_id:
        return  # an older request of this chat
    status = await load_family(manager)
    if status == "pending":
        return
    if status == "ready":
        await manager.switch_to(S.child)
    # This task is not the dispatcher's: enter the reader's language for rendering.
    i18n = manager.middleware_data.get("i18n")
    locale = manager.middleware_data.get("locale") or "ru"
    if i18n is None:
        await manager.show(ShowMode.SEND)
        return
    with i18n.context(), i18n.use_locale(locale):
        await manager.show(ShowMode.SEND)
