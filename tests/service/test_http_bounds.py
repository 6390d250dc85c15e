"""The public listener under a hostile peer: stalled bodies, connection floods, forged secrets and
signatures, log flooding; readiness and metrics only on the internal listener."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import AsyncIterator

import pytest
from prometheus_client import REGISTRY
from redis.asyncio import Redis
from yarl import URL

from core.platform.settings import Settings
from core.platform.signing import sign
from tests.fixtures.webhooks import CallbacksStack, eventually, run_callbacks_stack

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
BODY_TIMEOUT = 1.0


@pytest.fixture
async def bounded(settings: Settings, db: None, redis: Redis) -> AsyncIterator[CallbacksStack]:
    async with run_callbacks_stack(
        settings, redis, http_body_timeout_seconds=BODY_TIMEOUT, http_max_connections=4
    ) as running:
        yield running


def rejects(source: str, reason: str) -> float:
    labels = {"source": source, "reason": reason}
    return REGISTRY.get_sample_value("indigo_webhook_rejects_total", labels) or 0.0


async def raw(stack: CallbacksStack) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    url = URL(stack.web_url)
    assert url.host is not None and url.port is not None
    return await asyncio.open_connection(url.host, url.port)


def request_head(path: str, length: int, **headers: str) -> bytes:
    lines = [f"POST {path} HTTP/1.1", "Host: x", f"Content-Length: {length}"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


async def test_a_stalled_body_is_answered_408_and_closed_within_the_bound(
    bounded: CallbacksStack,
) -> None:
    reader, writer = await raw(bounded)
    started = time.monotonic()
    writer.write(request_head("/callbacks/gov", 1000, **{"Content-Type": "application/json"}))
    writer.write(b"{")  # 1 byte of 1000, then silence
    await writer.drain()
    answer = await asyncio.wait_for(reader.readuntil(b"}"), timeout=BODY_TIMEOUT + 2)
    answered = time.monotonic() - started
    assert await asyncio.wait_for(reader.read(), timeout=3) == b""  # then closed
    writer.close()
    assert answer.startswith(b"HTTP/1.1 408"), answer[:60]
    assert answer.endswith(b'{"error": "body_timeout"}')
    assert BODY_TIMEOUT - 0.2 < answered < BODY_TIMEOUT + 1


async def test_connections_beyond_the_cap_are_refused_busy_and_the_rest_still_served(
    bounded: CallbacksStack,
) -> None:
    held = [await raw(bounded) for _ in range(4)]  # the cap: 4 idle connections
    await asyncio.sleep(0.2)  # accepted by the server
    reader, writer = await raw(bounded)
    answer = await asyncio.wait_for(reader.read(), timeout=3)
    writer.close()
    assert answer.startswith(b"HTTP/1.1 503") and b'"busy"' in answer
    assert rejects("http", "too_many_connections") >= 1
    for _, held_writer in held:
        held_writer.close()

    async def healthy() -> bool:
        async with bounded.http.get(bounded.web_url + "/healthz") as resp:
            return resp.status == 200

    await eventually(healthy, within=5)  # slots come back once the peers leave


async def test_a_client_that_leaves_mid_body_is_counted_not_logged_as_an_error(
    bounded: CallbacksStack, caplog: pytest.LogCaptureFixture
) -> None:
    before = rejects("http", "disconnected")
    caplog.set_level(logging.INFO)
    for _ in range(5):
        _, writer = await raw(bounded)
        writer.write(request_head("/callbacks/gov", 1000) + b"{")
        await writer.drain()
        writer.close()
        await writer.wait_closed()

    async def all_counted() -> bool:
        return rejects("http", "disconnected") >= before + 5

    await eventually(all_counted, within=5)
    assert rejects("http", "disconnected") == before + 5
    assert [r for r in caplog.records if r.levelno >= logging.INFO] == []


async def test_forged_callbacks_are_counted_without_a_log_line_each(
    bounded: CallbacksStack, caplog: pytest.LogCaptureFixture
) -> None:
    before = rejects("gov", "signature")
    caplog.set_level(logging.INFO)
    payload = {"event_id": "e", "type": "person.updated", "iin": "900101300123"}
    for _ in range(30):
        status, body = await bounded.post_signed("/callbacks/gov", payload, secret="guess")
        assert (status, body) == (401, {"error": "signature"})
    assert rejects("gov", "signature") == before + 30
    assert [r for r in caplog.records if r.levelno >= logging.INFO] == []


async def test_a_non_ascii_signature_is_a_wrong_signature_not_a_server_error(
    bounded: CallbacksStack,
) -> None:
    body = json.dumps({"event_id": "e", "type": "inbound", "from": "+7", "text": "x"}).encode()
    ts = str(int(time.time()))
    for signature in ("é" * 64, "é" * 32, "Ж", sign("sms-secret", ts, body)[:-1] + "é"):
        reader, writer = await raw(bounded)
        head = request_head("/callbacks/sms", len(body), **{"X-Timestamp": ts})
        writer.write(head[:-2] + b"X-Signature: " + signature.encode() + b"\r\n\r\n" + body)
        await writer.drain()
        answer = await asyncio.wait_for(reader.readuntil(b"}"), timeout=3)
        writer.close()
        assert answer.startswith(b"HTTP/1.1 401"), answer[:40]
        assert answer.endswith(b'{"error": "signature"}')


async def test_the_telegram_webhook_fails_closed_without_a_configured_secret(
    settings: Settings, db: None, redis: Redis
) -> None:
    update = {"update_id": 77, "message": {"text": "/start"}}
    async with run_callbacks_stack(settings, redis, telegram_webhook_secret=[]) as open_stack:
        for headers in ({}, {SECRET_HEADER: ""}, {SECRET_HEADER: "anything"}):
            async with open_stack.http.post(
                open_stack.web_url + "/telegram/webhook", json=update, headers=headers
            ) as resp:
                assert (resp.status, await resp.json()) == (401, {"error": "secret"})
        assert open_stack.texts == []


async def test_a_wrong_or_non_ascii_telegram_secret_is_refused(bounded: CallbacksStack) -> None:
    for token in (b"wrong", b"tg-secre", "tg-secretЖ".encode()):
        reader, writer = await raw(bounded)
        body = b'{"update_id": 5}'
        writer.write(request_head("/telegram/webhook", len(body))[:-2])
        writer.write(SECRET_HEADER.encode() + b": " + token + b"\r\n\r\n" + body)
        await writer.drain()
        answer = await asyncio.wait_for(reader.readuntil(b"}"), timeout=3)
        writer.close()
        assert answer.startswith(b"HTTP/1.1 401"), answer[:40]


async def test_readiness_and_metrics_are_internal_only(bounded: CallbacksStack) -> None:
    for path in ("/readyz", "/metrics"):
        async with bounded.http.get(bounded.web_url + path) as resp:
            assert resp.status == 404
        async with bounded.http.get(bounded.internal_url + path) as resp:
            assert resp.status == 200
    async with bounded.http.get(bounded.web_url + "/healthz") as resp:
        assert (resp.status, await resp.json()) == (200, {"status": "ok"})


async def test_readiness_names_no_exception_when_a_dependency_is_down(
    settings: Settings, db: None, caplog: pytest.LogCaptureFixture
) -> None:
    dead = Redis.from_url("redis://127.0.0.1:1/0")
    try:
        async with run_callbacks_stack(settings, dead) as broken:
            async with broken.http.get(broken.internal_url + "/readyz") as resp:
                assert resp.status == 503
                body = await resp.json()
    finally:
        with contextlib.suppress(Exception):
            await dead.aclose()
    assert body == {"status": "unavailable", "database": "ok", "redis": "unavailable"}
    assert any("redis does not answer" in r.getMessage() for r in caplog.records)


@pytest.mark.parametrize(
    ("body", "answer"),
    [
        (b'{"event_id": "a\\u0000b", "type": "person.updated", "iin": "900101300123"}', "invalid"),
        (
            b'{"event_id": "e", "type": "person.updated", "iin": "900101300123", "x": NaN}',
            "malformed_json",
        ),
        (b"[" * 60_000 + b"]" * 10_000, "too_large"),
        (b"[" * 20_000 + b"]" * 20_000, "malformed_json"),
    ],
    ids=["nul", "nan", "oversized", "deeply-nested"],
)
async def test_bodies_the_database_cannot_store_are_refused_not_a_server_error(
    bounded: CallbacksStack, body: bytes, answer: str
) -> None:
    status, reply = await bounded.post_signed("/callbacks/gov", body)
    assert status in (400, 413) and reply["error"] == answer


async def test_a_connection_stalled_in_its_headers_is_closed_after_the_idle_timeout(
    settings: Settings, db: None, redis: Redis
) -> None:
    async with run_callbacks_stack(settings, redis, http_idle_timeout_seconds=1) as stack:
        for sent in (b"", b"POST /callbacks/gov HTTP/1.1\r\nHost: x\r\n"):  # silent, half a head
            reader, writer = await raw(stack)
            started = time.monotonic()
            writer.write(sent)
            await writer.drain()
            assert await asyncio.wait_for(reader.read(), timeout=4) == b""
            writer.close()
            assert time.monotonic() - started < 3


async def test_malformed_http_is_answered_400_and_counted_without_a_traceback(
    bounded: CallbacksStack, caplog: pytest.LogCaptureFixture
) -> None:
    before = rejects("http", "malformed_http")
    caplog.set_level(logging.INFO)
    for head in (
        b"POST /callbacks/gov HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n",
        b"GET /healthz HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n",
    ):
        reader, writer = await raw(bounded)
        writer.write(head)
        await writer.drain()
        answer = await asyncio.wait_for(reader.read(), timeout=3)
        writer.close()
        assert answer.split(b"\r\n")[0].endswith(b" 400 Bad Request"), answer[:40]
    assert rejects("http", "malformed_http") == before + 2
    assert [r for r in caplog.records if r.levelno >= logging.INFO] == []
