"""The notification outbox: rows written in the same transaction as the change that causes them.

The worker (`worker/`) renders each row in the recipient's language and delivers it once.
A row holds a typed payload (`core.notifications.kinds`) as its `kind` and JSON `params`.
"""

from __future__ import annotations

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.connection import get_connection

from core.models import Applicant, Channel, Notification
from core.notifications.kinds import AnyPayload


async def notify(
    applicant: Applicant,
    payload: AnyPayload,
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
    return await Notification.create(
        using_db=conn, **row_fields(applicant, payload, key=key, broadcast_id=broadcast_id)
    )


def row_fields(
    applicant: Applicant, payload: AnyPayload, *, key: str, broadcast_id: int | None = None
) -> dict[str, object]:
    """The columns of one outbox row (also for a bulk insert): the channel is SMS for a parent
    who blocked the bot, the language the parent's."""
    return {
        "idempotency_key": key,
        "applicant_id": applicant.id,
        "broadcast_id": broadcast_id,
        "kind": payload.kind,
        "params": payload.to_params(),
        "language": applicant.language,
        "channel": Channel.sms if applicant.blocked_bot else applicant.channel,
    }
