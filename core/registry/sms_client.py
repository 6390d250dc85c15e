"""The SMS gateway over HTTP (`core.ports.SmsGateway`); `client_id` makes a retry safe."""

from __future__ import annotations

import logging

import aiohttp

from core.platform.settings import Settings
from core.registry.http import DEFAULT_TIMEOUT, HttpGateway
from core.registry.ports import GatewayUnavailable

log = logging.getLogger(__name__)


class HttpSmsGateway(HttpGateway):
    def __init__(
        self,
        settings: Settings,
        session: aiohttp.ClientSession | None = None,
        *,
        timeout: aiohttp.ClientTimeout = DEFAULT_TIMEOUT,
    ) -> None:
        super().__init__(settings.sms_base_url, settings.sms_api_key, session, timeout=timeout)

    async def send(self, phone: str, text: str, client_id: str) -> str:
        if not self._base:
            raise GatewayUnavailable("SMS gateway is not configured (SMS_BASE_URL)")
        payload = {"to": phone, "text": text, "client_id": client_id}
        try:
            async with self._client().post(
                self._base + "/messages",
                json=payload,
                headers=self._headers(),
                timeout=self._timeout,
            ) as resp:
                if resp.status >= 500:
                    raise GatewayUnavailable(f"sms send: HTTP {resp.status}")
                if resp.status not in (200, 201, 202):
                    # 4xx: the request itself is wrong (bad number, auth); retrying won't help.
                    raise ValueError(f"sms send rejected: HTTP {resp.status}")
                body = await resp.json(content_type=None)
        except (aiohttp.ClientError, TimeoutError) as exc:
            log.warning("sms gateway unreachable: %s", type(exc).__name__)
            raise GatewayUnavailable(f"sms send: {type(exc).__name__}") from exc
        return str(body["message_id"])
