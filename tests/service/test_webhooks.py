"""The webhook receivers: forgery, replay, malformed bodies, Telegram de-duplication, health."""

from __future__ import annotations

import json
import time
from datetime import timedelta

from redis.asyncio import Redis

from core.models import Applicant, GovRequest, GovRequestStatus, InboxEvent, InboxStatus
from core.platform import clock
from core.platform.events import FAMILY_RESULT
from core.platform.settings import Settings
from core.platform.signing import signed_headers
from core.registry import family_requests, inbox
from devtools.sandbox.gov.personas import AIGERIM
from tests.fixtures.webhooks import (
    CallbacksStack,
    eventually,
    run_callbacks_stack,
)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


def person_updated(event_id: str = "evt-1", **fields: object) -> dict[str, object]:
    return {"event_id": event_id, "type": "person.updated", "iin": AIGERIM.iin, **fields}


async def test_a_forged_signature_is_rejected_and_nothing_is_stored(stack: CallbacksStack) -> None:
    status, body = await stack.post_signed("/callbacks/gov", person_updated(), secret="guess")
    assert (status, body) == (401, {"error": "signature"})
    assert await InboxEvent.all().count() == 0


async def test_a_stale_timestamp_is_rejected(stack: CallbacksStack) -> None:
    old = int(time.time()) - 6 * 60
    status, body = await stack.post_signed("/callbacks/gov", person_updated(), timestamp=old)
    assert (status, body) == (401, {"error": "stale"})


async def test_missing_signature_headers_are_rejected(stack: CallbacksStack) -> None:
    status, body = await stack.post_signed(
        "/callbacks/sms", {"event_id": "e", "type": "inbound"}, headers={}
    )
    assert (status, body) == (401, {"error": "missing"})


async def test_a_replayed_event_answers_duplicate_and_changes_nothing(
    stack: CallbacksStack, redis: Redis
) -> None:
    payload = person_updated(last_name="Новая")
    assert await stack.post_signed("/callbacks/gov", payload) == (200, {"status": "accepted"})
    assert await stack.post_signed("/callbacks/gov", payload) == (200, {"status": "duplicate"})
    await redis.flushdb()  # Redis forgot (TTL, restart): the database still knows the event
    assert await stack.post_signed("/callbacks/gov", payload) == (200, {"status": "duplicate"})
    assert await InboxEvent.all().count() == 1


async def test_the_same_event_id_from_another_provider_is_a_different_event(
    stack: CallbacksStack,
) -> None:
    sms = {"event_id": "evt-1", "type": "inbound", "from": "+77015551234", "text": "hi"}
    assert (await stack.post_signed("/callbacks/gov", person_updated()))[1]["status"] == "accepted"
    assert (await stack.post_signed("/callbacks/sms", sms))[1]["status"] == "accepted"


async def test_malformed_json_is_a_bad_request(stack: CallbacksStack) -> None:
    status, body = await stack.post_signed("/callbacks/gov", b'{"event_id": "e", "type":')
    assert (status, body) == (400, {"error": "malformed_json"})
    status, body = await stack.post_signed("/callbacks/gov", b"[1, 2]")
    assert (status, body) == (400, {"error": "not_an_object"})


async def test_wrong_field_types_are_named_without_echoing_personal_data(
    stack: CallbacksStack,
) -> None:
    payload = {
        "event_id": "evt-2",
        "type": "family.consent_result",
        "request_id": "r1",
        "parent_iin": AIGERIM.iin,
        "consent": "yes",
        "children": [{"iin": "12345", "last_name": "Сейткали", "first_name": "А"}],
    }
    status, body = await stack.post_signed("/callbacks/gov", payload)
    assert status == 400 and body["error"] == "invalid"
    fields = {problem["field"] for problem in body["problems"]}
    assert {"consent", "children.0.iin", "children.0.birth_date"} <= fields
    assert AIGERIM.iin not in json.dumps(body) and "Сейткали" not in json.dumps(body)
    assert await InboxEvent.all().count() == 0  # nothing half-applied


async def test_an_unknown_event_type_is_a_bad_request(stack: CallbacksStack) -> None:
    status, body = await stack.post_signed(
        "/callbacks/gov", {"event_id": "e", "type": "weather.changed"}
    )
    assert (status, body) == (400, {"error": "unknown_type", "type": "weather.changed"})
    status, body = await stack.post_signed("/callbacks/sms", {"event_id": "e"})
    assert status == 400 and body["error"] == "invalid"


async def test_an_oversized_body_is_refused(stack: CallbacksStack) -> None:
    payload = person_updated(last_name="x" * (stack.settings.max_body_bytes + 1))
    status, body = await stack.post_signed("/callbacks/gov", payload)
    assert status == 413 and body["error"] == "too_large"


async def test_during_rotation_both_secrets_are_accepted(
    settings: Settings, db: None, redis: Redis
) -> None:
    async with run_callbacks_stack(
        settings, redis, gov_callback_secret=["new-secret", "gov-secret"]
    ) as rotating:
        old = await rotating.post_signed("/callbacks/gov", person_updated("a"), secret="gov-secret")
        new = await rotating.post_signed("/callbacks/gov", person_updated("b"), secret="new-secret")
        forged = await rotating.post_signed("/callbacks/gov", person_updated("c"), secret="x")
    assert old == new == (200, {"status": "accepted"})
    assert forged[0] == 401


async def test_a_telegram_update_delivered_twice_is_handled_once(stack: CallbacksStack) -> None:
    update = {
        "update_id": 9001,
        "message": {
            "message_id": 1,
            "date": int(time.time()),
            "chat": {"id": 42, "type": "private"},
            "from": {"id": 42, "is_bot": False, "first_name": "A"},
            "text": "/start",
        },
    }
    headers = {SECRET_HEADER: "tg-secret"}
    for _ in range(2):
        async with stack.http.post(
            stack.web_url + "/telegram/webhook", json=update, headers=headers
        ) as resp:
            assert resp.status == 200
    later = {**update, "update_id": 9002, "message": {**update["message"], "text": "next"}}
    async with stack.http.post(
        stack.web_url + "/telegram/webhook", json=later, headers=headers
    ) as resp:
        assert resp.status == 200
    await eventually(lambda: _has(stack.texts, "next"))
    assert stack.texts == ["/start", "next"]


async def test_a_telegram_update_without_the_secret_token_is_rejected(
    stack: CallbacksStack,
) -> None:
    update = {"update_id": 1}
    for headers in ({}, {SECRET_HEADER: "wrong"}):
        async with stack.http.post(
            stack.web_url + "/telegram/webhook", json=update, headers=headers
        ) as resp:
            assert resp.status == 401


async def test_health_readiness_and_metrics(stack: CallbacksStack) -> None:
    await stack.post_signed("/callbacks/gov", person_updated(), secret="forged")
    async with stack.http.get(stack.web_url + "/healthz") as resp:
        assert resp.status == 200
    async with stack.http.get(stack.internal_url + "/readyz") as resp:
        assert resp.status == 200
        assert await resp.json() == {"status": "ready", "database": "ok", "redis": "ok"}
    async with stack.http.get(stack.internal_url + "/metrics") as resp:
        text = await resp.text()
    assert 'indigo_webhook_rejects_total{reason="signature",source="gov"}' in text
    assert "indigo_outbox_depth" in text


async def test_readiness_fails_when_redis_is_gone(settings: Settings, db: None) -> None:
    dead = Redis.from_url("redis://127.0.0.1:1/0")
    async with run_callbacks_stack(settings, dead) as broken:
        async with broken.http.get(broken.internal_url + "/readyz") as resp:
            assert resp.status == 503
            body = await resp.json()
    await dead.aclose()
    assert body["database"] == "ok" and body["redis"] != "ok"


async def test_a_result_that_arrives_before_its_request_is_retried_not_lost(
    stack: CallbacksStack,
) -> None:
    payload = {
        "event_id": "early",
        "type": "family.consent_result",
        "request_id": "req-early",
        "parent_iin": AIGERIM.iin,
        "consent": False,
    }
    assert await stack.post_signed("/callbacks/gov", payload) == (200, {"status": "accepted"})
    event = await eventually(
        lambda: InboxEvent.filter(event_id="early", status=InboxStatus.failed).first()
    )
    assert "req-early" in event.error
    applicant = await Applicant.create(telegram_user_id=7)
    await GovRequest.create(request_id="req-early", applicant=applicant, parent_iin=AIGERIM.iin)
    published: list[dict[str, object]] = []

    async def record(data: dict[str, object]) -> None:
        published.append(data)

    ctx = inbox.InboxContext(settings=stack.settings, events=stack.app.events)
    ctx.events.subscribe(FAMILY_RESULT, record)
    with clock.travel(timedelta(minutes=5)):  # the backoff has elapsed
        await inbox.retry_pending(ctx)
    request = await family_requests.result_for(applicant.id)
    assert request is not None and request.status == GovRequestStatus.refused
    assert (await InboxEvent.get(event_id="early")).status == InboxStatus.done
    assert published == [
        {"request_id": "req-early", "applicant_id": applicant.id, "consent": False}
    ]


async def test_signed_headers_from_the_fake_helper_match_the_receiver(
    stack: CallbacksStack,
) -> None:
    body = json.dumps(person_updated("helper")).encode()
    headers = signed_headers("gov-secret", body)
    async with stack.http.post(stack.web_url + "/callbacks/gov", data=body, headers=headers) as r:
        assert r.status == 200


async def _has(items: list[str], wanted: str) -> bool:
    return wanted in items
