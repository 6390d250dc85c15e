"""Fake SMS gateway: accepts sends, keeps each phone's inbox, calls back delivery reports.

`add_routes(app, SmsConfig(...))` mounts `POST /sms/messages` (the `core.ports` contract) and the
controls `GET /sandbox/sms/inbox/{phone}` (what the phone shows) and
`POST /sandbox/sms/reply/{phone}` {"text"} (the person answers: an `inbound` callback).
Numbers ending in 9999 cannot receive SMS: their delivery report says `failed`.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime

from aiohttp import web

from devtools.sandbox.gov import normalise_phone
from devtools.sandbox.gov.callbacks import CallbackSender, deliver, new_event_id

log = logging.getLogger(__name__)

__all__ = ["SMS", "SmsConfig", "SmsFake", "add_routes"]

REPORT_DELAY = 0.05


@dataclass
class SmsConfig:
    callback_url: str | None
    secret: str
    api_key: str = ""


@dataclass
class SmsMessage:
    message_id: str
    client_id: str
    to: str
    text: str
    at: str
    status: str = "accepted"  # accepted, delivered, failed

    def to_json(self) -> dict[str, str]:
        return {
            "message_id": self.message_id,
            "client_id": self.client_id,
            "to": self.to,
            "text": self.text,
            "at": self.at,
            "status": self.status,
        }


@dataclass
class SmsFake:
    config: SmsConfig
    by_client_id: dict[str, SmsMessage] = field(default_factory=dict)
    messages: list[SmsMessage] = field(default_factory=list)
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    _outgoing: CallbackSender = field(default_factory=CallbackSender)

    def accept(self, to: str, text: str, client_id: str) -> tuple[SmsMessage, bool]:
        """Store one message; the same client_id again returns the first one (and sends nothing)."""
        if client_id in self.by_client_id:
            return self.by_client_id[client_id], False
        message = SmsMessage(
            message_id=f"sms-{next(self._ids)}",
            client_id=client_id,
            to=normalise_phone(to),
            text=text,
            at=datetime.now(UTC).isoformat(),
        )
        self.by_client_id[client_id] = message
        self.messages.append(message)
        self._outgoing.spawn(self._report(message))
        return message, True

    def inbox(self, phone: str) -> list[SmsMessage]:
        phone = normalise_phone(phone)
        return [m for m in self.messages if m.to == phone and m.status != "failed"]

    async def _report(self, message: SmsMessage) -> None:
        await asyncio.sleep(REPORT_DELAY)  # the operator takes a moment, like a real one
        message.status = "failed" if message.to.endswith("9999") else "delivered"
        if not self.config.callback_url:
            return
        payload = {
            "event_id": new_event_id(),
            "type": "delivery_report",
            "message_id": message.message_id,
            "client_id": message.client_id,
            "status": message.status,
        }
        await deliver(
            self._outgoing.session(), self.config.callback_url, self.config.secret, payload
        )

    async def reply(self, phone: str, text: str) -> bool:
        if not self.config.callback_url:
            return False
        payload = {
            "event_id": new_event_id(),
            "type": "inbound",
            "from": normalise_phone(phone),
            "text": text,
        }
        return await deliver(
            self._outgoing.session(), self.config.callback_url, self.config.secret, payload
        )

    async def close(self) -> None:
        await self._outgoing.close()


SMS: web.AppKey[SmsFake] = web.AppKey("sandbox_sms", SmsFake)


def add_routes(app: web.Application, config: SmsConfig, *, prefix: str = "/sms") -> SmsFake:
    """Mount the fake SMS API at `prefix` and the `/sandbox/sms` controls; returns the fake."""
    fake = SmsFake(config)
    app[SMS] = fake

    async def send(request: web.Request) -> web.Response:
        if config.api_key and request.headers.get("Authorization") != f"Bearer {config.api_key}":
            return web.json_response({"error": "unauthorized"}, status=401)
        try:
            body = await request.json()
            to, text, client_id = body["to"], body["text"], body["client_id"]
            if not all(isinstance(v, str) and v for v in (to, text, client_id)):
                raise TypeError
        except (ValueError, KeyError, TypeError):
            return web.json_response({"error": "to, text and client_id are required"}, status=400)
        if len(normalise_phone(to)) != 12:
            return web.json_response({"error": "invalid_number"}, status=400)
        message, _ = fake.accept(to, text, client_id)
        return web.json_response(
            {"message_id": message.message_id, "status": "accepted"}, status=202
        )

    async def inbox(request: web.Request) -> web.Response:
        phone = normalise_phone(request.match_info["phone"])
        messages = [
            {"message_id": m.message_id, "text": m.text, "at": m.at} for m in fake.inbox(phone)
        ]
        return web.json_response({"phone": phone, "messages": messages})

    async def reply(request: web.Request) -> web.Response:
        try:
            text = (await request.json())["text"]
            if not isinstance(text, str):
                raise TypeError
        except (ValueError, KeyError, TypeError):
            return web.json_response({"error": "text is required"}, status=400)
        delivered = await fake.reply(request.match_info["phone"], text)
        return web.json_response({"delivered": delivered})

    async def cleanup(_: web.Application) -> None:
        await fake.close()

    app.router.add_post(f"{prefix}/messages", send)
    app.router.add_get("/sandbox/sms/inbox/{phone}", inbox)
    app.router.add_post("/sandbox/sms/reply/{phone}", reply)
    app.on_cleanup.append(cleanup)
    return fake
