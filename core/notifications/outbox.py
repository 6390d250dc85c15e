"""The notification outbox: rows written in the same transaction as the change that causes them.

The worker (`worker/`) renders each row in the recipient's language and delivers it once.
`kind` names a template (see worker templates); `params` are JSON primitives only.
"""

from __future__ import annotations

from typing import Any

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.connection import get_connection

from core.models import Applicant, Channel, Notification


async def notify(
    applicant: Applicant,
    kind: str,
    params: dict[str, Any],
    *,
    key: str,
    conn: BaseDBAsyncClient | None = None,
    broadcast_id: int | None = None,
) -> Notification | None:
    """Queue one notification; the idempotency `key` makes a repeated call a no-op."""
    conn = conn or get_connection("default")
    existing = await Notification.filter(idempotency_key=key).using_db(conn).first()
    if existing:
        return None
    channel = Channel.sms if applicant.blocked_bot else applicant.channel
    return await Notification.create(
        idempotency_key=key,
        applicant_id=applicant.id,
        broadcast_id=broadcast_id,
        kind=kind,
        params=params,
        language=applicant.language,
        channel=channel,
        using_db=conn,
    )
