"""The fake SMS gateway through the real client: sends, inboxes, delivery reports, replies."""

from __future__ import annotations

from core.models import (
    Applicant,
    Channel,
    InboxEvent,
    Notification,
    NotificationStatus,
)
from tests.fixtures.webhooks import CallbacksStack, eventually


async def _inbox(stack: CallbacksStack, phone: str) -> list[str]:
    async with stack.http.get(f"{stack.sandbox_url}/sandbox/sms/inbox/{phone}") as resp:
        return [m["text"] for m in (await resp.json())["messages"]]


async def _sms_notification(key: str) -> Notification:
    applicant = await Applicant.create(telegram_user_id=hash(key) % 10**9, channel=Channel.sms)
    return await Notification.create(
        idempotency_key=key,
        applicant=applicant,
        kind="position_changed",
        channel=Channel.sms,
        status=NotificationStatus.sending,
    )


async def test_a_sent_code_shows_in_the_phone_inbox_once_even_when_the_send_is_retried(
    stack: CallbacksStack,
) -> None:
    first = await stack.sms.send("+77015551234", "Код: 123456", "otp:1")
    again = await stack.sms.send("+77015551234", "Код: 123456", "otp:1")
    assert first == again
    assert await _inbox(stack, "+77015551234") == ["Код: 123456"]
    assert await _inbox(stack, "87015551234") == ["Код: 123456"]  # the same phone, local format
    assert await _inbox(stack, "+77015554321") == []


async def test_the_delivery_report_marks_the_notification_delivered(stack: CallbacksStack) -> None:
    note = await _sms_notification("notify:1")
    await stack.sms.send("+77015551234", "Ваша позиция: 12", note.idempotency_key)

    async def delivered() -> bool:
        await note.refresh_from_db()
        return note.status == NotificationStatus.sent

    await eventually(delivered)
    assert note.sent_at is not None


async def test_a_number_that_cannot_receive_sms_gets_a_failed_report(
    stack: CallbacksStack,
) -> None:
    note = await _sms_notification("notify:2")
    await stack.sms.send("+77015559999", "Ваша позиция: 12", note.idempotency_key)

    async def failed() -> bool:
        await note.refresh_from_db()
        return note.status == NotificationStatus.failed

    await eventually(failed)
    assert await _inbox(stack, "+77015559999") == []


async def test_an_inbound_reply_is_stored_as_an_event(stack: CallbacksStack) -> None:
    async with stack.http.post(
        f"{stack.sandbox_url}/sandbox/sms/reply/+77015551234", json={"text": "ДА"}
    ) as resp:
        assert (await resp.json()) == {"delivered": True}
    event = await eventually(lambda: InboxEvent.filter(source="sms", type="inbound").first())
    assert event.payload["text"] == "ДА"


async def test_the_gateway_refuses_a_wrong_api_key(stack: CallbacksStack) -> None:
    async with stack.http.post(
        f"{stack.sandbox_url}/sms/messages",
        json={"to": "+77015551234", "text": "x", "client_id": "c"},
        headers={"Authorization": "Bearer wrong"},
    ) as resp:
        assert resp.status == 401
    assert await _inbox(stack, "+77015551234") == []
