"""The gov gateway over HTTP (`core.ports.GovGateway`): person, БМГ phone, benefits, family.

Production and the sandbox speak the same contract (see `core.ports`). Timeouts, connection
errors and 5xx answers raise `GatewayUnavailable`, so a caller can tell "try later" from "no".
"""

from __future__ import annotations

import logging
from datetime import date
from typing import Any

import aiohttp

from core.platform.errors import DomainError
from core.platform.pii import mask_iin
from core.platform.settings import Settings
from core.registry.http import DEFAULT_TIMEOUT, HttpGateway
from core.registry.ports import BenefitRecord, BmgRecord, GatewayUnavailable, PersonRecord

log = logging.getLogger(__name__)


class HttpGovGateway(HttpGateway):
    def __init__(
        self,
        settings: Settings,
        session: aiohttp.ClientSession | None = None,
        *,
        timeout: aiohttp.ClientTimeout = DEFAULT_TIMEOUT,
    ) -> None:
        super().__init__(settings.gov_base_url, settings.gov_api_key, session, timeout=timeout)

    async def person(self, iin: str) -> PersonRecord | None:
        status, body = await self._call("GET", f"/persons/{iin}", what=f"person {mask_iin(iin)}")
        if status == 404:
            return None
        self._expect(status, 200, "person")
        return person_from_json(body)

    async def phone_registered(self, phone: str) -> BmgRecord:
        status, body = await self._call("GET", f"/bmg/{phone}", what="bmg")
        if status == 404:
            return BmgRecord(phone=phone, registered=False, iin=None)
        self._expect(status, 200, "bmg")
        return BmgRecord(
            phone=str(body.get("phone", phone)),
            registered=bool(body.get("registered")),
            iin=body.get("iin"),
        )

    async def benefits(self, iin: str) -> list[BenefitRecord]:
        status, body = await self._call("GET", f"/benefits/{iin}", what="benefits")
        if status == 404:
            return []
        self._expect(status, 200, "benefits")
        return [benefit_from_json(item) for item in body.get("benefits", [])]

    async def request_family(self, parent_iin: str) -> str:
        """Start a family request; an unknown parent: DomainError("parent_not_found")."""
        status, body = await self._call(
            "POST", "/family-requests", json={"parent_iin": parent_iin}, what="family-request"
        )
        if status == 404:
            raise DomainError("parent_not_found")
        self._expect(status, 202, "family-request", also=(200, 201))
        return str(body["request_id"])

    # -- helpers ---------------------------------------------------------------------------

    async def _call(
        self, method: str, path: str, *, what: str, json: Any = None
    ) -> tuple[int, dict[str, Any]]:
        if not self._base:
            raise GatewayUnavailable("gov gateway is not configured (GOV_BASE_URL)")
        try:
            async with self._client().request(
                method, self._base + path, json=json, headers=self._headers(), timeout=self._timeout
            ) as resp:
                status = resp.status
                if status >= 500:
                    log.warning("gov %s answered %s", what, status)
                    raise GatewayUnavailable(f"gov {what}: HTTP {status}")
                try:
                    body = await resp.json(content_type=None)
                except ValueError:
                    body = {}
        except (aiohttp.ClientError, TimeoutError) as exc:
            log.warning("gov %s unreachable: %s", what, type(exc).__name__)
            raise GatewayUnavailable(f"gov {what}: {type(exc).__name__}") from exc
        return status, body if isinstance(body, dict) else {}

    @staticmethod
    def _expect(status: int, wanted: int, what: str, also: tuple[int, ...] = ()) -> None:
        if status != wanted and status not in also:
            raise GatewayUnavailable(f"gov {what}: unexpected HTTP {status}")


def person_from_json(body: dict[str, Any]) -> PersonRecord:
    return PersonRecord(
        iin=str(body["iin"]),
        last_name=str(body.get("last_name", "")),
        first_name=str(body.get("first_name", "")),
        middle_name=str(body.get("middle_name") or ""),
        birth_date=date.fromisoformat(str(body["birth_date"])),
        sex=str(body.get("sex", "")),
    )


def benefit_from_json(body: dict[str, Any]) -> BenefitRecord:
    return BenefitRecord(
        category=int(body["category"]), valid_until=date.fromisoformat(str(body["valid_until"]))
    )
