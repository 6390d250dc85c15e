"""The notification outbox: rows written in the same transaction as the change that causes them.

The worker (`worker/`) renders each row in the row's language and delivers it once: the
notification language of the application the notice is about (step 4 of the submission), the
parent's own for anything else. A parent who signed out ("Выйти") is not written to in that chat
any more: until a phone is confirmed again their notices go by SMS to the family's number (their
applications stay in the queue, and a seat offered must still reach them).
A row holds a typed payload (`core.notifications.kinds`) as its `kind` and JSON `params`.
"""

from __future__ import annotations

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.connection import get_connection

from core.models import Applicant, Application, Channel, Language, Notification
from core.notifications.kinds import AnyPayload, applications_of


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
    language = await language_of(applicant, payload, conn)
    # Only a chat's row can change: SMS goes to the phone anyway.
    by_chat = applicant.channel != Channel.sms and not applicant.blocked_bot
    signed_out = by_chat and bool(await signed_out_among([applicant.id], conn))
    return await Notification.create(
        using_db=conn,
        **row_fields(
            applicant,
            payload,
            key=key,
            broadcast_id=broadcast_id,
            language=language,
            signed_out=signed_out,
        ),
    )


async def language_of(
    applicant: Applicant, payload: AnyPayload, conn: BaseDBAsyncClient
) -> Language:
    """The notification language of the parent's application(s) the notice is about, when they
    agree on one; the parent's language otherwise."""
    about = applications_of(payload)
    if about is None:
        return Language(applicant.language)
    languages = {
        str(language)
        for language in await Application.filter(applicant_id=applicant.id, **about)
        .using_db(conn)
        .distinct()
        .values_list("notification_language", flat=True)
    }
    return Language(languages.pop()) if len(languages) == 1 else Language(applicant.language)


async def signed_out_among(applicant_ids: list[int], conn: BaseDBAsyncClient) -> set[int]:
    """The parents among these who signed out ("Выйти") and confirmed no phone since."""
    rows = (
        await Applicant.filter(id__in=applicant_ids, signed_out_at__isnull=False)
        .using_db(conn)
        .values("id")
    )
    return {int(row["id"]) for row in rows}


def row_fields(
    applicant: Applicant,
    payload: AnyPayload,
    *,
    key: str,
    broadcast_id: int | None = None,
    language: Language | None = None,
    signed_out: bool = False,
) -> dict[str, object]:
    """The columns of one outbox row (also for a bulk insert): the channel is SMS for a parent
    who blocked the bot or signed out in it; the language `language_of` found, the parent's by
    default."""
    return {
        "idempotency_key": key,
        "applicant_id": applicant.id,
        "broadcast_id": broadcast_id,
        "kind": payload.kind,
        "params": payload.to_params(),
        "language": language or applicant.language,
        "channel": Channel.sms if applicant.blocked_bot or signed_out else applicant.channel,
    }
