"""Fake state systems: person registry, БМГ phones, benefits and the family-composition request.

`add_routes(app, GovConfig(...))` mounts the provider API under `/gov/...` (the `core.ports`
contract) and the sandbox controls under `/sandbox/gov/...`:
  POST /sandbox/gov/consent/{request_id} {"consent": bool}  the parent answers the 1414 SMS
  POST /sandbox/gov/auto-consent {"enabled": bool}          consent every request after ~0.2 s
  GET  /sandbox/gov/requests                                requests still waiting for consent
  POST /sandbox/gov/callbacks {"type": ..., ...}            send any signed gov callback
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from aiohttp import web

from core.platform.pii import mask_iin
from devtools.sandbox.gov.callbacks import CallbackSender, deliver, new_event_id, send_gov_callback
from devtools.sandbox.gov.personas import BY_IIN, PERSONAS, persona_family, persona_person
from devtools.sandbox.gov.registry import Family, generated_family, generated_person

log = logging.getLogger(__name__)

__all__ = ["GOV", "PERSONAS", "GovConfig", "GovFake", "add_routes", "send_gov_callback"]

AUTO_CONSENT_DELAY = 0.2


@dataclass
class GovConfig:
    callback_url: str | None
    secret: str
    auto_consent: bool = False
    api_key: str = ""


@dataclass
class FamilyRequest:
    request_id: str
    parent_iin: str
    status: str = "consent_pending"  # consent_pending, consented, refused
    delivered: bool = False
    payload: dict[str, Any] | None = None


@dataclass
class GovFake:
    config: GovConfig
    requests: dict[str, FamilyRequest] = field(default_factory=dict)
    sent: list[dict[str, Any]] = field(default_factory=list)  # every callback payload sent
    _outgoing: CallbackSender = field(default_factory=CallbackSender)

    # -- the registry ----------------------------------------------------------------------

    def person(self, iin: str, today: date | None = None) -> dict[str, str] | None:
        today = today or date.today()
        if iin in BY_IIN:
            return persona_person(BY_IIN[iin]).to_json()
        for persona in PERSONAS:  # persona children carry their family's names
            for child in persona_family(persona, today).children:
                if child.person.iin == iin:
                    return child.person.to_json()
        person = generated_person(iin, today)
        return person.to_json() if person else None

    def family(self, parent_iin: str, today: date | None = None) -> Family | None:
        today = today or date.today()
        if parent_iin in BY_IIN:
            return persona_family(BY_IIN[parent_iin], today)
        return generated_family(parent_iin, today)

    def bmg(self, phone: str) -> dict[str, Any]:
        for persona in PERSONAS:
            if phone in persona.phones:
                return {"phone": phone, "registered": True, "iin": persona.iin}
        return {"phone": phone, "registered": not phone.endswith("0000"), "iin": None}

    def benefits(self, iin: str) -> list[dict[str, object]]:
        family = self.family(iin)
        return list(family.benefits) if family else []

    # -- family requests -------------------------------------------------------------------

    def start(self, parent_iin: str) -> FamilyRequest | None:
        if self.family(parent_iin) is None:
            return None
        request = FamilyRequest(request_id=uuid.uuid4().hex, parent_iin=parent_iin)
        self.requests[request.request_id] = request
        if self.config.auto_consent:
            self._outgoing.spawn(self._auto_consent(request.request_id))
        return request

    async def answer(self, request_id: str, consent: bool) -> FamilyRequest | None:
        request = self.requests.get(request_id)
        if request is None:
            return None
        if request.status == "consent_pending":
            request.status = "consented" if consent else "refused"
            request.payload = self._result_payload(request, consent)
        assert request.payload is not None
        if self.config.callback_url and not request.delivered:
            # The first attempt inline (the receiver answers in milliseconds), retries behind.
            request.delivered = await deliver(
                self._outgoing.session(),
                self.config.callback_url,
                self.config.secret,
                request.payload,
                (),
            )
            if not request.delivered:
                self._outgoing.spawn(self._redeliver(request))
        return request

    def _result_payload(self, request: FamilyRequest, consent: bool) -> dict[str, Any]:
        family = self.family(request.parent_iin)
        payload: dict[str, Any] = {
            "event_id": new_event_id(),
            "type": "family.consent_result",
            "request_id": request.request_id,
            "parent_iin": request.parent_iin,
            "consent": consent,
            "children": [],
            "benefits": [],
        }
        if consent and family is not None:
            payload["children"] = [child.to_json() for child in family.children]
            payload["benefits"] = list(family.benefits)
        self.sent.append(payload)
        return payload

    async def _auto_consent(self, request_id: str) -> None:
        await asyncio.sleep(AUTO_CONSENT_DELAY)
        await self.answer(request_id, True)

    async def _redeliver(self, request: FamilyRequest) -> None:
        assert request.payload is not None and self.config.callback_url
        request.delivered = await deliver(
            self._outgoing.session(), self.config.callback_url, self.config.secret, request.payload
        )
        if not request.delivered:
            log.warning("gov fake gave up delivering request %s", request.request_id)

    # -- plumbing --------------------------------------------------------------------------

    async def close(self) -> None:
        await self._outgoing.close()


GOV: web.AppKey[GovFake] = web.AppKey("sandbox_gov", GovFake)


def add_routes(app: web.Application, config: GovConfig, *, prefix: str = "/gov") -> GovFake:
    """Mount the fake gov API at `prefix` and the `/sandbox/gov` controls; returns the fake."""
    fake = GovFake(config)
    app[GOV] = fake

    def authorised(request: web.Request) -> bool:
        return not config.api_key or request.headers.get("Authorization") == (
            f"Bearer {config.api_key}"
        )

    def unauthorised() -> web.Response:
        return web.json_response({"error": "unauthorized"}, status=401)

    async def person(request: web.Request) -> web.Response:
        if not authorised(request):
            return unauthorised()
        found = fake.person(request.match_info["iin"])
        if found is None:
            return web.json_response({"error": "not_found"}, status=404)
        return web.json_response(found)

    async def bmg(request: web.Request) -> web.Response:
        if not authorised(request):
            return unauthorised()
        return web.json_response(fake.bmg(normalise_phone(request.match_info["phone"])))

    async def benefits(request: web.Request) -> web.Response:
        if not authorised(request):
            return unauthorised()
        iin = request.match_info["iin"]
        if fake.person(iin) is None:
            return web.json_response({"error": "not_found"}, status=404)
        return web.json_response({"iin": iin, "benefits": fake.benefits(iin)})

    async def family_request(request: web.Request) -> web.Response:
        if not authorised(request):
            return unauthorised()
        try:
            body = await request.json()
            parent_iin = str(body["parent_iin"])
        except (ValueError, KeyError, TypeError):
            return web.json_response({"error": "bad_request"}, status=400)
        started = fake.start(parent_iin)
        if started is None:
            return web.json_response({"error": "not_found"}, status=404)
        log.info("gov fake: family request %s for %s", started.request_id, mask_iin(parent_iin))
        return web.json_response(
            {"request_id": started.request_id, "status": started.status}, status=202
        )

    async def consent(request: web.Request) -> web.Response:
        try:
            body = await request.json()
            answer = body["consent"]
            if not isinstance(answer, bool):
                raise TypeError
        except (ValueError, KeyError, TypeError):
            return web.json_response({"error": "consent must be true or false"}, status=400)
        answered = await fake.answer(request.match_info["request_id"], answer)
        if answered is None:
            return web.json_response({"error": "unknown request"}, status=404)
        return web.json_response(
            {
                "request_id": answered.request_id,
                "status": answered.status,
                "delivered": answered.delivered,
            }
        )

    async def auto_consent(request: web.Request) -> web.Response:
        try:
            enabled = (await request.json())["enabled"]
            if not isinstance(enabled, bool):
                raise TypeError
        except (ValueError, KeyError, TypeError):
            return web.json_response({"error": "enabled must be true or false"}, status=400)
        config.auto_consent = enabled
        if enabled:  # requests already waiting are answered too
            for pending in list(fake.requests.values()):
                if pending.status == "consent_pending":
                    fake._outgoing.spawn(fake._auto_consent(pending.request_id))
        return web.json_response({"auto_consent": enabled})

    async def pending(request: web.Request) -> web.Response:
        waiting = [
            {"request_id": r.request_id, "parent_iin": r.parent_iin, "status": r.status}
            for r in fake.requests.values()
            if r.status == "consent_pending"
        ]
        return web.json_response({"requests": waiting})

    async def callback(request: web.Request) -> web.Response:
        if not config.callback_url:
            return web.json_response({"error": "no callback_url configured"}, status=409)
        try:
            payload = await request.json()
            if not isinstance(payload, dict) or "type" not in payload:
                raise TypeError
        except (ValueError, TypeError):
            return web.json_response({"error": "a JSON object with a type"}, status=400)
        status = await send_gov_callback(
            config.callback_url, config.secret, payload, session=fake._outgoing.session()
        )
        return web.json_response({"status": status})

    async def cleanup(_: web.Application) -> None:
        await fake.close()

    app.router.add_get(f"{prefix}/persons/{{iin}}", person)
    app.router.add_get(f"{prefix}/bmg/{{phone}}", bmg)
    app.router.add_get(f"{prefix}/benefits/{{iin}}", benefits)
    app.router.add_post(f"{prefix}/family-requests", family_request)
    app.router.add_post("/sandbox/gov/consent/{request_id}", consent)
    app.router.add_post("/sandbox/gov/auto-consent", auto_consent)
    app.router.add_get("/sandbox/gov/requests", pending)
    app.router.add_post("/sandbox/gov/callbacks", callback)
    app.on_cleanup.append(cleanup)
    return fake


def normalise_phone(raw: str) -> str:
    digits = "".join(ch for ch in raw if ch.isdigit())
    if len(digits) == 11 and digits[0] in "78":
        digits = "7" + digits[1:]
    elif len(digits) == 10:
        digits = "7" + digits
    return "+" + digits
