"""Pydantic models of provider callback bodies, one per event type (`core.ports` contract)."""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Iin = Field(pattern=r"^\d{12}$")
EventId = Field(min_length=1, max_length=128)


class Callback(BaseModel):
    model_config = ConfigDict(strict=True, extra="allow")

    event_id: str = EventId
    type: str


class FamilyChild(BaseModel):
    model_config = ConfigDict(strict=True, extra="allow")

    iin: str = Iin
    last_name: str
    first_name: str
    middle_name: str = ""
    birth_date: date
    sex: str = ""
    # Absent means "not confirmed": only the registry may say who represents the child.
    legal_representative: bool = False


class Benefit(BaseModel):
    model_config = ConfigDict(strict=True)

    category: int = Field(ge=1, le=11)
    valid_until: date


class FamilyConsentResult(Callback):
    type: Literal["family.consent_result"]
    request_id: str = Field(min_length=1, max_length=64)
    parent_iin: str = Iin
    consent: bool
    children: list[FamilyChild] = []
    benefits: list[Benefit] = []


class BenefitConfirmed(Callback):
    type: Literal["benefit.confirmed"]
    iin: str = Iin
    category: int = Field(ge=1, le=11)
    confirmed: bool
    reason: str = ""


class PersonUpdated(Callback):
    type: Literal["person.updated"]
    iin: str = Iin
    last_name: str | None = None
    first_name: str | None = None
    middle_name: str | None = None
    birth_date: date | None = None


class SeatsReleased(Callback):
    type: Literal["seats.released"]
    group_id: int
    seats: int = Field(ge=1, le=1000)


class DeliveryReport(Callback):
    type: Literal["delivery_report"]
    message_id: str = Field(min_length=1, max_length=128)
    client_id: str = Field(min_length=1, max_length=128)
    status: Literal["delivered", "failed"]


class Inbound(Callback):
    model_config = ConfigDict(strict=True, extra="allow", populate_by_name=True)

    type: Literal["inbound"]
    sender: str = Field(alias="from", min_length=1, max_length=32)
    text: str = Field(max_length=2000)


MODELS: dict[str, dict[str, type[Callback]]] = {
    "gov": {
        "family.consent_result": FamilyConsentResult,
        "benefit.confirmed": BenefitConfirmed,
        "person.updated": PersonUpdated,
        "seats.released": SeatsReleased,
    },
    "sms": {"delivery_report": DeliveryReport, "inbound": Inbound},
}
