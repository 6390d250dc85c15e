"""Ports to the outside world (typing.Protocol), and the HTTP contract their adapters speak.

Handlers and services depend on these protocols; production plugs the aiohttp clients
(`core.gov_client`, `core.sms_client`), tests and the demo point the same clients at the sandbox.

Gov gateway (base `GOV_BASE_URL`, header `Authorization: Bearer <GOV_API_KEY>`):
  GET  /persons/{iin}      200 {"iin","last_name","first_name","middle_name","birth_date","sex"}
                           404 {"error": "not_found"}
  GET  /bmg/{phone}        200 {"phone": "+77011234567", "registered": bool, "iin": str | null}
  GET  /benefits/{iin}     200 {"iin", "benefits": [{"category": 5..11, "valid_until": "Y-M-D"}]}
  POST /family-requests    {"parent_iin"} -> 202 {"request_id", "status": "consent_pending"}
                           404 when the registry does not know the parent.
  The result arrives later at our `POST /callbacks/gov` once the parent consents by SMS (1414):
    {"event_id", "type": "family.consent_result", "request_id", "parent_iin", "consent": bool,
     "children": [{"iin", "last_name", "first_name", "middle_name", "birth_date", "sex",
                   "legal_representative": bool}],
     "benefits": [{"category": int, "valid_until": "Y-M-D"}]}
  Other gov callback types: "benefit.confirmed" {"event_id", "type", "iin", "category",
  "confirmed": bool, "reason": str}; "person.updated" {"event_id", "type", "iin", fields...};
  "seats.released" {"event_id", "type", "group_id", "seats": int} (kindergarten ERP).

SMS gateway (base `SMS_BASE_URL`, header `Authorization: Bearer <SMS_API_KEY>`):
  POST /messages {"to": "+77011234567", "text", "client_id"} -> 202 {"message_id", "status":
       "accepted"}; the same client_id again returns the same message_id and sends nothing.
  Our `POST /callbacks/sms` then receives {"event_id", "type": "delivery_report", "message_id",
  "client_id", "status": "delivered" | "failed"} and {"event_id", "type": "inbound", "from",
  "text"}.

Callbacks are signed: `X-Timestamp` (Unix seconds) and `X-Signature`, the hex HMAC-SHA256 of
`<timestamp>.<raw body>` with the provider's shared secret (`core.signing`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Protocol


@dataclass(frozen=True)
class PersonRecord:
    iin: str
    last_name: str
    first_name: str
    middle_name: str
    birth_date: date
    sex: str


@dataclass(frozen=True)
class BmgRecord:
    phone: str
    registered: bool
    iin: str | None


@dataclass(frozen=True)
class BenefitRecord:
    category: int
    valid_until: date


@dataclass(frozen=True)
class ChildRecord:
    person: PersonRecord
    legal_representative: bool


@dataclass(frozen=True)
class FamilyResult:
    request_id: str
    parent_iin: str
    consent: bool
    children: list[ChildRecord] = field(default_factory=list)
    benefits: list[BenefitRecord] = field(default_factory=list)


class GatewayUnavailable(Exception):
    """The provider did not answer or answered 5xx; the caller may retry later."""


class GovGateway(Protocol):
    async def person(self, iin: str) -> PersonRecord | None: ...

    async def phone_registered(self, phone: str) -> BmgRecord: ...

    async def benefits(self, iin: str) -> list[BenefitRecord]: ...

    async def request_family(self, parent_iin: str) -> str:
        """Start a family-composition request; returns its id, the result comes by callback."""
        ...


class SmsGateway(Protocol):
    async def send(self, phone: str, text: str, client_id: str) -> str:
        """Send one SMS; `client_id` makes a retry safe. Returns the provider's message id."""
        ...
