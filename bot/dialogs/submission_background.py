"""The wizard continues by itself when the gov family result arrives.

`core.inbox` publishes `core.events.FAMILY_RESULT` after the parent consented (or refused) by
SMS from 1414. The wizard remembered, in Redis, which Telegram chat made each request; here a
background dialog manager (aiogram-dialog's `BgManagerFactoryImpl`) enters that chat's dialog
stack and, if it is still waiting for exactly this request, shows the children found.
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import TYPE_CHECKING, Any

from aiogram_dialog import DialogManager, ShowMode
from aiogram_dialog.manager.bg_manager import BgManagerFactoryImpl

from core.platform.events import FAMILY_RESULT

if TYPE_CHECKING:
    from redis.asyncio import Redis

    from indigo.app import App

log = logging.getLogger(__name__)

TARGET_TTL_SECONDS = 24 * 3600
FG_TIMEOUT_SECONDS = 30


def target_key(request_id: str) -> str:
    return f"indigo:wizard:family:{request_id}"


async def remember_target(redis: Redis, request_id: str, user_id: int, chat_id: int) -> None:
    """Called when the wizard starts a family request: where to continue when it is answered."""
    payload = json.dumps({"user_id": user_id, "chat_id": chat_id})
    await redis.set(target_key(request_id), payload, ex=TARGET_TTL_SECONDS)


def subscribe_family_results(app: App) -> None:
    factory = BgManagerFactoryImpl(app.dispatcher)
    running: set[asyncio.Task[None]] = set()

    async def on_family_result(payload: dict[str, Any]) -> None:
        raw = await app.redis.get(target_key(str(payload["request_id"])))
        if raw is None:
            return  # not started from a wizard of this bot (or long forgotten)
        target = json.loads(raw)
        manager = factory.bg(app.bot, int(target["user_id"]), int(target["chat_id"]))
        # Not awaited: the callback's processing must not wait for the chat's lock.
        task = asyncio.create_task(_continue(manager, str(payload["request_id"])))
        running.add(task)
        task.add_done_callback(running.discard)

    app.events.subscribe(FAMILY_RESULT, on_family_result)


async def _continue(bg: Any, request_id: str) -> None:
    try:
        async with asyncio.timeout(FG_TIMEOUT_SECONDS), bg.fg() as manager:
            await _move_on(manager, request_id)
    except TimeoutError:
        log.warning("wizard for family request could not be continued in time")
    except Exception:
        log.exception("continuing the wizard after a family result failed")


async def _move_on(manager: DialogManager, request_id: str) -> None:
    from bot.dialogs.submission import SubmissionSG
    from bot.dialogs.submission_logic import load_family

    if not manager.has_context():
        return
    context = manager.current_context()
    if context.state != SubmissionSG.family_wait:
        return  # the parent went elsewhere; the "Check" button or a new request covers it
    if context.dialog_data.get("request_id") != request_id:
        return  # an older request of this chat
    status = await load_family(manager)
    if status == "pending":
        return
    if status == "ready":
        await manager.switch_to(SubmissionSG.child)
    # This task is not the dispatcher's: enter the reader's language for rendering.
    i18n = manager.middleware_data.get("i18n")
    locale = manager.middleware_data.get("locale") or "ru"
    if i18n is None:
        await manager.show(ShowMode.SEND)
        return
    with i18n.context(), i18n.use_locale(locale):
        await manager.show(ShowMode.SEND)
