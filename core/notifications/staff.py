"""Pushes to staff in the bot, through the same outbox as the parents' notices.

A staff member's chat is the one their Telegram user opened with the bot: the applicant row made
at first contact (`core.people.applicants.get_or_create_applicant`); the notice is in the
language they chose there. A staff member who never opened the bot is skipped: Telegram lets a
bot write only to users who started it.
"""

from __future__ import annotations

from collections.abc import Iterable

from tortoise.backends.base.client import BaseDBAsyncClient

from core.models import Applicant, StaffMember
from core.notifications import outbox
from core.notifications.kinds import AnyPayload


async def notify_staff(
    members: Iterable[StaffMember],
    payload: AnyPayload,
    *,
    key: str,
    conn: BaseDBAsyncClient,
) -> int:
    """Queue `payload` for each of these staff members once (`key` + their Telegram id);
    returns how many were queued."""
    users = {member.telegram_user_id for member in members}
    if not users:
        return 0
    queued = 0
    chats = await Applicant.filter(telegram_user_id__in=users).using_db(conn).order_by("id")
    for chat in chats:
        row = await outbox.notify(chat, payload, key=f"{key}:{chat.telegram_user_id}", conn=conn)
        queued += row is not None
    return queued
