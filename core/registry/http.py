"""What the gov and SMS gateway clients share: one aiohttp session (theirs or ours), the
base URL and the bearer key from settings, and one timeout for every call."""

from __future__ import annotations

import aiohttp

DEFAULT_TIMEOUT = aiohttp.ClientTimeout(total=10, connect=3)


class HttpGateway:
    def __init__(
        self,
        base_url: str | None,
        api_key: str | None,
        session: aiohttp.ClientSession | None = None,
        *,
        timeout: aiohttp.ClientTimeout = DEFAULT_TIMEOUT,
    ) -> None:
        self._base = (base_url or "").rstrip("/")
        self._api_key = api_key
        self._session = session
        # A session passed in belongs to the caller; one we open ourselves we also close.
        self._owns_session = session is None
        self._timeout = timeout

    async def close(self) -> None:
        if self._owns_session and self._session is not None and not self._session.closed:
            await self._session.close()
        self._session = None

    def _client(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession()
            self._owns_session = True
        return self._session

    def _headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self._api_key}"} if self._api_key else {}
