"""Family-composition requests: started by the wizard, completed by the gov callback.

`start_family_request` asks the registry and stores the request id; the parent then consents by
SMS (1414) and the result arrives as a `family.consent_result` callback (`core.inbox`), which
calls `complete`. Completing is idempotent: a repeated result changes nothing.
"""

from __future__ import annotations

import logging
from datetime import date
from typing import Any

from core.models import Applicant, GovRequest, GovRequestStatus
from core.people.applicants import link_applicant_person, store_children
from core.platform import clock
from core.platform.pii import mask_iin
from core.registry.gov_client import benefit_from_json, person_from_json
from core.registry.ports import (
    BenefitRecord,
    ChildRecord,
    FamilyResult,
    GatewayUnavailable,
    GovGateway,
    PersonRecord,
)

log = logging.getLogger(__name__)


async def start_family_request(
    applicant: Applicant | int, parent_iin: str, gov: GovGateway
) -> GovRequest:
    """Ask the registry for the family of `parent_iin`; the answer comes later by callback.

    Raises `core.ports.GatewayUnavailable` (try later) or `DomainError("parent_not_found")`.
    """
    applicant_id = applicant if isinstance(applicant, int) else applicant.id
    request_id = await gov.request_family(parent_iin)
    request = await GovRequest.create(
        request_id=request_id, applicant_id=applicant_id, parent_iin=parent_iin
    )
    log.info("family request %s started for %s", request_id, mask_iin(parent_iin))
    return request


async def complete(payload: dict[str, Any], gov: GovGateway | None = None) -> GovRequest | None:
    """Store a `family.consent_result`; None when no such request is known (yet).

    With `gov`, the parent's own registry record is looked up and linked to the applicant.
    """
    request, _ = await complete_request(payload, gov)
    return request


async def complete_request(
    payload: dict[str, Any], gov: GovGateway | None = None
) -> tuple[GovRequest | None, bool]:
    """As `complete`, also telling whether this call changed the request (False: a repeat)."""
    request = await GovRequest.get_or_none(request_id=str(payload["request_id"]))
    if request is None:
        return None, False
    if request.status != GovRequestStatus.consent_pending:
        return request, False
    if payload.get("parent_iin") and payload["parent_iin"] != request.parent_iin:
        raise ValueError("family result for another parent than requested")
    consent = bool(payload["consent"])
    result: dict[str, Any] = {"consent": consent, "children": [], "benefits": []}
    if consent:
        applicant = await Applicant.get(id=request.applicant_id)
        children = [
            ChildRecord(
                person=person_from_json(item),
                legal_representative=_legal(item),
            )
            for item in payload.get("children") or []
        ]
        # Upserts first (idempotent), the status flip last: a crash in between is simply retried.
        parent = await _parent_record(request.parent_iin, payload, gov)
        if parent is not None:
            await link_applicant_person(applicant, parent)
        stored = await store_children([c for c in children if c.person.iin], applicant)
        result["children"] = [
            {**item, "legal_representative": _legal(item)} for item in payload.get("children") or []
        ]
        result["child_ids"] = [child.id for child in stored]
        result["benefits"] = [
            {"category": int(b["category"]), "valid_until": str(b["valid_until"])}
            for b in payload.get("benefits") or []
        ]
    status = GovRequestStatus.consented if consent else GovRequestStatus.refused
    changed = await GovRequest.filter(
        id=request.id, status=GovRequestStatus.consent_pending
    ).update(status=status, result=result, answered_at=clock.now())
    await request.refresh_from_db()
    log.info("family request %s: %s", request.request_id, request.status)
    return request, bool(changed)


async def result_for(applicant_id: int) -> GovRequest | None:
    """The applicant's latest family request (pending or answered)."""
    return await GovRequest.filter(applicant_id=applicant_id).order_by("-id").first()


def family_result(request: GovRequest) -> FamilyResult | None:
    """The answered request as port records (None while consent is pending)."""
    if request.status == GovRequestStatus.consent_pending or request.result is None:
        return None
    data = request.result
    return FamilyResult(
        request_id=request.request_id,
        parent_iin=request.parent_iin,
        consent=bool(data.get("consent")),
        children=[
            ChildRecord(
                person=person_from_json(item),
                legal_representative=_legal(item),
            )
            for item in data.get("children", [])
        ],
        benefits=[benefit_from_json(item) for item in data.get("benefits", [])],
    )


def first_priority_benefits(request: GovRequest, today: date | None = None) -> list[BenefitRecord]:
    """Benefits the registry confirmed for this family that are still valid."""
    result = family_result(request)
    if result is None:
        return []
    day = today or clock.now().date()
    return [b for b in result.benefits if b.valid_until >= day]


def _legal(item: dict[str, Any]) -> bool:
    """Only an explicit `true` from the registry makes the parent the child's legal
    representative: a record that omits it fails closed (the right to apply is not assumed)."""
    return item.get("legal_representative") is True


async def _parent_record(
    parent_iin: str, payload: dict[str, Any], gov: GovGateway | None
) -> PersonRecord | None:
    parent = payload.get("parent")
    if isinstance(parent, dict) and parent.get("iin") == parent_iin:
        return person_from_json(parent)
    if gov is None:
        return None
    try:
        return await gov.person(parent_iin)
    except GatewayUnavailable:
        return None  # the link is a convenience; the children and the result matter
